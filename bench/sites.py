"""A site to measure: a temporary data directory and database (SQLite, or a database on a private
PostgreSQL that the bench starts itself), set up by `academy init` (and `academy demo` once it exists),
with a trainee created through the app's own account service."""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING

from bench.servers import HOST, REPO, academy_command, free_port

if TYPE_CHECKING:
    from backend.config import Settings

ADMIN_EMAIL = "bench-admin@example.com"
TRAINEE_EMAIL = "bench-trainee@example.com"
PASSWORD = "Bench-Passw0rd-2026!"


def run_logged(argv: list[str], *, env: dict[str, str] | None, log: Path, timeout: float = 600) -> str:
    """Run a command to completion; its output goes to `log` and is returned; a failure raises with it."""
    done = subprocess.run(
        argv,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(argv)}\n{output}\n")
    if done.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-8:])
        raise RuntimeError(f"`{' '.join(argv[-3:])}` exited with {done.returncode}:\n{tail}")
    return output


class PostgresCluster:
    """A throwaway PostgreSQL (initdb into a temp dir, pg_ctl start on a free port), like .ci/run does.
    Default durability settings (fsync and synchronous_commit on), so writes cost what they would."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = free_port()
        self.version = ""
        self._started = False

    @staticmethod
    def find_bin_dir() -> Path | None:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/initdb"),
            key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
        )
        if candidates:
            return Path(candidates[-1]).parent
        found = shutil.which("initdb")
        if found and (Path(found).resolve().parent / "pg_ctl").exists():
            return Path(found).resolve().parent
        return None

    def _as_postgres(self, argv: list[str]) -> list[str]:
        # initdb refuses to run as root: run the cluster as the `postgres` user, as CI does.
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _run(self, argv: list[str]) -> str:
        done = subprocess.run(
            self._as_postgres(argv), capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed: {(done.stderr or done.stdout).strip()[-500:]}")
        return done.stdout

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        initdb = str(self.bin_dir / "initdb")
        self._run(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
        )
        options = f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c max_connections=300"
        self._started = True
        pg_ctl = str(self.bin_dir / "pg_ctl")
        self._run(
            [pg_ctl, "-D", str(data), "-l", str(self.root / "server.log"), "-w", "-o", options, "start"]
        )
        self.version = self._run([str(self.bin_dir / "postgres"), "--version"]).strip()

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database; a copy of `template` (a database of this cluster, not in use) when given."""
        copy = ["-T", template] if template else []
        self._run(
            [str(self.bin_dir / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres", *copy, name]
        )
        return f"postgresql://postgres@{HOST}:{self.port}/{name}"

    def stop(self) -> None:
        if self._started:
            subprocess.run(
                self._as_postgres(
                    [str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"]
                ),
                capture_output=True,
                check=False,
            )
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Site:
    db: str  # "sqlite" | "postgresql"
    data_dir: Path
    database_url: str
    env: dict[str, str]
    log: Path
    secret_key: str
    seeded_with: list[str] = field(default_factory=list)
    trainee_cookies: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Settings:
        from backend.config import Settings

        return Settings(
            env="production",
            data_dir=self.data_dir,
            database_url=self.database_url,
            secret_key=self.secret_key,
            courses_dir=REPO / "courses",
        )


def site_env(data_dir: Path, database_url: str, secret_key: str) -> dict[str, str]:
    """The environment of every `academy` command and server of a site (production settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACADEMY_")}
    env.update(
        ACADEMY_ENV="production",
        ACADEMY_DATA_DIR=str(data_dir),
        ACADEMY_DATABASE_URL=database_url,
        ACADEMY_SECRET_KEY=secret_key,
        ACADEMY_COURSES_DIR=str(REPO / "courses"),
        ACADEMY_ADMIN_EMAIL=ADMIN_EMAIL,
        ACADEMY_ADMIN_PASSWORD=PASSWORD,
    )
    return env


def new_site(db: str, database_url: str, data_dir: Path) -> Site:
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    return Site(
        db, data_dir, database_url, site_env(data_dir, database_url, secret), data_dir / "setup.log", secret
    )


def seed_site(site: Site, *, has_demo: bool) -> None:
    """`academy init` (migrations, courses, first admin), `academy demo` when this build has it, and a
    trainee made by the account service (as registration would)."""
    run_logged([*academy_command(), "init"], env=site.env, log=site.log)
    site.seeded_with.append("academy init")
    if has_demo:
        # `academy demo` refuses production settings (it creates accounts with known passwords): it runs
        # with development settings against the same database and secret key; the servers stay production.
        demo_env = {**site.env, "ACADEMY_ENV": "development"}
        run_logged([*academy_command(), "demo"], env=demo_env, log=site.log, timeout=900)
        site.seeded_with.append("academy demo")
    register_trainee(site, TRAINEE_EMAIL, "基准测试学员")
    site.seeded_with.append("a trainee registered through accounts.service")


def refresh_schema(site: Site, say: Callable[[str], None]) -> None:
    """Run `academy init` again when a migration was added to the tree since the site was seeded (the
    tree is shared with people landing features while the bench runs); otherwise /healthz says 503."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from backend import schema
    from backend.db import make_engine

    head = ScriptDirectory.from_config(schema.alembic_config(site.database_url)).get_current_head()
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        say(
            f"{site.db}: the schema moved on since seeding ({current} -> {head}): running `academy init` again"
        )
        run_logged([*academy_command(), "init"], env=site.env, log=site.log)


def register_trainee(site: Site, email: str, name: str) -> int:
    from sqlmodel import Session

    from backend.accounts.schemas import Registration
    from backend.accounts.service import find_user_by_email, register_user
    from backend.db import make_engine, writer_engine

    engine = make_engine(site.database_url)
    try:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            existing = find_user_by_email(session, email)
            if existing is not None and existing.id is not None:
                return existing.id
            form = Registration(email=email, name=name, password=PASSWORD, password_confirm=PASSWORD)
            user = register_user(session, settings=site.settings(), form=form)
            session.commit()
            assert user.id is not None
            return user.id
    finally:
        engine.dispose()


def set_cookies(headers: list[str]) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in headers:
        jar.load(header)
    return {key: morsel.value for key, morsel in jar.items()}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def sign_in(base_url: str, email: str = TRAINEE_EMAIL, password: str = PASSWORD) -> dict[str, str]:
    """Sign in through the login form with its CSRF token, as a browser does; returns the cookies
    (CSRF and session) that the browser would send from then on. Cookies are handled by hand because
    production cookies are `Secure` and the bench speaks plain HTTP on loopback."""
    import httpx

    from backend.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE

    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        page = client.get("/login")
        cookies = set_cookies(page.headers.get_list("set-cookie"))
        match = re.search(rf'name="{CSRF_FIELD}"\s+value="([^"]+)"', page.text) or re.search(
            rf'value="([^"]+)"\s+name="{CSRF_FIELD}"', page.text
        )
        token = match.group(1) if match else cookies.get(CSRF_COOKIE, "")
        response = client.post(
            "/login",
            data={"email": email, "password": password, CSRF_FIELD: token, "next": "/me"},
            headers={"Cookie": cookie_header(cookies)},
        )
        cookies.update(set_cookies(response.headers.get_list("set-cookie")))
    if SESSION_COOKIE not in cookies:
        raise RuntimeError(f"sign-in through /login failed: HTTP {response.status_code}")
    return {CSRF_COOKIE: cookies.get(CSRF_COOKIE, token), SESSION_COOKIE: cookies[SESSION_COOKIE]}
