"""The encoder oracle (vault.encoder_oracle): speculative output equals its own greedy decoding, its text and
alignment helpers, and its folder loading like any model."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

from conftest import FIRST_TEXT_TOKEN, PAIRS, TAGS, VOCAB
from vault.encoder_oracle import MODEL_TYPE, EncoderOracle, casing, encoder_inputs, hint_labels, source_text, token_bytes
from vault.models import DEFAULT_MODEL_DIR, Grammar, RedactionTokenizer, strip_tags
from vault.speculate import DRAFTERS, Engine
from vault.train.oracle_encoder import source_index

WORDS = ["Anna", "Berg", "lives", "in", "Oslo", "call", "+47", "555", "0199", ",", ".", "\n", "the", "ward", "José"]


def wordpiece() -> Tokenizer:
    """A small uncased word-piece tokenizer, as BERT's is, trained here."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator([" ".join(WORDS)] * 5, trainers.WordPieceTrainer(
        vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"], show_progress=False))
    return tok


def tiny_oracle(seed: int = 0) -> EncoderOracle:
    torch.manual_seed(seed)
    wp = wordpiece()
    config = {"model_type": MODEL_TYPE, "hint_labels": 3,
              "encoder": dict(vocab_size=wp.get_vocab_size(), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=512),
              "decoder": dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                              tie_word_embeddings=True)}
    model = EncoderOracle(config)
    for emb in (model.hint_embed, model.case_embed):  # zero at the start of training; not here
        torch.nn.init.normal_(emb.weight, std=0.5)
    torch.nn.init.normal_(model.end_state, std=0.5)
    # The test vocabulary's source ids stand for words (and a line break), so the encoder has text to read.
    model.table = [b""] * FIRST_TEXT_TOKEN + [(" " + WORDS[i % len(WORDS)]).encode() for i in range(VOCAB - FIRST_TEXT_TOKEN)]
    wp.no_truncation()
    model.wordpiece = wp
    return model.double().eval()


ORACLE = tiny_oracle()


def naive_greedy(model: EncoderOracle, source: list[int]) -> list[int]:
    """Oracle-alone greedy decoding with a full decoder pass per token: no cache, no batching."""
    grammar, out = Grammar(source, TAGS), []
    with torch.inference_mode():
        states = model.source_states(encoder_inputs(model.wordpiece, model.table, [source], [[]], TAGS.pad))
        while not grammar.done:
            ids = torch.tensor([[TAGS.src, TAGS.out, *out]])
            index = torch.tensor([source_index(TAGS, out)]).clamp(max=len(source))
            logits = model.lm_head(model.decode(ids, index, states))[0, -1]
            allowed = ([grammar.next_source()] if grammar.next_source() is not None else []) + grammar.allowed_tags()
            token = max(allowed, key=lambda t: (logits[t].item(), -t))
            grammar.advance(token)
            out.append(token)
    return out


sources = st.lists(st.lists(st.integers(FIRST_TEXT_TOKEN, VOCAB - 1), min_size=1, max_size=20), min_size=1, max_size=6)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(srcs=sources, data=st.data())
def test_speculative_output_equals_the_encoder_oracles_greedy(srcs, data):
    draft = PAIRS["llama"][0]
    engine = Engine(ORACLE, TAGS, draft, kv_buffer=data.draw(st.booleans()), restricted_head=data.draw(st.booleans()))
    reference = [naive_greedy(ORACLE, s) for s in srcs]
    for drafter in DRAFTERS:
        results = engine.run(srcs, drafter=drafter, hints=[s + [TAGS.eos] for s in srcs],
                             batch_size=data.draw(st.integers(1, 6)))
        for src, ref, res in zip(srcs, reference, results):
            assert res.output == ref, drafter
            assert strip_tags(TAGS, res.output) == src
            assert res.proposed_by.count(drafter) == res.accepted <= res.drafted


def test_the_encoder_oracle_can_draft_for_itself():
    srcs = [[FIRST_TEXT_TOKEN + (i * 5 + k) % (VOCAB - FIRST_TEXT_TOKEN) for k in range(12 + 3 * i)] for i in range(3)]
    results = Engine(ORACLE, TAGS, tiny_oracle(seed=1)).run(srcs, drafter="draft")
    assert [r.output for r in results] == [naive_greedy(ORACLE, s) for s in srcs]


SHIPPED = RedactionTokenizer.from_file(DEFAULT_MODEL_DIR / "oracle" / "tokenizer.json")
TABLE = token_bytes(SHIPPED.tokenizer)


@given(st.text(max_size=80))
def test_a_chunks_text_and_offsets_are_rebuilt_from_its_tokens(text):
    ids, offsets = SHIPPED.encode(text)
    rebuilt, mine = source_text(TABLE, ids)
    assert rebuilt == text
    # Offsets agree with the tokenizer's wherever a token holds whole characters.
    for (a, b), (c, d) in zip(offsets, mine):
        if text[a:b].encode() == TABLE[ids[offsets.index((a, b))]]:
            assert (a, b) == (c, d)


def test_word_pieces_align_with_vaults_tokens_and_carry_hints_and_case():
    wp = Tokenizer.from_str(wordpiece().to_str())
    text = "Anna Berg lives in Oslo."
    ids, offsets = SHIPPED.encode(text)
    labels = [2 if text[a:b].strip() in ("Anna", "Berg") else 0 for a, b in offsets]
    inputs = encoder_inputs(wp, TABLE, [ids], [labels], SHIPPED.tags.pad)
    for k, (a, b) in enumerate(offsets):
        pieces = inputs.align[0, k].nonzero().flatten().tolist()
        assert pieces, text[a:b]  # every token with letters reads at least one piece
        assert inputs.align[0, k].sum().item() == pytest.approx(1.0)
        assert all(inputs.hints[0, j].item() == labels[k] for j in pieces)
    assert inputs.source_cases[0].tolist()[0] == casing("Anna")
    assert [casing(w) for w in ("anna", "Anna", "ANNA", "eBay", "42", "A")] == [1, 2, 3, 4, 0, 2]


def test_hint_labels_follow_the_markers():
    # source 10 11 12 13, with a hint of label 1 (marker 100) over 11 12
    assert hint_labels([10, 100, 11, 12, 101, 13], {100: 1}, 101) == [0, 1, 1, 0]


def test_an_encoder_oracle_folder_loads_like_any_model(tmp_path):
    from vault.models import load_model

    model = tiny_oracle()
    model.wordpiece = wordpiece()
    model.save_folder(tmp_path)
    SHIPPED.tokenizer.save(str(tmp_path / "tokenizer.json"))
    loaded = load_model(tmp_path, dtype=torch.float64)
    assert isinstance(loaded.model, EncoderOracle) and loaded.tags == SHIPPED.tags
    (tmp_path / "encoder_tokenizer.json").unlink()
    from vault.models import ModelError

    with pytest.raises(ModelError, match="encoder_tokenizer.json"):
        load_model(tmp_path)
