# The staging environment: set your region, domain and bucket prefix. Used with its state,
# staging.s3.tfbackend (terraform/README.md); `environment` must stay "staging".
environment        = "staging"
region             = "us-east-1"
name_prefix        = "ems-staging"
bucket_name_prefix = "example-ems-staging" # globally unique: put your organisation in it
sender_domain      = "staging.mail.example.com"

# How much of the SES account EMS uses, and how many functions run at once.
send_rate_fraction            = 0.5
daily_quota_fraction          = 0.5
sender_max_concurrency        = 2
transactional_max_concurrency = 2
tracker_max_concurrency       = 3

# Retention and protection.
log_retention_days             = 90
record_ttl_days                = 90
event_ttl_days                 = 30
table_deletion_protection      = true
kms_deletion_window_in_days    = 30
secret_recovery_window_in_days = 7
force_destroy_buckets          = false

# API throttling (requests per second, burst).
api_throttling_rate_limit  = 20
api_throttling_burst_limit = 40

alarm_emails = []
