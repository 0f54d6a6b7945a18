"""Case group `exam_autosave`: 200 trainees, each with an exam attempt, save 50 answers each at the same
time against one server (the largest worker count) through the exam API; afterwards the answers are
counted in the database. Lost answers must be 0. Reports p50/p95/p99 save latency, on both databases.

The exam API (issue 5: "start an attempt, save an answer, submit, get the result (/api/v1/exams/...)") is
found in the app's OpenAPI document: `ExamApi.discover` says what it looks for. When the exam routes are
missing the case is "not available"; when they exist in another shape it fails and says what it found."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.context import BenchContext
from bench.harness import FAILED, CaseResult, Column, ContractMismatch, NotAvailable, mark_failed, percentile
from bench.seeding import Trainee, require, seed_trainees
from bench.sites import Site

TITLE = "Exam autosave: 200 trainees × 50 answers at once"
TRAINEES = 200
ANSWERS_EACH = 50
COURSE = "broker-junior"
START_CONCURRENCY = 8
SAVE_TIMEOUT_S = 30  # one save: a browser's fetch would give up about then too
STORM_LIMIT_S = 120
SAVE_FAILURES = (
    TimeoutError,
    OSError,
    ValueError,
    asyncio.IncompleteReadError,
    asyncio.LimitOverrunError,
)  # the storm is bounded in time too: saves not sent by then are counted as unsent
COLUMNS = [
    Column("db", "db"),
    Column("workers", "workers"),
    Column("saves", "saves"),
    Column("refused", "refused"),
    Column("lost", "lost (DB)"),
    Column("saves_per_s", "saves/s", 0),
    Column("p50_ms", "p50 ms"),
    Column("p95_ms", "p95 ms"),
    Column("p99_ms", "p99 ms"),
    Column("meets", "all saved, 0 lost"),
]


@dataclass
class ExamApi:
    """The three exam operations the bench drives, as path templates from /openapi.json."""

    start: str  # POST …/attempts (course in the path) -> the attempt with its questions
    save_method: str
    save: str  # PUT/POST …/answers[/{question}] -> save one answer

    @classmethod
    def discover(cls, document: dict[str, Any]) -> ExamApi:
        paths: dict[str, dict[str, Any]] = {
            p: ops for p, ops in document.get("paths", {}).items() if p.startswith("/api/v1/exams")
        }
        if not paths:
            raise NotAvailable("no /api/v1/exams routes in this build")
        start = next(
            (p for p, ops in paths.items() if "post" in ops and re.search(r"/attempts?/?$|/start$", p)), None
        )
        save = next(
            (
                (m, p)
                for p, ops in paths.items()
                for m in ("put", "post", "patch")
                if m in ops and "answer" in p
            ),
            None,
        )
        if start is None or save is None:
            raise ContractMismatch(
                "expected POST /api/v1/exams/…/attempts and PUT|POST …/answers…; found: "
                + ", ".join(sorted(paths))
            )
        return cls(start, save[0].upper(), save[1])


def run(ctx: BenchContext) -> CaseResult:
    require("backend.exams")
    result = CaseResult("exam_autosave", TITLE, COLUMNS)
    workers = max(ctx.options.workers)
    for db in ctx.databases():
        try:
            result.rows.append(_measure(ctx, ctx.site(db), workers))
        except (NotAvailable, ContractMismatch):
            raise
        except Exception as exc:  # the other database is still measured
            mark_failed(result, {"db": db, "workers": workers}, exc)
    if any(row.get("lost") for row in result.rows):
        result.status = FAILED
        result.reason = "answers were lost"
    elif any(row.get("meets") is False for row in result.rows):
        result.reason = "target not met: saves were refused or could not be sent in time (see the notes)"
    result.notes.append(
        f"each trainee completed every module of {COURSE} (hours credited), starts an attempt through the API "
        f"and saves {ANSWERS_EACH} answers one after another (questions in paper order, then again from the "
        "first: later saves overwrite); all trainees at once (the attempts are started beforehand, "
        f"{START_CONCURRENCY} at a time, not timed); lost = acknowledged (2xx) answers not in the "
        "database afterwards; refused = saves answered with an error"
    )
    return result


def _measure(ctx: BenchContext, site: Site, workers: int) -> dict[str, Any]:
    server = ctx.app_server(site, workers)
    try:
        server.wait_ready()
        api = ExamApi.discover(httpx.get(server.base_url + "/openapi.json", timeout=30).json())
        ctx.say(f"exam autosave: seeding {TRAINEES} trainees on {site.db}")
        trainees = seed_trainees(site, prefix=f"exam-{site.db}", count=TRAINEES, course_slug=COURSE)
        ctx.say(f"exam autosave: {TRAINEES} × {ANSWERS_EACH} saves on {site.db}, {workers} worker(s)")
        outcome = asyncio.run(_storm(server.base_url, api, trainees))
    finally:
        server.stop()
    lost = outcome.expected - count_saved_answers(site.database_url, outcome.attempt_ids)
    return outcome.row(site.db, workers, max(lost, 0))


@dataclass
class StormOutcome:
    latencies: list[float]
    refused: int
    unsent: int  # not sent before the time limit
    expected: int  # distinct (attempt, question) pairs acknowledged
    attempt_ids: list[Any]
    seconds: float

    def row(self, db: str, workers: int, lost: int) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def ms(p: float) -> float | None:
            value = percentile(ordered, p)
            return None if value is None else value * 1000

        return {
            "db": db,
            "workers": workers,
            "saves": len(ordered),
            "refused": self.refused,
            "lost": lost,
            "saves_per_s": len(ordered) / self.seconds if self.seconds else None,
            "p50_ms": ms(50),
            "p95_ms": ms(95),
            "p99_ms": ms(99),
            # The target holds only when every save was made: nothing lost, refused or left unsent.
            "meets": lost == 0 and not self.refused and not self.unsent,
            "unsent": self.unsent,
            "note": "; ".join(
                text
                for text in (
                    f"{self.refused} saves refused or dropped: the trainee saw an error"
                    if self.refused
                    else "",
                    f"{self.unsent} saves not sent within {STORM_LIMIT_S} s" if self.unsent else "",
                )
                if text
            ),
        }


async def _storm(base_url: str, api: ExamApi, trainees: list[Trainee]) -> StormOutcome:
    limits = httpx.Limits(max_connections=len(trainees), max_keepalive_connections=len(trainees))
    latencies: list[float] = []
    refused = 0
    unsent = 0
    acknowledged: set[tuple[Any, Any]] = set()
    attempt_ids: list[Any] = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        # Attempts are started a few at a time: the case measures saving, not a start stampede.
        gate = asyncio.Semaphore(START_CONCURRENCY)

        async def start(t: Trainee) -> tuple[Any, list[dict[str, Any]]]:
            async with gate:
                return await _start(client, api, t)

        attempts = await asyncio.gather(*(start(t) for t in trainees))
        attempt_ids = [a for a, _ in attempts]

        async def trainee(t: Trainee, attempt: Any, questions: list[dict[str, Any]]) -> None:
            nonlocal refused, unsent
            connection: SaveConnection | None = None
            try:
                for n in range(ANSWERS_EACH):
                    if time.perf_counter() > stop_at:
                        unsent += ANSWERS_EACH - n
                        return
                    question = questions[n % len(questions)]
                    ref = question_ref(question)
                    started = time.perf_counter()
                    try:
                        if connection is None:
                            connection = await SaveConnection.open(base_url)
                        status = await connection.request(
                            api.save_method,
                            _fill(api.save, attempt=attempt, question=ref),
                            json.dumps(answer_body(api.save, question, n)).encode(),
                            t.token,
                        )
                    except SAVE_FAILURES:  # dropped or timed out: not acknowledged
                        refused += 1
                        if connection is not None:
                            connection.close()
                            connection = None
                        continue
                    latencies.append(time.perf_counter() - started)
                    if 200 <= status < 300:
                        acknowledged.add((attempt, ref))
                    else:
                        refused += 1
            finally:
                if connection is not None:
                    connection.close()

        began = time.perf_counter()
        stop_at = began + STORM_LIMIT_S
        await asyncio.gather(*(trainee(t, a, q) for t, (a, q) in zip(trainees, attempts, strict=True)))
        elapsed = time.perf_counter() - began
    return StormOutcome(latencies, refused, unsent, len(acknowledged), attempt_ids, elapsed)


async def _start(
    client: httpx.AsyncClient, api: ExamApi, trainee: Trainee
) -> tuple[Any, list[dict[str, Any]]]:
    response = await client.post(
        _fill(api.start, course=COURSE), headers={"Authorization": f"Bearer {trainee.token}"}
    )
    if response.status_code >= 500:
        raise RuntimeError(f"POST {api.start} answered {response.status_code} (see the server log)")
    if not response.is_success:
        raise ContractMismatch(f"POST {api.start} answered {response.status_code}: {response.text[:200]}")
    body = response.json()
    attempt = body.get("id", body.get("attempt_id"))
    questions = body.get("questions") or body.get("items") or []
    if attempt is None or not questions:
        raise ContractMismatch(f"an attempt needs `id` and `questions`; got keys {sorted(body)}")
    return attempt, questions


class SaveConnection:
    """One trainee's browser: a keep-alive HTTP/1.1 connection that sends one save at a time. Written on
    asyncio streams rather than httpx: with 200 connections httpx spends more CPU per request than the
    server does, and the client shares the machine's two cores with the server it measures."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, base_url: str) -> SaveConnection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), timeout=SAVE_TIMEOUT_S
        )
        return cls(reader, writer, parts.netloc)

    async def request(self, method: str, path: str, body: bytes, token: str) -> int:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        return await asyncio.wait_for(self._response(), timeout=SAVE_TIMEOUT_S)

    async def _response(self) -> int:
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
            elif name.strip().lower() == "transfer-encoding":
                raise ValueError("chunked answers are not expected from the save endpoint")
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


