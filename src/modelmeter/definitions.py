"""One-line metric definitions; every report carries them and docs/metrics.md explains them."""

from __future__ import annotations

# Histogram boundaries, in seconds, of the servers' request durations (serve, gateway): from
# tens of microseconds (a local model, the gateway's own time) to seconds.
LATENCY_BUCKETS_S = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

DEFINITIONS: dict[str, str] = {
    "response_time": "done_at − intended_at: from when the schedule meant to send the request "
    "to the last byte of the answer; includes any wait caused by a busy client or server "
    "(free of coordinated omission). The headline P50/P95/P99.",
    "service_time": "done_at − sent_at: from the actual send to the last byte of the answer.",
    "schedule_lag": "sent_at − intended_at: how late the load generator sent; a P99 above "
    "max(2 ms, 1% of the median service time) marks the run client-bound, and so does a load "
    "generator that used 80% or more of its CPU core during the phase.",
    "throughput_rps": "successful answers per second over the measured window (first request "
    "after the warm-up to the last answer); warm-up excluded.",
    "error_rate": "failed requests / requests in the measured window; failures counted by kind "
    "(timeout, connect, protocol, http_status, model).",
    "percentiles": "exact, by linear interpolation between order statistics of every measured "
    "request (no histogram approximation).",
    "ttft": "time to first token: from the actual send to the first chunk carrying output "
    "content (role-only and empty chunks, and reasoning, do not count).",
    "itl": "inter-token latency: each gap between content chunks divided evenly among the tokens "
    "the later chunk carries.",
    "tpot": "time per output token of a request: (done − first token) / (output tokens − 1).",
    "output_tokens_per_s": "output tokens of all measured requests / the measured window; "
    "counts from server usage, else a tokenizer file given, else the number of chunks (the "
    "report says which).",
    "goodput": "requests per second that met every SLO of the SLA (errors count as misses).",
    "accuracy": "share of labelled items whose prediction equals the label; a failed request "
    "counts as wrong.",
    "f1_macro": "unweighted mean over classes of F1 = 2PR/(P+R) (scikit-learn conventions: "
    "a class with no predictions has precision 0).",
    "f1_weighted": "mean over classes of F1 weighted by each class's support.",
    "interval": "95% bootstrap percentile interval over items resampled with replacement.",
    "cost_per_1000_requests": "instance pricing: price_per_hour × instances / (throughput_rps × "
    "3600 × utilisation) × 1000, at the throughput measured in the load phase; API pricing: "
    "per-request price plus tokens × unit prices, averaged per request × 1000.",
    "task_score": "LLM runs: share of all task items answered right, over every task of the "
    "run, with a Wilson 95% interval; what the ranking and sla.min_quality use.",
    "pass_at_k": "code tasks: mean over problems of 1 − C(n−c, k)/C(n, k), with n answers drawn "
    "per problem of which c pass every test (the unbiased estimator of Chen et al., 2021).",
    "cost_per_correct_answer": "the token cost of a task's (or run's) evaluated requests at the "
    "target's prices / the answers that were right; reasoning tokens billed as output.",
    "paired_test": "McNemar's exact test on right/wrong answers (Newcombe interval), or a paired "
    "bootstrap of the mean score, both on the items the two models share.",
    "holm": "Holm's step-down adjustment of the p-values of all pairs of a run; a pair is "
    "distinguishable when its adjusted p ≤ 0.05.",
    "p95_interval": "95% distribution-free interval of a percentile from order statistics (ranks "
    "whose binomial coverage reaches 95%).",
    "pareto": "a model is on the frontier when no other model is at least as good on quality, "
    "P95 response time and cost per 1,000 requests and strictly better on one.",
}
