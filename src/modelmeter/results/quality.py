"""Quality results: classification metrics, LLM task scores, per-item grades."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelmeter._money import Money
from modelmeter.results._base import Interval, ResultModel

__all__ = [
    "METRICS",
    "ClassMetrics",
    "ItemResults",
    "QualityResult",
    "SliceQuality",
    "SliceScore",
    "TaskMetric",
    "TaskQuality",
    "TaskResult",
]


class ClassMetrics(ResultModel):
    precision: float
    recall: float
    f1: float
    support: int


class SliceQuality(ResultModel):
    """Quality on the samples of one slice value (e.g. language = fr)."""

    n: int
    accuracy: float
    f1_macro: float
    f1_macro_ci: Interval | None = None


class QualityResult(ResultModel):
    """Classification quality of one target on the labelled samples it answered.

    Failed requests count as wrong answers (prediction = none) so that an unreliable target cannot
    look better by failing on hard items; ``n_failed`` says how many.
    """

    n: int
    n_failed: int = 0
    accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    intervals: dict[str, Interval] = Field(
        default_factory=dict, description="95% intervals keyed by metric name (e.g. 'f1_macro')."
    )
    per_class: dict[str, ClassMetrics] = Field(default_factory=dict)
    confusion_labels: list[str] = Field(default_factory=list)
    confusion_matrix: list[list[int]] = Field(
        default_factory=list, description="Rows are true labels, columns predicted labels."
    )
    by_slice: dict[str, dict[str, SliceQuality]] = Field(
        default_factory=dict, description="slice name -> slice value -> quality."
    )


TaskMetric = Literal["accuracy", "exact_match", "token_f1", "regex", "judge", "pass@1"]


METRICS: tuple[TaskMetric, ...] = (
    "accuracy",
    "exact_match",
    "token_f1",
    "regex",
    "judge",
    "pass@1",
)


class SliceScore(ResultModel):
    """Quality on the samples of one slice value (e.g. subject = computer_security)."""

    n: int = Field(ge=1, description="Samples with this slice value.")
    n_failed: int = Field(
        ge=0, description="Of those, samples whose request failed or that have no grade."
    )
    n_correct: int = Field(ge=0, description="Of those, samples graded right.")
    accuracy: float = Field(ge=0.0, le=1.0, description="n_correct / n.")
    accuracy_ci: Interval = Field(description="Wilson interval for the accuracy.")
    mean_score: float = Field(ge=0.0, le=1.0, description="Mean item score in [0, 1].")
    mean_score_ci: Interval | None = Field(
        default=None,
        description="Percentile bootstrap interval for the mean score; null when no resamples "
        "were asked for.",
    )


class TaskQuality(ResultModel):
    """Quality of one target on one LLM task, with 95% intervals and per-slice figures.

    Failed and ungraded samples count as wrong with score 0 (see ``n_failed``).
    """

    metric: TaskMetric = Field(
        description="What an item's grade means: accuracy (multiple choice), exact_match, "
        "token_f1, regex, judge (normalised judge score) or pass@1 (code)."
    )
    n: int = Field(ge=1, description="Samples evaluated, failed ones included.")
    n_failed: int = Field(
        ge=0, description="Samples whose request failed or that have no grade (counted wrong)."
    )
    n_correct: int = Field(ge=0, description="Samples graded right.")
    accuracy: float = Field(
        ge=0.0, le=1.0, description="Share of samples graded right (pass rate for pass@1)."
    )
    accuracy_ci: Interval = Field(description="Wilson interval for the accuracy.")
    mean_score: float = Field(
        ge=0.0,
        le=1.0,
        description="Mean item score in [0, 1]: graded for token_f1 and judge, else the accuracy.",
    )
    mean_score_ci: Interval | None = Field(
        default=None,
        description="Percentile bootstrap interval for the mean score; null when n_bootstrap is 0.",
    )
    n_bootstrap: int = Field(ge=0, description="Bootstrap resamples behind mean_score_ci.")
    seed: int = Field(ge=0, description="Seed of the bootstrap; the same seed gives the same CIs.")
    by_slice: dict[str, dict[str, SliceScore]] = Field(
        default_factory=dict, description="slice name -> slice value -> quality."
    )


class TaskResult(ResultModel):
    """One LLM task (an evaluation set) on one target."""

    name: str
    kind: Literal["multiple_choice", "generation", "code"]
    route: str = Field(description="The request kind this task stands for, for routing.")
    quality: TaskQuality
    pass_at_k: dict[str, float] = Field(
        default_factory=dict, description="Code: k -> unbiased pass@k over the problems."
    )
    answers: int = Field(description="Answers scored (problems × draws for code).")
    sent: int = Field(description="Of those, requests sent in this run.")
    cached: int = Field(
        default=0, description="Of those, answers taken from the response cache (not re-sent)."
    )
    failed: int = Field(default=0, description="Requests that got no answer (counted wrong).")
    input_tokens: int = Field(default=0, description="Prompt tokens of the answers (usage).")
    output_tokens: int = Field(
        default=0, description="Output tokens of the answers' visible text (usage)."
    )
    reasoning_tokens: int = Field(
        default=0, description="Reasoning tokens (usage), billed as output on top of those."
    )
    cached_input_tokens: int = Field(
        default=0, description="Of the prompt tokens, those the provider read from its cache."
    )
    cost_per_correct: Money | None = Field(
        default=None, description="This task's token cost / its correct answers."
    )
    judge_requests: int = Field(default=0, description="Requests sent to the judge.")
    judge_input_tokens: int = 0
    judge_output_tokens: int = 0
    judge_cost: Money | None = Field(
        default=None, description="The judge's cost, kept apart from the model's."
    )


class ItemResults(ResultModel):
    """Each evaluated item's grade for one model, in one order: what paired comparisons
    (McNemar, paired bootstrap) between models of a run, or between runs, are computed on."""

    ids: list[str] = Field(description="Item ids (LLM tasks: 'task/id').")
    correct: list[bool] = Field(description="Whether each item was answered right.")
    score: list[float] | None = Field(
        default=None,
        description="Graded score in [0, 1] per item, where it differs from right/wrong "
        "(token F1, judge, code pass rate); null: the score is 1 if correct else 0.",
    )
