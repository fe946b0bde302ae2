variable "function_name" {
  description = "The function to keep warm (its name)."
  type        = string
}

variable "qualifier" {
  description = "The alias or version the schedule pings (null: the function as named, $LATEST)."
  type        = string
  default     = null
}

variable "execution_role_name" {
  description = "The function's execution role, by name or ARN (give the ARN of a role with a path): the function's resource policy lets it invoke the function (fan-out)."
  type        = string
}

variable "layer_arn" {
  description = "The lambdawarmer layer version to attach (lambdawarmer publish prints it and writes it to SSM)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.layer_arn))
    error_message = "layer_arn must be a layer version ARN: arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION."
  }
}

variable "layer_sha256" {
  description = "The sha256 (64 hexadecimal digits) of the release's layer zip: the layer version's content (CodeSha256) must be that, or the plan fails."
  type        = string
  default     = null

  validation {
    condition     = var.layer_sha256 == null || can(regex("^[0-9a-fA-F]{64}$", coalesce(var.layer_sha256, "-")))
    error_message = "layer_sha256 must be the 64 hexadecimal digits of a sha256 (sha256sum of the layer zip)."
  }
}

variable "trust_layer" {
  description = "true: attach layer_arn without checking its content (no layer_sha256)."
  type        = bool
  default     = false
}

variable "concurrency" {
  description = "N environments to keep warm, or \"auto\" (from the function's recent peak)."
  type        = string
  default     = "1"

  validation {
    condition     = var.concurrency == "auto" || can(regex("^[1-9][0-9]{0,2}$|^1000$", var.concurrency))
    error_message = "concurrency must be a whole number from 1 to 1000, or \"auto\"."
  }
}

variable "schedule_expression" {
  description = "When to ping (EventBridge Scheduler): rate(5 minutes) by default."
  type        = string
  default     = "rate(5 minutes)"
}

variable "token" {
  description = "WARMER_TOKEN: only pings carrying it count (16 to 256 characters; null: one is generated in Secrets Manager, unless token_enabled = false)."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.token == null || (length(coalesce(var.token, "x")) >= 16 && length(coalesce(var.token, "x")) <= 256)
    error_message = "token must be 16 to 256 characters."
  }
}

variable "token_enabled" {
  description = "false: deploy without a token (any ping that reaches the function counts)."
  type        = bool
  default     = true
}

variable "metrics_mode" {
  description = "null: no metrics; \"emf\" (log lines) or \"put_metric_data\" (API calls, granted here)."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_mode == null || contains(["emf", "put_metric_data"], coalesce(var.metrics_mode, "emf"))
    error_message = "metrics_mode must be null, \"emf\" or \"put_metric_data\"."
  }
}

variable "metrics_namespace" {
  description = "The CloudWatch namespace of the metrics (WARMER_METRICS_NAMESPACE)."
  type        = string
  default     = "LambdaWarmer"
}

variable "schedule_group" {
  description = "An EventBridge Scheduler group of your own for the schedule (null: Scheduler's default group; this module never creates or deletes a group)."
  type        = string
  default     = null
}
