"""`vault serve`: redaction as a service, with the same models, policies and signed audit as `vault redact`.

One process loads the model pair and spaCy once, then answers HTTP requests (FastAPI on uvicorn). A
request's text is parsed as a file of its format would be (vault.documents), redacted by the same
Redactor and rendered by the same code, so a response equals `vault redact` on that text byte for byte.

Model work runs on one worker thread, never on the event loop: a slow request never blocks health
checks. Requests wait in a bounded queue (full: 429); the worker gathers what is waiting, up to
--max-batch texts or --max-wait-ms after the first, into one Redactor.redact call per policy, so under
load the engine decodes at the batch sizes `vault redact` uses.

A service session is one run of the audit: its rows are written by the worker thread alone (the audit
writer is not shared), checkpointed every --checkpoint-every texts (and when the queue is idle), and the
run is closed with its manifest when the server shuts down (SIGTERM, Ctrl-C). A text is recorded before
its answer is sent, so every answered request is in the audit once the server has shut down. The text
is never stored: its row holds the HMAC of the text and the caller's request id.

No raw text leaves the process except in a response to its own caller: errors name limits and stages,
never content; validation errors drop pydantic's echo of the input; metric labels are fixed sets (entity
types, statuses, route templates); the access log is vault's own (uvicorn's would print query strings).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
import queue
import re
import threading
import time
import uuid
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from vault.audit import AuditWriter, DocumentRow, keyed_hash, new_run_id, repair, verify_audit
from vault.documents import Document, DocumentError, Limits, parse_document, render_document
from vault.pipeline import Redactor, Summary, engine_counts, model_fingerprint, span_location
from vault.policy import Policy
from vault.preflight import UsageError
from vault.versions import component_versions

if TYPE_CHECKING:
    from vault.models import RedactionModel

log = logging.getLogger("vault.serve")

# What a request's `format` reads its text as: the file type whose handling it gets.
FORMATS = {"text": "txt", "json": "json", "jsonl": "jsonl", "csv": "csv"}
# A caller's request id goes into the audit and the log: plain characters only, so it cannot smuggle a
# line break or markup there (it is the caller's own label, not redacted).
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
# What /v1/files answers with, by the uploaded file's format.
FILE_TYPES = {"txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8", "json": "application/json",
              "jsonl": "application/jsonl", "csv": "text/csv; charset=utf-8"}
# Paths the metrics and the log may name; any other path is "other" (a path can carry text).
ROUTES = ("/v1/redact", "/v1/files", "/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")


@dataclass
class ServeOptions:
    policies: list[Policy]  # the first is the default; a request names another by its name
    audit_dir: Path
    key: bytes
    api_keys: dict[str, str] | None = None  # SHA-256 hex of a key -> the caller's name; None: no keys (loopback only)
    max_batch: int = 32  # texts gathered into one engine call
    # How long the worker waits for more texts after the first. Answered clients need a round trip to send
    # their next request: at 10 ms, 16 clients made batches of 9.6 texts on average (0.57 x vault redact's
    # throughput), at 100 ms of 15.0 (1.1 x; vault bench serve, 240 requests, a loaded 2-core machine).
    max_wait_ms: float = 100.0
    queue_size: int = 64  # requests waiting; more are refused with 429
    timeout_s: float = 120.0  # per request, from its arrival in the queue
    max_bytes: int = 2_000_000  # request body
    max_texts: int = 1_000  # texts in one request
    batch_size: int = 8  # chunks the engine decodes together, as `vault redact --batch-size`
    checkpoint_every: int = 100  # texts between audit checkpoints
    checkpoint_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8000


class ServeError(Exception):
    """An answer other than 200: its HTTP status and a message that quotes nothing from the request."""

    def __init__(self, status: int, message: str, stage: str = "request"):
        super().__init__(message)
        self.status, self.message, self.stage = status, message, stage


# ------------------------------------------------------------------------------------------ request and answer


class RedactRequest(BaseModel):
    """POST /v1/redact: one text or several, optionally a policy (by name) and a format."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = None
    texts: list[str] | None = None
    policy: str | None = None
    format: Literal["text", "json", "jsonl", "csv"] = "text"
    request_id: str | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' and 'texts'")
        if self.texts == []:
            raise ValueError("'texts' is empty")
        return self


