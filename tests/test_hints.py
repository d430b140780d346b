"""Detector hints: the gazetteer, the precedence of hint sources, the markers in a model's prompt."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.detect import build_analyzer, build_hinter
from vault.hints import HINT_LABELS, Gazetteer, merge_hints
from vault.models import hinted_source
from vault.policy import load_policy
from vault.spans import Span

GAZ = Gazetteer({"oluwaseun", "adeyemi", "nguyen"})
for place in ("Rio de Janeiro", "Rio", "Ouagadougou"):
    GAZ._add_place(place)


def found(text, spans):
    return [(text[s.start:s.end], s.entity_type) for s in spans]


def test_gazetteer_finds_runs_of_names_and_the_longest_place():
    text = "name: Oluwaseun Adeyemi, moved from Rio de Janeiro to Rio and then Ouagadougou; nguyen said hi."
    assert found(text, GAZ.find(text)) == [("Oluwaseun Adeyemi", "NAME"), ("Rio de Janeiro", "PLACE"),
                                           ("Rio", "PLACE"), ("Ouagadougou", "PLACE")]  # lowercase: no hint


def test_gazetteer_round_trips_and_saves_the_same_bytes(tmp_path):
    GAZ.save(tmp_path / "a.json.gz")
    GAZ.save(tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()
    loaded = Gazetteer.load(tmp_path / "a.json.gz")
    text = "Oluwaseun went to Rio de Janeiro."
    assert loaded.find(text) == GAZ.find(text)


spans = st.builds(lambda a, n, label: Span(a, a + n, label), st.integers(0, 40), st.integers(1, 8),
                  st.sampled_from(["PERSON", "NAME", "EMAIL_ADDRESS"]))


@settings(max_examples=200, deadline=None)
@given(st.lists(spans, max_size=5), st.lists(spans, max_size=5), st.lists(spans, max_size=5))
def test_merged_hints_never_overlap_and_an_earlier_layer_always_wins(first, second, third):
    merged = merge_hints(first, second, third)
    assert all(a.end <= b.start for a, b in zip(merged, merged[1:]))
    # A span of an earlier layer is dropped only for a span of the same or an earlier layer.
    for layer, rank in ((first, 0), (second, 1), (third, 2)):
        for s in layer:
            if s not in merged:
                blockers = [m for m in merged if m.start < s.end and s.start < m.end]
                assert any(any(m in lay for lay in (first, second, third)[:rank + 1]) for m in blockers)


@pytest.fixture(scope="module")
def hinter():
    return build_hinter(GAZ)


def test_hints_from_every_source_and_whatever_the_policy(hinter):
    text = "Please call Oluwaseun Adeyemi at (415) 555-0132 or write to ann@example.org in Ouagadougou."
    (f,) = hinter.analyze([text])
    hints = dict(found(text, f.hints))
    assert hints["(415) 555-0132"] == "PHONE_NUMBER" and hints["ann@example.org"] == "EMAIL_ADDRESS"
    assert "Oluwaseun Adeyemi" in hints and "Ouagadougou" in hints
    assert all(h.entity_type in HINT_LABELS for h in f.hints)
    assert f.candidates == []  # a hinter has no policy types
    # The same hints under any policy: the model reads the same prompt whatever is redacted.
    for name in ("default", "strict", "example-custom"):
        (g,) = build_analyzer(load_policy(name), hints=True, gazetteer=GAZ).analyze([text])
        assert g.hints == f.hints, name


@settings(max_examples=50, deadline=None)
@given(st.lists(spans, max_size=6))
def test_hint_markers_strip_back_to_the_source(tiny_pair_dirs, hints):
    from vault.models import load_model

    tok = load_model(tiny_pair_dirs["oracle"]).tokenizer
    text = "Oluwaseun Adeyemi wrote to ann@example.org on Monday."
    ids, offsets = tok.encode(text)
    reading = hinted_source(tok.tags, ids, offsets, [Span(s.start, s.end, "PERSON") for s in merge_hints(hints)])
    markers = {*tok.tags.hints.values(), tok.tags.hint_close}
    assert [t for t in reading if t not in markers] == ids
    assert not any(tok.tags.is_tag(t) or t == tok.tags.eos for t in markers)  # never in an output
    assert reading.count(tok.tags.hint_close) == sum(t in tok.tags.hints.values() for t in reading)
