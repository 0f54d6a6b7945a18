"""Periodic upkeep that every app process runs in daemon threads when `run_jobs_on_startup` is on (off in
tests): overdue exam attempts are submitted, the outbox is delivered, expiry reminders are sent. Each task
is safe in several processes at once (row locks, claimed messages, unique reminder records), so running
many app processes needs no coordinator; the same tasks exist as commands for cron (docs/operations.md).
A task that fails is logged and tried again at its next turn; it never stops the app."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from backend.config import Settings

log = logging.getLogger("academy.maintenance")


@dataclass(frozen=True)
class Task:
    name: str
    every_seconds: float
    run: Callable[[], object]


def tasks(engine: Engine, settings: Settings) -> list[Task]:
    from backend.exams.sweep import sweep_overdue_attempts
    from backend.notifications.service import deliver_all
    from backend.renewal.reminders import run_once as send_renewal_reminders

    return [
        Task("exam-sweep", 300, lambda: sweep_overdue_attempts(engine, settings)),
        Task("outbox", 300, lambda: deliver_all(engine, settings)),
        Task("renewal-reminders", 6 * 3600, lambda: send_renewal_reminders(engine, settings)),
    ]


def run_task(task: Task) -> bool:
    """Run one task once; False (and a log line) when it failed."""
    try:
        task.run()
    except Exception:
        log.warning(
            "periodic task %s failed; it runs again in %d s", task.name, task.every_seconds, exc_info=True
        )
        return False
    return True


def start(engine: Engine, settings: Settings) -> list[threading.Thread]:
    """Start one daemon thread per task: it runs now, then every `every_seconds`."""

    def loop(task: Task) -> None:
        while True:
            run_task(task)
            time.sleep(task.every_seconds)

    threads = [
        threading.Thread(target=loop, args=(task,), name=f"academy-{task.name}", daemon=True)
        for task in tasks(engine, settings)
    ]
    for thread in threads:
        thread.start()
    return threads
