"""Settings read from the environment (prefix ACADEMY_), with fail-fast checks for production."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KNOWN_WEAK_SECRETS = {"", "changeme", "secret", "change-me", "development", "dev"}
SECRET_FILE = "secret_key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACADEMY_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    database_url: str = ""
    secret_key: str = ""
    courses_dir: Path = Path("./courses")
    session_hours: int = 12
    admin_email: str = ""
    admin_password: str = ""
    default_locale: str = "zh_CN"
    password_min_length: int = 10
    login_max_failures: int = 5
    login_window_minutes: int = 15
    login_lockout_minutes: int = 15
    site_name: str = "技术经纪人学院"

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'academy.sqlite3').resolve()}"
        if self.env == "production":
            if self.secret_key.strip().lower() in KNOWN_WEAK_SECRETS or len(self.secret_key) < 32:
                raise ValueError(
                    "ACADEMY_SECRET_KEY must be set to a random value of at least 32 characters "
                    "when ACADEMY_ENV=production (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
        elif not self.secret_key:
            self.secret_key = _development_secret(self.data_dir)
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _development_secret(data_dir: Path) -> str:
    """Generate the secret once into the data dir; every worker process then reads the same one."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if not path.exists():
        tmp = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)  # atomic: exactly one process wins, the others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
