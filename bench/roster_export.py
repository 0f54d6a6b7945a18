"""Case group `roster_export`: `academy roster export --format csv|xlsx --out FILE` over 100,000 roster
rows: seconds and the export process's peak memory (max RSS), with the rows in the file counted.

The 100,000 rows are a synthetic legacy register (valid ID-number and certificate-number check characters)
loaded with `academy roster import FILE`. Without `academy roster export` the case is "not available";
without a way to load the register it fails and says so."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.harness import CaseResult, Column, ContractMismatch, NotAvailable, median
from bench.servers import REPO, academy_command
from bench.sites import new_site, run_logged

TITLE = "Roster export: 100,000 rows"
ROWS = 100_000
COLUMNS = [
    Column("db", "db"),
    Column("format", "format"),
    Column("rows", "rows in file"),
    Column("seconds", "s (median)", 2),
    Column("peak_mb", "peak RSS MB", 0),
    Column("bytes", "file bytes"),
]
HEADERS = ["姓名", "身份证号", "证书编号", "等级", "发证日期", "有效期至", "工作单位", "地区", "状态"]
LEVELS = {1: "初级", 2: "中级", 3: "高级"}
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def run(ctx: BenchContext) -> CaseResult:
    if not ctx.has_command("roster export"):
        raise NotAvailable("`academy roster export` is not in this build")
    if not ctx.has_command("roster import"):
        raise ContractMismatch(
            "the bench loads 100,000 legacy rows with `academy roster import FILE`, which is missing"
        )
    result = CaseResult("roster_export", TITLE, COLUMNS)
    register = legacy_register(ctx.root / "legacy-register.csv")
    for db in ctx.databases():
        site = new_site(db, ctx.new_database(db, f"roster_{db}"), ctx.root / f"roster-{db}")
        ctx.say(f"roster export: loading {ROWS:,} legacy rows on {db}")
        run_logged([*academy_command(), "init"], env=site.env, log=site.log)
        run_logged(
            [*academy_command(), "roster", "import", str(register)], env=site.env, log=site.log, timeout=900
        )
        for fmt in ("csv", "xlsx"):
            # The file is read back (rows counted) after the first run only: every run exports the same rows.
            runs = [
                _export(site.env, ctx.root / f"roster-{db}-{n}.{fmt}", fmt, count=n == 0)
                for n in range(ctx.options.export_runs)
            ]
            result.rows.append(
                {
                    "db": db,
                    "format": fmt,
                    "rows": runs[0]["rows"],
                    "seconds": median([r["seconds"] for r in runs]),
                    "peak_mb": median([r["peak_mb"] for r in runs]),
                    "bytes": runs[-1]["bytes"],
                    "runs": runs,
                }
            )
    result.notes.append(
        f"{ctx.options.export_runs} export(s) per format and database (--export-runs; the median when more); "
        "the whole `academy roster export` command (start-up included); peak RSS of that process from wait4(); "
        "rows in file = data rows read back (csv module / openpyxl read-only)"
    )
    return result


def _export(env: dict[str, str], out: Path, fmt: str, *, count: bool) -> dict[str, Any]:
    argv = [*academy_command(), "roster", "export", "--format", fmt, "--out", str(out)]
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(
            f"`academy roster export --format {fmt}` exited {process.returncode}: {stderr[-300:]}"
        )
    # ru_maxrss is in KiB on Linux.
    peak = usage.ru_maxrss / 1024
    rows = _count_rows(out, fmt) if count else None
    size = out.stat().st_size
    out.unlink()
    return {"seconds": round(seconds, 3), "peak_mb": round(peak, 1), "rows": rows, "bytes": size}


def _count_rows(path: Path, fmt: str) -> int:
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        # A streamed (write-only) workbook may not record its dimensions: then max_row is None, count rows.
        rows = sum(
            sheet.max_row if sheet.max_row else sum(1 for _ in sheet.iter_rows(values_only=True))
            for sheet in book.worksheets
        )
        return max(0, rows - len(book.worksheets))
    finally:
        book.close()


def id_number(n: int) -> str:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=n % 10_000)
    body = f"330106{birth:%Y%m%d}{n // 10_000:03d}"
    total = sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def mod11_2(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character."""
    p = 0
    for d in digits:
        p = ((p + int(d)) * 2) % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


def certificate_number(n: int) -> tuple[str, int, int]:
    """A legacy number: region letters, year, level, sequence and a MOD 11-2 check character. Not in the
    shape of the numbers this platform issues (which the import refuses, since they could be issued again)."""
    year, level, seq = 2012 + n % 11, 1 + (n // 11) % 3, n // 33 + 1
    body = f"{year}{level}{seq:05d}"
    return "ZJ" + body + mod11_2(body), year, level


def legacy_register(path: Path) -> Path:
    """A synthetic register of ROWS certified brokers, as the legacy import reads it (UTF-8 with BOM)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for n in range(ROWS):
            number, year, level = certificate_number(n)
            issued = dt.date(year, 1 + n % 12, 1 + n % 28)
            expiry = issued.replace(year=year + 3)
            writer.writerow(
                [
                    f"示例经纪人{n:06d}",
                    id_number(n),
                    number,
                    LEVELS[level],
                    issued.isoformat(),
                    expiry.isoformat(),
                    f"示例单位{n % 500:03d}",
                    "杭州市",
                    "有效",
                ]
            )
    return path
