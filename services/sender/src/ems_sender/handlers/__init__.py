"""Lambda handlers (thin: parse, call the sender, map the result)."""