def _fill(template: str, **values: Any) -> str:
    """Path parameters by what their names say: course/slug, attempt, question/item/position."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        for key, given in values.items():
            if (
                key in name
                or (key == "course" and name == "slug")
                or (key == "question" and name in ("qid", "item", "position", "number"))
            ):
                return str(given)
        raise ContractMismatch(f"cannot fill the path parameter {{{match.group(1)}}} of {template}")

    return re.sub(r"\{([^}]+)\}", value, template)


def question_ref(question: dict[str, Any]) -> Any:
    for key in ("id", "question_id", "qid", "position"):
        if key in question:
            return question[key]
    raise ContractMismatch(f"a question of the paper has no id; keys: {sorted(question)}")


def answer_body(save_template: str, question: dict[str, Any], n: int) -> dict[str, Any]:
    """A well-formed answer for the item's type, in the exam API's AnswerIn shape: `choice` (option
    positions as listed on the paper), `truth`, `value` (numeric) or `text` (fill, essay). Each save of
    the same item differs from the one before, so an overwrite is a real write."""
    options = question.get("options") or []
    shapes: dict[str, dict[str, Any]] = {
        "single": {"choice": n % max(1, len(options))},
        "multiple": {"choice": [n % max(1, len(options))]},
        "truefalse": {"truth": n % 2 == 0},
        "numeric": {"value": str(n)},
    }
    body = dict(shapes.get(question.get("type", ""), {"text": f"基准答案 {n}"}))
    if "{" not in save_template.rsplit("answers", 1)[-1]:
        body["position"] = question_ref(question)
    return body


def count_saved_answers(database_url: str, attempt_ids: list[Any]) -> int:
    """Rows of the exam-answer table for these attempts: the table whose name mentions answers and that
    has an attempt column (self-check answers excluded)."""
    from sqlalchemy import inspect, text

    from backend.db import make_engine

    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for table in inspector.get_table_names():
            columns = {c["name"] for c in inspector.get_columns(table)}
            attempt_column = next((c for c in ("attempt_id", "exam_attempt_id") if c in columns), None)
            if "answer" in table and "self_check" not in table and attempt_column:
                ids = ",".join(str(int(a)) for a in attempt_ids)
                sql = f'SELECT count(*) FROM "{table}" WHERE {attempt_column} IN ({ids})'
                # A paper may hold a row per question before it is answered: count only given answers.
                value_column = next((c for c in ("answer", "value", "response") if c in columns), None)
                if value_column:
                    sql += f" AND {value_column} IS NOT NULL"
                if "answered" in columns:  # a blank (cleared) answer is not a saved one
                    sql += " AND answered = :yes"
                with engine.connect() as conn:
                    return int(conn.execute(text(sql), {"yes": True}).scalar() or 0)
        raise ContractMismatch("no exam answer table (a table named *answer* with an attempt_id column)")
    finally:
        engine.dispose()
