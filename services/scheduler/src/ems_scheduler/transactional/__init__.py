"""Transactional email: templates, single and bulk sends, reading one back (docs/transactional.md).

- `models`: the requests' bodies and the answers (pydantic).
- `service`: the use cases over the adapters below.
- `template_records`: what EMS keeps about each template (DynamoDB; the content is in SES).
- `request_store`: requests and idempotency keys (DynamoDB).
"""
