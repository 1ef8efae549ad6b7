"""Comptoir: a marketplace order engine with a Mirakl-compatible seller API."""

__version__ = "0.1.0"
