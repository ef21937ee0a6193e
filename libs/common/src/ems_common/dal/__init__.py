"""Adapters: the only code in ems-common that talks to AWS."""
