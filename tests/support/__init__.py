"""Helpers shared by the tests (a loopback HTTP server, ...)."""
