"""`academy notifications send`: deliver the outbox now (e.g. from cron, or after configuring SMTP)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from backend.config import get_settings
from backend.db import make_engine
from backend.notifications.service import deliver_pending, outbox_counts

notifications_app = typer.Typer(help="The email outbox.", no_args_is_help=True)


@notifications_app.command("send")
def send(
    limit: Annotated[int, typer.Option(help="Send at most this many messages.")] = 500,
) -> None:
    """Send the messages that are due; without ACADEMY_SMTP_HOST they are kept in the outbox instead."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        sent = deliver_pending(engine, settings, limit=limit)
        with Session(engine) as session:
            counts = outbox_counts(session)
    finally:
        engine.dispose()
    if not settings.smtp_configured:
        typer.echo("no SMTP server configured (ACADEMY_SMTP_HOST): messages are kept in the outbox")
    typer.echo(f"sent {sent}")
    summary = ", ".join(f"{status} {counts[status]}" for status in sorted(counts))
    typer.echo(f"outbox: {summary or 'empty'}")
    if counts.get("failed"):
        typer.secho("some messages failed: see /admin/outbox for the errors", fg=typer.colors.YELLOW)
