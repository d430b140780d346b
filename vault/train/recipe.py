"""The default model pair's recipe: data, tokenizer, training; one seeded command.

    python -m vault.train.recipe --out vault/default_models --seed 0

Data: the project's generated documents (vault.train.generate) plus ../shared/data/tab_echr_train.jsonl
(DIRECT and QUASI spans; TAB's labels mapped to vault's). The loss is restricted to the tokens the
redaction grammar allows at each output step, so copying costs nothing to learn and all capacity goes to
the tag decisions. Training checkpoints every few minutes and continues from the checkpoint when rerun.
"""

import argparse
import sys
import json
import math
import random
import time
from pathlib import Path

import torch
from tokenizers import trainers
from transformers import LlamaConfig, LlamaForCausalLM

from vault.models import (
    SPECIAL_TOKENS,
    Grammar,
    RedactionTokenizer,
    build_prompt,
    chunk_bounds,
    new_tokenizer,
    tokens_with_tags,
)
from vault.evaluate import read_gold
from vault.spans import Span

CHUNK_TOKENS = 256
SIZES = {
    # Sized so one oracle pass over a 400-token chunk is well under a second on 2 CPU cores; the draft
    # has over 5x fewer parameters.
    "oracle": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=8, num_attention_heads=4, num_key_value_heads=4),
    "draft": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2),
}


# ---------------------------------------------------------------------------------------------- data


def must_mask(doc: dict) -> dict:
    """A gold document with only the spans that must be masked (DIRECT and QUASI), as Spans."""
    spans = [Span(s["start"], s["end"], s["label"]) for s in doc["spans"] if s.get("identifier", "DIRECT") != "NO_MASK"]
    return {"id": doc["id"], "text": doc["text"], "spans": spans}


def training_documents(seed: int, n_generated: int, tab_path: Path, tab_repeat: int = 1,
                       snippets_per_doc: int = 4) -> list[dict]:
    # Real court text is scarcer than generated text and closer to what users redact: seen more often.
    docs = [must_mask(d) for d in read_gold(tab_path)] * tab_repeat if tab_path.exists() else []
    if n_generated <= 0:
        return docs
    from vault.train.generate import generate, snippets

    generated = generate(n_generated, seed=seed, split="train")
    rng = random.Random(seed)
    pieces = [s for d in generated for s in snippets(d, rng, snippets_per_doc)]
    return docs + [must_mask(d) for d in generated + pieces]


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


def examples(docs: list[dict], tokenizer: RedactionTokenizer, chunk_tokens: int = CHUNK_TOKENS) -> list[dict]:
    """Per chunk: the input sequence (prompt + target output) and, per output step, the allowed set."""
    tags = tokenizer.tags
    n_open = len(tags.open_ids)
    out = []
    for doc in docs:
        ids, offsets = tokenizer.encode(doc["text"])
        for a, b in chunk_bounds(doc["text"], offsets, chunk_tokens):
            source = ids[a:b]
            target = tokens_with_tags(tags, source, offsets[a:b], doc["spans"])
            g = Grammar(source, tags)
            src_next, allowed, label = [], [], []
            for t in target:
                s = g.next_source()
                mask = [s is not None] + [False] * (n_open + 2)
                tag_list = g.allowed_tags()
                for k, tag in enumerate([*tags.open_ids, tags.close, tags.eos]):
                    mask[1 + k] = tag in tag_list
                src_next.append(s if s is not None else tags.pad)
                allowed.append(mask)
                label.append(0 if t == s else 1 + [*tags.open_ids, tags.close, tags.eos].index(t))
                g.advance(t)
            out.append(
                {
                    "input": build_prompt(tags, source) + target[:-1],
                    "prompt_len": len(source) + 2,
                    "src_next": src_next,
                    "allowed": allowed,
                    "label": label,
                }
            )
    return out


