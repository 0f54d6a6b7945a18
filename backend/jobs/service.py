"""Background jobs: a long action runs in a daemon thread with its own database session and reports its
progress, so it finishes even when the page that started it is closed, and any page can follow it.

A feature registers its handler at import time and starts a job from a route:

    register_handler("cohorts.issue_certificates", issue_certificates_handler)

    job = create_job(session, kind="cohorts.issue_certificates", owner=user, payload={"cohort": 7})
    start_after_commit(request, job)           # launched once the job row is committed
    return redirect(request, job_url(job))     # the progress page

A handler is `handler(session, job, progress) -> dict`. Everything it writes through `session` is one
transaction, committed together with the job's "done" status, or rolled back when it raises (the job is
then "failed" with the error's message). It calls `progress(done, message, total=...)` as it goes; that
only records the numbers, and a companion thread writes them to the job row in separate short
transactions (at most five a second, plus a heartbeat every few seconds). `job` is a detached copy: read
`job.id`, `job.payload`, `job.owner_id`, do not change it. The handler must not commit. It reads the app's
settings with `job_settings(session)`; emails it queues with `notify` are sent once it has committed.

On SQLite (one writer at a time) a running job holds the write lock from its first write to its end, and
every other writer waits meanwhile: handlers should do their slow reading, checking and computing first
and write at the end where they can (see backend.jobs.runner). PostgreSQL has no such limit.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select, update

from backend.config import Settings, get_settings
from backend.db import writer_engine
from backend.errors import NotFound
from backend.i18n import _
from backend.jobs.after_commit import run_after_commit
from backend.jobs.runner import HANDLERS, SETTINGS_KEY, Handler, JobRun, ProgressFn, live_progress
from backend.jobs.schemas import JobPublic
from backend.models import Job, JobStatus, Role, User, utcnow

__all__ = [
    "Handler",
    "ProgressFn",
    "create_job",
    "get_job_for",
    "job_public",
    "job_settings",
    "job_url",
    "launch",
    "register_handler",
    "resume_stale",
    "run_job",
    "start_after_commit",
]

log = logging.getLogger("academy.jobs")

STALE_AFTER = timedelta(seconds=60)  # a running job's heartbeat this old means its process died
WAIT_FOR_ROW = 5.0  # launch() called before the job's transaction committed: look again this long


def register_handler(kind: str, handler: Handler) -> None:
    """Make `kind` runnable; called at import time by the feature that owns it (a later call replaces)."""
    HANDLERS[kind] = handler


def create_job(
    session: Session, *, kind: str, owner: User | None, payload: dict[str, Any], total: int = 0
) -> Job:
    """Add a queued job in the caller's transaction; start it with `start_after_commit`."""
    if kind not in HANDLERS:
        raise ValueError(f"no handler is registered for job kind {kind!r}")
    job = Job(kind=kind, owner_id=owner.id if owner else None, payload=dict(payload), total=max(0, total))
    session.add(job)
    session.flush()
    return job


def job_url(job: Job) -> str:
    return f"/jobs/{job.id}"


def start_after_commit(request: Request, job: Job) -> None:
    """Launch the job once the request that created it has committed."""
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    job_id = job.id
    assert job_id is not None
    run_after_commit(request, lambda: launch(engine, job_id, settings=settings), key=f"jobs.launch.{job_id}")


def job_settings(session: Session) -> Settings:
    """The app's settings, for a handler (e.g. public_base_url for links in emails)."""
    settings = session.info.get(SETTINGS_KEY)
    return settings if isinstance(settings, Settings) else get_settings()


def launch(engine: Engine, job_id: int, *, settings: Settings | None = None) -> threading.Thread:
    """Run the queued job in a daemon thread with its own session; returns the (started) thread."""
    thread = threading.Thread(
        target=run_job,
        args=(engine, job_id),
        kwargs={"settings": settings},
        name=f"academy-job-{job_id}",
        daemon=True,
    )
    thread.start()
    return thread


