"""Administrators' roster pages: the filtered list and its export (streamed, or a background job for a big
one), the legacy import with its row-numbered report, and the target shown on /roster."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlmodel import Session

from backend import i18n
from backend.accounts.deps import AdminUser, SettingsDep, get_admin_user
from backend.config import Settings
from backend.db import SessionDep
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.jobs.service import job_public, job_url
from backend.models import User
from backend.roster import export_jobs, import_jobs, legacy_import, service, stats
from backend.roster.export import BIG_EXPORT_ROWS, ExportSpec, record_export, stream_export
from backend.roster.legacy_file import HEADER_ALIASES, column_label, read_legacy_file
from backend.roster.schemas import ImportOutcome, RosterFilter, RosterSettingsForm
from backend.spreadsheets import ImportProblem
from backend.web import redirect, render

router = APIRouter(prefix="/admin/roster", tags=["roster"], dependencies=[Depends(get_admin_user)])
MAX_UPLOAD_BYTES = 30 * 1024 * 1024
TEMPLATE_COLUMNS = ("姓名", "身份证号", "证书编号", "级别", "发证日期", "有效期至", "单位", "地区", "状态")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def helpers() -> dict[str, Any]:
    return {
        "level_label": service.level_label,
        "state_label": service.state_label,
        "source_label": service.source_label,
        "certificate_state": service.certificate_state,
    }


# ---- the list and its export -------------------------------------------------------------------------


@router.get("")
def roster_list(
    request: Request,
    session: SessionDep,
    level: str = "",
    year: str = "",
    region: str = "",
    state: str = "",
    source: str = "",
    q: str = "",
    page: int = 1,
) -> Response:
    roster_filter = RosterFilter.from_params(
        level=level, year=year, region=region, state=state, source=source, q=q
    )
    result = service.admin_page(session, roster_filter, page=page)
    valid = (
        None if roster_filter.state else service.count_rows(session, replace(roster_filter, state="valid"))
    )
    query = "&".join(f"{key}={quote(value)}" for key, value in roster_filter.as_params().items())
    context = {
        "result": result,
        "valid": valid,
        "filter": roster_filter,
        "query": query,
        "choices": service.filter_choices(session),
        "big": result.total > BIG_EXPORT_ROWS,
        "big_rows": BIG_EXPORT_ROWS,
        "columns": "en" if i18n.current_locale.get() == "en" else "zh",
        **helpers(),
    }
    return render(request, "roster/admin_list.html", context, block="results")


@router.post("/export")
def export_roster(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    level: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    q: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "csv",
    columns: Annotated[str, Form()] = "zh",
    full_ids: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "download",
) -> Response:
    roster_filter = RosterFilter.from_params(
        level=level, year=year, region=region, state=state, source=source, q=q
    )
    spec = ExportSpec(
        roster_filter=roster_filter,
        format="xlsx" if format == "xlsx" else "csv",
        lang="en" if columns == "en" else "zh",
        full_ids=full_ids in ("1", "on", "true"),
    )
    rows = service.count_rows(session, roster_filter, on=spec.on)
    if mode == "background":
        job = export_jobs.start_export_job(request, session, actor=actor, spec=spec, rows=rows)
        return redirect(
            request, job_url(job), flash=_("The export is being prepared; this page shows its progress.")
        )
    record_export(session, actor=actor, spec=spec, rows=rows, ip=client_ip(request))
    return file_response(request, spec, settings)


@router.get("/exports/{job_id:int}")
def download_export(session: SessionDep, settings: SettingsDep, user: AdminUser, job_id: int) -> Response:
    path, name, media_type = export_jobs.export_file(session, settings=settings, job_id=job_id, user=user)
    return FileResponse(
        path, media_type=media_type or None, filename=name, headers={"Cache-Control": "no-store"}
    )


def streamed_export(
    request: Request, session: Session, *, settings: Settings, actor: User, spec: ExportSpec, via: str
) -> Response:
    """For a GET (the API): its transaction only reads, so the audit record gets its own writing one."""
    rows = service.count_rows(session, spec.roster_filter, on=spec.on)
    with Session(request.app.state.writer_engine) as writer:
        record_export(writer, actor=actor, spec=spec, rows=rows, ip=client_ip(request), via=via)
        writer.commit()
    return file_response(request, spec, settings)


def file_response(request: Request, spec: ExportSpec, settings: Settings) -> Response:
    disposition = (
        f"attachment; filename=\"roster.{spec.extension}\"; filename*=UTF-8''{quote(spec.filename())}"
    )
    return StreamingResponse(
        stream_export(request.app.state.engine, spec, settings.secret_key),
        media_type=spec.media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


# ---- the legacy import --------------------------------------------------------------------------------


def _import_context(**extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "outcome": None,
        "filename": "",
        "job": None,
        "large_rows": import_jobs.LARGE_IMPORT_ROWS,
        "column_label": column_label,
        "aliases": HEADER_ALIASES,
    }
    context.update(extra)
    return context


@router.get("/import")
def import_page(request: Request, session: SessionDep, user: AdminUser, job: int | None = None) -> Response:
    extra: dict[str, Any] = {}
    if job is not None:
        row, outcome = import_jobs.outcome_of_job(session, job_id=job, user=user)
        extra = {"job": job_public(row), "outcome": outcome, "filename": row.payload.get("filename", "")}
    return render(request, "roster/import.html", _import_context(**extra))


@router.post("/import")
def import_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: AdminUser,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    filename = (file.filename or "") if file is not None else ""
    data = file.file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
    if len(data) > MAX_UPLOAD_BYTES:
        outcome = ImportOutcome(
            problems=[ImportProblem(None, None, _("The file is larger than 30 MB: split it."))]
        )
        return render(
            request,
            "roster/import.html",
            _import_context(outcome=outcome, filename=filename),
            status_code=422,
        )
    rows, problems = read_legacy_file(data)
    if not problems and len(rows) > import_jobs.LARGE_IMPORT_ROWS:
        job = import_jobs.start_import_job(
            request, session, settings=settings, actor=actor, data=data, filename=filename, rows=len(rows)
        )
        return redirect(
            request, job_url(job), flash=_("The import is running; this page shows its progress.")
        )
    if problems:
        outcome = ImportOutcome(rows=len(rows), problems=problems)
    else:
        outcome = legacy_import.import_legacy(
            session, settings=settings, rows=rows, actor=actor, filename=filename, ip=client_ip(request)
        )
    if not outcome.ok:
        return render(
            request,
            "roster/import.html",
            _import_context(outcome=outcome, filename=filename),
            status_code=422,
        )
    message = _("%(n)d records were imported into the roster.") % {"n": outcome.imported}
    return redirect(request, "/admin/roster?source=legacy", flash=message)


@router.get("/import/template.csv")
def import_template() -> Response:
    content = ("\ufeff" + ",".join(TEMPLATE_COLUMNS) + "\r\n").encode()
    disposition = "attachment; filename=\"legacy-roster.csv\"; filename*=UTF-8''" + quote(
        "证书名册导入模板.csv"
    )
    return Response(
        content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


# ---- the target ---------------------------------------------------------------------------------------


@router.get("/settings")
def settings_page(request: Request, session: SessionDep) -> Response:
    row = service.roster_settings(session)
    form = RosterSettingsForm(
        target_count="" if row.target_count is None else str(row.target_count), target_label=row.target_label
    )
    return render(request, "roster/settings.html", {"form": form, "errors": {}})


@router.post("/settings")
def save_settings(
    request: Request, session: SessionDep, actor: AdminUser, form: Annotated[RosterSettingsForm, Form()]
) -> Response:
    try:
        service.update_settings(session, form=form, actor=actor, ip=client_ip(request))
    except ValidationFailed as error:
        return render(
            request, "roster/settings.html", {"form": form, "errors": error.errors}, status_code=422
        )
    stats.invalidate()
    return redirect(request, "/admin/roster/settings", flash=_("The target has been saved."))
