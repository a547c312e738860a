"""Judge backends (being written)."""
