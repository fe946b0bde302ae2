# A function kept warm by the module: its layers and variables come from the module's outputs.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "layer_sha256" {
  description = "The sha256 of the lambdawarmer release's layer zip (its release notes, or sha256sum of the zip)."
  type        = string
}

resource "aws_iam_role" "orders" {
  name = "orders-role"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

# The token is generated (Secrets Manager); the layer's content is checked against layer_sha256.
# function_name and qualifier name the resources, so the permission and schedule follow them.
module "warmer" {
  source              = "../.."
  function_name       = aws_lambda_function.orders.function_name
  qualifier           = aws_lambda_alias.live.name
  execution_role_name = aws_iam_role.orders.arn
  layer_arn           = "arn:aws:lambda:us-east-1:123456789012:layer:lambdawarmer:4"
  layer_sha256        = var.layer_sha256
  concurrency         = "3"
}

resource "aws_lambda_function" "orders" {
  function_name = "orders"
  role          = aws_iam_role.orders.arn
  handler       = "app.handler"
  runtime       = "python3.13"
  filename      = "${path.module}/orders.zip"
  publish       = true
  layers        = module.warmer.layers

  environment {
    variables = merge({ APP_SETTING = "value" }, module.warmer.environment)
  }
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.orders.function_name
  function_version = aws_lambda_function.orders.version
}
