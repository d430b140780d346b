"""The default model pair's recipe: data, hints, tokenizer, training; one seeded command.

    python -m vault.train.recipe --out vault/default_models --seed 0 [--device cuda]

Data (vault.train.dataset, shared with the encoder oracle's recipe): the project's generated documents of
many genres (vault.train.genres) and of the older templated kinds (vault.train.generate), short snippets cut
from them, and ../shared/data/tab_echr_train.jsonl (DIRECT and QUASI spans; TAB's labels mapped to vault's).
Every text gets the detector hints that `vault redact` will compute (vault.hints: spaCy NER, Presidio's
pattern recognizers, the gazetteer), so the models learn when to trust, extend, relabel or reject them. The
loss is restricted to the tokens the redaction grammar allows at each output step, so copying costs nothing
to learn and all capacity goes to the tag decisions.
Training checkpoints every few minutes and continues from the checkpoint when rerun (across sessions too:
the hints are cached in the work folder). The same command runs on a GPU with --device cuda.
"""

import argparse
import json
import math
import random
import sys
from pathlib import Path

import torch
from transformers import LlamaConfig, LlamaForCausalLM

from vault.evaluate import read_gold
from vault.hints import GAZETTEER_FILE
from vault.models import CHUNK_TOKENS, EOS, PAD, SRC, RedactionTokenizer
from vault.train.dataset import prepare
from vault.train.loop import batches_by_length, optimizer_step, restore, run_for

SIZES = {
    # v3's oracle: one pass over a 400-token chunk takes about 0.075 s on 2 CPU cores.
    "oracle-small": dict(hidden_size=256, intermediate_size=768, num_hidden_layers=8, num_attention_heads=4, num_key_value_heads=4),
    # 1.5x the width: about 2.2x the compute per token.
    "oracle": dict(hidden_size=384, intermediate_size=1152, num_hidden_layers=8, num_attention_heads=6, num_key_value_heads=6),
    "oracle-large": dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=10, num_attention_heads=8, num_key_value_heads=8),
    "draft": dict(hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2),
}


# ---------------------------------------------------------------------------------------------- loss


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
        ids[r, :n] = torch.from_numpy(e["input"])
        attn[r, :n] = 1
        where[r, :m] = torch.arange(e["prompt_len"] - 1, e["prompt_len"] - 1 + m)
        cands[r, :m, 0] = torch.from_numpy(e["src_next"])
        cands[r, :m, 1:] = torch.tensor(tag_ids)
        allowed[r, :m] = torch.from_numpy(e["allowed"])
        label[r, :m] = torch.from_numpy(e["label"])
    return ids, attn, where, cands, allowed, label


def restricted_scores(model, ids, attn, where, cands, allowed) -> torch.Tensor:
    """Each output step's logits over the tokens the grammar allows there (the rest at -1e4)."""
    hidden = model.model(input_ids=ids, attention_mask=attn).last_hidden_state
    hidden = hidden.gather(1, where[..., None].expand(-1, -1, hidden.shape[-1]))
    weights = model.lm_head.weight[cands]  # [B, steps, C, H]
    scores = torch.einsum("bsh,bsch->bsc", hidden, weights).float()
    return scores.masked_fill(~allowed, -1e4)


def teacher_scores(teacher, examples: list[dict], batch, tags) -> torch.Tensor:
    """The teacher's restricted scores on a batch: a causal LM reads the same inputs; an encoder oracle
    (vault.encoder_oracle) reads the same chunks its own way. Same steps and candidates either way."""
    with torch.no_grad():
        if hasattr(teacher, "source_states"):
            from vault.train import oracle_encoder

            mine = oracle_encoder.collate(teacher, oracle_encoder.to_examples(examples, tags), tags)
            return oracle_encoder.restricted_scores(teacher, mine.to(batch[0].device))
        return restricted_scores(teacher, *batch[:5])


def restricted_loss(model, ids, attn, where, cands, allowed, label, teacher_scores=None) -> torch.Tensor:
    """Cross-entropy of each output step over the allowed tokens; with a teacher's scores, the KL divergence
    from the teacher's distribution over them instead (a draft distilled from its oracle agrees with it more
    often, and agreement is what makes drafts accepted)."""
    scores = restricted_scores(model, ids, attn, where, cands, allowed)
    if teacher_scores is None:
        return torch.nn.functional.cross_entropy(scores.flatten(0, 1), label.flatten(), ignore_index=-100)
    target = torch.log_softmax(teacher_scores.float(), dim=-1)
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


