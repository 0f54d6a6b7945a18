"""Validity periods, CE hours and renewal.

A certificate's current validity period runs from its latest renewal (or, never renewed, from the day it
was first issued) to its expiry date. CE hours in the period = hours of CE-course modules completed in it
+ hours of attended sessions of CE-course classes held in it (see rules.py for what a CE course is).

Renewing keeps the certificate's row and number: the period that ends (and its signed credential, now
superseded) is kept as a CertificateRenewal; the row gets the new expiry, renewal_count + 1 and a newly
signed credential. Early renewal loses nothing: the new period ends N years after the old expiry date.
A lapsed certificate (renewed by an administrator) gets N years from the day of renewal.

Services only add and flush; the caller's transaction commits. `today`/`now` may be given (tests travel
in time); by default they are today in Beijing and the current moment.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.certificates import credential as vc
from backend.certificates.keys import current_key
from backend.certificates.service import add_years, audit_facts, course_texts, expiry_for, subject_id_for
from backend.config import Settings
from backend.errors import Conflict, DomainError
from backend.i18n import _
from backend.models import (
    Attendance,
    Certificate,
    CertificateRenewal,
    CertificateStatus,
    ClassSession,
    Cohort,
    Course,
    CourseModule,
    ModuleProgress,
    ModuleVersion,
    Role,
    User,
    utcnow,
)
from backend.notifications.service import notify
from backend.renewal import rules
from backend.renewal.messages import renewed_message


def beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), vc.BEIJING).astimezone(UTC)


def moment_of(today: date | None, now: datetime | None) -> tuple[date, datetime]:
    """(today in Beijing, now); a travelled `today` without `now` is taken at noon of that day."""
    real_today = vc.today_in_beijing()
    day = today or real_today
    if now is not None:
        return day, now
    if day == real_today:
        return day, utcnow()
    return day, datetime.combine(day, time(12, 0), vc.BEIJING).astimezone(UTC)


def fmt_hours(value: float) -> str:
    return f"{round(value, 2):g}"


# ---- the holder and the period --------------------------------------------------------------------------


def holder_account(session: Session, certificate: Certificate) -> User | None:
    """The account of the certificate's holder: the one it was issued to, or (a legacy record) the
    account with the same ID number."""
    if certificate.user_id is not None:
        return session.get(User, certificate.user_id)
    if certificate.id_number_hash:
        return session.exec(select(User).where(User.id_number_hash == certificate.id_number_hash)).first()
    return None


def latest_renewal(session: Session, certificate: Certificate) -> CertificateRenewal | None:
    """The latest renewal of the certificate or of the one it was reissued from (a name correction keeps
    the validity period)."""
    current: Certificate | None = certificate
    seen: set[int] = set()
    while current is not None and current.id is not None and current.id not in seen:
        seen.add(current.id)
        renewal = session.exec(
            select(CertificateRenewal)
            .where(CertificateRenewal.certificate_id == current.id)
            .order_by(col(CertificateRenewal.renewal_count).desc())
        ).first()
        if renewal is not None:
            return renewal
        current = session.get(Certificate, current.replaces_id) if current.replaces_id else None
    return None


def period_start(session: Session, certificate: Certificate) -> datetime:
    """The moment the current validity period began (UTC)."""
    renewal = latest_renewal(session, certificate)
    if renewal is not None:
        return renewal.renewed_at.astimezone(UTC) if renewal.renewed_at.tzinfo else renewal.renewed_at
    first = certificate
    seen: set[int] = set()
    while first.replaces_id and first.id not in seen:
        seen.add(first.id or 0)
        earlier = session.get(Certificate, first.replaces_id)
        if earlier is None:
            break
        first = earlier
    return beijing_midnight(first.issued_on)


# ---- CE hours ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourItem:
    day: date
    kind: str  # module | session
    course_title: str
    course_title_en: str
    what: str  # the module's or the session's title
    hours: float


def ce_hour_items(session: Session, *, user_id: int, start: datetime, end_day: date) -> list[HourItem]:
    """CE hours earned from `start` (a moment) to the end of `end_day` (Beijing), oldest first."""
    end = beijing_midnight(end_day + timedelta(days=1))
    is_ce = col(Course.slug).startswith(rules.CE_SLUG_PREFIX)
    modules = session.execute(
        sa_select(
            col(ModuleProgress.completed_at),
            col(ModuleProgress.hours_credited),
            col(Course.title),
            col(Course.title_en),
            col(ModuleVersion.title),
        )
        .join(CourseModule, col(CourseModule.id) == ModuleProgress.module_id)
        .join(Course, col(Course.id) == CourseModule.course_id)
        .join(
            ModuleVersion,
            (col(ModuleVersion.module_id) == CourseModule.id)
            & (col(ModuleVersion.number) == CourseModule.current_version),
            isouter=True,
        )
        .where(
            col(ModuleProgress.user_id) == user_id,
            is_ce,
            col(ModuleProgress.completed_at).is_not(None),
            col(ModuleProgress.completed_at) >= start,
            col(ModuleProgress.completed_at) < end,
        )
    ).all()
    sessions = session.execute(
        sa_select(
            col(ClassSession.date),
            col(ClassSession.hours),
            col(ClassSession.topic),
            col(Course.title),
            col(Course.title_en),
        )
        .join(Attendance, col(Attendance.session_id) == ClassSession.id)
        .join(Cohort, col(Cohort.id) == ClassSession.cohort_id)
        .join(Course, col(Course.id) == Cohort.course_id)
        .where(
            col(Attendance.user_id) == user_id,
            col(Attendance.present),
            is_ce,
            col(ClassSession.date) >= start.astimezone(vc.BEIJING).date(),
            col(ClassSession.date) <= end_day,
            col(Attendance.recorded_at) >= start,
        )
    ).all()
    items = [
        HourItem(
            (
                done.astimezone(vc.BEIJING)
                if done.tzinfo
                else done.replace(tzinfo=UTC).astimezone(vc.BEIJING)
            ).date(),
            "module",
            title,
            title_en,
            module_title or "",
            float(hours or 0),
        )
        for done, hours, title, title_en, module_title in modules
        if done is not None
    ]
    items += [
        HourItem(day, "session", title, title_en, topic, float(hours or 0))
        for day, hours, topic, title, title_en in sessions
    ]
    return sorted(items, key=lambda item: (item.day, item.kind, item.what))


# ---- the state of one certificate ----------------------------------------------------------------------


@dataclass
class RenewalState:
    certificate: Certificate
    holder: User | None
    today: date
    starts_at: datetime  # the current period's start (UTC)
    hours_needed: float
    validity_years: int
    items: list[HourItem] = field(default_factory=list)
    renewal: CertificateRenewal | None = None  # the latest one

    @property
    def period_start(self) -> date:
        return self.starts_at.astimezone(vc.BEIJING).date()

    @property
    def expires_on(self) -> date | None:
        return self.certificate.expires_on

    @property
    def days_left(self) -> int | None:
        """Days from today to the expiry date (0 on the last valid day, negative once lapsed)."""
        return None if self.expires_on is None else (self.expires_on - self.today).days

    @property
    def lapsed(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def hours_earned(self) -> float:
        return round(sum(item.hours for item in self.items), 2)

    @property
    def hours_missing(self) -> float:
        return max(0.0, round(self.hours_needed - self.hours_earned, 2))

    @property
    def hours_met(self) -> bool:
        return self.hours_missing <= 0

    @property
    def window_opens(self) -> date | None:
        return (
            None if self.expires_on is None else self.expires_on - timedelta(days=rules.RENEWAL_WINDOW_DAYS)
        )

    @property
    def reminder_due(self) -> bool:
        """Within the reminder period (90 days before expiry) or lapsed: the /me banner shows."""
        days = self.days_left
        return self.is_renewable_kind and days is not None and days <= max(rules.REMINDER_DAYS)

    @property
    def is_renewable_kind(self) -> bool:
        return (
            self.certificate.status == CertificateStatus.valid.value
            and self.expires_on is not None
            and self.validity_years > 0
        )

    @property
    def new_expires_on(self) -> date | None:
        """The expiry date a renewal today would give."""
        if self.expires_on is None or self.validity_years <= 0:
            return None
        if self.today <= self.expires_on:
            return add_years(self.expires_on, self.validity_years)
        return expiry_for(self.today, self.validity_years)

    def blockers(self, *, as_admin: bool, actor: User | None = None) -> list[str]:
        """Why this certificate may not be renewed now (by its holder, or by an administrator)."""
        certificate = self.certificate
        if certificate.status != CertificateStatus.valid.value:
            return [_("Only a valid certificate can be renewed.")]
        if self.expires_on is None:
            return [_("This certificate does not expire, so it needs no renewal.")]
        if self.validity_years <= 0:
            return [_("The renewal settings give this level no validity period.")]
        if as_admin:
            return []
        reasons = []
        if actor is None or certificate.user_id is None or certificate.user_id != actor.id:
            reasons.append(
                _(
                    "Records transferred from the earlier register are renewed by the training base: ask an administrator."
                )
            )
        if self.lapsed:
            reasons.append(
                _("It expired on %(date)s; a lapsed certificate is renewed only by the training base.")
                % {"date": self.expires_on.isoformat()}
            )
        elif self.window_opens is not None and self.today < self.window_opens:
            reasons.append(
                _("Renewal opens on %(date)s, %(days)d days before expiry.")
                % {"date": self.window_opens.isoformat(), "days": rules.RENEWAL_WINDOW_DAYS}
            )
        if not self.hours_met:
            reasons.append(
                _(
                    "%(missing)s more continuing-education hours needed: %(earned)s of %(needed)s in this period."
                )
                % {
                    "missing": fmt_hours(self.hours_missing),
                    "earned": fmt_hours(self.hours_earned),
                    "needed": fmt_hours(self.hours_needed),
                }
            )
        return reasons


def renewal_state(
    session: Session, certificate: Certificate, *, today: date | None = None, rule: rules.Rule | None = None
) -> RenewalState:
    day, _now = moment_of(today, None)
    rule = rule or rules.current_rule(session)
    course = session.get(Course, certificate.course_id) if certificate.course_id else None
    holder = holder_account(session, certificate)
    renewal = latest_renewal(session, certificate)
    starts_at = period_start(session, certificate)
    state = RenewalState(
        certificate=certificate,
        holder=holder,
        today=day,
        starts_at=starts_at,
        hours_needed=rule.hours_needed(certificate.level),
        validity_years=rule.validity_years(certificate.level, course),
        renewal=renewal,
    )
    if holder is not None and holder.id is not None and certificate.expires_on is not None:
        state.items = ce_hour_items(
            session, user_id=holder.id, start=starts_at, end_day=certificate.expires_on
        )
    return state


def certificates_of_holder(session: Session, *, user: User) -> list[Certificate]:
    """The holder's certificates that are valid or lapsed (not revoked or replaced), soonest expiry first:
    issued to the account, or legacy records with the same ID number."""
    condition = col(Certificate.user_id) == user.id
    if user.id_number_hash:
        condition = condition | (col(Certificate.id_number_hash) == user.id_number_hash)
    rows = session.exec(
        select(Certificate).where(condition, Certificate.status == CertificateStatus.valid.value)
    ).all()
    return sorted(rows, key=lambda c: (c.expires_on is None, c.expires_on or date.max, c.number))


def states_of_holder(session: Session, *, user: User, today: date | None = None) -> list[RenewalState]:
    rule = rules.current_rule(session)
    return [
        renewal_state(session, certificate, today=today, rule=rule)
        for certificate in certificates_of_holder(session, user=user)
        if certificate.expires_on is not None
    ]


# ---- renewing ------------------------------------------------------------------------------------------


def _credential_course(session: Session, certificate: Certificate) -> Course | None:
    """The course whose achievement the new credential names: the certificate's own, or (a legacy
    record) the certificate course of the same level."""
    if certificate.course_id is not None:
        course = session.get(Course, certificate.course_id)
        if course is not None:
            return course
    level = next((name for name, value in vc.COURSE_LEVELS.items() if int(value) == certificate.level), None)
    if level is None:
        return None
    return session.exec(
        select(Course)
        .where(
            Course.level == level,
            Course.certificate_title != "",
            ~col(Course.slug).startswith(rules.CE_SLUG_PREFIX),
        )
        .order_by(col(Course.id))
    ).first()


def _legacy_subject(settings: Settings, number: str) -> str:
    digest = hmac.new(
        settings.secret_key.encode(), f"credential-subject:legacy:{number}".encode(), hashlib.sha256
    )
    return f"urn:uuid:{uuid.UUID(bytes=digest.digest()[:16], version=4)}"


def _sign_new_period(
    session: Session, *, settings: Settings, certificate: Certificate, holder: User | None, starts: date
) -> None:
    course = _credential_course(session, certificate)
    if course is None:  # nothing to name as the achievement: the record is renewed without a credential
        certificate.credential_uuid = None
        certificate.credential_jwt = None
        certificate.key_id = None
        return
    if not certificate.subject_id:
        certificate.subject_id = (
            subject_id_for(session, settings=settings, user_id=holder.id)
            if holder is not None and holder.id is not None
            else _legacy_subject(settings, certificate.number)
        )
    certificate.credential_uuid = str(uuid.uuid4())
    key = current_key(settings)
    description, criteria = course_texts(course, certificate.level)
    credential = vc.build_credential(
        certificate,
        settings=settings,
        course_slug=course.slug,
        criteria=criteria,
        description=description,
        valid_from_day=starts,
    )
    certificate.key_id = key.kid
    certificate.credential_jwt = vc.sign_credential(credential, key=key, settings=settings)


def renew(
    session: Session,
    *,
    settings: Settings,
    certificate: Certificate,
    actor: User,
    as_admin: bool = False,
    note: str = "",
    today: date | None = None,
    now: datetime | None = None,
    ip: str = "",
) -> CertificateRenewal:
    """Start a new validity period: the number stays, the expiry moves on, a new credential is signed and
    the old one is superseded. A holder needs the CE hours and the renewal window; an administrator may
    renew any valid record (legacy, lapsed), and must give a note when the hours are not met here."""
    if as_admin and actor.role != Role.admin.value:
        raise DomainError(_("Only an administrator can renew this way."))
    day, moment = moment_of(today, now)
    state = renewal_state(session, certificate, today=day)
    reasons = state.blockers(as_admin=as_admin, actor=actor)
    if reasons:
        raise DomainError(" ".join(reasons))
    note = note.strip()[:500]
    if as_admin and not state.hours_met and not note:
        raise DomainError(
            _(
                "The hours recorded here are short by %(missing)s: say in the note why the certificate is renewed anyway (hours confirmed on paper, say)."
            )
            % {"missing": fmt_hours(state.hours_missing)}
        )
    new_expiry = state.new_expires_on
    assert new_expiry is not None and certificate.id is not None
    before = {**audit_facts(certificate), "renewal_count": certificate.renewal_count}
    try:
        with session.begin_nested():
            renewal = CertificateRenewal(
                certificate_id=certificate.id,
                number=certificate.number,
                renewal_count=certificate.renewal_count + 1,
                renewed_at=moment,
                renewed_on=day,
                previous_start=state.period_start,
                previous_expires_on=certificate.expires_on,
                expires_on=new_expiry,
                hours_earned=state.hours_earned,
                hours_needed=state.hours_needed,
                by_admin=as_admin,
                note=note,
                actor_id=actor.id,
                credential_uuid=certificate.credential_uuid,
                key_id=certificate.key_id,
                credential_jwt=certificate.credential_jwt,
            )
            session.add(renewal)
            session.flush()
            certificate.expires_on = new_expiry
            certificate.renewal_count += 1
            _sign_new_period(
                session, settings=settings, certificate=certificate, holder=state.holder, starts=day
            )
            session.add(certificate)
            session.flush()
    except IntegrityError:
        session.expire(certificate)
        raise Conflict(_("This certificate has just been renewed; reload the page.")) from None
    record_event(
        session,
        actor=actor,
        action="certificate.renewed",
        target_type="certificate",
        target_id=certificate.number,
        before=before,
        after={
            **audit_facts(certificate),
            "renewal_count": certificate.renewal_count,
            "hours_earned": state.hours_earned,
            "hours_needed": state.hours_needed,
            "by_admin": as_admin,
            "note": note,
        },
        ip=ip,
    )
    holder = state.holder
    if holder is not None and holder.email:
        message = renewed_message(
            name=certificate.holder_name,
            certificate_title=certificate.title,
            number=certificate.number,
            expires_on=new_expiry.isoformat(),
            link=f"{settings.public_base_url}/verify/{certificate.number}",
        )
        notify(
            session,
            user=holder,
            to_email=holder.email,
            kind=message.kind,
            subject=message.subject,
            body=message.body,
        )
    from backend.roster import stats

    stats.invalidate()
    return renewal


def renewals_of(session: Session, certificate: Certificate) -> list[CertificateRenewal]:
    return list(
        session.exec(
            select(CertificateRenewal)
            .where(CertificateRenewal.certificate_id == certificate.id)
            .order_by(col(CertificateRenewal.renewal_count))
        )
    )


def renewal_facts(renewal: CertificateRenewal) -> dict[str, Any]:
    return {
        "renewal_count": renewal.renewal_count,
        "renewed_on": renewal.renewed_on.isoformat(),
        "previous_expires_on": renewal.previous_expires_on.isoformat()
        if renewal.previous_expires_on
        else None,
        "expires_on": renewal.expires_on.isoformat(),
    }
