"""Transactional email: templates, single and bulk sends (docs/transactional.md)."""
