"""Revisers backends."""
