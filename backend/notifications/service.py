"""The outbox: `notify` queues an email in the caller's transaction; `deliver_pending` sends what is due
after the commit (by SMTP, or keeps it in the outbox when no SMTP server is configured).

Feature routes do:

    notify(session, user=user, to_email=user.email, kind=m.kind, subject=m.subject, body=m.body)
    schedule_delivery(request)   # sends once the request's transaction has committed

Delivery is at least once: a row is claimed (attempts + 1, attempted_at = now) in its own short
transaction before the SMTP conversation and marked sent or failed afterwards, so several workers can
deliver at the same time without sending a message twice, and a worker that dies mid-send leaves the row
to be tried again once its lease has run out.
"""

from __future__ import annotations

import ipaddress
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from urllib.parse import urlsplit

from fastapi import Request
from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select, update

from backend.admin.service import Page
from backend.audit import record_event
from backend.config import Settings
from backend.db import writer_engine
from backend.errors import DomainError, NotFound
from backend.i18n import _
from backend.jobs.after_commit import after_job_commit, run_after_commit
from backend.models import Notification, NotificationStatus, User, utcnow

log = logging.getLogger("academy.notifications")

MAX_ATTEMPTS = 3
LEASE = timedelta(minutes=2)  # a claimed row not marked within this time is taken to be abandoned
RETRY_AFTER = timedelta(minutes=1)  # wait between automatic attempts of a failed message
PAGE_SIZE = 50


def notify(
    session: Session, *, user: User | None, to_email: str, kind: str, subject: str, body: str
) -> Notification:
    """Queue an email in the caller's transaction: it exists (and is sent) exactly when the act commits.

    A route then calls `schedule_delivery(request)`; inside a background job nothing more is needed: the
    job runner delivers once the job's transaction has committed."""
    notification = Notification(
        user_id=user.id if user else None,
        to_email=to_email.strip(),
        kind=kind,
        subject=subject[:200],
        body=body,
    )
    session.add(notification)
    session.flush()
    after_job_commit(session, deliver_all, key="notifications.deliver")
    return notification


def schedule_delivery(request: Request) -> None:
    """Send the outbox once this request has committed (after the response has gone out)."""
    engine: Engine = request.app.state.engine
    settings: Settings = request.app.state.settings
    run_after_commit(request, lambda: deliver_all(engine, settings), key="notifications.deliver")


# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    id: int
    to_email: str
    subject: str
    body: str


def deliver_pending(engine: Engine, settings: Settings, limit: int = 50) -> int:
    """Send up to `limit` due messages; returns how many were sent.

    Due: pending ones, and failed ones with fewer than 3 attempts whose last attempt is a minute old.
    Without an SMTP server every pending message is marked "kept" instead (it stays readable in the
    outbox) and nothing is sent."""
    return _deliver_batch(engine, settings, limit)[1]


def deliver_all(engine: Engine, settings: Settings, *, limit: int = 50, max_batches: int = 40) -> int:
    """`deliver_pending` batch after batch until nothing is due (at most limit × max_batches messages,
    e.g. the welcome emails of a whole class); returns how many were sent."""
    sent = 0
    for _batch in range(max_batches):
        handled, sent_now = _deliver_batch(engine, settings, limit)
        sent += sent_now
        if handled < limit:
            break
    return sent


def _deliver_batch(engine: Engine, settings: Settings, limit: int) -> tuple[int, int]:
    """One batch: (messages dealt with, messages sent)."""
    writer = writer_engine(engine)
    if not settings.smtp_configured:
        return _keep_pending(writer, limit), 0
    claims = _claim_due(writer, limit)
    sent = 0
    server: smtplib.SMTP | None = None
    try:
        for claim in claims:
            try:
                if server is None:
                    server = _open_smtp(settings)
                server.send_message(_email(settings, claim))
            except (smtplib.SMTPException, OSError) as error:
                _mark(writer, claim.id, error=_describe(error))
                if not isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    _close(server)  # the connection may be broken: open a new one for the next message
                    server = None
                continue
            _mark(writer, claim.id, error=None)
            sent += 1
    finally:
        _close(server)
    return len(claims), sent


