"""Planners backends."""
