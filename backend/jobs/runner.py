"""One run of a background job: the handler in its own transaction on its own connection, and a companion
thread that writes its progress and heartbeat beside it (see backend.jobs.service for the contract).

SQLite allows one writer at a time. The handler's connection therefore reads without taking the write
lock and takes it (BEGIN IMMEDIATE) only at its first write, and from then on, until it ends, progress
is kept in memory for this process's pages (the row is brought up to date at the end). As under
PostgreSQL's default READ COMMITTED, rows read before the first write may change before it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.dml import Update
from sqlmodel import Session, col, update

from backend.config import Settings, get_settings
from backend.db import SQLITE_BUSY_TIMEOUT_MS, writer_engine
from backend.errors import DomainError
from backend.i18n import _
from backend.jobs.after_commit import job_commit_hooks
from backend.models import Job, JobStatus, utcnow

log = logging.getLogger("academy.jobs")

FLUSH_INTERVAL = 0.2  # seconds between progress writes: at most five commits a second
HEARTBEAT_INTERVAL = 10.0  # a running job's heartbeat is refreshed at least this often
QUICK_WAIT_MS = 100  # SQLite: a progress write waits this long for the write lock, then tries later
SETTINGS_KEY = "settings"  # in a handler's session.info; read it with service.job_settings(session)
READING_STATEMENTS = frozenset({"SELECT", "PRAGMA", "BEGIN"})  # anything else may write (SAVEPOINT too)


class ProgressFn(Protocol):
    def __call__(self, done: int, message: str = "", *, total: int | None = None) -> None: ...


Handler = Callable[[Session, Job, ProgressFn], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

_LIVE: dict[int, JobRun] = {}
_LIVE_LOCK = threading.Lock()


class JobRun:
    """A claimed run: the handler's transaction, and its progress written beside it by a flusher thread."""

    def __init__(self, engine: Engine, job_id: int, attempt: int, settings: Settings | None) -> None:
        self.engine = engine
        self.settings = settings or get_settings()
        self.job_id = job_id
        self.attempt = attempt
        self.sqlite = engine.dialect.name == "sqlite"
        self.lock = threading.Lock()
        self.done = 0
        self.total: int | None = None
        self.message = ""
        self.version = 0  # bumped by every progress call; the flusher writes when it has not seen it
        self.holds_write_lock = False  # SQLite: the handler's transaction has the database's write lock
        self.stopped = threading.Event()

    # called by the handler
    def progress(self, done: int, message: str = "", *, total: int | None = None) -> None:
        with self.lock:
            self.done = max(0, done)
            if total is not None:
                self.total = max(0, total)
            if message:
                self.message = message[:500]
            self.version += 1

    def snapshot(self) -> tuple[int, int | None, str]:
        with self.lock:
            return self.done, self.total, self.message

    def run(self) -> None:
        with _LIVE_LOCK:
            _LIVE[self.job_id] = self
        flusher = threading.Thread(
            target=self._flush_loop, name=f"academy-job-{self.job_id}-progress", daemon=True
        )
        flusher.start()
        try:
            self._run_handler(stop_flusher=lambda: self._stop(flusher))
        except Exception as error:
            self._stop(flusher)
            log.warning("job %s failed", self.job_id, exc_info=True)
            message = error.message if isinstance(error, DomainError) else str(error) or type(error).__name__
            try:
                self._finish_failed(message)
            except Exception:  # the row stays "running"; resume_stale retries it once its heartbeat is old
                log.exception("job %s: could not record its failure", self.job_id)
        finally:
            self._stop(flusher)
            with _LIVE_LOCK:
                _LIVE.pop(self.job_id, None)

    def _stop(self, flusher: threading.Thread) -> None:
        self.stopped.set()
        if flusher.is_alive() and flusher is not threading.current_thread():
            flusher.join()

    def _run_handler(self, *, stop_flusher: Callable[[], None]) -> None:
        hooks: list[Callable[[Engine, Settings], object]] = []
        with self.engine.connect() as connection:
            if self.sqlite:
                self._take_write_lock_at_first_write(connection)
            with Session(bind=connection, expire_on_commit=False) as session:
                session.info[SETTINGS_KEY] = self.settings
                job = session.get(Job, self.job_id)
                if job is None:
                    return
                session.expunge(job)
                handler = HANDLERS.get(job.kind)
                if handler is None:
                    raise DomainError(_("This kind of job cannot run here: %(kind)s") % {"kind": job.kind})
                result = handler(session, job, self.progress)
                if not isinstance(result, dict):
                    raise TypeError(
                        f"the handler of {job.kind!r} returned {type(result).__name__}, not a dict"
                    )
                stop_flusher()  # the final state is written in the handler's own transaction, alone
                if self._record_done(session, job, result):
                    session.commit()
                    hooks = job_commit_hooks(session)
                else:  # another worker took the job over as stale: keep nothing of this run
                    session.rollback()
                    log.warning(
                        "job %s attempt %s was taken over; its work is discarded", self.job_id, self.attempt
                    )
        for hook in hooks:  # e.g. send the emails the job queued
            try:
                hook(self.engine, self.settings)
            except Exception:
                log.exception("job %s: work after its commit failed", self.job_id)

    def _record_done(self, session: Session, job: Job, result: dict[str, Any]) -> bool:
        done, total, message = self.snapshot()
        total = max(total if total is not None else job.total, done)
        finished = session.exec(
            self._mine(update(Job)).values(
                status=JobStatus.done.value,
                total=total,
                done=total,
                message=str(result.get("message") or message)[:500],
                result=result,
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
            )
        )
        return finished.rowcount == 1

    def _take_write_lock_at_first_write(self, connection: Connection) -> None:
        """SQLite: read without the write lock; before the first write, end the read-only transaction and
        begin again with BEGIN IMMEDIATE. Upgrading a read transaction to a write would fail as soon as
        another connection (a progress write, a request) had committed since the transaction began."""

        def before_cursor_execute(_conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
            first_word = statement.lstrip()[:10].split(maxsplit=1)[0].upper() if statement.strip() else ""
            if self.holds_write_lock or first_word in READING_STATEMENTS:
                return
            self.holds_write_lock = True
            if cursor.connection.in_transaction:
                cursor.execute("COMMIT")  # nothing written yet: this only ends the read snapshot
            cursor.execute("BEGIN IMMEDIATE")

        def transaction_ended(_conn: Connection) -> None:
            self.holds_write_lock = False

        event.listen(connection, "before_cursor_execute", before_cursor_execute)
        event.listen(connection, "commit", transaction_ended)
        event.listen(connection, "rollback", transaction_ended)

    def _mine(self, statement: Update) -> Update:
        """Only this run's writes land: a worker that lost the job (taken over as stale) changes nothing."""
        return statement.where(
            col(Job.id) == self.job_id,
            col(Job.attempt) == self.attempt,
            col(Job.status) == JobStatus.running.value,
        )

    def _flush_loop(self) -> None:
        written_version = 0
        last_beat = time.monotonic()
        while not self.stopped.wait(FLUSH_INTERVAL):
            with self.lock:
                version, done, total, message = self.version, self.done, self.total, self.message
            beat_due = time.monotonic() - last_beat >= HEARTBEAT_INTERVAL
            if (version == written_version and not beat_due) or self.holds_write_lock:
                continue
            values: dict[str, Any] = {"done": done, "message": message, "heartbeat_at": utcnow()}
            if total is not None:
                values["total"] = total
            if self._write_quickly(self._mine(update(Job)).values(**values)):
                written_version = version
                last_beat = time.monotonic()

    def _write_quickly(self, statement: Update) -> bool:
        """One short transaction; on SQLite it gives up after QUICK_WAIT_MS rather than queue behind a
        long writer (the next flush tries again)."""
        try:
            with self.engine.connect() as connection:
                if self.sqlite:  # a deferred BEGIN has no lock yet, so this applies to the update's wait
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={QUICK_WAIT_MS}")
                try:
                    connection.execute(statement)
                    connection.commit()
                finally:
                    if self.sqlite:
                        connection.rollback()
                        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                        connection.rollback()
        except OperationalError:
            return False
        return True

    def _finish_failed(self, error: str) -> None:
        done, total, message = self.snapshot()
        values: dict[str, Any] = {
            "status": JobStatus.failed.value,
            "error": error[:4000],
            "done": done,
            "message": message,
            "finished_at": utcnow(),
            "heartbeat_at": utcnow(),
        }
        if total is not None:
            values["total"] = total
        with Session(writer_engine(self.engine)) as session:
            session.exec(self._mine(update(Job)).values(**values))
            session.commit()


def live_progress(job_id: int) -> tuple[int, int | None, str] | None:
    """(done, total, message) of a run of this job in this process, if there is one."""
    with _LIVE_LOCK:
        run = _LIVE.get(job_id)
    return run.snapshot() if run is not None else None