def run_job(engine: Engine, job_id: int, *, settings: Settings | None = None) -> None:
    """Claim the queued job and run it in this thread (does nothing if another worker has it)."""
    deadline = time.monotonic() + WAIT_FOR_ROW
    attempt = _claim(engine, job_id, stale_before=None)
    while attempt is None and time.monotonic() < deadline and not _exists(engine, job_id):
        time.sleep(0.1)  # the creating transaction has not committed yet
        attempt = _claim(engine, job_id, stale_before=None)
    if attempt is not None:
        JobRun(engine, job_id, attempt, settings).run()


def resume_stale(
    engine: Engine, *, settings: Settings | None = None, stale_after: timedelta = STALE_AFTER
) -> list[int]:
    """Re-launch queued jobs and running jobs whose heartbeat is older than `stale_after` (their process
    died; their writes were rolled back with it). Called when the app starts; returns the job ids."""
    cutoff = utcnow() - stale_after
    with Session(engine) as session:
        ids = session.exec(
            select(Job.id).where(
                or_(
                    col(Job.status) == JobStatus.queued.value,
                    and_(col(Job.status) == JobStatus.running.value, _heartbeat_older_than(cutoff)),
                )
            )
        ).all()
    resumed: list[int] = []
    for job_id in ids:
        assert job_id is not None
        try:
            attempt = _claim(engine, job_id, stale_before=cutoff)
        except OperationalError:  # SQLite: a live job holds the write lock, so it is not dead
            continue
        if attempt is not None:
            log.info("resuming job %s (attempt %s)", job_id, attempt)
            run = JobRun(engine, job_id, attempt, settings)
            threading.Thread(target=run.run, name=f"academy-job-{job_id}", daemon=True).start()
            resumed.append(job_id)
    return resumed


def resume_stale_in_background(engine: Engine, settings: Settings) -> None:
    """For app start-up: never delays it, and only logs when the database is not ready yet."""

    def resume() -> None:
        try:
            resume_stale(engine, settings=settings)
        except Exception:
            log.warning("could not resume background jobs", exc_info=True)

    threading.Thread(target=resume, name="academy-jobs-resume", daemon=True).start()


def _heartbeat_older_than(cutoff: datetime) -> Any:
    return or_(col(Job.heartbeat_at).is_(None), col(Job.heartbeat_at) < cutoff)


def _exists(engine: Engine, job_id: int) -> bool:
    with Session(engine) as session:
        return session.get(Job, job_id) is not None


def _claim(engine: Engine, job_id: int, *, stale_before: datetime | None) -> int | None:
    """Mark the job running for this worker; returns its attempt number, or None if it is not ours."""
    claimable = col(Job.status) == JobStatus.queued.value
    if stale_before is not None:
        claimable = or_(
            claimable, and_(col(Job.status) == JobStatus.running.value, _heartbeat_older_than(stale_before))
        )
    now = utcnow()
    with Session(writer_engine(engine)) as session:
        claimed = session.exec(
            update(Job)
            .where(col(Job.id) == job_id, claimable)
            .values(
                status=JobStatus.running.value,
                attempt=col(Job.attempt) + 1,
                started_at=now,
                heartbeat_at=now,
                finished_at=None,
                done=0,
                error=None,
            )
        )
        if claimed.rowcount != 1:
            session.rollback()
            return None
        attempt = session.exec(select(Job.attempt).where(col(Job.id) == job_id)).one()
        session.commit()
    return attempt


# --- reading jobs ----------------------------------------------------------------------------------------


def get_job_for(session: Session, *, job_id: int, user: User) -> Job:
    """The job, if `user` may follow it (its owner, or an administrator); otherwise not found."""
    job = session.get(Job, job_id)
    if job is None or (job.owner_id != user.id and user.role != Role.admin.value):
        raise NotFound(_("No such job."))
    return job


def job_public(job: Job) -> JobPublic:
    """The job as shown, with the live progress of a run in this process (SQLite keeps it in memory while
    the handler holds the write lock)."""
    title = job.payload.get("title") if isinstance(job.payload, dict) else None
    state = JobPublic.model_validate(job).model_copy(update={"title": str(title or "")})
    live = live_progress(job.id) if job.id is not None else None
    if live is not None and job.status == JobStatus.running.value:
        done, total, message = live
        state = state.model_copy(
            update={
                "done": done,
                "total": total if total is not None else state.total,
                "message": message or state.message,
            }
        )
    return state
