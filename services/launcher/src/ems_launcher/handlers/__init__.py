"""Lambda handlers (thin: parse, call the launcher, map the result)."""
