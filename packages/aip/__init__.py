"""Archival information package: BagIt bag, package description, archive signature."""
