"""Tracking, the read side: what the sender and tracker wrote about emails, read for the API.

- `reads`: campaign and template metrics, one email's record and its raw SES events, and the
  suppression list (which the API may also lift addresses from).
"""
