# lambdawarmer for one function, as `lambdawarmer enable` sets it up: the execution role may invoke
# the function (the fan-out), a schedule pings it through a role of its own, and the layer and
# variables the function needs come out as outputs (`layers`, `environment`) for its
# aws_lambda_function. Names are enable's (lambdawarmer_cli/names.py), so `lambdawarmer status`
# checks what this module made.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region       = data.aws_region.current.name
  account      = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${var.function_name}"
  target_arn   = var.qualifier == null ? local.function_arn : "${local.function_arn}:${var.qualifier}"
  parts        = compact([var.function_name, var.qualifier])
  group        = coalesce(var.schedule_group, "lambdawarmer")

  # enable's unique names: prefix.part.part, within 64 characters and without "$"; shortened or
  # with a "$" dropped, ending in a digest of the exact name.
  exact = {
    schedule = join(".", concat(["lambdawarmer"], local.parts))
    role     = join(".", concat(["lambdawarmer-scheduler", local.region], local.parts))
    policy   = join(".", concat(["lambdawarmer", local.region], local.parts))
  }
  names = {
    for kind, exact in local.exact : kind => (
      replace(exact, "$", "") == exact && length(exact) <= 64
      ? exact
      : "${substr(replace(exact, "$", ""), 0, 53)}-${substr(sha256(exact), 0, 10)}"
    )
  }

  auto            = var.concurrency == "auto"
  put_metric_data = var.metrics_mode == "put_metric_data"
  # jsonencode in each branch: a conditional would unify N (a number) and "auto" to a string.
  token_field = var.token == null ? {} : { token = var.token }
  ping_input = (
    local.auto
    ? jsonencode(merge({ warmer = true, concurrency = "auto" }, local.token_field))
    : jsonencode(merge({ warmer = true, concurrency = tonumber(var.concurrency) }, local.token_field))
  )
}

# The fan-out: the function may invoke itself (any qualifier), and nothing else; PutMetricData to
# its own namespace when it sends metrics that way; GetMetricData for "auto".
data "aws_iam_policy_document" "self_invoke" {
  statement {
    sid       = "LambdaWarmerSelfInvoke"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.function_arn, "${local.function_arn}:*"]
  }

  dynamic "statement" {
    for_each = local.put_metric_data ? [1] : []
    content {
      sid       = "LambdaWarmerMetrics"
      effect    = "Allow"
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [var.metrics_namespace]
      }
    }
  }

  dynamic "statement" {
    for_each = local.auto ? [1] : []
    content {
      sid       = "LambdaWarmerAuto"
      effect    = "Allow"
      actions   = ["cloudwatch:GetMetricData"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "self_invoke" {
  name   = local.names.policy
  role   = var.execution_role_name
  policy = data.aws_iam_policy_document.self_invoke.json
}

# The schedule's role: EventBridge Scheduler, for this one schedule of this account, may invoke the
# target and nothing else.
data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:scheduler:${local.region}:${local.account}:schedule/${local.group}/${local.names.schedule}"]
    }
  }
}

data "aws_iam_policy_document" "scheduler_invoke" {
  statement {
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [local.target_arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = local.names.role
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-target"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler_invoke.json
}

resource "aws_scheduler_schedule_group" "lambdawarmer" {
  count = var.schedule_group == null ? 1 : 0
  name  = "lambdawarmer"
}

resource "aws_scheduler_schedule" "ping" {
  name                = local.names.schedule
  group_name          = var.schedule_group == null ? aws_scheduler_schedule_group.lambdawarmer[0].name : var.schedule_group
  schedule_expression = var.schedule_expression
  description         = "lambdawarmer warm-up ping for ${join(":", local.parts)}"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = local.target_arn
    role_arn = aws_iam_role.scheduler.arn
    input    = local.ping_input
  }
}
