"""Taking the exam: starting an attempt (race-safe, one open attempt at a time), saving answers and flags
(one upsert per save, refused after the deadline or the submit), submitting (by the trainee, or by the
server once the deadline has passed) and grading what a machine can grade at submit.

Services only add and flush; the caller's transaction commits. On PostgreSQL a save holds a shared lock
on its attempt row and a submit an exclusive one, so a save can never slip in after the answers were
graded; on SQLite every writing transaction is BEGIN IMMEDIATE, which serialises them the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.courses.grading import answer_from_form, grade_answer, is_blank
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.exams import draw, results
from backend.i18n import _
from backend.models import (
    AttemptStatus,
    Course,
    ExamAnswer,
    ExamAttempt,
    ExamItem,
    QuestionVersion,
    User,
    utcnow,
)

TEXT_LIMIT = 500  # a fill-in or numeric answer
ESSAY_LIMIT = 20_000


class TimeUp(Conflict):
    """A save or flag arrived after the attempt's deadline: it is not stored."""


class AnswersClosed(Conflict):
    """The attempt has been submitted: its answers can no longer change."""


@dataclass(frozen=True)
class SavedAnswer:
    position: int
    answered: bool
    flagged: bool
    saved_at: datetime | None


def open_attempt(session: Session, *, user_id: int, course_id: int) -> ExamAttempt | None:
    query = select(ExamAttempt).where(
        ExamAttempt.user_id == user_id,
        ExamAttempt.course_id == course_id,
        ExamAttempt.status == AttemptStatus.open.value,
    )
    return session.exec(query).first()


def start_attempt(
    session: Session, *, user: User, course: Course, now: datetime | None = None, base_url: str = ""
) -> ExamAttempt:
    """The trainee's open attempt if there is one (after submitting it if its time is up); otherwise a new
    attempt with its own paper, when the trainee may sit the exam (else a Conflict with the reasons)."""
    from backend.exams.service import eligibility  # service imports this module

    now = now or utcnow()
    user_id, course_id = user.id or 0, course.id or 0
    current = open_attempt(session, user_id=user_id, course_id=course_id)
    if current is not None and not is_overdue(current, now):
        return current
    if current is not None:
        submit_attempt(session, attempt_id=current.id or 0, now=now, base_url=base_url)
    state = eligibility(session, user=user, course=course, now=now)
    if state.reasons:
        raise Conflict(" ".join(state.reasons))
    paper = draw.draw_paper(session, course=course)
    if not paper:
        raise Conflict(_("This exam has no questions yet. Please tell the training base."))
    rules = course.exam_rules or {}
    minutes = int(rules.get("time_limit_minutes") or 60)
    attempt = ExamAttempt(
        user_id=user_id,
        course_id=course_id,
        number=state.attempts_used + 1,
        started_at=now,
        deadline=now + timedelta(minutes=minutes),
        title=str(rules.get("title") or course.title)[:200],
        time_limit_minutes=minutes,
        pass_score=float(rules.get("pass_score") or 0),
        max_points=round(sum(item.version.points for item in paper), 4),
    )
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # Another request started attempt N at the same moment and won: continue that one.
        if attempt in session:
            session.expunge(attempt)
        raced = open_attempt(session, user_id=user_id, course_id=course_id)
        if raced is None:
            raise Conflict(_("The exam could not be started just now. Please try again.")) from None
        return raced
    session.add_all(
        [
            ExamItem(
                attempt_id=attempt.id or 0,
                position=position,
                question_id=item.question_id,
                question_version_id=item.version.id or 0,
                type=item.version.type,
                group=item.group,
                points=item.version.points,
                option_order=item.option_order,
            )
            for position, item in enumerate(paper, start=1)
        ]
    )
    session.flush()
    return attempt


def attempts_used(session: Session, *, user_id: int, course_id: int) -> int:
    query = select(func.max(ExamAttempt.number)).where(
        ExamAttempt.user_id == user_id, ExamAttempt.course_id == course_id
    )
    return int(session.exec(query).one() or 0)


def is_overdue(attempt: ExamAttempt, now: datetime | None = None) -> bool:
    return attempt.status == AttemptStatus.open.value and (now or utcnow()) >= attempt.deadline


# ---- saving ------------------------------------------------------------------------------------------------


