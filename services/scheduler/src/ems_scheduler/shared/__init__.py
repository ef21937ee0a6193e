"""What campaigns and transactional email both use, below both: no feature is imported here.

- `handlebars`: the fields a Handlebars template needs of each recipient.
- `ses_template_store`: SES's template size limit and the SES template store adapter.
- `template_source`: reading HTML templates from S3.
- `recipients`: the address SES is given for a recipient, and why a recipient is left out.
- `request_digest`: a request's digest, for replays and idempotency keys.
- `page_tokens`: the API's `page` tokens, sealed (AES-GCM) for one list and its filters.
"""
