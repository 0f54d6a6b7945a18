"""The roster for everyone: /roster (totals, charts, target and the opt-in directory), the holder's opt-in
at /me/directory (shown on /me), and the JSON API. Administrators' pages: admin_routes.py. `routers` is
what create_app() includes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response, StreamingResponse

from backend.accounts.deps import ApiAdmin, CurrentUser, SettingsDep
from backend.certificates.credential import level_name
from backend.config import Settings
from backend.db import SessionDep
from backend.i18n import _
from backend.roster import charts, directory, service, stats
from backend.roster.admin_routes import router as admin_router
from backend.roster.admin_routes import streamed_export
from backend.roster.export import ExportSpec
from backend.roster.schemas import RosterFilter, RosterPagePublic, RosterStatsPublic
from backend.web import is_htmx, redirect, render

public = APIRouter(tags=["roster"])
api = APIRouter(prefix="/api/v1/roster", tags=["roster"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def use_cache(settings: Settings) -> bool:
    # The test suite changes the roster between requests within a second; everywhere else a few
    # seconds' delay on the totals is fine.
    return settings.env != "test"


def page_helpers() -> dict[str, Any]:
    return {
        "level_name": level_name,
        "level_label": service.level_label,
        "state_label": service.state_label,
        "source_label": service.source_label,
        "certificate_state": service.certificate_state,
    }


# ---- /roster ------------------------------------------------------------------------------------------


@public.get("/roster")
def roster_page(
    request: Request, session: SessionDep, settings: SettingsDep, q: str = "", page: int = 1
) -> Response:
    totals = stats.roster_stats(session, cache=use_cache(settings))
    context = {
        "stats": totals,
        "target": service.target(session, reached=totals.valid),
        "year_chart": charts.column_chart(
            totals.by_year, chart_id="chart-years", title=_("Valid certificates by year of issue"), width=960
        ),
        "level_chart": charts.row_chart(
            totals.by_level, chart_id="chart-levels", title=_("Valid certificates by level"), width=520
        ),
        "result": directory.directory_page(session, q=q, page=page),
        "q": q.strip(),
        **page_helpers(),
    }
    return render(request, "roster/roster.html", context, block="directory")


# ---- the holder's opt-in ------------------------------------------------------------------------------


def _listing_context(session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return {
        "listed": service.is_listed(session, user=user),
        "held": service.certificates_of_holder(session, user=user),
        **page_helpers(),
    }


@public.get("/me/directory")
def my_listing(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(
        request, "roster/me_directory.html", _listing_context(session, user), block="directory_listing"
    )


@public.post("/me/directory")
def set_my_listing(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    listed: Annotated[str, Form()] = "",
) -> Response:
    wanted = listed in ("1", "true", "on", "yes")
    service.set_listed(session, user=user, listed=wanted, ip=client_ip(request))
    if is_htmx(request) and request.headers.get("HX-Target") == "directory_listing":
        context = {**_listing_context(session, user), "saved": True}
        return render(request, "roster/me_directory.html", context, block="directory_listing")
    message = (
        _("You are listed in the public roster.")
        if wanted
        else _("You are no longer listed in the public roster.")
    )
    return redirect(request, "/me/directory", flash=message)


# ---- JSON -----------------------------------------------------------------------------------------------


@api.get("", response_model=RosterPagePublic)
def api_roster(
    session: SessionDep,
    settings: SettingsDep,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    region: str = "",
    source: Literal["", "issued", "legacy"] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=directory.API_MAX_PAGE_SIZE)] = directory.API_PAGE_SIZE,
) -> RosterPagePublic:
    """Valid certificates, newest first. Holders who opted in are shown by name with number and dates;
    everyone else only with a masked name, level, year and region. `q` searches listed holders only."""
    roster_filter = RosterFilter(level=level, year=year, region=region.strip(), source=source, q=q.strip())
    total, items = directory.api_page(
        session, roster_filter=roster_filter, settings=settings, page=page, page_size=page_size
    )
    return RosterPagePublic(total=total, page=page, page_size=page_size, items=items)


@api.get("/stats", response_model=RosterStatsPublic)
def api_stats(session: SessionDep, settings: SettingsDep) -> RosterStatsPublic:
    """The totals /roster shows: valid certificates (not revoked, not past their date), by level, year
    of issue and region, with the training base's target."""
    totals = stats.roster_stats(session, cache=use_cache(settings))
    return stats.stats_public(totals, service.target(session, reached=totals.valid))


@api.get("/export", response_class=StreamingResponse)
def api_export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ApiAdmin,
    format: Literal["csv", "xlsx"] = "csv",
    columns: Literal["zh", "en"] = "zh",
    full_ids: bool = False,
    level: Annotated[int | None, Query(ge=1, le=3)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    region: str = "",
    status: Literal["", "valid", "expired", "revoked", "superseded"] = "",
    source: Literal["", "issued", "legacy"] = "",
) -> Response:
    """The roster as a file, streamed (administrators). With `full_ids` the ID numbers are decrypted, and
    that is audit-logged as roster.exported_full_ids with the filters and the row count."""
    roster_filter = RosterFilter(level=level, year=year, region=region.strip(), state=status, source=source)
    spec = ExportSpec(roster_filter=roster_filter, format=format, lang=columns, full_ids=full_ids)
    return streamed_export(request, session, settings=settings, actor=actor, spec=spec, via="api")


routers = (public, api, admin_router)
