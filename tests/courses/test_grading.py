"""Grading each question type, with the edge cases trainees actually type (full-width, case, spaces, units)."""

from __future__ import annotations

from typing import Any

import pytest

from backend.courses.grading import GradeResult, answer_from_form, grade_answer, is_blank, parse_number
from backend.models import QuestionVersion


def question(kind: str, **fields: Any) -> QuestionVersion:
    defaults: dict[str, Any] = {
        "question_id": 1,
        "number": 1,
        "content_hash": "x",
        "type": kind,
        "points": 2,
        "stem": "题干",
        "source": "",
    }
    return QuestionVersion(**(defaults | fields))


def options(*marks: bool) -> list[dict[str, Any]]:
    return [{"text": f"选项{index}", "correct": mark} for index, mark in enumerate(marks)]


SINGLE = question("single", options=options(False, True, False))
MULTIPLE_ALL = question("multiple", options=options(True, True, False, False), points=4)
MULTIPLE_PARTIAL = question("multiple", options=options(True, True, True, False), points=3, scoring="partial")


def test_single_choice() -> None:
    assert grade_answer(SINGLE, {"choice": 1}) == GradeResult(True, 2.0, 2.0)
    assert grade_answer(SINGLE, {"choice": 0}) == GradeResult(False, 0.0, 2.0)
    for malformed in (
        {},
        {"choice": None},
        {"choice": [1]},
        {"choice": "1"},
        {"choice": True},
        {"choice": 7},
    ):
        assert grade_answer(SINGLE, malformed).correct is False, malformed


def test_multiple_all_or_nothing() -> None:
    assert grade_answer(MULTIPLE_ALL, {"choice": [1, 0]}) == GradeResult(True, 4.0, 4.0)
    assert grade_answer(MULTIPLE_ALL, {"choice": [0]}) == GradeResult(False, 0.0, 4.0)
    assert grade_answer(MULTIPLE_ALL, {"choice": [0, 1, 2]}) == GradeResult(False, 0.0, 4.0)
    assert grade_answer(MULTIPLE_ALL, {"choice": []}).points == 0


@pytest.mark.parametrize(
    ("picks", "points"),
    [
        ([0, 1, 2], 3.0),  # exact: full marks
        ([0, 1], 2.0),  # two of three right options
        ([0], 1.0),
        ([0, 1, 3], 1.0),  # two right, one wrong: (2 − 1) / 3
        ([0, 3], 0.0),  # one right, one wrong
        ([3], 0.0),  # floored at zero, never negative
        ([0, 1, 2, 3], 2.0),  # ticking everything costs the wrong pick
        ([], 0.0),
    ],
)
def test_multiple_partial_credit(picks: list[int], points: float) -> None:
    result = grade_answer(MULTIPLE_PARTIAL, {"choice": picks})
    assert result.points == pytest.approx(points)
    assert result.max_points == 3.0
    assert result.correct is (picks == [0, 1, 2])


def test_partial_credit_rounds_sensibly() -> None:
    result = grade_answer(MULTIPLE_PARTIAL, {"choice": [0]})
    assert result.points == pytest.approx(1.0)
    seven = question("multiple", options=options(True, True, True, False), points=1, scoring="partial")
    assert grade_answer(seven, {"choice": [0]}).points == pytest.approx(0.3333, abs=1e-4)


def test_answers_refer_to_file_order_even_when_shown_shuffled() -> None:
    # An exam that showed option 2 first still sends back its original index.
    assert grade_answer(SINGLE, {"choice": 1}).correct is True


def test_truefalse() -> None:
    true_q = question("truefalse", truth=True)
    false_q = question("truefalse", truth=False)
    assert grade_answer(true_q, {"truth": True}).correct is True
    assert grade_answer(true_q, {"truth": False}).correct is False
    assert grade_answer(false_q, {"truth": False}) == GradeResult(True, 2.0, 2.0)
    assert grade_answer(false_q, {}).correct is False
    assert grade_answer(false_q, {"truth": "false"}).correct is False  # the shape is a bool, not text


