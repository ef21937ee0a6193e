"""Lambda handlers (thin: parse, call the service, map the result)."""
