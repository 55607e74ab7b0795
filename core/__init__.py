"""Wordbridge core: everything that computes. Never imports Qt (checked by tests/test_architecture.py)."""

__version__ = "0.1.0"
