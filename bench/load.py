"""Load generators: `wrk` (installed with apt-get when missing and the bench runs as root), else a Python
asyncio + httpx client. Both run a bounded, fixed-URL, keep-alive run against loopback and report
requests/s and latency percentiles."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import percentile

WRK_REPORT = Path(__file__).with_name("wrk_report.lua")


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int  # non-2xx/3xx answers, connection errors and timeouts
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise ValueError(f"the bench only sends load to loopback, not to {host}")


class WrkLoad:
    name = "wrk"

    def __init__(self, executable: str) -> None:
        self.executable = executable
        out = subprocess.run([executable, "-v"], capture_output=True, text=True, check=False)
        first = (out.stdout + out.stderr).strip().splitlines()
        self.version = first[0].split("[")[0].strip() if first else "wrk"

    def measure(self, url: str, *, headers: dict[str, str], seconds: float, connections: int) -> LoadResult:
        _check_loopback(url)
        argv = [
            self.executable,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
        ]
        argv += ["--latency", "-s", str(WRK_REPORT)]
        for name, value in headers.items():
            argv += ["-H", f"{name}: {value}"]
        argv.append(url)
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(
                f"wrk failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}"
            )
        data = json.loads(line.removeprefix("BENCH_JSON "))
        errors = sum(
            int(data[k])
            for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
        )
        return LoadResult(
            requests=int(data["requests"]),
            seconds=data["duration_us"] / 1e6,
            errors=errors,
            p50_ms=data["p50_us"] / 1000,
            p95_ms=data["p95_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
        )


class PythonLoad:
    """asyncio + httpx: the fallback when wrk cannot be had. The client costs far more CPU than wrk, on
    the same 2 cores as the server, so its absolute figures are lower; the ratios stay comparable."""

    name = "python"

    def __init__(self) -> None:
        import httpx

        self.version = f"httpx {httpx.__version__} (asyncio)"

    def measure(self, url: str, *, headers: dict[str, str], seconds: float, connections: int) -> LoadResult:
        _check_loopback(url)
        return asyncio.run(self._run(url, headers, seconds, connections))

    async def _run(self, url: str, headers: dict[str, str], seconds: float, connections: int) -> LoadResult:
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        latencies: list[float] = []
        errors = 0
        async with httpx.AsyncClient(limits=limits, timeout=10, headers=headers) as client:
            deadline = time.perf_counter() + seconds

            async def user() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        response = await client.get(url)
                        await response.aread()
                        if response.status_code >= 400:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    latencies.append(time.perf_counter() - started)

            began = time.perf_counter()
            await asyncio.gather(*(user() for _ in range(connections)))
            elapsed = time.perf_counter() - began
        latencies.sort()

        def ms(pct: float) -> float | None:
            value = percentile(latencies, pct)
            return None if value is None else value * 1000

        return LoadResult(len(latencies), elapsed, errors, ms(50), ms(95), ms(99))


LoadGenerator = WrkLoad | PythonLoad


def pick_load_generator(preference: str, log: list[str]) -> LoadGenerator:
    """wrk when it is (or can be made) available, else the Python client; `log` gets what was done."""
    if preference != "python":
        wrk = shutil.which("wrk") or _install_wrk(log)
        if wrk:
            return WrkLoad(wrk)
        if preference == "wrk":
            raise RuntimeError("wrk was asked for but is not available")
        log.append("wrk not available: using the Python asyncio + httpx client")
    return PythonLoad()


def _install_wrk(log: list[str]) -> str | None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log.append("wrk is missing and the bench cannot install it (needs root and apt-get)")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in (["apt-get", "install", "-y", "-qq", "wrk"], None):
        if attempt is None:  # the package lists may be missing or stale: refresh once and retry
            subprocess.run(
                ["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300, check=False
            )
            attempt = ["apt-get", "install", "-y", "-qq", "wrk"]
        try:
            done = subprocess.run(
                attempt,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        if done.returncode == 0 and shutil.which("wrk"):
            log.append("installed wrk with apt-get")
            return shutil.which("wrk")
    log.append("apt-get install wrk failed")
    return None