def _keep_pending(writer: Engine, limit: int) -> int:
    with Session(writer) as session:
        ids = session.exec(
            select(Notification.id)
            .where(Notification.status == NotificationStatus.pending.value)
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
        if ids:
            session.exec(
                update(Notification)
                .where(
                    col(Notification.id).in_(ids),
                    col(Notification.status) == NotificationStatus.pending.value,
                )
                .values(status=NotificationStatus.kept.value)
            )
        session.commit()
    return len(ids)


def _claim_due(writer: Engine, limit: int) -> list[_Claim]:
    """Take the due rows for this worker: each claim is a conditional update that only one worker wins."""
    now = utcnow()
    due = or_(
        and_(
            col(Notification.status) == NotificationStatus.pending.value,
            or_(col(Notification.attempted_at).is_(None), col(Notification.attempted_at) < now - LEASE),
        ),
        and_(
            col(Notification.status) == NotificationStatus.failed.value,
            col(Notification.attempts) < MAX_ATTEMPTS,
            col(Notification.attempted_at) < now - RETRY_AFTER,
        ),
    )
    claims: list[_Claim] = []
    with Session(writer) as session:
        rows = session.exec(select(Notification).where(due).order_by(col(Notification.id)).limit(limit)).all()
        for row in rows:
            won = session.exec(
                update(Notification)
                .where(col(Notification.id) == row.id)
                .where(col(Notification.attempts) == row.attempts)
                .values(attempts=row.attempts + 1, attempted_at=now, status=NotificationStatus.pending.value)
            )
            if won.rowcount == 1:
                assert row.id is not None
                claims.append(_Claim(row.id, row.to_email, row.subject, row.body))
        session.commit()
    return claims


def _mark(writer: Engine, notification_id: int, *, error: str | None) -> None:
    values: dict[str, object]
    if error is None:
        values = {"status": NotificationStatus.sent.value, "sent_at": utcnow(), "last_error": None}
    else:
        values = {"status": NotificationStatus.failed.value, "last_error": error[:2000]}
        log.warning("notification %s not sent: %s", notification_id, error)
    with Session(writer) as session:
        session.exec(update(Notification).where(col(Notification.id) == notification_id).values(**values))
        session.commit()


def _open_smtp(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    server: smtplib.SMTP
    # Name ourselves in EHLO after the site, rather than let smtplib ask DNS (slow where DNS is not there).
    local = _ehlo_name(settings)
    if settings.smtp_ssl:
        server = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, local, timeout=settings.smtp_timeout, context=context
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, local, timeout=settings.smtp_timeout)
        if settings.smtp_starttls:
            server.starttls(context=context)
    if settings.smtp_user:
        server.login(settings.smtp_user, settings.smtp_password)
    return server


def _ehlo_name(settings: Settings) -> str:
    host = urlsplit(settings.public_base_url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]"


def _close(server: smtplib.SMTP | None) -> None:
    if server is not None:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


def sender_address(settings: Settings) -> str:
    """The From header: smtp_from as given, or "技术经纪人学院 <noreply@host of public_base_url>"."""
    configured = settings.smtp_from.strip()
    if configured and parseaddr(configured)[0]:
        return configured
    address = configured or f"noreply@{urlsplit(settings.public_base_url).hostname or 'localhost'}"
    return formataddr((settings.site_name, address))


def _email(settings: Settings, claim: _Claim) -> EmailMessage:
    message = EmailMessage()
    sender = sender_address(settings)
    message["From"] = sender
    message["To"] = claim.to_email
    message["Subject"] = claim.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
    message.set_content(claim.body)
    return message


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
        return f"{type(error).__name__}: {error.smtp_code} {text}".strip()
    return f"{type(error).__name__}: {error}"


# --- the outbox as administrators see it ---------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFilter:
    status: str = ""
    kind: str = ""
    email: str = ""


def list_outbox(session: Session, *, filters: OutboxFilter, page: int = 1) -> Page[Notification]:
    statement = select(Notification)
    if filters.status in NotificationStatus.__members__:
        statement = statement.where(Notification.status == filters.status)
    if filters.kind:
        statement = statement.where(Notification.kind == filters.kind)
    if filters.email.strip():
        statement = statement.where(func.lower(Notification.to_email).contains(filters.email.strip().lower()))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = max(1, page)
    items = session.exec(
        statement.order_by(col(Notification.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return Page(list(items), total, page, PAGE_SIZE)


def outbox_kinds(session: Session) -> list[str]:
    return list(session.exec(select(Notification.kind).distinct().order_by(Notification.kind)).all())


def outbox_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: count for status, count in rows}


def get_notification(session: Session, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None:
        raise NotFound(_("No such message."))
    return notification


def can_retry(notification: Notification, *, settings: Settings) -> bool:
    """Failed messages can be sent again; kept ones too once an SMTP server has been configured."""
    if notification.status == NotificationStatus.failed.value:
        return True
    return notification.status == NotificationStatus.kept.value and settings.smtp_configured


def retry(
    session: Session, *, settings: Settings, actor: User, notification_id: int, ip: str = ""
) -> Notification:
    """Put a failed (or kept) message back in the queue for one more attempt."""
    notification = get_notification(session, notification_id)
    if not can_retry(notification, settings=settings):
        raise DomainError(_("Only a message that could not be sent can be sent again."))
    before = notification.status
    notification.status = NotificationStatus.pending.value
    notification.attempted_at = None
    session.add(notification)
    record_event(
        session,
        actor=actor,
        action="notification.retry",
        target_type="notification",
        target_id=notification_id,
        before={"status": before, "attempts": notification.attempts},
        after={"status": notification.status},
        ip=ip,
    )
    return notification
