"""The audit store: rows, the signed checkpoints and manifest, compaction, the chain of runs, and every
kind of tampering verify must name."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vault import audit as audit_mod
from vault.audit import (
    SPAN_COLUMNS,
    AuditWriter,
    _row_hash,
    _sign,
    iter_rows,
    keyed_hash,
    repair,
    trusted_outputs,
    verify_audit,
    verify_run,
)
from vault.keys import KeyProblem, resolve_key
from vault.report import write_report

KEY = bytes(range(32))
META = {"policy_fingerprint": "p" * 64, "model_fingerprint": "m" * 64, "models": {"draft": "d1", "oracle": "o1"},
        "input_dir": "/in", "output_dir": "/out"}


def span(doc, i, key=KEY, value=None, **kw):
    row = {
        "doc_path": doc, "field": None, "chunk": 0, "start": 10 * i, "end": 10 * i + 5,
        "entity_type": "PERSON", "detectors": ["oracle"], "draft_proposed": True, "oracle_checked": True,
        "oracle_logprob": -0.01, "oracle_margin": 4.5, "action": "redacted", "operator": "tag",
        "reason": "oracle", "value_hmac": keyed_hash(key, value or f"{doc}-{i}"),
    }
    row.update(kw)
    return row


def doc_row(doc, status="redacted", **kw):
    row = {"doc_path": doc, "input_path_hmac": keyed_hash(KEY, doc), "status": status, "input_sha256": "a" * 64,
           "output_sha256": "b" * 64 if status in ("redacted", "unchanged") else None,
           "chunks": 1, "tokens": 100, "oracle_passes": 7, "accept_rate": 0.9, "seconds": 0.5}
    row.update(kw)
    return row


def make_run(audit_dir, run_id="run1", docs=5, flush_every=2, close=True, key=KEY, meta=META):
    w = AuditWriter(audit_dir, run_id, key, meta, flush_every=flush_every)
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


def resign(path, key):
    """Re-sign a listing with some key (as someone holding that key would)."""
    listing = json.loads(path.read_text())
    listing["signature"] = _sign(key, listing)
    path.write_text(json.dumps(listing))


# --------------------------------------------------------------------------- keys


def test_key_file_created_0600_outside_the_audit(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULT_AUDIT_KEY", raising=False)
    monkeypatch.delenv("VAULT_AUDIT_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with pytest.raises(KeyProblem, match="not found"):
        resolve_key(tmp_path / "audit")  # verify and dry runs never create one
    assert not (tmp_path / "config").exists()
    key = resolve_key(tmp_path / "audit", create=True)
    path = tmp_path / "config" / "vault" / "audit.key"
    assert len(key.key) == 32 and key.source == str(path) and not key.inside_audit and key.warnings() == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_key(tmp_path / "audit").key == key.key  # reused
    assert not (tmp_path / "audit").exists()


def test_key_from_env_file_option_and_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULT_AUDIT_KEY_FILE", raising=False)
    monkeypatch.setenv("VAULT_AUDIT_KEY", "00ff" * 16)
    assert resolve_key(tmp_path).key == bytes.fromhex("00ff" * 16)
    monkeypatch.setenv("VAULT_AUDIT_KEY", "correct horse battery staple, twice over")
    assert resolve_key(tmp_path).key == b"correct horse battery staple, twice over"
    monkeypatch.setenv("VAULT_AUDIT_KEY", "")
    with pytest.raises(KeyProblem, match="set but empty"):
        resolve_key(tmp_path)
    # An old audit's key inside the audit directory still works when pointed to, loudly.
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / ".key").write_text("ab" * 32 + "\n")
    key = resolve_key(tmp_path / "audit", tmp_path / "audit" / ".key")
    assert key.key == bytes.fromhex("ab" * 32) and key.inside_audit and "inside the audit directory" in key.warnings()[0]
    (tmp_path / "corrupt.key").write_text("not a key")
    with pytest.raises(KeyProblem, match="corrupt"):
        resolve_key(tmp_path, tmp_path / "corrupt.key")
    assert "not a key" not in str(pytest.raises(KeyProblem, resolve_key, tmp_path, tmp_path / "corrupt.key").value)
    assert keyed_hash(KEY, "x") != keyed_hash(b"other", "x") and len(keyed_hash(KEY, "x")) == 64


# --------------------------------------------------------------------------- writing and verifying


def test_chain_verifies_and_manifest(tmp_path):
    run = make_run(tmp_path)
    assert verify_run(run, KEY).ok, verify_run(run, KEY).problems
    # One file per table at the end of a run: the three flushes were compacted.
    assert sorted(p.name for p in run.iterdir()) == ["documents.parquet", "manifest.json", "run.json", "spans.parquet"]
    m = json.loads((run / "manifest.json").read_text())
    assert m["rows"] == {"spans": 10, "documents": 5} and m["state"] == "complete"
    assert m["coverage"] == {"oracle_checked": 10, "sensitive_spans": 10, "ratio": 1.0}
    assert m["meta"] == META and m["totals"] == {"documents": 5}
    assert [p["file"] for p in m["parts"]] == ["spans.parquet", "documents.parquet"]
    assert len(m["superseded"]) == 6 and m["seq"] == 1 and m["previous"] is None
    rows = pq.read_table(run / "spans.parquet").to_pylist()
    assert len(rows) == 10 and rows[0]["policy_fingerprint"] == "p" * 64 and rows[0]["run_id"] == "run1"
    assert rows[4]["prev_hash"] == rows[3]["row_hash"]
    assert set(c[0] for c in SPAN_COLUMNS) == set(rows[0])
    # NULL where a value is absent; explicit locations; offsets' base; descriptions in the schema.
    assert rows[0]["field"] is None and rows[0]["field_kind"] == "text" and rows[0]["offset_base"] == "document"
    assert rows[0]["row"] is None and rows[0]["json_path"] is None
    schema = pq.read_schema(run / "documents.parquet")
    assert b"HMAC" in schema.field("input_path_hmac").metadata[b"description"]
    assert all(schema.field(n).metadata.get(b"description") for n in schema.names)
    docs = pq.read_table(run / "documents.parquet").to_pylist()
    assert docs[0]["error"] is None and docs[0]["stage"] is None
    assert not verify_run(run, b"wrong key").ok


def test_edited_value(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans.parquet", lambda rows: [*rows[:5], {**rows[5], "action": "kept"}, *rows[6:]])
    assert first(verify_run(run, KEY)).startswith("spans row 6 (spans.parquet row 6): row_hash")


def test_edited_value_with_recomputed_hashes(tmp_path):
    # An attacker who recomputes the whole chain still cannot match the signed manifest.
    run = make_run(tmp_path)

    def forge(rows):
        rows[0]["action"] = "kept"
        for i, r in enumerate(rows):
            if i:
                r["prev_hash"] = rows[i - 1]["row_hash"]
            r["row_hash"] = _row_hash(r)
        return rows

    rewrite(run / "spans.parquet", forge)
    problems = verify_run(run, KEY).problems
    assert any("the last row was edited or replaced" in p for p in problems)
    assert any("differs from the manifest's SHA-256" in p for p in problems)


@pytest.mark.parametrize("close", [True, False], ids=["closed", "interrupted"])
def test_last_row_edit_is_named(tmp_path, close):
    """The last row is checked like every other: an edit to it is named, row and all, on a closed
    run and on an interrupted one (whose last checkpoint holds it)."""
    run = make_run(tmp_path, close=close, docs=4)
    part = run / ("spans.parquet" if close else "spans-000002.parquet")
    rewrite(part, lambda rows: [*rows[:-1], {**rows[-1], "entity_type": "ID"}])
    n = 8 if close else 4
    assert any(p.startswith(f"spans row 8 ({part.name} row {n}): row_hash does not match") for p in verify_run(run, KEY).problems)
    # ... and with its row_hash recomputed, the chain's end no longer matches the signed head.
    rewrite(part, lambda rows: [*rows[:-1], {**rows[-1], "row_hash": _row_hash(rows[-1])}])
    assert any("spans: the chain ends at row 8" in p for p in verify_run(run, KEY).problems)


def test_deleted_row(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "documents.parquet", lambda rows: rows[1:])
    assert first(verify_run(run, KEY)).startswith("documents row 1 (documents.parquet row 1): prev_hash")


def test_deleted_last_row(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans.parquet", lambda rows: rows[:-1])
    problems = verify_run(run, KEY).problems
    assert "spans: 9 rows but the manifest records 10: rows removed or truncated" in problems
    assert "spans: spans.parquet differs from the manifest's SHA-256: edited or truncated" in problems


def test_swapped_rows(tmp_path):
    run = make_run(tmp_path)
    rewrite(run / "spans.parquet", lambda rows: [rows[1], rows[0], *rows[2:]])
    assert first(verify_run(run, KEY)).startswith("spans row 1 (spans.parquet row 1): prev_hash")


def test_appended_row(tmp_path):
    run = make_run(tmp_path)

    def append(rows):
        extra = {**rows[-1], "doc_path": "forged.txt", "prev_hash": rows[-1]["row_hash"]}
        extra["row_hash"] = _row_hash(extra)  # a well-formed chain link
        return rows + [extra]

    rewrite(run / "documents.parquet", append)
    problems = verify_run(run, KEY).problems
    assert "documents: 6 rows but the manifest records 5: rows appended" in problems


def test_appended_part_and_forged_unsigned_rows(tmp_path):
    run = make_run(tmp_path)
    shutil.copy(run / "documents.parquet", run / "documents-000009.parquet")
    assert "documents-000009.parquet is not in the manifest: appended or forged (unsigned rows)" in verify_run(run, KEY).problems


def test_truncated_part(tmp_path):
    run = make_run(tmp_path)
    path = run / "spans.parquet"
    path.write_bytes(path.read_bytes()[:100])
    assert first(verify_run(run, KEY)).startswith("spans after row 0: spans.parquet unreadable")


def test_manifest_edited_truncated_resigned_or_stripped(tmp_path):
    make_run(tmp_path, "run1")
    run2 = make_run(tmp_path, "run2")
    manifest = run2 / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text.replace('"ratio": 1.0', '"ratio": 0.5'))
    assert first(verify_run(run2, KEY)) == "manifest.json: signature does not match: edited, or forged without the key"
    manifest.write_text(text[: len(text) // 2])
    assert "manifest.json unreadable: truncated or corrupt" in verify_run(run2, KEY).problems
    manifest.write_text(text)
    resign(manifest, b"another key")
    assert "manifest.json: signature does not match: edited, or forged without the key" in verify_run(run2, KEY).problems
    manifest.write_text(text)
    # Stripped: the rows fall back to the last checkpoint, whose parts were compacted away.
    run1_manifest = tmp_path / "run1" / "manifest.json"
    run1_manifest.unlink()
    check = verify_audit(tmp_path, KEY)
    assert any(p.startswith("run1: ") and "is missing" in p for p in check.problems)
    assert "run2: links the manifest.json of run run1, which is gone: stripped or deleted" in check.problems


def test_missing_signature_or_rows_are_not_evidence(tmp_path):
    # The forged run of the issue: one documents row, no key, no manifest, no checkpoint.
    forged = tmp_path / "20990101T000000000000Z-forged"
    forged.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([doc_row("d0.txt", run_id=forged.name, prev_hash="0" * 64, row_hash="1" * 64)]),
                   forged / "documents-000001.parquet")
    assert "nothing signed vouches" in first(verify_run(forged, KEY))
    evidence = trusted_outputs(tmp_path, KEY, "/in", "/out")
    assert evidence.rows == {} and [name for name, _ in evidence.ignored] == [forged.name]


# --------------------------------------------------------------------------- the chain of runs


def test_chain_of_runs_deleted_reordered_foreign(tmp_path):
    for i in range(1, 4):
        make_run(tmp_path / "a", f"run{i}")
    check = verify_audit(tmp_path / "a", KEY)
    assert check.ok and check.trusted == ["run1", "run2", "run3"], check.problems
    runs = [json.loads((tmp_path / "a" / f"run{i}" / "run.json").read_text()) for i in (1, 2, 3)]
    assert [r["seq"] for r in runs] == [1, 2, 3] and runs[2]["previous"]["run_id"] == "run2"
    # A whole run folder deleted, in the middle or at the end.
    for name, expect in (("run2", "run #2 (run2) is missing: its folder was deleted (run run3 links it)"),
                         ("run3", "HEAD.json names run #3 (run3), which is missing: deleted")):
        copy = tmp_path / f"del-{name}"
        shutil.copytree(tmp_path / "a", copy)
        shutil.rmtree(copy / name)
        assert expect in verify_audit(copy, KEY).problems
    # Reordered: two folders' names swapped.
    swapped = tmp_path / "swapped"
    shutil.copytree(tmp_path / "a", swapped)
    os.rename(swapped / "run1", swapped / "tmp")
    os.rename(swapped / "run2", swapped / "run1")
    os.rename(swapped / "tmp", swapped / "run2")
    assert any("holds run 'run2': renamed or copied" in p for p in verify_audit(swapped, KEY).problems)
    # Foreign: a run folder copied in from another audit directory (same key).
    make_run(tmp_path / "b", "other")
    shutil.copytree(tmp_path / "b" / "other", tmp_path / "a" / "other")
    check = verify_audit(tmp_path / "a", KEY)
    assert any(p.startswith("other: a run of another audit directory") for p in check.problems)
    assert "other" not in check.trusted


def test_interrupted_then_resumed_chain_verifies(tmp_path):
    make_run(tmp_path, "run1", close=False)
    make_run(tmp_path, "run2")
    check = verify_audit(tmp_path, KEY)
    assert check.ok and check.trusted == ["run1", "run2"], check.problems
    assert any("run1: interrupted" in n for n in check.notes)
    assert json.loads((tmp_path / "run2" / "run.json").read_text())["previous"]["file"] == "run.json"


# --------------------------------------------------------------------------- crash safety and resume


def test_interrupted_run_keeps_committed_documents(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META, flush_every=2)
    for d in range(3):
        w.add_document(doc_row(f"d{d}.txt"), [span(f"d{d}.txt", 0)])
    del w  # "crash": the third document was never flushed, there is no manifest
    rows = trusted_outputs(tmp_path, KEY, "/in", "/out").rows
    assert {r["doc_path"] for r in rows.values()} == {"d0.txt", "d1.txt"}
    assert verify_run(tmp_path / "run1", KEY).ok  # interrupted is not tampered: a note
    # Only runs bound to the same input and output directories vouch for outputs.
    assert trusted_outputs(tmp_path, KEY, "/in", "/elsewhere").rows == {}


def test_exception_in_context_flushes_without_manifest(tmp_path):
    with pytest.raises(RuntimeError):
        with AuditWriter(tmp_path, "run1", KEY, META, flush_every=100) as w:
            w.add_document(doc_row("a.txt"), [])
            raise RuntimeError("boom")
    assert [r["doc_path"] for r in trusted_outputs(tmp_path, KEY, "/in", "/out").rows.values()] == ["a.txt"]
    assert not (tmp_path / "run1" / "manifest.json").exists()


@pytest.mark.parametrize("crash_at", range(1, 12))
def test_a_crash_at_any_rename_of_a_flush_or_the_compaction_leaves_a_verifiable_audit(tmp_path, monkeypatch, crash_at):
    """Killed at the n-th rename (pending part, checkpoint, compacted file, manifest, ...): what is on
    disk verifies, vouches only for committed documents, and the next run's repair finishes the rest."""
    calls = [0]
    real = os.replace

    def crashing(a, b):
        calls[0] += 1
        if calls[0] == crash_at:
            raise KeyboardInterrupt("killed")
        return real(a, b)

    monkeypatch.setattr(os, "replace", crashing)
    monkeypatch.setattr(audit_mod.os, "replace", crashing)
    try:
        make_run(tmp_path, "run1", docs=3)
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(os, "replace", real)
    monkeypatch.setattr(audit_mod.os, "replace", real)
    if not (tmp_path / "run1").exists():
        return  # killed before the run folder got its signed run.json: nothing to verify
    check = verify_audit(tmp_path, KEY)
    assert not [p for p in check.problems if "HEAD" not in p], check.problems
    done = {r["doc_path"] for r in trusted_outputs(tmp_path, KEY, "/in", "/out").rows.values()}
    assert done <= {"d0.txt", "d1.txt", "d2.txt"}
    repair(tmp_path, KEY)
    assert not list((tmp_path / "run1").glob("*.pending"))
    assert verify_run(tmp_path / "run1", KEY).ok
    assert {r["doc_path"] for r in trusted_outputs(tmp_path, KEY, "/in", "/out").rows.values()} == done


