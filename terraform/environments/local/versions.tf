terraform {
  required_version = ">= 1.6"

  # The state file's path is given at init: -backend-config=path=<file>.
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}
