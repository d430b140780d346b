"""The training data both recipes share (the causal pair's, vault.train.recipe, and the encoder oracle's,
vault.train.oracle_encoder): documents, the detectors' hints, the tokenizer and the training examples.

Its own module so that the two recipes both import it and neither imports the other.
"""

import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np
from tokenizers import trainers

from vault.evaluate import read_gold
from vault.hints import GAZETTEER_FILE
from vault.models import (
    CHUNK_TOKENS,
    SPECIAL_TOKENS,
    Grammar,
    RedactionTokenizer,
    build_prompt,
    chunk_bounds,
    hinted_source,
    new_tokenizer,
    tokens_with_tags,
)
from vault.spans import Span

# Gazetteer hints are dropped from this share of training texts' hint lists, so that the models also learn
# to find a name from its context: the generators draw most names from the same word lists.
GAZETTEER_DROPOUT = 0.15


def must_mask(doc: dict) -> dict:
    """A gold document with only the spans that must be masked (DIRECT and QUASI), as Spans."""
    spans = [Span(s["start"], s["end"], s["label"]) for s in doc["spans"] if s.get("identifier", "DIRECT") != "NO_MASK"]
    return {"id": doc["id"], "text": doc["text"], "spans": spans}


def training_documents(seed: int, n_generated: int, tab_path: Path, tab_repeat: int = 1,
                       snippets_per_doc: int = 4, n_genres: int = 0) -> list[dict]:
    # Real court text is scarcer than generated text and closer to what users redact: seen more often.
    docs = [must_mask(d) for d in read_gold(tab_path)] * tab_repeat if tab_path.exists() else []
    rng = random.Random(seed)
    if n_generated > 0:
        from vault.train.generate import generate, snippets

        generated = generate(n_generated, seed=seed, split="train")
        pieces = [s for d in generated for s in snippets(d, rng, snippets_per_doc)]
        docs += [must_mask(d) for d in generated + pieces]
    if n_genres > 0:
        from vault.train.generate import snippets
        from vault.train.genres import generate_genres

        genres = generate_genres(n_genres, seed=seed, split="train")
        pieces = [s for d in genres for s in snippets(d, rng, snippets_per_doc // 2)]
        docs += [must_mask(d) for d in genres + pieces]
    return docs


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def compute_hints(docs: list[dict], gazetteer, cache: Path | None = None, seed: int = 0) -> list[list[Span]]:
    """The hints `vault redact` computes for each text (vault.hints), cached by text in `cache` (JSONL), with
    the gazetteer's hints dropped from a seeded GAZETTEER_DROPOUT share of the documents."""
    from vault.detect import build_hinter

    known: dict[str, list] = {}
    if cache is not None and cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            known[row["sha"]] = row["hints"]
    shas = [_sha(d["text"]) for d in docs]
    todo = list({sha: d["text"] for sha, d in zip(shas, docs) if sha not in known}.values())
    if todo:
        hinter = build_hinter(gazetteer)
        for i in range(0, len(todo), 256):
            new = {_sha(text): [[h.start, h.end, h.entity_type, h.source] for h in found.hints]
                   for text, found in zip(todo[i:i + 256], hinter.analyze(todo[i:i + 256]))}
            known.update(new)
            if cache is not None:
                with cache.open("a", encoding="utf-8") as f:
                    f.writelines(json.dumps({"sha": sha, "hints": hints}) + "\n" for sha, hints in new.items())
    rng = random.Random(seed)
    out = []
    for sha in shas:
        drop = rng.random() < GAZETTEER_DROPOUT
        out.append([Span(a, b, label, 1.0, source) for a, b, label, source in known[sha]
                    if not (drop and source == "gazetteer")])
    return out


def train_tokenizer(texts: list[str], vocab_size: int, out_dir: Path) -> RedactionTokenizer:
    tok = new_tokenizer()
    from tokenizers import pre_tokenizers

    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save(str(out_dir / "tokenizer.json"))
    return RedactionTokenizer.from_file(out_dir / "tokenizer.json")


def examples(docs: list[dict], tokenizer: RedactionTokenizer, hints: list[list[Span]] | None = None,
             chunk_tokens: int = CHUNK_TOKENS) -> list[dict]:
    """Per chunk: the input sequence (prompt + target output) and, per output step, the allowed set. The
    prompt holds the chunk's hints (`hints[i]` are document i's) if the tokenizer has hint markers."""
    tags = tokenizer.tags
    out = []
    for i, doc in enumerate(docs):
        ids, offsets = tokenizer.encode(doc["text"])
        for a, b in chunk_bounds(doc["text"], offsets, chunk_tokens):
            source = ids[a:b]
            target = tokens_with_tags(tags, source, offsets[a:b], doc["spans"])
            prompt = build_prompt(tags, hinted_source(tags, source, offsets[a:b], hints[i] if hints else []))
            g = Grammar(source, tags)
            src_next, allowed, label = [], [], []
            for t in target:
                s = g.next_source()
                src_next.append(s if s is not None else tags.pad)
                allowed.append(g.allowed_mask())
                label.append(0 if t == s else 1 + tags.candidates.index(t))
                g.advance(t)
            # Compact arrays: a list of Python lists per step costs several times the memory.
            out.append(
                {
                    "input": np.array(prompt + target[:-1], dtype=np.int32),
                    "prompt_len": len(prompt),
                    "src_next": np.array(src_next, dtype=np.int32),
                    "allowed": np.array(allowed, dtype=bool),
                    "label": np.array(label, dtype=np.int8),
                }
            )
    return out


def prepare(args) -> tuple[list[dict], RedactionTokenizer, list[dict]]:
    """Documents, tokenizer and training examples, with hints; the slow parts are cached in --work."""
    from vault.hints import Gazetteer, build_gazetteer

    t0 = time.time()
    if not (args.work / GAZETTEER_FILE).exists():
        build_gazetteer().save(args.work / GAZETTEER_FILE)
    gazetteer = Gazetteer.load(args.work / GAZETTEER_FILE)
    docs = training_documents(args.seed, args.generated, args.tab, args.tab_repeat, n_genres=args.genres)
    hints = compute_hints(docs, gazetteer, args.work / "hints.jsonl", args.seed)
    if (args.work / "tokenizer.json").exists():
        tokenizer = RedactionTokenizer.from_file(args.work / "tokenizer.json")
    else:
        tokenizer = train_tokenizer(list({d["text"]: 1 for d in docs}), args.vocab, args.work)
    data = examples(docs, tokenizer, hints)
    n_tokens = sum(len(e["input"]) for e in data)
    print(f"{len(docs)} documents, {len(data)} chunks, {n_tokens} sequence tokens, prepared in {time.time() - t0:.0f} s",
          flush=True)
    return docs, tokenizer, data
