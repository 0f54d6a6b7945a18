"""Expiry reminders, 90 and 30 days before a certificate expires, through the notification outbox (the
channel the classes use). `academy renewal remind` runs them; so does every app process once at start
and then every few hours (backend/maintenance.py). Each reminder is recorded (certificate, expiry date,
threshold) under a unique constraint, so a re-run, or two processes at once, never send one twice; a
renewal moves the expiry date, so the new period gets its own reminders.

A certificate first seen inside both thresholds (20 days left, say) gets one email, the most urgent
one, and both thresholds are recorded as done."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.config import Settings
from backend.db import writer_engine
from backend.models import Certificate, CertificateStatus, RenewalReminder
from backend.notifications.service import deliver_all, notify
from backend.renewal import rules
from backend.renewal.messages import expiry_reminder_message
from backend.renewal.service import fmt_hours, holder_account, moment_of, renewal_state


@dataclass
class ReminderRun:
    today: date
    sent: list[tuple[str, int]] = field(default_factory=list)  # (certificate number, days before)
    skipped_no_email: int = 0


def send_reminders(session: Session, *, settings: Settings, today: date | None = None) -> ReminderRun:
    """Queue every reminder that is due on `today` (Beijing); the caller commits (mail goes after)."""
    day, _now = moment_of(today, None)
    run = ReminderRun(today=day)
    horizon = day + timedelta(days=max(rules.REMINDER_DAYS))
    candidates = session.exec(
        select(Certificate)
        .where(
            Certificate.status == CertificateStatus.valid.value,
            col(Certificate.expires_on).is_not(None),
            col(Certificate.expires_on) >= day,
            col(Certificate.expires_on) <= horizon,
        )
        .order_by(col(Certificate.expires_on), col(Certificate.id))
    ).all()
    rule = rules.current_rule(session)
    for certificate in candidates:
        assert certificate.expires_on is not None and certificate.id is not None
        days_left = (certificate.expires_on - day).days
        due = sorted(t for t in rules.REMINDER_DAYS if days_left <= t)
        done = set(
            session.exec(
                select(RenewalReminder.days_before).where(
                    RenewalReminder.certificate_id == certificate.id,
                    RenewalReminder.expires_on == certificate.expires_on,
                )
            ).all()
        )
        todo = [t for t in due if t not in done]
        if not todo:
            continue
        holder = holder_account(session, certificate)
        if holder is None or not holder.email:
            run.skipped_no_email += 1
            continue
        state = renewal_state(session, certificate, today=day, rule=rule)
        message = expiry_reminder_message(
            name=certificate.holder_name,
            certificate_title=certificate.title,
            number=certificate.number,
            expires_on=certificate.expires_on.isoformat(),
            days_left=days_left,
            hours_earned=fmt_hours(state.hours_earned),
            hours_needed=fmt_hours(state.hours_needed),
            link=f"{settings.public_base_url}/me/renewal",
        )
        try:
            with session.begin_nested():
                sent = notify(
                    session,
                    user=holder,
                    to_email=holder.email,
                    kind=message.kind,
                    subject=message.subject,
                    body=message.body,
                )
                for threshold in todo:
                    session.add(
                        RenewalReminder(
                            certificate_id=certificate.id,
                            expires_on=certificate.expires_on,
                            days_before=threshold,
                            sent_on=day,
                            notification_id=sent.id,
                        )
                    )
                session.flush()
        except IntegrityError:  # another process sent it a moment ago
            continue
        run.sent.append((certificate.number, min(todo)))
    return run


def run_once(engine: Engine, settings: Settings, *, today: date | None = None) -> ReminderRun:
    """Send the due reminders in a transaction of their own, then deliver the outbox."""
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        run = send_reminders(session, settings=settings, today=today)
        session.commit()
    if run.sent:
        deliver_all(engine, settings)
    return run
