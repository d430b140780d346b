"""The per-batch step (Redactor) and the local loop's guarantees: fail closed, hold, overrides, no raw values."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import errno
import os
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from vault import documents, pipeline
from vault.audit import iter_rows, keyed_hash, verify_audit
from vault.models import load_pair
from vault.pipeline import Redactor, RunOptions, UsageError, run
from vault.policy import Policy, load_policy
from vault.render import Pseudonymizer

KEY = b"k" * 32


@pytest.fixture(scope="module")
def pair(tiny_pair_dirs):
    return load_pair(tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"])


@pytest.fixture(scope="module")
def redactor(pair):
    return Redactor(*pair, load_policy("strict"), KEY)


values = st.sampled_from(["mia.berg@example.com", "+44 20 7946 0958", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
                          "10.20.30.40", "536-22-8410"])
fillers = st.text(alphabet=st.sampled_from("abcdefgh ,.\n"), max_size=60)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.tuples(fillers, values), min_size=1, max_size=4))
def test_must_redact_values_never_reach_output_or_audit_rows(redactor, parts):
    text = "".join(f"{f} {v} " for f, v in parts)
    (res,) = redactor.redact([text], [Pseudonymizer(KEY)])
    assert res.verified
    rows = json.dumps(res.span_rows)
    for _, v in parts:
        assert v not in res.redacted
        assert v not in rows
    # Every span row carries the keyed hash of its text and names the oracle's check.
    for row in res.span_rows:
        assert row["value_hmac"] == keyed_hash(KEY, text[row["start"] : row["end"]])
        assert row["oracle_checked"] is True


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(context=st.sampled_from(["", "email", "contact: phone", "mia.berg@example.com"]), parts=st.lists(st.tuples(fillers, values), min_size=1, max_size=3))
def test_a_context_is_read_but_only_the_text_is_redacted(redactor, context, parts):
    text = "".join(f"{f} {v} " for f, v in parts)
    (res,) = redactor.redact([text], [Pseudonymizer(KEY)], [context])
    assert res.verified
    for _, v in parts:
        assert v not in res.redacted
    # Spans are in the text's own coordinates, inside it, whatever the context said.
    for row in res.span_rows:
        assert 0 <= row["start"] < row["end"] <= len(text)
        assert row["value_hmac"] == keyed_hash(KEY, text[row["start"] : row["end"]])
    # Outside the redacted spans the text is unchanged (the context is never written).
    redacted = sorted((r["start"], r["end"]) for r in res.span_rows if r["action"] == "redacted")
    pos, kept = 0, []
    for a, b in redacted:
        kept.append(text[pos:a])
        pos = max(pos, b)
    kept.append(text[pos:])
    rest = res.redacted
    for piece in kept:
        assert piece in rest
        rest = rest[rest.index(piece) + len(piece):]


def named_policy():
    """PERSON found only after "Name: ", so a repeat elsewhere is caught by consistency alone."""
    from vault.policy import Policy

    return Policy.model_validate({
        "name": "t", "entities": {"PERSON": {}},
        "recognizers": [{"name": "Named", "supported_entity": "PERSON",
                         "patterns": [{"name": "after Name:", "regex": r"(?<=Name: )[A-Z][a-z]+ [A-Z][a-z]+", "score": 0.9}]}],
        "must_redact": ["Named"],
    })


def test_a_value_redacted_in_one_field_is_redacted_where_it_repeats_in_the_same_file(pair):
    policy = named_policy()
    redactor = Redactor(*pair, policy, KEY)
    texts = ["Name: Anna Berg", "ask Berg about it", "ask Berg about it"]
    results = redactor.redact(texts, [Pseudonymizer(KEY) for _ in texts], documents=[0, 0, 1])
    spread = [[(t[r["start"]:r["end"]], r["action"]) for r in res.span_rows if r["reason"] == "consistency"]
              for t, res in zip(texts, results)]
    # The same file only. (The random test oracle may tag a word beside the repeat with a type the policy
    # keeps; the union of both is then redacted.)
    assert [[(t.split()[0] if t.startswith("Berg") else t, a) for t, a in rows] for rows in spread] == \
        [[], [("Berg", "redacted")], []]
    assert "Berg" not in results[1].redacted
    off = Redactor(*pair, policy.model_copy(update={"redact_repeats": False}), KEY)
    results = off.redact(texts, [Pseudonymizer(KEY) for _ in texts], documents=[0, 0, 1])
    assert not any(r["reason"] == "consistency" for res in results for r in res.span_rows)


def test_batch_of_many_texts_matches_one_by_one(redactor):
    texts = ["Call 555-0134 now.", "", "Plain words only.", "Mail a@b.example or c@d.example please. " * 30]
    together = redactor.redact(texts, [Pseudonymizer(KEY) for _ in texts])
    alone = [redactor.redact([t], [Pseudonymizer(KEY)])[0] for t in texts]
    assert [r.redacted for r in together] == [r.redacted for r in alone]
    assert together[1].redacted == "" and together[1].chunks == 0


PLANTED = {"email": "mia.berg@example.com", "phone": "+44 20 7946 0958", "card": "4111 1111 1111 1111",
           "iban": "DE89 3704 0044 0532 0130 00", "ip": "10.20.30.40", "ssn": "536-22-8410"}


def plain_policy(**update):
    """What every shipped policy redacts of the validated formats; the test oracles' QUANTITY is kept."""
    data = {"name": "t", "defaults": {"threshold": 0.3},
            "entities": {t: {} for t in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
                                         "IP_ADDRESS", "US_SSN")}}
    data.update(update)
    return Policy.model_validate(data)


