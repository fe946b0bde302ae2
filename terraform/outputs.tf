output "layers" {
  description = "The layers to give the function (append them to its own)."
  value       = var.trust_layer ? [var.layer_arn] : [data.aws_lambda_layer_version.checked[0].arn] # checked
}

output "environment" {
  description = "The variables to merge into the function's environment."
  sensitive   = true
  value = merge(
    { AWS_LAMBDA_EXEC_WRAPPER = "/opt/lambdawarmer-wrapper" },
    local.token == null ? {} : { WARMER_TOKEN = local.token },
    var.metrics_mode == null ? {} : {
      WARMER_SEND_METRIC       = "true"
      WARMER_METRICS_MODE      = var.metrics_mode
      WARMER_METRICS_NAMESPACE = var.metrics_namespace
    },
  )
}

output "schedule_arn" {
  description = "The warm-up schedule (lambdawarmer status checks it)."
  value       = aws_scheduler_schedule.ping.arn
}

output "scheduler_role_arn" {
  description = "The role the schedule invokes the function with."
  value       = aws_iam_role.scheduler.arn
}

output "self_invoke_statement_id" {
  description = "The statement of the function's resource policy that lets its execution role invoke it."
  value       = aws_lambda_permission.self_invoke.statement_id
}

output "cloudwatch_policy_name" {
  description = "The execution role's inline policy for the CloudWatch calls of put_metric_data or auto (null: none)."
  value       = one(aws_iam_role_policy.cloudwatch[*].name)
}

output "token_secret_arn" {
  description = "The Secrets Manager secret holding the generated token (null: none generated)."
  value       = one(aws_secretsmanager_secret.token[*].arn)
}

output "target_arn" {
  description = "What the schedule pings: the function through its qualifier."
  value       = local.target_arn
}