@pytest.mark.parametrize("runs_before", [0, 1])
def test_a_kill_between_a_runs_start_and_head_leaves_a_clean_chain(tmp_path, monkeypatch, runs_before):
    """Killed after the run folder got its signed run.json but before HEAD.json named it: the next run
    links the killed one, and the chain verifies."""
    for i in range(runs_before):
        make_run(tmp_path, f"run{i}")
    real = audit_mod.write_atomic

    def killed_at_head(path, data, mode=0o644):
        if Path(path).name == "HEAD.json":
            raise KeyboardInterrupt("killed")
        return real(path, data, mode)

    monkeypatch.setattr(audit_mod, "write_atomic", killed_at_head)
    with pytest.raises(KeyboardInterrupt):
        make_run(tmp_path, "killed")
    monkeypatch.setattr(audit_mod, "write_atomic", real)
    assert verify_audit(tmp_path, KEY).ok, verify_audit(tmp_path, KEY).problems
    make_run(tmp_path, "next")
    check = verify_audit(tmp_path, KEY)
    assert check.ok, check.problems
    assert json.loads((tmp_path / "next" / "run.json").read_text())["seq"] == runs_before + 2


_KILLED_WRITER = """
import sys
from vault.audit import AuditWriter, keyed_hash
w = AuditWriter(sys.argv[1], "killed", b"k" * 32, {"input_dir": "/in", "output_dir": "/out"}, flush_every=1)
print("ready", flush=True)
i = 0
while True:
    w.add_document({"doc_path": f"d{i}.txt", "input_path_hmac": keyed_hash(b"k" * 32, f"d{i}.txt"),
                    "status": "redacted", "output_sha256": "b" * 64},
                   [{"doc_path": f"d{i}.txt", "chunk": 0, "start": 0, "end": 1, "entity_type": "PERSON",
                     "oracle_checked": True, "action": "redacted", "operator": "tag", "reason": "oracle",
                     "value_hmac": keyed_hash(b"k" * 32, str(i))} for _ in range(50)])
    i += 1
"""


