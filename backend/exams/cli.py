"""`academy exams ...`: submit the attempts whose time is up (each app process also does it every
few minutes: see backend/maintenance.py; reading an attempt submits it too)."""

from __future__ import annotations

from typing import Annotated

import typer

from backend.config import get_settings

exams_app = typer.Typer(help="Final exams: submit attempts whose time is up.", no_args_is_help=True)


@exams_app.command("sweep")
def sweep(
    limit: Annotated[int, typer.Option(help="At most this many attempts in one run.")] = 1000,
) -> None:
    """Submit, with the answers saved so far, every open attempt past its deadline; one transaction each."""
    from backend.db import make_engine
    from backend.exams.sweep import sweep_overdue_attempts

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        done = sweep_overdue_attempts(engine, settings, limit=limit)
    finally:
        engine.dispose()
    typer.echo(f"{done} overdue attempt(s) submitted")