def tree(root: Path, n: int = 3) -> list[str]:
    names = []
    for i in range(n):
        rel = f"dir{i % 2}/note{i}.txt"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"Note {i}. Write to {PLANTED['email']}, call {PLANTED['phone']}; card {PLANTED['card']}, "
                                f"IBAN {PLANTED['iban']}, from {PLANTED['ip']}, SSN {PLANTED['ssn']}.\n")
        names.append(rel)
    (root / "table.csv").write_text(f"who,contact\nA,{PLANTED['email']}\nB,{PLANTED['ssn']}\n")
    (root / "records.json").write_text(json.dumps({"phone": PLANTED["phone"], "n": [PLANTED["ip"]]}))
    return names + ["table.csv", "records.json"]


def opts(tmp_path, policy, **kw):
    return RunOptions(tmp_path / "in", tmp_path / "out", policy, tmp_path / "audit", **kw)


def all_bytes(folder: Path) -> bytes:
    return b"\n".join(p.read_bytes() + str(p).encode() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("oracle", ["silent", "wrong"])
def test_recognizer_hits_are_redacted_whatever_the_oracle_says(tmp_path, request, oracle):
    """An oracle that tags nothing, and one that tags everything as a type the policy keeps: every
    recognizer hit of a policy type is still redacted (reason "recognizer"), and no value reaches an
    output, a path or the audit."""
    (tmp_path / "in").mkdir()
    names = tree(tmp_path / "in")
    pair = request.getfixturevalue(f"{oracle}_pair")
    summary = run(opts(tmp_path, plain_policy(redact_file_names=False)), pair=pair)
    assert summary.counts["redacted"] == len(names) and summary.exit_code == 0, summary.problems
    out = all_bytes(tmp_path / "out") + all_bytes(tmp_path / "audit")
    for value in PLANTED.values():
        assert value.encode() not in out, value
    spans = [r for run_dir in (tmp_path / "audit").iterdir() if run_dir.is_dir() for r in iter_rows(run_dir, "spans")]
    redacted = [r for r in spans if r["action"] == "redacted"]
    assert redacted and all(r["reason"] == "recognizer" for r in redacted)
    assert {r["field_kind"] for r in redacted} == {"text", "csv", "json"}
    assert all(r["offset_base"] == ("document" if r["field_kind"] == "text" else "value") for r in redacted)
    assert {(r["row"], r["column"]) for r in redacted if r["field_kind"] == "csv"} == {(2, 2), (3, 2)}
    if oracle == "wrong":  # the oracle's QUANTITY spans are kept (not in policy), never the hits they overlap
        assert any(r["reason"] == "not in policy" for r in spans)


def test_hold_keeps_the_document_out_of_the_output(tmp_path, silent_pair):
    (tmp_path / "in").mkdir()
    # A project codename from the example policy's deny list (a must-redact recognizer); the silent oracle
    # does not confirm it, so under on_disagreement: hold the document is held, never written.
    (tmp_path / "in" / "memo.txt").write_text("Status of project Nightjar: on track.")
    (tmp_path / "in" / "plain.txt").write_text("Nothing to see here.")
    policy = load_policy("example-custom").model_copy(update={"redact_file_names": False})
    summary = run(opts(tmp_path, policy), pair=silent_pair)
    assert summary.counts["held"] == 1 and summary.counts["redacted"] == 1 and summary.exit_code == 1
    assert not (tmp_path / "out" / "memo.txt").exists() and (tmp_path / "out" / "plain.txt").exists()
    assert summary.problems == [{"file": "memo.txt", "stage": "hold",
                                 "reason": "held for review: a must-redact recognizer and the oracle disagree"}]


def test_a_chunk_the_oracle_did_not_finish_fails_the_document_closed(tmp_path, tiny_pair_dirs, monkeypatch):
    from vault import speculate

    original = speculate.Engine.run

    def broken(self, sources, **kwargs):
        results = original(self, sources, **kwargs)
        results[0].output = results[0].output[:-2]  # as if verification stopped early
        return results

    monkeypatch.setattr(speculate.Engine, "run", broken)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Mail mia.berg@example.com today.")
    summary = run(opts(tmp_path, load_policy("strict").model_copy(update={"redact_file_names": False}),
                       draft_dir=tiny_pair_dirs["draft"], oracle_dir=tiny_pair_dirs["oracle"]))
    assert summary.counts["failed"] == 1 and summary.exit_code == 1
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert summary.problems[0]["stage"] == "verify" and "not fully verified" in summary.problems[0]["reason"]


def test_one_bad_document_fails_alone_and_the_batch_is_retried(tmp_path, silent_pair, monkeypatch):
    """An exception inside the per-batch step for one document (here: the detector) fails that document,
    with its stage, and no other: the batch is retried document by document."""
    from presidio_analyzer import AnalyzerEngine

    original = AnalyzerEngine.analyze

    def analyze(self, text, *args, **kwargs):  # called from vault.detect: the stage is "detect"
        if "POISON" in text:
            raise RuntimeError("a value must never be quoted: POISON")
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(AnalyzerEngine, "analyze", analyze)
    (tmp_path / "in").mkdir()
    for i in range(6):
        (tmp_path / "in" / f"d{i}.txt").write_text(("POISON " if i == 3 else "") + f"Mail {PLANTED['email']} now.")
    summary = run(opts(tmp_path, plain_policy(redact_file_names=False)), pair=silent_pair)
    assert summary.counts == {"redacted": 5, "unchanged": 0, "skipped": 0, "failed": 1, "held": 0}
    assert summary.problems == [{"file": "d3.txt", "stage": "detect", "reason": "redaction failed: RuntimeError"}]
    assert not (tmp_path / "out" / "d3.txt").exists()
    assert "POISON" not in json.dumps(summary.as_dict())


def test_file_names_are_redacted_and_the_tree_keeps_its_shape(tmp_path, silent_pair):
    (tmp_path / "in" / f"client {PLANTED['ssn']}").mkdir(parents=True)
    (tmp_path / "in" / f"client {PLANTED['ssn']}" / f"mail {PLANTED['email']}.txt").write_text("hello")
    (tmp_path / "in" / f"client {PLANTED['ssn']}" / "plain.txt").write_text("hello")
    (tmp_path / "in" / "bad.json").write_text("{")
    (tmp_path / "in" / f"{PLANTED['phone']}.png").write_bytes(b"\x89PNG")
    summary = run(opts(tmp_path, plain_policy()), pair=silent_pair)
    outputs = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert len(outputs) == 2 and len({Path(o).parent for o in outputs}) == 1  # one folder, as in the input
    folder = Path(outputs[0]).parent.name
    assert folder.startswith("client <US_SSN>~") and "plain.txt" in [Path(o).name for o in outputs]
    assert any(Path(o).name.startswith("mail <EMAIL_ADDRESS>~") and o.endswith(".txt") for o in outputs)
    printed = json.dumps(summary.as_dict())
    everything = all_bytes(tmp_path / "out") + all_bytes(tmp_path / "audit") + printed.encode()
    for value in PLANTED.values():
        assert value.encode() not in everything, value
    docs = [r for d in (tmp_path / "audit").iterdir() if d.is_dir() for r in iter_rows(d, "documents")]
    assert all(r["input_path_hmac"] and len(r["input_path_hmac"]) == 64 for r in docs)
    assert {r["status"] for r in docs} == {"redacted", "failed", "skipped"}
    # Stable names: a rerun finds its outputs where it left them.
    again = run(opts(tmp_path, plain_policy()), pair=silent_pair)
    assert again.counts["unchanged"] == 2 and again.counts["redacted"] == 0


def _rerun(tmp_path, pair, policy, **kw):
    return run(opts(tmp_path, policy, **kw), pair=pair)


def test_reruns_redo_what_changed_and_only_that(tmp_path, silent_pair, wrong_pair, monkeypatch):
    (tmp_path / "in").mkdir()
    names = tree(tmp_path / "in")
    policy = plain_policy(redact_file_names=False)
    assert _rerun(tmp_path, silent_pair, policy).counts["redacted"] == len(names)
    nothing = _rerun(tmp_path, silent_pair, policy)
    assert nothing.noop and nothing.counts["unchanged"] == len(names) and nothing.audit_run == ""
    runs_before = sorted(p.name for p in (tmp_path / "audit").iterdir())
    # An output deleted, and one edited (same size): both redone; the rest unchanged.
    (tmp_path / "out" / names[0]).unlink()
    edited = tmp_path / "out" / names[1]
    edited.write_bytes(edited.read_bytes().replace(b"Note", b"NOTE"))
    summary = _rerun(tmp_path, silent_pair, policy)
    assert summary.counts["redacted"] == 2 and summary.counts["unchanged"] == len(names) - 2
    assert b"NOTE" not in edited.read_bytes()
    assert len(sorted(p.name for p in (tmp_path / "audit").iterdir())) == len(runs_before) + 1
    # Another policy, another model: everything redone.
    other = policy.model_copy(update={"redact_repeats": False})
    assert _rerun(tmp_path, silent_pair, other).counts["redacted"] == len(names)
    monkeypatch.setattr(pipeline, "model_fingerprint", lambda d, o: pipeline.Fingerprints("d", "o", "another model"))
    assert _rerun(tmp_path, silent_pair, other).counts["redacted"] == len(names)
    assert verify_audit(tmp_path / "audit", _key(tmp_path)).ok


def _key(tmp_path):
    from vault.keys import resolve_key

    return resolve_key(tmp_path / "audit").key


def test_a_forged_audit_row_never_makes_a_raw_file_pass(tmp_path, silent_pair):
    """The attack of the issue: the raw input copied over its output, and a run folder with one forged
    documents row vouching for it (real fingerprints, output_sha256 of the raw file). The next run
    refuses to append to the broken audit; accepted with a reason, it ignores the forged run (and says
    so) and redacts the document again."""
    import hashlib

    import pyarrow as pa

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"SSN {PLANTED['ssn']}.")
    policy = plain_policy(redact_file_names=False)
    first = _rerun(tmp_path, silent_pair, policy)
    row = next(iter_rows(first.audit_run, "documents"))
    raw = (tmp_path / "in" / "a.txt").read_bytes()
    (tmp_path / "out" / "a.txt").write_bytes(raw)
    forged = tmp_path / "audit" / "29990101T000000000000Z-forged"
    forged.mkdir()
    pq.write_table(pa.Table.from_pylist([dict(row, run_id=forged.name, output_sha256=hashlib.sha256(raw).hexdigest())]),
                   forged / "documents.parquet")
    before = all_bytes(tmp_path / "audit")
    refused = _rerun(tmp_path, silent_pair, policy)
    assert refused.exit_code == 1 and refused.stopped and "--accept-broken-audit" in refused.stopped
    assert sum(refused.counts.values()) == 0 and any(forged.name in p["reason"] for p in refused.problems)
    assert all_bytes(tmp_path / "audit") == before
    summary = _rerun(tmp_path, silent_pair, policy, accept_broken_audit="forged folder kept for the inquiry")
    assert summary.counts["redacted"] == 1 and PLANTED["ssn"] not in (tmp_path / "out" / "a.txt").read_text()
    assert any(p["stage"] == "audit" and forged.name in p["file"] for p in summary.problems)
    assert summary.exit_code == 1  # a tampered audit needs someone to look
    check = verify_audit(tmp_path / "audit", _key(tmp_path))
    assert any("accepted by the operator: forged folder kept for the inquiry" in n for n in check.notes)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_disk_full_stops_the_run_closed_with_a_verifiable_audit(tmp_path, silent_pair, monkeypatch, code):
    (tmp_path / "in").mkdir()
    for i in range(5):
        (tmp_path / "in" / f"d{i}.txt").write_text(f"Mail {PLANTED['email']}.")
    real = documents.write_atomic
    calls = [0]

    def full(path, data, mode=0o644):
        calls[0] += 1
        if calls[0] == 3 and str(path).startswith(str(tmp_path / "out")):
            raise OSError(code, os.strerror(code))
        return real(path, data, mode)

    monkeypatch.setattr(pipeline, "write_atomic", full)
    summary = run(opts(tmp_path, plain_policy(redact_file_names=False), flush_seconds=0), pair=silent_pair)
    assert summary.stopped == f"cannot write the output: {os.strerror(code)}" and summary.exit_code == 1
    assert summary.counts["redacted"] == 2 and summary.counts["failed"] == 1
    assert "STOPPED" in summary.line()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d0.txt", "d1.txt"]
    assert verify_audit(tmp_path / "audit", _key(tmp_path)).ok
    monkeypatch.setattr(pipeline, "write_atomic", real)
    rest = run(opts(tmp_path, plain_policy(redact_file_names=False)), pair=silent_pair)
    assert rest.counts["redacted"] == 3 and rest.counts["unchanged"] == 2


