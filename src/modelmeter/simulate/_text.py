"""Deterministic pseudo-words for answers, and a rough token count for prompts.

The same seed and prompt always give the same answer, in any process: the generator is seeded
with a BLAKE2 digest (Python's ``hash()`` of a string changes between processes). A shorter
``max_tokens`` gives a prefix of the longer answer.
"""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ou")
_CODAS = ("", "", "", "n", "r", "s", "l", "m")
VOCABULARY_SIZE = 2048
CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text under BPE tokenizers


def _build_vocabulary() -> tuple[str, ...]:
    rng = random.Random(0)
    words: set[str] = set()
    while len(words) < VOCABULARY_SIZE:
        syllables = rng.choice((1, 1, 2, 2, 2, 3))
        words.add(
            "".join(
                rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                for _ in range(syllables)
            )
        )
    return tuple(sorted(words))


VOCABULARY = _build_vocabulary()


def prompt_rng(seed: int, prompt: str) -> random.Random:
    """A generator that depends only on the seed and the prompt."""
    digest = hashlib.blake2b(
        prompt.encode("utf-8", "surrogatepass"), digest_size=16, key=str(seed).encode()[:64]
    ).digest()
    return random.Random(int.from_bytes(digest, "big"))


def answer_tokens(rng: random.Random, count: int) -> list[str]:
    """``count`` token texts: pseudo-words, each after a space but the first."""
    words = rng.choices(VOCABULARY, k=count)
    return [word if index == 0 else " " + word for index, word in enumerate(words)]


def prompt_text(messages: list[Any]) -> str:
    """The text of chat messages: string contents, and the text parts of part lists."""
    pieces: list[str] = []
    for message in messages:
        pieces.extend(_content_texts(message))
    return "\n".join(pieces)


def last_user_text(messages: list[Any]) -> str | None:
    """The text of the last message with role ``user`` (parts joined by newlines), or None."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return "\n".join(_content_texts(message))
    return None


def _content_texts(message: Any) -> list[str]:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        ]
    return []


def prompt_identity(body: dict[str, Any], key: str) -> str:
    """What makes two prompts the same: the messages (or prompt) as canonical JSON."""
    return json.dumps(body.get(key), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def count_prompt_tokens(text: str) -> int:
    """About one token per four characters, at least one."""
    return max(1, -(-len(text) // CHARS_PER_TOKEN))
