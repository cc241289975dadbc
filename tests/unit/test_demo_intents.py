"""The seeded demo intent dataset: shape, balance, noise, determinism, split and JSONL output."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from modelmeter.data import _demo_phrases as bank
from modelmeter.data.demo_intents import (
    DEFAULT_SEED,
    INTENTS,
    LANGUAGES,
    NOISE_SHARES,
    generate_intents,
    train_test_split,
    write_jsonl,
)
from modelmeter.data.sample import Sample

NOISE_KINDS = {"clean", "typo", "short", "mixed", "label_noise"}


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return generate_intents()


# --- public constants and phrase bank ----------------------------------------------------------


def test_constants() -> None:
    assert isinstance(DEFAULT_SEED, int)
    assert len(INTENTS) >= 8
    assert len(set(INTENTS)) == len(INTENTS)
    assert LANGUAGES == ("en", "fr", "pt", "es", "de")
    assert set(NOISE_SHARES) == NOISE_KINDS
    assert sum(NOISE_SHARES.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("table", [bank.TEMPLATES, bank.SHORT], ids=["templates", "short"])
def test_phrase_bank_covers_every_intent_and_language(
    table: dict[str, dict[str, tuple[str, ...]]],
) -> None:
    assert set(table) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(table[language]) == set(INTENTS), language
        for intent in INTENTS:
            phrases = table[language][intent]
            assert len(phrases) >= 5, (language, intent)
            assert len(set(phrases)) == len(phrases), (language, intent)


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_gives_identical_samples(samples: list[Sample]) -> None:
    assert generate_intents() == samples
    assert generate_intents(500, seed=7) == generate_intents(500, seed=7)


def test_different_seed_gives_different_samples() -> None:
    first = generate_intents(500, seed=1)
    second = generate_intents(500, seed=2)
    assert [s.input for s in first] != [s.input for s in second]
    assert len({s.input for s in first} & {s.input for s in second}) < 50


def test_default_seed_is_the_default() -> None:
    assert generate_intents(200) == generate_intents(200, seed=DEFAULT_SEED)


# --- counts and balance -------------------------------------------------------------------------


def test_default_size_and_ids(samples: list[Sample]) -> None:
    assert len(samples) == 3600
    ids = [s.id for s in samples]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"intent-\d{6}", i) for i in ids)
    assert ids[0] == "intent-000000"
    assert ids[-1] == "intent-003599"


def test_every_intent_and_language_present(samples: list[Sample]) -> None:
    assert {s.label for s in samples} == set(INTENTS)
    assert {s.slices["language"] for s in samples} == set(LANGUAGES)


def test_slices_have_language_and_noise(samples: list[Sample]) -> None:
    for sample in samples:
        assert set(sample.slices) == {"language", "noise"}
        assert sample.slices["language"] in LANGUAGES
        assert sample.slices["noise"] in NOISE_KINDS
        assert sample.label in INTENTS


def test_languages_are_balanced(samples: list[Sample]) -> None:
    counts = Counter(s.slices["language"] for s in samples)
    assert set(counts.values()) == {len(samples) // len(LANGUAGES)}


@pytest.mark.parametrize("n", [3001, 3333])
def test_languages_balanced_for_uneven_sizes(n: int) -> None:
    counts = Counter(s.slices["language"] for s in generate_intents(n))
    assert sum(counts.values()) == n
    # Each (intent, language) cell differs by at most one, so a language by at most len(INTENTS).
    assert max(counts.values()) - min(counts.values()) <= len(INTENTS)


def test_labels_are_roughly_balanced(samples: list[Sample]) -> None:
    # Label noise moves ~3 % of labels, so classes are balanced only within a few percent.
    expected = len(samples) / len(INTENTS)
    for intent, count in Counter(s.label for s in samples).items():
        assert abs(count - expected) <= 0.08 * expected, intent


def test_noise_shares(samples: list[Sample]) -> None:
    counts = Counter(s.slices["noise"] for s in samples)
    for kind, share in NOISE_SHARES.items():
        assert counts[kind] / len(samples) == pytest.approx(share, abs=0.005), kind
    assert 0.02 <= counts["label_noise"] / len(samples) <= 0.04
    assert 0.5 <= counts["clean"] / len(samples) <= 0.6


def test_noise_present_in_every_language(samples: list[Sample]) -> None:
    pairs = Counter((s.slices["language"], s.slices["noise"]) for s in samples)
    for language in LANGUAGES:
        for kind in NOISE_KINDS:
            assert pairs[language, kind] > 0, (language, kind)


# --- texts --------------------------------------------------------------------------------------


def test_texts_are_filled_and_unique(samples: list[Sample]) -> None:
    texts = [s.input for s in samples]
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert text
        assert text == text.strip()
        assert "{" not in text
        assert "}" not in text
        assert "  " not in text


def test_short_messages_are_short(samples: list[Sample]) -> None:
    short = [s.input for s in samples if s.slices["noise"] == "short"]
    assert all(len(text.split()) <= 8 for text in short)
    clean = [s.input for s in samples if s.slices["noise"] == "clean"]
    assert sum(len(t.split()) for t in short) / len(short) < sum(
        len(t.split()) for t in clean
    ) / len(clean)


def test_typos_lose_accents_sometimes(samples: list[Sample]) -> None:
    accented = re.compile(r"[àâçéèêëîïôûùüÿñãõáíóúäöß]", re.IGNORECASE)

    def share_with_accents(kind: str) -> float:
        texts = [
            s.input for s in samples if s.slices["noise"] == kind and s.slices["language"] != "en"
        ]
        return sum(bool(accented.search(t)) for t in texts) / len(texts)

    assert share_with_accents("typo") < share_with_accents("clean")


def test_messages_vary(samples: list[Sample]) -> None:
    # Many distinct openings per intent and language, not a handful of fixed sentences.
    openings = Counter(
        (s.label, s.slices["language"], " ".join(s.input.split()[:3]).lower())
        for s in samples
        if s.slices["noise"] == "clean"
    )
    cells = {(label, language) for label, language, _ in openings}
    assert len(openings) / len(cells) >= 10


def test_small_and_invalid_sizes() -> None:
    assert generate_intents(0) == []
    assert len(generate_intents(7)) == 7
    with pytest.raises(ValueError, match="n must be"):
        generate_intents(-1)


# --- train/test split ---------------------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.9])
def test_split_is_disjoint_complete_and_sized(samples: list[Sample], fraction: float) -> None:
    train, test = train_test_split(samples, test_fraction=fraction)
    assert len(test) == round(len(samples) * fraction)
    assert len(train) + len(test) == len(samples)
    assert not {s.id for s in train} & {s.id for s in test}
    assert {s.id for s in train} | {s.id for s in test} == {s.id for s in samples}


def test_split_is_stratified_by_label_and_language(samples: list[Sample]) -> None:
    fraction = 0.3
    _, test = train_test_split(samples, test_fraction=fraction)
    everything = Counter((s.label, s.slices["language"]) for s in samples)
    held_out = Counter((s.label, s.slices["language"]) for s in test)
    for key, total in everything.items():
        quota = total * fraction
        assert int(quota) <= held_out[key] <= int(quota) + 1, key


def test_split_is_deterministic_and_keeps_order(samples: list[Sample]) -> None:
    first = train_test_split(samples)
    assert train_test_split(samples) == first
    assert train_test_split(samples, seed=DEFAULT_SEED + 1) != first
    position = {s.id: i for i, s in enumerate(samples)}
    for part in first:
        indices = [position[s.id] for s in part]
        assert indices == sorted(indices)


def test_split_has_no_exact_duplicates_across_parts(samples: list[Sample]) -> None:
    train, test = train_test_split(samples)
    assert not {s.input for s in train} & {s.input for s in test}


def test_split_handles_unlabelled_and_empty() -> None:
    unlabelled = [Sample(id=str(i), input=f"text {i}") for i in range(10)]
    train, test = train_test_split(unlabelled, test_fraction=0.3)
    assert len(test) == 3
    assert len(train) == 7
    assert train_test_split([]) == ([], [])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_fraction_outside_open_interval(fraction: float) -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(generate_intents(20), test_fraction=fraction)


# --- JSONL --------------------------------------------------------------------------------------


def test_jsonl_round_trip(samples: list[Sample], tmp_path: Path) -> None:
    path = tmp_path / "nested" / "intents.jsonl"
    write_jsonl(iter(samples), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(samples)
    records = [json.loads(line) for line in lines]
    assert all(list(record) == ["id", "text", "label", "language", "noise"] for record in records)
    restored = [
        Sample(
            id=r["id"],
            input=r["text"],
            label=r["label"],
            slices={"language": r["language"], "noise": r["noise"]},
        )
        for r in records
    ]
    assert restored == samples


def test_jsonl_keeps_non_ascii_readable(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    sample = Sample(
        id="intent-000000",
        input="Où est ma commande ?\nMerci",
        label="order_status",
        slices={"language": "fr", "noise": "clean"},
    )
    write_jsonl([sample], path)
    content = path.read_text(encoding="utf-8")
    assert "Où" in content
    assert content.count("\n") == 1
    assert content.endswith("\n")


# --- learnability (loose sanity floor, not an accuracy target) ---------------------------------


def test_a_simple_classifier_learns_the_task(samples: list[Sample]) -> None:
    """TF-IDF + logistic regression lands around macro-F1 0.9; 0.6 only catches a broken bank.

    The floor is deliberately far below the expected score so that phrase-bank edits never make
    this test flaky; it fails only if messages stop carrying their intent at all.
    """
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.pipeline import make_pipeline

    train, test = train_test_split(samples)
    model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    model.fit([s.input for s in train], [s.label for s in train])
    predicted = model.predict([s.input for s in test])
    assert f1_score([s.label for s in test], predicted, average="macro") > 0.6
