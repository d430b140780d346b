import json
import os
import signal
import stat
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vault.audit import (
    SPAN_COLUMNS,
    AuditWriter,
    _row_hash,
    completed_documents,
    keyed_hash,
    load_audit_key,
    verify_run,
)
from vault.report import write_report

KEY = bytes(range(32))
META = {"policy_fingerprint": "p" * 64, "model_fingerprint": "m" * 64, "models": {"draft": "d1", "oracle": "o1"}}


def span(doc, i, key=KEY, value=None, **kw):
    row = {
        "doc_path": doc, "field": "", "chunk": 0, "start": 10 * i, "end": 10 * i + 5,
        "entity_type": "PERSON", "detectors": ["oracle"], "draft_proposed": True, "oracle_checked": True,
        "oracle_logprob": -0.01, "oracle_margin": 4.5, "action": "redacted", "operator": "tag",
        "reason": "oracle", "value_hmac": keyed_hash(key, value or f"{doc}-{i}"),
    }
    row.update(kw)
    return row


def doc_row(doc, status="redacted", **kw):
    row = {"doc_path": doc, "status": status, "input_sha256": "a" * 64,
           "output_sha256": "b" * 64 if status in ("redacted", "unchanged") else "",
           "chunks": 1, "tokens": 100, "oracle_passes": 7, "accept_rate": 0.9, "seconds": 0.5}
    row.update(kw)
    return row


def make_run(audit_dir, run_id="run1", docs=5, flush_every=2, close=True):
    w = AuditWriter(audit_dir, run_id, KEY, META, flush_every=flush_every)
    for d in range(docs):
        w.add_document(doc_row(f"d{d}.txt"), [span(f"d{d}.txt", i) for i in range(2)])
    if close:
        w.close({"documents": docs})
    return w.run_dir


def rewrite(path, fn):
    """Rewrite a part file with its rows transformed by fn (as an attacker would)."""
    table = pq.read_table(path)
    rows = fn(table.to_pylist())
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


def first(result):
    assert not result.ok and result.problems
    return result.problems[0]


# --------------------------------------------------------------------------- keys


def test_key_file_created_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULT_AUDIT_KEY", raising=False)
    key = load_audit_key(tmp_path / "audit")
    assert len(key) == 32
    path = tmp_path / "audit" / ".key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_audit_key(tmp_path / "audit") == key  # reused
    assert [p.name for p in path.parent.iterdir()] == [".key"]


def test_key_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VAULT_AUDIT_KEY", "00ff" * 8)
    assert load_audit_key(tmp_path) == bytes.fromhex("00ff" * 8)
    monkeypatch.setenv("VAULT_AUDIT_KEY", "correct horse battery staple")
    assert load_audit_key(tmp_path) == b"correct horse battery staple"
    assert not (tmp_path / ".key").exists()
    assert keyed_hash(KEY, "x") != keyed_hash(b"other", "x") and len(keyed_hash(KEY, "x")) == 64


# --------------------------------------------------------------------------- writing and verifying


def test_chain_verifies_and_manifest(tmp_path):
    run = make_run(tmp_path)
    assert verify_run(run, KEY).ok, verify_run(run, KEY).problems
    names = sorted(p.name for p in run.iterdir())
    assert names == [
        "documents-000001.parquet", "documents-000002.parquet", "documents-000003.parquet",
        "manifest.json", "run.json",
        "spans-000001.parquet", "spans-000002.parquet", "spans-000003.parquet",
    ]
    m = json.loads((run / "manifest.json").read_text())
    assert m["rows"] == {"spans": 10, "documents": 5}
    assert m["coverage"] == {"oracle_checked": 10, "sensitive_spans": 10, "ratio": 1.0}
    assert m["meta"] == META and m["totals"] == {"documents": 5}
    assert len(m["parts"]) == 6 and all(len(p["sha256"]) == 64 for p in m["parts"])
    rows = pq.read_table(run / "spans-000002.parquet").to_pylist()
    assert rows[0]["policy_fingerprint"] == "p" * 64 and rows[0]["run_id"] == "run1"
    assert rows[0]["prev_hash"] == pq.read_table(run / "spans-000001.parquet").to_pylist()[-1]["row_hash"]
    assert set(c for c, _, _ in SPAN_COLUMNS) <= set(rows[0])
    assert not verify_run(run, b"wrong key").ok


