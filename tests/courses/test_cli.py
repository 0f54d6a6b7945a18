"""`academy courses check|import|export` and the course step of `academy init`, run as a person would
(Typer's CliRunner) against the test database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from backend import cli as main_cli
from backend.cli import app
from backend.config import Settings
from backend.courses import cli as courses_cli
from backend.models import Course, ModuleVersion

BreakCourse = Callable[..., Path]
runner = CliRunner()


@pytest.fixture
def use_settings(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, engine: Engine
) -> Callable[[Path], None]:
    """Point the commands at the test database and at the given courses folder."""

    def point(courses_dir: Path) -> None:
        changed = settings.model_copy(update={"courses_dir": courses_dir})
        monkeypatch.setattr(courses_cli, "get_settings", lambda: changed)
        monkeypatch.setattr(main_cli, "get_settings", lambda: changed)

    return point


def maybe_problem(course_dir: Path) -> str:
    """The one problem of a sample course whose truefalse answer was changed to `= maybe`."""
    path = course_dir / "03-practice.md"
    line = path.read_text(encoding="utf-8").split("\n").index("= maybe") + 1
    return f"{path}:{line}: truefalse answer must be true or false, not 'maybe'"


def titles(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [course.title for course in session.exec(select(Course))]


# ---- check ---------------------------------------------------------------------------------------------


def test_check_lists_each_problem_with_its_line_and_exits_1(break_course: BreakCourse) -> None:
    course_dir = break_course(
        ("course.yaml", "level: junior", "level: expert"), ("03-practice.md", "= false", "= maybe")
    )

    result = runner.invoke(app, ["courses", "check", str(course_dir)])

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        maybe_problem(course_dir),
        f"{course_dir / 'course.yaml'}:4: level 'expert' is not one of junior|intermediate|senior",
    ]
    assert "2 problem(s) found" in result.stderr


def test_check_of_a_good_course_exits_0(sample_course: Path) -> None:
    result = runner.invoke(app, ["courses", "check", str(sample_course)])

    assert (result.exit_code, result.stdout) == (0, f"{sample_course}: no problems\n")


# ---- import --------------------------------------------------------------------------------------------


def test_import_reports_each_course_and_then_unchanged(
    use_settings: Callable[[Path], None], sample_course: Path, engine: Engine
) -> None:
    use_settings(sample_course.parent)

    first = runner.invoke(app, ["courses", "import"])
    second = runner.invoke(app, ["courses", "import", str(sample_course)])

    assert (first.exit_code, first.stdout) == (
        0,
        "sample-course: created, 3 modules added, 3 module versions, 12 question versions, 0 modules archived\n",
    )
    assert (second.exit_code, second.stdout) == (0, "sample-course: unchanged\n")
    assert titles(engine) == ["示例课程"]


def test_import_reports_an_update(
    use_settings: Callable[[Path], None], break_course: BreakCourse, engine: Engine
) -> None:
    course_dir = break_course()
    use_settings(course_dir.parent)
    runner.invoke(app, ["courses", "import"])
    break_course(("02-law.md", "- [ ] 140 万元", "- [ ] 150 万元"))

    result = runner.invoke(app, ["courses", "import"])

    assert result.stdout == (
        "sample-course: updated, 0 modules added, 1 module version, 1 question version, 0 modules archived\n"
    )


def test_import_refuses_a_broken_course_and_changes_nothing(
    use_settings: Callable[[Path], None], break_course: BreakCourse, engine: Engine
) -> None:
    course_dir = break_course()
    use_settings(course_dir.parent)
    runner.invoke(app, ["courses", "import"])
    break_course(
        ("course.yaml", "title: 示例课程\n", "title: 改过的标题\n"), ("03-practice.md", "= false", "= maybe")
    )

    result = runner.invoke(app, ["courses", "import"])

    assert result.exit_code == 1
    assert result.stdout == maybe_problem(course_dir) + "\n"
    assert "1 problem(s)" in result.stderr and "nothing imported" in result.stderr
    assert titles(engine) == ["示例课程"]
    with Session(engine) as session:
        assert len(session.exec(select(ModuleVersion)).all()) == 3


def test_import_needs_a_migrated_database(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path, sample_course: Path
) -> None:
    fresh = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    monkeypatch.setattr(courses_cli, "get_settings", lambda: fresh)

    result = runner.invoke(app, ["courses", "import", str(sample_course)])

    assert result.exit_code == 1
    assert "run `academy init` first" in result.stderr


# ---- export --------------------------------------------------------------------------------------------


def test_export_writes_every_course(
    use_settings: Callable[[Path], None], sample_course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(sample_course.parent)
    runner.invoke(app, ["courses", "import"])
    monkeypatch.chdir(tmp_path)

    default = runner.invoke(app, ["courses", "export"])
    chosen = runner.invoke(app, ["courses", "export", "--out", str(tmp_path / "elsewhere")])

    assert (default.exit_code, default.stdout) == (
        0,
        "sample-course: written to courses-export/sample-course\n",
    )
    for out in (tmp_path / "courses-export", tmp_path / "elsewhere"):
        folder = out / "sample-course"
        for path in sample_course.rglob("*"):
            if path.is_file():
                assert (folder / path.relative_to(sample_course)).read_bytes() == path.read_bytes()
    assert chosen.exit_code == 0


def test_export_with_an_empty_database_says_so(use_settings: Callable[[Path], None], tmp_path: Path) -> None:
    use_settings(tmp_path)

    result = runner.invoke(app, ["courses", "export", "--out", str(tmp_path / "out")])

    assert result.exit_code == 1
    assert "nothing exported" in result.stderr


# ---- init ----------------------------------------------------------------------------------------------


def test_init_imports_the_courses_folder(
    use_settings: Callable[[Path], None], sample_course: Path, engine: Engine
) -> None:
    use_settings(sample_course.parent)

    result = runner.invoke(app, ["init"])

    assert result.exit_code == 0, result.output
    assert (
        "course sample-course: created, 3 modules added, 3 module versions, 12 question versions, "
        "0 modules archived"
    ) in result.stdout.splitlines()
    assert titles(engine) == ["示例课程"]
    assert "course sample-course: unchanged" in runner.invoke(app, ["init"]).stdout.splitlines()


def test_init_with_a_broken_course_lists_its_problems_and_exits_1(
    use_settings: Callable[[Path], None], break_course: BreakCourse, engine: Engine
) -> None:
    course_dir = break_course(("03-practice.md", "= false", "= maybe"))
    use_settings(course_dir.parent)

    result = runner.invoke(app, ["init"])

    assert result.exit_code == 1
    assert maybe_problem(course_dir) in result.stdout.splitlines()
    assert titles(engine) == []
