# The prod environment: set your region, domain and bucket prefix. Used with its state,
# prod.s3.tfbackend (terraform/README.md); `environment` must stay "prod".
environment        = "prod"
region             = "us-east-1"
name_prefix        = "ems-prod"
bucket_name_prefix = "example-ems-prod" # globally unique: put your organisation in it
sender_domain      = "mail.example.com"

# How much of the SES account EMS uses, and how many functions run at once.
send_rate_fraction            = 0.9
daily_quota_fraction          = 0.95
sender_max_concurrency        = 4
transactional_max_concurrency = 3
tracker_max_concurrency       = 5

# Retention and protection.
log_retention_days             = 365
record_ttl_days                = 400
event_ttl_days                 = 90
table_deletion_protection      = true
kms_deletion_window_in_days    = 30
secret_recovery_window_in_days = 30
force_destroy_buckets          = false

# API throttling (requests per second, burst).
api_throttling_rate_limit  = 50
api_throttling_burst_limit = 100

alarm_emails = []
