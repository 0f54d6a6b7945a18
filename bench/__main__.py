"""`python -m bench [--case NAME ...]`: run the case groups, print the tables, write bench/results.json.

A case group is a module with `run(ctx) -> CaseResult`; add it to GROUPS below. A group whose feature is
missing from this build raises NotAvailable (or returns that status) and is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from bench import certificates, cold_start, course_import, exam_autosave, pages, roster_export
from bench.context import DATABASES, BenchContext, Options
from bench.harness import (
    FAILED,
    NOT_AVAILABLE,
    CaseResult,
    ContractMismatch,
    NotAvailable,
    format_table,
    machine_description,
)

GROUPS: dict[str, tuple[str, Callable[[BenchContext], CaseResult]]] = {
    "pages": (pages.TITLE, pages.run),
    "cold_start": (cold_start.TITLE, cold_start.run),
    "course_import": (course_import.TITLE, course_import.run),
    "exam_autosave": (exam_autosave.TITLE, exam_autosave.run),
    "certificates": (certificates.TITLE, certificates.run),
    "roster_export": (roster_export.TITLE, roster_export.run),
}
RESULTS = Path(__file__).with_name("results.json")
SITE_GROUPS = {"pages", "cold_start", "exam_autosave", "certificates"}  # the groups that use ctx.site(db)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        help=f"case group(s) to run, comma-separated or repeated: {', '.join(GROUPS)} (default: all)",
    )
    parser.add_argument(
        "--seconds", type=float, default=Options.seconds, help="length of one load run of the module page"
    )
    parser.add_argument(
        "--other-seconds",
        type=float,
        default=Options.other_seconds,
        help="length of one load run of other pages",
    )
    parser.add_argument("--rounds", type=int, default=Options.rounds, help="interleaved rounds per page")
    parser.add_argument("--connections", type=int, default=Options.connections)
    parser.add_argument("--starts", type=int, default=Options.starts, help="cold starts per configuration")
    parser.add_argument("--import-runs", type=int, default=Options.import_runs)
    parser.add_argument(
        "--export-runs", type=int, default=Options.export_runs, help="roster exports per format"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--db", default=",".join(DATABASES), help="databases: sqlite,postgresql")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and its logs")
    return parser.parse_args(argv)


def selected_groups(cases: list[str]) -> list[str]:
    names = [n.strip() for item in cases for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise SystemExit(f"unknown case group(s): {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    return names or list(GROUPS)


def run_group(ctx: BenchContext, name: str) -> CaseResult:
    title, runner = GROUPS[name]
    started = time.perf_counter()
    ctx.say(f"== {name}")
    try:
        result = runner(ctx)
    except NotAvailable as exc:
        result = CaseResult(name, title, status=NOT_AVAILABLE, reason=str(exc))
    except ContractMismatch as exc:
        result = CaseResult(name, title, status=FAILED, reason=f"the bench's contract is out of date: {exc}")
    except Exception as exc:
        traceback.print_exc()
        result = CaseResult(name, title, status=FAILED, reason=f"{type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - started
    ctx.say(f"== {name}: {result.status} in {result.seconds:.0f} s")
    return result


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    groups = selected_groups(args.case)
    options = Options(
        seconds=args.seconds,
        other_seconds=args.other_seconds,
        rounds=args.rounds,
        connections=args.connections,
        starts=args.starts,
        import_runs=args.import_runs,
        export_runs=args.export_runs,
        workers=tuple(int(w) for w in args.workers.split(",")),
        databases=tuple(d for d in args.db.split(",") if d),
        load=args.load,
        keep=args.keep,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    machine = machine_description()
    started = time.perf_counter()
    results: list[CaseResult] = []
    root = Path(tempfile.mkdtemp(prefix="academy-bench."))
    with ExitStack() as stack:
        if not options.keep:
            stack.callback(shutil.rmtree, root, True)
        ctx = BenchContext(options, stack, root)
        ctx.say(f"temporary directory {root}; machine: {machine['nproc']} cores, {machine['memory']} memory")
        if set(groups) & SITE_GROUPS:
            try:
                ctx.seed_sites()
            except Exception as exc:  # each group then seeds (and reports the failure) on its own
                ctx.say(f"seeding the sites at once failed ({type(exc).__name__}: {exc}); seeding one by one")
        for name in groups:
            results.append(run_group(ctx, name))
            print(format_table(results[-1]) + "\n", flush=True)  # as soon as it is known
        described = ctx.describe()
        notes = ctx.notes
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report = render_report(results, machine, described, notes, time.perf_counter() - started)
    print(report)
    write_json(args.out, results, machine, described, notes, time.perf_counter() - started)
    print(f"\nwritten: {args.out}")
    if options.keep:
        print(f"logs kept in {root}")
    return 1 if any(r.status == FAILED for r in results) else 0


def render_report(
    results: list[CaseResult],
    machine: dict[str, Any],
    described: dict[str, Any],
    notes: list[str],
    total: float,
) -> str:
    lines = [
        "## Broker Academy bench",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine['nproc']} cores ({machine['cpu']}) · "
        f"memory {machine['memory']} · Python {machine['python']} · load {described['load_generator'] or '–'} · "
        f"PostgreSQL: {described['postgresql'] or 'not used'} · whole run {total:.0f} s",
        f"load average (1/5/15 min) at start {machine['load_average']}, at end {machine['load_average_at_end']}: "
        "other work on this shared machine slows both sides of every comparison",
        "time per group (s): " + ", ".join(f"{r.group} {r.seconds:.0f}" for r in results),
        "",
    ]
    for result in results:
        lines += [format_table(result), ""]
    lines += [f"- {note}" for note in dict.fromkeys(notes)]
    return "\n".join(lines).rstrip()


def write_json(
    path: Path,
    results: list[CaseResult],
    machine: dict[str, Any],
    described: dict[str, Any],
    notes: list[str],
    total: float,
) -> None:
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(total, 1),
        "machine": machine,
        **described,
        "notes": list(dict.fromkeys(notes)),
        "cases": {r.group: r.as_json() for r in results},
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
