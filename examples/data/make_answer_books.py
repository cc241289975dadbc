"""Write the answer books of the two simulated models in examples/llm-tasks.yaml.

`modelmeter simulate --answers BOOK` answers a prompt that contains a line's `match` with that
line's answer. The two books answer the sample sets of this folder (MMLU, generation, HumanEval
and MBPP layouts) like a stronger and a weaker model: each item is answered right or wrong by a
fixed rule of its id's hash, right for about 85% (strong) or 55% (weak) of the items, so the
evaluation has real differences to find, with intervals that say how sure it can be.

    python examples/data/make_answer_books.py     # rewrites answers-strong/-weak.jsonl
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelmeter.data.loaders import load_samples
from modelmeter.simulate import AnswerRule, write_answer_book
from modelmeter.spec import DatasetSpec
from modelmeter.tasks.code import load_humaneval, load_mbpp
from modelmeter.tasks.multiple_choice import load_mmlu

HERE = Path(__file__).resolve().parent
SKILL = {"strong": 0.85, "weak": 0.55}


def _right(model: str, item: str) -> bool:
    digest = hashlib.sha256(f"{model}:{item}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < SKILL[model]


def _multiple_choice(model: str) -> list[AnswerRule]:
    rules = []
    for sample in load_mmlu(HERE / "mmlu-sample"):
        letters = "ABCD"[: len(sample.extra["choices"])]
        right = sample.label or "A"
        wrong = letters[(letters.index(right) + 1) % len(letters)]
        letter = right if _right(model, sample.id) else wrong
        question = sample.extra["question"]
        rules.append(AnswerRule(match=question, answer=f"The answer is {letter}."))
    return rules


def _generation(model: str) -> list[AnswerRule]:
    spec = DatasetSpec(
        path=HERE / "generation-sample.jsonl",
        input_field="question",
        label_field="answer",
        slice_fields=["difficulty"],
    )
    rules = []
    for sample in load_samples(spec):
        answer = sample.label if _right(model, sample.id) else "I am not sure."
        rules.append(AnswerRule(match=sample.input, answer=answer or ""))
    return rules


def _code(model: str) -> list[AnswerRule]:
    rules = []
    for sample in load_humaneval(HERE / "humaneval-sample.jsonl"):
        extra = sample.extra
        if _right(model, sample.id):
            body = extra["prompt"] + extra["canonical_solution"]
        else:
            body = extra["prompt"] + "    return None\n"
        match = f"def {extra['entry_point']}("
        rules.append(AnswerRule(match=match, answer=f"```python\n{body}```"))
    for sample in load_mbpp(HERE / "mbpp-sample.jsonl"):
        extra = sample.extra
        reference = str(extra.get("reference_code", "")).replace("\r\n", "\n")
        if not _right(model, sample.id):
            name = extra.get("entry_point") or "solution"
            reference = f"def {name}(*args):\n    return None\n"
        rules.append(AnswerRule(match=extra["text"], answer=f"```python\n{reference}\n```"))
    return rules


def main() -> None:
    for model in SKILL:
        rules = _multiple_choice(model) + _generation(model) + _code(model)
        path = HERE / f"answers-{model}.jsonl"
        write_answer_book(path, rules)
        print(f"wrote {path.name}: {len(rules)} answers")


if __name__ == "__main__":
    main()
