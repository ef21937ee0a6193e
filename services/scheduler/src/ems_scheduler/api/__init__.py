"""The campaign HTTP API (Flask, deployable with zappa)."""