def test_kill_9_leaves_a_verifiable_prefix(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[1])
    assert proc.stdout.readline().strip() == b"ready"
    deadline = time.time() + 30
    while time.time() < deadline and not (tmp_path / "killed" / "documents-000003.parquet").exists():
        time.sleep(0.01)
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    check = verify_audit(tmp_path, b"k" * 32)
    assert check.ok, check.problems
    done = trusted_outputs(tmp_path, b"k" * 32, "/in", "/out").rows
    assert done and {r["doc_path"] for r in done.values()} == {f"d{i}.txt" for i in range(len(done))}


def test_trusted_outputs_latest_output_row(tmp_path):
    w = AuditWriter(tmp_path, "20250101T000000Z-a", KEY, META)
    w.add_document(doc_row("a.txt", output_sha256="1" * 64), [])
    w.add_document(doc_row("b.txt"), [])
    w.close({})
    w = AuditWriter(tmp_path, "20250102T000000Z-b", KEY, META)
    w.add_document(doc_row("a.txt", output_sha256="2" * 64), [])
    w.add_document(doc_row("b.txt", status="failed", error="unreadable: permission denied"), [])
    w.add_document(doc_row("c.txt", status="skipped", error="unsupported file type .png"), [])
    w.close({})
    done = {r["doc_path"]: r for r in trusted_outputs(tmp_path, KEY, "/in", "/out").rows.values()}
    assert done["a.txt"]["output_sha256"] == "2" * 64 and done["a.txt"]["run_id"] == "20250102T000000Z-b"
    assert done["b.txt"]["run_id"] == "20250101T000000Z-a"  # a later failure does not shadow it
    assert "c.txt" not in done