def test_seconds_are_per_document_and_per_run(tmp_path, silent_pair):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "short.txt").write_text("Hi.")
    (tmp_path / "in" / "long.txt").write_text(f"Mail {PLANTED['email']} please. " * 60)
    summary = run(opts(tmp_path, plain_policy(redact_file_names=False)), pair=silent_pair)
    docs = {r["doc_path"]: r for r in iter_rows(summary.audit_run, "documents")}
    assert docs["long.txt"]["seconds"] > docs["short.txt"]["seconds"] > 0
    manifest = json.loads((Path(summary.audit_run) / "manifest.json").read_text())
    assert manifest["totals"]["seconds"] > 0 and manifest["totals"]["seconds"] >= sum(d["seconds"] for d in docs.values()) * 0.5
    # The listings span the whole run (its audit opens at the first redacted document, its start is the run's).
    wall = datetime.fromisoformat(manifest["finished_at"]) - datetime.fromisoformat(manifest["started_at"])
    assert wall.total_seconds() >= manifest["totals"]["seconds"] >= manifest["totals"]["processing_seconds"] > 0
    assert f"; {summary.seconds:.1f} s wall time ({summary.processing_seconds:.1f} s processing);" in summary.line()


def test_run_spreads_a_redacted_value_across_the_cells_of_one_csv_only(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("who,notes\nName: Anna Berg,ask Berg about it\n")
    (tmp_path / "in" / "b.csv").write_text("who,notes\nnobody,ask Berg about it\n")
    policy = named_policy().model_copy(update={"redact_file_names": False})
    summary = run(opts(tmp_path, policy, draft_dir=tiny_pair_dirs["draft"], oracle_dir=tiny_pair_dirs["oracle"]))
    assert summary.counts["redacted"] == 2
    assert "Berg" not in (tmp_path / "out" / "a.csv").read_text()
    assert "ask Berg about it" in (tmp_path / "out" / "b.csv").read_text()  # another file: not spread


def test_a_key_inside_the_audit_directory_is_refused_for_a_run(tmp_path, silent_pair):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"Mail {PLANTED['email']}.")
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / ".key").write_text("cd" * 32 + "\n")  # where older versions kept it
    with pytest.raises(UsageError, match="must not be inside the audit directory") as refused:
        run(opts(tmp_path, plain_policy(), key_file=tmp_path / "audit" / ".key"), pair=silent_pair)
    assert "cd" * 32 not in str(refused.value)
    assert not (tmp_path / "out").exists() and os.listdir(tmp_path / "audit") == [".key"]


