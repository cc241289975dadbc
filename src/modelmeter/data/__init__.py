"""Datasets: the Sample record and loaders for JSONL and CSV files."""

from modelmeter.data.loaders import load_samples, read_columns
from modelmeter.data.sample import Sample

__all__ = ["Sample", "load_samples", "read_columns"]
