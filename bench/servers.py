"""Server processes on free loopback ports: the app (`academy serve`) and the baseline app (the same
uvicorn, the same flags), each in its own process group so that stopping it stops its workers too."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_TIMEOUT = 120.0  # generous: the machine is shared, and imports slow down under load


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def academy_command() -> list[str]:
    """The `academy` console script of the interpreter running the bench (the project's venv)."""
    script = Path(sys.executable).with_name("academy")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "backend.cli"]


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of one GET, or None when nothing answers yet."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        conn.close()


class ServerProcess:
    """A server started as a subprocess; `stop()` ends its whole process group (uvicorn's workers too)."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path, port: int):
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115  (closed in stop())
        self._stopped = False
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            cwd=REPO,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = READY_TIMEOUT) -> float:
        """Seconds from the start of the process until `path` answers 200."""
        deadline = self.started_at + timeout
        unavailable_since: float | None = None
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            status = http_status(self.port, path, timeout=0.5)
            now = time.perf_counter()
            if status == 200:
                return now - self.started_at
            unavailable_since = (unavailable_since or now) if status == 503 else None
            if unavailable_since is not None and now - unavailable_since > 10:
                raise RuntimeError(f"{self.name}: {path} keeps answering 503 (migrations pending?)")
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 6) -> str:
        """The last lines of the server's log that are not access-log lines."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [ln for ln in text.splitlines() if '" ' not in ln or "HTTP/1.1" not in ln]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        """Idempotent: called when a case is done with the server and again by the final teardown."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        else:
            # The supervisor is gone; make sure no orphaned worker of its group is left behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# uvicorn kills a worker that does not answer its health ping within 5 s (its default), and on a loaded
# 2-core machine importing the app can take longer than that: `academy serve --workers 2` then restarts
# workers for ever. Load runs therefore start the app with uvicorn directly (the same factory and flags
# as `academy serve`) and a longer health-check timeout; the cold-start case measures `academy serve` itself.
HEALTHCHECK_TIMEOUT_S = 60


def uvicorn_argv(factory: str, port: int, workers: int) -> list[str]:
    """The flags `academy serve` gives uvicorn (factory, proxy headers, info log with access lines)."""
    argv = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", HOST, "--port", str(port)]
    argv += ["--workers", str(workers), "--proxy-headers", "--log-level", "info"]
    return [*argv, "--timeout-worker-healthcheck", str(HEALTHCHECK_TIMEOUT_S)]


APP_FACTORY = "backend.main:create_app"
# The app plus the same-app bare page (bench/app_with_baseline.py): for the page case, whose target is
# stated against "a bare Jinja2 page of the same size served by the same app".
APP_WITH_BASELINE_FACTORY = "bench.app_with_baseline:create_app"


def start_app(
    env: Mapping[str, str],
    *,
    workers: int,
    log_dir: Path,
    tag: str,
    academy_serve: bool = False,
    factory: str = APP_FACTORY,
) -> ServerProcess:
    """The app: under uvicorn with `factory`, or (academy_serve=True) `academy serve`."""
    port = free_port()
    if academy_serve:
        argv = [*academy_command(), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    else:
        argv = uvicorn_argv(factory, port, workers)
    name = f"app[{tag}, {workers}w{', academy serve' if academy_serve else ''}]"
    return ServerProcess(name, argv, env, log_dir / f"app-{tag}-{workers}w.log", port)


def start_baseline(env: Mapping[str, str], *, workers: int, log_dir: Path) -> ServerProcess:
    """The baseline under the same uvicorn settings as the app."""
    port = free_port()
    argv = uvicorn_argv("bench.baseline_app:create_app", port, workers)
    base_env = {**env, "PYTHONPATH": str(REPO)}
    return ServerProcess(f"baseline[{workers}w]", argv, base_env, log_dir / f"baseline-{workers}w.log", port)
