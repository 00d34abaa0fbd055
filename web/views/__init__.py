"""Blueprints of the web application, one per area of work."""
