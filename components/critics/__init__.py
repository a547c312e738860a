"""Critics backends."""
