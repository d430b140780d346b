"""Tests of the many-genre training-data generator (vault.train.genres)."""

import datetime as dt
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_generate import check_doc as check_gold
from vault.spans import ENTITY_TYPES
from vault.train import genres as gg
from vault.train import places

SAMPLE = gg.generate_genres(300, 11, with_negatives=True)


def check_doc(doc: dict) -> None:
    """generate.py's gold-format invariants (test_generate.check_doc), on the gold keys only."""
    check_gold({k: doc[k] for k in ("id", "text", "spans")})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), n=st.integers(min_value=1, max_value=8),
       split=st.sampled_from(["train", "dev", "test"]))
def test_invariants_hold_for_any_seed(seed, n, split):
    docs = gg.generate_genres(n, seed, split)
    assert len(docs) == n
    for i, doc in enumerate(docs):
        check_doc(doc)
        assert set(doc) == {"id", "text", "spans"}
        parts = doc["id"].split("-")
        assert parts[:4] == ["genres", split, str(seed), f"{i:05d}"]
        assert parts[4] in gg.GENRES


def test_sample_invariants():
    for doc in SAMPLE:
        check_doc(doc)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), n=st.integers(min_value=1, max_value=6))
def test_deterministic_and_prefix(seed, n):
    a = gg.generate_genres(n + 4, seed)
    assert gg.generate_genres(n + 4, seed) == a
    assert gg.generate_genres(n, seed) == a[:n]
    assert gg.generate_genres(n, seed, "dev") != a[:n]


def test_every_genre_appears():
    genres = {d["id"].split("-")[4] for d in SAMPLE[:3 * len(gg.GENRES)]}
    assert genres == set(gg.GENRES)


def test_many_countries_and_cultures():
    tags = {d["id"].rsplit("-", 1)[1] for d in SAMPLE}
    assert len(tags) >= 30


def test_share_of_short_and_neutral_documents():
    short = sum(d["text"].count("\n") <= 1 for d in SAMPLE) / len(SAMPLE)
    neutral = sum(not d["spans"] for d in SAMPLE) / len(SAMPLE)
    assert 0.22 <= short <= 0.42, short
    assert 0.05 <= neutral <= 0.18, neutral


def test_every_label_is_used():
    labels = {s["label"] for d in SAMPLE + gg.generate_genres(400, 1) for s in d["spans"]}
    assert labels == set(ENTITY_TYPES)


def test_hard_negatives_are_planted_and_unlabelled():
    planted = 0
    genres_with_negatives = set()
    for doc in SAMPLE:
        spans = [(s["start"], s["end"]) for s in doc["spans"]]
        for neg in doc["negatives"]:
            assert all(neg["end"] <= a or neg["start"] >= b for a, b in spans), (doc["id"], neg)
            planted += 1
            genres_with_negatives.add(doc["id"].split("-")[4])
    assert planted > len(SAMPLE)
    assert genres_with_negatives == set(gg.GENRES)


def test_product_and_brand_names_stay_plain():
    """A planted product name is never inside a span (vehicles are MISC, so cars are left out)."""
    g = gg._G(5, "review")
    pieces = g.x("I bought the {!product} with {!brand} and {!software}; error {!http} on {!os}.")
    text, spans = gg.render(pieces, g.rng, noisy=False)
    assert not [s for s in spans if s["label"] != gg.NEG]
    names = [p[0] for p in pieces if p[1] == gg.NEG]
    assert len(names) == 5 and all(n in text for n in names)


def test_neutral_and_short_templates():
    """Neutral templates hold no sensitive value; short templates are one or two lines."""
    for name, spec in gg.GENRES.items():
        for seed in range(3):
            g = gg._G(seed, name)
            for t in spec.neutral:
                pieces = g.x(t)
                assert not [p for p in pieces if p[1] not in (None, gg.NEG)], (name, t)
            for t in spec.short:
                text = "".join(p[0] for p in g.x(t))
                assert text.count("\n") <= 1, (name, t)


def test_checksummed_numbers_are_valid():
    def luhn(digits: str) -> bool:
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0

    rng = random.Random(1)
    for _ in range(200):
        card = places.card_number(rng).replace(" ", "").replace("-", "")
        assert card.isdigit() and luhn(card)
        cc = rng.choice([c for c in places.COUNTRIES.values() if c.iban])
        iban = places.iban_number(rng, cc.code, cc.iban).replace(" ", "")
        assert int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1
        bsn = places.national_id(rng, "bsn", dt.date(1990, 1, 1), True)
        assert sum(int(c) * w for c, w in zip(bsn, (9, 8, 7, 6, 5, 4, 3, 2, -1))) % 11 == 0


def test_titles_and_possessives_stay_outside_person_spans():
    g = gg._G(9, "email")
    pieces = g.x("Dear {A.title}, {A.dr} and {B.poss} car.")
    text, spans = gg.render(pieces, g.rng, noisy=False)
    for s in spans:
        value = text[s["start"]:s["end"]]
        assert not value.startswith(("Mr", "Ms", "Mrs", "Miss", "Dr")) and not value.endswith("'s"), value


def test_cli_writes_jsonl(tmp_path):
    out = tmp_path / "g.jsonl"
    from vault.train.generate import main

    assert main(["--genres", "--n", "12", "--seed", "4", "--out", str(out)]) == 0
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert docs == gg.generate_genres(12, 4)
