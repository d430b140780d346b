"""The per-batch step (Redactor) and the local loop's guarantees: fail closed, hold, overrides, no raw values."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.audit import keyed_hash
from vault.models import load_pair
from vault.pipeline import Redactor, RunOptions, run
from vault.policy import load_policy
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
    summary = run(RunOptions(tmp_path / "in", tmp_path / "out", load_policy("strict"), tmp_path / "audit",
                             tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"]))
    assert summary.counts["failed"] == 1 and summary.exit_code == 1
    assert not (tmp_path / "out" / "a.txt").exists()
    assert "not fully verified" in summary.problems[0]


def test_hold_policy_keeps_the_document_out_of_the_output(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    # A project codename from the example policy's deny list, which the random oracle will not tag as ID.
    (tmp_path / "in" / "memo.txt").write_text("Status of project Nightjar: on track.")
    summary = run(RunOptions(tmp_path / "in", tmp_path / "out", load_policy("example-custom"), tmp_path / "audit",
                             tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"]))
    if summary.counts["held"]:
        assert not (tmp_path / "out" / "memo.txt").exists() and summary.exit_code == 1
    else:  # the oracle tagged it as an ID itself: no disagreement, so it is written, redacted
        assert "Nightjar" not in (tmp_path / "out" / "memo.txt").read_text()


def test_run_spreads_a_redacted_value_across_the_cells_of_one_csv_only(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("who,notes\nName: Anna Berg,ask Berg about it\n")
    (tmp_path / "in" / "b.csv").write_text("who,notes\nnobody,ask Berg about it\n")
    summary = run(RunOptions(tmp_path / "in", tmp_path / "out", named_policy(), tmp_path / "audit",
                             tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"]))
    assert summary.counts["redacted"] == 2
    assert "Berg" not in (tmp_path / "out" / "a.csv").read_text()
    assert "ask Berg about it" in (tmp_path / "out" / "b.csv").read_text()  # another file: not spread