def save_answer(
    session: Session,
    *,
    attempt_id: int,
    position: int,
    user_id: int,
    answer: Mapping[str, Any] | None = None,
    form: Mapping[str, list[str]] | None = None,
    now: datetime | None = None,
) -> SavedAnswer:
    """Store the latest answer to one question: `answer` in the grading shape (backend.courses.grading)
    or `form` fields (choice, truth, text, value), option positions as shown on the paper. One read, one
    upsert. Raises NotFound (not the user's), AnswersClosed (submitted) or TimeUp (past the deadline)."""
    now = now or utcnow()
    item_id, kind, order = _writable_item(session, attempt_id, position, user_id, now)
    if answer is None:
        answer = answer_from_form(kind, form or {})
    stored = stored_answer(kind, order, answer)
    answered = not is_blank(kind, stored)
    values = {
        "item_id": item_id,
        "attempt_id": attempt_id,
        "answer": stored,
        "answered": answered,
        "flagged": False,
        "saved_at": now,
    }
    statement = _SAVE_ANSWER[session.get_bind().dialect.name == "postgresql"]
    flagged = bool(session.execute(statement, values).scalar_one())
    return SavedAnswer(position, answered, flagged, now)


def set_flag(
    session: Session,
    *,
    attempt_id: int,
    position: int,
    user_id: int,
    flagged: bool,
    now: datetime | None = None,
) -> SavedAnswer:
    """Mark a question for review (or clear the mark); the answer is left as it is."""
    now = now or utcnow()
    item_id, _kind, _order = _writable_item(session, attempt_id, position, user_id, now)
    insert = _insert_for(session)
    values = {"item_id": item_id, "attempt_id": attempt_id, "answer": {}, "answered": False}
    statement = (
        insert(ExamAnswer)
        .values(**values, flagged=flagged, saved_at=now)
        .on_conflict_do_update(index_elements=["item_id"], set_={"flagged": flagged})
        .returning(ExamAnswer.answered, ExamAnswer.saved_at)  # type: ignore[arg-type]
    )
    answered, saved_at = session.execute(statement).one()
    return SavedAnswer(position, bool(answered), flagged, saved_at)


def _upsert_answer(insert: Any) -> Any:
    statement = insert(ExamAnswer)
    return statement.on_conflict_do_update(
        index_elements=["item_id"],
        set_={
            "answer": statement.excluded.answer,
            "answered": statement.excluded.answered,
            "saved_at": statement.excluded.saved_at,
        },
    ).returning(ExamAnswer.flagged)


_ITEM_QUERY = (
    sa_select(
        col(ExamAttempt.user_id),
        col(ExamAttempt.status),
        col(ExamAttempt.deadline),
        col(ExamItem.id),
        col(ExamItem.type),
        col(ExamItem.option_order),
    )
    .join(ExamItem, col(ExamItem.attempt_id) == ExamAttempt.id)
    .where(col(ExamAttempt.id) == bindparam("attempt_id"), col(ExamItem.position) == bindparam("position"))
)
# Saving is the hot write (autosave): its two statements are built once, per dialect (False: SQLite,
# True: PostgreSQL, where the read also takes a shared lock on the attempt row against a concurrent submit).
_WRITABLE_ITEM = {
    False: _ITEM_QUERY,
    True: _ITEM_QUERY.with_for_update(read=True, of=ExamAttempt.__table__),  # type: ignore[attr-defined]
}
_SAVE_ANSWER = {False: _upsert_answer(sqlite_insert), True: _upsert_answer(pg_insert)}


def _writable_item(
    session: Session, attempt_id: int, position: int, user_id: int, now: datetime
) -> tuple[int, str, list[int]]:
    query = _WRITABLE_ITEM[session.get_bind().dialect.name == "postgresql"]
    row = session.execute(query, {"attempt_id": attempt_id, "position": position}).first()
    if row is None or row[0] != user_id:
        raise NotFound(_("There is no such question in this exam."))
    _owner, status, deadline, item_id, kind, order = row
    if status != AttemptStatus.open.value:
        raise AnswersClosed(_("This exam has been submitted: its answers can no longer change."))
    if now >= deadline:
        raise TimeUp(
            _(
                "Time is up: the exam ended at its deadline, so this answer was not saved. "
                "Everything saved before the deadline has been submitted."
            )
        )
    return item_id or 0, kind, list(order or [])


def stored_answer(kind: str, order: list[int], answer: Mapping[str, Any]) -> dict[str, Any]:
    """The answer as stored and graded: shown option positions mapped to the file's option indexes;
    text trimmed to its limit. Unreadable parts are dropped (the answer then counts as blank)."""
    if kind == "single":
        choice = answer.get("choice")
        if isinstance(choice, list) and len(choice) == 1:
            choice = choice[0]
        if isinstance(choice, int) and not isinstance(choice, bool) and 0 <= choice < len(order):
            return {"choice": order[choice]}
        return {}
    if kind == "multiple":
        raw = answer.get("choice")
        picks = raw if isinstance(raw, list) else [raw] if raw is not None else []
        valid = {p for p in picks if isinstance(p, int) and not isinstance(p, bool) and 0 <= p < len(order)}
        return {"choice": sorted(order[p] for p in valid)}
    if kind == "truefalse":
        truth = answer.get("truth")
        return {"truth": truth} if isinstance(truth, bool) else {}
    key = "value" if kind == "numeric" else "text"
    text = answer.get(key)
    if not isinstance(text, str):
        return {}
    limit = ESSAY_LIMIT if kind == "essay" else TEXT_LIMIT
    if len(text) > limit:
        raise ValidationFailed(
            {"answer": _("An answer may be at most %(limit)d characters long.") % {"limit": limit}}
        )
    return {key: text}


