"""What a run returns: the report, every request's outcome, and the files to write beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelmeter.load.outcome import OutcomeSink
from modelmeter.production.kubernetes import write_manifests
from modelmeter.results import Report
from modelmeter.routing import (
    Candidate,
    RoutingDecision,
    litellm_config_text,
    write_claude_code_router,
    write_litellm_config,
)

__all__ = [
    "CLAUDE_CODE_ROUTER_FILE",
    "KUBERNETES_FILE",
    "LITELLM_CONFIG_FILE",
    "LOAD_PHASE",
    "QUALITY_PHASE",
    "RunResult",
    "without_side_files",
]

CLAUDE_CODE_ROUTER_FILE = "claude-code-router.json"
LITELLM_CONFIG_FILE = "litellm-config.yaml"
KUBERNETES_FILE = "kubernetes.yaml"
QUALITY_PHASE = "quality"
LOAD_PHASE = "load"


def without_side_files(report: Report, why: str) -> Report:
    """``report`` no longer linking router configurations or manifests, with ``why`` in its
    notes: for a report whose files beside it are not (or must not be) written."""
    files = [*report.routing_files, *([report.manifest_file] if report.manifest_file else [])]
    if not files:
        return report
    # Notes about those files (e.g. "kubernetes.yaml names no real image") go with them.
    kept = [note for note in report.notes if not any(name in note for name in files)]
    return report.model_copy(
        update={"routing_files": [], "manifest_file": None, "notes": [*kept, why]}
    )


@dataclass
class RunResult:
    """The report, and every request's outcome keyed by (target name, phase)."""

    report: Report
    outcomes: dict[tuple[str, str], OutcomeSink] = field(default_factory=dict)
    interrupted: bool = False
    routing: RoutingDecision | None = None
    routing_candidates: list[Candidate] = field(default_factory=list)
    routing_formats: tuple[str, ...] = ()
    manifests: list[dict[str, Any]] = field(default_factory=list)

    def write_extras(self, out_dir: Path) -> list[Path]:
        """Write the router configurations and Kubernetes manifests beside the report."""
        written = self._write_routing(out_dir)
        if self.manifests:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / KUBERNETES_FILE
            write_manifests(self.manifests, path, plan=self.report.capacity)
            written.append(path)
        return written

    def litellm_config(self) -> str | None:
        """The LiteLLM config this run writes (``routing.export`` with litellm), as text: kept
        in the store too, for ``modelmeter gateway --from-run``."""
        if self.routing is None or "litellm" not in self.routing_formats:
            return None
        return litellm_config_text(self.routing, self.routing_candidates)

    def _write_routing(self, out_dir: Path) -> list[Path]:
        if self.routing is None:
            return []
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        if "claude-code-router" in self.routing_formats:
            written.append(
                write_claude_code_router(
                    self.routing, self.routing_candidates, out_dir / CLAUDE_CODE_ROUTER_FILE
                )
            )
        if "litellm" in self.routing_formats:
            written.append(
                write_litellm_config(
                    self.routing, self.routing_candidates, out_dir / LITELLM_CONFIG_FILE
                )
            )
        return written
