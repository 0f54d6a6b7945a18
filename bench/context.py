"""The state one bench run shares between case groups: options, the temporary root, the private
PostgreSQL, seeded sites, the load generator and what this build offers. Everything it starts is
registered on one ExitStack, so it is torn down at the end even when a case fails or the run is stopped."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadGenerator, pick_load_generator
from bench.servers import APP_FACTORY, ServerProcess, start_app, start_baseline
from bench.sites import PostgresCluster, Site, new_site, refresh_schema, seed_site

DATABASES = ("sqlite", "postgresql")


@dataclass
class Options:
    seconds: float = 2.0  # one load run of the module page (the page with a target)
    other_seconds: float = 1.0  # one load run of every other page (context for the module page's figure)
    rounds: int = 3  # interleaved app/baseline rounds; the median is reported
    connections: int = 16
    starts: int = 3  # cold starts per configuration
    import_runs: int = 3
    export_runs: int = (
        1  # roster exports of 100,000 rows: each lasts tens of seconds, a long measurement itself
    )
    workers: tuple[int, ...] = (1, 2)
    databases: tuple[str, ...] = DATABASES
    load: str = "auto"  # auto | wrk | python
    keep: bool = False  # keep the temporary directory (logs) for a post-mortem


class BenchContext:
    def __init__(self, options: Options, stack: ExitStack, root: Path) -> None:
        self.options = options
        self.stack = stack
        self.root = root
        self.notes: list[str] = []
        self._postgres: PostgresCluster | None = None
        self._postgres_skip: str | None = None
        self._sites: dict[str, Site] = {}
        self._load: LoadGenerator | None = None
        self._commands: set[str] | None = None
        self._databases_made = 0
        self._started = time.perf_counter()

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self._started:6.1f}s] {message}", file=sys.stderr, flush=True)

    # --- what this build offers -------------------------------------------------------------------
    def commands(self) -> set[str]:
        """Every `academy` command path in this build ("init", "courses import", "roster export", ...)."""
        if self._commands is None:
            import typer.main

            from backend.cli import app

            found: set[str] = set()

            # By shape, not by class: this typer vendors its own click, whose groups are not click.Group.
            def walk(group: Any, prefix: str) -> None:
                for name, command in getattr(group, "commands", {}).items():
                    found.add(prefix + name)
                    walk(command, prefix + name + " ")

            walk(typer.main.get_command(app), "")
            self._commands = found
        return self._commands

    def has_command(self, path: str) -> bool:
        return path in self.commands()

    # --- databases --------------------------------------------------------------------------------
    def databases(self) -> list[str]:
        """The databases to measure: SQLite always, PostgreSQL when a private one could be started."""
        wanted = list(self.options.databases)
        if "postgresql" in wanted and self.postgres() is None:
            wanted.remove("postgresql")
        return wanted

    def postgres(self) -> PostgresCluster | None:
        if self._postgres is None and self._postgres_skip is None:
            bin_dir = PostgresCluster.find_bin_dir()
            if bin_dir is None:
                self._postgres_skip = "PostgreSQL skipped: initdb is not on this machine"
            else:
                # Its own temp dir: the run's root is private to this user, and the server runs as `postgres`.
                cluster = PostgresCluster(bin_dir, Path(tempfile.mkdtemp(prefix="academy-bench-pg.")))
                self.stack.callback(cluster.stop)
                try:
                    cluster.start()
                except Exception as exc:
                    self._postgres_skip = f"PostgreSQL skipped: could not start a private server ({exc})"
                else:
                    self._postgres = cluster
                    self.say(f"private {cluster.version} on 127.0.0.1:{cluster.port}")
            if self._postgres_skip:
                self.say(self._postgres_skip)
                self.notes.append(self._postgres_skip)
        return self._postgres

    def new_database(self, db: str, name: str, *, template: str | None = None) -> str:
        """A new, empty database: a file for SQLite, a fresh database on the private cluster. With
        `template` (the URL of a database made here, no longer in use) a copy of that one instead."""
        self._databases_made += 1
        name = f"{name}_{self._databases_made}"
        if db == "sqlite":
            path = self.root / "db" / f"{name}.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            if template:
                source = sqlite3.connect(template.removeprefix("sqlite:///"))
                target = sqlite3.connect(path)
                try:
                    source.backup(target)
                finally:
                    target.close()
                    source.close()
            return f"sqlite:///{path}"
        cluster = self.postgres()
        if cluster is None:
            raise RuntimeError(self._postgres_skip or "PostgreSQL is not available")
        return cluster.create_database(name, template=template.rsplit("/", 1)[-1] if template else None)

    def site(self, db: str) -> Site:
        """The shared seeded site for a database (made once per run, reused by every case group)."""
        if db not in self._sites:
            self.say(f"seeding a site on {db}")
            site = new_site(db, self.new_database(db, f"academy_{db}"), self.root / f"site-{db}")
            seed_site(site, has_demo=self.has_command("demo"))
            self._sites[db] = site
        return self._sites[db]

    def seed_sites(self) -> None:
        """Seed the shared site of every database at once, at the start of the run (seeding is mostly
        waiting on `academy init`/`academy demo` subprocesses and on the database, so the two overlap well)."""
        wanted = [db for db in self.databases() if db not in self._sites]
        if len(wanted) < 2:
            return
        self.has_command("demo")  # import the CLI once, before the threads
        made = {
            db: new_site(db, self.new_database(db, f"academy_{db}"), self.root / f"site-{db}")
            for db in wanted
        }
        self.say(f"seeding a site on {', '.join(wanted)} at once")
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            futures = {
                db: pool.submit(seed_site, site, has_demo=self.has_command("demo"))
                for db, site in made.items()
            }
            for db, future in futures.items():
                future.result()  # a failure surfaces here, as it would in site()
                self._sites[db] = made[db]

    # --- servers and load ---------------------------------------------------------------------------
    def app_server(
        self, site: Site, workers: int, *, academy_serve: bool = False, factory: str = APP_FACTORY
    ) -> ServerProcess:
        refresh_schema(site, self.say)
        server = start_app(
            site.env,
            workers=workers,
            log_dir=self.root,
            tag=site.db,
            academy_serve=academy_serve,
            factory=factory,
        )
        self.stack.callback(server.stop)
        return server

    def baseline_server(self, workers: int, env: dict[str, str]) -> ServerProcess:
        server = start_baseline(env, workers=workers, log_dir=self.root)
        self.stack.callback(server.stop)
        return server

    def load(self) -> LoadGenerator:
        if self._load is None:
            log: list[str] = []
            self._load = pick_load_generator(self.options.load, log)
            for line in log:
                self.say(line)
            self.notes.extend(log)
        return self._load

    def describe(self) -> dict[str, Any]:
        pg = self._postgres.version if self._postgres else self._postgres_skip
        return {
            "load_generator": self._load.version if self._load else None,
            "postgresql": pg,
            "options": {
                "seconds": self.options.seconds,
                "other_seconds": self.options.other_seconds,
                "rounds": self.options.rounds,
                "connections": self.options.connections,
                "starts": self.options.starts,
                "import_runs": self.options.import_runs,
                "export_runs": self.options.export_runs,
                "workers": list(self.options.workers),
            },
        }