def train(role: str, size: str, data: list[dict], tokenizer: RedactionTokenizer, work: Path, minutes: float,
          seed: int, device: str = "cpu", tokens_per_batch: int = 6000, lr: float = 3e-3,
          teacher: torch.nn.Module | None = None, init: Path | None = None) -> LlamaForCausalLM:
    """Train for a wall-clock budget; checkpoint every few minutes; continue from a checkpoint if present.
    `init`: a model folder of the same size whose weights start the run (its vocabulary may be smaller: the
    new tokens' rows start fresh)."""
    tags = tokenizer.tags
    model = make_model(size, tokenizer, seed)
    if init is not None:
        _start_from(model, init)
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.98), weight_decay=0.01)
    ckpt = work / f"{role}.ckpt"
    state = {"step": 0, "elapsed": 0.0, "log": [], "size": size}
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False, map_location=device)
        if saved["state"].get("size", size) != size:
            raise SystemExit(f"{ckpt} holds a {saved['state']['size']} model, not {size}: use another --work folder")
        state = restore(saved, model, opt, f"[{role}] ")
    rng = random.Random(seed + state["step"])
    # Batches of similar length, about `tokens_per_batch` input tokens each.
    batches = batches_by_length([len(e["input"]) for e in data], tokens_per_batch)
    budget = minutes * 60

    def train_step(b: list[int], elapsed: float) -> torch.Tensor:
        # Warm up, then cosine decay over the wall-clock budget.
        frac = elapsed / budget
        scale = min(1.0, (state["step"] + 1) / 100) * 0.5 * (1 + math.cos(math.pi * frac))
        for group in opt.param_groups:
            group["lr"] = lr * max(scale, 0.02)
        batch = [t.to(device) for t in collate([data[i] for i in b], tags.pad, tags.candidates)]
        # bf16 autocast: about 1.35x faster on CPUs with avx512_bf16, same loss curve; native on GPUs.
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
            target = None if teacher is None else teacher_scores(teacher, [data[i] for i in b], batch, tags)
            loss = restricted_loss(model, *batch, teacher_scores=target)
        optimizer_step(opt, loss, model.parameters())
        return loss

    def save() -> None:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt)

    model.train()
    run_for(budget, state, batches, rng, train_step, save, log_every=50, prefix=f"[{role}] ")
    model.eval().to("cpu")
    model.training_log = state
    return model


def _start_from(model: LlamaForCausalLM, init: Path) -> None:
    """The weights of the model folder `init`; where its vocabulary is smaller, the new tokens' rows keep
    their fresh values."""
    from safetensors.torch import load_file

    start = load_file(str(init / "model.safetensors"))
    mine = model.state_dict()
    for name, value in start.items():
        rows = min(value.shape[0], mine[name].shape[0]) if value.dim() else None
        mine[name][:rows] = value[:rows].to(mine[name].dtype)
    model.load_state_dict(mine)


# So that AutoTokenizer loads the folder with the task's special tokens (vault itself reads tokenizer.json).
TOKENIZER_CONFIG = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": SRC, "eos_token": EOS, "pad_token": PAD,
                    "model_max_length": 2048, "clean_up_tokenization_spaces": False}


def save(model: LlamaForCausalLM, work: Path, out: Path, role: str) -> None:
    """The model, with the tokenizer and gazetteer it was trained with and its own model card, as a Hugging
    Face folder that AutoModelForCausalLM and AutoTokenizer load as it is."""
    out.mkdir(parents=True, exist_ok=True)
    # 16-bit weights keep the shipped files small; vault upcasts them on load.
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    model.to(torch.float32)
    for name in ("tokenizer.json", GAZETTEER_FILE):
        (out / name).write_bytes((work / name).read_bytes())
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=1) + "\n")
    log = getattr(model, "training_log", {})
    (out / "training_log.json").write_text(json.dumps(log, indent=1))
    (out / "README.md").write_text(folder_card(role, log, model.config), encoding="utf-8")


