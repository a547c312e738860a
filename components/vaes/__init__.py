"""Vaes backends."""
