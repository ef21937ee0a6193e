"""The suppression list, as operators see it: list, show, add (one or an import), lift."""
