"""Unsubscribing: what a recipient's one-click link (RFC 8058) and its page do."""
