"""Recognisers of personal data and secrets in text, each a candidate pattern and a validator:
a string that looks like an identifier but fails its checksum is not one.

Checksums come from the libraries made for them: ``python-stdnum`` for cards (Luhn), IBANs
(mod 97) and national identifiers, ``phonenumbers`` for phone numbers of every region, the
standard library's ``ipaddress`` for IP addresses. Names and addresses need a model and are
not recognised here (see docs/privacy.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn
from stdnum.br import cnpj, cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.it import codicefiscale
from stdnum.pt import nif
from stdnum.us import ssn

__all__ = ["KINDS", "Finding", "find_all"]

# The regions whose national phone formats are tried when a number has no + prefix: the demo's
# languages' countries and the usual others.
PHONE_REGIONS = ("US", "GB", "FR", "PT", "BR", "ES", "DE", "IT")


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str


def _valid(check: Callable[[str], bool]) -> Callable[[str], bool]:
    def safe(text: str) -> bool:
        try:
            return bool(check(text))
        except Exception:  # a validator may raise on what it cannot parse: not a match
            return False

    return safe


def _nino(text: str) -> bool:
    """A UK National Insurance number by HMRC's format rules (it has no check digit, and
    python-stdnum has no module for it): no D, F, I, Q, U, V first; no O second; not one of
    the prefixes never issued."""
    letters = text.replace(" ", "")[:2]
    return (
        letters[0] not in "DFIQUV"
        and letters[1] not in "DFIQUVO"
        and letters not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}
    )


def _card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# Shapes that some region's numbering plan would accept but that are something else: dates,
# dotted quads, and the written forms of CPF, CNPJ and SSN (invalid ones stay unmatched).
_NOT_A_PHONE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,3}(?:\.\d{1,3}){3}"
    r"|\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}|\d{3}-\d{2}-\d{4}"
)


def _phone(text: str) -> bool:
    if _NOT_A_PHONE.fullmatch(text):
        return False
    regions = (None,) if text.startswith("+") else PHONE_REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


_DIGIT = r"(?<![\w.@-])"  # not inside a longer token
_END = r"(?![\w@-])"

# (kind, pattern, validator or None); the order breaks ties between equal spans
_RECOGNISERS: list[tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = [
    (
        "URL_CREDENTIALS",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:[^\s@/]+@[^\s/]+\S*", re.I),
        None,
    ),
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"), None),
    (
        "SECRET",
        re.compile(
            r"\b(?:sk-(?:proj-)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|AKIA[0-9A-Z]{16}"
            r"|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"
            r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
        ),
        None,
    ),
    (
        "IBAN",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
        _valid(iban.is_valid),
    ),
    ("CREDIT_CARD", re.compile(_DIGIT + r"\d(?:[ -]?\d){12,18}" + _END), _card),
    (
        "IT_FISCAL_CODE",
        re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"),
        _valid(codicefiscale.is_valid),
    ),
    ("ES_DNI", re.compile(_DIGIT + r"\d{8}-?[A-Z]\b"), _valid(dni.is_valid)),
    ("ES_NIE", re.compile(r"\b[XYZ]-?\d{7}-?[A-Z]\b"), _valid(nie.is_valid)),
    (
        "FR_NIR",
        re.compile(_DIGIT + r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}" + _END),
        _valid(nir.is_valid),
    ),
    (
        "BR_CNPJ",
        re.compile(_DIGIT + r"\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}" + _END),
        _valid(cnpj.is_valid),
    ),
    ("BR_CPF", re.compile(_DIGIT + r"\d{3}\.\d{3}\.\d{3}-\d{2}" + _END), _valid(cpf.is_valid)),
    ("US_SSN", re.compile(_DIGIT + r"\d{3}-\d{2}-\d{4}" + _END), _valid(ssn.is_valid)),
    (
        "UK_NINO",
        re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),
        _nino,
    ),
    ("DE_TAX_ID", re.compile(_DIGIT + r"\d{2} ?\d{3} ?\d{3} ?\d{3}" + _END), _valid(idnr.is_valid)),
    ("PT_NIF", re.compile(_DIGIT + r"[125-9]\d{2} ?\d{3} ?\d{3}" + _END), _valid(nif.is_valid)),
    (
        "IP_ADDRESS",
        re.compile(
            r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
            r"(?![\w:]|\.\w)"  # a full stop after it ends the sentence, not the address
        ),
        _ip,
    ),
    ("PHONE", re.compile(r"(?<![\w+(])(?:\+|\()?\d[\d\s().-]{6,18}\d" + _END), _phone),
]
KINDS = tuple(kind for kind, _, _ in _RECOGNISERS)
_PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}


# What a text must hold for a recogniser to have anything to find: most texts hold no digit
# and no "@", and skipping the recognisers that need one is most of the speed.
_NEEDS_AT = frozenset({"URL_CREDENTIALS", "EMAIL"})
_NEEDS_NOTHING = frozenset({"SECRET"})
_DIGIT_RE = re.compile(r"\d")


def _candidates(text: str) -> Iterator[Finding]:
    has_at, has_digit = "@" in text, _DIGIT_RE.search(text) is not None
    for kind, pattern, validate in _RECOGNISERS:
        if kind in _NEEDS_AT:
            if not has_at:
                continue
        elif kind not in _NEEDS_NOTHING and not has_digit:
            continue  # every other kind holds a digit (an IPv6 address: at least one group)
        for match in pattern.finditer(text):
            value = match.group(0).rstrip(" .,;:!?")  # punctuation ending the sentence
            if validate is None or validate(value):
                yield Finding(match.start(), match.start() + len(value), kind)


def find_all(text: str) -> list[Finding]:
    """Every recognised span, overlaps resolved: the longer span wins, then the recogniser
    listed first (an e-mail inside a URL's credentials is one URL_CREDENTIALS)."""
    found = sorted(_candidates(text), key=lambda f: (-(f.end - f.start), _PRIORITY[f.kind]))
    kept: list[Finding] = []
    for finding in found:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept)
