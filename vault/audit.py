"""The audit store: evidence of every redaction decision, safe to crash, hard to tamper with.

One folder per run under the audit directory:

    audit/<run_id>/run.json                  written at start: run id, start time, meta
    audit/<run_id>/spans-000001.parquet      span rows of the documents in flush 1
    audit/<run_id>/documents-000001.parquet  document rows of flush 1
    ...
    audit/<run_id>/manifest.json             written at close; its absence marks an
                                             interrupted (incomplete) run

Crash safety. Rows are buffered in memory and flushed every `flush_every` documents (or
`flush_seconds`) as a pair of numbered part files, each written atomically (temp file,
fsync, rename), spans part first, documents part second. A part file on disk is therefore
always complete, and a document counts as finished only once its document row is in a
documents part: a kill -9 before that loses the row, and the next run redoes the document
(the pipeline writes the output file first, then the audit rows). A spans part whose
documents part never landed is an orphan of an interrupted run and is ignored by
completed_documents.

Tamper evidence. Each table (spans, documents) carries its own hash chain across its part
files: row_hash = SHA-256(prev_hash + canonical JSON of the row's other fields), with
prev_hash of the first row a genesis value derived from the run id and table name. The
manifest records every part file's SHA-256 and row count and both chain heads, and is
signed with HMAC-SHA256 under the audit key. An edited, removed, reordered or appended
row, or a removed or truncated part file, breaks a chain or disagrees with the signed
manifest. An incomplete run has no signed manifest, so its rows are evidence only as far
as their chains go.

No raw values. Rows hold a keyed hash (HMAC) of a span's text, never the text; the writer
rejects columns it does not know and checks that value_hmac looks like an HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from vault import __version__
from vault.documents import write_atomic

AUDIT_FORMAT = "vault-audit/1"
KEY_ENV = "VAULT_AUDIT_KEY"
KEY_FILE = ".key"
MANIFEST = "manifest.json"
RUN_INFO = "run.json"

TABLES = ("spans", "documents")
DOCUMENT_STATUSES = ("redacted", "unchanged", "skipped", "failed", "held")
SPAN_ACTIONS = ("redacted", "kept")
# Statuses whose row vouches for an output file; only these make a document resumable.
OUTPUT_STATUSES = ("redacted", "unchanged")

_PART = re.compile(r"(spans|documents)-(\d{6})\.parquet\Z")


# --------------------------------------------------------------------------- keys


def load_audit_key(audit_dir: str | os.PathLike) -> bytes:
    """The audit key: $VAULT_AUDIT_KEY (hex, or else taken as a raw string), or else the
    key file audit_dir/.key, created with mode 0600 on first use.

    The key signs manifests and keys the span-value hashes. A key kept next to the audit
    protects against accidents, not against whoever can write the audit directory; for real
    tamper evidence keep the key elsewhere and pass it in the environment.
    """
    env = os.environ.get(KEY_ENV)
    if env is not None:
        if not env:
            raise ValueError(f"{KEY_ENV} is set but empty")
        if len(env) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", env):
            return bytes.fromhex(env)
        return env.encode("utf-8")

    path = Path(audit_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a 0600 temp file, then hard-linked into place: the link fails if another
        # process created the key meanwhile, and no reader ever sees a partial key file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".vault-tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_bytes(32).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    text = path.read_text().strip()
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValueError(f"audit key file {path} is not 64 hex characters")
    return bytes.fromhex(text)


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA256 of text, hex: the only form in which a span's value enters the audit."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _key_id(key: bytes) -> str:
    # Names the key in the manifest so verify can tell "wrong key" from "tampered".
    return hmac.new(key, b"vault-audit-key-id", hashlib.sha256).hexdigest()[:16]


def new_run_id() -> str:
    """A run id that sorts by start time: 20250101T120000123456Z-1a2b3c."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


# --------------------------------------------------------------------------- rows

_REQUIRED = object()  # the caller must give it
_AUTO = object()  # the writer fills it in (run id, chain hashes)
_META = object()  # defaults to the same key of the run's meta

