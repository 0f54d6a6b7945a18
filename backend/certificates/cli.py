"""`academy keys list|rotate` (the credential signing keys), `academy certificates verify FILE` and
`academy certificates prepare-font`, and what `academy init` prepares: the first signing key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from backend.certificates import fonts, keys
from backend.config import Settings, get_settings

keys_app = typer.Typer(help="The keys that sign certificate credentials (ES256).", no_args_is_help=True)
certificates_app = typer.Typer(help="Certificates.", no_args_is_help=True)


@keys_app.command("list")
def list_keys() -> None:
    """Every key, oldest first: the newest one with a private part signs; the others stay published."""
    settings = get_settings()
    found = keys.load_keys(settings)
    if not found:
        typer.echo(f"no keys in {keys.key_dir(settings)} (run `academy init` or `academy keys rotate`)")
        return
    for key in found:
        state = "current" if keys.is_current(settings, key.kid) else "retired"
        private = "private+public" if key.private_pem else "public only"
        typer.echo(f"{key.kid}  {key.created_at:%Y-%m-%d %H:%M:%S}Z  {state:8}  {private}  {key.path.name}")


@keys_app.command("rotate")
def rotate() -> None:
    """Add a new key that signs from now on; every earlier key stays published for verification."""
    settings = get_settings()
    key = keys.create_key(settings)
    typer.echo(f"new signing key {key.kid} ({keys.key_url(settings, key.kid)})")
    typer.echo("earlier keys stay published at /.well-known/jwks.json; credentials they signed still verify")


@certificates_app.command("verify")
def verify(
    file: Annotated[
        Path, typer.Argument(help="A credential file: the VC-JWT, or its JSON ('-' reads stdin).")
    ],
) -> None:
    """Check a credential as /verify does: signature, issuer, key, dates and revocation. Exits 1 unless valid."""
    import sys

    from backend.certificates.verify import verify_credential
    from backend.db import make_engine

    settings = get_settings()
    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8", errors="replace")
    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        result = verify_credential(session, settings=settings, text=text)
    engine.dispose()
    for check in result.checks:
        mark = (
            typer.style("ok  ", fg=typer.colors.GREEN)
            if check.ok
            else typer.style("FAIL", fg=typer.colors.RED)
        )
        typer.echo(f"{mark} {check.name:10} {check.detail}")
    typer.echo(f"state: {result.state}")
    if result.state != "valid":
        raise typer.Exit(1)


@certificates_app.command("prepare-font")
def prepare_font() -> None:
    """Build the certificate font once into the data directory (otherwise the first PDF does it)."""
    font = fonts.warm(get_settings())
    typer.echo(f"certificate font: {font.regular.parent} ({len(font.codepoints)} common characters)")


def prepare(settings: Settings | None = None) -> None:
    """For `academy init`: the first signing key. The certificate font is built by the first PDF (about
    a minute, once), or ahead of time by `academy certificates prepare-font`."""
    settings = settings or get_settings()
    key, created = keys.ensure_key(settings)
    typer.echo(f"signing key: {key.kid} ({'created' if created else 'present'})")
    if not fonts.is_prepared(settings):
        typer.echo("certificate font: run `academy certificates prepare-font` once (or the first PDF will)")