@pytest.mark.parametrize(
    ("typed", "right"),
    [
        ("促进科技成果转化", True),
        ("  促进科技成果转化  ", True),  # surrounding spaces
        ("促进科技成果转化法", True),  # the second accepted answer
        ("促进 科技成果转化", False),  # inner spaces are not ignored, only collapsed
        ("ＰＣＴ", True),  # full-width letters
        ("pct", True),  # case
        ("P C T", False),
        ("科技成果转化", False),
        ("", False),
    ],
)
def test_fill(typed: str, right: bool) -> None:
    fill = question("fill", accepted=["促进科技成果转化", "促进科技成果转化法", "PCT"])
    assert grade_answer(fill, {"text": typed}).correct is right


def test_fill_with_full_width_brackets_and_digits() -> None:
    fill = question("fill", accepted=["第45条（一）"])
    assert grade_answer(fill, {"text": "第４５条(一)"}).correct is True


@pytest.mark.parametrize(
    ("typed", "right"),
    [
        ("50", True),
        ("49.5", True),  # the interval is inclusive
        ("50.5", True),
        ("50.5000000000001", True),  # float noise at the edge
        ("50.51", False),
        ("49.49", False),
        ("５０", True),  # full-width digits
        ("５０．２", True),
        ("50%", True),  # a trailing unit is ignored
        ("50 万元", True),
        (" +50 ", True),
        ("1e3", False),
        ("五十", False),
        ("50-60", False),
        ("", False),
    ],
)
def test_numeric_with_tolerance(typed: str, right: bool) -> None:
    numeric = question("numeric", numeric_low=49.5, numeric_high=50.5)
    assert grade_answer(numeric, {"value": typed}).correct is right


def test_numeric_range_and_exact() -> None:
    ranged = question("numeric", numeric_low=50, numeric_high=70)
    assert [grade_answer(ranged, {"value": v}).correct for v in ("50", "60.5", "70", "70.01", "1,000")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    exact = question("numeric", numeric_low=0.3, numeric_high=0.3, points=1.5)
    assert grade_answer(exact, {"value": "0.3"}) == GradeResult(True, 1.5, 1.5)
    assert grade_answer(exact, {"value": 0.1 + 0.2}).correct is True  # 0.30000000000000004
    big = question("numeric", numeric_low=1000, numeric_high=1000)
    assert grade_answer(big, {"value": "1,000"}).correct is True
    assert grade_answer(big, {"value": "１，０００ 元"}).correct is True


def test_parse_number() -> None:
    assert parse_number("−5") == -5
    assert parse_number(".5") == 0.5
    assert parse_number("1000,5") is None  # a decimal comma is not guessed
    assert parse_number("1.2.3") is None
    assert parse_number("abc") is None
    assert parse_number("inf") is None


def test_essay_waits_for_a_person() -> None:
    essay = question("essay", points=10, explanation="评分要点")
    assert grade_answer(essay, {"text": "我的分析"}) == GradeResult(None, 0.0, 10.0)


def test_unknown_type_scores_nothing() -> None:
    assert grade_answer(question("matching"), {"text": "x"}) == GradeResult(False, 0.0, 2.0)


def test_answers_from_form_fields() -> None:
    assert answer_from_form("single", {"choice": ["2"]}) == {"choice": 2}
    assert answer_from_form("single", {"choice": ["1", "2"]}) == {}
    assert answer_from_form("multiple", {"choice": ["2", "0", "x", "2"]}) == {"choice": [0, 2]}
    assert answer_from_form("truefalse", {"truth": ["false"]}) == {"truth": False}
    assert answer_from_form("truefalse", {"truth": ["maybe"]}) == {}
    assert answer_from_form("fill", {"text": [" 答案 "]}) == {"text": " 答案 "}
    assert answer_from_form("numeric", {"value": ["50"]}) == {"value": "50"}
    assert answer_from_form("essay", {}) == {"text": ""}


def test_blank_answers() -> None:
    assert is_blank("single", {}) and is_blank("multiple", {"choice": []})
    assert is_blank("truefalse", {}) and not is_blank("truefalse", {"truth": False})
    assert is_blank("fill", {"text": "   "}) and not is_blank("fill", {"text": "x"})
    assert is_blank("numeric", {"value": ""}) and not is_blank("numeric", {"value": "0"})
    assert is_blank("essay", {"text": ""})
