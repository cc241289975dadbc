"""Text analysers of the demo models, chosen so that ONNX can reproduce them exactly.

scikit-learn's built-in analysers cannot be exported faithfully: skl2onnx rejects ``char_wb``,
lowercases through onnxruntime's ``StringNormalizer`` (which needs an ``en_US.UTF-8`` locale
installed on the machine, absent from many containers), replaces the default token pattern by an
ASCII-only one (so ``"commande"`` survives but ``"récupérer"`` is split), and its ``char`` analyser
collapses whitespace runs, which ONNX cannot do. The demo models therefore use the two analysers
below, whose every step has an ONNX counterpart (``_onnx.py``):

* each character is folded to lower case (whitespace to a plain space) by a fixed table, which
  ONNX applies with a ``LabelEncoder``;
* character n-grams are taken over the folded text framed by the start and end markers that
  onnxruntime's ``Tokenizer`` emits with ``mark=1``;
* words are maximal runs of Latin letters and digits (a pattern with the same meaning in Python's
  ``re`` and in RE2, which onnxruntime uses), folded to lower case when written in lower, upper or
  title case.

The analysers are picklable, so a fitted scikit-learn pipeline that uses them loads with
``joblib.load`` wherever modelmeter is installed.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

TEXT_START = "\x02"
TEXT_END = "\x03"
# No \w: in RE2 it means ASCII only, in Python every Unicode letter. Latin-1 and Latin Extended-A
# letters cover English, French, Portuguese, Spanish and German.
WORD_PATTERN = "[0-9A-Za-zÀ-ÖØ-öø-ſ]+"
_WORD_RE = re.compile(WORD_PATTERN)


def fold_char(char: str) -> str:
    """One character in the form the character n-grams see: lower case, whitespace as a space."""
    if char.isspace():
        return " "
    lower = char.lower()
    # A few characters lower to two code points ("İ"); keeping them one token keeps n-grams aligned.
    return lower if len(lower) == 1 else char


def fold_word(word: str) -> str:
    """A word in lower case when written in lower, upper or title case; otherwise unchanged.

    ONNX has no locale-free lower-casing of strings, so the exported model looks words up in a
    table; these three spellings per vocabulary word are the ones the table holds.
    """
    lower = word.lower()
    if word in (lower, lower.upper(), lower[:1].upper() + lower[1:]):
        return lower
    return word


def char_preimages(folded: str) -> list[str]:
    """Every character that ``fold_char`` maps to ``folded`` (itself included if it is fixed)."""
    return _char_preimage_table().get(folded, [])


def word_preimages(folded: str) -> list[str]:
    """Every word that ``fold_word`` maps to ``folded``."""
    candidates = dict.fromkeys([folded, folded.upper(), folded[:1].upper() + folded[1:]])
    return [word for word in candidates if fold_word(word) == folded]


@cache
def _char_preimage_table() -> dict[str, list[str]]:
    table: defaultdict[str, list[str]] = defaultdict(list)
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF:  # surrogates never reach a model as text
            continue
        char = chr(code_point)
        table[fold_char(char)].append(char)
    return dict(table)


@dataclass(frozen=True, slots=True)
class CharNgrams:
    """Analyser: character n-grams of the folded text, framed by start and end markers."""

    min_n: int
    max_n: int

    def __call__(self, text: str) -> list[str]:
        chars = TEXT_START + "".join(map(fold_char, text)) + TEXT_END
        return [
            chars[start : start + n]
            for n in range(self.min_n, self.max_n + 1)
            for start in range(len(chars) - n + 1)
        ]


@dataclass(frozen=True, slots=True)
class WordNgrams:
    """Analyser: n-grams of folded words, joined by a space (words never contain one)."""

    min_n: int
    max_n: int

    def __call__(self, text: str) -> list[str]:
        words = [fold_word(word) for word in _WORD_RE.findall(text)]
        return [
            " ".join(words[start : start + n])
            for n in range(self.min_n, self.max_n + 1)
            for start in range(len(words) - n + 1)
        ]
