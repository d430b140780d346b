"""The training recipe's data (vault.train.dataset): gold documents to masked spans and training examples."""

import random

from vault.models import strip_tags
from vault.train import dataset, recipe
from vault.train.generate import generate, snippets

GOLD = generate(12, seed=5, split="train")
DOCS = [dataset.must_mask(d) for d in GOLD]


def test_must_mask_drops_no_mask_spans():
    doc = {"id": "d", "text": "Ann met the Court.", "spans": [
        {"start": 0, "end": 3, "label": "PERSON", "identifier": "DIRECT"},
        {"start": 12, "end": 17, "label": "ORGANIZATION", "identifier": "NO_MASK"}]}
    assert [(s.start, s.end, s.entity_type) for s in dataset.must_mask(doc)["spans"]] == [(0, 3, "PERSON")]


def test_training_examples_strip_back_to_their_source(tiny_pair_dirs):
    from vault.models import load_model

    tags = load_model(tiny_pair_dirs["oracle"]).tags
    tokenizer = load_model(tiny_pair_dirs["oracle"]).tokenizer
    pieces = DOCS[:2] + [dataset.must_mask(d) for d in snippets(GOLD[0], random.Random(1), 6)]
    for e in dataset.examples(pieces, tokenizer):
        source = e["input"][1:e["prompt_len"] - 1].tolist()  # <src> source <out>
        target = e["input"][e["prompt_len"]:].tolist() + [tags.eos]
        assert strip_tags(tags, target) == source
        assert len(e["label"]) == len(target) == len(e["allowed"])
        # the gold next token is always one the grammar allows
        assert all(mask[label] for mask, label in zip(e["allowed"], e["label"]))


def test_training_documents_add_snippets_of_generated_documents_only():
    from pathlib import Path

    docs = dataset.training_documents(3, 5, Path("no such TAB file"), snippets_per_doc=4)
    generated = generate(5, seed=3, split="train")
    assert [d["text"] for d in docs[:5]] == [d["text"] for d in generated]
    assert len(docs) > 5 and all(len(d["text"]) <= 300 for d in docs[5:])


def test_a_saved_model_folder_loads_with_the_tasks_special_tokens(tmp_path, tiny_pair_dirs):
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from vault.hints import GAZETTEER_FILE, Gazetteer
    from vault.models import load_model

    work = tmp_path / "work"
    work.mkdir()
    (work / "tokenizer.json").write_bytes((tiny_pair_dirs["oracle"] / "tokenizer.json").read_bytes())
    Gazetteer({"oluwaseun"}).save(work / GAZETTEER_FILE)
    tags = load_model(tiny_pair_dirs["oracle"]).tags
    model = LlamaForCausalLM(LlamaConfig(vocab_size=1000, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2))
    model.training_log = {"step": 3, "elapsed": 60.0, "parameters": 1, "command": "python -m vault.train.recipe"}
    recipe.save(model, work, tmp_path / "oracle", "oracle")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "oracle")
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.bos_token_id) == (tags.pad, tags.eos, tags.src)
    assert AutoModelForCausalLM.from_pretrained(tmp_path / "oracle").config.hidden_size == 16
    card = (tmp_path / "oracle" / "README.md").read_text()
    assert card.startswith("---\nlicense: mit\n") and "library_name: transformers" in card
    assert load_model(tmp_path / "oracle").gazetteer().names == {"oluwaseun"}