def shown_answer(kind: str, order: list[int], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored answer with its option indexes turned back into the positions shown on the paper."""
    if not stored:
        return {}
    if kind in draw.CHOICE_TYPES:
        shown = {index: position for position, index in enumerate(order)}
        choice = stored.get("choice")
        if kind == "single":
            return {"choice": shown[choice]} if isinstance(choice, int) and choice in shown else {}
        picks = choice if isinstance(choice, list) else []
        return {"choice": sorted(shown[index] for index in picks if index in shown)}
    return dict(stored)


def _insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# ---- submitting ------------------------------------------------------------------------------------------


def submit_attempt(
    session: Session,
    *,
    attempt_id: int,
    now: datetime | None = None,
    by_user_id: int | None = None,
    base_url: str = "",
) -> ExamAttempt:
    """Freeze the answers and grade every objective question; the result is final at once when there is
    no essay to grade. Submitting an attempt that is no longer open changes nothing. With `by_user_id`,
    only that trainee's attempt is submitted (NotFound otherwise)."""
    now = now or utcnow()
    query = locked_attempt(attempt_id)
    attempt = session.exec(query).first()
    if attempt is None or (by_user_id is not None and attempt.user_id != by_user_id):
        raise NotFound(_("There is no such exam attempt."))
    if attempt.status != AttemptStatus.open.value:
        return attempt
    pending = 0
    for item, version, answer in paper_rows(session, attempt_id=attempt_id):
        given = answer.answer if answer is not None else {}
        if item.type == "essay":
            if answer is not None and answer.answered:
                item.awarded, item.correct = None, None
                pending += 1
            else:  # nothing written: nothing for a grader to read
                item.awarded, item.correct, item.graded_at = 0.0, False, now
            continue
        result = grade_answer(version, given)
        item.awarded, item.correct, item.graded_at = _points(result.points, item.points), result.correct, now
    attempt.status = AttemptStatus.submitted.value
    attempt.submitted_at = now
    attempt.auto_submitted = now >= attempt.deadline
    session.flush()
    if pending == 0:
        results.finalize(session, attempt=attempt, now=now, base_url=base_url)
    return attempt


def locked_attempt(attempt_id: int) -> Any:
    """SELECT the attempt FOR UPDATE (PostgreSQL; SQLite's writers are serialised anyway), refreshing the
    copy this session may already hold: a submit or grade that waited for the lock sees what the
    other one committed, not what it read before."""
    return (
        select(ExamAttempt)
        .where(ExamAttempt.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def overdue_ids(session: Session, *, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Open attempts whose deadline has passed, the longest overdue first."""
    query = (
        select(ExamAttempt.id)
        .where(ExamAttempt.status == AttemptStatus.open.value, col(ExamAttempt.deadline) <= (now or utcnow()))
        .order_by(col(ExamAttempt.deadline))
        .limit(limit)
    )
    return [attempt_id for attempt_id in session.exec(query) if attempt_id is not None]


def sweep_overdue(
    session: Session, *, now: datetime | None = None, limit: int = 1000, base_url: str = ""
) -> list[int]:
    """Submit every open attempt whose deadline has passed (in the caller's transaction); their ids."""
    now = now or utcnow()
    ids = overdue_ids(session, now=now, limit=limit)
    for attempt_id in ids:
        submit_attempt(session, attempt_id=attempt_id, now=now, base_url=base_url)
    return ids


def paper_rows(
    session: Session, *, attempt_id: int
) -> list[tuple[ExamItem, QuestionVersion, ExamAnswer | None]]:
    """Every item of the attempt in paper order, with its question version and saved answer (one query)."""
    query = (
        select(ExamItem, QuestionVersion, ExamAnswer)
        .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
        .outerjoin(ExamAnswer, col(ExamAnswer.item_id) == ExamItem.id)
        .where(ExamItem.attempt_id == attempt_id)
        .order_by(col(ExamItem.position))
    )
    return [(item, version, answer) for item, version, answer in session.exec(query).all()]


def _points(value: float, maximum: float) -> float:
    if not math.isfinite(value):
        return 0.0
    return round(min(max(value, 0.0), maximum), 4)
