"""An SMTP server on localhost for the delivery tests, and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.config import Settings
from tests.notifications.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def smtp_settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_sink.port,
            "smtp_starttls": False,
            "smtp_timeout": 5.0,
        }
    )
