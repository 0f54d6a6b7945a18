"""Database engine (SQLite with WAL, foreign keys and a busy timeout; or PostgreSQL) and the
session dependency.

Writers on SQLite. Every writing transaction begins with BEGIN IMMEDIATE (see `writer_engine`), and SQLite
admits one writer at a time. Left to SQLite alone, the others poll the lock with growing sleeps (1, 2, 5 ...
100 ms) under `busy_timeout`: under a burst of writes (an exam class autosaving) most of the time goes to
sleeping and the slowest writers run out of timeout ("database is locked"). So writers queue before they ask
SQLite: in each process on a lock, and across the processes of one database (uvicorn workers, a CLI command)
on an advisory file lock next to the database file, which wakes the next writer as soon as one commits.
SQLite's own busy timeout stays as the last resort (a process that does not take the file lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

try:  # the advisory lock between processes; POSIX only (elsewhere the per-process lock still queues)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_TIMEOUT_S = SQLITE_BUSY_TIMEOUT_MS / 1000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Threads that may run request handlers at once (anyio's thread limiter, set in main.py) and database
# connections per process: a handler never waits for a connection longer than for a thread.
REQUEST_THREADS = 40
SQLITE_POOL = {"pool_size": REQUEST_THREADS, "max_overflow": 10, "pool_timeout": 60}
POSTGRES_POOL = {"pool_size": 20, "max_overflow": 20, "pool_timeout": 60}
_HOLDS_WRITE_LOCK = "academy_holds_write_lock"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database if parsed.database and parsed.database != ":memory:" else None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **(SQLITE_POOL if path else {}),
        )
        lock = _write_lock_for(path)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda connection: _sqlite_begin(connection, lock))
        _release_write_lock_after_transactions(engine, lock)
        return engine
    if parsed.drivername in ("postgresql", "postgres"):
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **POSTGRES_POOL)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Autocommit at the driver level; SQLAlchemy's "begin" event below issues the BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any, lock: WriteLock) -> None:
    # A writing request begins with BEGIN IMMEDIATE: it takes the write lock up front, so two writers
    # queue instead of failing when a read snapshot tries to upgrade to a write. Reading requests keep a
    # plain BEGIN and run side by side under WAL. (Issued on the driver connection: going through
    # SQLAlchemy's statement execution for it costs more than the BEGIN itself.)
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    proxied = connection.connection
    if immediate and not proxied.info.get(_HOLDS_WRITE_LOCK):
        lock.acquire()
        proxied.info[_HOLDS_WRITE_LOCK] = True
    try:
        proxied.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    except BaseException:
        if proxied.info.pop(_HOLDS_WRITE_LOCK, False):
            lock.release()
        raise


def _release_write_lock_after_transactions(engine: Engine, lock: WriteLock) -> None:
    """The queue's lock is handed on right after the COMMIT or ROLLBACK that ends the transaction (and, as
    a safety net, when the connection goes back to the pool or is thrown away)."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def release(proxied: Any) -> None:
        try:
            info = proxied.info
        except (AttributeError, NotImplementedError):  # a bare connection (the engine's first connect)
            return
        if info.pop(_HOLDS_WRITE_LOCK, False):
            lock.release()

    def do_commit(proxied: Any) -> None:
        try:
            commit(proxied)
        finally:
            release(proxied)

    def do_rollback(proxied: Any) -> None:
        try:
            rollback(proxied)
        finally:
            release(proxied)

    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]

    def on_dead_connection(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record is not None and record.info.pop(_HOLDS_WRITE_LOCK, False):
            lock.release()

    event.listen(engine, "checkin", on_dead_connection)
    event.listen(engine, "invalidate", on_dead_connection)
    event.listen(engine, "close", on_dead_connection)


class WriteLock:
    """One writer at a time for one SQLite database: a lock in this process, then an advisory lock on
    `<database>.write-lock` between processes. Released by whichever thread ends the transaction (FastAPI
    may run a dependency's setup and teardown in different threads), so not an RLock."""

    def __init__(self, path: str | None) -> None:
        self._local = threading.Lock()
        self._file = f"{path}.write-lock" if path and fcntl is not None else None
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout: float = WRITE_LOCK_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        if not self._local.acquire(timeout=timeout):
            raise _locked()
        try:
            self._acquire_file(deadline)
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._local.release()

    def _acquire_file(self, deadline: float) -> None:
        if self._file is None:
            return
        if self._fd is None or self._pid != os.getpid() or self._fd_is_stale():
            # (A forked child shares its parent's open file, and with it the lock: it opens its own.)
            if self._fd is not None:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            self._fd = os.open(self._file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        pause = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def _fd_is_stale(self) -> bool:
        # The lock file was removed (a test's temporary directory, say): lock the file that is there now.
        try:
            return os.fstat(self._fd or 0).st_ino != os.stat(self._file or "").st_ino
        except OSError:
            return True


_write_locks: dict[str | None, WriteLock] = {}
_write_locks_guard = threading.Lock()


def _write_lock_for(path: str | None) -> WriteLock:
    """The same lock for every engine of one database file in this process."""
    key = os.path.realpath(path) if path else None
    with _write_locks_guard:
        if key is None:  # an in-memory database is private to its engine
            return WriteLock(None)
        if key not in _write_locks:
            _write_locks[key] = WriteLock(key)
        return _write_locks[key]


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked (write queue timeout)"))


def writer_engine(engine: Engine) -> Engine:
    """The engine to use for a transaction that will write (same pool, BEGIN IMMEDIATE on SQLite)."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises.

    An async dependency, so that opening and closing the session costs no trip through the thread pool.
    On SQLite a writing request first queues (in the event loop, holding no thread) for this process's
    turn to write; a writer therefore never waits on a lock while it occupies one of the threads that the
    writer ahead of it needs to finish."""
    state = request.app.state
    writing = request.method not in SAFE_METHODS
    engine: Engine = state.writer_engine if writing else state.engine
    queue_owner: WriteQueue | None = getattr(state, "write_queue", None) if writing else None
    queue = queue_owner.lock() if queue_owner is not None else None
    if queue is not None:
        await queue.acquire()
    try:
        session = Session(engine, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await _finish(session, commit=False, inline=False)
            raise
        # Ending a read on SQLite is a few microseconds in-process; anything else may wait on I/O.
        await _finish(session, commit=True, inline=not writing and engine.dialect.name == "sqlite")
    finally:
        if queue is not None:
            queue.release()


async def _finish(session: Session, *, commit: bool, inline: bool) -> None:
    if not session.in_transaction() or inline:
        _end(session, commit)
    else:
        await run_in_threadpool(_end, session, commit)


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


class WriteQueue:
    """Writing requests of one process take turns on SQLite (see get_session). One asyncio lock per event
    loop: a server process has one loop; a test may drive the app from several threads, each with its own
    loop, and then the per-process WriteLock at BEGIN is what makes them take turns."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._guard = threading.Lock()

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            found = self._locks.get(loop)
            if found is None:
                found = self._locks[loop] = asyncio.Lock()
            return found


def write_queue(engine: Engine) -> WriteQueue | None:
    """For app.state.write_queue: None on PostgreSQL, whose writers wait on row locks."""
    return WriteQueue() if engine.dialect.name == "sqlite" else None


async def run_read(request: Request, session: Session, func: Callable[..., T], *args: Any) -> T:
    """Run a read-only page's work, `func(*args)` (its queries and rendering), and end its read
    transaction: in the event loop on SQLite, in one trip to the thread pool on PostgreSQL.

    On SQLite a read is an in-process call on a local file that never waits for a lock (WAL mode: readers
    do not wait for the writer), so the trip to a thread costs more than the queries. Worse, with many
    requests at once, threads that give up the GIL around every query and take it back add milliseconds of
    CPU per request (measured on the module page with 16 connections: 8.5 ms of server CPU a view through
    the thread pool, 2.9 ms in the loop). On PostgreSQL a query waits on the network, which the event loop
    must not do; ending the transaction in the same trip saves the second trip `get_session` would make.
    `func` must not write: a write may wait for SQLite's write lock, and the loop would wait with it."""

    def read() -> T:
        result = func(*args)
        session.commit()  # a read: ends the snapshot and hands the connection back to the pool
        return result

    if request.app.state.engine.dialect.name == "sqlite":
        return read()
    return await run_in_threadpool(read)


# scope="function": the commit happens when the handler returns and BEFORE the response is sent, so a
# client never sees a redirect or a "saved" for a write that then fails or is not yet visible.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
