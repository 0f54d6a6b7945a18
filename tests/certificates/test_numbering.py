"""Certificate numbers: the default pattern, the check character catching a one-character typo before
any lookup, and a counter that is unique and gap-free under concurrent issuing on both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.accounts.idcard import mod11_2_check_char
from backend.certificates import service
from backend.certificates.numbering import (
    NumberPattern,
    allocate_number,
    normalise_number,
    number_problem,
    pattern_problem,
)
from backend.config import Settings
from backend.db import make_engine, writer_engine
from backend.models import Certificate, Course, User

PATTERN = "{region}{year}{level}{seq:05d}{check}"


def test_the_default_number_is_region_year_level_sequence_and_check() -> None:
    number = NumberPattern.parse(PATTERN).render(region="330100", year=2026, level=2, seq=17)
    assert number[:-1] == "3301002026200017"
    assert number[-1] == mod11_2_check_char("3301002026200017")
    assert len(number) == 17


def test_every_one_character_typo_is_caught_by_the_check_character() -> None:
    number = NumberPattern.parse(PATTERN).render(region="330100", year=2026, level=1, seq=345)
    assert number_problem(number, pattern=PATTERN, region="330100") is None
    for position in range(len(number)):
        for replacement in "0123456789X":
            if replacement == number[position] or (replacement == "X" and position < len(number) - 1):
                continue
            typo = number[:position] + replacement + number[position + 1 :]
            assert number_problem(typo, pattern=PATTERN, region="330100"), typo


def test_a_number_of_another_shape_goes_on_to_the_lookup() -> None:
    assert number_problem("浙技经2015-0001", pattern=PATTERN, region="330100") is None
    assert number_problem("12345", pattern=PATTERN, region="330100") is None


def test_typed_numbers_are_normalised() -> None:
    assert normalise_number(" 3301-0020 2610 0001 x ") == "3301002026100001X"
    assert normalise_number("３３０１００") == "330100"


@pytest.mark.parametrize(
    ("pattern", "region", "ok"),
    [
        (PATTERN, "330100", True),
        ("{region}-{year}-{seq:04d}", "ZJ", True),
        ("{region}{seq:05d}{check}", "ZJ", False),  # check over letters
        ("{region}{check}{seq:05d}", "330100", False),  # check not at the end
        ("{region}{year}", "330100", False),  # no sequence
        ("{region}{yaer}{seq}", "330100", False),  # unknown field
        ("{region}{year", "330100", False),
    ],
)
def test_the_pattern_setting_is_checked(pattern: str, region: str, ok: bool) -> None:
    assert (pattern_problem(pattern, region) is None) is ok


def test_the_settings_refuse_a_bad_pattern() -> None:
    with pytest.raises(ValueError, match="check"):
        Settings(env="test", secret_key="x" * 40, certificate_number_pattern="{region}{check}{seq}")


def test_sequences_run_per_year_and_level(db: Session) -> None:
    numbers = [
        allocate_number(db, pattern=PATTERN, region="330100", year=year, level=level)
        for year, level in ((2026, 1), (2026, 1), (2026, 2), (2027, 1), (2026, 1))
    ]
    db.commit()
    assert [n[10:16] for n in numbers] == ["100001", "100002", "200001", "100001", "100003"]


def test_without_year_and_level_in_the_pattern_one_sequence_spans_them(db: Session) -> None:
    pattern = "ZJ{seq:06d}"
    numbers = [
        allocate_number(db, pattern=pattern, region="", year=year, level=level)
        for year, level in ((2026, 1), (2027, 3))
    ]
    assert numbers == ["ZJ000001", "ZJ000002"]


def test_a_rolled_back_issue_gives_its_number_back(engine: Engine) -> None:
    with Session(writer_engine(engine)) as first:
        allocate_number(first, pattern=PATTERN, region="330100", year=2030, level=3)
        first.rollback()
    with Session(writer_engine(engine)) as second:
        number = allocate_number(second, pattern=PATTERN, region="330100", year=2030, level=3)
        second.commit()
    assert number[10:16] == "300001"


def test_concurrent_allocation_from_two_app_instances_is_unique_and_gap_free(settings: Settings) -> None:
    """Two engines (as two app processes would have) and eight threads take numbers at the same time."""
    engines = [make_engine(settings.database_url), make_engine(settings.database_url)]
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(index: int) -> None:
        try:
            start.wait()
            for _ in range(5):
                with Session(writer_engine(engines[index % 2])) as session:
                    number = allocate_number(session, pattern=PATTERN, region="330100", year=2031, level=1)
                    session.commit()
                with lock:
                    taken.append(number)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for engine in engines:
        engine.dispose()
    assert not errors
    assert sorted(int(n[11:16]) for n in taken) == list(range(1, 41))
    assert len(set(taken)) == 40


def test_concurrent_issuing_gives_every_certificate_its_own_number(
    settings: Settings, db: Session, course: Course, graduate: Callable[..., User]
) -> None:
    people = [graduate(f"学员{i}") for i in range(6)]
    engines = [make_engine(settings.database_url), make_engine(settings.database_url)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(people))

    def worker(index: int, user_id: int) -> None:
        try:
            start.wait()
            with Session(writer_engine(engines[index % 2]), expire_on_commit=False) as session:
                user = session.get(User, user_id)
                own_course = session.get(Course, course.id)
                assert user is not None and own_course is not None
                service.issue_one(session, settings=settings, user=user, course=own_course, actor=user)
                session.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i, p.id)) for i, p in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert not errors
    db.commit()
    numbers = db.exec(select(Certificate.number).order_by(col(Certificate.number))).all()
    assert len(numbers) == len(people) == len(set(numbers))
    assert [int(n[11:16]) for n in numbers] == list(range(1, len(people) + 1))


def test_issuing_twice_at_once_issues_once(
    settings: Settings, db: Session, course: Course, graduate: Callable[..., User]
) -> None:
    user = graduate()
    engines = [make_engine(settings.database_url), make_engine(settings.database_url)]
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        start.wait()
        with Session(writer_engine(engines[index]), expire_on_commit=False) as session:
            own_user, own_course = session.get(User, user.id), session.get(Course, course.id)
            assert own_user is not None and own_course is not None
            try:
                service.issue_one(
                    session, settings=settings, user=own_user, course=own_course, actor=own_user
                )
                session.commit()
                outcomes.append("issued")
            except service.Conflict:
                session.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for engine in engines:
        engine.dispose()
    assert sorted(outcomes) == ["conflict", "issued"]
    db.commit()
    assert len(db.exec(select(Certificate)).all()) == 1
