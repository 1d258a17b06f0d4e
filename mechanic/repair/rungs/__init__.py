"""The ladder's rungs."""
