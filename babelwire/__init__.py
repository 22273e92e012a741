"""Babelwire: world news, in your language."""

__version__ = "0.1.0"
