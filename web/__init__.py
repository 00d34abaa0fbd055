"""Web UI, JSON API and the command line."""
