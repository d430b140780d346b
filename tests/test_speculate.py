import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIRST_TEXT_TOKEN, PAIRS, TAGS, VOCAB
from vault.models import Grammar, build_prompt, strip_tags
from vault.speculate import DRAFTERS, Engine

sources = st.lists(st.lists(st.integers(FIRST_TEXT_TOKEN, VOCAB - 1), min_size=1, max_size=24), min_size=1, max_size=8)


def naive_greedy(model, source):
    """Oracle-alone greedy decoding with a full forward pass per token: no cache, no batching."""
    grammar, out = Grammar(source, TAGS), []
    while not grammar.done:
        with torch.inference_mode():
            logits = model(torch.tensor([build_prompt(TAGS, source) + out])).logits[0, -1]
        allowed = ([grammar.next_source()] if grammar.next_source() is not None else []) + grammar.allowed_tags()
        token = max(allowed, key=lambda t: (logits[t].item(), -t))
        grammar.advance(token)
        out.append(token)
    return out


def random_hints(data, source):
    """Hint outputs that are often wrong: tags at random places, so drafts get rejected."""
    out, i = [], 0
    while i < len(source):
        if data.draw(st.booleans()):
            n = data.draw(st.integers(1, len(source) - i))
            out += [data.draw(st.sampled_from(list(TAGS.open))), *source[i : i + n], TAGS.close]
            i += n
        else:
            out.append(source[i])
            i += 1
    return out + [TAGS.eos]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(srcs=sources, data=st.data())
def test_reference_mode_is_oracle_greedy(srcs, data):
    draft, oracle = PAIRS[data.draw(st.sampled_from(sorted(PAIRS)))]
    results = Engine(oracle, TAGS).run(srcs, drafter="none", batch_size=data.draw(st.integers(1, 8)))
    for src, res in zip(srcs, results):
        assert res.output == naive_greedy(oracle, src)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(srcs=sources, data=st.data())
def test_speculative_output_equals_oracle_greedy(srcs, data):
    draft, oracle = PAIRS[data.draw(st.sampled_from(sorted(PAIRS)))]
    # The key/value buffer and the restricted output layer, each on or off: the output never changes.
    engine = Engine(oracle, TAGS, draft, kv_buffer=data.draw(st.booleans()), restricted_head=data.draw(st.booleans()))
    reference = engine.run(srcs, drafter="none", batch_size=1)
    hints = [random_hints(data, s) for s in srcs]
    for drafter in DRAFTERS:
        batch = data.draw(st.integers(1, 8))
        results = engine.run(srcs, drafter=drafter, hints=hints, batch_size=batch)
        for src, ref, res in zip(srcs, reference, results):
            assert res.output == ref.output, (drafter, batch)
            # Stripping the tags gives back the source; the output obeys the grammar throughout.
            assert strip_tags(TAGS, res.output) == src
            grammar = Grammar(src, TAGS)
            for token in res.output:
                grammar.advance(token)  # raises on any constraint violation
            assert grammar.done
            # Every token names the oracle pass that verified it, in order, and who proposed it.
            assert len(res.oracle_pass) == len(res.output) == len(res.proposed_by) == len(res.logprob)
            assert res.oracle_pass == sorted(res.oracle_pass)
            assert 1 <= res.oracle_pass[0] and res.oracle_pass[-1] == res.passes
            assert set(res.proposed_by) <= {drafter, "oracle"}
            assert res.proposed_by.count(drafter) == res.accepted <= res.drafted
            assert all(lp <= 1e-9 for lp in res.logprob) and all(m >= 0 for m in res.margin)


def test_each_pass_emits_at_least_one_token_and_drafting_saves_passes(pair):
    draft, oracle = pair
    srcs = [[FIRST_TEXT_TOKEN + (i * 7 + k) % (VOCAB - FIRST_TEXT_TOKEN) for k in range(40 + 5 * i)] for i in range(4)]
    engine = Engine(oracle, TAGS, draft)
    greedy = engine.run(srcs, drafter="none")
    copy = engine.run(srcs, drafter="copy")
    assert all(r.passes == len(r.output) for r in greedy)
    assert sum(r.passes for r in copy) < sum(r.passes for r in greedy)


def test_unknown_drafter_and_missing_draft_model_are_refused(pair):
    draft, oracle = pair
    with pytest.raises(ValueError, match="unknown drafter"):
        Engine(oracle, TAGS).run([[9]], drafter="magic")
    with pytest.raises(ValueError, match="needs a draft model"):
        Engine(oracle, TAGS).run([[9]], drafter="draft")


@given(lengths=st.lists(st.integers(1, 600), max_size=60), batch_size=st.integers(1, 9))
def test_batches_fill_a_position_budget_in_length_order(lengths, batch_size):
    from vault.models import CHUNK_TOKENS
    from vault.speculate import _batches

    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = _batches(order, lengths, batch_size)
    assert [i for b in batches for i in b] == order  # every chunk once, in order
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert len(b) <= batch_size or len(b) * longest <= batch_size * CHUNK_TOKENS
    # Short chunks share batches: never two batches that would have fit in one.
    for a, b in zip(batches, batches[1:]):
        merged = a + b
        assert len(merged) > max(batch_size, batch_size * CHUNK_TOKENS // max(lengths[i] for i in merged))
