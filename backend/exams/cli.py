"""`academy exams ...`: submit the attempts whose time is up (run it from cron or a timer every minute or so;
reading an attempt submits it too, so this only makes results and statistics timely)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel import Session

from backend.config import get_settings

exams_app = typer.Typer(help="Final exams: submit attempts whose time is up.", no_args_is_help=True)


@exams_app.command("sweep")
def sweep(
    limit: Annotated[int, typer.Option(help="At most this many attempts in one run.")] = 1000,
) -> None:
    """Submit, with the answers saved so far, every open attempt past its deadline; one transaction each."""
    from backend.db import make_engine, writer_engine
    from backend.exams.attempts import overdue_ids, submit_attempt

    settings = get_settings()
    engine = make_engine(settings.database_url)
    writer = writer_engine(engine)
    done = 0
    try:
        with Session(engine) as session:
            ids = overdue_ids(session, limit=limit)
        for attempt_id in ids:
            with Session(writer, expire_on_commit=False) as session:
                submit_attempt(session, attempt_id=attempt_id, base_url=settings.public_base_url)
                session.commit()
            done += 1
    finally:
        engine.dispose()
    typer.echo(f"{done} overdue attempt(s) submitted")
