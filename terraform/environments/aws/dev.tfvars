# The dev environment: set your region, domain and bucket prefix. Used with its state,
# dev.s3.tfbackend (terraform/README.md); `environment` must stay "dev".
environment        = "dev"
region             = "us-east-1"
name_prefix        = "ems-dev"
bucket_name_prefix = "example-ems-dev" # globally unique: put your organisation in it
sender_domain      = "dev.mail.example.com"

# How much of the SES account EMS uses, and how many functions run at once.
send_rate_fraction            = 0.5
daily_quota_fraction          = 0.5
sender_max_concurrency        = 2
transactional_max_concurrency = 2
tracker_max_concurrency       = 2

# Retention and protection.
log_retention_days             = 30
record_ttl_days                = 30
event_ttl_days                 = 7
table_deletion_protection      = false
kms_deletion_window_in_days    = 7
secret_recovery_window_in_days = 0
force_destroy_buckets          = true

# API throttling (requests per second, burst).
api_throttling_rate_limit  = 10
api_throttling_burst_limit = 20

alarm_emails = []
