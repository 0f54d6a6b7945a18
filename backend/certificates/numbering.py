"""Certificate numbers: the configurable pattern (by default region + year + level + a 5-digit sequence
per year and level + an ISO 7064 MOD 11-2 check character), the counter that hands out sequences
inside the issuing transaction, and the check that catches a mistyped number before any lookup.

The counter is one row per (year, level), bumped with an atomic upsert (`INSERT ... ON CONFLICT DO
UPDATE ... RETURNING`, SQLite ≥ 3.35 and PostgreSQL): the row stays locked until the issuing transaction
ends, so concurrent issuers queue on it, and a rolled-back issue gives its number back (no gaps).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from backend.accounts.idcard import mod11_2_check_char
from backend.errors import Conflict
from backend.i18n import N_, _
from backend.models import CertificateCounter

FIELDS = frozenset({"region", "year", "level", "seq", "check"})
FULL_WIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")
SAMPLE = {"region": "", "year": 2000, "level": 1, "seq": 1}


@dataclass(frozen=True)
class NumberPattern:
    """A parsed pattern: the part before {check}, and whether a check character ends it."""

    body: str
    has_check: bool
    seq_width: int | None  # the zero-padded width of {seq:0Nd}; None without padding

    @classmethod
    def parse(cls, pattern: str) -> NumberPattern:
        has_check = pattern.endswith("{check}")
        body = pattern[: -len("{check}")] if has_check else pattern
        width = None
        for _text, name, spec, _conv in string.Formatter().parse(body):
            if name == "seq" and spec and re.fullmatch(r"0\d+d", spec):
                width = int(spec[1:-1])
        return cls(body=body, has_check=has_check, seq_width=width)

    def fields(self) -> set[str]:
        return {name for _t, name, _s, _c in string.Formatter().parse(self.body) if name}

    def counter_key(self, *, year: int, level: int) -> tuple[int, int]:
        """Sequences run per year and per level only when the number shows them; otherwise one
        sequence spans them, so two certificates can never get the same number."""
        names = self.fields()
        return (year if "year" in names else 0, level if "level" in names else 0)

    def render(self, *, region: str, year: int, level: int, seq: int) -> str:
        if self.seq_width is not None and seq >= 10**self.seq_width:
            raise Conflict(
                _("Certificate numbers of %(year)d at this level are used up (%(max)d); change the pattern.")
                % {"year": year, "max": 10**self.seq_width - 1}
            )
        body = self.body.format(region=region, year=year, level=level, seq=seq)
        return body + mod11_2_check_char(body) if self.has_check else body


def pattern_problem(pattern: str, region: str) -> str | None:
    """Why a number pattern (with this region code) cannot be used, or None."""
    try:
        parsed = NumberPattern.parse(pattern)
        names = parsed.fields()
        if "check" in names:
            return "{check} may only end the pattern"
        if not names <= FIELDS:
            return f"unknown fields {sorted(names - FIELDS)}; use {sorted(FIELDS)}"
        if "seq" not in names:
            return "the pattern needs {seq}"
        sample = parsed.body.format(**{**SAMPLE, "region": region})
    except (ValueError, KeyError, IndexError) as error:
        return f"not a valid pattern: {error}"
    if parsed.has_check and not sample.isdigit():
        return "with {check} the number before it must be digits only (region code too)"
    return None


def next_sequence(session: Session, *, year: int, level: int) -> int:
    """The next sequence number for (year, level), taken inside the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = CertificateCounter.__table__  # type: ignore[attr-defined]
    upsert = insert(table).values(year=year, level=level, value=1)
    statement = upsert.on_conflict_do_update(
        index_elements=["year", "level"], set_={"value": table.c.value + 1}
    ).returning(table.c.value)
    return int(session.execute(statement).scalar_one())


def allocate_number(session: Session, *, pattern: str, region: str, year: int, level: int) -> str:
    parsed = NumberPattern.parse(pattern)
    counter_year, counter_level = parsed.counter_key(year=year, level=level)
    seq = next_sequence(session, year=counter_year, level=counter_level)
    return parsed.render(region=region, year=year, level=level, seq=seq)


# ---- reading a typed number -------------------------------------------------------------------------


def normalise_number(value: str) -> str:
    """As typed or scanned: spaces and dashes dropped, full-width digits made ASCII, x made X."""
    return re.sub(r"[\s\-_]", "", value.translate(FULL_WIDTH)).upper()


def number_problem(number: str, *, pattern: str, region: str) -> str | None:
    """A message id when `number` has the shape of this platform's numbers but its check character
    does not match (a typing error); None when it matches or does not look like one of ours (a legacy
    number, say), which then goes on to the lookup."""
    parsed = NumberPattern.parse(pattern)
    if not parsed.has_check:
        return None
    sample = parsed.render(region=region, year=2000, level=1, seq=1)
    body, check = number[:-1], number[-1:]
    if len(number) != len(sample) or not body.isdigit() or not (check.isdigit() or check == "X"):
        return None
    if mod11_2_check_char(body) != check:
        return N_(
            "The check character (the last one) does not match the rest of the number: "
            "a character was probably mistyped. Compare it with the certificate again."
        )
    return None
