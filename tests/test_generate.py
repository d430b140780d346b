"""Tests of the synthetic gold-document generator (vault.train.generate)."""

import csv
import json
import os
import random
import re
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.spans import ENTITY_TYPES
from vault.train import generate as g
from vault.train import kinds as gk


def check_doc(doc: dict) -> None:
    """The gold-format invariants every generated document must satisfy."""
    assert set(doc) == {"id", "text", "spans"}
    text = doc["text"]
    assert isinstance(text, str) and text.strip()
    prev_end = 0
    for span in doc["spans"]:
        assert set(span) == {"start", "end", "label", "identifier"}
        start, end = span["start"], span["end"]
        assert 0 <= start < end <= len(text)
        assert start >= prev_end, "spans sorted and non-overlapping"
        prev_end = end
        value = text[start:end]
        assert value == value.strip(), f"span {value!r} has surrounding whitespace"
        assert span["label"] in ENTITY_TYPES
        assert span["identifier"] in ("DIRECT", "QUASI")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), split=st.sampled_from(["train", "heldout"]),
       noise=st.sampled_from([0.0, 0.3, 1.0]))
def test_invariants_hold_for_any_seed(seed, split, noise):
    docs = g.generate(3, seed, split, noise=noise)
    assert len(docs) == 3
    kinds = gk.TRAIN_KINDS if split == "train" else gk.HELDOUT_KINDS
    for doc in docs:
        check_doc(doc)
        assert doc["id"].startswith(f"{split}-{seed}-")
        assert doc["id"].split("-")[3] in kinds


def test_spans_are_the_planted_values():
    """Offsets come from building the text piece by piece; check them against the pieces."""
    doc = gk.Doc("bank_letter", 123)
    pieces = doc.expand("Dear {customer.title}, your IBAN {customer.iban} and card {customer.card}.")
    text, spans = gk.render(pieces, doc.rng, noisy=False)
    planted = [p[0] for p in pieces if p[1]]
    assert [text[s["start"]:s["end"]] for s in spans] == planted
    assert [s["label"] for s in spans] == ["PERSON", "IBAN_CODE", "CREDIT_CARD"]


def test_noise_keeps_offsets_exact():
    """With noise on every document, spans still cover exactly the (altered) entity text."""
    docs = g.generate(40, 5, noise=1.0)
    for doc in docs:
        check_doc(doc)
    text = "".join(d["text"] for d in docs)
    assert re.search(r"^[^a-z\n]*[A-Z]{4}[^a-z\n]*$", text, re.M), "some ALL CAPS lines"
    assert "  " in text, "some doubled spaces"
    inside = ["\n" in d["text"][s["start"]:s["end"]] for d in docs for s in d["spans"]]
    assert any(inside), "some line breaks inside entities"


def test_deterministic_and_seed_dependent():
    assert g.generate(8, 42) == g.generate(8, 42)
    assert g.generate(8, 42) != g.generate(8, 43)
    assert g.generate(8, 42, "heldout") == g.generate(8, 42, "heldout")
    assert g.generate(4, 42) == g.generate(8, 42)[:4]


def test_deterministic_across_processes():
    """Same output whatever PYTHONHASHSEED is (Faker builds some word lists from sets)."""
    code = ("import json, hashlib; from vault.train.generate import generate; "
            "print(hashlib.sha256(json.dumps(generate(30, 9) + generate(10, 9, 'heldout'))"
            ".encode()).hexdigest())")
    out = set()
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        out.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout)
    assert len(out) == 1


def test_kinds_and_heldout_templates_are_disjoint():
    assert set(gk.TRAIN_KINDS).isdisjoint(gk.HELDOUT_KINDS)
    assert set(gk.TRAIN_KINDS) | set(gk.HELDOUT_KINDS) == set(gk.KINDS)
    assert len(gk.TRAIN_KINDS) >= 10 and len(gk.HELDOUT_KINDS) >= 3
    for kind in gk.KINDS:
        assert gk.KINDS[kind]["split"] == ("train" if kind in gk.TRAIN_KINDS else "heldout")

    def texts(kinds):
        return {t for k in kinds for pool in ("templates", "sentences", "chat")
                for t in gk.KINDS[k].get(pool, [])}

    assert texts(gk.TRAIN_KINDS).isdisjoint(texts(gk.HELDOUT_KINDS))
    train_ids = {d["id"].split("-")[3] for d in g.generate(30, 1)}
    heldout_ids = {d["id"].split("-")[3] for d in g.generate(10, 1, "heldout")}
    assert train_ids == set(gk.TRAIN_KINDS) and heldout_ids == set(gk.HELDOUT_KINDS)


