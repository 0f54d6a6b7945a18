"""The roster as a file: CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX (openpyxl's write-only
mode), columns in Chinese or English, ID numbers masked unless asked for in full. Rows are read in batches
(`yield_per`, a server-side cursor on PostgreSQL) and written as they come, so 100,000 rows need no more
memory than 1,000. The columns are the legacy import's, so an export reads back in as an import."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any

from openpyxl import Workbook
from sqlalchemy import Row
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from backend import security
from backend.audit import record_event
from backend.models import Certificate, CertificateStatus, User
from backend.roster.schemas import RosterFilter
from backend.roster.service import (
    LEVEL_NAMES_EN,
    LEVEL_NAMES_ZH,
    SOURCE_NAMES_EN,
    SOURCE_NAMES_ZH,
    STATE_NAMES_EN,
    STATE_NAMES_ZH,
    filter_conditions,
    today,
)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 1000
CHUNK = 64 * 1024
BIG_EXPORT_ROWS = 20_000  # above this the page offers a background job with progress
HEADERS = {
    "zh": ("证书编号", "姓名", "身份证号", "级别", "发证日期", "有效期至", "单位", "地区", "状态", "来源"),
    "en": (
        "Certificate number",
        "Name",
        "ID number",
        "Level",
        "Issued on",
        "Expires on",
        "Organisation",
        "Region",
        "Status",
        "Source",
    ),
}
COLUMN_WIDTHS = (22, 12, 22, 8, 12, 12, 36, 12, 10, 14)
SELECTED = (
    col(Certificate.number),
    col(Certificate.holder_name),
    col(Certificate.id_number_masked),
    col(Certificate.id_number_encrypted),
    col(Certificate.level),
    col(Certificate.issued_on),
    col(Certificate.expires_on),
    col(Certificate.organisation),
    col(Certificate.region),
    col(Certificate.status),
    col(Certificate.source),
)

Value = str | date | None


@dataclass(frozen=True)
class ExportSpec:
    roster_filter: RosterFilter = field(default_factory=RosterFilter)
    format: str = "csv"  # csv · xlsx
    lang: str = "zh"  # the column names and labels: zh · en
    full_ids: bool = False
    on: date = field(default_factory=today)

    @property
    def extension(self) -> str:
        return "xlsx" if self.format == "xlsx" else "csv"

    @property
    def media_type(self) -> str:
        return XLSX_MEDIA_TYPE if self.format == "xlsx" else CSV_MEDIA_TYPE

    def filename(self) -> str:
        stem = "证书名册" if self.lang == "zh" else "certified-roster"
        return f"{stem}-{self.on:%Y%m%d}.{self.extension}"

    def audit_facts(self, rows: int) -> dict[str, Any]:
        return {
            "format": self.extension,
            "filters": self.roster_filter.as_params(),
            "rows": rows,
            "id_numbers": "full" if self.full_ids else "masked",
            "columns": self.lang,
        }


def record_export(
    session: Session, *, actor: User | None, spec: ExportSpec, rows: int, ip: str = "", via: str = "web"
) -> None:
    """Every export is audit-logged; one with full ID numbers under its own action, easy to find."""
    record_event(
        session,
        actor=actor,
        action="roster.exported_full_ids" if spec.full_ids else "roster.exported",
        target_type="roster",
        target_id=spec.extension,
        after={**spec.audit_facts(rows), "via": via},
        ip=ip,
    )


def export_rows(session: Session, spec: ExportSpec) -> Iterator[Row[Any]]:
    statement = (
        sa_select(*SELECTED)
        .where(*filter_conditions(spec.roster_filter, on=spec.on))
        .order_by(col(Certificate.id))
        .execution_options(yield_per=BATCH)
    )
    yield from session.execute(statement)


def _text(value: str) -> str:
    # A cell that starts with = + - @ would run as a formula in Excel: keep names and organisations text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def row_values(row: Row[Any], spec: ExportSpec, secret: str) -> list[Value]:
    (number, name, masked, encrypted, level, issued_on, expires_on, organisation, region, status, source) = (
        tuple(row)
    )
    state = status
    if status == CertificateStatus.valid.value and expires_on is not None and expires_on < spec.on:
        state = "expired"
    id_number = masked
    if spec.full_ids and encrypted:
        id_number = security.decrypt_field(secret, encrypted) or masked
    zh = spec.lang == "zh"
    return [
        number,
        _text(name),
        id_number,
        (LEVEL_NAMES_ZH if zh else LEVEL_NAMES_EN).get(level, str(level)),
        issued_on,
        expires_on,
        _text(organisation),
        _text(region),
        (STATE_NAMES_ZH if zh else STATE_NAMES_EN).get(state, state),
        (SOURCE_NAMES_ZH if zh else SOURCE_NAMES_EN).get(source, source),
    ]


Progress = Callable[[int], None]


def csv_chunks(
    session: Session, spec: ExportSpec, secret: str, progress: Progress | None = None
) -> Iterator[bytes]:
    """The CSV a batch of rows at a time: the BOM and header first, then one chunk per BATCH rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS[spec.lang])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    count = 0
    for row in export_rows(session, spec):
        writer.writerow(["" if value is None else str(value) for value in row_values(row, spec, secret)])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if progress:
                progress(count)
    yield buffer.getvalue().encode()
    if progress:
        progress(count)


def write_csv(
    handle: IO[bytes], session: Session, spec: ExportSpec, secret: str, progress: Progress | None = None
) -> int:
    """Write the CSV to a binary file; returns the number of rows."""
    counted = [0]

    def count(done: int) -> None:
        counted[0] = done
        if progress:
            progress(done)

    for chunk in csv_chunks(session, spec, secret, count):
        handle.write(chunk)
    return counted[0]


def write_xlsx(
    handle: IO[bytes], session: Session, spec: ExportSpec, secret: str, progress: Progress | None = None
) -> int:
    """Write the workbook to a binary file (write-only mode keeps only the current row in memory)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("证书名册" if spec.lang == "zh" else "Roster")
    for index, width in enumerate(COLUMN_WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(list(HEADERS[spec.lang]))
    count = 0
    for row in export_rows(session, spec):
        sheet.append(row_values(row, spec, secret))
        count += 1
        if progress and count % BATCH == 0:
            progress(count)
    book.save(handle)
    return count


def write_export(
    handle: IO[bytes], session: Session, spec: ExportSpec, secret: str, progress: Progress | None = None
) -> int:
    writer = write_xlsx if spec.format == "xlsx" else write_csv
    return writer(handle, session, spec, secret, progress)


def stream_export(engine: Engine, spec: ExportSpec, secret: str) -> Iterator[bytes]:
    """The file as a StreamingResponse body, read in its own session (the request's has closed by then).
    CSV goes out a batch at a time; XLSX is built in a temporary file (a zip is written at its end), then
    sent in chunks."""
    with Session(engine) as session:
        if spec.format != "xlsx":
            yield from csv_chunks(session, spec, secret)
            return
        with tempfile.TemporaryFile() as handle:
            write_xlsx(handle, session, spec, secret)
            session.rollback()  # end the read before the (slow) sending
            handle.seek(0)
            while chunk := handle.read(CHUNK):
                yield chunk
