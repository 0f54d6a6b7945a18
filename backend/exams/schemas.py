"""What the exam API reads and returns. Before an attempt's result is final nothing here carries a right
answer, a correctness mark or a marking guide."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from backend.exams.attempts import ESSAY_LIMIT, SavedAnswer
from backend.exams.results import AttemptResult
from backend.exams.service import PaperItem
from backend.models import ExamAttempt


class AnswerIn(BaseModel):
    """One answer, by question type: `choice` (single: a position; multiple: a list of positions, as
    the options are listed in the paper, 0-based), `truth` (truefalse), `text` (fill, essay) or `value`
    (numeric). An empty answer clears the saved one."""

    choice: int | list[int] | None = None
    truth: bool | None = None
    text: str | None = Field(default=None, max_length=ESSAY_LIMIT)
    value: str | None = Field(default=None, max_length=500)

    def as_answer(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class AnswerSaved(BaseModel):
    position: int
    answered: bool
    flagged: bool
    saved_at: datetime | None

    @classmethod
    def of(cls, saved: SavedAnswer) -> AnswerSaved:
        return cls(
            position=saved.position, answered=saved.answered, flagged=saved.flagged, saved_at=saved.saved_at
        )


class PaperItemPublic(BaseModel):
    position: int
    type: str
    points: float
    group: str
    stem: str  # markdown
    options: list[str]  # as listed on the paper; `choice` positions refer to this list
    answer: dict[str, Any]
    answered: bool
    flagged: bool
    saved_at: datetime | None

    @classmethod
    def of(cls, item: PaperItem) -> PaperItemPublic:
        return cls(
            position=item.position,
            type=item.type,
            points=item.points,
            group=item.group,
            stem=item.stem,
            options=item.options,
            answer=item.answer,
            answered=item.answered,
            flagged=item.flagged,
            saved_at=item.saved_at,
        )


class AttemptPublic(BaseModel):
    id: int
    course_slug: str
    number: int
    title: str
    status: str  # open | submitted | graded
    started_at: datetime
    deadline: datetime
    seconds_left: int
    submitted_at: datetime | None
    auto_submitted: bool
    max_points: float
    items: list[PaperItemPublic]

    @classmethod
    def of(
        cls, attempt: ExamAttempt, *, slug: str, seconds_left: int, paper: list[PaperItem]
    ) -> AttemptPublic:
        return cls(
            id=attempt.id or 0,
            course_slug=slug,
            number=attempt.number,
            title=attempt.title,
            status=attempt.status,
            started_at=attempt.started_at,
            deadline=attempt.deadline,
            seconds_left=seconds_left,
            submitted_at=attempt.submitted_at,
            auto_submitted=attempt.auto_submitted,
            max_points=attempt.max_points,
            items=[PaperItemPublic.of(item) for item in paper],
        )


class GroupScorePublic(BaseModel):
    group: str
    points: float | None  # None until the result is final
    max_points: float


class ReviewItemPublic(BaseModel):
    position: int
    type: str
    stem: str
    options: list[str]
    answer: dict[str, Any]  # option positions as listed
    right_answer: dict[str, Any]  # the same shape; for an essay: {}
    points: float
    awarded: float
    correct: bool | None
    explanation: str  # empty for essays (their marking guide stays with the graders)
    comment: str


class ResultPublic(BaseModel):
    attempt_id: int
    status: str
    final: bool
    pending_essays: int
    score_points: float | None
    max_points: float
    score_percent: float | None
    pass_score: float
    passed: bool | None
    groups: list[GroupScorePublic]
    review: list[ReviewItemPublic]

    @classmethod
    def of(cls, outcome: AttemptResult) -> ResultPublic:
        from backend.exams.attempts import shown_answer

        attempt = outcome.attempt
        review = []
        for entry in outcome.review:
            item, version = entry.item, entry.version
            order = list(item.option_order or [])
            review.append(
                ReviewItemPublic(
                    position=item.position,
                    type=item.type,
                    stem=version.stem,
                    options=[str(version.options[index].get("text", "")) for index in order],
                    answer=shown_answer(item.type, order, entry.answer),
                    right_answer=_right_answer(item.type, order, version),
                    points=item.points,
                    awarded=item.awarded or 0.0,
                    correct=item.correct,
                    explanation="" if item.type == "essay" else version.explanation,
                    comment=item.comment,
                )
            )
        groups = [
            GroupScorePublic(
                group=g.group, points=g.points if outcome.final else None, max_points=g.max_points
            )
            for g in outcome.groups
        ]
        return cls(
            attempt_id=attempt.id or 0,
            status=attempt.status,
            final=outcome.final,
            pending_essays=outcome.pending,
            score_points=attempt.score_points if outcome.final else None,
            max_points=attempt.max_points,
            score_percent=attempt.score_percent if outcome.final else None,
            pass_score=attempt.pass_score,
            passed=attempt.passed if outcome.final else None,
            groups=groups,
            review=review,
        )


def _right_answer(kind: str, order: list[int], version: Any) -> dict[str, Any]:
    if kind in ("single", "multiple"):
        right = [position for position, index in enumerate(order) if version.options[index].get("correct")]
        return {"choice": right[0] if kind == "single" and right else right}
    if kind == "truefalse":
        return {"truth": version.truth}
    if kind == "fill":
        return {"accepted": list(version.accepted)}
    if kind == "numeric":
        return {"low": version.numeric_low, "high": version.numeric_high}
    return {}
