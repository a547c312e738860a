"""Codecs backends."""
