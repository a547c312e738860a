"""Captioners backends."""
