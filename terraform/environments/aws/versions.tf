terraform {
  # 1.10+: the S3 backend locks the state with a lock file in the bucket (use_lockfile).
  required_version = ">= 1.10"

  # State in S3, locked and encrypted. The key is the environment's (<env>.s3.tfbackend), the
  # bucket and its region are yours, all given at init (docs/deploy.md):
  # terraform init -reconfigure -backend-config=<env>.s3.tfbackend -backend-config="bucket=<your state bucket>" -backend-config="region=<region>"
  backend "s3" {
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
