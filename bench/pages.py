"""Case group `pages`: requests/s and p50/p95/p99 of the app's pages, each beside a bare Jinja2 page of the
same size, on every database and worker count, in interleaved rounds.

Two bare pages: the separate bare app's (bench/baseline_app.py: no middleware, no database), for every
page; and, for the module page (the page with a target), the same page served by the app itself
(bench/app_with_baseline.py), which is what issue #3's target names: "a bare Jinja2 page of the same size
served by the same app". The first ratio says what the app costs in all; the second what the module page's
own work costs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.baseline_app import SAME_APP_PATH
from bench.context import BenchContext
from bench.harness import FAILED, NOT_AVAILABLE, OK, CaseResult, Column, mark_failed, median
from bench.load import LoadResult
from bench.servers import APP_WITH_BASELINE_FACTORY, ServerProcess
from bench.sites import Site, cookie_header, sign_in

TITLE = "Pages: requests/s and latency, as a share of a bare Jinja2 page of the same size"
COLUMNS = [
    Column("db", "db"),
    Column("workers", "workers"),
    Column("page", "page"),
    Column("bytes", "bytes"),
    Column("rps", "req/s", 0),
    Column("p50_ms", "p50 ms"),
    Column("p95_ms", "p95 ms"),
    Column("p99_ms", "p99 ms"),
    Column("baseline_rps", "bare app req/s", 0),
    Column("ratio", "ratio to bare app"),
    Column("same_app_rps", "same-app bare req/s", 0),
    Column("same_app_ratio", "ratio to same-app bare (target ≥ 0.70)"),
    Column("errors", "errors"),
]


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # may hold {number}, filled from the seeded data
    route: str  # the route template that says whether this build has the page
    signed_in: bool = False  # measured with the trainee's session cookie


PAGES = [
    Page("home /", "/", "/"),
    Page("login", "/login", "/login"),
    Page("catalogue", "/courses", "/courses"),
    Page(
        "module",
        "/courses/broker-junior/modules/01-tech-transfer-basics",
        "/courses/{}/modules/{}",
        signed_in=True,
    ),
    Page("me (signed in)", "/me", "/me", signed_in=True),
    Page("healthz", "/healthz", "/healthz"),
    Page("verify/{number}", "/verify/{number}", "/verify/{}"),
    Page("roster", "/roster", "/roster"),
]


@dataclass
class Target:
    page: Page
    url: str
    headers: dict[str, str]
    size: int
    baseline_url: str
    same_app_url: str | None  # the bare page served by the app itself (the target page only)

    def urls(self) -> dict[str, str]:
        urls = {"app": self.url, "baseline": self.baseline_url}
        if self.same_app_url:
            urls["same_app"] = self.same_app_url
        return urls


def run(ctx: BenchContext) -> CaseResult:
    result = CaseResult("pages", TITLE, COLUMNS)
    for db in ctx.databases():
        site = ctx.site(db)
        for workers in ctx.options.workers:
            try:
                result.rows.extend(_measure_configuration(ctx, site, workers))
            except Exception as exc:  # the other configurations are still measured
                mark_failed(result, {"db": db, "workers": workers, "page": "(all)"}, exc)
    result.notes.append(
        f"{ctx.options.rounds} rounds of {ctx.options.seconds:g} s (the module page, which has a target) or "
        f"{ctx.options.other_seconds:g} s (the other pages) per page and server: the app, the separate bare "
        "app and (module page) the same-app bare page one after the other, the order reversed every round; "
        f"{ctx.options.connections} keep-alive connections; "
        "req/s and latencies are medians of the rounds, ratio is the median of the per-round ratios"
    )
    result.notes.append(
        "anonymous pages are requested as a returning browser (CSRF cookie set); module and /me with the "
        "trainee's session cookie from a real sign-in through /login"
    )
    if result.rows and all(row.get("status") == NOT_AVAILABLE for row in result.rows):
        result.status = NOT_AVAILABLE
    failed = [row for row in result.rows if row.get("status") == FAILED]
    if failed:
        result.status = FAILED
        result.reason = result.reason or f"{len(failed)} page figure(s) failed: see the notes in the table"
    return result


def _measure_configuration(ctx: BenchContext, site: Site, workers: int) -> list[dict[str, Any]]:
    ctx.say(f"pages: {site.db}, {workers} worker(s)")
    app = ctx.app_server(site, workers, factory=APP_WITH_BASELINE_FACTORY)
    baseline = ctx.baseline_server(workers, site.env)
    try:
        app.wait_ready()
        baseline.wait_ready()
        if not site.trainee_cookies:
            site.trainee_cookies = sign_in(app.base_url)
        targets, rows = _resolve_targets(ctx, site, app, baseline)
        samples: dict[str, list[dict[str, LoadResult]]] = {t.page.name: [] for t in targets}
        load = ctx.load()
        _warm_up(targets)
        for round_no in range(ctx.options.rounds):
            for target in targets:
                urls = target.urls()
                order = list(urls) if round_no % 2 == 0 else list(reversed(urls))
                results = {}
                for kind in order:
                    # The bare page of the separate app is asked without cookies (it reads none); the app's
                    # own bare page with the same cookies as the page it stands beside.
                    headers = {} if kind == "baseline" else target.headers
                    results[kind] = load.measure(
                        urls[kind],
                        headers=headers,
                        seconds=_seconds(ctx, target),
                        connections=ctx.options.connections,
                    )
                samples[target.page.name].append(results)
        for target in targets:
            rows.append(_row(site.db, workers, target, samples[target.page.name]))
    finally:
        app.stop()
        baseline.stop()
    names = [p.name for p in PAGES]
    return sorted(rows, key=lambda r: names.index(r["page"]))


TARGET_PAGE = (
    "module"  # the page with a target (issue 3): measured for --seconds; the others for --other-seconds
)


def _seconds(ctx: BenchContext, target: Target) -> float:
    return ctx.options.seconds if target.page.name == TARGET_PAGE else ctx.options.other_seconds


def _resolve_targets(
    ctx: BenchContext, site: Site, app: ServerProcess, baseline: ServerProcess
) -> tuple[list[Target], list[dict[str, Any]]]:
    """Which pages this build serves, each with its size; rows for the ones it does not."""
    routes = _route_templates(app.base_url)
    targets: list[Target] = []
    rows: list[dict[str, Any]] = []
    from backend.security import CSRF_COOKIE

    anonymous = {CSRF_COOKIE: site.trainee_cookies[CSRF_COOKIE]}
    for page in PAGES:
        base = {"db": site.db, "workers": app_workers(app), "page": page.name}
        has_route = _normalise(page.route) in routes
        path = page.path
        if "{number}" in path:
            number = certificate_number(site) if has_route else None
            if has_route and number is None:
                # The certificates come from `academy demo`: without it there is nothing to verify yet.
                if ctx.has_command("demo"):
                    rows.append({**base, "status": FAILED, "note": "no certificate number in the demo data"})
                else:
                    note = f"{NOT_AVAILABLE}: no certificate to verify (no `academy demo`)"
                    rows.append({**base, "status": NOT_AVAILABLE, "note": note})
                continue
            path = path.replace("{number}", number or "0")
        cookies = site.trainee_cookies if page.signed_in else anonymous
        headers = {"Cookie": cookie_header(cookies)}
        response = httpx.get(app.base_url + path, headers=headers, timeout=30)
        if response.status_code != 200:
            if has_route or response.status_code != 404:
                note = f"GET {path} answered {response.status_code}"
                rows.append({**base, "status": FAILED, "note": note})
            else:
                rows.append({**base, "status": NOT_AVAILABLE, "note": NOT_AVAILABLE})
            continue
        size = len(response.content)
        same_app = app.base_url + SAME_APP_PATH.format(size=size) if page.name == TARGET_PAGE else None
        baseline_url = f"{baseline.base_url}/page/{size}"
        targets.append(Target(page, app.base_url + path, headers, size, baseline_url, same_app))
    return targets, rows


def _warm_up(targets: list[Target], requests: int = 6) -> None:
    """First renders, template and rendered-HTML caches and connection pools, in every worker."""
    for target in targets:
        for _ in range(requests):  # a new connection each time, so that every worker gets some
            for kind, url in target.urls().items():
                httpx.get(url, headers={} if kind == "baseline" else target.headers, timeout=30)


def app_workers(server: ServerProcess) -> int:
    return int(server.argv[server.argv.index("--workers") + 1])


def _row(db: str, workers: int, target: Target, samples: list[dict[str, LoadResult]]) -> dict[str, Any]:
    apps = [sample["app"] for sample in samples]
    bases = [sample["baseline"] for sample in samples]
    ratios = [s["app"].rps / s["baseline"].rps for s in samples if s["baseline"].rps]
    errors = sum(result.errors for sample in samples for result in sample.values())
    row: dict[str, Any] = {
        "db": db,
        "workers": workers,
        "page": target.page.name,
        "path": urlsplit(target.url).path,
        "bytes": target.size,
        "rps": median([a.rps for a in apps]),
        "p50_ms": median([a.p50_ms for a in apps if a.p50_ms is not None]),
        "p95_ms": median([a.p95_ms for a in apps if a.p95_ms is not None]),
        "p99_ms": median([a.p99_ms for a in apps if a.p99_ms is not None]),
        "baseline_rps": median([b.rps for b in bases]),
        "baseline_p50_ms": median([b.p50_ms for b in bases if b.p50_ms is not None]),
        "ratio": median(ratios),
        "errors": errors,
        "rounds": [{kind: round(result.rps, 1) for kind, result in sample.items()} for sample in samples],
        "status": OK,
    }
    if target.same_app_url:
        same = [sample["same_app"] for sample in samples]
        row["same_app_rps"] = median([s.rps for s in same])
        row["same_app_ratio"] = median(
            [s["app"].rps / s["same_app"].rps for s in samples if s["same_app"].rps]
        )
    if errors:
        row["status"] = FAILED
        row["note"] = f"{errors} failed requests"
    return row


def _route_templates(base_url: str) -> set[str]:
    """Route templates from the app's OpenAPI document, with parameter names blanked ({course} -> {})."""
    try:
        document = httpx.get(base_url + "/openapi.json", timeout=30).json()
    except (httpx.HTTPError, ValueError):
        return set()
    return {_normalise(path) for path in document.get("paths", {})}


def _normalise(route: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", route)


def certificate_number(site: Site) -> str | None:
    """A certificate number from the seeded data (the demo issues some): the first row of a table whose
    name mentions certificates and that has a `number` column."""
    from sqlalchemy import inspect, text

    from backend.db import make_engine

    engine = make_engine(site.database_url)
    try:
        inspector = inspect(engine)
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            if "certificate" in table and "number" in columns:
                with engine.connect() as conn:
                    value = conn.execute(text(f'SELECT number FROM "{table}" LIMIT 1')).scalar()
                if value:
                    return str(value)
        return None
    finally:
        engine.dispose()