def folder_card(role: str, log: dict, config) -> str:
    """A Hugging Face model card for one model of the pair; the pair's card (../README.md) has the figures."""
    other = "draft" if role == "oracle" else "oracle"
    job = ("verifies every token the draft proposes; its greedy output is vault's output" if role == "oracle"
           else "proposes the redacted text for the oracle to verify (speculative decoding)")
    return "\n".join([
        "---", "license: mit", "library_name: transformers", "pipeline_tag: text-generation",
        "tags: [vault, redaction, pii, anonymization, speculative-decoding]", "---", "",
        f"# vault {role}", "",
        f"The {role} of vault's default model pair: it {job}. A {config.num_hidden_layers}-layer Llama, hidden size "
        f"{config.hidden_size}, {log.get('parameters', 0):,} parameters, trained from scratch for "
        f"{log.get('elapsed', 0) / 60:.0f} minutes ({log.get('step', 0)} steps) by `vault/train/recipe.py`; the "
        f"{other} shares its tokenizer. Figures, data and history: [the pair's card](../README.md).", "",
        "The task: the prompt is `<src>`, the source tokens with detector hints (`<hint:LABEL>` ... `</hint>`, from "
        "spaCy's NER, Presidio's pattern recognizers and `gazetteer.json.gz`), then `<out>`; the output is the same "
        "source tokens with `<ent:TYPE>` ... `</ent>` around each sensitive span, then `<eos>`. vault decodes it under "
        "a grammar that allows only the next source token, a tag or `<eos>`, so the output can never alter the text.", "",
        "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
        f'model = AutoModelForCausalLM.from_pretrained("vault/default_models/{role}")',
        f'tokenizer = AutoTokenizer.from_pretrained("vault/default_models/{role}")', "```", "",
        f"Training command: `{log.get('command', '')}`", ""])



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("vault/default_models"))
    parser.add_argument("--work", type=Path, default=Path("runs/recipe"), help="checkpoints and cached data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genres", type=int, default=6000, help="generated training documents of many genres")
    parser.add_argument("--generated", type=int, default=1500, help="generated documents of the older templated kinds")
    parser.add_argument("--tab-repeat", type=int, default=4, help="times each TAB training document is seen per epoch")
    parser.add_argument("--tab", type=Path, default=Path("../shared/data/tab_echr_train.jsonl"))
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--oracle-size", choices=[k for k in SIZES if k.startswith("oracle")], default="oracle")
    parser.add_argument("--oracle-minutes", type=float, default=45)
    parser.add_argument("--draft-minutes", type=float, default=10)
    parser.add_argument("--only", choices=["oracle", "draft"], help="train one model only")
    parser.add_argument("--distill", action="store_true", help="train the draft on the trained oracle's distributions")
    parser.add_argument("--teacher", type=Path, help="the oracle folder to distil from (default: OUT/oracle)")
    parser.add_argument("--draft-init", type=Path, help="a draft folder whose weights start the draft's training")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--tokens-per-batch", type=int, default=6000, help="about 6000 on a CPU; 10x that on a GPU")
    parser.add_argument("--card-only", action="store_true", help="only measure the pair in --out and write its card")
    parser.add_argument("--no-card", action="store_true", help="do not measure the pair after training")
    args = parser.parse_args()
    if args.card_only:
        write_card(args.out, measure(args.out))
        return
    torch.manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    docs, tokenizer, data = prepare(args)
    n_tokens = sum(len(e["input"]) for e in data)
    for role, size, minutes in (("oracle", args.oracle_size, args.oracle_minutes), ("draft", "draft", args.draft_minutes)):
        if args.only and role != args.only:
            continue
        teacher = None
        if role == "draft" and args.distill:
            from vault.models import load_model

            teacher = load_model(args.teacher or args.out / "oracle").model.eval().to(args.device)
        model = train(role, size, data, tokenizer, args.work, minutes, args.seed, args.device, args.tokens_per_batch,
                      teacher=teacher, init=args.draft_init if role == "draft" else None)
        model.training_log.update(documents=len(docs), chunks=len(data), sequence_tokens=n_tokens,
                                  parameters=sum(p.numel() for p in model.parameters()),
                                  command="python -m vault.train.recipe " + " ".join(sys.argv[1:]))
        save(model, args.work, args.out / role, role)
        print(f"[{role}] saved to {args.out / role}", flush=True)
    if not args.no_card and all((args.out / role / "training_log.json").exists() for role in ("oracle", "draft")):
        write_card(args.out, measure(args.out))
        print(f"model card: {args.out / 'README.md'}", flush=True)


# The card's evaluation sets: (name, gold file in the repository, policy). The wild and everyday sets were
# written by hand, never by the generators (data/eval_src/README.md); the held-out sets come from the
# generator's family; TAB dev is real court text.
EVAL_SETS = (
    ("tab_echr_dev", "data/tab_echr_dev.jsonl", "strict"),
    ("wild", "data/wild.jsonl", "strict"),
    ("everyday", "data/everyday.jsonl", "default"),
    ("everyday_strict", "data/everyday.jsonl", "strict"),
    ("heldout_generated", "data/heldout.jsonl", "strict"),
    ("heldout_fields", "data/heldout_fields.jsonl", "strict"),
)