def test_an_output_renamed_by_a_new_policy_replaces_the_old_one(tmp_path, silent_pair):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / f"mail {PLANTED['email']}.txt").write_text("hello")
    run(opts(tmp_path, plain_policy(redact_file_names=False)), pair=silent_pair)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"mail {PLANTED['email']}.txt"]
    run(opts(tmp_path, plain_policy()), pair=silent_pair)  # now names are redacted
    (only,) = (tmp_path / "out").iterdir()
    assert only.name.startswith("mail <EMAIL_ADDRESS>~") and only.read_text() == "hello"


@pytest.mark.parametrize("doubt, redacted", [({"PERSON": 0.5}, True), ({"PERSON": 0.015}, False), ({"DATE_TIME": 0.9}, False)])
def test_a_hint_the_oracle_nearly_tagged_is_redacted_with_the_hints_boundaries(silent_pair, monkeypatch, doubt, redacted):
    """The oracle (silent: it opens nothing) read spaCy's hint on the name; where it gave opening a span of
    the policy's types enough probability before the name's first token, the hint is redacted ("hint mass")."""
    from vault import speculate

    original = speculate.Engine.run

    def doubting(self, sources, **kwargs):
        results = original(self, sources, **kwargs)
        for res in results:  # every copied token: as if the oracle had hesitated there
            res.open_probs = {j: dict(doubt) for j, t in enumerate(res.output) if t != self.tags.eos}
        return results

    monkeypatch.setattr(speculate.Engine, "run", doubting)
    policy = load_policy("default").model_copy(update={"use_ner": False})  # PERSON redacted, DATE_TIME kept
    text = "Please ask Maria Gonzalez about the invoice."
    [result] = Redactor(*silent_pair, policy, KEY).redact([text], [Pseudonymizer(KEY)])
    rows = [r for r in result.span_rows if r["action"] == "redacted"]
    if redacted:
        [row] = rows
        assert text[row["start"]:row["end"]] == "Maria Gonzalez" and row["reason"] == "hint mass"
        assert "Maria" not in result.redacted and row["detectors"] == ["hint:spacy", "oracle"]
    else:
        assert rows == [] and "Maria Gonzalez" in result.redacted


