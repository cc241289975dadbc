"""Recognisers find what validates and leave its look-alikes (a card that fails Luhn, an IBAN
that fails mod 97, a CPF with a wrong check digit, a date that looks like a phone number);
the operators replace it, pseudonyms the same way every time for one key."""

from __future__ import annotations

import re

import pytest

from modelmeter.privacy import Anonymiser, find_all

FOUND = [
    ("EMAIL", "jane.doe+x@example.co.uk"),
    ("PHONE", "+33 6 12 34 56 78"),
    ("PHONE", "(415) 555-2671"),
    ("PHONE", "+55 11 98765-4321"),
    ("CREDIT_CARD", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "5500-0000-0000-0004"),
    ("IBAN", "FR76 3000 6000 0112 3456 7890 189"),
    ("IBAN", "DE89370400440532013000"),
    ("IP_ADDRESS", "192.168.1.20"),
    ("IP_ADDRESS", "2001:db8::1"),
    ("URL_CREDENTIALS", "postgres://admin:s3cr3t@db.internal:5432/app"),
    ("SECRET", "sk-proj-abcdefghijklmnopqrstuvwx12345"),
    ("SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("SECRET", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("BR_CPF", "390.533.447-05"),
    ("BR_CNPJ", "11.222.333/0001-81"),
    ("ES_DNI", "12345678Z"),
    ("ES_NIE", "X1234567L"),
    ("US_SSN", "123-45-6789"),
    ("FR_NIR", "1 84 12 76 451 089 46"),
    ("IT_FISCAL_CODE", "RSSMRA85T10A562S"),
    ("UK_NINO", "AB 12 34 56 C"),
    ("PT_NIF", "123456789"),
    ("DE_TAX_ID", "36 574 261 809"),
]

LOOK_ALIKES = [
    "card 4111 1111 1111 1112",  # fails Luhn
    "IBAN FR76 3000 6000 0112 3456 7890 188",  # fails mod 97
    "CPF 390.533.447-06",  # wrong check digit
    "DNI 12345678A",  # wrong letter
    "SSN 000-12-3456",  # never issued
    "on 2026-12-07 and 07/12/2026",  # dates
    "ip 999.1.1.1 at 10:30:00",  # not addresses
    "NINO QQ 12 34 56 C",  # never issued
    "total 12.50 EUR for 3 items, ticket 123456",
    "e-mail me at jane at example dot com",
]


@pytest.mark.parametrize(("kind", "value"), FOUND)
def test_a_valid_identifier_is_found_whole(kind: str, value: str) -> None:
    text = f"Hello, here it is: {value}. Thanks!"
    found = [(f.kind, text[f.start : f.end]) for f in find_all(text)]
    assert found == [(kind, value)]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_a_look_alike_is_left_alone(text: str) -> None:
    assert find_all(text) == []


def test_operators_replace_and_count() -> None:
    text = "Write to jane@example.com, card 4111 1111 1111 1111, again jane@example.com"
    redacted = Anonymiser("redact")
    assert redacted.text(text) == "Write to <EMAIL>, card <CREDIT_CARD>, again <EMAIL>"
    assert redacted.counts == {"EMAIL": 2, "CREDIT_CARD": 1}
    masked = Anonymiser("mask").text("card 4111 1111 1111 1111")
    assert masked == "card " + "*" * 15 + "1111"
    key = b"a key of sixteen bytes or more"
    first, second = Anonymiser("pseudonym", key), Anonymiser("pseudonym", key)
    one = first.text(text)
    pseudonyms = re.findall(r"<EMAIL_[0-9a-f]{8}>", one)
    assert len(pseudonyms) == 2 and pseudonyms[0] == pseudonyms[1]  # across records
    assert second.text("jane@example.com") == pseudonyms[0]  # and runs, with the key
    other = Anonymiser("pseudonym", b"another key, sixteen+ bytes").text("jane@example.com")
    assert other != pseudonyms[0]
    assert "jane" not in one and "4111" not in one
    with pytest.raises(ValueError, match="need a key"):
        Anonymiser("pseudonym")


def test_nested_values_are_walked() -> None:
    engine = Anonymiser("redact")
    row = {"messages": [{"role": "user", "content": "I am 192.168.0.7"}], "n": 3}
    assert engine.value(row) == {
        "messages": [{"role": "user", "content": "I am <IP_ADDRESS>"}],
        "n": 3,
    }


def test_texts_without_digits_still_give_their_secrets_and_addresses() -> None:
    """The recognisers that need a digit are skipped where there is none; the others are
    not."""
    key = "sk-" + "abcdefghijklmnopqrstuvwxyzABCD"
    text = f"token {key} and mail jane@example.com, no digits anywhere"
    assert [(f.kind, text[f.start : f.end]) for f in find_all(text)] == [
        ("SECRET", key),
        ("EMAIL", "jane@example.com"),
    ]