def measure(out: Path, root: Path = Path(".")) -> dict:
    """The pair's quality on EVAL_SETS through the same path as `vault redact`, beside Presidio's default
    analyzer on the same texts."""
    from vault.evaluate import evaluate_presidio, evaluate_vault
    from vault.models import load_pair
    from vault.pipeline import Redactor
    from vault.policy import load_policy

    draft, oracle = load_pair(out / "draft", out / "oracle")
    redactors, metrics = {}, {}
    for name, path, policy in EVAL_SETS:
        docs = read_gold(root / path)
        if policy not in redactors:
            redactors[policy] = Redactor(draft, oracle, load_policy(policy), key=b"model card")
        metrics[name] = {"policy": policy, "documents": len(docs), "vault": evaluate_vault(docs, redactors[policy]),
                         "presidio": evaluate_presidio(docs, redactors[policy].policy.redacts)}
    return metrics


def write_card(out: Path, metrics: dict) -> None:
    """The pair's card: what the models are, how they were trained, and what they measure (metrics.json)."""
    logs = {role: json.loads((out / role / "training_log.json").read_text()) for role in ("oracle", "draft")}
    encoder = "encoder" in json.loads((out / "oracle" / "config.json").read_text())
    about = (["The oracle reads each chunk with a BERT encoder fine-tuned from `sentence-transformers/all-MiniLM-L6-v2`",
              "(Apache-2.0, `oracle/LICENSE-all-MiniLM-L6-v2`) and writes vault's tagged output with a small causal decoder",
              "(vault/encoder_oracle.py; trained by `vault/train/oracle_encoder.py`); the draft, a Llama-architecture causal",
              "LM, is distilled from it by `vault/train/recipe.py`. Both write `<src>` + source tokens + `<out>`, then the",
              "same tokens with `<ent:TYPE>` / `</ent>` tags, then `<eos>` (DESIGN.md). Trained on the project's generated",
              "documents and `tab_echr_train.jsonl` (MIT)"] if encoder else
             ["Two Llama-architecture causal LMs for vault's redaction task (DESIGN.md): `<src>` + source tokens with",
              "detector hints + `<out>`, then the same tokens with `<ent:TYPE>` / `</ent>` tags, then `<eos>`. Trained",
              "from scratch by `vault/train/recipe.py` on the project's generated documents and `tab_echr_train.jsonl`",
              "(MIT)"])
    lines = ["# vault default model pair", "", *about[:-1], about[-1] + "; weights in bfloat16 safetensors, loaded as "
             "float32. Each folder has its own card.", "",
             "| model | parameters | layers | hidden | steps | training minutes |", "| --- | --- | --- | --- | --- | --- |"]
    for role in ("oracle", "draft"):
        log = logs[role]
        config = json.loads((out / role / "config.json").read_text())
        if "encoder" in config:  # an encoder oracle (vault.encoder_oracle): encoder + decoder
            layers = f"{config['encoder']['num_hidden_layers']} + {config['decoder']['num_hidden_layers']}"
            hidden = f"{config['encoder']['hidden_size']} / {config['decoder']['hidden_size']}"
        else:
            layers, hidden = config["num_hidden_layers"], config["hidden_size"]
        lines.append(f"| {role} | {log.get('parameters', 0):,} | {layers} | {hidden} | "
                     f"{log.get('step', 0)} | {log.get('elapsed', 0) / 60:.1f} |")
    log = {**logs["draft"], **logs["oracle"]}  # an encoder oracle's log does not count the documents
    lines += ["", f"Data: {log.get('documents')} documents ({log.get('chunks')} chunks of at most {CHUNK_TOKENS} tokens, "
              f"{log.get('sequence_tokens')} sequence tokens per epoch); byte-level BPE of 8,000 trained on the same texts, "
              "punctuation split into single characters first.", "",
              f"Oracle command: `{log.get('command')}`", "", f"Draft command: `{logs['draft'].get('command')}`", "",
              "## Quality (same code path as `vault redact`; Presidio's default analyzer with `en_core_web_sm` beside it)", "",
              "| set | policy | system | leak | mention recall | DIRECT recall | precision | F1 | direct identifiers visible "
              "| exact lines | label accuracy | words swallowed per 1,000 |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in metrics.items():
        for system in ("vault", "presidio"):
            r = m[system]
            visible = sum(r.get("visible", {}).values())
            lines.append(f"| {name if system == 'vault' else ''} | {m['policy'] if system == 'vault' else ''} | {system} | "
                         f"{r['leak']} | {r['mention_recall']} | {r['direct_recall']} | {r['precision']} | {r['f1']} | {visible} "
                         f"| {r.get('exact_lines')} | {r.get('label_accuracy')} | {r.get('words_swallowed')} |")
    lines += ["", "Per entity type, vault (mention recall / precision):", ""]
    for name, m in metrics.items():
        cells = ", ".join(f"{t} {v['mention_recall']}/{v['precision']}" for t, v in m["vault"]["per_type"].items())
        lines.append(f"- {name}: {cells}")
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
