"""Submitting the attempts whose time is up, with what was saved: one transaction per attempt, so one bad
attempt never holds back the others. Reading an attempt submits it too; this makes results, the grading
queue and statistics timely for attempts nobody opens again. Used by `academy exams sweep` and by each app
process's periodic upkeep (backend/maintenance.py)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.config import Settings
from backend.db import writer_engine
from backend.exams.attempts import overdue_ids, submit_attempt
from backend.notifications.service import deliver_all


def sweep_overdue_attempts(engine: Engine, settings: Settings, *, limit: int = 1000) -> int:
    """Submit every open attempt past its deadline; how many were submitted. Safe in several processes at
    once: submitting locks the attempt and an attempt already submitted is left as it is."""
    with Session(engine) as session:
        ids = overdue_ids(session, limit=limit)
    writer = writer_engine(engine)
    for attempt_id in ids:
        with Session(writer, expire_on_commit=False) as session:
            submit_attempt(session, attempt_id=attempt_id, base_url=settings.public_base_url)
            session.commit()
    if ids:
        deliver_all(engine, settings)  # the result emails
    return len(ids)
