"""Backends, one module per backend; heavy imports happen inside, on use."""
