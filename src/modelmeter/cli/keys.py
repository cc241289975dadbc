"""`modelmeter keys create|list|revoke`: the gateway's API keys, kept hashed in the run store."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from modelmeter.cli._console import console, friendly_errors, stdout
from modelmeter.cli.run import DbOption

keys_app = typer.Typer(
    help="API keys of the gateway (docs/gateway.md): made here, only their hash is kept.",
    no_args_is_help=True,
)


def _budget(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not an amount; write it like 25 or 12.50") from None
    if not amount.is_finite() or amount <= 0 or amount > 1_000_000:
        raise typer.BadParameter("a budget is an amount above 0 and at most 1,000,000")
    return amount


@keys_app.command("create")
@friendly_errors
def create(
    name: Annotated[str, typer.Argument(help="Who the key is for (unique; letters, digits, -_.).")],
    budget: Annotated[
        str | None,
        typer.Option(help="Most it may spend per budget period, in the gateway's currency."),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option("--rpm", min=1, max=1_000_000, help="Requests per minute.")
    ] = None,
    tpm: Annotated[
        int | None,
        typer.Option("--tpm", min=1, max=100_000_000, help="Tokens per minute (input + output)."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=1_000_000, help="Most requests in flight at once.")
    ] = None,
    priority: Annotated[
        str, typer.Option(help="high, normal or low: low is refused first when a model is busy.")
    ] = "normal",
    admin: Annotated[
        bool, typer.Option("--admin", help="May read GET /gateway/spend (budgets still apply).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Make a key; it is printed once and only its SHA-256 is stored."""
    import re

    from modelmeter.store import KeyLimits, RunStore

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", name):
        raise typer.BadParameter(
            "1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
            param_hint="NAME",
        )
    if priority not in ("high", "normal", "low"):
        raise typer.BadParameter("high, normal or low", param_hint="--priority")
    limits = KeyLimits(
        priority=priority,  # type: ignore[arg-type]
        admin=admin,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        max_concurrent=concurrency,
        budget=_budget(budget),
    )
    store = RunStore(db)
    key, secret = store.keys().create(name, limits)
    console.print(
        f"made key {key.name!r} in {store.display_url}; it is shown this once, keep it now. "
        "A running gateway takes it on SIGHUP.",
        highlight=False,
    )
    stdout.print(secret, highlight=False, soft_wrap=True)


@keys_app.command("list")
@friendly_errors
def list_keys(
    db: DbOption = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Show revoked keys too.")] = False,
) -> None:
    """List keys: their limits and what they spent in the latest budget period."""
    from modelmeter.store import RunStore

    store = RunStore(db)
    keystore = store.keys()
    keys = keystore.list(active_only=not revoked)
    if not keys:
        console.print(f"no keys in {store.display_url}", highlight=False)
        return
    spent = keystore.latest_spend()
    table = Table(title=f"gateway keys in {store.display_url}", title_justify="left")
    for column in ("name", "starts", "priority", "rpm", "tpm", "concurrency", "budget", "spent"):
        table.add_column(column, no_wrap=column in ("name", "starts"))
    for key in keys:
        limits = key.limits
        period, amount = spent.get(f"key:{key.id}", ("", None))
        table.add_row(
            key.name
            + (" (revoked)" if key.revoked_at else "")
            + (" (admin)" if limits.admin else ""),
            key.prefix + "…",
            limits.priority,
            *(
                "–" if value is None else f"{value:,}"
                for value in (
                    limits.requests_per_minute,
                    limits.tokens_per_minute,
                    limits.max_concurrent,
                )
            ),
            "–" if limits.budget is None else str(limits.budget),
            "–" if amount is None else f"{amount} ({period})",
        )
    stdout.print(table)


@keys_app.command("revoke")
@friendly_errors
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name.")],
    db: DbOption = None,
) -> None:
    """Refuse a key from a gateway's next reload (SIGHUP) on."""
    from modelmeter.store import RunStore

    key = RunStore(db).keys().revoke(name)
    console.print(
        f"revoked {key.name!r} ({key.prefix}…); SIGHUP a running gateway", highlight=False
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
