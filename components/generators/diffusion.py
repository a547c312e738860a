"""Diffusion generators (being written)."""
