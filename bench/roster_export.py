"""Case group `roster_export`: `academy roster export --format csv|xlsx --out FILE` over 100,000 roster
rows: seconds and the export process's peak memory (max RSS), with the rows in the file counted.

The 100,000 rows are a synthetic legacy register (valid ID-number and certificate-number check characters).
They are loaded the way `academy roster import` stores them, but not through that command, whose checks
(every row, then the register) cost more than the load itself, far more on a busy machine, and are not
what this case measures: the records go through the import's own writer (`legacy_import.insert_records`: encrypted ID number, blind
index, masked form, source "legacy", in batches, with the import's audit event), in-process, after a sample
of the register was passed through the import's checks (`check_rows`: the file reader and every rule), so
the rows are ones the real import accepts. The export then does its real work on realistic rows. Without
`academy roster export` the case is "not available"; without the import's writer it fails and says so."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.context import BenchContext
from bench.harness import CaseResult, Column, ContractMismatch, NotAvailable, median
from bench.seeding import require
from bench.servers import REPO, academy_command
from bench.sites import Site, new_site, run_logged

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
LEVEL_NUMBERS = {name: level for level, name in LEVELS.items()}
SAMPLE = 2_000  # rows of the register passed through the import's checks before the fast load
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def run(ctx: BenchContext) -> CaseResult:
    if not ctx.has_command("roster export"):
        raise NotAvailable("`academy roster export` is not in this build")
    try:
        require("backend.roster.legacy_import", "insert_records")
        require("backend.roster.legacy_import", "check_rows")
    except NotAvailable as exc:
        raise ContractMismatch(
            f"the bench loads the 100,000 legacy rows with the import's own writer and checks: {exc}"
        ) from exc
    result = CaseResult("roster_export", TITLE, COLUMNS)
    databases = ctx.databases()
    sites = {
        db: new_site(db, ctx.new_database(db, f"roster_{db}"), ctx.root / f"roster-{db}") for db in databases
    }
    # `academy init` of both databases at once (subprocesses that mostly wait), as the shared sites are.
    with ThreadPoolExecutor(max_workers=len(sites)) as pool:
        for future in [
            pool.submit(run_logged, [*academy_command(), "init"], env=site.env, log=site.log)
            for site in sites.values()
        ]:
            future.result()
    started = time.perf_counter()
    records = legacy_records()
    checked = check_sample(sites[databases[0]], ctx.root / "legacy-register-sample.csv")
    ctx.say(
        f"roster export: {ROWS:,} legacy records built, a sample of {checked:,} passed the import's checks "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for db in databases:
        site = sites[db]
        started = time.perf_counter()
        loaded = load_records(site, records)
        seeded = time.perf_counter() - started
        ctx.say(f"roster export: {loaded:,} legacy rows loaded on {db} in {seeded:.1f} s")
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
                    "load_seconds": round(seeded, 1),
                }
            )
    result.notes.append(
        f"{ctx.options.export_runs} export(s) per format and database (--export-runs; the median when more); "
        "the whole `academy roster export` command (start-up included), ID numbers masked (the default); "
        "peak RSS of that process (wait4() in a small launcher, so the bench's own memory is not counted); rows in file = data rows read back (csv module; XLSX: the "
        "<row> elements of each worksheet, header excluded)"
    )
    result.notes.append(
        f"the {ROWS:,} rows are loaded (not timed) with the legacy import's own writer "
        "(legacy_import.insert_records: encrypted ID number, blind index, masked form), after a "
        f"{SAMPLE:,}-row sample of the same register passed the import's checks; `academy roster import` "
        "itself (checks on every row) is not what this case measures"
    )
    return result


def legacy_records() -> list[Any]:
    """The register's ROWS records, as the import's checks turn them into LegacyRecord (normalised numbers)."""
    from backend.roster.legacy_import import LegacyRecord

    records = []
    for n, row in enumerate(register_rows(ROWS), start=2):  # row 1 is the header, as in the file
        name, id_no, number, level, issued, expiry, organisation, region, _status = row
        records.append(
            LegacyRecord(
                row=n,
                name=name,
                id_number=id_no,
                number=number,
                level=LEVEL_NUMBERS[level],
                issued_on=dt.date.fromisoformat(issued),
                expires_on=dt.date.fromisoformat(expiry),
                organisation=organisation,
                region=region,
                status="valid",
            )
        )
    return records


def check_sample(site: Site, path: Path) -> int:
    """Pass the first SAMPLE rows of the register, written as a file, through the import's reader and
    checks; any problem fails the case (the synthetic register would not be importable)."""
    from sqlmodel import Session

    from backend.db import make_engine
    from backend.roster.legacy_file import read_legacy_file
    from backend.roster.legacy_import import check_rows

    legacy_register(path, rows=SAMPLE)
    rows, problems = read_legacy_file(path.read_bytes())
    engine = make_engine(site.database_url)
    try:
        with Session(engine) as session:
            records, found = check_rows(session, settings=site.settings(), rows=rows)
    finally:
        engine.dispose()
    problems = [*problems, *found]
    if problems:
        first = problems[0]
        raise RuntimeError(
            f"the synthetic register fails the import's checks: row {first.row}: {first.message}"
        )
    expected = legacy_records_sample(SAMPLE)
    if [(r.number, r.id_number, r.level, r.issued_on) for r in records] != expected:
        raise RuntimeError("the records the bench builds differ from what the import makes of the same rows")
    return len(records)


def legacy_records_sample(count: int) -> list[tuple[Any, ...]]:
    return [
        (number, id_no, LEVEL_NUMBERS[level], dt.date.fromisoformat(issued))
        for name, id_no, number, level, issued, *_rest in register_rows(count)
    ]


def load_records(site: Site, records: list[Any]) -> int:
    """Insert the records with the import's own writer, in one transaction, as the import commits them."""
    from sqlmodel import Session

    from backend.db import make_engine, writer_engine
    from backend.roster.legacy_import import insert_records

    engine = make_engine(site.database_url)
    try:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            done = insert_records(
                session, settings=site.settings(), records=records, actor=None, filename="bench-register.csv"
            )
            session.commit()
    finally:
        engine.dispose()
    return done


