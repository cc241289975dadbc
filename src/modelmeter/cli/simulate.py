"""`modelmeter simulate`: an OpenAI-compatible server that streams tokens on a known schedule."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from modelmeter._exceptions import ModelmeterError
from modelmeter._net import is_loopback_host

_stderr = Console(stderr=True)


class DelayDistribution(StrEnum):
    fixed = "fixed"
    normal = "normal"
    lognormal = "lognormal"
    exponential = "exponential"


# Where a config field comes from on the command line, for error messages. The options are the
# fields of SimulatorConfig: their bounds are the model's alone (a value out of range is refused
# by its validation, naming the option), and their defaults are the model's (a test checks).
_OPTION_OF_FIELD = {
    "model": "--model",
    "ttft_ms": "--ttft-ms/--ttft-dist",
    "ttft_ms.mean_ms": "--ttft-ms",
    "ttft_ms.kind": "--ttft-dist",
    "ttft_ms.sd_ms": "--ttft-sd-ms",
    "ttft_ms.sigma": "--ttft-sigma",
    "itl_ms": "--itl-ms/--itl-dist",
    "itl_ms.mean_ms": "--itl-ms",
    "itl_ms.kind": "--itl-dist",
    "itl_ms.sd_ms": "--itl-sd-ms",
    "itl_ms.sigma": "--itl-sigma",
    "output_tokens": "--output-tokens",
    "tokens_per_chunk": "--tokens-per-chunk",
    "slots": "--slots",
    "error_rate": "--error-rate",
    "error_statuses": "--error-status",
    "bucket_ms": "--bucket-ms",
    "reasoning_tokens": "--reasoning-tokens",
    "seed": "--seed",
    "busy_wait_us": "--busy-wait-us",
    "answers": "--answers",
    "default_answer": "--default-answer",
}


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)


def simulate(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one.")
    ] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to listen on; anything but loopback exposes the server.")
    ] = "127.0.0.1",
    model: Annotated[
        str,
        typer.Option(help="Model name listed by /v1/models and used when a request names none."),
    ] = "modelmeter-simulated",
    ttft_ms: Annotated[
        float,
        typer.Option(
            help="Mean time to first token in ms, counted from when a request gets a slot.",
        ),
    ] = 50.0,
    ttft_dist: Annotated[
        DelayDistribution, typer.Option(help="Distribution of the TTFT draws.")
    ] = DelayDistribution.fixed,
    ttft_sd_ms: Annotated[
        float | None, typer.Option(help="TTFT standard deviation in ms (normal).")
    ] = None,
    ttft_sigma: Annotated[
        float | None, typer.Option(help="Standard deviation of log TTFT (lognormal), e.g. 0.5.")
    ] = None,
    itl_ms: Annotated[float, typer.Option(help="Mean inter-token latency in ms.")] = 10.0,
    itl_dist: Annotated[
        DelayDistribution, typer.Option(help="Distribution of the ITL draws.")
    ] = DelayDistribution.fixed,
    itl_sd_ms: Annotated[
        float | None, typer.Option(help="ITL standard deviation in ms (normal).")
    ] = None,
    itl_sigma: Annotated[
        float | None, typer.Option(help="Standard deviation of log ITL (lognormal), e.g. 0.3.")
    ] = None,
    output_tokens: Annotated[
        str,
        typer.Option(
            metavar="N|MIN-MAX",
            help="Tokens per answer, or a range drawn per prompt; max_tokens caps it.",
        ),
    ] = "64",
    tokens_per_chunk: Annotated[int, typer.Option(help="Tokens in each streamed chunk.")] = 1,
    reasoning_tokens: Annotated[
        int,
        typer.Option(help="First N tokens of chat answers go to reasoning_content."),
    ] = 0,
    slots: Annotated[
        int,
        typer.Option(help="Generations at once; further requests queue (FIFO)."),
    ] = 16,
    error_rate: Annotated[
        float,
        typer.Option(help="Share of requests answered with an error status."),
    ] = 0.0,
    error_status: Annotated[
        list[int] | None,
        typer.Option(help="Status of injected errors; repeat for several (default: 500 and 429)."),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seeds the answers' text and the draws of delays and errors.")
    ] = 0,
    busy_wait_us: Annotated[
        int,
        typer.Option(
            help="Poll the clock this long before each send for sub-millisecond accuracy "
            "(costs CPU); 0 relies on event-loop timers (about 1 ms late).",
        ),
    ] = 2000,
    answers: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            metavar="FILE",
            help='Answer book, JSON Lines of {"match": "<text in the prompt>", "answer": '
            '"<text>"} (or "regex" for match; optional "reasoning"): a prompt whose last user '
            "message a line matches gets exactly that answer; the first matching line wins.",
        ),
    ] = None,
    default_answer: Annotated[
        str | None,
        typer.Option(
            help="The answer to prompts no answer book line matches (default: pseudo-words)."
        ),
    ] = None,
    bucket_ms: Annotated[
        list[float] | None,
        typer.Option(
            "--bucket-ms",
            help="A latency threshold (ms, an SLA's) to add to the /metrics histograms' "
            "boundaries; repeat for several.",
        ),
    ] = None,
    timings_log: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Write each request's timings (arrival, slot start, every write and when it "
            "was due) to this file as JSON lines; the file is replaced.",
        ),
    ] = None,
) -> None:
    """Serve a simulated OpenAI-compatible model whose timing is known, until Ctrl-C.

    Endpoints: POST /v1/chat/completions and /v1/completions (streaming or not), GET
    /v1/models, GET /health, GET /metrics (Prometheus, the GenAI server metrics) and GET
    /debug/timings with the server's own record of when it wrote each chunk. With --answers,
    prompts an answer book matches get its exact answers (for testing evaluations offline);
    other prompts get pseudo-words or --default-answer.
    """
    from pydantic import ValidationError

    from modelmeter.simulate import SimulatorConfig, run_simulator

    fields: dict[str, Any] = {
        "model": model,
        "ttft_ms": _delay(ttft_ms, ttft_dist, ttft_sd_ms, ttft_sigma),
        "itl_ms": _delay(itl_ms, itl_dist, itl_sd_ms, itl_sigma),
        "output_tokens": _output_tokens(output_tokens),
        "tokens_per_chunk": tokens_per_chunk,
        "reasoning_tokens": reasoning_tokens,
        "slots": slots,
        "error_rate": error_rate,
        "seed": seed,
        "busy_wait_us": busy_wait_us,
    }
    if error_status:
        fields["error_statuses"] = tuple(error_status)
    if bucket_ms:
        fields["bucket_ms"] = tuple(bucket_ms)
    if answers is not None:
        fields["answers"] = answers
    if default_answer is not None:
        fields["default_answer"] = default_answer
    try:
        config = SimulatorConfig.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        top = where.split(".")[0]
        option = _OPTION_OF_FIELD.get(where, _OPTION_OF_FIELD.get(top, where))
        message = str(error["msg"]).removeprefix("Value error, ")
        if top in ("ttft_ms", "itl_ms"):  # name the options, not the config fields
            prefix = top.removesuffix("_ms")
            for name, flag in (("sd_ms", "sd-ms"), ("sigma", "sigma"), ("mean_ms", "ms")):
                message = message.replace(name, f"--{prefix}-{flag}")
        raise typer.BadParameter(message, param_hint=f"'{option}'") from None
    rules = 0
    if config.answers is not None:
        from modelmeter.simulate import load_answer_book

        try:
            rules = len(load_answer_book(config.answers))
        except ModelmeterError as exc:
            raise typer.BadParameter(str(exc), param_hint="'--answers'") from None
    if timings_log is not None and not timings_log.parent.is_dir():
        raise typer.BadParameter(
            f"no such directory: {timings_log.parent}", param_hint="'--timings-log'"
        )
    if not is_loopback_host(host):
        _stderr.print(
            f"[yellow]warning:[/] listening on {escape(host)} lets other machines reach the "
            "simulator; it has no authentication"
        )

    def announce(url: str) -> None:
        low, high = config.output_range()
        tokens = f"{low}" if low == high else f"{low}-{high}"
        _stderr.print(
            f"Simulating {escape(config.model)} at [bold]{escape(url)}[/] (TTFT {ttft_ms:g} ms, "
            f"ITL {itl_ms:g} ms, {tokens} tokens, {slots} slots). Ctrl-C stops."
        )
        _stderr.print(f"  POST {escape(url)}/v1/chat/completions   GET {escape(url)}/debug/timings")
        if config.answers is not None:
            _stderr.print(f"  Answers from {escape(str(config.answers))} ({rules} rules).")

    try:
        run_simulator(config, host, port, timings_log=timings_log, on_ready=announce)
    except ModelmeterError as exc:
        _stderr.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:  # Ctrl-C on a platform without signal handlers in the loop
        raise typer.Exit(130) from None
    _stderr.print("Stopped.")


def _delay(
    mean_ms: float, kind: DelayDistribution, sd_ms: float | None, sigma: float | None
) -> dict[str, Any]:
    delay: dict[str, Any] = {"mean_ms": mean_ms, "kind": kind.value}
    if sd_ms is not None:
        delay["sd_ms"] = sd_ms
    if sigma is not None:
        delay["sigma"] = sigma
    return delay


def _output_tokens(text: str) -> int | tuple[int, int]:
    low, sep, high = text.strip().partition("-")
    try:
        if not sep:
            return int(low)
        return int(low), int(high)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a number nor a range such as 32-128",
            param_hint="'--output-tokens'",
        ) from None
