"""The audit store: evidence of every redaction decision, safe to crash, hard to tamper with.

One folder per run under the audit directory, and one signed HEAD.json naming the latest run:

    audit/HEAD.json                  the latest run: audit id, sequence number, run id (signed)
    audit/<run_id>/run.json          signed checkpoint: the run's identity, its link to the run
                                     before it, and the part files committed so far
    audit/<run_id>/spans-000001.parquet, documents-000001.parquet, ...
                                     rows committed by flush 1, 2, ... while the run goes on
    audit/<run_id>/spans.parquet, documents.parquet
                                     at close, the parts compacted into one file per table
    audit/<run_id>/manifest.json     signed at close: totals, coverage, the compacted files

Crash safety. Rows are buffered and flushed every few seconds. A flush writes each part as
`<name>.pending` (temp file, fsync, rename), then the signed run.json that lists the parts with
their SHA-256, then renames the pending files to their names. So at every instant each file a
signed listing names exists complete (under its name, or still `.pending`), and a file no listing
names is a leftover that nothing reads. A document counts as done only once a signed listing holds
its row; a kill before that loses the row, and the next run redoes the document (the pipeline
writes the output first, then the row). Close compacts the listed parts the same way: the two
compacted files as `.pending`, then manifest.json (listing them, and the parts they supersede),
then the renames and the removal of the parts. A kill in between leaves a verifiable run; the
next `vault redact` finishes the renames (`repair`).

Tamper evidence. Each table carries a hash chain: row_hash = SHA-256(prev_hash + canonical JSON of
the row's other fields), the first prev_hash derived from the run id and table. The listings
(run.json, manifest.json) record every file's SHA-256 and row count and both chain heads, and are
signed with HMAC-SHA256 under the audit key. Runs form a chain too: each run.json names the audit
directory's id, the run's sequence number and the SHA-256 of the previous run's manifest (or its
run.json, if it was interrupted), and HEAD.json names the latest run, so a deleted, reordered,
renamed or foreign run folder is found by `verify_audit`.

No raw values. Rows hold a keyed hash (HMAC) of a span's text and of the input path, never the
text; the writer rejects columns it does not know and checks that value_hmac looks like an HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from vault import __version__
from vault.documents import write_atomic
from vault.keys import key_id as _key_id
from vault.keys import keyed_hash  # noqa: F401  (re-exported: the one way values enter the audit)

AUDIT_FORMAT = "vault-audit/2"
LEGACY_FORMAT = "vault-audit/1"  # numbered parts, no checkpoints, no chain of runs: verified, never trusted for skipping
MANIFEST = "manifest.json"
RUN_INFO = "run.json"
HEAD = "HEAD.json"
PENDING = ".pending"

TABLES = ("spans", "documents")
DOCUMENT_STATUSES = ("redacted", "unchanged", "skipped", "failed", "held")
SPAN_ACTIONS = ("redacted", "kept")
FIELD_KINDS = ("text", "csv", "json", "jsonl", "path")
# Statuses whose row vouches for an output file; only these make a document resumable.
OUTPUT_STATUSES = ("redacted", "unchanged")

_PART = re.compile(r"(spans|documents)-(\d{6})\.parquet\Z")
_COMPACT = re.compile(r"(spans|documents)\.parquet\Z")


def new_run_id() -> str:
    """A run id that sorts by start time: 20250101T120000123456Z-1a2b3c."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


# --------------------------------------------------------------------------- rows

_REQUIRED = object()  # the caller must give it
_AUTO = object()  # the writer fills it in (run id)
_META = object()  # defaults to the same key of the run's meta

# (column, arrow type, default, description). Rows are coerced to these types before hashing, so the
# hash recomputed from the values read back from Parquet is the same. None is SQL NULL: absent.
SPAN_COLUMNS: tuple[tuple[str, pa.DataType, Any, str], ...] = (
    ("run_id", pa.string(), _AUTO, "the run that wrote the row (its audit folder's name)"),
    ("doc_path", pa.string(), None, "the document's path in the output tree, names redacted as the policy says"),
    ("field", pa.string(), None, "where the value sits, for people: 'row 2, column 3', '$.a.b', 'line 3: $.x'; NULL for plain text"),
    ("field_kind", pa.string(), "text", "text, csv, json, jsonl, or path (a file or folder name)"),
    ("row", pa.int64(), None, "CSV row, the first row being 1; NULL otherwise"),
    ("column", pa.int64(), None, "CSV column from 1, or the component of a path from 1; NULL otherwise"),
    ("line", pa.int64(), None, "line of the span's start: the JSONL record's line, or the line in a text document"),
    ("json_path", pa.string(), None, "JSON and JSONL: the value's path; keys that are not plain identifiers appear by position ([#2])"),
    ("offset_base", pa.string(), None, "what start and end count from: 'document' (the whole text) or 'value' (the cell, JSON value or name)"),
    ("chunk", pa.int64(), _REQUIRED, "the model chunk of the value that holds the span's start"),
    ("start", pa.int64(), _REQUIRED, "first character of the span, counted from offset_base"),
    ("end", pa.int64(), _REQUIRED, "one past the span's last character, counted from offset_base"),
    ("out_start", pa.int64(), None, "where the span is in the redacted output, counted like start: a redacted span is its replacement (overlapping redactions merged), a kept one its own text; NULL in runs of older versions"),
    ("out_end", pa.int64(), None, "one past the span's last character in the redacted output, counted like out_start"),
    ("entity_type", pa.string(), _REQUIRED, "PERSON, EMAIL_ADDRESS, ... as Presidio names them"),
    ("detectors", pa.list_(pa.string()), [], "every detector that proposed the span ('oracle' for the oracle model)"),
    ("detector_scores", pa.list_(pa.float64()), [], "the detectors' scores, in the order of detectors"),
    ("detector_score", pa.float64(), None, "the best recognizer score; NULL when only the oracle found it"),
    ("draft_proposed", pa.bool_(), False, "the draft model proposed the oracle's decision"),
    ("oracle_checked", pa.bool_(), _REQUIRED, "the oracle model verified the decision (from its per-token records)"),
    ("oracle_logprob", pa.float64(), None, "the oracle's log-probability of its decision, under the grammar"),
    ("oracle_margin", pa.float64(), None, "log-probability margin to the oracle's next best allowed token"),
    ("action", pa.string(), _REQUIRED, "redacted or kept"),
    ("operator", pa.string(), None, "the policy's operator applied (tag, pseudonym, ...); NULL when kept"),
    ("reason", pa.string(), _REQUIRED, "the rule that decided: oracle, recognizer, type mass, hint mass, consistency, allow list, not in policy, below threshold"),
    ("value_hmac", pa.string(), _REQUIRED, "HMAC-SHA256 of the span's text under the audit key: equal values, equal HMACs; never the text"),
    ("policy_fingerprint", pa.string(), _META, "SHA-256 of the policy's canonical form"),
    ("prev_hash", pa.string(), _AUTO, "the previous row's row_hash (the first row: a value derived from the run id)"),
    ("row_hash", pa.string(), _AUTO, "SHA-256(prev_hash + canonical JSON of the row's other columns)"),
)

