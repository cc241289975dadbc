"""Which measured model each kind of request should go to, and why, in figures.

A coding agent behind a router (claude-code-router, a LiteLLM proxy) sends every request to one
of a few routes. This module turns a run's measurements into that choice, so the config a user
deploys is the one the run justified, and every route carries the figures behind it.

The rules (the same ones ``docs/routing.md`` states):

* Only models that met the SLA are chosen. When none did, the choice is among all models and
  every reason says so.
* **default**: the best quality per cost. Quality is the mean score over the task types every
  candidate was measured on. A model whose score lies inside the best model's 95% interval is
  *tied* with it (the difference is not shown by the measurement); the cheapest tied model wins
  (blended USD per 1M tokens), then the higher score, the lower P95, the name.
* **background**: the cheapest *acceptable* model. Acceptable means the model's own interval
  reaches the best model's interval (the two overlap), or, with ``background_min_quality``, a
  mean score at least that high. This is looser than the default's tie, so background is never
  dearer than default.
* **think**: the best score on the hardest task type (lowest mean score across the models, or
  ``think_task``). Among the models tied with the best on it, a reasoning model wins, then the
  higher score, the lower cost, the name.
* **longContext**: the largest context window, ties broken by the default order. When no window
  reaches ``long_context_threshold`` the largest is still chosen and the reason says so.
* **webSearch**: nothing here measures web search; it follows default and says so.
* **fallbacks** of a route: the remaining models in the order the same rule picks them (the rule
  applied again without the models already picked). **context_window_fallbacks**: the models
  with a larger window than the route's model, smallest first, so each step grows the window.

Cost per correct answer is cited but does not rank: it already mixes quality in, and quality is
compared on its own first. Everything is deterministic: every ordering ends with the name.

One module per seam: ``candidates`` (the inputs and the decision's types), ``rules`` (the
choice), ``reasons`` (the figures behind each choice), ``facts`` (figures in words).
"""

from modelmeter.routing.choose.candidates import (
    DEFAULT_LONG_CONTEXT_THRESHOLD,
    ROUTES,
    Candidate,
    Route,
    RouteChoice,
    RoutingDecision,
    Score,
    candidates_by_name,
    load_candidates,
)
from modelmeter.routing.choose.rules import choose_routes

__all__ = [
    "DEFAULT_LONG_CONTEXT_THRESHOLD",
    "ROUTES",
    "Candidate",
    "Route",
    "RouteChoice",
    "RoutingDecision",
    "Score",
    "candidates_by_name",
    "choose_routes",
    "load_candidates",
]
