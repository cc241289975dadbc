"""The built-in demo dataset: customer-support messages in five languages, labelled by intent.

Messages are written from a hand-made phrase bank (``_demo_phrases``): several templates per
intent and language, with slots for order numbers, products, dates, amounts, addresses and
devices, wrapped in the greetings and sign-offs people actually use. Every sample carries two
slices, ``language`` (the message's primary language) and ``noise``, one of:

``clean``
    A well-formed message.
``typo``
    The same kind of message as typed in a hurry: swapped, dropped and doubled letters, missing
    accents, all lowercase or all caps.
``short``
    A few words typed into a chat box ("refund??", "still nothing", "ayuda"); some of them fit
    more than one intent, as in real traffic.
``mixed``
    Code-mixed: a message in one language with a greeting, sign-off or phrase from another
    (usually English).
``label_noise``
    A clean message whose label was deliberately swapped to a confusable intent, as happens with
    human annotation. Its label is *wrong* on purpose, so a perfect model cannot score 100 %;
    the slice lets a report show how much of the error is due to it.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same samples on
every run and machine. Texts are unique after case and punctuation folding, so a train/test split
does not leak exact duplicates.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from modelmeter.data import _demo_phrases as bank
from modelmeter.data.sample import Sample

__all__ = [
    "DEFAULT_SEED",
    "INTENTS",
    "LANGUAGES",
    "NOISE_SHARES",
    "generate_intents",
    "train_test_split",
    "write_jsonl",
]

DEFAULT_SEED: Final[int] = 20261122

INTENTS: Final[tuple[str, ...]] = (
    "order_status",
    "refund_request",
    "cancel_subscription",
    "password_reset",
    "billing_question",
    "change_address",
    "technical_problem",
    "product_availability",
    "complaint",
    "speak_to_human",
)

LANGUAGES: Final[tuple[str, ...]] = ("en", "fr", "pt", "es", "de")

NOISE_SHARES: Final[Mapping[str, float]] = MappingProxyType(
    {"clean": 0.57, "typo": 0.20, "short": 0.10, "mixed": 0.10, "label_noise": 0.03}
)
"""Share of each ``noise`` slice value; the counts are exact up to rounding."""

# Intents a hurried annotator could plausibly pick instead of the right one.
_CONFUSABLE: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "order_status": ("product_availability", "complaint", "change_address"),
        "refund_request": ("billing_question", "cancel_subscription", "complaint"),
        "cancel_subscription": ("refund_request", "billing_question"),
        "password_reset": ("technical_problem",),
        "billing_question": ("refund_request", "cancel_subscription"),
        "change_address": ("order_status",),
        "technical_problem": ("password_reset", "complaint"),
        "product_availability": ("order_status",),
        "complaint": ("speak_to_human", "refund_request", "order_status"),
        "speak_to_human": ("complaint",),
    }
)

_SLOT: Final = re.compile(r"\{(\w+)\}")
# A question mark or full stop ending a sentence (not the dot in "14.03." or "49.99").
_SENTENCE_END: Final = re.compile(r"\s*(?<!\d)[?.](?=\s|$)")
_MAX_ATTEMPTS: Final = 50
_SECOND_TOPIC_RATE: Final = 0.15

# Neighbouring keys on a QWERTY layout, for fat-finger substitutions.
_KEY_NEIGHBOURS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "a": "qsz",
        "b": "vn",
        "c": "xv",
        "d": "sf",
        "e": "wr",
        "f": "dg",
        "g": "fh",
        "h": "gj",
        "i": "uo",
        "j": "hk",
        "k": "jl",
        "l": "k",
        "m": "n",
        "n": "bm",
        "o": "ip",
        "p": "o",
        "q": "wa",
        "r": "et",
        "s": "ad",
        "t": "ry",
        "u": "yi",
        "v": "cb",
        "w": "qe",
        "x": "zc",
        "y": "tu",
        "z": "xs",
    }
)

_UMLAUTS: Final[Mapping[str, str]] = MappingProxyType(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)


def generate_intents(n: int = 3600, seed: int = DEFAULT_SEED) -> list[Sample]:
    """Generate ``n`` labelled support messages, deterministically from ``seed``.

    Every (intent, language) pair gets the same number of messages, give or take one; the noise
    kinds follow ``NOISE_SHARES``. Ids run ``intent-000000``, ``intent-000001``, ...
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    cells = _balanced_cells(n, rng)
    kinds = _noise_plan(n, rng)
    seen: set[str] = set()
    samples: list[Sample] = []
    for index, ((intent, language), kind) in enumerate(zip(cells, kinds, strict=True)):
        label = intent if kind != "label_noise" else rng.choice(_CONFUSABLE[intent])
        text = _unique_message(intent, language, kind, rng, seen)
        samples.append(
            Sample(
                id=f"intent-{index:06d}",
                input=text,
                label=label,
                slices={"language": language, "noise": kind},
            )
        )
    return samples


