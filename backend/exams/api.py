"""The exam JSON API (bearer tokens): start an attempt or get the open one, read its state, save an answer,
submit, read the result. Right answers and marking guides appear only in a final result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backend.accounts.deps import ApiUser, BearerToken, SettingsDep
from backend.accounts.service import session_user_id
from backend.config import Settings
from backend.db import SessionDep
from backend.exams import attempts, results, service
from backend.exams.deps import base_url, load_attempt, own_attempt, schedule_mail
from backend.exams.schemas import AnswerIn, AnswerSaved, AttemptPublic, ResultPublic
from backend.i18n import _
from backend.models import ExamAttempt

api = APIRouter(prefix="/api/v1/exams", tags=["exams"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such attempt or question, or not yours"},
    409: {"description": "Submitted already, or the deadline has passed (the answer is not stored)"},
}


def _state(session: SessionDep, attempt: ExamAttempt) -> AttemptPublic:
    course = service.get_course_by_id(session, course_id=attempt.course_id)
    paper = service.attempt_paper(session, attempt=attempt)
    return AttemptPublic.of(
        attempt, slug=course.slug, seconds_left=service.seconds_left(attempt), paper=paper
    )


@api.post(
    "/{course_slug}/attempts",
    response_model=AttemptPublic,
    status_code=201,
    responses={200: {"description": "The attempt already open", "model": AttemptPublic}, 409: {}},
)
def start(request: Request, session: SessionDep, user: ApiUser, course_slug: str) -> Response:
    """Start an attempt (201), or return the one already open (200)."""
    course = service.get_course(session, slug=course_slug)
    before = attempts.open_attempt(session, user_id=user.id or 0, course_id=course.id or 0)
    attempt = attempts.start_attempt(session, user=user, course=course, base_url=base_url(request))
    schedule_mail(request)  # an overdue attempt may have been submitted first
    status = 200 if before is not None and before.id == attempt.id else 201
    return JSONResponse(_state(session, attempt).model_dump(mode="json"), status_code=status)


@api.get("/attempts/{attempt_id}", response_model=AttemptPublic, responses={404: _ERRORS[404]})
def get_attempt(request: Request, session: SessionDep, user: ApiUser, attempt_id: int) -> AttemptPublic:
    """The paper (without right answers), every saved answer and the deadline."""
    attempt = load_attempt(request, session, attempt_id=attempt_id, viewer=user)
    return _state(session, attempt)


@api.put("/attempts/{attempt_id}/answers/{position}", response_model=AnswerSaved, responses=_ERRORS)
async def save_answer(
    request: Request,
    settings: SettingsDep,
    token: BearerToken,
    attempt_id: int,
    position: int,
    answer: AnswerIn,
) -> Response:
    """Save the answer to question `position` (1-based); the latest save wins."""
    # Autosave is the write that comes in bursts (a whole class at once), so its write transaction is kept
    # as short as it can be: the sign-in check reads first, outside it; then, in this process's turn to
    # write (SQLite, see backend/db.py), the check of the attempt, the upsert and the commit run in one
    # trip to the thread pool.
    state = request.app.state
    user_id = await run_in_threadpool(_signed_in_user_id, state.engine, settings, token)
    queue = state.write_queue.lock() if getattr(state, "write_queue", None) is not None else None
    if queue is None:
        return await run_in_threadpool(_save_answer, request, user_id, attempt_id, position, answer)
    async with queue:
        return await run_in_threadpool(_save_answer, request, user_id, attempt_id, position, answer)


def _signed_in_user_id(engine: Engine, settings: Settings, token: str | None) -> int:
    with Session(engine) as session:
        user_id = session_user_id(session, settings=settings, token=token)
    if user_id is None:
        raise HTTPException(
            status_code=401, detail=_("Not signed in."), headers={"WWW-Authenticate": "Bearer"}
        )
    return user_id


def _save_answer(
    request: Request, user_id: int, attempt_id: int, position: int, answer: AnswerIn
) -> Response:
    with Session(request.app.state.writer_engine, expire_on_commit=False) as session:
        try:
            saved = attempts.save_answer(
                session, attempt_id=attempt_id, position=position, user_id=user_id, answer=answer.as_answer()
            )
        except attempts.TimeUp as late:
            attempts.submit_attempt(session, attempt_id=attempt_id, base_url=base_url(request))
            session.commit()
            schedule_mail(request)
            return JSONResponse({"detail": late.message}, status_code=409)
        session.commit()
    return JSONResponse(AnswerSaved.of(saved).model_dump(mode="json"))


@api.post("/attempts/{attempt_id}/submit", response_model=AttemptPublic, responses={404: _ERRORS[404]})
def submit(request: Request, session: SessionDep, user: ApiUser, attempt_id: int) -> AttemptPublic:
    """Submit with what is saved; submitting again changes nothing."""
    own_attempt(request, session, attempt_id=attempt_id, user=user)
    attempt = attempts.submit_attempt(
        session, attempt_id=attempt_id, by_user_id=user.id, base_url=base_url(request)
    )
    schedule_mail(request)
    return _state(session, attempt)


@api.get("/attempts/{attempt_id}/result", response_model=ResultPublic, responses={404: _ERRORS[404]})
def result(request: Request, session: SessionDep, user: ApiUser, attempt_id: int) -> ResultPublic:
    """Score, pass or fail and points per syllabus group once final, with the review."""
    attempt = load_attempt(request, session, attempt_id=attempt_id, viewer=user)
    return ResultPublic.of(results.attempt_result(session, attempt=attempt))