# (column, arrow type, default). Rows are coerced to these types before hashing, so the
# hash recomputed from the values read back from Parquet is the same.
SPAN_COLUMNS: tuple[tuple[str, pa.DataType, Any], ...] = (
    ("run_id", pa.string(), _AUTO),
    ("doc_path", pa.string(), _REQUIRED),
    ("field", pa.string(), ""),  # the Unit's locator; start/end are offsets in that unit's text
    ("chunk", pa.int64(), _REQUIRED),
    ("start", pa.int64(), _REQUIRED),
    ("end", pa.int64(), _REQUIRED),
    ("entity_type", pa.string(), _REQUIRED),
    ("detectors", pa.list_(pa.string()), []),  # recognizers that proposed it ("oracle" may be one)
    ("detector_scores", pa.list_(pa.float64()), []),  # parallel to detectors, or empty
    ("detector_score", pa.float64(), None),  # the best recognizer score, if any
    ("draft_proposed", pa.bool_(), False),
    ("oracle_checked", pa.bool_(), _REQUIRED),
    ("oracle_logprob", pa.float64(), None),
    ("oracle_margin", pa.float64(), None),
    ("action", pa.string(), _REQUIRED),  # "redacted" or "kept"
    ("operator", pa.string(), ""),  # the policy operator applied; "" when kept
    ("reason", pa.string(), _REQUIRED),  # "oracle", "policy override: ...", "allow list", ...
    ("value_hmac", pa.string(), _REQUIRED),
    ("policy_fingerprint", pa.string(), _META),
    ("prev_hash", pa.string(), _AUTO),
    ("row_hash", pa.string(), _AUTO),
)

DOCUMENT_COLUMNS: tuple[tuple[str, pa.DataType, Any], ...] = (
    ("run_id", pa.string(), _AUTO),
    ("doc_path", pa.string(), _REQUIRED),
    ("status", pa.string(), _REQUIRED),
    ("error", pa.string(), ""),
    ("input_sha256", pa.string(), ""),
    ("output_sha256", pa.string(), ""),
    ("policy_fingerprint", pa.string(), _META),
    ("model_fingerprint", pa.string(), _META),
    ("chunks", pa.int64(), 0),
    ("tokens", pa.int64(), 0),
    ("oracle_passes", pa.int64(), 0),
    ("accept_rate", pa.float64(), None),
    ("seconds", pa.float64(), 0.0),
    ("prev_hash", pa.string(), _AUTO),
    ("row_hash", pa.string(), _AUTO),
)

_COLUMNS = {"spans": SPAN_COLUMNS, "documents": DOCUMENT_COLUMNS}
_SCHEMAS = {t: pa.schema([(name, typ) for name, typ, _ in cols]) for t, cols in _COLUMNS.items()}


