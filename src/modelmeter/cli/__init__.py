"""The ``modelmeter`` command line: a thin layer over the library."""

from modelmeter.cli.app import app, main

__all__ = ["app", "main"]
