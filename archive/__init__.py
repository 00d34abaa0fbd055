"""Dangan domain core: configuration, catalogue, write-once store, archival codes, receipts."""