_FIELDS = set(RedactRequest.model_fields)


@dataclass
class Job:
    """One request on its way through the queue: its parsed texts and the future its handler awaits."""

    caller: str
    request_id: str
    policy: str
    texts: list[str]  # as the caller sent them: only their HMACs are recorded
    docs: list[Document]
    future: Future = field(default_factory=Future)

    @property
    def units(self) -> int:
        return max(1, sum(len(d.units) for d in self.docs))


@dataclass
class TextAnswer:
    data: bytes  # the redacted file: render_document's bytes
    spans: list[dict]

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


# ------------------------------------------------------------------------------------------------- metrics


class Metrics:
    """Prometheus metrics of one service, in a registry of its own (tests start several). Labels are
    fixed sets: routes, status codes, document statuses, entity types, failure stages."""

    def __init__(self):
        self.registry = r = CollectorRegistry()
        self.requests = Counter("vault_requests", "HTTP requests answered", ["route", "code"], registry=r)
        self.latency = Histogram("vault_request_seconds", "time to answer a request", ["route"], registry=r,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
        self.documents = Counter("vault_documents", "texts handled, by status", ["status"], registry=r)
        self.spans = Counter("vault_spans", "sensitive spans, by entity type and action", ["entity_type", "action"], registry=r)
        self.failures = Counter("vault_failures", "requests that failed, by stage", ["stage"], registry=r)
        self.batch = Histogram("vault_batch_texts", "texts per engine call", registry=r,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
        self.tokens = Counter("vault_tokens", "tokens decoded", registry=r)
        self.passes = Counter("vault_oracle_passes", "oracle verification passes (per token: divide by vault_tokens)", registry=r)
        self.queue = Gauge("vault_queue_requests", "requests waiting for the worker", registry=r)


# ------------------------------------------------------------------------------------------------- the service


class Service:
    """The models, the queue, the worker thread and the audit session of one server."""

    def __init__(self, opts: ServeOptions, pair: tuple[RedactionModel, RedactionModel]):
        if not opts.policies:
            raise UsageError("vault serve needs at least one policy")
        self.opts = opts
        self.policies = {p.name: p for p in opts.policies}
        if len(self.policies) != len(opts.policies):
            raise UsageError("two policies of the same name: a request could not say which it means")
        self.default = opts.policies[0].name
        draft, oracle = pair
        # One Redactor per policy (each has its policy's recognizers), all on the same loaded models.
        self.redactors = {name: Redactor(draft, oracle, p, opts.key, opts.batch_size) for name, p in self.policies.items()}
        self.fingerprints = model_fingerprint(draft.path, oracle.path)
        self.metrics = Metrics()
        self.queue: queue.Queue[Job | None] = queue.Queue(maxsize=opts.queue_size)
        self.metrics.queue.set_function(self.queue.qsize)
        self.summary = Summary()
        self.summary.engine = {"name": "serve", "host": opts.host, "port": opts.port}
        self.audit: AuditWriter | None = None
        self.thread: threading.Thread | None = None
        self.accepting = False
        self.started = False
        self.requests = 0

    # ---- the session

    def start(self) -> None:
        """Open the session's audit run and start the worker. An audit that fails verification is never
        appended to (as `vault redact` refuses to): the server does not start."""
        if self.started:
            return
        opts = self.opts
        for note in repair(opts.audit_dir, opts.key):
            log.info("vault serve: audit: %s", note)
        check = verify_audit(opts.audit_dir, opts.key, deep=False)
        if not check.ok:
            raise UsageError(f"{opts.audit_dir}: the audit's chain of runs is broken ({len(check.problems)} problems; "
                             "vault audit verify names them): vault serve does not append to it")
        self.summary.run_id = new_run_id()
        self.audit = AuditWriter(opts.audit_dir, self.summary.run_id, opts.key, self._meta(),
                                 flush_every=opts.checkpoint_every, flush_seconds=opts.checkpoint_seconds,
                                 started_at=self.summary.started_at)
        self.summary.audit_run = str(self.audit.run_dir)
        self.accepting = self.started = True
        self.thread = threading.Thread(target=self._work, name="vault-serve-worker", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Finish what is queued, then close the audit run (its manifest). uvicorn calls this (through the
        app's lifespan) once it has stopped accepting connections and answered those in flight."""
        if not self.accepting and self.thread is None:
            return
        self.accepting = False
        if self.thread is not None:
            self.queue.put(None)  # after every job already queued
            self.thread.join()
            self.thread = None
        if self.audit is not None and not self.audit.closed:
            s = self.summary
            s.seconds = time.monotonic() - s.started
            totals = {k: v for k, v in s.as_dict().items() if k not in ("problems", "warnings", "run_id", "audit_run")}
            totals["requests"] = self.requests
            self.audit.close(totals)

    @property
    def ready(self) -> bool:
        return self.accepting and self.thread is not None and self.thread.is_alive()

    def _meta(self) -> dict:
        default = self.policies[self.default]
        redactor = self.redactors[self.default]
        return {"policy_fingerprint": default.fingerprint(), "policy": default.name,
                "policies": {name: p.fingerprint() for name, p in self.policies.items()},
                **self.fingerprints.meta(redactor.draft, redactor.oracle),
                # Bound to no directory (its rows never let `vault redact` skip a file): a label says what it was.
                "label": f"vault serve {self.opts.host}:{self.opts.port}",
                "versions": component_versions(redactor.detector.nlp_model),
                "policy_resolved": default.rules_only()}

    # ---- the queue

    def submit(self, job: Job) -> Future:
        if not self.accepting:
            raise ServeError(503, "the server is shutting down", "queue")
        try:
            self.queue.put_nowait(job)
        except queue.Full:
            raise ServeError(429, f"too many requests waiting ({self.opts.queue_size}); retry later", "queue") from None
        return job.future

    def _work(self) -> None:
        """The worker thread: gather waiting jobs into batches, redact, record, answer."""
        stopping = False
        while not stopping:
            try:
                first = self.queue.get(timeout=self.opts.checkpoint_seconds)
            except queue.Empty:
                self._checkpoint()  # idle: commit what was answered, so a kill loses nothing of it
                continue
            if first is None:
                break
            jobs, texts = [first], first.units
            deadline = time.monotonic() + self.opts.max_wait_ms / 1000
            while texts < self.opts.max_batch:
                try:
                    job = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
                texts += job.units
            # A job whose caller gave up (timeout) before it started is dropped unredacted.
            jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            for policy in {j.policy for j in jobs}:
                self._run([j for j in jobs if j.policy == policy])
        self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            if self.audit is not None:
                self.audit.flush()
        except OSError as exc:
            log.error("vault serve: cannot write the audit: %s", exc.strerror or type(exc).__name__)

    def _run(self, jobs: list[Job]) -> None:
        """One engine call for the jobs (of one policy); if it fails, one per job, so a bad request fails alone."""
        redactor = self.redactors[jobs[0].policy]
        self.metrics.batch.observe(sum(j.units for j in jobs))
        started = time.monotonic()
        try:
            flat = self._call(redactor, [d for j in jobs for d in j.docs])
            results, at = [], 0
            for j in jobs:
                n = sum(len(d.units) for d in j.docs)
                results.append(flat[at : at + n])
                at += n
        except Exception:
            results = []
            for j in jobs:
                try:
                    results.append(self._call(redactor, j.docs))
                except Exception as exc:
                    results.append(exc)
        seconds = (time.monotonic() - started) / len(jobs)
        for job, res in zip(jobs, results):
            try:
                answer = self._finish(job, res, seconds)
            except Exception as exc:  # a bug after redaction: this request alone, and never its text
                log.error("vault serve: request %s: internal error: %s", job.request_id, type(exc).__name__)
                answer = ServeError(500, f"internal error: {type(exc).__name__}", "internal")
            if isinstance(answer, ServeError):
                self.metrics.failures.labels(answer.stage).inc()
                job.future.set_exception(answer)
            else:
                job.future.set_result(answer)

    @staticmethod
    def _call(redactor: Redactor, docs: list[Document]):
        """As pipeline.Worker._call: one pseudonymizer per document, each value read after its context."""
        from vault.render import Pseudonymizer

        texts, contexts, documents, pseudonymizers = [], [], [], []
        for i, doc in enumerate(docs):
            own = Pseudonymizer(redactor.key)
            texts += [u.text for u in doc.units]
            contexts += [u.context for u in doc.units]
            documents += [i] * len(doc.units)
            pseudonymizers += [own] * len(doc.units)
        if not texts:  # empty texts only: nothing for the engine
            return []
        return redactor.redact(texts, pseudonymizers, contexts, documents)

    def _finish(self, job: Job, results, seconds: float) -> list[TextAnswer] | ServeError:
        """Check, render and record each text of a job; its answer, or the error of its first failed text.
        Fail closed: any text not verified to the end (or held) fails the whole request."""
        if isinstance(results, Exception):
            log.error("vault serve: request %s: redaction failed: %s", job.request_id, type(results).__name__)
        answers, error, at = [], None, 0
        for i, doc in enumerate(job.docs):
            mine = None if isinstance(results, Exception) else results[at : at + len(doc.units)]
            at += len(doc.units)
            path = f"requests/{job.caller}/{job.request_id}" + (f"/{i}" if len(job.docs) > 1 else "")
            spans, output, counts = [], None, {}
            if mine is None:
                problem = ServeError(500, f"redaction failed: {type(results).__name__}", "redact")
            else:
                spans = [dict(r, **span_location(u, r), doc_path=path) for u, res in zip(doc.units, mine) for r in res.span_rows]
                counts = engine_counts(mine)
                problem = None
                if not all(r.verified for r in mine):
                    problem = ServeError(500, "not fully verified by the oracle: no output (fail closed)", "verify")
                elif any(r.hold for r in mine):
                    problem = ServeError(409, "held for review: a must-redact recognizer and the oracle disagree", "hold")
                else:
                    output = render_document(doc, [r.redacted for r in mine], self.opts.key)
            error = error or problem
            status = "redacted" if problem is None else "held" if problem.stage == "hold" else "failed"
            row = DocumentRow(keyed_hash(self.opts.key, job.texts[i]), status, doc_path=path, format=doc.format,
                              stage=problem and problem.stage, error=problem and problem.message,
                              output_sha256=hashlib.sha256(output).hexdigest() if output is not None else None,
                              seconds=seconds / len(job.docs), policy_fingerprint=self.policies[job.policy].fingerprint(),
                              **counts)
            self._record(row, spans)
            if output is not None:
                answers.append(TextAnswer(output, [_public(s) for s in spans]))
        return error or answers

    def _record(self, row: DocumentRow, spans: list[dict]) -> None:
        """The text's rows into the session's audit (before its answer is sent), and into the counts."""
        s, m = self.summary, self.metrics
        s.counts[row.status] += 1
        s.tokens += row.tokens
        s.chunks += row.chunks
        m.documents.labels(row.status).inc()
        m.tokens.inc(row.tokens)
        m.passes.inc(row.oracle_passes)
        if row.status == "redacted":
            s.spans_redacted += sum(r["action"] == "redacted" for r in spans)
            s.oracle_checked += sum(r["oracle_checked"] for r in spans)
            s.sensitive_spans += len(spans)
            for r in spans:
                m.spans.labels(r["entity_type"], r["action"]).inc()
        self.audit.add_document(row.as_dict(), spans)


def _finite(x):
    return None if x is None or not math.isfinite(x) else x


def _public(row: dict) -> dict:
    """A span as the caller sees it: what the audit holds of it, less the HMAC of its value."""
    out = {"start": row["start"], "end": row["end"], "entity_type": row["entity_type"], "action": row["action"],
           "operator": row["operator"] or None, "rule": row["reason"], "detectors": row["detectors"],
           "detector_scores": [_finite(v) for v in row["detector_scores"]],
           "oracle_checked": row["oracle_checked"], "oracle_logprob": _finite(row["oracle_logprob"]),
           "oracle_margin": _finite(row["oracle_margin"])}
    if row.get("field_kind") != "text":
        out.update({k: row.get(k) for k in ("field", "row", "column", "line", "json_path")})
    return out


# ------------------------------------------------------------------------------------------------- the app


def create_app(opts: ServeOptions, pair: tuple[RedactionModel, RedactionModel]) -> FastAPI:
    """The FastAPI app of one service; the models are loaded (`pair`) before it is made, and the audit
    run opens and closes with the app's lifespan."""
    service = Service(opts, pair)
    # Presidio's debug lines quote the text they analyse: never through a server's log, whatever its level.
    logging.getLogger("presidio-analyzer").setLevel(max(logging.WARNING, logging.getLogger("presidio-analyzer").level))
    app = FastAPI(title="vault", summary="Privacy redaction with speculative decoding", lifespan=_lifespan)
    app.state.service = service
    routes = _Routes(service)
    app.middleware("http")(routes.count)
    app.exception_handler(ServeError)(_serve_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(RequestValidationError)(_invalid)
    app.get("/healthz")(routes.healthz)
    app.get("/readyz")(routes.readyz)
    app.get("/metrics")(routes.prometheus)
    app.post("/v1/redact", openapi_extra=REDACT_BODY)(routes.redact)
    app.post("/v1/files", openapi_extra=FILE_BODY, response_class=Response)(routes.files)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """The service's audit run and worker, from the app's start to its end."""
    service = app.state.service
    await run_in_threadpool(service.start)
    try:
        yield
    finally:
        await run_in_threadpool(service.stop)


async def _serve_error(request: Request, exc: ServeError):
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse({"error": exc.message, "stage": exc.stage}, exc.status, headers=headers)


async def _http_error(request: Request, exc: StarletteHTTPException):
    return JSONResponse({"error": str(exc.detail), "stage": "request"}, exc.status_code)


async def _invalid(request: Request, exc: RequestValidationError):
    return JSONResponse({"error": "malformed request", "stage": "request", "problems": _problems(exc.errors())}, 422)


# The request bodies as the OpenAPI document shows them: the endpoints read their bodies themselves (a size
# limit while reading; a file's bytes as they are), so FastAPI cannot see them.
REDACT_BODY = {"requestBody": {"required": True,
                               "content": {"application/json": {"schema": RedactRequest.model_json_schema()}}}}
FILE_BODY = {"requestBody": {"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                           for t in set(FILE_TYPES.values())}}}


class _Routes:
    """The app's endpoints and middleware over one Service (FastAPI names each operation after its method)."""

    def __init__(self, service: Service):
        self.service, self.opts, self.metrics = service, service.opts, service.metrics

    async def count(self, request: Request, call_next):
        """Every request counted and timed by route and status; a log line for each but /metrics."""
        started = time.monotonic()
        route = request.url.path if request.url.path in ROUTES else "other"
        response = await call_next(request)
        seconds = time.monotonic() - started
        self.metrics.requests.labels(route, str(response.status_code)).inc()
        self.metrics.latency.labels(route).observe(seconds)
        if route != "/metrics":
            log.info("vault serve: %s %s %d %.3f s", request.method, route, response.status_code, seconds)
        return response

    async def healthz(self):
        """Alive."""
        return {"status": "ok"}

    async def readyz(self):
        """Models loaded, the worker running, the audit open."""
        if not self.service.ready:
            return JSONResponse({"status": "not ready"}, 503)
        return {"status": "ready", "policies": list(self.service.policies)}

    async def prometheus(self, request: Request):
        self.caller(request)
        return PlainTextResponse(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def redact(self, request: Request):
        """Redact `text` (or each of `texts`) as `vault redact` redacts a file of `format`."""
        who = self.caller(request)
        raw = await self.body(request)
        try:
            req = RedactRequest.model_validate_json(raw)
        except ValidationError as exc:
            raise ServeError(422, "malformed request: " + "; ".join(
                f"{'.'.join(map(str, p['loc'])) or 'body'}: {p['msg']}" for p in _problems(exc.errors())), "request") from None
        policy = self.policy(req.policy)
        request_id = _request_id(req.request_id or request.headers.get("x-request-id"))
        texts = [req.text] if req.text is not None else req.texts
        if len(texts) > self.opts.max_texts:
            raise ServeError(413, f"{len(texts):,} texts, more than the limit of {self.opts.max_texts:,} per request",
                             "limit")
        docs = await run_in_threadpool(_parse, texts, req.format)
        answers = await self.answer(Job(who, request_id, policy, texts, docs))
        out = {"request_id": request_id, "policy": policy}
        if req.text is not None:
            out.update(text=answers[0].text, spans=answers[0].spans)
        else:
            out["texts"] = [{"text": a.text, "spans": a.spans} for a in answers]
        return out

    async def files(self, request: Request):
        """Redact one uploaded file (the body, as `curl --data-binary @FILE`): `?format=` txt, md, json, jsonl
        or csv, optional `&policy=`; the answer is the redacted file, as `vault redact` writes it."""
        who = self.caller(request)
        fmt = request.query_params.get("format", "")
        if fmt not in FILE_TYPES:
            raise ServeError(422, f"format: one of {', '.join(FILE_TYPES)}", "request")
        policy = self.policy(request.query_params.get("policy"))
        request_id = _request_id(request.headers.get("x-request-id"))
        data = await self.body(request)
        doc = await run_in_threadpool(_parse_file, data, fmt)
        (done,) = await self.answer(Job(who, request_id, policy, [data.decode("utf-8")], [doc]))
        return Response(done.data, media_type=FILE_TYPES[fmt], headers={"X-Request-Id": request_id})

    def caller(self, request: Request) -> str:
        """The caller's name, from its API key (Authorization: Bearer KEY, or X-API-Key: KEY)."""
        if self.opts.api_keys is None:
            return "local"
        given = request.headers.get("x-api-key") or ""
        auth = request.headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        digest = hashlib.sha256(given.encode()).hexdigest()
        for known, name in self.opts.api_keys.items():  # compare_digest: no timing hint of how close a guess is
            if given and hmac.compare_digest(digest, known):
                return name
        raise ServeError(401, "a valid API key is needed (Authorization: Bearer KEY)", "auth")

    async def body(self, request: Request) -> bytes:
        """The body, refused (413) as soon as it passes --max-bytes, never held whole beyond it."""
        limit = self.opts.max_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ServeError(413, f"request body over the limit of {limit:,} bytes", "limit")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise ServeError(413, f"request body over the limit of {limit:,} bytes", "limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def policy(self, name: str | None) -> str:
        if name is None:
            return self.service.default
        if name not in self.service.policies:  # the name given is never repeated: it could be anything
            raise ServeError(422, f"unknown policy; this server has {', '.join(self.service.policies)}", "request")
        return name

    async def answer(self, job: Job) -> list[TextAnswer]:
        """Queue the job and wait for the worker's answer (or the timeout)."""
        try:
            answers = await asyncio.wait_for(asyncio.wrap_future(self.service.submit(job)), self.opts.timeout_s)
        except asyncio.TimeoutError:
            self.metrics.failures.labels("timeout").inc()
            raise ServeError(504, f"no answer within {self.opts.timeout_s:g} s", "timeout") from None
        self.service.requests += 1
        return answers


def _request_id(given: str | None) -> str:
    if given is None:
        return uuid.uuid4().hex
    if not REQUEST_ID.match(given):
        raise ServeError(422, "request_id: 1 to 64 letters, digits, '.', '_', ':' or '-'", "request")
    return given


def _parse_file(data: bytes, fmt: str) -> Document:
    try:
        return parse_document(f"upload.{fmt}", data, Limits())
    except DocumentError as exc:
        raise ServeError(413 if "limit" in exc.reason else 422, exc.reason, "read") from None


def _parse(texts: list[str], fmt: str) -> list[Document]:
    """Each text as a file of its format, with `vault redact`'s limits."""
    docs = []
    for i, text in enumerate(texts):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise ServeError(422, f"text {i}: a lone surrogate escape, which no UTF-8 output can hold", "read") from None
        try:
            docs.append(parse_document(f"request.{FORMATS[fmt]}", data, Limits()))
        except DocumentError as exc:
            # A reason names what is wrong, never the content; past a limit the answer is 413, else 422.
            status = 413 if "limit" in exc.reason else 422
            raise ServeError(status, f"text {i}: {exc.reason}", "read") from None
    return docs


def _problems(errors) -> list[dict]:
    """pydantic's errors without the input it echoes, and without a location that is not one of the
    request's own fields (a key of the caller's choosing can be a value)."""
    out = []
    for e in errors:
        loc = [p if isinstance(p, int) or p in _FIELDS or p == "body" else "(key)" for p in e.get("loc", ())]
        msg = e.get("msg", "invalid") if e.get("type") != "extra_forbidden" else "unknown field"
        out.append({"loc": loc, "type": e.get("type", "invalid"), "msg": msg})
    return out


# ------------------------------------------------------------------------------------------------- command line


def read_api_keys(path: Path) -> dict[str, str]:
    """`name:sha256hex` per line (# comments and blank lines allowed): the SHA-256 of each key, never the key."""
    keys: dict[str, str] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the API keys file ({getattr(exc, 'strerror', None) or type(exc).__name__})") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, digest = line.partition(":")
        # The line itself is never quoted: a mistyped line may hold a key in clear.
        if not KEY_NAME.match(name) or not re.fullmatch(r"[0-9a-f]{64}", digest.strip().lower()):
            raise UsageError(f"{path}, line {number}: expected name:sha256hex (the SHA-256 of the key, 64 hex characters)")
        keys[digest.strip().lower()] = name
    if not keys:
        raise UsageError(f"{path}: no API keys in the file")
    return keys


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_keys: dict | None) -> None:
    if api_keys is None and not loopback(host):
        raise UsageError(f"--host {host}: without --api-keys-file vault serve listens on loopback only "
                         "(127.0.0.1, ::1); give API keys to serve other hosts")


@dataclass
class CommandLine:
    """`vault serve`'s options, as given."""

    host: str
    port: int
    policies: list[Policy]
    audit_dir: Path
    key_file: Path | None = None
    api_keys_file: Path | None = None
    draft_dir: Path | None = None
    oracle_dir: Path | None = None
    batch_size: int = 8
    max_batch: int = 32
    max_wait_ms: float = 100.0
    queue_size: int = 64
    timeout_s: float = 120.0
    max_bytes: int = 2_000_000
    checkpoint_every: int = 100


def main(cmd: CommandLine, quiet=lambda: None) -> None:
    """Check the options, the key and the audit lock before loading anything; load the models once; open
    the session's audit run; then serve until SIGTERM or Ctrl-C (uvicorn shuts down gracefully: it stops
    accepting, answers what is in flight, then the lifespan closes the audit run)."""
    import uvicorn

    from vault.keys import KeyProblem, resolve_key
    from vault.preflight import lock_dir, make_writable_dir, model_dirs

    api_keys = read_api_keys(cmd.api_keys_file) if cmd.api_keys_file else None
    check_bind(cmd.host, api_keys)
    make_writable_dir(cmd.audit_dir, "audit")
    lock = lock_dir(cmd.audit_dir, "audit")  # one writer per audit directory: the chain of runs needs it
    try:
        try:
            key = resolve_key(cmd.audit_dir, cmd.key_file, create=True)
        except KeyProblem as exc:
            raise UsageError(str(exc)) from None
        if key.inside_audit:
            raise UsageError(f"{cmd.audit_dir}: the audit key must not be inside the audit directory")
        for warning in key.warnings():
            log.warning("vault: %s", warning)
        quiet()
        from vault.preflight import RunOptions

        dirs = model_dirs(RunOptions(Path("."), Path("."), cmd.policies[0], draft_dir=cmd.draft_dir and Path(cmd.draft_dir),
                                     oracle_dir=cmd.oracle_dir and Path(cmd.oracle_dir)))
        from vault.models import load_pair

        try:
            pair = load_pair(*dirs)
        except Exception as exc:  # ModelError and friends: a configuration problem, one line
            raise UsageError(str(exc).splitlines()[0]) from exc
        opts = ServeOptions(policies=cmd.policies, audit_dir=cmd.audit_dir, key=key.key, api_keys=api_keys,
                            max_batch=cmd.max_batch, max_wait_ms=cmd.max_wait_ms, queue_size=cmd.queue_size,
                            timeout_s=cmd.timeout_s, max_bytes=cmd.max_bytes, batch_size=cmd.batch_size,
                            checkpoint_every=cmd.checkpoint_every, host=cmd.host, port=cmd.port)
        app = create_app(opts, pair)
        app.state.service.start()  # a broken audit is a usage error here, before anything listens
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        # uvicorn's access log would print each request's query string: vault logs its own line instead.
        try:
            uvicorn.run(app, host=cmd.host, port=cmd.port, access_log=False, log_level="info")
        finally:
            app.state.service.stop()  # uvicorn's lifespan has closed it, unless uvicorn never started (port taken)
    finally:
        import os

        os.close(lock)
