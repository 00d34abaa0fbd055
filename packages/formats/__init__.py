"""Format identification by content and safe readers for the archival formats."""
