"""A large roster (more than LARGE_IMPORT_ROWS rows) is imported as a background job with progress: the
uploaded file travels in the job's payload, encrypted like every other piece of personal data at rest,
and the job's result (the row-numbered report, or what was done) is shown on the class's import page."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend import i18n, security
from backend.cohorts.enrolment_import import ImportOutcome, import_roster
from backend.cohorts.roster_file import read_roster
from backend.config import Settings, get_settings
from backend.errors import NotFound
from backend.i18n import _
from backend.jobs.service import ProgressFn, create_job, register_handler, start_after_commit
from backend.models import Job, User
from backend.spreadsheets import ImportProblem

LARGE_IMPORT_ROWS = 200
JOB_KIND = "cohorts.enrolment_import"

# The settings of the app that started a job, by database: a handler gets only (session, job, progress)
# and needs the app's secret key and public address. A job resumed after a restart, before any upload
# in this process, uses the process's configured settings (what the app itself was created with).
_SETTINGS_BY_DATABASE: dict[str, Settings] = {}


def _database_key(bind: object) -> str:
    """The database's address (password hidden) from an Engine or a Connection."""
    url = getattr(getattr(bind, "engine", bind), "url", None)
    return url.render_as_string(hide_password=True) if url is not None else ""


def _settings_for(session: Session) -> Settings:
    return _SETTINGS_BY_DATABASE.get(_database_key(session.get_bind())) or get_settings()


def start_import_job(
    request: Request,
    session: Session,
    *,
    settings: Settings,
    actor: User,
    cohort_id: int,
    data: bytes,
    filename: str,
    rows: int,
) -> int:
    """Queue the import; it starts once this request has committed. Returns the job id."""
    engine: Engine = request.app.state.engine
    _SETTINGS_BY_DATABASE[_database_key(engine)] = settings
    sealed = security.encrypt_field(settings.secret_key, base64.b64encode(data).decode())
    payload = {
        "title": _("Importing %(n)d trainees") % {"n": rows},
        "cohort_id": cohort_id,
        "filename": filename,
        "file": sealed,
        "locale": i18n.current_locale.get(),
        "ip": request.client.host if request.client else "",
    }
    job = create_job(session, kind=JOB_KIND, owner=actor, payload=payload, total=rows)
    start_after_commit(request, job)
    assert job.id is not None
    return job.id


def outcome_as_result(outcome: ImportOutcome, *, cohort_id: int, job_id: int | None) -> dict[str, Any]:
    if outcome.ok:
        # The job runner sends the emails the import queued as soon as the job has committed (as a route
        # does after its request), so the set-your-password links are on their way once this is shown.
        message = _(
            "%(n)d trainees enrolled; %(created)d new accounts were created and sent a link to set a password."
        ) % {
            "n": outcome.enrolled,
            "created": outcome.accounts_created,
        }
    else:
        message = _("Nothing was imported: the file has %(n)d problems.") % {"n": len(outcome.problems)}
    return {
        "message": message,
        "url": f"/admin/classes/{cohort_id}/import?job={job_id}",
        "ok": outcome.ok,
        "rows": outcome.rows,
        "enrolled": outcome.enrolled,
        "accounts_created": outcome.accounts_created,
        "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in outcome.problems],
    }


def outcome_from_result(result: dict[str, Any]) -> ImportOutcome:
    return ImportOutcome(
        rows=int(result.get("rows", 0)),
        problems=[
            ImportProblem(p.get("row"), p.get("column"), str(p.get("message", "")))
            for p in result.get("problems", [])
        ],
        enrolled=int(result.get("enrolled", 0)),
        accounts_created=int(result.get("accounts_created", 0)),
    )


def run_import_job(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
    """The job handler: read the sealed file, check every row, import when all are valid."""
    settings = _settings_for(session)
    payload = job.payload
    token = i18n.current_locale.set(str(payload.get("locale") or i18n.DEFAULT_LOCALE))
    try:
        cohort_id = int(payload["cohort_id"])
        opened = security.decrypt_field(settings.secret_key, str(payload.get("file", "")))
        if opened is None:
            raise NotFound(_("The uploaded file could not be read back; upload it again."))
        rows, problems = read_roster(base64.b64decode(opened), str(payload.get("filename", "")))
        progress(0, _("Checking %(n)d rows") % {"n": len(rows)}, total=len(rows))
        actor = session.get(User, job.owner_id) if job.owner_id else None
        if problems or actor is None:
            outcome = ImportOutcome(rows=len(rows), problems=problems)
        else:
            outcome = import_roster(
                session,
                settings=settings,
                cohort_id=cohort_id,
                rows=rows,
                actor=actor,
                ip=str(payload.get("ip", "")),
                progress=lambda done, message: progress(done, message),
            )
        return outcome_as_result(outcome, cohort_id=cohort_id, job_id=job.id)
    finally:
        i18n.current_locale.reset(token)


def outcome_of_job(session: Session, *, job_id: int, cohort_id: int) -> ImportOutcome | None:
    """The finished import job's outcome, for the class's import page (None while it runs)."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND or job.payload.get("cohort_id") != cohort_id:
        raise NotFound(_("No such import."))
    return outcome_from_result(job.result) if job.result else None


register_handler(JOB_KIND, run_import_job)
