"""Case group `cold_start`: seconds from starting `academy serve` until /healthz answers 200, beside the
baseline app started the same way (median of several starts, app and baseline alternating)."""

from __future__ import annotations

from typing import Any

from bench.context import BenchContext
from bench.harness import CaseResult, Column, mark_failed, median
from bench.sites import Site

START_TIMEOUT_S = 60  # a start slower than this is reported as failed rather than waited for

TITLE = "Cold start: `academy serve` until /healthz answers"
COLUMNS = [
    Column("db", "db"),
    Column("workers", "workers"),
    Column("app_s", "app s (median)", 2),
    Column("app_range", "app min–max s"),
    Column("baseline_s", "baseline s (median)", 2),
    Column("times_baseline", "app / baseline", 2),
]


def run(ctx: BenchContext) -> CaseResult:
    result = CaseResult("cold_start", TITLE, COLUMNS)
    for db in ctx.databases():
        site = ctx.site(db)
        # A second worker process starts the same way on either database: 2 workers on SQLite only.
        for workers in ctx.options.workers if db == "sqlite" else ctx.options.workers[:1]:
            ctx.say(f"cold start: {db}, {workers} worker(s), {ctx.options.starts} starts")
            try:
                app_times, base_times = _starts(ctx, site, workers)
            except Exception as exc:  # the other configurations are still measured
                mark_failed(result, {"db": db, "workers": workers}, exc)
                continue
            result.rows.append(_row(db, workers, app_times, base_times))
    result.notes.append(
        "from process start to the first 200 from /healthz (all workers' imports, settings, database "
        "engine and the migration check); the baseline is the bare FastAPI app under the same uvicorn; "
        "the ratio is of the medians, not a per-start ratio (the app shows >1 because it simply does more)"
    )
    return result


def _starts(ctx: BenchContext, site: Site, workers: int) -> tuple[list[float], list[float]]:
    app_times: list[float] = []
    base_times: list[float] = []
    for attempt in range(ctx.options.starts):
        order = ("app", "baseline") if attempt % 2 == 0 else ("baseline", "app")
        for kind in order:
            server = (
                ctx.app_server(site, workers, academy_serve=True)
                if kind == "app"
                else ctx.baseline_server(workers, site.env)
            )
            try:
                (app_times if kind == "app" else base_times).append(
                    server.wait_ready(timeout=START_TIMEOUT_S)
                )
            finally:
                server.stop()
    return app_times, base_times


def _row(db: str, workers: int, app: list[float], base: list[float]) -> dict[str, Any]:
    app_median, base_median = median(app), median(base)
    return {
        "db": db,
        "workers": workers,
        "app_s": app_median,
        "app_range": f"{min(app):.2f}–{max(app):.2f}",
        "baseline_s": base_median,
        "times_baseline": (app_median / base_median) if app_median and base_median else None,
        "app_runs": [round(t, 3) for t in app],
        "baseline_runs": [round(t, 3) for t in base],
    }
