"""`academy roster export|import` and `academy demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from backend.config import get_settings

roster_app = typer.Typer(
    help="The certified roster: export it, import the earlier register.", no_args_is_help=True
)


@roster_app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    out: Annotated[Path, typer.Option("--out", help="File to write.")] = Path("roster.csv"),
    level: Annotated[int | None, typer.Option(help="1 junior, 2 intermediate, 3 senior.")] = None,
    year: Annotated[int | None, typer.Option(help="Year of issue.")] = None,
    region: Annotated[str, typer.Option(help="Region, exactly as recorded.")] = "",
    status: Annotated[str, typer.Option(help="valid, expired, revoked or superseded.")] = "",
    source: Annotated[str, typer.Option(help="issued or legacy.")] = "",
    full_ids: Annotated[bool, typer.Option("--full-ids", help="Full ID numbers (audit-logged).")] = False,
    columns: Annotated[str, typer.Option(help="Column names: zh or en.")] = "zh",
) -> None:
    """Write the roster (filtered) to a CSV or XLSX file; ID numbers masked unless --full-ids."""
    from backend.db import make_engine, writer_engine
    from backend.roster.export import ExportSpec, record_export, write_export
    from backend.roster.schemas import SOURCES, STATES, RosterFilter

    problems = []
    if format not in ("csv", "xlsx"):
        problems.append("--format must be csv or xlsx")
    if level is not None and level not in (1, 2, 3):
        problems.append("--level must be 1, 2 or 3")
    if status and status not in STATES:
        problems.append(f"--status must be one of {', '.join(STATES)}")
    if source and source not in SOURCES:
        problems.append(f"--source must be one of {', '.join(SOURCES)}")
    if columns not in ("zh", "en"):
        problems.append("--columns must be zh or en")
    if problems:
        for problem in problems:
            typer.secho(problem, fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    spec = ExportSpec(
        roster_filter=RosterFilter(level=level, year=year, region=region, state=status, source=source),
        format=format,
        lang=columns,
        full_ids=full_ids,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with Session(engine) as session, out.open("wb") as handle:
        rows = write_export(handle, session, spec, settings.secret_key)
    with Session(writer_engine(engine)) as session:
        record_export(session, actor=None, spec=spec, rows=rows, via="cli")
        session.commit()
    engine.dispose()
    ids = "full ID numbers (audit-logged)" if full_ids else "masked ID numbers"
    typer.echo(f"{rows} rows written to {out} ({format}, {ids})")


@roster_app.command("import")
def import_file(file: Annotated[Path, typer.Argument(help="CSV or XLSX of the earlier register.")]) -> None:
    """Import the earlier register: every problem is listed by row and nothing is imported until none is left."""
    from backend.db import make_engine, writer_engine
    from backend.roster.legacy_file import column_label, read_legacy_file
    from backend.roster.legacy_import import import_legacy
    from backend.roster.schemas import ImportOutcome

    settings = get_settings()
    rows, problems = read_legacy_file(file.read_bytes())
    engine = make_engine(settings.database_url)
    outcome = ImportOutcome(rows=len(rows), problems=problems)
    if not problems:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            outcome = import_legacy(session, settings=settings, rows=rows, actor=None, filename=file.name)
            session.commit() if outcome.ok else session.rollback()
    engine.dispose()
    if not outcome.ok:
        for problem in outcome.problems:
            where = f"row {problem.row}" if problem.row else "file"
            column = f" [{column_label(problem.column)}]" if problem.column else ""
            typer.secho(f"{where}{column}: {problem.message}", fg=typer.colors.RED, err=True)
        typer.secho(f"nothing imported: {len(outcome.problems)} problems", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{outcome.imported} records imported from {file}")


def demo() -> None:
    """Create a demo training base: classes with trainees at every stage and a 1,349-person earlier register
    (all synthetic, marked 演示数据). Running it again changes nothing."""
    from backend import schema
    from backend.db import make_engine
    from backend.roster.demo import run_demo

    settings = get_settings()
    if settings.is_production:
        typer.secho(
            "academy demo refuses to run with ACADEMY_ENV=production: it creates accounts with known passwords.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    schema.upgrade_head(settings.database_url)
    engine = make_engine(settings.database_url)
    result = run_demo(engine, settings, echo=typer.echo)
    engine.dispose()
    if result.already_present:
        typer.echo(
            f"The demo training base is already here ({result.already_present} demo register records): nothing was changed."
        )
        return
    for note in result.training.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW)
    for name in result.training.classes:
        typer.echo(f"class: {name}")
    for stage, count in result.training.stages.items():
        typer.echo(f"  trainees {stage}: {count}")
    typer.echo(f"earlier register: {result.legacy} brokers (2012–2022, marked 演示数据)")
    typer.echo(f"done in {result.seconds:.1f} s. Demo logins (demo accounts only):")
    for role, email, password in result.logins:
        typer.echo(f"  {role:10} {email}  password: {password}")