def _canonical(obj: Any) -> str:
    # Sorted keys, no whitespace, ASCII only: one byte string per value, whatever wrote it.
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _genesis(run_id: str, table: str) -> str:
    return hashlib.sha256(f"{AUDIT_FORMAT}|{run_id}|{table}".encode()).hexdigest()


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
        return None if value is None else real(value)
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
    it; instead every column has a fixed meaning and a shape, and the one column derived
    from the text must be an HMAC. Callers must not put span text into reason or error."""
    where = f"audit {table} row for {row['doc_path']!r}"
    if table == "spans":
        if not _HMAC.match(row["value_hmac"]):
            raise ValueError(f"{where}: value_hmac must be keyed_hash(key, text), 64 hex characters")
        if not _ENTITY.match(row["entity_type"]):
            raise ValueError(f"{where}: entity_type must be an upper-case name like PERSON")
        if row["action"] not in SPAN_ACTIONS:
            raise ValueError(f"{where}: action must be one of {SPAN_ACTIONS}")
        if not _NAME.match(row["operator"]) or not all(_NAME.match(d) for d in row["detectors"]):
            raise ValueError(f"{where}: operator and detectors must be plain names")
        if row["detector_scores"] and len(row["detector_scores"]) != len(row["detectors"]):
            raise ValueError(f"{where}: detector_scores must be parallel to detectors")
        if not 0 <= row["start"] <= row["end"]:
            raise ValueError(f"{where}: need 0 <= start <= end")
    elif row["status"] not in DOCUMENT_STATUSES:
        raise ValueError(f"{where}: status must be one of {DOCUMENT_STATUSES}")


# --------------------------------------------------------------------------- writer


class AuditWriter:
    """Appends one run's audit rows, crash-safely; see the module docstring.

    Rows never contain raw values: add_document only ever receives span rows whose
    `value_hmac` is keyed_hash(key, span_text), never the span text itself, and the writer
    rejects any column it does not know (so a stray "text" or "value" column fails loudly)
    and any value_hmac that is not 64 hex characters.

    `meta` goes into the manifest as given (policy fingerprint, model fingerprints, ...);
    its "policy_fingerprint" and "model_fingerprint" keys are the defaults of those columns.
    Use it as a context manager: leaving the block by an exception flushes finished
    documents but writes no manifest (the run stays incomplete, so it can be resumed).
    """

    def __init__(
        self,
        audit_dir: str | os.PathLike,
        run_id: str,
        key: bytes,
        meta: dict[str, Any],
        *,
        flush_every: int = 100,
        flush_seconds: float = 30.0,
    ):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", run_id):
            raise ValueError(f"run id {run_id!r}: use letters, digits, '.', '_' and '-' only")
        _canonical(meta)  # must be JSON: fail now, not at close
        self.run_dir = Path(audit_dir) / run_id
        self.run_dir.mkdir(parents=True, exist_ok=False)  # never mix two runs' rows
        self.run_id = run_id
        self._key = key
        self.meta = meta
        self.flush_every = flush_every
        self.flush_seconds = flush_seconds
        self.started_at = _now()
        self._buffers: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        self._heads = {t: _genesis(run_id, t) for t in TABLES}
        self._rows = {t: 0 for t in TABLES}  # rows added (flushed or buffered)
        self._parts: list[dict[str, Any]] = []
        self._buffered_docs = 0
        self._last_flush = time.monotonic()
        self._statuses: Counter[str] = Counter()
        self._actions: Counter[str] = Counter()
        self._checked = 0
        self.closed = False
        info = {"format": AUDIT_FORMAT, "run_id": run_id, "started_at": self.started_at,
                "versions": _versions(), "meta": meta}
        write_atomic(self.run_dir / RUN_INFO, _pretty(info))

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
        known = {name for name, _, _ in _COLUMNS[table]} - {"prev_hash", "row_hash"}
        unknown = set(row) - known
        if unknown:
            raise ValueError(f"audit {table} row: unknown columns {sorted(unknown)}")
        out: dict[str, Any] = {}
        for name, typ, default in _COLUMNS[table]:
            if name in ("prev_hash", "row_hash"):
                continue
            if name in row:
                value = row[name]
            elif default is _REQUIRED:
                raise ValueError(f"audit {table} row: missing column {name!r}")
            elif default is _AUTO:
                value = self.run_id
            elif default is _META:
                value = str(self.meta.get(name, ""))
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
        """Write buffered rows as the next pair of part files. If writing fails, the rows
        stay buffered and the next flush rewrites the same part numbers."""
        if not self._buffered_docs:
            return
        number = len(self._parts) // 2 + 1
        parts = []
        for table in TABLES:  # spans first: a documents part is the commit of its documents
            name = f"{table}-{number:06d}.parquet"
            data = _parquet_bytes(table, self._buffers[table])
            write_atomic(self.run_dir / name, data)
            parts.append({"file": name, "table": table, "rows": len(self._buffers[table]),
                          "sha256": hashlib.sha256(data).hexdigest()})
        self._parts.extend(parts)
        self._buffers = {t: [] for t in TABLES}
        self._buffered_docs = 0
        self._last_flush = time.monotonic()

    def close(self, totals: dict[str, Any]) -> Path:
        """Flush, then write the signed manifest that marks the run complete."""
        if self.closed:
            raise RuntimeError("audit writer is closed")
        self.flush()
        total = self._rows["spans"]
        manifest = {
            "format": AUDIT_FORMAT,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": _now(),
            "versions": _versions(),
            "meta": self.meta,
            "totals": totals,
            "counts": {"documents": dict(sorted(self._statuses.items())),
                       "spans": dict(sorted(self._actions.items()))},
            # Every span row is a sensitive span (redacted, or a candidate that was kept).
            "coverage": {"oracle_checked": self._checked, "sensitive_spans": total,
                         "ratio": self._checked / total if total else 1.0},
            "parts": self._parts,
            "rows": dict(self._rows),
            "chain": {"algorithm": "sha256(prev_hash + canonical_json(row))",
                      "genesis": {t: _genesis(self.run_id, t) for t in TABLES},
                      "heads": dict(self._heads)},
            "key_id": _key_id(self._key),
        }
        manifest["signature"] = _sign(self._key, manifest)
        path = self.run_dir / MANIFEST
        write_atomic(path, _pretty(manifest))
        self.closed = True
        return path

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.closed:
            return
        if exc_type is None:
            self.close({})
        else:
            self.flush()  # keep what finished; no manifest: the run is incomplete


def _parquet_bytes(table: str, rows: list[dict[str, Any]]) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMAS[table]), sink)
    return sink.getvalue().to_pybytes()


def _sign(key: bytes, manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return hmac.new(key, _canonical(body).encode("ascii"), hashlib.sha256).hexdigest()


def _pretty(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _versions() -> dict[str, str]:
    return {"vault": __version__, "python": sys.version.split()[0], "pyarrow": pa.__version__}


# --------------------------------------------------------------------------- reading back


def _part_files(run_dir: Path) -> dict[str, list[tuple[int, str]]]:
    """{table: [(number, file name)]} of the part files on disk, in order."""
    found: dict[str, list[tuple[int, str]]] = {t: [] for t in TABLES}
    for name in os.listdir(run_dir):
        m = _PART.match(name)
        if m:
            found[m.group(1)].append((int(m.group(2)), name))
    return {t: sorted(v) for t, v in found.items()}


def _read_part(path: Path) -> tuple[bytes, list[dict[str, Any]]]:
    data = path.read_bytes()
    return data, pq.read_table(pa.BufferReader(data)).to_pylist()


def _load_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _runs(audit_dir: Path) -> list[Path]:
    """Run folders, oldest first (by recorded start time, then name)."""
    runs = []
    for child in audit_dir.iterdir() if audit_dir.is_dir() else []:
        if child.is_dir() and ((child / RUN_INFO).exists() or (child / MANIFEST).exists()):
            info = _load_json(child / RUN_INFO) or _load_json(child / MANIFEST) or {}
            runs.append((str(info.get("started_at", "")), child.name, child))
    return [path for _, _, path in sorted(runs)]


def completed_documents(audit_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """{doc_path: document row} of the latest row per document that produced an output
    (status redacted or unchanged), across all runs, interrupted ones included.

    Resume rule for the pipeline: skip a document when its row's input_sha256, policy and
    model fingerprints match, and the output file exists with the row's output_sha256.
    Rows with other statuses never shadow an earlier output row, so a run may record a
    reused document as "skipped" without making it unresumable next time.
    """
    done: dict[str, dict[str, Any]] = {}
    for run_dir in _runs(Path(audit_dir)):
        for _, name in _part_files(run_dir)["documents"]:
            try:
                _, rows = _read_part(run_dir / name)
            except (OSError, pa.ArrowException):
                continue  # a damaged part vouches for nothing; those documents are redone
            for row in rows:
                if row.get("status") in OUTPUT_STATUSES and row.get("output_sha256"):
                    done[row["doc_path"]] = row
    return done


@dataclass
class VerifyResult:
    ok: bool
    problems: list[str] = field(default_factory=list)


def verify_run(run_dir: str | os.PathLike, key: bytes) -> VerifyResult:
    """Recompute both hash chains, check the part files against the manifest and the
    manifest's signature. Row problems come first and name the table and row number."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return VerifyResult(False, [f"run folder not found: {run_dir}"])
    manifest_path = run_dir / MANIFEST
    manifest = _load_json(manifest_path)
    run_id = manifest.get("run_id", run_dir.name) if manifest else run_dir.name
    row_problems: list[str] = []
    file_problems: list[str] = []
    stats = {}
    on_disk = _part_files(run_dir)
    for table in TABLES:
        stats[table] = _verify_chain(run_dir, run_id, table, on_disk[table], row_problems)

    if not manifest_path.exists():
        file_problems.append(f"{MANIFEST} missing: the run is incomplete (interrupted) or its manifest was removed")
    elif manifest is None:
        file_problems.append(f"{MANIFEST} unreadable: truncated or corrupt")
    else:
        _verify_manifest(run_dir, key, manifest, on_disk, stats, file_problems)
    problems = row_problems + file_problems
    return VerifyResult(not problems, problems)


