"""Full-text and catalogue search."""
