"""vault.soak: the judge of a kill -9 trial (`_check`) must pass a run that finished cleanly and name each way
one can go wrong; the trials themselves run real processes for minutes (`vault bench soak`) and are not run here."""

import json

import pytest

from vault import soak
from vault.pipeline import RunOptions, run
from vault.policy import load_policy

KEY = bytes(range(32))


@pytest.fixture
def finished(tmp_path, silent_pair):
    """soak's input tree redacted once, in this process: (output, audit, the outputs' bytes, exit code)."""
    soak._tree(tmp_path / "in", 4)
    (tmp_path / "audit.key").write_text(KEY.hex() + "\n")
    (tmp_path / "audit.key").chmod(0o600)
    opts = RunOptions(tmp_path / "in", tmp_path / "out", load_policy("default"), tmp_path / "audit",
                      key_file=tmp_path / "audit.key")
    summary = run(opts, log=lambda m: None, pair=silent_pair)
    return tmp_path / "out", tmp_path / "audit", soak._outputs(tmp_path / "out"), summary.exit_code, opts


def test_the_tree_has_a_document_that_always_fails(tmp_path):
    soak._tree(tmp_path, 4)
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert names == ["batch0/note000.txt", "batch0/note003.txt", "batch1/note001.txt", "batch2/note002.txt",
                     "broken.json", "records.csv"]
    assert (tmp_path / "broken.json").read_text() == "{"  # exit code 1 however a trial ends
    assert soak.VALUES[0] in (tmp_path / "batch0" / "note000.txt").read_text()


def test_a_clean_resume_passes(finished):
    out, audit, expected, code, _ = finished
    assert code == 1 and "broken.json" not in expected and len(expected) == 5
    assert soak._check(out, audit, KEY, expected, code, code, b'{"exit_code": 1}') == []


def test_each_way_a_trial_can_go_wrong_is_named(finished):
    out, audit, expected, code, _ = finished
    (out / "batch0" / "note000.txt").unlink()
    (out / "records.csv").write_text("name,email\nAnna Berg,anna@example.org\n")
    (out / "batch1" / ".vault-x.vault-tmp").write_text("partial")  # what a killed write leaves
    problems = soak._check(out, audit, KEY, expected, code, 0, b"Traceback")
    assert problems[:4] == [
        "resume exited 0, an uninterrupted run 1", "resume did not print one JSON line",
        "outputs differ: missing ['batch0/note000.txt'], extra ['batch1/.vault-x.vault-tmp']",
        "records.csv: content differs from an uninterrupted run"]
    assert problems[4:] == []  # the audit still verifies


def test_an_audit_that_fails_verification_is_named(finished):
    out, audit, expected, code, _ = finished
    (run_dir,) = [p for p in audit.iterdir() if p.is_dir()]
    manifest = run_dir / "manifest.json"
    body = json.loads(manifest.read_text())
    body["totals"] = {"documents": 0}  # edited after signing
    manifest.write_text(json.dumps(body))
    assert any(p.startswith("audit: ") for p in soak._check(out, audit, KEY, expected, code, code, b"{}"))


def test_a_document_redacted_twice_in_the_verified_audit_is_named(finished, silent_pair):
    out, audit, expected, code, opts = finished
    opts.force = True
    run(opts, log=lambda m: None, pair=silent_pair)
    assert soak._check(out, audit, KEY, expected, code, code, b"{}") == ["a document was redacted twice in the verified audit"]
