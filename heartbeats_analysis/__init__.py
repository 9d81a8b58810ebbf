"""Reproducible evidence brief on Project Heartbeats (Ferguson, Missouri)."""

__version__ = "0.1.0"
