"""Demo data: realistic generated cases for the demo archive and the tests."""