DOCUMENT_COLUMNS: tuple[tuple[str, pa.DataType, Any, str], ...] = (
    ("run_id", pa.string(), _AUTO, "the run that wrote the row (its audit folder's name)"),
    ("doc_path", pa.string(), None, "the document's path in the output tree, names redacted as the policy says; NULL if its name could not be redacted"),
    ("input_path_hmac", pa.string(), None, "HMAC-SHA256 of the input path under the audit key: names the input without showing it"),
    ("format", pa.string(), None, "txt, md, json, jsonl or csv; NULL for unsupported files"),
    ("status", pa.string(), _REQUIRED, "redacted, unchanged (output of an earlier run still valid), skipped, failed or held"),
    ("stage", pa.string(), None, "where a document failed, was skipped or held: walk, read, name, detect, tokenize, decode, decide, redact, verify, hold, render, write"),
    ("error", pa.string(), None, "why, without any value from the document; NULL when none"),
    ("input_sha256", pa.string(), None, "SHA-256 of the input file's bytes"),
    ("output_sha256", pa.string(), None, "SHA-256 of the output file's bytes; NULL when nothing was written"),
    ("policy_fingerprint", pa.string(), _META, "SHA-256 of the policy's canonical form"),
    ("model_fingerprint", pa.string(), _META, "SHA-256 over the draft's and the oracle's files"),
    ("chunks", pa.int64(), 0, "model chunks decoded"),
    ("tokens", pa.int64(), 0, "tokens decoded"),
    ("oracle_passes", pa.int64(), 0, "oracle verification passes"),
    ("accept_rate", pa.float64(), None, "share of drafted tokens the oracle accepted; NULL when nothing was drafted"),
    ("seconds", pa.float64(), 0.0, "wall time of this document: its reading, naming, rendering and writing, and its share (by tokens) of its engine batch"),
    ("prev_hash", pa.string(), _AUTO, "the previous row's row_hash (the first row: a value derived from the run id)"),
    ("row_hash", pa.string(), _AUTO, "SHA-256(prev_hash + canonical JSON of the row's other columns)"),
)

@dataclass(frozen=True)
class DocumentRow:
    """A document's row as a run builds it (vault redact's worker step and driver, the Ray engine, vault serve);
    the writer adds the run id, the fingerprints of the run's meta and the chain."""

    input_path_hmac: str
    status: str  # one of DOCUMENT_STATUSES
    doc_path: str | None = None
    format: str | None = None
    stage: str | None = None
    error: str | None = None
    input_sha256: str | None = None
    output_sha256: str | None = None
    chunks: int = 0
    tokens: int = 0
    oracle_passes: int = 0
    accept_rate: float | None = None
    seconds: float = 0.0
    policy_fingerprint: str | None = None  # the run's unless given (a served request names its own policy)

    def __post_init__(self) -> None:
        if self.status not in DOCUMENT_STATUSES:
            raise ValueError(f"document status {self.status!r} is not one of {', '.join(DOCUMENT_STATUSES)}")

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        if row["policy_fingerprint"] is None:
            del row["policy_fingerprint"]  # the writer's default: the run's meta
        return row


# The columns of format-1 audits, to verify them.
_LEGACY_COLUMNS = {
    "spans": ["run_id", "doc_path", "field", "chunk", "start", "end", "entity_type", "detectors", "detector_scores",
              "detector_score", "draft_proposed", "oracle_checked", "oracle_logprob", "oracle_margin", "action",
              "operator", "reason", "value_hmac", "policy_fingerprint", "prev_hash", "row_hash"],
    "documents": ["run_id", "doc_path", "status", "error", "input_sha256", "output_sha256", "policy_fingerprint",
                  "model_fingerprint", "chunks", "tokens", "oracle_passes", "accept_rate", "seconds", "prev_hash", "row_hash"],
}

_COLUMNS = {"spans": SPAN_COLUMNS, "documents": DOCUMENT_COLUMNS}
_NULLABLE = {t: {name for name, _, default, _ in cols if default is None or default is _META} for t, cols in _COLUMNS.items()}
_SCHEMAS = {
    t: pa.schema([pa.field(name, typ, nullable=name in _NULLABLE[t] or typ == pa.float64(),
                           metadata={"description": desc}) for name, typ, default, desc in cols])
    for t, cols in _COLUMNS.items()
}


def _canonical(obj: Any) -> str:
    # Sorted keys, no whitespace, ASCII only: one byte string per value, whatever wrote it.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _genesis(run_id: str, table: str, fmt: str = AUDIT_FORMAT) -> str:
    return hashlib.sha256(f"{fmt}|{run_id}|{table}".encode()).hexdigest()


def _row_hash(row: dict[str, Any]) -> str:
    fields = {k: v for k, v in row.items() if k not in ("prev_hash", "row_hash")}
    return hashlib.sha256((row["prev_hash"] + _canonical(fields)).encode("ascii")).hexdigest()


