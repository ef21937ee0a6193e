"""EMS scheduler: The campaign HTTP API: verifies and compiles campaigns, schedules them."""