@pytest.mark.parametrize("attack", ["edit row", "delete row", "swap rows", "append row", "truncate", "edit manifest",
                                    "strip manifest", "resign other key", "copy in", "unsigned part"])
def test_no_tampering_makes_a_row_trusted(tmp_path, attack):
    make_run(tmp_path / "audit", "run1", docs=2)
    run = tmp_path / "audit" / "run1"
    if attack == "edit row":
        rewrite(run / "documents.parquet", lambda rows: [{**rows[0], "output_sha256": "f" * 64}, *rows[1:]])
    elif attack == "delete row":
        rewrite(run / "documents.parquet", lambda rows: rows[1:])
    elif attack == "swap rows":
        rewrite(run / "documents.parquet", lambda rows: rows[::-1])
    elif attack == "append row":
        rewrite(run / "documents.parquet", lambda rows: rows + [{**rows[-1], "prev_hash": rows[-1]["row_hash"]}])
    elif attack == "truncate":
        (run / "documents.parquet").write_bytes((run / "documents.parquet").read_bytes()[:200])
    elif attack == "edit manifest":
        (run / "manifest.json").write_text((run / "manifest.json").read_text().replace('"seq": 1', '"seq": 2'))
    elif attack == "strip manifest":
        (run / "manifest.json").unlink()
    elif attack == "resign other key":
        resign(run / "manifest.json", b"x" * 32)
        resign(run / "run.json", b"x" * 32)
    elif attack == "copy in":
        make_run(tmp_path / "other", "run2", docs=2)
        shutil.rmtree(run)
        shutil.copytree(tmp_path / "other" / "run2", tmp_path / "audit" / "run2")
    else:
        (run / "manifest.json").unlink()
        (run / "run.json").unlink()
    evidence = trusted_outputs(tmp_path / "audit", KEY, "/in", "/out")
    assert evidence.rows == {} and evidence.ignored
    assert not verify_audit(tmp_path / "audit", KEY).ok