def _coerce(table: str, name: str, typ: pa.DataType, value: Any) -> Any:
    """value as the Python type its Arrow column reads back as; a TypeError otherwise."""

    def bad() -> TypeError:
        return TypeError(f"audit {table} row: column {name!r} cannot hold {type(value).__name__}")

    def real(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad()
        return float(v)

    if value is None and (name in _NULLABLE[table] or typ == pa.float64()):
        return None
    if typ == pa.string():
        if not isinstance(value, str):
            raise bad()
        # Lone surrogates (undecodable file names) cannot be stored; escape them visibly.
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if typ == pa.int64():
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return int(value)
    if typ == pa.float64():
        return real(value)
    if typ == pa.bool_():
        if not isinstance(value, bool):
            raise bad()
        return value
    if typ == pa.list_(pa.string()):
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
            raise bad()
        return list(items)
    if typ == pa.list_(pa.float64()):
        if not isinstance(value, (list, tuple)):
            raise bad()
        return [real(v) for v in value]
    raise AssertionError(f"no coercion for {typ}")


_HMAC = re.compile(r"[0-9a-f]{64}\Z")
_ENTITY = re.compile(r"[A-Z][A-Z0-9_]*\Z")
_NAME = re.compile(r"[A-Za-z0-9_.:\-]*\Z")


def _check_row(table: str, row: dict[str, Any]) -> None:
    """Structural guards. The writer never sees raw span text, so it cannot compare against
    it; instead every column has a fixed meaning and a shape, and the columns derived from
    text must be HMACs. Callers must not put span text into reason or error."""
    where = f"audit {table} row for {row['doc_path']!r}"
    if table == "spans":
        if not _HMAC.match(row["value_hmac"]):
            raise ValueError(f"{where}: value_hmac must be keyed_hash(key, text), 64 hex characters")
        if not _ENTITY.match(row["entity_type"]):
            raise ValueError(f"{where}: entity_type must be an upper-case name like PERSON")
        if row["action"] not in SPAN_ACTIONS:
            raise ValueError(f"{where}: action must be one of {SPAN_ACTIONS}")
        if row["field_kind"] not in FIELD_KINDS:
            raise ValueError(f"{where}: field_kind must be one of {FIELD_KINDS}")
        if not _NAME.match(row["operator"] or "") or not all(_NAME.match(d) for d in row["detectors"]):
            raise ValueError(f"{where}: operator and detectors must be plain names")
        if row["detector_scores"] and len(row["detector_scores"]) != len(row["detectors"]):
            raise ValueError(f"{where}: detector_scores must be parallel to detectors")
        if not 0 <= row["start"] <= row["end"]:
            raise ValueError(f"{where}: need 0 <= start <= end")
        out_start, out_end = row["out_start"], row["out_end"]
        if (out_start is None) != (out_end is None) or (out_start is not None and not 0 <= out_start <= out_end):
            raise ValueError(f"{where}: need out_start and out_end both NULL, or 0 <= out_start <= out_end")
    else:
        if row["status"] not in DOCUMENT_STATUSES:
            raise ValueError(f"{where}: status must be one of {DOCUMENT_STATUSES}")
        if row["input_path_hmac"] is not None and not _HMAC.match(row["input_path_hmac"]):
            raise ValueError(f"{where}: input_path_hmac must be keyed_hash(key, path)")


# --------------------------------------------------------------------------- files and listings


def _sign(key: bytes, listing: dict[str, Any]) -> str:
    body = {k: v for k, v in listing.items() if k != "signature"}
    return hmac.new(key, _canonical(body).encode("ascii"), hashlib.sha256).hexdigest()


def _signed(key: bytes, listing: dict[str, Any] | None) -> bool:
    return bool(listing) and hmac.compare_digest(str(listing.get("signature", "")), _sign(key, listing))


def _pretty(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def now() -> str:
    """This moment on the wall clock as the listings record it (UTC, ISO 8601)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _versions() -> dict[str, str]:
    return {"vault": __version__, "python": sys.version.split()[0], "pyarrow": pa.__version__}


def load_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _present(run_dir: Path, name: str) -> Path | None:
    """A listed file under its name, or still pending (killed between the listing and the rename)."""
    for path in (run_dir / name, run_dir / (name + PENDING)):
        if path.is_file():
            return path
    return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parquet_bytes(table: str, rows: list[dict[str, Any]]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMAS[table]), sink)
    return sink.getvalue().to_pybytes()


def _read_part(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


# --------------------------------------------------------------------------- the chain of runs


@dataclass(frozen=True)
class Link:
    audit_id: str
    seq: int
    previous: dict[str, Any] | None  # {"run_id", "seq", "file", "sha256"} of the run before, or None
    head: str  # how HEAD.json looked when the run started: "ok", "none" (first run), "legacy", "missing", "invalid"


def _link_to(audit_dir: Path, run_id: str, seq: int | None) -> dict[str, Any]:
    run_dir = audit_dir / run_id
    for name in (MANIFEST, RUN_INFO):
        if (run_dir / name).is_file():
            return {"run_id": run_id, "seq": seq, "file": name, "sha256": _sha256_file(run_dir / name)}
    return {"run_id": run_id, "seq": seq, "file": None, "sha256": None}  # already gone: verify will say so


def _next_link(audit_dir: Path, key: bytes, run_id: str) -> Link:
    """Where a new run joins the chain: after the run HEAD.json names. HEAD is trusted only when its
    signature holds; otherwise the latest run whose run.json verifies is taken, and the new run
    records that HEAD was missing or invalid, so the loss is still visible later."""
    head = load_json(audit_dir / HEAD)
    runs = [info for info in (_run_identity(r, key) for r in _run_dirs(audit_dir)) if info]
    ours = [r for r in runs if r.get("format") == AUDIT_FORMAT]
    if head is not None and _signed(key, head):
        tip = (head["run_id"], head["seq"])
        for r in ours:  # a run killed between its run.json and HEAD: HEAD lags it by one
            if r["seq"] == head["seq"] + 1 and (r.get("previous") or {}).get("run_id") == head["run_id"]:
                tip = (r["run_id"], r["seq"])
        return Link(head["audit_id"], tip[1] + 1, _link_to(audit_dir, *tip), "ok")
    if ours:
        last = max(ours, key=lambda r: (r["seq"], r["started_at"]))
        exists = (audit_dir / HEAD).exists()
        # No HEAD yet after one run is the first run killed before writing it; anything else lost it.
        status = "ok" if not exists and last["seq"] == 1 and len(ours) == 1 else "invalid" if exists else "missing"
        return Link(last["audit_id"], last["seq"] + 1, _link_to(audit_dir, last["run_id"], last["seq"]), status)
    if runs:  # only format-1 runs: link the latest, start the chain
        last = max(runs, key=lambda r: r["started_at"])
        return Link(run_id, 1, _link_to(audit_dir, last["run_id"], None), "legacy")
    return Link(run_id, 1, None, "none")


def _run_dirs(audit_dir: Path) -> list[Path]:
    if not audit_dir.is_dir():
        return []
    return sorted(p for p in audit_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _run_identity(run_dir: Path, key: bytes) -> dict[str, Any] | None:
    """The signed identity of a format-2 run (its run.json), or the start of a format-1 run."""
    info = load_json(run_dir / RUN_INFO)
    if info and info.get("format") == AUDIT_FORMAT and _signed(key, info):
        return info
    legacy = load_json(run_dir / MANIFEST) or info
    if legacy and legacy.get("format") == LEGACY_FORMAT:
        return {"format": LEGACY_FORMAT, "run_id": legacy.get("run_id", run_dir.name),
                "started_at": str(legacy.get("started_at", ""))}
    return None


# --------------------------------------------------------------------------- writer


class AuditWriter:
    """Appends one run's audit rows, crash-safely; see the module docstring.

    Rows never contain raw values: add_document only ever receives span rows whose
    `value_hmac` is keyed_hash(key, span_text), never the span text itself, and the writer
    rejects any column it does not know (so a stray "text" or "value" column fails loudly)
    and any value_hmac that is not 64 hex characters.

    `meta` goes into the listings as given (policy and model fingerprints, the input and output
    directories the run is bound to, ...); its "policy_fingerprint" and "model_fingerprint" keys
    are the defaults of those columns. The caller holds the audit directory's lock (one writer at
    a time: the chain of runs needs it). Use it as a context manager: leaving the block by an
    exception flushes finished documents but writes no manifest (the run stays interrupted, and
    its committed rows can be resumed from).
    """

    def __init__(self, audit_dir: str | os.PathLike, run_id: str, key: bytes, meta: dict[str, Any], *,
                 flush_every: int = 100, flush_seconds: float = 30.0, key_inside_audit: bool = False,
                 started_at: str | None = None):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_id):
            raise ValueError(f"run id {run_id!r}: use letters, digits, '.', '_' and '-' only")
        _canonical(meta)  # must be JSON: fail now, not at close
        self.audit_dir = Path(audit_dir)
        self.audit_dir.mkdir(parents=True, exist_ok=True)
        self.link = _next_link(self.audit_dir, key, run_id)
        final = self.audit_dir / run_id
        if final.exists():
            raise FileExistsError(f"{final}: a run folder of that id exists; never mix two runs' rows")
        # Made under a hidden name and renamed once its signed run.json is in: a kill never leaves a
        # run folder that nothing signed vouches for.
        self.run_dir = self.audit_dir / f".{run_id}.vault-tmp"
        self.run_dir.mkdir()
        self.run_id = run_id
        self._key = key
        self.meta = meta
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        # The run's own start (the caller's, when it opens its audit late: at its first recorded document
        # or at its end), so that the listings' started_at to finished_at is the run's wall time.
        self.started_at = started_at or now()
        self.key_inside_audit = key_inside_audit
        self._buffers: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self._heads = {t: _genesis(run_id, t) for t in TABLES}
        self._rows = {t: 0 for t in TABLES}  # rows added (flushed or buffered)
        self._committed_rows = {t: 0 for t in TABLES}
        self._committed_heads = dict(self._heads)
        self._parts: list[dict[str, Any]] = []
        self._buffered_docs = 0
        self._last_flush = time.monotonic()
        self._statuses: Counter[str] = Counter()
        self._actions: Counter[str] = Counter()
        self._checked = 0
        self._committed_counts = (Counter(), Counter(), 0)  # statuses, actions, checked as of the last commit
        self.closed = False
        self._write_listing(RUN_INFO, self._listing("running", self._parts))
        os.rename(self.run_dir, final)
        self.run_dir = final
        _fsync_dir(self.audit_dir)
        head = {"audit_id": self.link.audit_id, "seq": self.link.seq, "run_id": run_id}
        head["signature"] = _sign(key, head)
        write_atomic(self.audit_dir / HEAD, _pretty(head))

    def head(self) -> dict[str, Any]:
        """The head this run leaves (see `audit_head`): its sequence number and the SHA-256 of its manifest,
        or of its last checkpoint if it could not be closed."""
        return {"audit_id": self.link.audit_id, **_link_to(self.audit_dir, self.run_id, self.link.seq)}

    def _listing(self, state: str, parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "format": AUDIT_FORMAT, "run_id": self.run_id, "started_at": self.started_at, "state": state,
            "versions": _versions(), "meta": self.meta,
            "audit_id": self.link.audit_id, "seq": self.link.seq, "previous": self.link.previous,
            "head_at_start": self.link.head,
            "parts": parts, "rows": dict(self._committed_rows),
            "chain": {"algorithm": "sha256(prev_hash + canonical_json(row))",
                      "genesis": {t: _genesis(self.run_id, t) for t in TABLES},
                      "heads": dict(self._committed_heads)},
            "columns": {t: [c[0] for c in _COLUMNS[t]] for t in TABLES},
            "key_id": _key_id(self._key), "key_inside_audit": self.key_inside_audit, **extra,
        }

    def _write_listing(self, name: str, listing: dict[str, Any]) -> None:
        listing["signature"] = _sign(self._key, listing)
        write_atomic(self.run_dir / name, _pretty(listing))

    def add_document(self, doc_row: dict[str, Any], span_rows: list[dict[str, Any]]) -> None:
        """Append one document's row and its span rows (every span redacted, every candidate
        kept). Call it after the document's output file is written."""
        if self.closed:
            raise RuntimeError("audit writer is closed")
        # Validate everything before chaining anything, so a bad row leaves no half document.
        doc = self._normalize("documents", doc_row)
        spans = [self._normalize("spans", r) for r in span_rows]
        for s in spans:
            if s["doc_path"] != doc["doc_path"]:
                raise ValueError(f"span row for {s['doc_path']!r} given with document {doc['doc_path']!r}")
        for s in spans:
            self._chain("spans", s)
            self._actions[s["action"]] += 1
            self._checked += s["oracle_checked"]
        self._chain("documents", doc)
        self._statuses[doc["status"]] += 1
        self._buffered_docs += 1
        if (
            self._buffered_docs >= self.flush_every
            or time.monotonic() - self._last_flush >= self.flush_seconds
            or len(self._buffers["spans"]) >= 100_000  # bound memory on span-heavy documents
        ):
            self.flush()

    def _normalize(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        known = {c[0] for c in _COLUMNS[table]} - {"prev_hash", "row_hash"}
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"audit {table} row: unknown columns {sorted(unknown)}")
        out: dict[str, Any] = {}
        for name, typ, default, _ in _COLUMNS[table]:
            if name in ("prev_hash", "row_hash"):
                continue
            if name in row:
                value = row[name]
            elif default is _REQUIRED:
                raise ValueError(f"audit {table} row: missing column {name!r}")
            elif default is _AUTO:
                value = self.run_id
            elif default is _META:
                value = self.meta.get(name)
                value = None if value is None else str(value)
            elif name == "offset_base":  # what start/end count from follows from where the value sits
                value = "document" if out["field_kind"] == "text" else "value"
            else:
                value = list(default) if isinstance(default, list) else default
            out[name] = _coerce(table, name, typ, value)
        if out["run_id"] != self.run_id:
            raise ValueError(f"audit {table} row: run_id {out['run_id']!r} is not this run's")
        _check_row(table, out)
        return out

    def _chain(self, table: str, row: dict[str, Any]) -> None:
        row["prev_hash"] = self._heads[table]
        row["row_hash"] = self._heads[table] = _row_hash(row)
        self._buffers[table].append(row)
        self._rows[table] += 1

    def flush(self) -> None:
        """Commit buffered rows as the next pair of part files (pending files, signed run.json,
        renames). If writing fails, the rows stay buffered and the next flush rewrites the same
        part numbers."""
        if not self._buffered_docs:
            return
        number = len(self._parts) // 2 + 1
        parts = []
        for table in TABLES:  # spans first: a documents part is the commit of its documents
            name = f"{table}-{number:06d}.parquet"
            data = _parquet_bytes(table, self._buffers[table])
            write_atomic(self.run_dir / (name + PENDING), data)
            parts.append({"file": name, "table": table, "rows": len(self._buffers[table]),
                          "sha256": hashlib.sha256(data).hexdigest()})
        committed = (dict(self._committed_rows), dict(self._committed_heads))
        self._committed_rows = dict(self._rows)
        self._committed_heads = dict(self._heads)
        try:
            self._write_listing(RUN_INFO, self._listing("running", self._parts + parts))
        except BaseException:
            self._committed_rows, self._committed_heads = committed
            raise
        self._parts.extend(parts)
        self._buffers = {t: [] for t in TABLES}
        self._buffered_docs = 0
        self._committed_counts = (Counter(self._statuses), Counter(self._actions), self._checked)
        self._last_flush = time.monotonic()
        _promote(self.run_dir, [p["file"] for p in parts])

    @property
    def committed_documents(self) -> int:
        """Document rows a signed listing holds: evidence, whatever happens next."""
        return self._committed_rows["documents"]

    @property
    def documents(self) -> int:
        """Document rows added, committed or still buffered."""
        return self._rows["documents"]

    def discard(self) -> int:
        """Forget the rows added since the last commit (the audit could not be written: the caller
        removes what they vouched for), so that closing the run records only what its last signed
        checkpoint holds. Returns how many document rows were dropped."""
        dropped = self._rows["documents"] - self._committed_rows["documents"]
        self._buffers = {t: [] for t in TABLES}
        self._buffered_docs = 0
        self._rows, self._heads = dict(self._committed_rows), dict(self._committed_heads)
        statuses, actions, self._checked = self._committed_counts
        self._statuses, self._actions = Counter(statuses), Counter(actions)
        return dropped

    def close(self, totals: dict[str, Any], **extra: Any) -> Path:
        """Flush, compact the parts into one file per table, and write the signed manifest that
        marks the run complete. `extra` goes into the manifest (say, why a run stopped early)."""
        if self.closed:
            raise RuntimeError("audit writer is closed")
        self.flush()
        compacted = [_compact(self.run_dir, table, [p for p in self._parts if p["table"] == table]) for table in TABLES]
        total = self._rows["spans"]
        manifest = self._listing(
            "complete", compacted,
            finished_at=now(), totals=totals,
            counts={"documents": dict(sorted(self._statuses.items())), "spans": dict(sorted(self._actions.items()))},
            # Every span row is a sensitive span (redacted, or a candidate that was kept).
            coverage={"oracle_checked": self._checked, "sensitive_spans": total,
                      "ratio": self._checked / total if total else None},
            superseded=self._parts, **extra,
        )
        self._write_listing(MANIFEST, manifest)
        self.closed = True
        _finish_compaction(self.run_dir, manifest)
        return self.run_dir / MANIFEST

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.close({})
        else:
            try:
                self.flush()  # keep what finished; no manifest: the run is interrupted
            except OSError:
                pass  # the disk that failed the run may fail this too: the last checkpoint stands


