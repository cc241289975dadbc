"""Optimisation advice and a 90-day plan, each step citing a measurement of the run."""

from modelmeter.advice.findings import RunFacts, advise

__all__ = ["RunFacts", "advise"]
