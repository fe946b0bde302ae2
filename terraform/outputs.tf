output "layers" {
  description = "The layers to give the function (append them to its own)."
  value       = [var.layer_arn]
}

output "environment" {
  description = "The variables to merge into the function's environment."
  sensitive   = true
  value = merge(
    { AWS_LAMBDA_EXEC_WRAPPER = "/opt/lambdawarmer-wrapper" },
    var.token == null ? {} : { WARMER_TOKEN = var.token },
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

output "self_invoke_policy_name" {
  description = "The execution role's inline policy that lets the function invoke itself."
  value       = aws_iam_role_policy.self_invoke.name
}

output "target_arn" {
  description = "What the schedule pings: the function through its qualifier."
  value       = local.target_arn
}