def test_legacy_format_1_runs_still_verify(tmp_path):
    """A run written by the first audit format (numbered parts, .key in the audit directory)."""
    run = tmp_path / "old"
    run.mkdir()
    rows = []
    prev = audit_mod._genesis("old", "documents", audit_mod.LEGACY_FORMAT)
    for d in range(2):
        row = {"run_id": "old", "doc_path": f"d{d}.txt", "status": "redacted", "error": "", "input_sha256": "a" * 64,
               "output_sha256": "b" * 64, "policy_fingerprint": "p", "model_fingerprint": "m", "chunks": 1,
               "tokens": 1, "oracle_passes": 1, "accept_rate": None, "seconds": 0.1, "prev_hash": prev}
        row["row_hash"] = prev = _row_hash(row)
        rows.append(row)
    pq.write_table(pa.Table.from_pylist(rows), run / "documents-000001.parquet")
    data = (run / "documents-000001.parquet").read_bytes()
    import hashlib

    manifest = {"format": audit_mod.LEGACY_FORMAT, "run_id": "old", "started_at": "2025",
                "parts": [{"file": "documents-000001.parquet", "table": "documents", "rows": 2,
                           "sha256": hashlib.sha256(data).hexdigest()}],
                "rows": {"spans": 0, "documents": 2},
                "chain": {"heads": {"spans": audit_mod._genesis("old", "spans", audit_mod.LEGACY_FORMAT), "documents": prev}},
                "key_id": audit_mod._key_id(KEY)}
    manifest["signature"] = _sign(KEY, manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))
    result = verify_run(run, KEY)
    assert result.ok and "format 1" in result.notes[0], result.problems
    assert trusted_outputs(tmp_path, KEY, "/in", "/out").rows == {}  # never used for skipping
    rewrite(run / "documents-000001.parquet", lambda rs: [{**rs[0], "status": "failed"}, rs[1]])
    assert "row_hash does not match" in first(verify_run(run, KEY))
    make_run(tmp_path, "new")  # the first format-2 run links the latest old one
    assert json.loads((tmp_path / "new" / "run.json").read_text())["previous"]["run_id"] == "old"


# --------------------------------------------------------------------------- guards against raw values


@pytest.mark.parametrize("bad", [
    {"text": "John Smith"},
    {"value_hmac": "John Smith"},
    {"entity_type": "John Smith"},
    {"detectors": ["John Smith"]},
    {"action": "deleted"},
    {"start": "3"},
    {"field_kind": "John Smith"},
])
def test_writer_rejects_raw_values_and_bad_rows(tmp_path, bad):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    with pytest.raises((ValueError, TypeError)):
        w.add_document(doc_row("a.txt"), [span("a.txt", 0, **bad)])
    with pytest.raises(ValueError):
        w.add_document(doc_row("a.txt", input_path_hmac="Anna Berg.txt"), [])
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

