"""An SES v2 (`sesv2`) provider for LocalStack 2026.3.0, for EMS's local stack and tests.

LocalStack's open-source build routes `/v2/email/...` to the `sesv2` service model but has no
provider for it. This package registers one (see `plugin.py`) that serves what EMS calls -
SendEmail, SendBulkEmail, GetAccount and the email-template calls - on top of LocalStack's own
SES v1 machinery: moto's SES backend (identities, templates and their rendering, configuration
sets, the send count), LocalStack's configuration-set event emitter and its `/_aws/ses` record.
"""
