terraform {
  required_version = ">= 1.11" # removed blocks, ephemeral values, write-only arguments
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.88" # secret_string_wo, the ephemeral random password
    }
  }
}
