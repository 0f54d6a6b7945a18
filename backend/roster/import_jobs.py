"""A big legacy import (more than LARGE_IMPORT_ROWS rows) as a background job with progress. The uploaded
file waits in the data dir, encrypted like all personal data at rest (mode 0600), and is deleted when the job
has run; the job's row only names it. (A handler must not write to its own job row: the runner's progress
thread updates that row and is waited for before the commit, so on PostgreSQL that would deadlock.)"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlmodel import Session

from backend import i18n, security
from backend.config import Settings
from backend.errors import NotFound
from backend.i18n import _
from backend.jobs.service import ProgressFn, create_job, job_settings, register_handler, start_after_commit
from backend.models import Job, User
from backend.roster.legacy_file import read_legacy_file
from backend.roster.legacy_import import import_legacy
from backend.roster.schemas import ImportOutcome
from backend.spreadsheets import ImportProblem

JOB_KIND = "roster.legacy_import"
LARGE_IMPORT_ROWS = 500  # more rows than this: a background job with progress
MAX_REPORTED = 1000  # a job keeps this many problems in its result


def upload_dir(settings: Settings) -> Path:
    return settings.data_dir / "uploads" / "roster"


def start_import_job(
    request: Request,
    session: Session,
    *,
    settings: Settings,
    actor: User,
    data: bytes,
    filename: str,
    rows: int,
) -> Job:
    """Queue the import of a big file; it starts once this request has committed."""
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"legacy-{secrets.token_urlsafe(16)}.sealed"
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(security.encrypt_field(settings.secret_key, base64.b64encode(data).decode()))
    payload = {
        "title": _("Importing %(n)d records into the roster") % {"n": rows},
        "filename": filename[:200],
        "upload": name,
        "locale": i18n.current_locale.get(),
        "ip": request.client.host if request.client else "",
    }
    job = create_job(session, kind=JOB_KIND, owner=actor, payload=payload, total=rows)
    start_after_commit(request, job)
    return job


def outcome_as_result(outcome: ImportOutcome, *, job_id: int | None) -> dict[str, Any]:
    if outcome.ok:
        message = _("%(n)d records were imported into the roster.") % {"n": outcome.imported}
    else:
        message = _("Nothing was imported: the file has %(n)d problems.") % {"n": len(outcome.problems)}
    return {
        "message": message,
        "url": f"/admin/roster/import?job={job_id}",
        "ok": outcome.ok,
        "rows": outcome.rows,
        "imported": outcome.imported,
        "problem_count": len(outcome.problems),
        "problems": [
            {"row": p.row, "column": p.column, "message": p.message} for p in outcome.problems[:MAX_REPORTED]
        ],
    }


def outcome_from_result(result: dict[str, Any]) -> ImportOutcome:
    problems = [
        ImportProblem(p.get("row"), p.get("column"), str(p.get("message", "")))
        for p in result.get("problems", [])
    ]
    return ImportOutcome(
        rows=int(result.get("rows", 0)), problems=problems, imported=int(result.get("imported", 0))
    )


def run_import_job(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
    settings = job_settings(session)
    payload = job.payload
    token = i18n.current_locale.set(str(payload.get("locale") or i18n.DEFAULT_LOCALE))
    path = upload_dir(settings) / Path(str(payload.get("upload", ""))).name
    try:
        sealed = path.read_text() if path.is_file() else ""
        opened = security.decrypt_field(settings.secret_key, sealed)
        if opened is None:
            raise NotFound(_("The uploaded file could not be read back; upload it again."))
        rows, problems = read_legacy_file(base64.b64decode(opened))
        progress(0, _("Checking %(n)d rows") % {"n": len(rows)}, total=len(rows))
        actor = session.get(User, job.owner_id) if job.owner_id else None
        if problems:
            outcome = ImportOutcome(rows=len(rows), problems=problems)
        else:
            outcome = import_legacy(
                session,
                settings=settings,
                rows=rows,
                actor=actor,
                filename=str(payload.get("filename", "")),
                ip=str(payload.get("ip", "")),
                progress=lambda done, message: progress(done, message),
            )
        return outcome_as_result(outcome, job_id=job.id)
    finally:
        # Gone once the job has run (a crash skips this, so a resumed job still finds it).
        path.unlink(missing_ok=True)
        i18n.current_locale.reset(token)


def outcome_of_job(session: Session, *, job_id: int, user: User) -> tuple[Job, ImportOutcome | None]:
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND:
        raise NotFound(_("No such import."))
    return job, outcome_from_result(job.result) if job.result else None


register_handler(JOB_KIND, run_import_job)