def train_test_split(
    samples: list[Sample], test_fraction: float = 0.3, seed: int = DEFAULT_SEED
) -> tuple[list[Sample], list[Sample]]:
    """Split into (train, test), stratified by (label, language), deterministically.

    The test set holds ``round(len(samples) * test_fraction)`` samples; each stratum contributes
    its proportional share, rounded down or up. Both lists keep the input order.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    strata: dict[tuple[str, str], list[int]] = {}
    for index, sample in enumerate(samples):
        key = (sample.label or "", sample.slices.get("language", ""))
        strata.setdefault(key, []).append(index)
    keys = sorted(strata)
    quotas = _largest_remainder(
        [len(strata[key]) * test_fraction for key in keys], round(len(samples) * test_fraction)
    )
    rng = random.Random(seed)
    test_indices: set[int] = set()
    for key, quota in zip(keys, quotas, strict=True):
        test_indices.update(rng.sample(strata[key], quota))
    train = [sample for index, sample in enumerate(samples) if index not in test_indices]
    test = [sample for index, sample in enumerate(samples) if index in test_indices]
    return train, test


def write_jsonl(samples: Iterable[Sample], path: Path) -> None:
    """Write one JSON object per line: ``{"id", "text", "label", "language", "noise"}``.

    The file is UTF-8 with non-ASCII characters kept as they are; parent folders are created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for sample in samples:
            record = {
                "id": sample.id,
                "text": sample.input,
                "label": sample.label,
                "language": sample.slices.get("language"),
                "noise": sample.slices.get("noise"),
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


# --- planning ---------------------------------------------------------------------------------


def _balanced_cells(n: int, rng: random.Random) -> list[tuple[str, str]]:
    cells = [(intent, language) for intent in INTENTS for language in LANGUAGES]
    full, rest = divmod(n, len(cells))
    planned = cells * full + rng.sample(cells, rest)
    rng.shuffle(planned)
    return planned


def _noise_plan(n: int, rng: random.Random) -> list[str]:
    kinds = list(NOISE_SHARES)
    counts = _largest_remainder([n * NOISE_SHARES[kind] for kind in kinds], n)
    plan = [kind for kind, count in zip(kinds, counts, strict=True) for _ in range(count)]
    rng.shuffle(plan)
    return plan


def _largest_remainder(shares: Sequence[float], total: int) -> list[int]:
    """Round ``shares`` to integers that sum to ``total``, moving each by less than one."""
    floors = [math.floor(share) for share in shares]
    missing = total - sum(floors)
    by_remainder = sorted(range(len(shares)), key=lambda i: (floors[i] - shares[i], i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return floors


# --- messages ---------------------------------------------------------------------------------


def _unique_message(
    intent: str, language: str, kind: str, rng: random.Random, seen: set[str]
) -> str:
    """Draw messages until one is new after case and punctuation folding."""
    text = ""
    for _ in range(_MAX_ATTEMPTS):
        text = _message(intent, language, kind, rng)
        key = _dedupe_key(text)
        if key not in seen:
            seen.add(key)
            return text
    # The slot space makes this practically unreachable; a duplicate beats an endless loop.
    return text


def _dedupe_key(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


def _message(intent: str, language: str, kind: str, rng: random.Random) -> str:
    if kind == "short":
        return _short_message(intent, language, rng)
    if kind == "mixed":
        return _mixed_message(intent, language, rng)
    text = _full_message(intent, language, rng)
    if kind == "typo":
        return _add_typos(text, language, rng)
    return text


def _full_message(
    intent: str,
    language: str,
    rng: random.Random,
    *,
    greeting_language: str | None = None,
    closing_language: str | None = None,
    fragment: str | None = None,
    memo: dict[str, str] | None = None,
) -> str:
    """A complete message: optional greeting, the request, optional context, optional sign-off.

    A greeting or closing language forces that part in that language (for code-mixing); without
    one the part appears by chance in ``language``. ``fragment`` is an extra sentence placed
    before or after the request. ``memo`` keeps slot values shared across the message.
    """
    memo = {} if memo is None else memo
    fill = _slot_filler(language, rng, memo)
    greeting = None
    if greeting_language is not None or rng.random() < 0.6:
        chosen = greeting_language or language
        greeting = _slot_filler(chosen, rng, memo)(rng.choice(bank.GREETINGS[chosen]))
    body = [fill(rng.choice(bank.TEMPLATES[language][intent]))]
    if rng.random() < _SECOND_TOPIC_RATE:
        # Real messages often touch a neighbouring topic; the label stays the first request.
        neighbour = rng.choice(_CONFUSABLE[intent])
        body.append(fill(rng.choice(bank.TEMPLATES[language][neighbour])))
    if rng.random() < 0.25:
        body.append(fill(rng.choice(bank.EXTRAS[language])))
    if fragment is not None:
        body.insert(0 if rng.random() < 0.5 else len(body), _as_sentence(fragment, rng))
    closing = None
    if closing_language is not None or rng.random() < 0.45:
        chosen = closing_language or language
        closing = _slot_filler(chosen, rng, memo)(rng.choice(bank.CLOSINGS[chosen]))
    return _assemble(greeting, " ".join(body), closing, language, rng)


def _assemble(
    greeting: str | None, body: str, closing: str | None, language: str, rng: random.Random
) -> str:
    """Join the parts as people do: e-mail style on separate lines, or chat style on one."""
    separator = "\n" if rng.random() < 0.35 else " "
    text = body
    if greeting is not None:
        if separator == " " and language != "de" and not _starts_with_english_i(body):
            # "Hi, where is my order" rather than "Hi, Where is my order"; German nouns keep
            # their capital, so German is left alone.
            text = _lower_first(body)
        text = f"{greeting}{separator}{text}"
    if closing is not None:
        text = f"{text}{separator}{closing}"
    return text


def _short_message(intent: str, language: str, rng: random.Random) -> str:
    text = _slot_filler(language, rng, {})(rng.choice(bank.SHORT[language][intent]))
    if rng.random() < 0.2:
        text = f"{text} {rng.choice(bank.FILLERS[language])}"
    if rng.random() < 0.15:
        greetings = [g.rstrip(",") for g in bank.GREETINGS[language] if " " not in g.rstrip(",")]
        text = f"{rng.choice(greetings).lower()} {text}"
    if not text.endswith(("?", "!")):
        endings = ("", "", "?", "??", "!", "!!", "...")
        text += rng.choice((*endings, " ?") if language == "fr" else endings)
    roll = rng.random()
    if roll < 0.12:
        text = text.upper()
    elif roll < 0.4:
        text = text[:1].upper() + text[1:]
    return text


def _mixed_message(intent: str, language: str, rng: random.Random) -> str:
    """A message in ``language`` with at least one part in another language.

    English messages borrow from the writer's other language ("Hola, ... gracias"); the others
    borrow from English, the usual second language of support chats.
    """
    if language == "en":
        other = rng.choice([lang for lang in LANGUAGES if lang != "en"])
        chances = (0.5, 0.4, 0.5)
    else:
        other = "en"
        chances = (0.35, 0.25, 0.7)
    with_greeting, with_closing, with_fragment = (rng.random() < chance for chance in chances)
    if not (with_greeting or with_closing or with_fragment):
        with_fragment = True
    memo: dict[str, str] = {}
    fragment = None
    if with_fragment:
        fragment = _slot_filler(other, rng, memo)(rng.choice(bank.SHORT[other][intent]))
    return _full_message(
        intent,
        language,
        rng,
        greeting_language=other if with_greeting else None,
        closing_language=other if with_closing else None,
        fragment=fragment,
        memo=memo,
    )


def _as_sentence(fragment: str, rng: random.Random) -> str:
    sentence = fragment[:1].upper() + fragment[1:]
    if not sentence.endswith(("?", "!", ".")):
        sentence += rng.choice((".", "!", "?", "..."))
    return sentence


def _lower_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.lower() + text[i + 1 :]
    return text


def _starts_with_english_i(text: str) -> bool:
    first = text.split(" ", 1)[0]
    return first == "I" or first.startswith("I'")


# --- slots ------------------------------------------------------------------------------------


def _slot_filler(language: str, rng: random.Random, memo: dict[str, str]) -> Callable[[str], str]:
    """Return a function filling a template's ``{slots}`` with values for ``language``.

    ``memo`` holds the values drawn so far for one message, so that a customer who mentions
    their order twice gives the same number twice.
    """

    def remembered(name: str) -> str:
        key = f"{language}:{name}"
        if key not in memo:
            memo[key] = value(name)
        return memo[key]

    def value(name: str) -> str:
        match name:
            case "order":
                number = str(rng.randint(10_000, 999_999))
                return _fill(rng.choice(bank.ORDER_FORMATS[language]), {"number": number})
            case "product":
                return rng.choice(bank.PRODUCTS[language])
            case "date":
                return _date(language, rng)
            case "amount":
                return _amount(language, rng)
            case "days":
                return str(rng.randint(2, 21))
            case "plan":
                return rng.choice(bank.PLANS)
            case "street":
                number = str(rng.randint(1, 180))
                return _fill(rng.choice(bank.STREETS[language]), {"num": number})
            case "city":
                return rng.choice(bank.CITIES[language])
            case "device":
                return rng.choice(bank.DEVICES)
            case "code":
                return _error_code(rng)
            case "name":
                return rng.choice(bank.NAMES[language])
        raise KeyError(f"unknown slot {{{name}}} in the demo phrase bank")

    return lambda template: _SLOT.sub(lambda match: remembered(match.group(1)), template)


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _SLOT.sub(lambda match: values[match.group(1)], template)


def _date(language: str, rng: random.Random) -> str:
    month = rng.randint(1, 12)
    day = rng.randint(2, 28)
    return _fill(
        rng.choice(bank.DATE_FORMATS[language]),
        {
            "day": str(day),
            "dd": f"{day:02d}",
            "m": str(month),
            "mm": f"{month:02d}",
            "month": bank.MONTHS[language][month - 1],
        },
    )


def _amount(language: str, rng: random.Random) -> str:
    units = rng.choice((rng.randint(5, 60), rng.randint(5, 300), rng.randint(100, 1500)))
    cents = rng.choice(("00", "99", "99", "49", "90", "50"))
    return _fill(rng.choice(bank.AMOUNT_FORMATS[language]), {"units": str(units), "cents": cents})


def _error_code(rng: random.Random) -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"E-{rng.randint(100, 999)}"
    if style == 1:
        return str(rng.choice((400, 403, 404, 500, 502, 503)))
    return f"ERR_{rng.randint(1000, 9999)}"


# --- typos ------------------------------------------------------------------------------------


def _add_typos(text: str, language: str, rng: random.Random) -> str:
    """Corrupt ``text`` the way hurried typing does; the result always differs from the input."""
    original = text
    if language != "en" and rng.random() < 0.5:
        text = _strip_accents(text, language, rng)
    words = text.split(" ")
    editable = [i for i, word in enumerate(words) if sum(ch.isalpha() for ch in word) >= 4]
    if editable:
        rate = rng.uniform(0.08, 0.22)
        count = max(1, round(len(editable) * rate))
        for i in rng.sample(editable, min(count, len(editable))):
            words[i] = _mangle_word(words[i], rng)
    text = " ".join(words)
    roll = rng.random()
    if roll < 0.3:
        text = text.lower()
    elif roll < 0.4:
        text = text.upper().rstrip(".") + rng.choice(("!!", "!!!", "?!", ""))
    elif roll < 0.55:
        text = _SENTENCE_END.sub("", text)
    if text == original:
        text = text.lower() if text != text.lower() else text + text[-1]
    return text


def _strip_accents(text: str, language: str, rng: random.Random) -> str:
    if language == "de" and rng.random() < 0.5:
        return "".join(_UMLAUTS.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _mangle_word(word: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(word) if ch.isalpha()]
    chars = list(word)
    operation = rng.randrange(4)
    if operation == 0:  # swap two neighbouring letters
        pairs = [i for i in letters[:-1] if i + 1 in letters and chars[i] != chars[i + 1]]
        if pairs:
            i = rng.choice(pairs)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
            return "".join(chars)
    if operation == 1:  # drop a letter, not the first
        del chars[rng.choice(letters[1:])]
        return "".join(chars)
    if operation == 2:  # hit the key next to the right one
        candidates = [i for i in letters if chars[i].lower() in _KEY_NEIGHBOURS]
        if candidates:
            i = rng.choice(candidates)
            replacement = rng.choice(_KEY_NEIGHBOURS[chars[i].lower()])
            chars[i] = replacement.upper() if chars[i].isupper() else replacement
            return "".join(chars)
    i = rng.choice(letters)  # double a letter
    chars.insert(i, chars[i])
    return "".join(chars)
