"""Reading a legacy certificate register (backend/spreadsheets.py reads the file) into rows numbered as the
spreadsheet numbers them (the header is row 1), and the cell parsers the checks use: dates in the usual
Chinese and ISO spellings (or Excel date cells), levels, statuses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from backend.i18n import _
from backend.spreadsheets import ImportProblem, cell_text, find_columns, read_table

MAX_ROWS = 100_000
HEADER_ALIASES = {
    "name": ("姓名", "持证人", "持证人姓名", "name", "holder", "holdername"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "idnumber",
        "idcardnumber",
        "idcard",
        "idno",
    ),
    "number": ("证书编号", "证书号", "证书号码", "编号", "number", "certificatenumber", "certificateno"),
    "level": ("级别", "等级", "证书级别", "level"),
    "issued_on": (
        "发证日期",
        "发证时间",
        "颁发日期",
        "取证日期",
        "issuedon",
        "issuedate",
        "issued",
        "dateissued",
    ),
    "expires_on": (
        "有效期至",
        "有效期",
        "到期日期",
        "有效期截止",
        "expireson",
        "expires",
        "expirydate",
        "validuntil",
    ),
    "organisation": ("单位", "工作单位", "所在单位", "organisation", "organization", "company"),
    "region": ("地区", "所在地区", "区域", "地市", "region", "area", "city"),
    "status": ("状态", "证书状态", "status"),
    "revocation_reason": ("撤销原因", "revocationreason", "reason"),
    "title": ("证书名称", "title", "certificatetitle"),
}
REQUIRED = ("name", "id_number", "number", "level", "issued_on")
LEVEL_WORDS = {
    "1": 1,
    "初级": 1,
    "junior": 1,
    "2": 2,
    "中级": 2,
    "intermediate": 2,
    "3": 3,
    "高级": 3,
    "senior": 3,
}
STATUS_WORDS = {
    "": "valid",
    "有效": "valid",
    "正常": "valid",
    "valid": "valid",
    "已过期": "valid",  # an export's "expired": valid, past its date (the date says so)
    "过期": "valid",
    "expired": "valid",
    "已撤销": "revoked",
    "撤销": "revoked",
    "已吊销": "revoked",
    "吊销": "revoked",
    "revoked": "revoked",
}
EXCEL_EPOCH = date(1899, 12, 30)
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)


def column_label(column: str) -> str:
    labels = {
        "name": _("Name"),
        "id_number": _("ID card number"),
        "number": _("Certificate number"),
        "level": _("Level"),
        "issued_on": _("Issued on"),
        "expires_on": _("Valid until"),
        "organisation": _("Organisation"),
        "region": _("Region"),
        "status": _("Status"),
        "revocation_reason": _("Reason for revoking"),
        "title": _("Certificate"),
    }
    return labels.get(column, column)


@dataclass
class LegacyRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    cells: dict[str, object] = field(default_factory=dict)

    def text(self, column: str) -> str:
        return cell_text(self.cells.get(column))


def read_legacy_file(data: bytes) -> tuple[list[LegacyRow], list[ImportProblem]]:
    """The rows of an uploaded roster, or the problems that keep the file from being read at all."""
    table, problems = read_table(data)
    if problems:
        return [], problems
    body, positions, problems = find_columns(table, HEADER_ALIASES, REQUIRED, column_label)
    if problems:
        return [], problems
    rows = [
        LegacyRow(
            number, {key: values[index] if index < len(values) else None for key, index in positions.items()}
        )
        for number, values in body
    ]
    if not rows:
        return [], [ImportProblem(None, None, _("The file has a header row but no certificates."))]
    if len(rows) > MAX_ROWS:
        message = _("At most %(n)d rows can be imported at once; split the file.") % {"n": MAX_ROWS}
        return [], [ImportProblem(None, None, message)]
    return rows, []


def parse_date(value: object) -> date | None:
    """A date cell, "2015-06-30", "2015/6/30", "2015.6.30", "2015年6月30日" or "20150630"; None if unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 <= value <= 80_000:  # an Excel date serial number that lost its format
            return EXCEL_EPOCH + timedelta(days=int(value))
        value = cell_text(value)
    text = str(value or "").strip()
    match = _DATE.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    elif re.fullmatch(r"\d{8}", text):
        year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_level(text: str) -> int | None:
    cleaned = text.strip().lower().replace(" ", "")
    if cleaned in LEVEL_WORDS:
        return LEVEL_WORDS[cleaned]
    for word in ("初级", "中级", "高级"):
        if word in cleaned:
            return LEVEL_WORDS[word]
    return None


def parse_status(text: str) -> str | None:
    return STATUS_WORDS.get(text.strip().lower())


def id_stored_as_number(value: object) -> bool:
    """Excel kept an 18-digit ID number as a number, which rounds its last digits away."""
    return isinstance(value, float | int) and not isinstance(value, bool) and value >= 1e15
