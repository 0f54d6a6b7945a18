"""`academy keys list|rotate` and `academy certificates verify FILE`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from backend.certificates import cli as certificates_cli
from backend.certificates import keys
from backend.cli import app
from backend.config import Settings
from backend.models import Course, User
from tests.certificates.support import issue

runner = CliRunner()


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setattr(certificates_cli, "get_settings", lambda: settings)


def test_rotate_adds_a_key_and_list_shows_current_and_retired(settings: Settings) -> None:
    first, _created = keys.ensure_key(settings)
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    lines = {line.split()[0]: line for line in listed.output.splitlines() if line.strip()}
    assert "retired" in lines[first.kid]
    newest = keys.load_keys(settings)[-1]
    assert newest.kid != first.kid and "current" in lines[newest.kid]


def test_verify_a_credential_file(
    db: Session, settings: Settings, course: Course, graduate: Callable[..., User], tmp_path: Path
) -> None:
    certificate = issue(db, settings, graduate(), course)
    good = tmp_path / "credential.jwt"
    good.write_text(certificate.credential_jwt or "")
    result = runner.invoke(app, ["certificates", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "state: valid" in result.output and result.output.count("ok") >= 6
    token = certificate.credential_jwt or ""
    bad = tmp_path / "tampered.jwt"
    bad.write_text(token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    failed = runner.invoke(app, ["certificates", "verify", str(bad)])
    assert failed.exit_code == 1 and "FAIL" in failed.output