def test_every_template_and_sentence_expands():
    for kind, spec in gk.KINDS.items():
        doc = gk.Doc(kind, 7)
        for text in spec["templates"] + spec["sentences"]:
            doc.expand(text)
        for line in spec.get("chat", []):
            who, sep, text = line.partition(": ")
            assert sep and who in ("A", "B", "C", "*"), line
            doc.expand(text, aliases={"me": "a", "you": "b"})
    with pytest.raises(ValueError):
        g.generate(1, 1, "test")


def test_variety():
    docs = g.generate(300, 11)
    labels = {s["label"] for d in docs for s in d["spans"]}
    assert labels == set(ENTITY_TYPES), set(ENTITY_TYPES) - labels
    locales = {d["id"].rsplit("-", 1)[1] for d in docs}
    assert {"en_US", "en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT"} <= locales
    words = sorted(len(d["text"].split()) for d in docs)
    assert sum(80 <= w <= 600 for w in words) / len(words) > 0.75
    assert words[-1] > 600, "a few longer documents"
    values = [d["text"][s["start"]:s["end"]] for d in docs for s in d["spans"]]
    assert any(re.fullmatch(r"\d+-year-old", v) for v in values)
    assert any(":" in v and re.fullmatch(r"[0-9a-f:]+", v) for v in values), "an IPv6 address"
    assert any(re.fullmatch(r"[A-Z]\. \S+", v) for v in values), "an initial and a surname"


def test_hard_negatives_are_not_tagged():
    docs = g.generate(100, 3, noise=0.0)
    negatives = [re.escape(drug) for drug in gk.WORDS["drugs"]] + [
        r"Monday meeting", r"Article \d+", r"page \d+", r"Section \d+", r"\d+ %", r"v\d+\.\d+",
        r"\d+ (?:boxes|pallets|chairs|bags)"]
    seen = 0
    for doc in docs:
        covered = [False] * len(doc["text"])
        for s in doc["spans"]:
            covered[s["start"]:s["end"]] = [True] * (s["end"] - s["start"])
        for pattern in negatives:
            for m in re.finditer(rf"\b{pattern}\b", doc["text"]):
                seen += 1
                assert not any(covered[m.start():m.end()]), (doc["id"], m.group())
    assert seen > 50


def test_speed():
    g.generate(1, 0)  # warm up Faker
    start = time.perf_counter()
    docs = g.generate(50, 2)
    per_doc = (time.perf_counter() - start) / len(docs)
    assert per_doc < 0.05, f"{per_doc * 1000:.1f} ms per document"


def test_write_samples(tmp_path):
    values = g.write_samples(tmp_path, 7)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert 7 <= len(files) <= 10
    suffixes = {p.rsplit(".", 1)[1] for p in files}
    assert {"txt", "md", "json", "jsonl", "csv"} <= suffixes
    assert any(p.count("/") >= 2 for p in files), "a nested subfolder"
    json.loads((tmp_path / "profile.json").read_text())
    lines = (tmp_path / "chat_export.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["message"] for line in lines)
    rows = list(csv.reader((tmp_path / "customers.csv").open()))
    assert rows[0] == ["name", "email", "phone", "notes"] and len(rows) == 6
    everything = "".join((tmp_path / p).read_text(encoding="utf-8") for p in files)
    assert len(values) > 30
    assert all(v in everything for v in values)
    assert any("@" in v for v in values)
    assert g.write_samples(tmp_path / "again", 7) == values


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 8), which=st.integers(0, 11))
def test_snippets_carry_exactly_the_gold_spans_of_what_they_cut(seed, n, which):
    doc = g.generate(12, seed=5, split="heldout")[which]
    sensitive = {doc["text"][s["start"]:s["end"]] for s in doc["spans"] if s["identifier"] != "NO_MASK"}
    for piece in g.snippets(doc, random.Random(seed), n):
        check_doc(piece)
        text = piece["text"]
        if "#line" in piece["id"]:
            a = int(piece["id"].rsplit("#line", 1)[1])
            assert doc["text"][a:a + len(text)] == text  # a line of the document, as it was
            expected = [dict(s, start=s["start"] - a, end=s["end"] - a) for s in doc["spans"]
                        if a <= s["start"] and s["end"] <= a + len(text)]
            assert piece["spans"] == expected  # every span wholly inside the line, and only those
            assert not any(s["start"] < a + len(text) and a < s["end"] and not (a <= s["start"] and s["end"] <= a + len(text))
                           for s in doc["spans"] if s["identifier"] != "NO_MASK")  # none cut in two
        elif "#field" in piece["id"]:
            (s,) = piece["spans"]
            key, value = text.split(": ", 1)
            assert key in g.FIELD_KEYS[s["label"]] and value in sensitive
            assert (s["start"], s["end"]) == (len(key) + 2, len(text))
        else:
            assert piece["spans"] == [] and tuple(text.split(": ", 1)) in g.NEUTRAL_FIELDS
