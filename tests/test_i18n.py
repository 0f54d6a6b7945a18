"""Every UI string in the code and templates has a Chinese translation (the default language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "backend" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [("backend/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, options_map=OPTIONS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, filename)
    return found


def test_every_ui_string_is_translated_to_chinese() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
    missing = [f"{where}: {msgid!r}" for msgid, where in _extracted().items() if not translated.get(msgid)]
    assert not missing, "run `make i18n` and translate these in messages.po:\n" + "\n".join(missing)
