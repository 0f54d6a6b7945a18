"""Translations: Chinese (zh_CN) by default, English selectable; every UI string goes through gettext.

Message ids are English; the zh_CN catalog (backend/locale) is compiled in memory at start-up, so the
repository holds only the .po text. The locale of the current request lives in a context variable set by
the request middleware, which is what `_` and the templates read.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LANG_COOKIE = "academy_lang"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@lru_cache
def translations(locale: str) -> NullTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str) -> str:
    return translations(current_locale.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    return message


def normalise_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_").strip()
    lowered = value.lower()
    if lowered in ("zh", "zh_cn", "zh_hans", "zh_hans_cn", "cn"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return None


def choose_locale(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """?lang= first, then the cookie, then Accept-Language, then Chinese."""
    for candidate in (query_lang, cookie_lang):
        locale = normalise_locale(candidate)
        if locale:
            return locale
    if accept_language:
        preferred = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
        match = negotiate_locale(preferred, ["zh_CN", "zh", "en"], sep="_")
        locale = normalise_locale(match)
        if locale:
            return locale
    return DEFAULT_LOCALE


def locale_display_name(locale: str) -> str:
    return Locale.parse(locale).get_display_name(locale) or locale