def test_a_run_never_runs_one_engine_s_options_on_another_engine(tmp_path):
    """The CLI chooses the loop (vault.distributed sits above this module); a caller that forgets it is told."""
    with pytest.raises(ValueError, match="RayLoop"):
        run(opts(tmp_path, plain_policy(), engine="ray"))
    assert not (tmp_path / "out").exists() and not (tmp_path / "audit").exists()


def test_the_model_fingerprint_is_the_models_own(tiny_pair_dirs):
    """The pipeline hashes the model folders without importing torch; vault.models hashes them too."""
    from vault.models import RedactionModel

    for folder in tiny_pair_dirs.values():
        assert pipeline._directory_fingerprint(folder) == RedactionModel(folder, None, None).fingerprint()


HEAVY = ("torch", "transformers", "presidio_analyzer", "presidio_anonymizer", "spacy", "faker")


@pytest.mark.parametrize("case", ["dry run", "ray dry run", "usage error", "missing input", "nothing to do"])
def test_answers_that_load_no_model_import_no_model_library(tmp_path, tiny_pair_dirs, case):
    """A dry run, usage errors and a rerun with nothing to do answer without torch, transformers,
    Presidio, spaCy or Faker (their imports alone take seconds)."""
    import subprocess
    import sys

    from click.testing import CliRunner
    from test_cli import POLICY
    from vault.cli import main

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(f"Mail {PLANTED['email']} please.")
    (tmp_path / "e2e.yaml").write_text(POLICY)
    args = ["redact", str(tmp_path / "in"), str(tmp_path / "out"), "--audit-dir", str(tmp_path / "audit"),
            "--draft", str(tiny_pair_dirs["draft"]), "--oracle", str(tiny_pair_dirs["oracle"]),
            "--policy", str(tmp_path / "e2e.yaml")]
    args += {"dry run": ["--dry-run"], "ray dry run": ["--dry-run", "--engine", "ray", "--workers", "1"],
             "usage error": ["--batch-size", "0"]}.get(case, [])
    if case == "missing input":
        args[1] = str(tmp_path / "nowhere")
    if case == "nothing to do":
        first = CliRunner().invoke(main, [*args, "--json"])  # in this process: it loads the models
        assert json.loads(first.stdout)["redacted"] == 1, first.output
    code = ("import json, sys\nfrom vault.cli import main\ntry:\n    main(%r)\nexcept SystemExit as exc:\n"
            "    print(json.dumps([exc.code, sorted(m for m in %r if m in sys.modules)]))") % (args, HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    exit_code, imported = json.loads(done.stdout.splitlines()[-1])
    assert (exit_code, imported) == (0 if case in ("dry run", "ray dry run", "nothing to do") else 2, []), done.stderr
    if case == "nothing to do":
        assert "nothing to do: 1 unchanged" in done.stdout


def test_json_keys_that_hold_values_are_redacted_and_the_structure_kept(tmp_path, silent_pair, monkeypatch):
    """Issue 20, item 4: an export keyed by e-mail, phone or SSN. Its keys are redacted (by the recognizers:
    the oracle is silent), two that redact alike stay two members, field names stay, and no value reaches the
    output or the audit."""
    key = bytes(range(32))
    monkeypatch.setenv("VAULT_AUDIT_KEY", key.hex())
    other = "jon.ek@example.org"
    export = {"customers": {PLANTED["email"]: {"phone": PLANTED["phone"], "date_of_birth": "1970"},
                            other: {"ip": PLANTED["ip"]}},
              "by_ssn": {PLANTED["ssn"]: {"card": PLANTED["card"]}}}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.json").write_text(json.dumps(export, indent=2))
    (tmp_path / "in" / "lines.jsonl").write_text(json.dumps({PLANTED["phone"]: {"name": "x"}}) + "\n")
    summary = run(opts(tmp_path, plain_policy()), pair=silent_pair)
    assert summary.counts["redacted"] == 2
    out = json.loads((tmp_path / "out" / "export.json").read_text())
    suffix = {v: keyed_hash(key, v)[:8] for v in (PLANTED["email"], other, PLANTED["ssn"], PLANTED["phone"])}
    assert out == {"customers": {f"<EMAIL_ADDRESS>~{suffix[PLANTED['email']]}": {"phone": "<PHONE_NUMBER>", "date_of_birth": "1970"},
                                 f"<EMAIL_ADDRESS>~{suffix[other]}": {"ip": "<IP_ADDRESS>"}},
                   "by_ssn": {f"<US_SSN>~{suffix[PLANTED['ssn']]}": {"card": "<CREDIT_CARD>"}}}
    assert json.loads((tmp_path / "out" / "lines.jsonl").read_text()) == {f"<PHONE_NUMBER>~{suffix[PLANTED['phone']]}": {"name": "x"}}
    everything = all_bytes(tmp_path / "out") + all_bytes(tmp_path / "audit")
    for value in [*PLANTED.values(), other]:
        assert value.encode() not in everything, value
    run_dir = Path(summary.audit_run)
    keys = {(r["doc_path"], r["json_path"], r["entity_type"]) for r in iter_rows(run_dir, "spans") if r["json_path"].endswith("~")}
    assert keys == {("export.json", "$.customers[#1]~", "EMAIL_ADDRESS"), ("export.json", "$.customers[#2]~", "EMAIL_ADDRESS"),
                    ("export.json", "$.by_ssn[#1]~", "US_SSN"), ("lines.jsonl", "$[#1]~", "PHONE_NUMBER")}
