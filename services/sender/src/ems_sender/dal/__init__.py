"""The sender's adapters: the only code in this service that calls AWS."""
