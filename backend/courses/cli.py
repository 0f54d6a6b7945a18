"""`academy courses ...`: check the markdown courses, import them into the database, export them back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from backend.config import Settings, get_settings
from backend.courses.format import check_courses
from backend.courses.importer import CourseImportResult, CourseProblems, import_course_tree

courses_app = typer.Typer(help="Check, import and export the markdown courses.", no_args_is_help=True)


@courses_app.command("check")
def check(
    path: Annotated[Path | None, typer.Argument(help="A courses folder or one course folder.")] = None,
) -> None:
    """Print every problem as path:line: message; exit 1 when there is any."""
    root = path or get_settings().courses_dir
    problems = check_courses(root)
    for problem in problems:
        typer.echo(str(problem))
    if problems:
        typer.secho(f"{len(problems)} problem(s) found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{root}: no problems")


@courses_app.command("import")
def import_(
    path: Annotated[
        Path | None, typer.Argument(help="A courses folder or one course folder (default: the courses dir).")
    ] = None,
) -> None:
    """Import the courses into the database; a tree with any problem is refused whole (exit 1)."""
    settings = get_settings()
    root = path or settings.courses_dir
    with _database_session(settings) as session:
        try:
            results = import_course_tree(session, root)
        except CourseProblems as error:
            report_problems(error, root)
            raise typer.Exit(1) from None
        session.commit()
    for result in results:
        typer.echo(describe_import(result))


@courses_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the course folders into.")] = Path(
        "courses-export"
    ),
) -> None:
    """Write every course (course.yaml, current module texts, media) into OUT/<slug>/."""
    from backend.courses.exporter import export_all

    settings = get_settings()
    with _database_session(settings) as session:
        folders = export_all(session, out, courses_dir=settings.courses_dir)
        session.commit()
    if not folders:
        typer.secho("no course in the database: nothing exported", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    for folder in folders:
        typer.echo(f"{folder.name}: written to {folder}")


def describe_import(result: CourseImportResult) -> str:
    """One line per course, e.g. `broker-junior: updated, 2 module versions, 3 question versions`."""
    if result.unchanged:
        return f"{result.slug}: unchanged"
    counts = [
        _count(result.modules_added, "module added", "modules added"),
        _count(result.module_versions_added, "module version", "module versions"),
        _count(result.questions_versions_added, "question version", "question versions"),
        _count(result.modules_archived, "module archived", "modules archived"),
    ]
    return f"{result.slug}: {'created' if result.created else 'updated'}, {', '.join(counts)}"


def report_problems(error: CourseProblems, root: Path) -> None:
    for problem in error.problems:
        typer.echo(str(problem))
    typer.secho(
        f"{len(error.problems)} problem(s) in {root}: nothing imported", fg=typer.colors.RED, err=True
    )


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


@contextmanager
def _database_session(settings: Settings) -> Iterator[Session]:
    """A writing session on the configured database, which must already be at the latest schema."""
    from backend import schema
    from backend.db import make_engine, writer_engine

    engine = make_engine(settings.database_url)
    try:
        if not schema.is_up_to_date(engine):
            typer.secho(
                "the database is not at the latest schema: run `academy init` first",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(1)
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()
