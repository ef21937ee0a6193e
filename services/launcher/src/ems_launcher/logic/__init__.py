"""Plain-Python launcher logic."""
