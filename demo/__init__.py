"""`make demo`: EMS's main job on the local stack, from a fresh clone to a sent campaign.

`python -m demo` brings the local stack up (or reuses it), uploads the sample templates in
`demo/templates/`, suppresses one address, creates a campaign of a few thousand recipients
through the HTTP API, sends a few transactional emails while it goes out, shows its progress
and ends with its metrics and where to look next. `demo.run` holds the code.
"""
