"""An oracle that reads with a pretrained encoder and writes with a small causal decoder.

The encoder (a BERT, fine-tuned from all-MiniLM-L6-v2) reads a chunk's text once, with the detectors' hints
and the capitalisation it cannot see (it is uncased) added to its input embeddings. Each source token of
vault's byte-level BPE gets the mean of the encoder states of the word pieces that overlap it (aligned by
character offsets), plus its own token embedding and casing. The decoder writes vault's output exactly as
a causal LM oracle does (the same tokens and tags, under the same grammar); its input at each output step
adds the state of the source token it is about to copy. The output is monotonic in the source, so that one
aligned state replaces cross-attention, and speculative decoding verifies a draft with decoder passes only.

Stored as plain files in one folder: `config.json` (`"model_type": "vault-encoder-oracle"`, the encoder's
BERT config and the decoder's Llama config), `model.safetensors`, vault's `tokenizer.json` and the encoder's
word-piece tokenizer `encoder_tokenizer.json`.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, pre_tokenizers

MODEL_TYPE = "vault-encoder-oracle"
ENCODER_TOKENIZER = "encoder_tokenizer.json"
MAX_PIECES = 512  # the encoder's position limit; word pieces past it give their tokens no encoder state
# Casing classes of a piece of text: what an uncased encoder cannot see.
NO_LETTERS, LOWER, TITLE, UPPER, MIXED = range(5)


def casing(text: str) -> int:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return NO_LETTERS
    if all(c.islower() for c in letters):
        return LOWER
    if all(c.isupper() for c in letters):
        return UPPER if len(letters) > 1 else TITLE
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return TITLE
    return MIXED


def token_bytes(tokenizer: Tokenizer) -> list[bytes]:
    """The bytes each id of a byte-level BPE stands for (special tokens: none; they are never source)."""
    byte_of = {ch: b for b, ch in byte_alphabet().items()}
    table = [b""] * tokenizer.get_vocab_size()
    special = {t.content for t in tokenizer.get_added_tokens_decoder().values()}
    for piece, i in tokenizer.get_vocab().items():
        if piece not in special and i < len(table):
            table[i] = bytes(byte_of[ch] for ch in piece if ch in byte_of)
    return table


def byte_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character map, which byte-level BPE vocabularies are written in."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    assert set(out.values()) >= set(pre_tokenizers.ByteLevel.alphabet())
    return out


def source_text(table: list[bytes], source: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """A chunk's text rebuilt from its token ids, and each token's character range in it."""
    pieces = [table[t] for t in source]
    data = b"".join(pieces)
    text = data.decode("utf-8", errors="replace")
    # Character index of every byte position (a token that splits a character gets the character's start).
    char_at = np.zeros(len(data) + 1, dtype=np.int64)
    pos = 0
    for ch_index, ch in enumerate(text):
        n = len(ch.encode("utf-8")) if ch != "\ufffd" else 1
        char_at[pos : pos + n] = ch_index
        pos += n
        if pos >= len(data):
            break
    char_at[pos:] = len(text)
    offsets, at = [], 0
    for p in pieces:
        offsets.append((int(char_at[at]), int(char_at[at + len(p)]) if at + len(p) < len(data) else len(text)))
        at += len(p)
    return text, offsets


def hint_index(tags) -> dict[int, int]:
    """Hint-marker token id -> the label's number as the encoder's hint embedding counts them (1 + its place
    in vault.hints.HINT_LABELS; 0 is no hint)."""
    from vault.hints import HINT_LABELS

    return {tags.hints[label]: 1 + i for i, label in enumerate(HINT_LABELS) if label in tags.hints}


def hint_labels(reading: list[int], hint_ids: dict[int, int], close: int | None) -> list[int]:
    """Per source token of a hinted reading (models.hinted_source): 0, or 1 + the index of the hint
    covering it."""
    labels, current = [], 0
    for t in reading:
        if t in hint_ids:
            current = hint_ids[t]
        elif t == close:
            current = 0
        else:
            labels.append(current)
    return labels


@dataclass
class EncoderInputs:
    """A batch of chunks as the encoder reads them, and how its word pieces map onto vault's tokens."""

    pieces: torch.Tensor  # [B, W] word-piece ids
    mask: torch.Tensor  # [B, W]
    hints: torch.Tensor  # [B, W] hint label of each piece (0: none)
    cases: torch.Tensor  # [B, W] casing of each piece's original text
    align: torch.Tensor  # [B, S, W] mean over the pieces overlapping each source token
    sources: torch.Tensor  # [B, S] source token ids (pad past the end)
    source_cases: torch.Tensor  # [B, S]
    lengths: list[int]  # source tokens per row

    def to(self, device) -> "EncoderInputs":
        moved = {f: getattr(self, f).to(device) for f in ("pieces", "mask", "hints", "cases", "align", "sources", "source_cases")}
        return EncoderInputs(**moved, lengths=self.lengths)


