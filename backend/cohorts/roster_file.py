"""Reading an uploaded class roster (backend/spreadsheets.py reads the file) into trainee rows numbered as
the spreadsheet numbers them, the header being row 1. Column names may be Chinese or English."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.i18n import _
from backend.spreadsheets import ImportProblem, cell_text, find_columns, read_table

MAX_ROWS = 5000
COLUMNS = ("name", "id_number", "phone", "email", "organisation", "region")
REQUIRED = ("name", "id_number", "email")
MAX_LENGTHS = {"name": 100, "organisation": 200, "region": 100}
HEADER_ALIASES = {
    "name": ("姓名", "学员姓名", "name", "fullname"),
    "id_number": ("身份证号", "身份证号码", "身份证", "idnumber", "idcardnumber", "idcard", "idno"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "phone", "mobile", "mobilephone"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "邮件", "email", "mail"),
    "organisation": ("单位", "工作单位", "所在单位", "organisation", "organization", "company"),
    "region": ("地区", "所在地区", "区域", "region", "area"),
}


def column_label(column: str) -> str:
    labels = {
        "name": _("Name"),
        "id_number": _("ID card number"),
        "phone": _("Mobile phone"),
        "email": _("Email"),
        "organisation": _("Organisation"),
        "region": _("Region"),
    }
    return labels.get(column, column)


@dataclass
class ImportRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    name: str = ""
    id_number: str = ""
    phone: str = ""
    email: str = ""
    organisation: str = ""
    region: str = ""
    unreadable: dict[str, str] = field(default_factory=dict)  # column -> why its cell cannot be used


def read_roster(data: bytes, filename: str) -> tuple[list[ImportRow], list[ImportProblem]]:
    """The rows of an uploaded roster, or the problems that keep the file from being read at all."""
    table, problems = read_table(data)
    if problems:
        return [], problems
    body, positions, problems = find_columns(table, HEADER_ALIASES, REQUIRED, column_label)
    if problems:
        return [], problems
    rows: list[ImportRow] = []
    for number, values in body:
        row = ImportRow(row=number)
        for key, index in positions.items():
            value = values[index] if index < len(values) else None
            if key == "id_number" and isinstance(value, float) and value >= 1e15:
                row.unreadable[key] = _stored_as_number()
            setattr(row, key, cell_text(value))
        rows.append(row)
    if not rows:
        problems.append(ImportProblem(None, None, _("The file has a header row but no trainees.")))
    if len(rows) > MAX_ROWS:
        problems.append(
            ImportProblem(None, None, _("At most %(n)d rows can be imported at once.") % {"n": MAX_ROWS})
        )
    return rows, problems


def _stored_as_number() -> str:
    return _(
        "The ID number was stored as a number, so Excel has changed its last digits: format the column as text and type the number again."
    )
