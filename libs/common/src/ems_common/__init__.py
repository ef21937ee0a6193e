"""EMS shared library: settings, AWS clients and the data formats the services exchange."""