def _promote(run_dir: Path, names: list[str]) -> None:
    """Rename listed pending files to their names (the step after a listing is written)."""
    for name in names:
        pending = run_dir / (name + PENDING)
        if pending.exists():
            os.replace(pending, run_dir / name)
    _fsync_dir(run_dir)


def _compact(run_dir: Path, table: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One pending file holding the rows of `parts`, in order (the chain is unchanged: rows are
    copied, not rewritten), row group by row group so memory stays bounded by a part."""
    name = f"{table}.parquet"
    fd, tmp = tempfile.mkstemp(dir=run_dir, prefix=".vault-", suffix=".vault-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with pq.ParquetWriter(f, _SCHEMAS[table]) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(_present(run_dir, part["file"])).cast(_SCHEMAS[table]))
                if not parts:
                    writer.write_table(pa.Table.from_pylist([], schema=_SCHEMAS[table]))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, run_dir / (name + PENDING))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    rows = sum(p["rows"] for p in parts)
    return {"file": name, "table": table, "rows": rows, "sha256": _sha256_file(run_dir / (name + PENDING))}


def _finish_compaction(run_dir: Path, manifest: dict[str, Any]) -> None:
    _promote(run_dir, [p["file"] for p in manifest["parts"]])
    for part in manifest.get("superseded", []):
        for path in (run_dir / part["file"], run_dir / (part["file"] + PENDING)):
            path.unlink(missing_ok=True)
    _fsync_dir(run_dir)


def repair(audit_dir: str | os.PathLike, key: bytes) -> list[str]:
    """Finish what a killed run left half done, under the audit lock: the renames and removals of a
    compaction whose signed manifest landed, and pending files that no listing names (leftovers of a
    killed flush, never evidence). Returns what it did."""
    done = []
    audit_dir = Path(audit_dir)
    for leftover in audit_dir.glob(".*.vault-tmp") if audit_dir.is_dir() else []:
        if leftover.is_dir():  # a run folder a kill left before its signed run.json was in
            shutil.rmtree(leftover, ignore_errors=True)
            done.append(f"removed {leftover.name}, a run folder killed before it started")
    for run_dir in _run_dirs(audit_dir):
        for tmp in run_dir.glob(".vault-*.vault-tmp"):
            tmp.unlink(missing_ok=True)  # a temp file of a killed write: never named by any listing
        manifest = load_json(run_dir / MANIFEST)
        listing = manifest if manifest and _signed(key, manifest) else load_json(run_dir / RUN_INFO)
        if not listing or not _signed(key, listing) or listing.get("format") != AUDIT_FORMAT:
            continue
        listed = {p["file"] for p in listing.get("parts", [])}
        if listing is manifest and any((run_dir / p["file"]).exists() for p in manifest.get("superseded", [])):
            _finish_compaction(run_dir, manifest)
            done.append(f"{run_dir.name}: finished an interrupted compaction")
        elif any((run_dir / (n + PENDING)).exists() for n in listed):
            _promote(run_dir, sorted(listed))
            done.append(f"{run_dir.name}: renamed files its signed listing names")
        for path in run_dir.glob(f"*{PENDING}"):
            if path.name[: -len(PENDING)] not in listed:
                path.unlink(missing_ok=True)
                done.append(f"{run_dir.name}: removed {path.name}, written after the last signed checkpoint")
    return done


# --------------------------------------------------------------------------- reading back


def _listing_of(run_dir: Path) -> dict[str, Any] | None:
    manifest = load_json(run_dir / MANIFEST)
    if manifest is not None:
        return manifest
    return load_json(run_dir / RUN_INFO)


def _listed_files(run_dir: Path, table: str) -> list[Path]:
    """The files that hold a table's rows, in order: those the run's listing names (the manifest's,
    else the checkpoint's); for a format-1 run, its numbered parts on disk."""
    listing = _listing_of(run_dir) or {}
    if listing.get("format") == AUDIT_FORMAT:
        return [p for p in (_present(run_dir, e["file"]) for e in listing.get("parts", []) if e.get("table") == table) if p]
    return [run_dir / name for _, name in _part_files(run_dir)[table]]


def _part_files(run_dir: Path) -> dict[str, list[tuple[int, str]]]:
    """{table: [(number, file name)]} of the numbered part files on disk, in order."""
    found: dict[str, list[tuple[int, str]]] = {t: [] for t in TABLES}
    for name in os.listdir(run_dir):
        m = _PART.match(name)
        if m:
            found[m.group(1)].append((int(m.group(2)), name))
    return {t: sorted(v) for t, v in found.items()}


def _read_rows(run_dir: Path, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in _listed_files(Path(run_dir), table):
        try:
            rows.extend(_read_part(path))
        except (OSError, pa.ArrowException):
            pass  # verification reports it
    return rows


def iter_rows(run_dir: str | os.PathLike, table: str) -> Iterator[dict[str, Any]]:
    """Every row of one table of a run, in order (for `vault audit` commands and tests)."""
    yield from _read_rows(Path(run_dir), table)


# --------------------------------------------------------------------------- verifying a run


@dataclass
class VerifyResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # states that are not tampering: interrupted, leftovers
    listing: dict[str, Any] | None = None  # the signed listing the run's rows were checked against
    format: str = AUDIT_FORMAT
    complete: bool = False


def verify_run(run_dir: str | os.PathLike, key: bytes, deep: bool = True) -> VerifyResult:
    """Check a run's signed listing (the manifest, or for an interrupted run its last checkpoint),
    every listed file's SHA-256 and, with `deep`, both hash chains row by row. Row problems come
    first and name the table and row number."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return VerifyResult(False, [f"run folder not found: {run_dir}"])
    info, manifest = load_json(run_dir / RUN_INFO), load_json(run_dir / MANIFEST)
    if (manifest or info or {}).get("format") == LEGACY_FORMAT:
        return _verify_legacy(run_dir, key, manifest)
    listing = manifest if manifest is not None else info
    if listing is None:
        return VerifyResult(False, [f"no {RUN_INFO} or {MANIFEST}: nothing signed vouches for this folder's rows"])
    complete = manifest is not None and manifest.get("state") == "complete"
    result = VerifyResult(False, listing=listing, format=AUDIT_FORMAT, complete=complete)
    _check_listings(run_dir, key, info, manifest, result)
    _check_listed_files(run_dir, result)
    _check_unlisted_files(run_dir, result)
    if deep:
        # Before the file problems: a bad row is what an auditor looks at first.
        result.problems[:0] = _row_problems(run_dir, result)
    result.ok = not result.problems
    return result


def _listed_parts(listing: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in listing.get("parts", []) if isinstance(p, dict)]


def _check_listings(run_dir: Path, key: bytes, info: dict[str, Any] | None, manifest: dict[str, Any] | None,
                    result: VerifyResult) -> None:
    """The run's two signed files: readable, signed with this key, agreeing with each other and with the
    folder's name. An interrupted run (no manifest) is a note, not a problem."""
    if (run_dir / MANIFEST).exists() and manifest is None:
        result.problems.append(f"{MANIFEST} unreadable: truncated or corrupt")
    for name, doc in ((RUN_INFO, info), (MANIFEST, manifest)):
        if doc is None:
            continue
        if doc.get("key_id") != _key_id(key):
            result.problems.append(f"{name}: signed with a different audit key (or key_id edited)")
        elif not _signed(key, doc):
            result.problems.append(f"{name}: signature does not match: edited, or forged without the key")
    if info is None:
        result.problems.append(f"{RUN_INFO} missing or unreadable: the run's identity and link are lost")
    elif manifest is not None:
        for k in ("run_id", "audit_id", "seq", "previous", "started_at", "meta"):  # meta: the bound directories
            if info.get(k) != manifest.get(k):
                result.problems.append(f"{MANIFEST} and {RUN_INFO} disagree on {k}")
    if manifest is None and (info or {}).get("state") == "running":
        result.notes.append(f"interrupted: no {MANIFEST}; its rows are verified up to its last signed checkpoint")
    run_id = result.listing.get("run_id")
    if run_id != run_dir.name:
        result.problems.append(f"the folder is named {run_dir.name!r} but holds run {run_id!r}: renamed or copied")


def _check_listed_files(run_dir: Path, result: VerifyResult) -> None:
    """Every file the listing names is there with the SHA-256 it signed (still pending is only a note)."""
    which = _which(result.listing)
    for part in _listed_parts(result.listing):
        path = _present(run_dir, part.get("file", ""))
        if path is None:
            result.problems.append(f"{part.get('table')}: {part.get('file')} listed in the {which} is missing")
            continue
        if _sha256_file(path) != part.get("sha256"):
            result.problems.append(f"{part.get('table')}: {part['file']} differs from the {which}'s SHA-256: edited or truncated")
        if path.name.endswith(PENDING):
            result.notes.append(f"{part['file']} is still named {path.name} (killed before the rename; the next run finishes it)")


def _check_unlisted_files(run_dir: Path, result: VerifyResult) -> None:
    """Part files on disk that the listing does not name: unsigned rows, unless a crash left them
    behind (compacted parts not yet removed, or written after the last checkpoint), which the next
    run's repair clears."""
    listing = result.listing
    names = {p.get("file") for p in _listed_parts(listing)}
    # Only a manifest lists the parts it compacted away; a checkpoint's leftovers are all unsigned.
    superseded = {p.get("file") for p in listing.get("superseded", []) if isinstance(p, dict)} if result.complete else set()
    for name in sorted(os.listdir(run_dir)):
        if (_PART.match(name) or _COMPACT.match(name)) and name not in names:
            if name in superseded:
                result.notes.append(f"{name} was compacted but not yet removed (the next run finishes it)")
            else:
                result.problems.append(f"{name} is not in the {_which(listing)}: appended or forged (unsigned rows)")
        elif name.endswith(PENDING) and name[: -len(PENDING)] not in names:
            result.notes.append(f"{name}: written after the last signed checkpoint; not evidence (the next run removes it)")


def _row_problems(run_dir: Path, result: VerifyResult) -> list[str]:
    """Both hash chains row by row, then each table's row count and chain head, and the oracle-checked
    count, against what the listing signed."""
    listing, which = result.listing, _which(result.listing)
    listed = _listed_parts(listing)
    problems: list[str] = []
    stats = {t: _verify_chain(run_dir, listing, t, [p for p in listed if p.get("table") == t], problems)
             for t in TABLES}
    for table in TABLES:
        rows, expected = stats[table]["rows"], listing.get("rows", {}).get(table)
        if rows != expected:
            problems.append(f"{table}: {rows} rows but the {which} records {expected}: "
                            + ("rows appended" if isinstance(expected, int) and rows > expected else "rows removed or truncated"))
        if stats[table]["head"] != listing.get("chain", {}).get("heads", {}).get(table):
            problems.append(f"{table}: the chain ends at row {rows} with a hash the {which} does not "
                            f"record: the last row was edited or replaced")
    if result.complete:  # only the manifest counts coverage (a complete run's listing is its manifest)
        coverage = listing.get("coverage", {}).get("oracle_checked")
        if coverage != stats["spans"]["checked"]:
            problems.append(f"spans: {stats['spans']['checked']} oracle-checked rows but the manifest's coverage "
                            f"counts {coverage}")
    return problems


def _which(listing: dict[str, Any]) -> str:
    return "manifest" if listing.get("state") == "complete" else "checkpoint (run.json)"


def _verify_chain(run_dir: Path, listing: dict[str, Any], table: str, parts: list[dict[str, Any]],
                  problems: list[str], fmt: str = AUDIT_FORMAT) -> dict[str, Any]:
    run_id = listing.get("run_id", run_dir.name)
    expected_prev = _genesis(run_id, table, fmt)
    columns = listing.get("columns", {}).get(table) or _LEGACY_COLUMNS[table]
    n = checked = 0  # rows seen in this table, across its files
    for part in parts:
        name = part["file"]
        path = _present(run_dir, name)
        if path is None:
            continue
        try:
            rows = _read_part(path)
        except (OSError, pa.ArrowException) as e:
            problems.append(f"{table} after row {n}: {name} unreadable (truncated or corrupt): {type(e).__name__}")
            continue
        for k, row in enumerate(rows, start=1):
            n += 1
            where = f"{table} row {n} ({name} row {k})"
            if list(row) != columns:
                problems.append(f"{where}: columns differ from the audit schema")
                continue
            if row["prev_hash"] != expected_prev:
                problems.append(f"{where}: prev_hash does not follow row {n - 1}: rows removed, reordered or inserted")
            if _row_hash(row) != row["row_hash"]:
                problems.append(f"{where}: row_hash does not match the row's content: row edited")
            if row["run_id"] != run_id:
                problems.append(f"{where}: belongs to run {row['run_id']!r}, not {run_id!r}")
            if table == "spans" and row["oracle_checked"] is True:
                checked += 1
            expected_prev = row["row_hash"]  # resynchronise, so each break is reported once
    return {"rows": n, "head": expected_prev, "checked": checked}


def _verify_legacy(run_dir: Path, key: bytes, manifest: dict[str, Any] | None) -> VerifyResult:
    """A run written by vault's first audit format: numbered parts, a signed manifest at close only."""
    problems: list[str] = []
    notes = ["written by an older vault (format 1): verified on its own; never used for skipping"]
    on_disk = _part_files(run_dir)
    listing = manifest or {"run_id": run_dir.name}
    stats = {t: _verify_chain(run_dir, listing, t, [{"file": n} for _, n in on_disk[t]], problems, LEGACY_FORMAT)
             for t in TABLES}
    if manifest is None:
        problems.append(f"{MANIFEST} missing: the run is incomplete (interrupted) or its manifest was removed")
        return VerifyResult(False, problems, notes, None, LEGACY_FORMAT)
    if manifest.get("key_id") != _key_id(key):
        problems.append(f"{MANIFEST}: signed with a different audit key (or key_id edited)")
    if not _signed(key, manifest):
        problems.append(f"{MANIFEST}: signature does not match: manifest edited or wrong key")
    listed = {p.get("file"): p for p in manifest.get("parts", []) if isinstance(p, dict)}
    for table in TABLES:
        names = {name for _, name in on_disk[table]}
        for name, part in listed.items():
            if part.get("table") == table and name not in names:
                problems.append(f"{table}: part {name} listed in the manifest is missing")
            elif part.get("table") == table and _sha256_file(run_dir / name) != part.get("sha256"):
                problems.append(f"{table}: part {name} differs from the manifest's SHA-256: edited or truncated")
        for name in sorted(names - set(listed)):
            problems.append(f"{table}: part {name} is not in the manifest: appended")
        if stats[table]["rows"] != manifest.get("rows", {}).get(table):
            problems.append(f"{table}: {stats[table]['rows']} rows but the manifest records {manifest.get('rows', {}).get(table)}")
        if stats[table]["head"] != manifest.get("chain", {}).get("heads", {}).get(table):
            problems.append(f"{table}: chain head at row {stats[table]['rows']} differs from the manifest's")
    return VerifyResult(not problems, problems, notes, manifest, LEGACY_FORMAT, True)


# --------------------------------------------------------------------------- verifying an audit directory


@dataclass
class AuditCheck:
    """Every run of an audit directory checked, and the chain of runs."""

    ok: bool
    problems: list[str] = field(default_factory=list)  # "RUN_ID: what is wrong"
    notes: list[str] = field(default_factory=list)
    runs: dict[str, VerifyResult] = field(default_factory=dict)
    trusted: list[str] = field(default_factory=list)  # runs whose rows resume may rely on, oldest first
    audit_id: str | None = None


def verify_audit(audit_dir: str | os.PathLike, key: bytes, deep: bool = True) -> AuditCheck:
    """verify_run for every run folder, then the chain: one audit id, sequence numbers 1..n without a
    gap or a duplicate, each run linking the one before it by the SHA-256 of its manifest (or of its
    checkpoint, if it was interrupted), start times in the same order, and HEAD.json naming the last."""
    audit_dir = Path(audit_dir)
    check = AuditCheck(True)
    runs = _verify_each_run(audit_dir, key, deep, check)
    head = _signed_head(audit_dir, key, check)
    ids = Counter(r["audit_id"] for r in runs)
    # HEAD decides which audit this is; without it, the audit most runs belong to.
    check.audit_id = head["audit_id"] if head else (ids.most_common(1)[0][0] if ids else None)
    chain = _Chain(audit_dir, head, sorted((r for r in runs if r["audit_id"] == check.audit_id),
                                           key=lambda r: (r["seq"], r["started_at"])))
    for r in runs:
        if r["audit_id"] != check.audit_id:
            check.problems.append(f"{r['folder']}: a run of another audit directory (audit {r['audit_id']}): copied in")
            chain.bad.add(r["folder"])
    _check_sequence(chain, check)
    check.trusted = [r["folder"] for r in chain.runs if r["folder"] not in chain.bad and check.runs[r["folder"]].ok]
    check.ok = not check.problems
    return check


@dataclass
class _Chain:
    """One audit's runs as verify_audit links them: each its signed run.json plus its "folder"."""

    audit_dir: Path
    head: dict[str, Any] | None  # HEAD.json, only when its signature holds
    runs: list[dict[str, Any]]  # by sequence number, then start time
    bad: set[str] = field(default_factory=set)  # folders out of place in the chain: never trusted

    @property
    def by_seq(self) -> dict[int, list[dict[str, Any]]]:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for r in self.runs:
            grouped.setdefault(r["seq"], []).append(r)
        return grouped


def _verify_each_run(audit_dir: Path, key: bytes, deep: bool, check: AuditCheck) -> list[dict[str, Any]]:
    """verify_run for every run folder, its problems and notes prefixed with the folder's name; returns
    the signed run.json of each format-2 run (with its "folder"), the links the chain is checked by."""
    runs: list[dict[str, Any]] = []
    for run_dir in _run_dirs(audit_dir):
        result = verify_run(run_dir, key, deep)
        check.runs[run_dir.name] = result
        check.problems += [f"{run_dir.name}: {p}" for p in result.problems]
        check.notes += [f"{run_dir.name}: {n}" for n in result.notes]
        info = load_json(run_dir / RUN_INFO)
        if result.format == AUDIT_FORMAT and info and _signed(key, info):
            runs.append(dict(info, folder=run_dir.name))
            accepted = (info.get("meta") or {}).get("accepted_broken_audit")
            if accepted:  # what the run appended to was broken: the operator said why, never hidden
                check.notes.append(f"{run_dir.name}: started on a broken audit ({len(accepted.get('problems', []))} "
                                   f"problems), accepted by the operator: {accepted.get('reason')}")
    return runs


def _signed_head(audit_dir: Path, key: bytes, check: AuditCheck) -> dict[str, Any] | None:
    """HEAD.json when its signature holds; an edited one is a problem and counts as absent."""
    head = load_json(audit_dir / HEAD)
    if head is not None and not _signed(key, head):
        check.problems.append(f"{HEAD}: signature does not match: edited, or forged without the key")
        return None
    return head


def _check_sequence(chain: _Chain, check: AuditCheck) -> None:
    """Sequence numbers 1..n, each once, each run linking the one before, started in that order, and
    HEAD.json naming the last."""
    by_seq = chain.by_seq
    for seq, group in sorted(by_seq.items()):
        if len(group) > 1:
            check.problems.append(f"runs {', '.join(g['folder'] for g in group)} all claim to be run #{seq}: a copy or a fork")
            chain.bad.update(g["folder"] for g in group)
    if not chain.runs:
        return
    # A first run killed before it wrote HEAD.json (and any rows) leaves none: that is no loss.
    first_killed = len(chain.runs) == 1 and chain.runs[0]["seq"] == 1 and not chain.runs[0].get("parts")
    if chain.head is None and ((chain.audit_dir / HEAD).exists() or not first_killed):
        check.problems.append(f"{HEAD} missing or invalid: the latest run cannot be told from a deleted one")
    _check_gaps(by_seq, chain.runs[-1]["seq"], check)
    for r in chain.runs:
        _check_link(chain.audit_dir, r, by_seq, check, chain.bad)
    starts = [r["started_at"] for r in chain.runs]
    if starts != sorted(starts):
        check.problems.append("runs start in another order than their sequence numbers: reordered")
    if chain.head is not None:
        _check_head_names_last(chain, check)


def _check_gaps(by_seq: dict[int, list[dict[str, Any]]], last: int, check: AuditCheck) -> None:
    """Every sequence number up to the last has a run; a missing one is named by the run after it."""
    for seq in range(1, last + 1):
        if seq not in by_seq:
            after = by_seq.get(seq + 1, [{}])[0]
            gone = (after.get("previous") or {}).get("run_id", "?")
            check.problems.append(f"run #{seq} ({gone}) is missing: its folder was deleted"
                                  + (f" (run {after['folder']} links it)" if after else ""))


def _check_head_names_last(chain: _Chain, check: AuditCheck) -> None:
    """HEAD.json names the last run: a run it names that is gone was deleted, and an older run named
    means an older copy of HEAD was put back (the chain alone cannot see its last runs removed)."""
    head, last = chain.head, chain.runs[-1]["seq"]
    named = [r for r in chain.runs if r["seq"] == head["seq"] and r["run_id"] == head["run_id"]]
    lag = head["seq"] == last - 1 and not chain.runs[-1].get("parts")  # killed between run.json and HEAD
    if not named and not (chain.audit_dir / head["run_id"]).exists():
        check.problems.append(f"{HEAD} names run #{head['seq']} ({head['run_id']}), which is missing: deleted")
    elif head["seq"] != last and not lag:
        check.problems.append(f"{HEAD} names run #{head['seq']}, but run #{last} exists: HEAD replaced by an older copy")


def _check_link(audit_dir: Path, run: dict[str, Any], by_seq: dict, check: AuditCheck, chain_bad: set[str]) -> None:
    prev, name = run.get("previous"), run["folder"]
    if run.get("head_at_start") in ("missing", "invalid"):
        check.problems.append(f"{name}: {HEAD} was {run['head_at_start']} when this run started: removed or edited")
    if run["seq"] == 1:
        if prev is not None and (prev.get("seq") is not None or not (audit_dir / prev["run_id"]).exists()):
            check.problems.append(f"{name}: the first run links {prev.get('run_id')}, which is not a run of this audit")
            chain_bad.add(name)
        return
    if prev is None or prev.get("seq") != run["seq"] - 1:
        check.problems.append(f"{name}: run #{run['seq']} does not link run #{run['seq'] - 1}")
        chain_bad.add(name)
        return
    target = audit_dir / prev["run_id"]
    if not target.is_dir():
        chain_bad.add(name)
        return  # reported as a missing run
    file = prev.get("file")
    if file is None or not (target / file).is_file():
        check.problems.append(f"{name}: links the {file} of run {prev['run_id']}, which is gone: stripped or deleted")
        chain_bad.add(name)
    elif _sha256_file(target / file) != prev.get("sha256"):
        check.problems.append(f"{name}: the {file} of run {prev['run_id']} changed after this run started: edited or replaced")
        chain_bad.add(name)
    elif file == RUN_INFO and (target / MANIFEST).exists():
        check.problems.append(f"{name}: run {prev['run_id']} was interrupted when this run started, but has a manifest now: added later")
        chain_bad.add(name)


# --------------------------------------------------------------------------- heads and anchors
#
# verify_audit cannot tell an audit from an older copy of itself: HEAD.json and every run are genuine,
# only the last runs are gone. A head kept elsewhere can: each run ends by printing its head (sequence
# number and the SHA-256 of its manifest) and, with an anchor file, appends it there, one signed JSON
# line per run. `verify --anchor` then names every run the anchor knows that the audit no longer has.

ANCHOR_FORMAT = "vault-anchor/1"
_EXPECT = re.compile(r"(\d+):([0-9a-f]{16,64})\Z")


def head_ref(head: dict[str, Any]) -> str:
    """SEQ:SHA256, as the summary line prints it and `verify --expect-head` takes it."""
    return f"{head['seq']}:{head['sha256']}"


def parse_head_ref(text: str) -> dict[str, Any]:
    """`verify --expect-head SEQ:HASH` (the hash whole, or its first 16 hex characters or more)."""
    m = _EXPECT.match(text.strip().lower())
    if not m:
        raise ValueError(f"--expect-head {text}: expected SEQ:HASH, a run's number and its manifest's SHA-256 "
                         "(as the summary line prints them)")
    return {"seq": int(m.group(1)), "sha256": m.group(2)}


def audit_head(audit_dir: str | os.PathLike, key: bytes) -> dict[str, Any] | None:
    """The head of an audit: the run its signed HEAD.json names, with the SHA-256 of that run's manifest
    (or of its checkpoint, if it was interrupted); None without a signed HEAD.json."""
    head = load_json(Path(audit_dir) / HEAD)
    if head is None or not _signed(key, head):
        return None
    return {"audit_id": head["audit_id"], **_link_to(Path(audit_dir), head["run_id"], head["seq"])}


def append_anchor(anchor: str | os.PathLike, head: dict[str, Any], key: bytes) -> None:
    """Append a head to the anchor file (created if missing), signed, as one line; fsynced."""
    record = {"format": ANCHOR_FORMAT, "audit_id": head["audit_id"], "seq": head["seq"], "run_id": head["run_id"],
              "file": head["file"], "sha256": head["sha256"], "at": now()}
    record["signature"] = _sign(key, record)
    fd = os.open(anchor, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (_canonical(record) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchor(anchor: str | os.PathLike, key: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The heads an anchor file holds, and its problems (a line that is not a signed head)."""
    heads, problems = [], []
    with open(anchor, "rb") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                record = None
            if not isinstance(record, dict) or record.get("format") != ANCHOR_FORMAT:
                problems.append(f"anchor line {n}: not a vault head record (truncated or edited)")
            elif not _signed(key, record):
                problems.append(f"anchor line {n}: signature does not match: edited, written without the key, or another key's")
            else:
                heads.append(record)
    return heads, problems


def check_heads(audit_dir: str | os.PathLike, check: AuditCheck, heads: list[dict[str, Any]], source: str) -> list[str]:
    """Problems for every head (from an anchor, or `--expect-head`) that the audit no longer has: its run
    is gone (the audit rolled back to an older copy, or the run deleted), or its manifest is another.
    A head names its audit id when it comes from an anchor; heads of other audits are not this one's."""
    audit_dir = Path(audit_dir)
    if not heads:
        return [f"{source} holds no head: nothing to check the audit against"]
    problems: list[str] = []
    ours = [h for h in heads if h.get("audit_id") in (None, check.audit_id)]
    if check.audit_id is None and not check.runs:
        for audit_id in sorted({str(h.get("audit_id")) for h in heads}):
            known = [h for h in heads if str(h.get("audit_id")) == audit_id]
            problems.append(f"{source} knows {len(known)} heads of audit {audit_id} up to run "
                            f"#{max(h['seq'] for h in known)}; this directory has no run: emptied or replaced")
        return problems
    if heads and not ours:
        return [f"{source} holds no head of audit {check.audit_id}: the anchor of another audit, or never written"]
    by_seq: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for name, result in check.runs.items():
        listing = result.listing or {}
        if listing.get("format") == AUDIT_FORMAT and listing.get("audit_id") == check.audit_id:
            by_seq.setdefault(listing.get("seq"), []).append((name, listing))
    last = max((s for s in by_seq if isinstance(s, int)), default=0)
    hashes: dict[Path, str | None] = {}

    def sha(path: Path) -> str | None:
        if path not in hashes:
            hashes[path] = _sha256_file(path) if path.is_file() else None
        return hashes[path]

    for h in ours:
        seq, run_id, want = h["seq"], h.get("run_id"), h["sha256"]
        what = f"run #{seq}" + (f" ({run_id})" if run_id else "")
        runs = [(n, li) for n, li in by_seq.get(seq, []) if run_id in (None, li.get("run_id"))]
        if not runs:
            rolled = f": the audit ends at run #{last}, rolled back to an older copy" if seq > last else ": deleted or replaced"
            problems.append(f"{source} knows {what}, which the audit no longer has{rolled}")
            continue
        run_dir = audit_dir / runs[0][0]
        file = h.get("file") or (MANIFEST if (run_dir / MANIFEST).is_file() else RUN_INFO)
        digest = sha(run_dir / file)
        if digest is not None and digest.startswith(want):
            if file == RUN_INFO and (run_dir / MANIFEST).exists() and h.get("file"):
                problems.append(f"{source} knows {what} as interrupted, but it has a manifest now: added later")
            continue
        problems.append(f"{source} knows {what} with {file} {want[:16]}..., the audit's is "
                        f"{(digest or 'missing')[:16]}...: replaced or edited")
    return problems


# --------------------------------------------------------------------------- evidence for resume


@dataclass
class Evidence:
    """What the audit vouches for: the latest output row per input path (by its HMAC), from trusted
    runs bound to the same input and output directories; and the runs that were not trusted, why."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (run id, first reason)


def bound_roots(key: bytes, input_dir: str, output_dir: str, label: str | None = None) -> dict[str, Any]:
    """How a run's listings name the input and output directories it is bound to: keyed hashes of their
    resolved paths (a path can hold a name or a number), and the operator's own label, if any."""
    return {"input_dir_hmac": keyed_hash(key, input_dir), "output_dir_hmac": keyed_hash(key, output_dir), "label": label}


def bound_to(meta: dict[str, Any], key: bytes, input_dir: str, output_dir: str) -> bool:
    """Whether a run was bound to these directories (runs of older vaults recorded the paths raw)."""
    if "input_dir_hmac" in meta or "output_dir_hmac" in meta:
        return (hmac.compare_digest(str(meta.get("input_dir_hmac")), keyed_hash(key, input_dir))
                and hmac.compare_digest(str(meta.get("output_dir_hmac")), keyed_hash(key, output_dir)))
    return meta.get("input_dir") == input_dir and meta.get("output_dir") == output_dir


def root_ref(meta: dict[str, Any], key: bytes, which: str) -> str | None:
    """A run's input or output root for people: "#" and 16 hex characters of its keyed hash (a raw path an
    older vault recorded is hashed here, never shown); None if not recorded."""
    digest = meta.get(f"{which}_dir_hmac")
    if not isinstance(digest, str) and isinstance(meta.get(f"{which}_dir"), str):
        digest = keyed_hash(key, meta[f"{which}_dir"])
    return f"#{digest[:16]}" if isinstance(digest, str) else None


def describe_roots(meta: dict[str, Any], key: bytes) -> str:
    """'"label", input #1a2b... -> output #3c4d...': how verify names what a run was bound to."""
    label = meta.get("label")
    roots = f"input {root_ref(meta, key, 'input') or '?'} -> output {root_ref(meta, key, 'output') or '?'}"
    return (json.dumps(label) + ", " if isinstance(label, str) and label else "") + roots


def trusted_outputs(audit_dir: str | os.PathLike, key: bytes, input_dir: str, output_dir: str) -> Evidence:
    """Rows that may let a later run skip a document: only from runs whose signed listing and files
    verify, that belong to this audit directory's chain of runs, and that were bound to the same
    input and output directories. Runs that fail are ignored for skipping (and reported)."""
    check = verify_audit(audit_dir, key, deep=False)  # the files' SHA-256 against signed listings suffices
    evidence = Evidence()
    trusted = set(check.trusted)
    for name, result in check.runs.items():
        if name not in trusted:
            reason = (result.problems or [p.split(": ", 1)[1] for p in check.problems if p.startswith(name + ": ")]
                      or ["not in this audit directory's chain of runs"])[0]
            if result.format != LEGACY_FORMAT:  # format-1 runs are never evidence for skipping, by design
                evidence.ignored.append((name, reason))
    for name in check.trusted:  # oldest first: later rows win
        meta = (check.runs[name].listing or {}).get("meta", {})
        if not bound_to(meta, key, input_dir, output_dir):
            continue
        for row in _read_rows(Path(audit_dir) / name, "documents"):
            if row.get("status") in OUTPUT_STATUSES and row.get("output_sha256") and row.get("input_path_hmac"):
                evidence.rows[row["input_path_hmac"]] = row
    return evidence
