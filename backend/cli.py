"""The `academy` command: serve, init (migrate, load courses, first administrator), backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from backend.certificates.cli import certificates_app, keys_app
from backend.certificates.cli import prepare as prepare_certificates
from backend.config import get_settings
from backend.courses.cli import courses_app
from backend.exams.cli import exams_app
from backend.notifications.cli import notifications_app
from backend.renewal.cli import renewal_app
from backend.roster.cli import demo, roster_app

app = typer.Typer(
    help="Broker Academy (技术经纪人学院) command line.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(courses_app, name="courses")
app.add_typer(exams_app, name="exams")
app.add_typer(notifications_app, name="notifications")
app.add_typer(keys_app, name="keys")
app.add_typer(certificates_app, name="certificates")
app.add_typer(roster_app, name="roster")
app.add_typer(renewal_app, name="renewal")
app.command("demo")(demo)


WORKER_HEALTHCHECK_TIMEOUT_S = 60


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (stateless; share the database).")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the web app (run `academy init` first)."""
    import uvicorn

    get_settings()  # fail fast on unsafe production settings before any worker starts
    uvicorn.run(
        "backend.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_level="info",
        # uvicorn restarts a worker that does not answer its health ping within this many seconds (5 by
        # default); on a busy 2-core machine importing the app alone can take longer than 5 s.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_TIMEOUT_S,
    )


@app.command()
def init() -> None:
    """Bring the database to the latest schema, load the courses and create the first administrator."""
    from backend import schema
    from backend.accounts.service import ensure_first_admin
    from backend.db import make_engine, writer_engine

    settings = get_settings()
    schema.upgrade_head(settings.database_url)
    typer.echo(f"database ready: {make_url(settings.database_url).render_as_string(hide_password=True)}")
    engine = make_engine(settings.database_url)
    _load_courses(engine)
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        created = ensure_first_admin(session, settings=settings)
        session.commit()
    if created is None:
        typer.echo("administrator: already present")
    else:
        user, generated = created
        if generated:
            typer.secho(
                f"first administrator created: {user.email}  password: {generated}\n"
                "  (shown once: write it down, then change it under /me/password)",
                fg=typer.colors.YELLOW,
            )
        else:
            typer.echo(f"first administrator created: {user.email} (password from ACADEMY_ADMIN_PASSWORD)")
    engine.dispose()
    prepare_certificates(settings)


def _load_courses(engine: Engine) -> None:
    """Import every course in settings.courses_dir and print one line per course. A course with problems
    is listed with them, nothing is imported and init exits 1; a missing folder is skipped."""
    from backend.courses.cli import describe_import, report_problems
    from backend.courses.importer import CourseProblems, import_course_tree
    from backend.db import writer_engine

    root = get_settings().courses_dir
    if not root.is_dir():
        typer.echo(f"courses: no folder {root}, none imported")
        return
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        try:
            results = import_course_tree(session, root)
        except CourseProblems as error:
            report_problems(error, root)
            raise typer.Exit(1) from None
        session.commit()
    for result in results:
        typer.echo(f"course {describe_import(result)}")


@app.command()
def backup(out: Annotated[Path, typer.Option("--out", help="File to write the backup to.")]) -> None:
    """Back up the database: SQLite's online backup, or the pg_dump command to run for PostgreSQL."""
    settings = get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).exists():
            typer.secho(f"no SQLite database at {url.database}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        out.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(out)
        with target:
            source.backup(target)
        source.close()
        target.close()
        typer.echo(f"backup written: {out} ({out.stat().st_size} bytes)")
        return
    safe = url.set(drivername="postgresql").render_as_string(hide_password=True)
    typer.echo("PostgreSQL is backed up with its own tool; run:")
    typer.echo(f"  pg_dump --format=custom --file={out} '{safe}'")
    typer.echo("(give the password with PGPASSWORD or ~/.pgpass; restore with pg_restore)")


if __name__ == "__main__":
    app()
