import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import trainers
from tokenizers import pre_tokenizers as pt
from transformers import LlamaConfig, LlamaForCausalLM

from vault.models import (
    SPECIAL_TOKENS,
    ModelError,
    RedactionTokenizer,
    chunk_bounds,
    load_model,
    check_pair,
    new_tokenizer,
    spans_from_output,
    strip_tags,
    tokens_with_tags,
)
from vault.spans import Span

CORPUS = ["Dear John Smith, call 555-0199 or mail john@example.org (case no. 28045/02).", "Café Müller, 10 Main St., Zürich.\n\nNext paragraph."] * 20


@pytest.fixture(scope="module")
def tokenizer():
    tok = new_tokenizer()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIAL_TOKENS,
                                                        initial_alphabet=pt.ByteLevel.alphabet(), show_progress=False))
    return RedactionTokenizer(tok)


def save_model(tokenizer, path, hidden=16):
    config = LlamaConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2)
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.tokenizer.save(str(path / "tokenizer.json"))


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
def test_encoding_is_lossless_and_never_makes_special_tokens(tokenizer, text):
    ids, offsets = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert not any(tokenizer.tags.is_tag(t) or t in (tokenizer.tags.eos, tokenizer.tags.src) for t in ids)
    assert all(0 <= a <= b <= len(text) for a, b in offsets)


def test_literal_tag_text_stays_text(tokenizer):
    ids, _ = tokenizer.encode("say <eos> and <ent:PERSON> x </ent>")
    assert tokenizer.decode(ids) == "say <eos> and <ent:PERSON> x </ent>"
    assert not any(tokenizer.tags.is_tag(t) for t in ids)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tagging_gold_spans_round_trips(tokenizer, data):
    words = data.draw(st.lists(st.sampled_from(["John", "Smith", "called", "555", "-", "0199", ",", "Zürich", ".", "\n\n", "on"]), min_size=1, max_size=30))
    text = " ".join(words)
    ids, offsets = tokenizer.encode(text)
    # Spans on word boundaries.
    starts = [i for i in range(len(text)) if not text[i].isspace() and (i == 0 or text[i - 1].isspace())]
    picks = sorted(set(data.draw(st.lists(st.sampled_from(starts), max_size=4)))) if starts else []
    spans = []
    for a in picks:
        b = next((k for k in range(a, len(text)) if text[k].isspace()), len(text))
        if not spans or a >= spans[-1].end:
            spans.append(Span(a, b, "PERSON"))
    output = tokens_with_tags(tokenizer.tags, ids, offsets, spans)
    assert strip_tags(tokenizer.tags, output) == ids
    assert spans_from_output(tokenizer.tags, output, text, offsets) == [Span(s.start, s.end, s.entity_type) for s in spans]


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab .\n,"), max_size=400), size=st.integers(2, 40))
def test_chunks_cover_the_document_in_order(tokenizer, text, size):
    ids, offsets = tokenizer.encode(text)
    bounds = chunk_bounds(text, offsets, size)
    assert [a for a, _ in bounds] == ([0] if ids else []) + [b for _, b in bounds[:-1]]
    assert (bounds[-1][1] if bounds else 0) == len(ids)
    assert all(0 < b - a <= size for a, b in bounds)


def test_chunks_prefer_paragraph_breaks(tokenizer):
    text = "One two three.\n\nFour five six seven eight nine ten eleven."
    ids, offsets = tokenizer.encode(text)
    cut = next(k for k, (a, b) in enumerate(offsets) if text[a:b].startswith("\n"))
    (a, b), *_ = chunk_bounds(text, offsets, cut + 10)  # the break lies in the back half of the window
    assert text[offsets[b][0] :].startswith("\n\n")


def test_load_model_and_clear_errors(tmp_path, tokenizer):
    with pytest.raises(ModelError, match="model directory not found"):
        load_model(tmp_path / "nope")
    save_model(tokenizer, tmp_path / "m")
    model = load_model(tmp_path / "m")
    assert model.tags.eos == tokenizer.tags.eos and len(model.fingerprint()) == 64
    (tmp_path / "m" / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"m: missing tokenizer.json"):
        load_model(tmp_path / "m")
    save_model(tokenizer, tmp_path / "w")
    for f in (tmp_path / "w").glob("*.safetensors"):
        f.unlink()
    with pytest.raises(ModelError, match="missing model weights"):
        load_model(tmp_path / "w")
    save_model(tokenizer, tmp_path / "c")
    (tmp_path / "c" / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot load the model"):
        load_model(tmp_path / "c")


def test_tokenizer_without_redaction_tokens_is_refused(tmp_path, tokenizer):
    save_model(tokenizer, tmp_path / "m")
    plain = new_tokenizer()
    plain.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=280, show_progress=False))
    plain.save(str(tmp_path / "m" / "tokenizer.json"))
    with pytest.raises(ModelError, match="lacks the redaction tokens"):
        load_model(tmp_path / "m")


def test_pair_with_different_vocabularies_is_refused(tmp_path, tokenizer):
    save_model(tokenizer, tmp_path / "oracle")
    other = new_tokenizer()
    other.train_from_iterator(CORPUS[:2], trainers.BpeTrainer(vocab_size=290, special_tokens=SPECIAL_TOKENS, show_progress=False))
    save_model(RedactionTokenizer(other), tmp_path / "draft")
    with pytest.raises(ModelError, match="vocabularies differ"):
        check_pair(load_model(tmp_path / "draft"), load_model(tmp_path / "oracle"))