def test_edited_value(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans-000002.parquet", lambda rows: [rows[0], {**rows[1], "action": "kept"}])
    assert first(verify_run(run, KEY)).startswith("spans row 6 (spans-000002.parquet row 2): row_hash")


def test_edited_value_with_recomputed_hashes(tmp_path):
    # An attacker who recomputes the whole chain still cannot match the signed manifest.
    run = make_run(tmp_path)
    prev = [None]

    def forge(rows):
        rows[0]["action"] = "kept"
        for r in rows:
            r["prev_hash"] = prev[0] or r["prev_hash"]
            r["row_hash"] = prev[0] = _row_hash(r)
        return rows

    rewrite(run / "spans-000001.parquet", forge)
    problems = verify_run(run, KEY).problems
    assert problems[0].startswith("spans row 5 (spans-000002.parquet row 1): prev_hash")


def test_deleted_row(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "documents-000001.parquet", lambda rows: rows[1:])
    assert first(verify_run(run, KEY)).startswith("documents row 1 (documents-000001.parquet row 1): prev_hash")


def test_deleted_last_row(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans-000003.parquet", lambda rows: rows[:-1])
    assert first(verify_run(run, KEY)) == "spans: part spans-000003.parquet differs from the manifest's SHA-256: edited or truncated"
    assert any("9 rows but the manifest records 10" in p and "after row 9" in p for p in verify_run(run, KEY).problems)


def test_swapped_rows(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans-000001.parquet", lambda rows: [rows[1], rows[0], *rows[2:]])
    assert first(verify_run(run, KEY)).startswith("spans row 1 (spans-000001.parquet row 1): prev_hash")


def test_appended_row(tmp_path):
    run = make_run(tmp_path)

    def append(rows):
        extra = {**rows[-1], "doc_path": "forged.txt", "prev_hash": rows[-1]["row_hash"]}
        extra["row_hash"] = _row_hash(extra)  # a well-formed chain link
        return rows + [extra]

    rewrite(run / "documents-000003.parquet", append)
    problems = verify_run(run, KEY).problems
    assert any("documents: 6 rows but the manifest records 5: rows appended after row 5" in p for p in problems)


def test_appended_part(tmp_path):
    run = make_run(tmp_path)
    (run / "documents-000004.parquet").write_bytes((run / "documents-000003.parquet").read_bytes())
    problems = verify_run(run, KEY).problems
    assert problems[0].startswith("documents row 6 (documents-000004.parquet row 1): prev_hash")
    assert "documents: part documents-000004.parquet is not in the manifest: appended" in problems


def test_deleted_part(tmp_path):
    run = make_run(tmp_path)
    (run / "spans-000002.parquet").unlink()
    problems = verify_run(run, KEY).problems
    assert problems[0].startswith("spans row 5 (spans-000003.parquet row 1): prev_hash")
    assert "spans: part spans-000002.parquet listed in the manifest is missing" in problems
    (run / "documents-000003.parquet").unlink()  # the last part: no chain break, manifest catches it
    assert "documents: part documents-000003.parquet listed in the manifest is missing" in verify_run(run, KEY).problems


def test_truncated_part(tmp_path):
    run = make_run(tmp_path)
    path = run / "spans-000003.parquet"
    path.write_bytes(path.read_bytes()[:100])
    assert first(verify_run(run, KEY)).startswith("spans after row 8: part spans-000003.parquet unreadable")


def test_manifest_removed_truncated_or_edited(tmp_path):
    run = make_run(tmp_path)
    manifest = run / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text.replace('"ratio": 1.0', '"ratio": 0.5'))
    assert first(verify_run(run, KEY)) == "manifest.json: signature does not match: manifest edited or wrong key"
    manifest.write_text(text[: len(text) // 2])
    assert first(verify_run(run, KEY)) == "manifest.json unreadable: truncated or corrupt"
    manifest.unlink()
    assert verify_run(run, KEY).problems == [
        "manifest.json missing: the run is incomplete (interrupted) or its manifest was removed"]


# --------------------------------------------------------------------------- crash safety and resume


def test_interrupted_run_keeps_flushed_documents(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META, flush_every=2)
    for d in range(3):
        w.add_document(doc_row(f"d{d}.txt"), [span(f"d{d}.txt", 0)])
    del w  # "crash": the third document was never flushed, there is no manifest
    assert set(completed_documents(tmp_path)) == {"d0.txt", "d1.txt"}
    assert verify_run(tmp_path / "run1", KEY).problems[0].startswith("manifest.json missing")


def test_exception_in_context_flushes_without_manifest(tmp_path):
    with pytest.raises(RuntimeError):
        with AuditWriter(tmp_path, "run1", KEY, META, flush_every=100) as w:
            w.add_document(doc_row("a.txt"), [])
            raise RuntimeError("boom")
    assert set(completed_documents(tmp_path)) == {"a.txt"}
    assert not (tmp_path / "run1" / "manifest.json").exists()


def test_orphan_spans_part_is_ignored(tmp_path):
    # Killed between the spans part and the documents part of a flush.
    make_run(tmp_path, docs=4, close=False)
    (tmp_path / "run1" / "documents-000002.parquet").unlink()
    assert set(completed_documents(tmp_path)) == {"d0.txt", "d1.txt"}
    assert len(verify_run(tmp_path / "run1", KEY).problems) == 1  # only "incomplete"


_KILLED_WRITER = """
import sys
from vault.audit import AuditWriter, keyed_hash
w = AuditWriter(sys.argv[1], "killed", b"k" * 32, {}, flush_every=1)
print("ready", flush=True)
i = 0
while True:
    w.add_document({"doc_path": f"d{i}.txt", "status": "redacted", "output_sha256": "b" * 64},
                   [{"doc_path": f"d{i}.txt", "chunk": 0, "start": 0, "end": 1, "entity_type": "PERSON",
                     "oracle_checked": True, "action": "redacted", "operator": "tag", "reason": "oracle",
                     "value_hmac": keyed_hash(b"k" * 32, str(i))} for _ in range(50)])
    i += 1
"""


def test_kill_9_leaves_a_verifiable_prefix(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run = tmp_path / "killed"
    assert verify_run(run, b"k" * 32).problems == [
        "manifest.json missing: the run is incomplete (interrupted) or its manifest was removed"]
    done = completed_documents(tmp_path)
    assert done and set(done) == {f"d{i}.txt" for i in range(len(done))}
    assert not [p for p in os.listdir(run) if p.endswith(".parquet") and not p.startswith(("spans-", "documents-"))]


def test_completed_documents_latest_output_row(tmp_path):
    w = AuditWriter(tmp_path, "20250101T000000Z-a", KEY, META)
    w.add_document(doc_row("a.txt", output_sha256="1" * 64), [])
    w.add_document(doc_row("b.txt"), [])
    w.close({})
    w = AuditWriter(tmp_path, "20250102T000000Z-b", KEY, META)
    w.add_document(doc_row("a.txt", output_sha256="2" * 64), [])
    w.add_document(doc_row("b.txt", status="failed", error="unreadable: permission denied"), [])
    w.add_document(doc_row("c.txt", status="skipped", error="unsupported file type .png"), [])
    w.close({})
    done = completed_documents(tmp_path)
    assert done["a.txt"]["output_sha256"] == "2" * 64 and done["a.txt"]["run_id"] == "20250102T000000Z-b"
    assert done["b.txt"]["run_id"] == "20250101T000000Z-a"  # a later failure does not shadow it
    assert "c.txt" not in done


# --------------------------------------------------------------------------- guards against raw values


@pytest.mark.parametrize("bad", [
    {"text": "John Smith"},
    {"value_hmac": "John Smith"},
    {"entity_type": "John Smith"},
    {"detectors": ["John Smith"]},
    {"action": "deleted"},
    {"start": "3"},
])
def test_writer_rejects_raw_values_and_bad_rows(tmp_path, bad):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    with pytest.raises((ValueError, TypeError)):
        w.add_document(doc_row("a.txt"), [span("a.txt", 0, **bad)])
    w.add_document(doc_row("a.txt"), [span("a.txt", 0)])  # nothing half-written before
    w.close({})
    assert verify_run(w.run_dir, KEY).ok


_texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_texts, min_size=1, max_size=5))
def test_span_texts_never_reach_audit_files(tmp_path_factory, texts):
    def audit_files(values):
        audit = tmp_path_factory.mktemp("audit")
        w = AuditWriter(audit, "run1", KEY, META)
        w.add_document(doc_row("a.txt"), [span("a.txt", i, value=v) for i, v in enumerate(values)])
        w.close({"documents": 1})
        write_report(w.run_dir, audit / "report.html", KEY)
        return [p.read_bytes() for p in audit.rglob("*") if p.is_file()]

    def forms(t):
        return {t.encode("utf-8"), t.encode("unicode_escape"), json.dumps(t)[1:-1].encode()}

    # A text that occurs in an audit of other values (a column name, a hex run of a hash)
    # proves nothing either way; only texts absent from that control are informative.
    control = audit_files([f"control value {i}" for i in range(len(texts))])
    assume(not any(f in b for t in texts for f in forms(t) for b in control))
    blobs = audit_files(texts)
    for t in texts:
        assert not any(f in b for f in forms(t) for b in blobs), t


# --------------------------------------------------------------------------- report


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.text, self._current = [], set(), {}, None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "section":
            self._current = attrs.get("id")
            self.ids.append(self._current)
            self.text[self._current] = ""
        for name in ("src", "href"):
            assert name not in attrs, "no external assets"

    def handle_endtag(self, tag):
        if tag == "section":
            self._current = None

    def handle_data(self, data):
        if self._current:
            self.text[self._current] += data
