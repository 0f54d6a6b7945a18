"""What every case group shares: the result of a case, its statuses, medians and percentiles, the
printed table and the description of the machine the figures were taken on."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
NOT_AVAILABLE = "not available in this build"
SKIPPED = "skipped"
FAILED = "failed"


class NotAvailable(Exception):
    """The feature a case measures is not in this build: its route, module or command is missing."""


class ContractMismatch(Exception):
    """The feature is there but not in the shape the bench drives (the bench needs updating: say so)."""


@dataclass
class Column:
    key: str
    header: str
    digits: int = 1  # for floats


@dataclass
class CaseResult:
    """One case group's figures: rows under columns, plus notes; the status applies to the whole group."""

    group: str
    title: str
    columns: list[Column] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = OK
    reason: str = ""
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
            "rows": self.rows,
        }


def short_error(exc: BaseException) -> str:
    """One line for a table cell: the exception's type and its last non-empty line."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    last = lines[-1] if lines else ""
    text = first if first == last else f"{first} … {last}"
    return f"{type(exc).__name__}: {text}"[:400]


def mark_failed(result: CaseResult, base: dict[str, Any], exc: BaseException) -> None:
    """A configuration that could not be measured: one failed row; the group goes on and is failed."""
    note = short_error(exc)
    result.rows.append({**base, "status": FAILED, "note": note})
    result.status = FAILED
    result.reason = result.reason or note


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def percentile(sorted_values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return value / reference


def _cell(value: Any, column: Column) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if column.key.startswith("ratio") or column.key.endswith("_ratio"):
            return f"{value:.0%}"
        return f"{value:,.{column.digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(result: CaseResult) -> str:
    """A plain-text table, also valid GitHub markdown, so the same output can be pasted into the docs."""
    lines = [f"### {result.title}  [{result.group}]"]
    if result.status != OK:
        lines.append(f"{result.status}: {result.reason}" if result.reason else result.status)
    if result.rows:
        columns = [*result.columns, Column("note", "note")]
        has_note = any(row.get("note") for row in result.rows)
        if not has_note:
            columns = columns[:-1]
        cells = [[_cell(row.get(c.key), c) for c in columns] for row in result.rows]
        widths = [max(len(c.header), *(_width(r[i]) for r in cells)) for i, c in enumerate(columns)]
        lines.append(_row([c.header for c in columns], widths))
        lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        lines.extend(_row(r, widths) for r in cells)
    lines.extend(f"- {note}" for note in result.notes)
    return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths, strict=True)]
    return "| " + " | ".join(padded) + " |"


def machine_description() -> dict[str, Any]:
    """nproc, memory (free -h), CPU model and versions: printed above the tables and kept in the JSON."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), "")
    except OSError:
        pass
    memory = ""
    try:
        out = subprocess.run(["free", "-h"], capture_output=True, text=True, check=False).stdout
        memory = next((" ".join(ln.split()[:2]) for ln in out.splitlines() if ln.startswith("Mem:")), "")
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory": memory.replace("Mem: ", "") if memory else "",
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
