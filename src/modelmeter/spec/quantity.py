"""Kubernetes resource quantities ('500m', '2Gi', '84'): the grammar, and checks on it.

The capacity section checks its CPU and memory requests with them, and the Kubernetes manifests
(:mod:`modelmeter.production.kubernetes`) write rates in the same grammar.
"""

from __future__ import annotations

import re

__all__ = ["QUANTITY_PATTERN", "is_positive_quantity", "is_quantity"]

# The quantity grammar of the Kubernetes API (k8s.io/apimachinery/pkg/api/resource.Quantity):
#   <quantity> ::= <signedNumber><suffix>;  <signedNumber> ::= [+-]<number>
#   <number> ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
#   <suffix> ::= <binarySI> | <decimalExponent> | <decimalSI>
#   <binarySI> ::= Ki|Mi|Gi|Ti|Pi|Ei;  <decimalSI> ::= m|""|k|M|G|T|P|E
#   <decimalExponent> ::= e<signedNumber> | E<signedNumber>
_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
QUANTITY_PATTERN = re.compile(
    rf"^(?P<sign>[+-]?)(?P<number>{_NUMBER})"
    rf"(?P<suffix>[KMGTPE]i|[eE][+-]?{_NUMBER}|[mkMGTPE])?$"
)


def is_quantity(text: str) -> bool:
    """Whether ``text`` is a Kubernetes quantity string ('84', '840m', '1.5Gi', '2e3')."""
    return isinstance(text, str) and QUANTITY_PATTERN.match(text) is not None


def is_positive_quantity(text: str) -> bool:
    """A quantity above zero: what a resource request or a metric target must be."""
    match = QUANTITY_PATTERN.match(text) if isinstance(text, str) else None
    if match is None or match["sign"] == "-":
        return False
    return any(digit in "123456789" for digit in match["number"])
