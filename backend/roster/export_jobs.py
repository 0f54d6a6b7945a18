"""A big export as a background job: the file is written into `{data_dir}/exports/roster/` (mode 0600) with
progress on /jobs/{id}, and downloaded by the administrator who asked for it (nobody else) for
EXPORT_KEEP hours; older files are removed when the next export job runs."""

from __future__ import annotations

import os
import secrets
import time
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlmodel import Session

from backend import i18n
from backend.config import Settings
from backend.errors import NotFound
from backend.i18n import _
from backend.jobs.service import ProgressFn, create_job, job_settings, register_handler, start_after_commit
from backend.models import Job, JobStatus, User
from backend.roster.export import ExportSpec, record_export, write_export
from backend.roster.schemas import RosterFilter
from backend.roster.service import count_rows

JOB_KIND = "roster.export"
EXPORT_KEEP_HOURS = 24


def export_dir(settings: Settings) -> Path:
    return settings.data_dir / "exports" / "roster"


def start_export_job(request: Request, session: Session, *, actor: User, spec: ExportSpec, rows: int) -> Job:
    payload = {
        "title": _("Exporting the roster (%(n)d rows)") % {"n": rows},
        "filters": spec.roster_filter.as_params(),
        "format": spec.extension,
        "lang": spec.lang,
        "full_ids": spec.full_ids,
        "on": spec.on.isoformat(),
        "locale": i18n.current_locale.get(),
        "ip": request.client.host if request.client else "",
    }
    job = create_job(session, kind=JOB_KIND, owner=actor, payload=payload, total=rows)
    start_after_commit(request, job)
    return job


def spec_of(payload: dict[str, Any]) -> ExportSpec:
    filters = payload.get("filters") or {}
    return ExportSpec(
        roster_filter=RosterFilter.from_params(
            **{key: filters.get(key) for key in RosterFilter.__dataclass_fields__}
        ),
        format="xlsx" if payload.get("format") == "xlsx" else "csv",
        lang="en" if payload.get("lang") == "en" else "zh",
        full_ids=bool(payload.get("full_ids")),
        on=date.fromisoformat(str(payload["on"])),
    )


def remove_old_files(folder: Path, *, hours: float = EXPORT_KEEP_HOURS) -> None:
    cutoff = time.time() - hours * 3600
    for path in folder.glob("roster-*"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def run_export_job(session: Session, job: Job, progress: ProgressFn) -> dict[str, Any]:
    settings = job_settings(session)
    token = i18n.current_locale.set(str(job.payload.get("locale") or i18n.DEFAULT_LOCALE))
    try:
        spec = spec_of(job.payload)
        folder = export_dir(settings)
        folder.mkdir(parents=True, exist_ok=True)
        remove_old_files(folder)
        total = count_rows(session, spec.roster_filter, on=spec.on)
        message = _("Writing the roster file")
        progress(0, message, total=total)
        path = folder / f"roster-{job.id}-{secrets.token_urlsafe(12)}.{spec.extension}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                rows = write_export(
                    handle, session, spec, settings.secret_key, lambda done: progress(done, message)
                )
            actor = session.get(User, job.owner_id) if job.owner_id else None
            record_export(
                session, actor=actor, spec=spec, rows=rows, ip=str(job.payload.get("ip", "")), via="job"
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return {
            "message": _("The file is ready: %(n)d rows.") % {"n": rows},
            "url": f"/admin/roster/exports/{job.id}",
            "file": path.name,
            "download_name": spec.filename(),
            "media_type": spec.media_type,
            "rows": rows,
        }
    finally:
        i18n.current_locale.reset(token)


def export_file(session: Session, *, settings: Settings, job_id: int, user: User) -> tuple[Path, str, str]:
    """(path, download name, media type) of a finished export job, for the administrator who started it."""
    job = session.get(Job, job_id)
    if job is None or job.kind != JOB_KIND or job.owner_id != user.id:
        raise NotFound(_("No such export."))
    if job.status != JobStatus.done.value or not job.result:
        raise NotFound(_("This export is not finished yet."))
    path = export_dir(settings) / Path(str(job.result.get("file", ""))).name
    if not path.is_file():
        raise NotFound(
            _("The file has been removed (exports are kept for %(n)d hours); export again.")
            % {"n": EXPORT_KEEP_HOURS}
        )
    return path, str(job.result.get("download_name") or path.name), str(job.result.get("media_type") or "")


register_handler(JOB_KIND, run_export_job)
