"""`ems`: the command-line client for the EMS campaign API."""