def collate(batch: list[dict], pad: int, tag_ids: list[int]):
    width = max(len(e["input"]) for e in batch)
    steps = max(len(e["label"]) for e in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    attn = torch.zeros((len(batch), width), dtype=torch.long)
    where = torch.zeros((len(batch), steps), dtype=torch.long)  # input position whose logits predict step j
    cands = torch.full((len(batch), steps, 1 + len(tag_ids)), pad, dtype=torch.long)
    allowed = torch.zeros((len(batch), steps, 1 + len(tag_ids)), dtype=torch.bool)
    label = torch.full((len(batch), steps), -100, dtype=torch.long)
    for r, e in enumerate(batch):
        n, m = len(e["input"]), len(e["label"])
        ids[r, :n] = torch.tensor(e["input"])
        attn[r, :n] = 1
        where[r, :m] = torch.arange(e["prompt_len"] - 1, e["prompt_len"] - 1 + m)
        cands[r, :m, 0] = torch.tensor(e["src_next"])
        cands[r, :m, 1:] = torch.tensor(tag_ids)
        allowed[r, :m] = torch.tensor(e["allowed"])
        label[r, :m] = torch.tensor(e["label"])
    return ids, attn, where, cands, allowed, label


def restricted_scores(model, ids, attn, where, cands, allowed) -> torch.Tensor:
    """Each output step's logits over the tokens the grammar allows there (the rest at -1e4)."""
    hidden = model.model(input_ids=ids, attention_mask=attn).last_hidden_state
    hidden = hidden.gather(1, where[..., None].expand(-1, -1, hidden.shape[-1]))
    weights = model.lm_head.weight[cands]  # [B, steps, C, H]
    scores = torch.einsum("bsh,bsch->bsc", hidden, weights).float()
    return scores.masked_fill(~allowed, -1e4)


def restricted_loss(model, ids, attn, where, cands, allowed, label, teacher=None) -> torch.Tensor:
    """Cross-entropy of each output step over the allowed tokens; with a teacher, the KL divergence from
    the teacher's distribution over them instead (a draft distilled from its oracle agrees with it more
    often, and agreement is what makes drafts accepted)."""
    scores = restricted_scores(model, ids, attn, where, cands, allowed)
    if teacher is None:
        return torch.nn.functional.cross_entropy(scores.flatten(0, 1), label.flatten(), ignore_index=-100)
    with torch.no_grad():
        target = torch.log_softmax(restricted_scores(teacher, ids, attn, where, cands, allowed), dim=-1)
    steps = label >= 0
    kl = torch.nn.functional.kl_div(torch.log_softmax(scores, dim=-1)[steps], target[steps], log_target=True,
                                    reduction="batchmean")
    return kl


# ---------------------------------------------------------------------------------------------- training


def make_model(size: str, tokenizer: RedactionTokenizer, seed: int) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=tokenizer.vocab_size,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.tags.pad,
        bos_token_id=tokenizer.tags.src,
        eos_token_id=tokenizer.tags.eos,
        **SIZES[size],
    )
    return LlamaForCausalLM(config)


