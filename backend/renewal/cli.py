"""`academy renewal remind`: queue (and send) the expiry reminders due today; safe to run any number of
times a day (from cron, say), since every reminder is recorded and never sent twice."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from backend.config import get_settings
from backend.db import make_engine
from backend.renewal.reminders import run_once

renewal_app = typer.Typer(help="Certificate renewal and continuing education.", no_args_is_help=True)


@renewal_app.command("remind")
def remind(
    today: Annotated[
        str, typer.Option(help="Act as if today were this date (YYYY-MM-DD), e.g. to check a schedule.")
    ] = "",
) -> None:
    """Email the holders whose certificates expire in 90 or 30 days (once per threshold)."""
    settings = get_settings()
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        typer.secho(f"not a date: {today!r} (use YYYY-MM-DD)", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    try:
        run = run_once(engine, settings, today=day)
    finally:
        engine.dispose()
    for number, days in run.sent:
        typer.echo(f"reminded {number} ({days}-day reminder)")
    typer.echo(f"reminders sent: {len(run.sent)} (as of {run.today.isoformat()})")
    if run.skipped_no_email:
        typer.echo(f"no account to email for {run.skipped_no_email} certificate(s) (legacy records)")