def encoder_inputs(wordpiece: Tokenizer, table: list[bytes], sources: list[list[int]], labels: list[list[int]],
                   pad: int) -> EncoderInputs:
    rows = []
    for source, hint in zip(sources, labels):
        text, offsets = source_text(table, source)
        enc = wordpiece.encode(text)
        ids, spans = enc.ids[:MAX_PIECES], enc.offsets[:MAX_PIECES]
        piece_hint, piece_case = [0] * len(ids), [NO_LETTERS] * len(ids)
        pairs = []  # (source token, piece)
        real = [(j, pa, pb) for j, (pa, pb) in enumerate(spans) if pa < pb]  # [CLS] and [SEP] cover nothing
        first = 0  # both sequences run left to right: the first piece that may overlap the next token
        for k, (a, b) in enumerate(offsets):
            while first < len(real) and real[first][2] <= a:
                first += 1
            for j, pa, pb in real[first:]:
                if pa >= b:
                    break
                pairs.append((k, j))
                if piece_hint[j] == 0 and k < len(hint):
                    piece_hint[j] = hint[k]
        for j, (pa, pb) in enumerate(spans):
            piece_case[j] = casing(text[pa:pb])
        rows.append((ids, piece_hint, piece_case, pairs, [casing(text[a:b]) for a, b in offsets], source))
    width = max(1, max(len(r[0]) for r in rows))  # a chunk of only spaces and breaks may have no piece
    n_src = max(len(r[5]) for r in rows)
    out = EncoderInputs(
        pieces=torch.zeros(len(rows), width, dtype=torch.long), mask=torch.zeros(len(rows), width, dtype=torch.long),
        hints=torch.zeros(len(rows), width, dtype=torch.long), cases=torch.zeros(len(rows), width, dtype=torch.long),
        align=torch.zeros(len(rows), n_src, width), sources=torch.full((len(rows), n_src), pad, dtype=torch.long),
        source_cases=torch.zeros(len(rows), n_src, dtype=torch.long), lengths=[len(r[5]) for r in rows])
    for r, (ids, piece_hint, piece_case, pairs, src_case, source) in enumerate(rows):
        n = len(ids)
        out.pieces[r, :n] = torch.tensor(ids, dtype=torch.long)
        out.mask[r, : max(n, 1)] = 1  # a row with no piece attends to one padding piece, which no token reads
        out.hints[r, :n] = torch.tensor(piece_hint, dtype=torch.long)
        out.cases[r, :n] = torch.tensor(piece_case, dtype=torch.long)
        out.sources[r, : len(source)] = torch.tensor(source, dtype=torch.long)
        out.source_cases[r, : len(source)] = torch.tensor(src_case, dtype=torch.long)
        if pairs:
            k, j = torch.tensor(pairs).T
            out.align[r, k, j] = 1.0
    counts = out.align.sum(-1, keepdim=True)
    out.align = out.align / counts.clamp(min=1.0)
    return out


