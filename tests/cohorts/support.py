"""Helpers for the class tests: enrol, assign, complete modules, add sessions, build rosters."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook
from sqlmodel import Session, col, select

from backend.models import (
    ClassSession,
    Cohort,
    CohortInstructor,
    Course,
    CourseModule,
    Enrollment,
    ExamAttempt,
    ModuleProgress,
    User,
    utcnow,
)
from tests.support import csrf_token, valid_id_number, visible_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MODULE_HOURS = (4.0, 4.0, 4.0)
MIN_HOURS = 20.0


def id_number(n: int) -> str:
    """A valid 18-character ID number, different for every n (Hangzhou, born 1990)."""
    return valid_id_number(f"330106{19900101 + n % 28:08d}{n % 1000:03d}")


def enrol(db: Session, cohort: Cohort, *users: User) -> None:
    for user in users:
        db.add(Enrollment(cohort_id=cohort.id or 0, user_id=user.id or 0, source="admin"))
    db.commit()


def assign(db: Session, cohort: Cohort, user: User) -> None:
    db.add(CohortInstructor(cohort_id=cohort.id or 0, user_id=user.id or 0))
    db.commit()


def complete_modules(db: Session, course: Course, user: User, count: int) -> None:
    modules = db.exec(
        select(CourseModule).where(CourseModule.course_id == course.id).order_by(col(CourseModule.position))
    ).all()
    for module, hours in zip(modules[:count], MODULE_HOURS, strict=False):
        db.add(
            ModuleProgress(
                user_id=user.id or 0, module_id=module.id or 0, completed_at=utcnow(), hours_credited=hours
            )
        )
    db.commit()


def sit_exam(
    db: Session, course: Course, user: User, *, status: str, score: float | None = None, number: int = 1
) -> ExamAttempt:
    """An attempt at the course's final exam: "open", "submitted", or "graded" with `score` (pass at 60)."""
    graded = status == "graded"
    attempt = ExamAttempt(
        user_id=user.id or 0,
        course_id=course.id or 0,
        number=number,
        status=status,
        deadline=utcnow() + timedelta(minutes=90),
        submitted_at=None if status == "open" else utcnow(),
        finalized_at=utcnow() if graded else None,
        time_limit_minutes=90,
        pass_score=60,
        max_points=100,
        score_percent=score if graded else None,
        passed=(score or 0) >= 60 if graded else None,
    )
    db.add(attempt)
    db.commit()
    return attempt


def add_session(db: Session, cohort: Cohort, *, day: int, hours: float, topic: str = "面授") -> ClassSession:
    row = ClassSession(
        cohort_id=cohort.id or 0, date=cohort.start_date + timedelta(days=day), topic=topic, hours=hours
    )
    db.add(row)
    db.commit()
    return row


def roster_rows(count: int, *, start: int = 1) -> list[list[str]]:
    return [
        [
            f"学员{n:03d}",
            id_number(n),
            f"138{n:08d}",
            f"trainee{n:03d}@example.com",
            "浙江大学技术转移中心",
            "杭州",
        ]
        for n in range(start, start + count)
    ]


HEADER = ["姓名", "身份证号", "手机", "邮箱", "单位", "地区"]


def csv_bytes(rows: list[list[str]], *, header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], *, header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def aware(year: int, month: int, day: int, hour: int = 0) -> datetime:
    from datetime import UTC

    return datetime(year, month, day, hour, tzinfo=UTC)


def upload(client: TestClient, cohort: Cohort, content: bytes, name: str = "roster.csv") -> Response:
    """As a browser does it: the upload form's own CSRF field and the file, multipart."""
    form = client.get(f"/admin/classes/{cohort.id}/import").text.split('enctype="multipart/form-data"', 1)[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None and token.group(1) == csrf_token(client)
    media = XLSX if name.endswith(".xlsx") else "text/csv"
    return client.post(
        f"/admin/classes/{cohort.id}/import",
        data={"csrf_token": token.group(1)},
        files={"file": (name, content, media)},
    )


def report(response: Response) -> list[tuple[str, str, str]]:
    """The report table as (row, column, problem), the text a person reads in each cell."""
    section = response.text.split('id="report"', 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in rows]
    return [tuple(visible_text(cell) for cell in row) for row in cells]  # type: ignore[misc]


def page_rows(html: str) -> list[list[str]]:
    body = (
        html.split('<table class="table cohort-dashboard">', 1)[1]
        .split("<tbody>", 1)[1]
        .split("</tbody>", 1)[0]
    )
    rows = re.findall(r"<tr data-user=\"\d+\">(.*?)</tr>", body, flags=re.S)
    return [
        [visible_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for row in rows
    ]
