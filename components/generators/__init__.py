"""Generators backends."""
