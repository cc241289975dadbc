"""Routing configs from a run: which model each kind of request goes to, and why, in figures.

``choose_routes`` turns measured candidates into a :class:`RoutingDecision` (one choice per
route, each citing its figures); ``write_claude_code_router`` and ``write_litellm_config`` export
it for claude-code-router and a LiteLLM proxy. ``check_*`` find literal keys and routes to
undefined models without extra dependencies; ``validate_*`` add the JSON Schemas shipped in
``schemas/`` (these need ``jsonschema``).
"""

from modelmeter.routing.choose import (
    DEFAULT_LONG_CONTEXT_THRESHOLD,
    ROUTES,
    Candidate,
    Route,
    RouteChoice,
    RoutingDecision,
    candidates_by_name,
    choose_routes,
    load_candidates,
)
from modelmeter.routing.claude_code_router import (
    CLAUDE_CODE_ROUTER_SCHEMA,
    build_claude_code_router,
    chat_completions_url,
    check_claude_code_router,
    validate_claude_code_router,
    write_claude_code_router,
)
from modelmeter.routing.litellm_router import (
    LITELLM_CONFIG_SCHEMA,
    ROUTING_STRATEGIES,
    RoutingStrategy,
    build_litellm_config,
    check_litellm_config,
    litellm_config_text,
    litellm_model,
    validate_litellm_config,
    write_litellm_config,
)

__all__ = [
    "CLAUDE_CODE_ROUTER_SCHEMA",
    "DEFAULT_LONG_CONTEXT_THRESHOLD",
    "LITELLM_CONFIG_SCHEMA",
    "ROUTES",
    "ROUTING_STRATEGIES",
    "Candidate",
    "Route",
    "RouteChoice",
    "RoutingDecision",
    "RoutingStrategy",
    "build_claude_code_router",
    "build_litellm_config",
    "candidates_by_name",
    "chat_completions_url",
    "check_claude_code_router",
    "check_litellm_config",
    "choose_routes",
    "litellm_config_text",
    "litellm_model",
    "load_candidates",
    "validate_claude_code_router",
    "validate_litellm_config",
    "write_claude_code_router",
    "write_litellm_config",
]