# The export runs under this small launcher, which times it and reads its peak RSS with wait4(). Not
# from the bench process itself: a child's ru_maxrss starts from the RSS of the process it was forked
# from (the kernel carries it over exec), and the bench holds the 100,000 records it loaded.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "exit": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}))
"""


def _export(env: dict[str, str], out: Path, fmt: str, *, count: bool) -> dict[str, Any]:
    argv = [*academy_command(), "roster", "export", "--format", fmt, "--out", str(out)]
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        measured = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        measured = {"exit": done.returncode}
    if done.returncode != 0 or measured.get("exit") != 0:
        raise RuntimeError(
            f"`academy roster export --format {fmt}` exited {measured.get('exit')}: {done.stderr[-300:]}"
        )
    # ru_maxrss is in KiB on Linux.
    peak = measured["maxrss_kib"] / 1024
    rows = _count_rows(out, fmt) if count else None
    size = out.stat().st_size
    out.unlink()
    return {"seconds": round(measured["seconds"], 3), "peak_mb": round(peak, 1), "rows": rows, "bytes": size}


def _count_rows(path: Path, fmt: str) -> int:
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    # Count the <row> elements of every worksheet, streamed: openpyxl's reader takes tens of seconds
    # for 100,000 rows, longer than the export itself. One header row per worksheet.
    rows = sheets = 0
    pattern = re.compile(rb"<(?:\w+:)?row[\s>/]")
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                continue
            sheets += 1
            tail = b""
            with book.open(name) as sheet:
                while chunk := sheet.read(1 << 20):
                    data = tail + chunk
                    # a tag that starts in the last 16 bytes is counted with the next chunk
                    edge = max(0, len(data) - 16)
                    rows += sum(1 for m in pattern.finditer(data) if m.start() < edge)
                    tail = data[edge:]
                rows += len(pattern.findall(tail))
    return max(0, rows - sheets)


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


def register_rows(count: int) -> Iterator[list[str]]:
    """The first `count` rows of a synthetic register of certified brokers (cells as text)."""
    for n in range(count):
        number, year, level = certificate_number(n)
        issued = dt.date(year, 1 + n % 12, 1 + n % 28)
        expiry = issued.replace(year=year + 3)
        yield [
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


def legacy_register(path: Path, rows: int = ROWS) -> Path:
    """The register as the legacy import reads it (UTF-8 with BOM)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows(register_rows(rows))
    return path
