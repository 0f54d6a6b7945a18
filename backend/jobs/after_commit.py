"""Work that must wait until a transaction has committed: sending the mail a request (or a background
job) queued, starting the job a request created.

FastAPI runs a response's BackgroundTasks while the response is being sent, which is *before* the
session dependency (a dependency with `yield`) leaves its block and commits; a background task would
look for rows that are not committed yet (and, on SQLite, wait on the request's own write lock). So a
route registers the work with `run_after_commit(request, work)`, and this middleware runs it after the
whole request, dependencies included, has finished, in the thread pool, after the response has gone out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.config import Settings

log = logging.getLogger("academy.after_commit")
STATE_KEY = "after_commit"
JOB_HOOKS_KEY = "after_job_commit"


def run_after_commit(request: Request, work: Callable[[], object], *, key: str | None = None) -> None:
    """Run `work()` once this request has finished and its transaction has committed; with a `key`,
    only the first work registered under that key runs (e.g. one delivery for many notifications).

    When the request fails its transaction is rolled back and `work` still runs, so it must look for
    what it needs in the database (and find nothing) rather than assume it is there."""
    pending: dict[str, Callable[[], object]] = request.scope.setdefault("state", {}).setdefault(STATE_KEY, {})
    pending.setdefault(key or f"work-{id(work)}", work)


def after_job_commit(session: Session, hook: Callable[[Engine, Settings], object], *, key: str) -> None:
    """Inside a background job: run `hook(engine, settings)` once the job's transaction has committed
    (one hook per key). Outside a job nothing runs it: a route uses `run_after_commit` instead."""
    session.info.setdefault(JOB_HOOKS_KEY, {}).setdefault(key, hook)


def job_commit_hooks(session: Session) -> list[Callable[[Engine, Settings], object]]:
    """The hooks registered in a job's session, removed from it (for the job runner)."""
    return list(session.info.pop(JOB_HOOKS_KEY, {}).values())


class AfterCommitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] != "http":
            return
        for work in scope.get("state", {}).pop(STATE_KEY, {}).values():
            try:
                await run_in_threadpool(work)
            except Exception:  # the response is already sent: log, never fail the request
                log.exception("work after the request to %s failed", scope.get("path"))
