"""The password rules a new password must meet: a minimum length and not a commonly used password."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from backend.i18n import _

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")


@lru_cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str, *, min_length: int, email: str = "") -> str | None:
    """None when the password is acceptable, else a translated message saying what to change."""
    if len(password) < min_length:
        return _("The password must have at least %(n)d characters.") % {"n": min_length}
    lowered = password.lower()
    local_part = email.split("@")[0].lower()
    if lowered in common_passwords() or len(set(lowered)) <= 2 or (local_part and lowered == local_part):
        return _("This password is too common or easy to guess; choose another.")
    return None
