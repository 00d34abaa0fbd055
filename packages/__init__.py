"""AIP format, signatures and the four-nature check engine. Imports no other Dangan layer."""
