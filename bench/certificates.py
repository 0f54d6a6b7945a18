"""Case group `certificates`: issue certificates (PDF + credential) to every trainee of a 500-trainee class
in one action, as an administrator does; seconds per certificate.

The class is seeded with the app's models: 500 trainees with every module of the course completed, each
enrolled in one class and holding a passed exam attempt. Issuing goes through
`backend.certificates.class_issue.issue_for_class`, timed in-process (the work the "issue for the
class" button starts). Missing package: "not available"; another shape: a failure that says what it found."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlmodel import SQLModel

from bench.context import BenchContext
from bench.harness import CaseResult, Column, ContractMismatch, median
from bench.seeding import require, seed_trainees

TITLE = "Certificates: issuing for a 500-trainee class"
TRAINEES = 500
PDF_SAMPLE = 20  # PDFs are rendered on demand (download), not at issue: timed on a sample
COURSE = "broker-junior"
COLUMNS = [
    Column("db", "db"),
    Column("trainees", "trainees"),
    Column("issued", "issued"),
    Column("seconds", "total s", 1),
    Column("per_certificate_s", "s per certificate", 3),
    Column("pdf_s", f"s per PDF (median of {PDF_SAMPLE})", 3),
    Column("with_pdf_s", "s per certificate + PDF", 3),
    Column("rerun_issued", "issued on re-run"),
]


def run(ctx: BenchContext) -> CaseResult:
    require("backend.certificates.service")
    service = require("backend.certificates.class_issue", "issue_for_class")
    models = require("backend.models", "ExamAttempt", "Cohort", "Enrollment")
    result = CaseResult("certificates", TITLE, COLUMNS)
    for db in ctx.databases():
        site = ctx.site(db)
        ctx.say(f"certificates: seeding a {TRAINEES}-trainee class on {db}")
        trainees = seed_trainees(
            site, prefix=f"cert-{db}", count=TRAINEES, course_slug=COURSE, with_id_numbers=True
        )
        cohort_id = _seed_class(site, models, [t.user_id for t in trainees])
        ctx.say(f"certificates: issuing for the class on {db}")
        issued, seconds, numbers = _issue(site, service, cohort_id)
        pdf_s = _render_pdfs(site, numbers[:PDF_SAMPLE])
        again, _, _ = _issue(site, service, cohort_id)  # re-running must issue nothing twice
        result.rows.append(
            {
                "db": db,
                "trainees": TRAINEES,
                "issued": issued,
                "seconds": seconds,
                "per_certificate_s": seconds / issued if issued else None,
                "pdf_s": pdf_s,
                "with_pdf_s": (seconds / issued + pdf_s) if issued and pdf_s is not None else None,
                "rerun_issued": again,
            }
        )
    result.notes.append(
        "issuing (number, signed credential, audit, notice) in-process, one call for the whole class, committed; "
        f"the PDF is rendered on download, so it is timed apart on {PDF_SAMPLE} of the certificates; "
        "'issued on re-run' must be 0"
    )
    return result


def _fields(model: type[SQLModel]) -> set[str]:
    return set(model.model_fields)


def _seed_class(site: Any, models: Any, user_ids: list[int]) -> int:
    from sqlmodel import Session, select

    from backend.db import make_engine, writer_engine
    from backend.models import Course, utcnow

    engine = make_engine(site.database_url)
    try:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            course = session.exec(select(Course).where(Course.slug == COURSE)).one()
            today = dt.date.today()
            cohort = models.Cohort(
                name="基准测试班",
                course_id=course.id,
                year=today.year,
                start_date=today - dt.timedelta(days=60),
                end_date=today,
                capacity=len(user_ids),
                status="finished",
            )
            session.add(cohort)
            session.flush()
            attempt_fields = _fields(models.ExamAttempt)
            passed = {
                "course_id": course.id,
                "number": 1,
                "time_limit_minutes": 90,
                "pass_score": 60.0,
                "max_points": 100.0,
                "score_points": 100.0,
                "finalized_at": utcnow(),
                "cohort_id": cohort.id,
                "status": "graded",
                "passed": True,
                "score": 100.0,
                "score_percent": 100.0,
                "max_score": 100.0,
                "started_at": utcnow(),
                "submitted_at": utcnow(),
                "graded_at": utcnow(),
                "deadline": utcnow(),
            }
            if not {"user_id", "passed"} <= attempt_fields and not {"user_id", "status"} <= attempt_fields:
                raise ContractMismatch(f"ExamAttempt fields are {sorted(attempt_fields)}")
            for user_id in user_ids:
                session.add(models.Enrollment(cohort_id=cohort.id, user_id=user_id, source="admin"))
                values = {k: v for k, v in passed.items() if k in attempt_fields}
                session.add(models.ExamAttempt(user_id=user_id, **values))
            session.commit()
            assert cohort.id is not None
            return cohort.id
    finally:
        engine.dispose()


def _issue(site: Any, service: Any, cohort_id: int) -> tuple[int, float, list[str]]:
    from sqlmodel import Session, select

    from backend.db import make_engine, writer_engine
    from backend.models import Cohort, Role, User

    engine = make_engine(site.database_url)
    try:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            admin = session.exec(select(User).where(User.role == Role.admin.value)).first()
            cohort = session.get(Cohort, cohort_id)
            started = time.perf_counter()
            outcome = service.issue_for_class(session, settings=site.settings(), cohort=cohort, actor=admin)
            session.commit()
            elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    return len(outcome.issued), elapsed, list(outcome.issued)


def _render_pdfs(site: Any, numbers: list[str]) -> float | None:
    """Median seconds to render one certificate's PDF (what a holder's download does)."""
    if not numbers:
        return None
    pdf = require("backend.certificates.pdf", "render_certificate_pdf")
    certificates = require("backend.certificates.service", "get_by_number")
    from sqlmodel import Session

    from backend.db import make_engine

    engine = make_engine(site.database_url)
    times = []
    try:
        with Session(engine) as session:
            for number in numbers:
                certificate = certificates.get_by_number(session, number)
                started = time.perf_counter()
                data = pdf.render_certificate_pdf(certificate, settings=site.settings())
                times.append(time.perf_counter() - started)
                if not data.startswith(b"%PDF"):
                    raise ContractMismatch("render_certificate_pdf did not return a PDF")
    finally:
        engine.dispose()
    return median(times)
