"""`academy courses ...`: check the markdown courses (and, with the importer, import and export them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backend.config import get_settings
from backend.courses.format import check_courses

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
