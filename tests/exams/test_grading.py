"""Grading at submit, type by type, through the exam's own path (answers given as the paper shows the
options, which may be shuffled): fill ignores case, surrounding spaces and full-/half-width; numeric
tolerance and ranges; multiple all-or-nothing or partial; blank answers score nothing; essays wait."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from backend.exams import attempts
from backend.models import Course, ExamAttempt, ExamItem, User
from tests.exams.support import PaperRow, paper


@pytest.fixture
def attempt(db: Session, course: Course, ready_trainee: User) -> ExamAttempt:
    started = attempts.start_attempt(db, user=ready_trainee, course=course)
    db.commit()
    return started


def _grade(db: Session, attempt: ExamAttempt, answers: dict[str, Any]) -> dict[str, ExamItem]:
    rows = paper(db, attempt.id or 0)
    for qid, answer in answers.items():
        value = answer(rows[qid]) if callable(answer) else answer
        attempts.save_answer(
            db, attempt_id=attempt.id or 0, position=rows[qid].position, user_id=attempt.user_id, answer=value
        )
    db.commit()
    attempts.submit_attempt(db, attempt_id=attempt.id or 0)
    db.commit()
    items = {i.position: i for i in db.exec(select(ExamItem).where(ExamItem.attempt_id == attempt.id))}
    return {qid: items[row.position] for qid, row in rows.items()}


def _right_single(row: PaperRow) -> dict[str, Any]:
    return {"choice": row.right_positions()[0]}


@pytest.mark.parametrize(
    ("given", "right"),
    [
        ("促进科技成果转化", True),
        ("  促进科技成果转化法  ", True),  # surrounding spaces
        ("促进科技成果转化\u3000", True),  # a full-width space
        ("促進科技成果轉化", False),  # traditional characters are other characters
        ("", False),
    ],
)
def test_fill_in_the_blank(db: Session, attempt: ExamAttempt, given: str, right: bool) -> None:
    graded = _grade(db, attempt, {"law-fill": {"text": given}})
    assert graded["law-fill"].correct is right
    assert graded["law-fill"].awarded == (1 if right else 0)


def test_fill_ignores_case_and_width(db: Session, course: Course, ready_trainee: User) -> None:
    from backend.courses.grading import grade_answer
    from backend.models import QuestionVersion

    version = QuestionVersion(
        question_id=0,
        number=1,
        content_hash="",
        type="fill",
        points=2,
        stem="?",
        source="",
        accepted=["PCT Treaty"],
    )
    for given in ("pct treaty", "ＰＣＴ　Ｔｒｅａｔｙ", "  Pct   treaty "):
        assert grade_answer(version, {"text": given}).points == 2
    assert grade_answer(version, {"text": "PCT"}).points == 0


@pytest.mark.parametrize(
    ("qid", "given", "right"),
    [
        ("law-percent", "50", True),
        ("law-percent", "49.5", True),  # the edge of 50 ± 0.5
        ("law-percent", "50.6", False),
        ("law-percent", "５０", True),  # full-width digits
        ("law-percent", "50%", True),  # a unit after the number
        ("law-range", "70", True),
        ("law-range", "45", False),
        ("practice-exact", "1", True),
        ("practice-exact", "1.0001", False),
        ("practice-exact", "abc", False),
    ],
)
def test_numeric_tolerance_and_range(
    db: Session, attempt: ExamAttempt, qid: str, given: str, right: bool
) -> None:
    graded = _grade(db, attempt, {qid: {"value": given}})
    assert graded[qid].correct is right


def test_multiple_all_or_nothing_and_partial(db: Session, attempt: ExamAttempt) -> None:
    def one_right(row: PaperRow) -> dict[str, Any]:
        return {"choice": row.right_positions()[:1]}

    def one_right_one_wrong(row: PaperRow) -> dict[str, Any]:
        return {"choice": row.right_positions()[:2] + row.wrong_positions()[:1]}

    graded = _grade(db, attempt, {"basics-multiple": one_right, "practice-multiple": one_right_one_wrong})
    # basics-multiple: scoring=partial, 2 right options, 1 picked → half of 1 point
    assert graded["basics-multiple"].awarded == 0.5 and graded["basics-multiple"].correct is False
    # practice-multiple: all-or-nothing
    assert graded["practice-multiple"].awarded == 0 and graded["practice-multiple"].correct is False


def test_multiple_partial_wrong_picks_take_shares_back(db: Session, attempt: ExamAttempt) -> None:
    def everything(row: PaperRow) -> dict[str, Any]:
        return {"choice": list(range(len(row.order)))}

    graded = _grade(db, attempt, {"basics-multiple": everything, "practice-multiple": everything})
    assert graded["basics-multiple"].awarded == 0.5  # 2 right − 1 wrong of 2 right
    assert graded["practice-multiple"].awarded == 0


def test_every_right_answer_scores_full_marks_with_shuffled_options(
    db: Session, attempt: ExamAttempt
) -> None:
    def right(row: PaperRow) -> dict[str, Any]:
        if row.type == "single":
            return {"choice": row.right_positions()[0]}
        if row.type == "multiple":
            return {"choice": row.right_positions()}
        if row.type == "truefalse":
            return {"truth": bool(row.version.truth)}
        if row.type == "fill":
            return {"text": row.version.accepted[-1]}
        if row.type == "numeric":
            return {"value": str(row.version.numeric_high)}
        return {"text": "答案"}

    rows = paper(db, attempt.id or 0)
    graded = _grade(db, attempt, dict.fromkeys(rows, right))
    objective = {qid: item for qid, item in graded.items() if item.type != "essay"}
    assert all(item.correct and item.awarded == item.points for item in objective.values())
    assert graded["practice-case"].awarded is None  # the essay waits for a grader
    db.refresh(attempt)
    assert attempt.status == "submitted" and attempt.score_percent is None


def test_single_choice_maps_the_shown_position_back(db: Session, attempt: ExamAttempt) -> None:
    rows = paper(db, attempt.id or 0)
    wrong = rows["law-045-reward"].wrong_positions()[0]
    graded = _grade(db, attempt, {"basics-single": _right_single, "law-045-reward": {"choice": wrong}})
    assert graded["basics-single"].correct is True and graded["basics-single"].awarded == 2
    assert graded["law-045-reward"].awarded == 0


def test_true_false_and_unreadable_answers(db: Session, attempt: ExamAttempt) -> None:
    graded = _grade(
        db,
        attempt,
        {
            "basics-truefalse": {"truth": True},
            "practice-false": {"truth": "false"},  # a string is not a truth value: blank
            "basics-single": {"choice": 99},  # no such option: blank
        },
    )
    assert graded["basics-truefalse"].correct is True
    assert graded["practice-false"].awarded == 0
    assert graded["basics-single"].awarded == 0


def test_blank_essay_scores_zero_without_a_grader(db: Session, attempt: ExamAttempt) -> None:
    rows = paper(db, attempt.id or 0)
    graded = _grade(
        db,
        attempt,
        {"practice-case": {"text": "   "}, "law-fill": {"text": rows["law-fill"].version.accepted[0]}},
    )
    assert graded["practice-case"].awarded == 0
    db.refresh(attempt)
    assert attempt.status == "graded"  # nothing to grade by hand: final at once
    assert attempt.score_points == 1 and attempt.passed is False
    assert attempt.score_percent == round(100 / attempt.max_points, 2)
