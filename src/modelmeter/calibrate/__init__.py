"""Measure this host's own load-generation ceiling against a built-in loopback server."""
