"""Item statistics of a course's exam questions, computed from submitted attempts.

- times drawn: in how many submitted attempts the question was on the paper;
- share correct: the mean share of the question's points earned, over final (fully graded) attempts
  (for an all-or-nothing question this is the share of right answers);
- discrimination index: the share correct among the upper 27% of final attempts by total score minus
  the share correct among the lower 27% (classical test theory). It says little with few attempts, so it
  is None (shown "—") when the question is in fewer than MIN_ATTEMPTS final attempts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from backend.models import AttemptStatus, ExamAttempt, ExamItem

MIN_ATTEMPTS = 10
GROUP_SHARE = 0.27


@dataclass(frozen=True)
class ItemStats:
    drawn: int
    share_correct: float | None  # 0..1; None without a final attempt
    discrimination: float | None  # -1..1; None with fewer than MIN_ATTEMPTS final attempts
    final_attempts: int


EMPTY = ItemStats(0, None, None, 0)


def item_statistics(session: Session, *, course_id: int) -> dict[int, ItemStats]:
    """Question id → its statistics, for every question drawn in a submitted attempt (one query)."""
    query = (
        select(
            col(ExamItem.question_id),
            col(ExamItem.attempt_id),
            col(ExamItem.points),
            col(ExamItem.awarded),
            col(ExamAttempt.status),
        )
        .join(ExamAttempt, col(ExamAttempt.id) == ExamItem.attempt_id)
        .where(col(ExamAttempt.course_id) == course_id, col(ExamAttempt.status) != AttemptStatus.open.value)
    )
    drawn: dict[int, int] = defaultdict(int)
    credit: dict[int, dict[int, float]] = defaultdict(dict)  # question → final attempt → share earned
    totals: dict[int, float] = defaultdict(float)  # final attempt → points earned
    for question_id, attempt_id, points, awarded, status in session.execute(query):
        drawn[question_id] += 1
        if status == AttemptStatus.graded.value:
            share = (awarded or 0.0) / points if points else 0.0
            credit[question_id][attempt_id] = share
            totals[attempt_id] += awarded or 0.0
    upper, lower = _extreme_groups(totals)
    found = {}
    for question_id, count in drawn.items():
        shares = credit.get(question_id, {})
        share = sum(shares.values()) / len(shares) if shares else None
        found[question_id] = ItemStats(count, share, _discrimination(shares, upper, lower), len(shares))
    return found


def _extreme_groups(totals: dict[int, float]) -> tuple[set[int], set[int]]:
    """The upper and lower 27% of final attempts by total points (at least one attempt each)."""
    ranked = sorted(totals, key=lambda attempt_id: (totals[attempt_id], attempt_id))
    size = max(1, math.floor(len(ranked) * GROUP_SHARE + 0.5)) if ranked else 0
    return set(ranked[-size:]) if size else set(), set(ranked[:size])


def _discrimination(shares: dict[int, float], upper: set[int], lower: set[int]) -> float | None:
    if len(shares) < MIN_ATTEMPTS:
        return None
    high = [share for attempt_id, share in shares.items() if attempt_id in upper]
    low = [share for attempt_id, share in shares.items() if attempt_id in lower]
    if not high or not low:
        return None
    return round(sum(high) / len(high) - sum(low) / len(low), 3)
