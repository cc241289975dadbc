"""modelmeter: measure, compare and choose AI models on quality, latency, throughput and cost."""

from modelmeter._version import __version__

__all__ = ["__version__"]
