"""Loading an attempt for a request: only for who may see it (anyone else gets 404), and submitted on the
spot when its deadline has passed, even by a reading request (through the writer engine, in a short
transaction of its own, since a GET's own transaction must not write)."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from backend.errors import NotFound
from backend.exams import attempts, service
from backend.i18n import _
from backend.models import ExamAttempt, User


def base_url(request: Request) -> str:
    return str(request.app.state.settings.public_base_url)


def schedule_mail(request: Request) -> None:
    """Send the emails this request queued (a result that became final) once it has committed."""
    try:
        from backend.notifications.service import schedule_delivery
    except ImportError:  # the notifications feature is not there: nothing was queued
        return
    schedule_delivery(request)


def load_attempt(request: Request, session: Session, *, attempt_id: int, viewer: User) -> ExamAttempt:
    """The attempt as it is now: visible to `viewer`, and submitted first if its time is up."""
    attempt = service.visible_attempt(session, attempt_id=attempt_id, viewer=viewer)
    if not attempts.is_overdue(attempt):
        return attempt
    if request.method in ("GET", "HEAD"):
        with Session(request.app.state.writer_engine, expire_on_commit=False) as writer:
            attempts.submit_attempt(writer, attempt_id=attempt_id, base_url=base_url(request))
            writer.commit()
        schedule_mail(request)
        session.rollback()  # end the read snapshot, so the next read sees the submitted attempt
        return service.visible_attempt(session, attempt_id=attempt_id, viewer=viewer)
    attempts.submit_attempt(session, attempt_id=attempt_id, base_url=base_url(request))
    schedule_mail(request)
    return attempt


def own_attempt(request: Request, session: Session, *, attempt_id: int, user: User) -> ExamAttempt:
    """The signed-in trainee's own attempt (staff may read attempts, but only their owner takes one)."""
    attempt = load_attempt(request, session, attempt_id=attempt_id, viewer=user)
    if attempt.user_id != user.id:
        raise NotFound(_("There is no such exam attempt."))
    return attempt