def train(size: str, data: list[dict], tokenizer: RedactionTokenizer, work: Path, minutes: float, seed: int,
          tokens_per_batch: int = 6000, lr: float = 3e-3, teacher: LlamaForCausalLM | None = None) -> LlamaForCausalLM:
    """Train for a wall-clock budget; checkpoint every few minutes; continue from a checkpoint if present."""
    tags = tokenizer.tags
    tag_ids = [*tags.open_ids, tags.close, tags.eos]
    model = make_model(size, tokenizer, seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt = work / f"{size}.ckpt"
    state = {"step": 0, "elapsed": 0.0, "log": []}
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        print(f"[{size}] resuming at step {state['step']}, {state['elapsed'] / 60:.1f} min done", flush=True)
    rng = random.Random(seed + state["step"])
    # Batches of similar length, about `tokens_per_batch` input tokens each.
    order = sorted(range(len(data)), key=lambda i: len(data[i]["input"]))
    batches, cur = [], []
    for i in order:
        cur.append(i)
        if len(cur) * len(data[i]["input"]) >= tokens_per_batch:
            batches.append(cur)
            cur = []
    if cur:
        batches.append(cur)
    budget, started, last_save = minutes * 60, time.time() - state["elapsed"], time.time()
    est_steps = max(100, state.get("est_steps", 0))
    model.train()
    while time.time() - started < budget:
        rng.shuffle(batches)
        for b in batches:
            elapsed = time.time() - started
            if elapsed >= budget:
                break
            # Warm up, then cosine decay over the wall-clock budget.
            frac = elapsed / budget
            scale = min(1.0, (state["step"] + 1) / 100) * 0.5 * (1 + math.cos(math.pi * frac))
            for group in opt.param_groups:
                group["lr"] = lr * max(scale, 0.02)
            # bf16 autocast: about 1.35x faster on CPUs with avx512_bf16, same loss curve.
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = restricted_loss(model, *collate([data[i] for i in b], tags.pad, tag_ids), teacher=teacher)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            state["step"] += 1
            if state["step"] % 50 == 0:
                state["log"].append((state["step"], round(elapsed / 60, 2), round(loss.item(), 4)))
                print(f"[{size}] step {state['step']} {elapsed / 60:.1f} min loss {loss.item():.4f}", flush=True)
            if time.time() - last_save > 180:
                state["elapsed"], state["est_steps"] = time.time() - started, est_steps
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)
                last_save = time.time()
    state["elapsed"] = time.time() - started
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)
    model.eval()
    model.training_log = state
    return model


