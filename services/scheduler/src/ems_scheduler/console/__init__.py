"""The console: web pages over the API's own services, for people who run and watch campaigns."""
