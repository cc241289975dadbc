"""The run store's tables: runs, per-request outcomes, and cached answers.

Declared once, apart from the code that reads and writes them, so the run store and the
response cache share one ``MetaData`` without importing each other.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "gateway_keys",
    "gateway_log",
    "gateway_requests",
    "gateway_spend",
    "metadata",
    "outcome_blocks",
    "outcomes",
    "responses",
    "run_files",
    "runs",
]

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("tool_version", String(32), nullable=False),
    Column("models", Text, nullable=False),
    Column("chosen", String(64)),
    Column("report_json", Text, nullable=False),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), index=True),
    Column("target", String(64), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("sample_id", String(200), nullable=False),
    Column("intended_at_ns", BigInteger, nullable=False),
    Column("sent_at_ns", BigInteger, nullable=False),
    Column("done_at_ns", BigInteger, nullable=False),
    Column("prediction", Text),
    Column("error_kind", String(32)),
    Column("warmup", Integer, nullable=False),
    Column("cooldown", Integer, nullable=False, default=0),
)

# One row per stored block of up to 10,000 requests (see modelmeter.store.blocks); runs stored
# before blocks keep their rows in ``outcomes``, which is read as well.
outcome_blocks = Table(
    "outcome_blocks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), index=True),
    Column("target", String(64), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("first_row", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

responses = Table(
    "responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, index=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("target", String(64), nullable=False),
    Column("sample_id", String(200), nullable=False),
    Column("answer", Text, nullable=False),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("cached_input_tokens", Integer),
    Column("service_ms", Float),
    Column("ttft_ms", Float),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The gateway's API keys: only a SHA-256 of each is kept (a key is 256 random bits, so a plain
# hash cannot be reversed by guessing); ``prefix`` is its first characters, to tell keys apart.
gateway_keys = Table(
    "gateway_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("priority", String(8), nullable=False),
    Column("admin", Integer, nullable=False, default=0),
    Column("requests_per_minute", Integer),
    Column("tokens_per_minute", Integer),
    Column("max_concurrent", Integer),
    Column("budget", String(40)),  # a decimal amount, in the gateway's currency
)

# What each key and each route has spent in a budget period, in millionths of a millionth of
# the currency (exact integers). ``entity`` is "key:<id>" or "model:<route>".
gateway_spend = Table(
    "gateway_spend",
    metadata,
    Column("entity", String(300), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("spent_pico", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Files a run wrote beside its report that other commands read back: the router config that
# `modelmeter gateway --from-run` serves.
run_files = Table(
    "run_files",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(200), primary_key=True),
    Column("content", Text, nullable=False),
)

# A gateway's A/B log: one row per answered request of an experiment (run_id
# "gateway-<experiment>"), with its tokens, cost and the feedback a client sent for it.
gateway_requests = Table(
    "gateway_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("arm", String(200), nullable=False),
    Column("request_id", String(64), nullable=False, index=True),
    Column("at_ns", BigInteger, nullable=False),  # wall clock, when it arrived
    Column("latency_ns", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cost_pico", BigInteger),
    Column("feedback", Float),
)

# A sample of all of a gateway's traffic (``gateway.log``), for drift checks and re-evaluation.
gateway_log = Table(
    "gateway_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ns", BigInteger, nullable=False, index=True),  # wall clock, when it arrived
    Column("request_id", String(64), nullable=False),
    Column("route", String(200), nullable=False),  # the route that answered (after a split)
    Column("key_name", String(200)),  # the client key's name; never the key
    Column("status", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("latency_ns", BigInteger, nullable=False),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cost_pico", BigInteger),
    Column("cache", String(16), nullable=False),  # miss, hit, semantic, or none (no cache)
    Column("request_body", Text),  # only with log.bodies
    Column("response_body", Text),
)
