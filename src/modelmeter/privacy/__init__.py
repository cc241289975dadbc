"""Personal data and secrets found in text and replaced (docs/privacy.md): recognisers with
validators (`recognisers`), and redaction, masks or keyed pseudonyms (`anonymise`)."""

from modelmeter.privacy.anonymise import Anonymiser, Operator
from modelmeter.privacy.recognisers import KINDS, Finding, find_all

__all__ = ["KINDS", "Anonymiser", "Finding", "Operator", "find_all"]
