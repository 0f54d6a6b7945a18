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
    # Email. Without smtp_host nothing is sent: messages stay in the outbox (/admin/outbox) as "kept".
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""  # empty: noreply@ the host of public_base_url
    smtp_starttls: bool = True
    smtp_ssl: bool = False  # implicit TLS from the first byte (usually port 465) instead of STARTTLS
    smtp_timeout: float = 10.0
    public_base_url: str = "http://127.0.0.1:8000"  # the site's address as people reach it: links in emails
    run_jobs_on_startup: bool = True  # resume interrupted background jobs when the app starts (off in tests)
    # Certificates: the issuer named on every certificate and credential, and how numbers are made.
    issuer_name: str = ""  # empty: site_name
    issuer_url: str = ""  # the issuer's home page, in credentials; empty: public_base_url
    certificate_region_code: str = "330100"  # starts every number by default (330100: Hangzhou)
    # {region} {year} {level} (1 junior, 2 intermediate, 3 senior) {seq:05d} (per year and level) and
    # {check} (ISO 7064 MOD 11-2 over the digits before it; only at the end).
    certificate_number_pattern: str = "{region}{year}{level}{seq:05d}{check}"
    certificate_seal_image: Path | None = None  # PNG or JPEG of the issuer's seal; none: a drawn seal
    certificate_font: Path | None = None  # a CJK TTF/OTF to use instead of the packaged Noto Sans SC
    instructors_may_issue: bool = False  # instructors may issue certificates to the classes they teach

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        self.public_base_url = self.public_base_url.rstrip("/")
        if self.env == "test" and "run_jobs_on_startup" not in self.model_fields_set:
            self.run_jobs_on_startup = False
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
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @model_validator(mode="after")
    def _check_certificate_settings(self) -> Settings:
        from backend.certificates.numbering import pattern_problem

        problem = pattern_problem(self.certificate_number_pattern, self.certificate_region_code)
        if problem:
            raise ValueError(
                f"ACADEMY_CERTIFICATE_NUMBER_PATTERN / ACADEMY_CERTIFICATE_REGION_CODE: {problem}"
            )
        return self

    @property
    def certificate_issuer_name(self) -> str:
        return self.issuer_name.strip() or self.site_name

    @property
    def certificate_issuer_url(self) -> str:
        return self.issuer_url.strip().rstrip("/") or self.public_base_url


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