def save(model: LlamaForCausalLM, tokenizer_dir: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # 16-bit weights keep the shipped files small; vault upcasts them on load.
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    model.to(torch.float32)
    (out / "tokenizer.json").write_bytes((tokenizer_dir / "tokenizer.json").read_bytes())
    (out / "training_log.json").write_text(json.dumps(getattr(model, "training_log", {}), indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("vault/default_models"))
    parser.add_argument("--work", type=Path, default=Path("runs/recipe"), help="checkpoints and cached data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generated", type=int, default=1500, help="generated training documents")
    parser.add_argument("--tab-repeat", type=int, default=4, help="times each TAB training document is seen per epoch")
    parser.add_argument("--tab", type=Path, default=Path("../shared/data/tab_echr_train.jsonl"))
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--oracle-minutes", type=float, default=45)
    parser.add_argument("--draft-minutes", type=float, default=10)
    parser.add_argument("--only", choices=["oracle", "draft"], help="train one model only")
    parser.add_argument("--distill", action="store_true", help="train the draft on the trained oracle's distributions")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    docs = training_documents(args.seed, args.generated, args.tab, args.tab_repeat)
    if (args.work / "tokenizer.json").exists():
        tokenizer = RedactionTokenizer.from_file(args.work / "tokenizer.json")
    else:
        tokenizer = train_tokenizer(list({d["text"]: 1 for d in docs}), args.vocab, args.work)
    data = examples(docs, tokenizer)
    n_tokens = sum(len(e["input"]) for e in data)
    print(f"{len(docs)} documents, {len(data)} chunks, {n_tokens} sequence tokens, prepared in {time.time() - t0:.0f} s", flush=True)
    for size, minutes in (("oracle", args.oracle_minutes), ("draft", args.draft_minutes)):
        if args.only and size != args.only:
            continue
        teacher = None
        if size == "draft" and args.distill:
            from transformers import AutoModelForCausalLM

            teacher = AutoModelForCausalLM.from_pretrained(args.out / "oracle", dtype=torch.float32).eval()
        model = train(size, data, tokenizer, args.work, minutes, args.seed, teacher=teacher)
        model.training_log.update(documents=len(docs), chunks=len(data), sequence_tokens=n_tokens,
                                  parameters=sum(p.numel() for p in model.parameters()),
                                  command="python -m vault.train.recipe " + " ".join(sys.argv[1:]))
        save(model, args.work, args.out / size)
        print(f"[{size}] saved to {args.out / size}", flush=True)
    if all((args.out / size / "training_log.json").exists() for size in ("oracle", "draft")):
        write_card(args.out, measure(args.out, args.tab.parent / "tab_echr_dev.jsonl"))
        print(f"model card: {args.out / 'README.md'}", flush=True)


def measure(out: Path, tab_dev: Path, n_heldout: int = 100) -> dict:
    """The pair's quality under policies/strict.yaml, through the same path as `vault redact`."""
    from vault.evaluate import evaluate_vault
    from vault.models import load_pair
    from vault.pipeline import Redactor
    from vault.policy import load_policy
    from vault.train.generate import generate, snippets

    draft, oracle = load_pair(out / "draft", out / "oracle")
    redactor = Redactor(draft, oracle, load_policy("strict"), key=b"model card")
    metrics = {}
    if tab_dev.exists():
        metrics["tab_echr_dev"] = evaluate_vault(read_gold(tab_dev), redactor)
    # The same documents as data/heldout.jsonl: generate(n) is a prefix of generate(m) for one seed.
    heldout = generate(n_heldout, seed=424242, split="heldout")
    metrics["heldout_generated"] = evaluate_vault(heldout, redactor)
    # The same texts as data/heldout_fields.jsonl.
    rng = random.Random(424242)
    metrics["heldout_fields"] = evaluate_vault([s for d in heldout for s in snippets(d, rng, 4)], redactor)
    return metrics


def write_card(out: Path, metrics: dict) -> None:
    logs = {size: json.loads((out / size / "training_log.json").read_text()) for size in ("oracle", "draft")}
    lines = ["# vault default model pair", "",
             "Two Llama-architecture causal LMs for vault's redaction task (DESIGN.md): `<src>` + source tokens + `<out>`,",
             "then the same tokens with `<ent:TYPE>` / `</ent>` tags, then `<eos>`. Trained from scratch by",
             "`vault/train/recipe.py` on the project's generated documents and `tab_echr_train.jsonl` (MIT);",
             "weights in bfloat16 safetensors, loaded as float32.", "",
             "| model | parameters | layers | hidden | steps | training minutes |", "| --- | --- | --- | --- | --- | --- |"]
    for size in ("oracle", "draft"):
        log, cfg = logs[size], SIZES[size]
        lines.append(f"| {size} | {log.get('parameters', 0):,} | {cfg['num_hidden_layers']} | {cfg['hidden_size']} | "
                     f"{log.get('step', 0)} | {log.get('elapsed', 0) / 60:.1f} |")
    log = logs["oracle"]
    lines += ["", f"Data: {log.get('documents')} documents ({log.get('chunks')} chunks of at most {CHUNK_TOKENS} tokens, "
              f"{log.get('sequence_tokens')} sequence tokens per epoch); byte-level BPE of 8,000 trained on the same texts, "
              "punctuation split into single characters first.", "", f"Command: `{log.get('command')}`", "",
              "## Quality (policy `strict`, same code path as `vault redact`)", "",
              "| set | leak | mention recall | DIRECT recall | precision | F1 |", "| --- | --- | --- | --- | --- | --- |"]
    for name, m in metrics.items():
        lines.append(f"| {name} | {m['leak']} | {m['mention_recall']} | {m['direct_recall']} | {m['precision']} | {m['f1']} |")
    lines += ["", "Per entity type (mention recall / precision):", ""]
    for name, m in metrics.items():
        cells = ", ".join(f"{t} {v['mention_recall']}/{v['precision']}" for t, v in m["per_type"].items())
        lines.append(f"- {name}: {cells}")
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
