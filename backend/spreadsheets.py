"""Reading an uploaded table (a class roster, a legacy certificate register): CSV in UTF-8 with or without
BOM, or GBK; or an XLSX workbook's first sheet. Rows are numbered as the spreadsheet numbers them (the
header is row 1), and columns are found by their Chinese or English names in the first row with text."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.i18n import _

Table = list[tuple[int, list[object]]]  # (row number, cells)


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # as the spreadsheet numbers it (the header is row 1); None: the whole file
    column: str | None
    message: str


def read_table(data: bytes) -> tuple[Table, list[ImportProblem]]:
    """Every row of the file, or the problem that keeps it from being read at all."""
    if not data.strip():
        return [], [ImportProblem(None, None, _("The file is empty."))]
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_table(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return [], [ImportProblem(None, None, _("This is an old .xls workbook: save it as .xlsx or .csv."))]
    return _csv_table(data)


def find_columns(
    table: Table,
    aliases: Mapping[str, Sequence[str]],
    required: Sequence[str],
    label: Callable[[str], str],
) -> tuple[Table, dict[str, int], list[ImportProblem]]:
    """The rows under the header row (rows without any text left out) and the position of each column the
    header names (`aliases`: column -> its accepted names); a problem when there is no text at all or a
    `required` column is missing."""
    filled = [(number, values) for number, values in table if any(cell_text(v) for v in values)]
    if not filled:
        return [], {}, [ImportProblem(None, None, _("The file is empty."))]
    header_number, header = filled[0]
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _header_key(cell_text(title), aliases)
        if key and key not in positions:
            positions[key] = index
    missing = [column for column in required if column not in positions]
    if missing:
        names = "、".join(label(column) for column in missing)
        message = _("The first row must name the columns; missing: %(columns)s. Download the template.")
        return [], {}, [ImportProblem(header_number, None, message % {"columns": names})]
    return filled[1:], positions, []


def cell_text(value: object) -> str:
    """A cell as the text a person sees: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _header_key(text: str, aliases: Mapping[str, Sequence[str]]) -> str | None:
    """The column a header cell names: case, spaces, "_", "-", a trailing "*" and anything in brackets
    ("身份证号（必填）") do not matter."""
    cleaned = text.strip().lower().lstrip("\ufeff").rstrip("*＊ ")
    for cut in ("(", "（"):
        cleaned = cleaned.split(cut)[0]
    cleaned = cleaned.replace(" ", "").replace("_", "").replace("-", "")
    for key, names in aliases.items():
        if cleaned in names or cleaned in (name.replace(" ", "") for name in names):
            return key
    return None


def _csv_table(data: bytes) -> tuple[Table, list[ImportProblem]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], [ImportProblem(None, None, _("The file could not be read as UTF-8 or GBK text."))]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096].split("\n")[0], ",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    return [(number, list(values)) for number, values in enumerate(reader, start=1)], []


def _xlsx_table(data: bytes) -> tuple[Table, list[ImportProblem]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return [], [ImportProblem(None, None, _("The file could not be opened as an XLSX workbook."))]
    sheet = book.worksheets[0]
    table = [
        (number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    book.close()
    return table, []