class EncoderOracle(torch.nn.Module):
    """The encoder, the bridge from its states to the decoder, and the decoder with its output layer."""

    def __init__(self, config: dict):
        super().__init__()
        from transformers import BertConfig, BertModel, LlamaConfig, LlamaModel

        self.config = config
        self.encoder = BertModel(BertConfig(**config["encoder"]), add_pooling_layer=False)
        width, dim = config["encoder"]["hidden_size"], config["decoder"]["hidden_size"]
        # Hints and casing enter the encoder as added input embeddings, zero at the start of fine-tuning so
        # that the pretrained encoder is where training begins.
        self.hint_embed = torch.nn.Embedding(config["hint_labels"] + 1, width)
        self.case_embed = torch.nn.Embedding(5, width)
        for emb in (self.hint_embed, self.case_embed):
            torch.nn.init.zeros_(emb.weight)
        self.bridge = torch.nn.Linear(width, dim)
        self.source_case = torch.nn.Embedding(5, dim)
        self.end_state = torch.nn.Parameter(torch.zeros(dim))  # what the decoder adds once the source is copied
        self.decoder = LlamaModel(LlamaConfig(**config["decoder"]))
        self.lm_head = torch.nn.Linear(dim, config["decoder"]["vocab_size"], bias=False)
        self.lm_head.weight = self.decoder.embed_tokens.weight
        # vault's restricted scoring (speculate.Outputs) reads the output layer directly: it is a plain linear map.
        self.table: list[bytes] = []
        self.wordpiece: Tokenizer | None = None

    @property
    def head(self):
        return self.lm_head.weight.detach(), None

    def source_states(self, inputs: EncoderInputs) -> torch.Tensor:
        """[B, S + 1, D]: what the decoder adds when it is about to copy each source token (the last index of
        each row, its length, is the end state)."""
        words = self.encoder.embeddings.word_embeddings(inputs.pieces)
        embeds = words + self.hint_embed(inputs.hints) + self.case_embed(inputs.cases)
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=inputs.mask).last_hidden_state
        per_token = torch.bmm(inputs.align.to(hidden.dtype), hidden)
        states = self.bridge(per_token) + self.source_case(inputs.source_cases) + self.decoder.embed_tokens(inputs.sources)
        end = self.end_state.to(states.dtype).expand(states.shape[0], 1, -1)
        states = torch.cat([states, end], dim=1)
        for r, n in enumerate(inputs.lengths):
            if n < states.shape[1] - 1:
                states[r, n] = end[r, 0]
        return states

    def decode(self, input_ids: torch.Tensor, src_index: torch.Tensor, states: torch.Tensor, **kwargs) -> torch.Tensor:
        """The decoder's last hidden states; `src_index[b, j]` is the source token input j is about to copy."""
        added = states.gather(1, src_index[..., None].expand(-1, -1, states.shape[-1]))
        embeds = self.decoder.embed_tokens(input_ids) + added
        return self.decoder(inputs_embeds=embeds, **kwargs).last_hidden_state

    # ------------------------------------------------------------------------------------------ files

    @classmethod
    def from_folder(cls, path: Path, dtype: torch.dtype = torch.float32) -> "EncoderOracle":
        from safetensors.torch import load_file

        config = json.loads((path / "config.json").read_text())
        model = cls(config)
        state = load_file(str(path / "model.safetensors"))
        state["lm_head.weight"] = state["decoder.embed_tokens.weight"]
        model.load_state_dict({k: v.to(dtype) for k, v in state.items()})
        model.to(dtype)
        model.attach_tokenizers(Tokenizer.from_file(str(path / "tokenizer.json")),
                                Tokenizer.from_file(str(path / ENCODER_TOKENIZER)))
        return model.eval()

    def attach_tokenizers(self, vault_tokenizer: Tokenizer, wordpiece: Tokenizer) -> None:
        self.table = token_bytes(vault_tokenizer)
        wordpiece.no_truncation()
        wordpiece.no_padding()
        self.wordpiece = wordpiece

    def save_folder(self, path: Path) -> None:
        from safetensors.torch import save_file

        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in self.state_dict().items() if k != "lm_head.weight"}
        save_file(state, str(path / "model.safetensors"), metadata={"format": "pt"})
        (path / "config.json").write_text(json.dumps(self.config, indent=1) + "\n")
        (path / ENCODER_TOKENIZER).write_text(self.wordpiece.to_str())


def is_encoder_oracle(path: Path) -> bool:
    try:
        return json.loads((path / "config.json").read_text()).get("model_type") == MODEL_TYPE
    except (OSError, ValueError):
        return False
