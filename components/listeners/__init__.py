"""Listeners backends."""
