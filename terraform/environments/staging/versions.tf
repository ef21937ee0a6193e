terraform {
  # 1.10+: the S3 backend locks the state with a lock file in the bucket (use_lockfile).
  required_version = ">= 1.10"

  # State in S3, locked and encrypted. The bucket (and its region) are given at init, see
  # docs/deploy.md: terraform init -backend-config="bucket=<your state bucket>" -backend-config="region=<region>"
  backend "s3" {
    key          = "ems/staging/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}
