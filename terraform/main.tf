# lambdawarmer for one function, as `lambdawarmer enable` sets it up: the function's own resource
# policy lets its execution role invoke it (the fan-out), a schedule pings it through a role of its
# own, a generated token (Secrets Manager) is in the ping and the function's variables, and the layer
# (its content checked) and the variables the function needs come out as outputs (`layers`,
# `environment`) for its aws_lambda_function. Names are enable's (lambdawarmer_cli/names.py); the
# schedule is in Scheduler's `default` group, which no stack owns, so `lambdawarmer status` finds it
# and destroying one module instance never touches another's schedules or enable's.

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
  group        = coalesce(var.schedule_group, "default")
  # The execution role by ARN (as given, or as a role without a path is named) and by name.
  execution_role_arn  = startswith(var.execution_role_name, "arn:") ? var.execution_role_name : "arn:${local.partition}:iam::${local.account}:role/${var.execution_role_name}"
  execution_role_name = element(split("/", var.execution_role_name), length(split("/", var.execution_role_name)) - 1)

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
  generate_token  = var.token_enabled && var.token == null
  token = (
    !var.token_enabled ? null
    : var.token != null ? var.token
    : data.aws_secretsmanager_secret_version.token[0].secret_string
  )
  # jsonencode in each branch: a conditional would unify N (a number) and "auto" to a string.
  token_field = local.token == null ? {} : { token = local.token }
  ping_input = (
    local.auto
    ? jsonencode(merge({ warmer = true, concurrency = "auto" }, local.token_field))
    : jsonencode(merge({ warmer = true, concurrency = tonumber(var.concurrency) }, local.token_field))
  )

  # The CodeSha256 Lambda reports (base64) of a zip whose sha256 is layer_sha256 (hexadecimal).
  base64_digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  layer_bits = var.layer_sha256 == null ? "" : "${join("", [
    for digit in split("", lower(var.layer_sha256)) : format("%04b", parseint(digit, 16))
  ])}00"
  expected_code_sha256 = var.layer_sha256 == null ? null : "${join("", [
    for i in range(43) : substr(local.base64_digits, parseint(substr(local.layer_bits, i * 6, 6), 2), 1)
  ])}="
}

# The layer is attached only when its content is the one expected: the layer version's CodeSha256
# (what Lambda holds, whatever the ARN's account or an SSM parameter says) against layer_sha256.
data "aws_lambda_layer_version" "checked" {
  count      = var.trust_layer ? 0 : 1
  layer_name = regex("^(.*):[0-9]+$", var.layer_arn)[0]
  version    = tonumber(regex(":([0-9]+)$", var.layer_arn)[0])

  lifecycle {
    precondition {
      condition     = var.layer_sha256 != null
      error_message = "layer_sha256 is not set: give the sha256 of the release's layer zip (64 hexadecimal digits) so that ${var.layer_arn}'s content is checked, or trust_layer = true to attach it unchecked."
    }
    postcondition {
      condition     = self.code_sha256 == local.expected_code_sha256
      error_message = "${var.layer_arn} holds other content than layer_sha256 says (its CodeSha256 is ${self.code_sha256}, expected ${coalesce(local.expected_code_sha256, "-")}): it is not attached."
    }
  }
}

# The token: generated once, in Secrets Manager as template.yaml does, when neither token nor
# token_enabled = false is given. Drawn as an ephemeral value and written write-only (version 1: once),
# so that it is never printed; read back for the function's variables and the schedule's ping.
ephemeral "aws_secretsmanager_random_password" "token" {
  count               = local.generate_token ? 1 : 0
  password_length     = 32
  exclude_punctuation = true # letters and digits: a valid token, safe inside the schedule's JSON
}

resource "aws_secretsmanager_secret" "token" {
  count       = local.generate_token ? 1 : 0
  name_prefix = "lambdawarmer-token-"
  description = "lambdawarmer's WARMER_TOKEN for a function and its warm-up schedule"
  # Nothing here may name the function: its variables (the environment output) come from this.
}

resource "aws_secretsmanager_secret_version" "token" {
  count                    = local.generate_token ? 1 : 0
  secret_id                = aws_secretsmanager_secret.token[0].id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.token[0].random_password
  secret_string_wo_version = 1
}

data "aws_secretsmanager_secret_version" "token" {
  count      = local.generate_token ? 1 : 0
  secret_id  = aws_secretsmanager_secret.token[0].id
  depends_on = [aws_secretsmanager_secret_version.token]
}

# The fan-out: a statement in the function's own resource policy (on the qualifier pinged) lets its
# execution role invoke it; no role policy grows with the functions that share the role.
resource "aws_lambda_permission" "self_invoke" {
  statement_id  = "lambdawarmer-self-invoke" # lambdawarmer_cli.iam.SELF_INVOKE_STATEMENT
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  qualifier     = var.qualifier == "$LATEST" ? null : var.qualifier # Lambda keeps $LATEST's in the function's
  principal     = local.execution_role_arn
}

# PutMetricData to its own namespace when the function sends metrics that way; GetMetricData for
# "auto": the execution role's inline policy, only for those modes.
data "aws_iam_policy_document" "cloudwatch" {
  count = local.put_metric_data || local.auto ? 1 : 0

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

resource "aws_iam_role_policy" "cloudwatch" {
  count  = local.put_metric_data || local.auto ? 1 : 0
  name   = local.names.policy
  role   = local.execution_role_name
  policy = data.aws_iam_policy_document.cloudwatch[0].json
}

moved {
  from = aws_iam_role_policy.self_invoke
  to   = aws_iam_role_policy.cloudwatch[0]
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

# Up to 1.6.0 this module made the group `lambdawarmer`, shared with enable and every other instance:
# forgotten, never destroyed (destroying it would delete every schedule in it).
removed {
  from = aws_scheduler_schedule_group.lambdawarmer

  lifecycle {
    destroy = false
  }
}

resource "aws_scheduler_schedule" "ping" {
  name                = local.names.schedule
  group_name          = local.group
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

  lifecycle {
    precondition {
      condition     = var.token_enabled || var.token == null
      error_message = "token is given with token_enabled = false: give one or the other."
    }
  }
}