def _verify_chain(run_dir: Path, run_id: str, table: str, parts: list[tuple[int, str]],
                  problems: list[str]) -> dict[str, Any]:
    expected_prev = _genesis(run_id, table)
    columns = [name for name, _, _ in _COLUMNS[table]]
    n = 0  # rows seen in this table, across its parts
    checked = 0
    hashes: dict[str, str] = {}
    for number, name in parts:
        try:
            data, rows = _read_part(run_dir / name)
        except (OSError, pa.ArrowException) as e:
            problems.append(f"{table} after row {n}: part {name} unreadable (truncated or corrupt): {e}")
            continue
        hashes[name] = hashlib.sha256(data).hexdigest()
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
    return {"rows": n, "head": expected_prev, "hashes": hashes, "checked": checked}


def _verify_manifest(run_dir: Path, key: bytes, manifest: dict[str, Any],
                     on_disk: dict[str, list[tuple[int, str]]], stats: dict[str, Any],
                     problems: list[str]) -> None:
    if manifest.get("key_id") != _key_id(key):
        problems.append(f"{MANIFEST}: signed with a different audit key (or key_id edited)")
    if not hmac.compare_digest(str(manifest.get("signature", "")), _sign(key, manifest)):
        problems.append(f"{MANIFEST}: signature does not match: manifest edited or wrong key")
    listed = {p.get("file"): p for p in manifest.get("parts", []) if isinstance(p, dict)}
    for table in TABLES:
        names = {name for _, name in on_disk[table]}
        for name, part in listed.items():
            if part.get("table") != table:
                continue
            if name not in names:
                problems.append(f"{table}: part {name} listed in the manifest is missing")
            elif name in stats[table]["hashes"] and stats[table]["hashes"][name] != part.get("sha256"):
                problems.append(f"{table}: part {name} differs from the manifest's SHA-256: edited or truncated")
        for name in sorted(names - set(listed)):
            problems.append(f"{table}: part {name} is not in the manifest: appended")
        rows = stats[table]["rows"]
        expected = manifest.get("rows", {}).get(table)
        if not isinstance(expected, int):
            problems.append(f"{table}: the manifest records no row count")
        elif rows > expected:
            problems.append(f"{table}: {rows} rows but the manifest records {expected}: rows appended after row {expected}")
        elif rows < expected:
            problems.append(f"{table}: {rows} rows but the manifest records {expected}: "
                            f"rows removed or log truncated after row {rows}")
        if stats[table]["head"] != manifest.get("chain", {}).get("heads", {}).get(table):
            problems.append(f"{table}: chain head at row {rows} differs from the manifest's")
    coverage = manifest.get("coverage", {})
    if coverage.get("oracle_checked") != stats["spans"]["checked"]:
        problems.append(f"spans: {stats['spans']['checked']} oracle-checked rows but the manifest's coverage "
                        f"counts {coverage.get('oracle_checked')}")


def _read_rows(run_dir: Path, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _, name in _part_files(run_dir)[table]:
        try:
            rows.extend(_read_part(run_dir / name)[1])
        except (OSError, pa.ArrowException):
            pass  # verification reports it
    return rows


def iter_rows(run_dir: str | os.PathLike, table: str) -> Iterator[dict[str, Any]]:
    """Every row of one table of a run, in order (for `vault audit` commands and tests)."""
    yield from _read_rows(Path(run_dir), table)
