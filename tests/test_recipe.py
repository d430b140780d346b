"""The training recipe's data: gold documents to masked spans, short snippets, training examples."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault.models import strip_tags
from vault.train import recipe
from vault.train.generate import generate

DOCS = [recipe.must_mask(d) for d in generate(12, seed=5, split="train")]


def test_must_mask_drops_no_mask_spans():
    doc = {"id": "d", "text": "Ann met the Court.", "spans": [
        {"start": 0, "end": 3, "label": "PERSON", "identifier": "DIRECT"},
        {"start": 12, "end": 17, "label": "ORGANIZATION", "identifier": "NO_MASK"}]}
    assert [(s.start, s.end, s.entity_type) for s in recipe.must_mask(doc)["spans"]] == [(0, 3, "PERSON")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.sampled_from(DOCS), seed=st.integers(0, 10_000), n=st.integers(0, 8))
def test_snippets_carry_exactly_the_spans_of_what_they_cut(doc, seed, n):
    original = {doc["text"][s.start:s.end] for s in doc["spans"]}
    for piece in recipe.snippets(doc, random.Random(seed), n):
        text = piece["text"]
        assert text.strip()
        if "#line" in piece["id"]:
            a = int(piece["id"].rsplit("#line", 1)[1])
            assert doc["text"][a:a + len(text)] == text  # a line of the document, as it was
            # every span wholly inside the line, and only those, shifted to the line
            expected = [(s.start - a, s.end - a, s.entity_type) for s in doc["spans"]
                        if a <= s.start and s.end <= a + len(text)]
            assert [(s.start, s.end, s.entity_type) for s in piece["spans"]] == expected
        elif "#field" in piece["id"]:
            (s,) = piece["spans"]
            key, value = text.split(": ", 1)
            assert key in recipe.FIELD_KEYS[s.entity_type]
            assert (s.start, s.end) == (len(key) + 2, len(text)) and value in original
        else:
            assert piece["spans"] == [] and tuple(text.split(": ", 1)) in recipe.NEUTRAL_FIELDS


def test_training_examples_strip_back_to_their_source(tiny_pair_dirs):
    from vault.models import load_model

    tags = load_model(tiny_pair_dirs["oracle"]).tags
    tokenizer = load_model(tiny_pair_dirs["oracle"]).tokenizer
    pieces = DOCS[:2] + recipe.snippets(DOCS[0], random.Random(1), 6)
    for e in recipe.examples(pieces, tokenizer):
        source = e["input"][1:e["prompt_len"] - 1]  # <src> source <out>
        target = e["input"][e["prompt_len"]:] + [tags.eos]
        assert strip_tags(tags, target) == source
        assert len(e["label"]) == len(target) == len(e["allowed"])
        # the gold next token is always one the grammar allows
        assert all(mask[label] for mask, label in zip(e["allowed"], e["label"]))
