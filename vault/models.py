"""The model contract: a redaction model is a Hugging Face causal LM plus its tokenizer, in a local directory.

The redaction task (DESIGN.md): the prompt is `<src>` + the chunk's tokens + `<out>`; the output is the
same source tokens in the same order with `<ent:TYPE>` / `</ent>` tags inserted, ended by `<eos>`.
`Grammar` says which tokens may come next; `spans_from_output` turns an output back into character spans.
"""

import hashlib
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers

from vault.hints import GAZETTEER_FILE, HINT_CLOSE, HINT_TOKENS, Gazetteer
from vault.spans import ENTITY_TYPES, Span

SRC, OUT, EOS, PAD, CLOSE = "<src>", "<out>", "<eos>", "<pad>", "</ent>"


def open_tag(entity_type: str) -> str:
    return f"<ent:{entity_type}>"


SPECIAL_TOKENS = [PAD, SRC, OUT, EOS, CLOSE] + [open_tag(t) for t in ENTITY_TYPES] + HINT_TOKENS

# Punctuation is split into single characters before byte-level BPE: GPT-2's pre-tokenizer merges runs
# like `).` or `”,`, which puts span ends inside a token.
PUNCTUATION = Regex(r"[^\s\p{L}\p{N}]")


def pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(PUNCTUATION, behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )


class ModelError(Exception):
    """A model directory that cannot be used; the message names the path and what is wrong."""


@dataclass(frozen=True)
class Tags:
    """Token ids of the task's special tokens."""

    src: int
    out: int
    eos: int
    pad: int
    close: int
    open: dict[int, str]  # open-tag id -> entity type
    # Hint markers the model reads in its prompt (vault.hints): label -> open-marker id, and the close
    # marker's id. A model whose tokenizer lacks them reads the bare source.
    hints: dict[str, int] = dataclass_field(default_factory=dict)
    hint_close: int | None = None

    @property
    def open_ids(self) -> list[int]:
        return list(self.open)

    @property
    def candidates(self) -> list[int]:
        """The tags a restricted output layer scores, in its order after the next source token's slot: every
        open tag, the close tag, `<eos>` (speculate.judge and the training loss share this layout)."""
        return [*self.open, self.close, self.eos]

    def is_tag(self, token: int) -> bool:
        return token == self.close or token in self.open


class RedactionTokenizer:
    """Byte-level BPE with the task's special tokens; source text never turns into special tokens."""

    def __init__(self, tokenizer: Tokenizer, path: str = "<memory>"):
        self.tokenizer = tokenizer
        # A document that literally contains "<eos>" must stay text: special tokens only come from us.
        self.tokenizer.encode_special_tokens = True
        vocab = tokenizer.get_vocab()
        missing = [t for t in (SRC, OUT, EOS, PAD, CLOSE) if t not in vocab]
        opens = {vocab[t]: t[5:-1] for t in vocab if t.startswith("<ent:") and t.endswith(">")}
        if missing or not opens:
            raise ModelError(f"{path}: tokenizer lacks the redaction tokens {missing or ['<ent:TYPE>']}")
        hints = {t[6:-1]: i for t, i in vocab.items() if t.startswith("<hint:") and t.endswith(">")}
        self.tags = Tags(vocab[SRC], vocab[OUT], vocab[EOS], vocab[PAD], vocab[CLOSE], dict(sorted(opens.items())),
                         dict(sorted(hints.items())) if HINT_CLOSE in vocab else {}, vocab.get(HINT_CLOSE))
        self.vocab_size = tokenizer.get_vocab_size()

    @classmethod
    def from_file(cls, path: Path) -> "RedactionTokenizer":
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises a bare Exception for a file it cannot parse
            raise ModelError(f"{path}: cannot read the tokenizer: {exc}") from exc
        return cls(tokenizer, str(path))

    def encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and their character offsets into `text`."""
        enc = self.tokenizer.encode(text, add_special_tokens=False)
        return enc.ids, enc.offsets

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.tokenizer.to_str().encode()).hexdigest()


def new_tokenizer() -> Tokenizer:
    """An untrained byte-level BPE tokenizer with vault's pre-tokenizer (trained in vault.train)."""
    from tokenizers import models

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer()
    tok.decoder = decoders.ByteLevel()
    return tok


def build_prompt(tags: Tags, reading: list[int]) -> list[int]:
    """`reading` is what the model reads of the chunk: its source tokens, with hint markers if the model
    reads hints (`hinted_source`)."""
    return [tags.src, *reading, tags.out]


class Grammar:
    """Where constrained decoding stands in one chunk's output, and what may come next.

    Allowed: the next source token; an open tag (outside a span, source left); the close tag (inside a
    span holding a token); `<eos>` (all source consumed, outside a span). So the output can neither
    alter nor invent text.
    """

    __slots__ = ("source", "tags", "i", "in_span", "span_len", "done")

    def __init__(self, source: list[int], tags: Tags):
        self.source, self.tags = source, tags
        self.i, self.in_span, self.span_len, self.done = 0, False, 0, False

    def copy(self) -> "Grammar":
        g = Grammar(self.source, self.tags)
        g.i, g.in_span, g.span_len, g.done = self.i, self.in_span, self.span_len, self.done
        return g

    def allowed_tags(self) -> list[int]:
        """The allowed tag tokens (the allowed source token, if any, is `next_source()`)."""
        if self.done:
            return []
        if self.in_span:
            return [self.tags.close] if self.span_len else []
        if self.i < len(self.source):
            return self.tags.open_ids
        return [self.tags.eos]

    def allowed_mask(self) -> list[bool]:
        """Which of [the next source token, *tags.candidates] may come next: the grammar in the layout of the
        restricted output layer, for decoding and training alike."""
        tags = set(self.allowed_tags())
        return [self.next_source() is not None] + [t in tags for t in self.tags.candidates]

    def next_source(self) -> int | None:
        return self.source[self.i] if not self.done and self.i < len(self.source) else None

    def allows(self, token: int) -> bool:
        return token == self.next_source() or token in self.allowed_tags()

    def advance(self, token: int) -> None:
        if not self.allows(token):
            raise ValueError(f"token {token} violates the redaction grammar")
        if token == self.tags.eos:
            self.done = True
        elif token == self.tags.close:
            self.in_span, self.span_len = False, 0
        elif token in self.tags.open:
            self.in_span, self.span_len = True, 0
        else:
            self.i += 1
            self.span_len += self.in_span

    def copy_rest(self, limit: int) -> list[int]:
        """The cheapest hypothesis: the rest of the source, closing an open span, then `<eos>`."""
        out = []
        if self.in_span and self.span_len == 0 and self.i < len(self.source):
            out.append(self.source[self.i])
            rest = self.source[self.i + 1 :]
        else:
            rest = self.source[self.i :]
        out += rest
        if self.in_span:
            out.append(self.tags.close)
        out.append(self.tags.eos)
        return out[:limit]


def strip_tags(tags: Tags, output: list[int]) -> list[int]:
    return [t for t in output if not tags.is_tag(t) and t != tags.eos]


def token_spans(tags: Tags, output: list[int]) -> list[tuple[int, int, str, int]]:
    """(first source token, end source token, entity type, output index of the open tag) of every
    tagged span in an output."""
    spans, i, opened = [], 0, None
    for k, t in enumerate(output):
        if t in tags.open:
            opened = (i, tags.open[t], k)
        elif t == tags.close and opened is not None:
            spans.append((opened[0], i, opened[1], opened[2]))
            opened = None
        elif t != tags.eos and not tags.is_tag(t):
            i += 1
    return spans


def char_span(text: str, offsets: list[tuple[int, int]], first: int, end: int) -> tuple[int, int]:
    """Character range of source tokens [first, end), without surrounding whitespace."""
    start = min(o[0] for o in offsets[first:end])
    stop = max(o[1] for o in offsets[first:end])
    while start < stop and text[start].isspace():
        start += 1
    while stop > start and text[stop - 1].isspace():
        stop -= 1
    return start, stop


def spans_from_output(tags: Tags, output: list[int], text: str, offsets: list[tuple[int, int]],
                      type_probs: dict[int, dict[str, float]] | None = None) -> list[Span]:
    """Character spans of `text` tagged by an output; `offsets` are those of the chunk's source tokens.
    `type_probs` (ChunkResult.type_probs) gives each span the oracle's probability of every entity type
    where it opened the span."""
    spans = []
    for first, end, entity_type, at in token_spans(tags, output):
        start, stop = char_span(text, offsets, first, end)
        if start < stop:
            probs = (type_probs or {}).get(at, {})
            spans.append(Span(start, stop, entity_type, probs.get(entity_type, 1.0), "oracle",
                              tuple(sorted(probs.items()))))
    return spans


def insert_marks(source: list[int], offsets: list[tuple[int, int]], spans: list[Span],
                 opener: dict[str, int], close: int) -> list[int]:
    """`source` with `opener[span type]` before the tokens covering each span and `close` after them.
    Spans of types without an opener, covering no token, or overlapping a span already placed are left out."""
    placed, last_end = {}, 0  # first token -> (end token, opener id)
    for span in sorted(spans, key=lambda s: s.start):
        toks = [k for k, (a, b) in enumerate(offsets) if a < span.end and b > span.start and a < b]
        if not toks or span.entity_type not in opener or toks[0] < last_end:
            continue
        placed[toks[0]] = (toks[-1] + 1, opener[span.entity_type])
        last_end = toks[-1] + 1
    out, close_at = [], None
    for k, tok in enumerate(source):
        if k == close_at:
            out.append(close)
            close_at = None
        if k in placed:
            close_at, open_id = placed[k]
            out.append(open_id)
        out.append(tok)
    if close_at is not None:
        out.append(close)
    return out


def tokens_with_tags(tags: Tags, source: list[int], offsets: list[tuple[int, int]], spans: list[Span]) -> list[int]:
    """The output that tags `spans` (training targets, the hints drafter): tags around the covering tokens."""
    type_ids = {t: i for i, t in tags.open.items()}
    return insert_marks(source, offsets, spans, type_ids, tags.close) + [tags.eos]


def hinted_source(tags: Tags, source: list[int], offsets: list[tuple[int, int]], hints: list[Span]) -> list[int]:
    """What a model reads of a chunk: the source with hint markers around each hint (vault.hints), or the
    bare source for a model without hint tokens."""
    if not tags.hints:
        return list(source)
    return insert_marks(source, offsets, hints, tags.hints, tags.hint_close)


# ---------------------------------------------------------------- loading a model pair from local directories


@dataclass
class RedactionModel:
    path: Path
    model: torch.nn.Module
    tokenizer: RedactionTokenizer

    @property
    def tags(self) -> Tags:
        return self.tokenizer.tags

    def gazetteer(self) -> Gazetteer | None:
        """The gazetteer the model's hints were computed with (vault.hints), if it has one."""
        path = self.path / GAZETTEER_FILE
        return Gazetteer.load(path) if path.is_file() else None

    def fingerprint(self) -> str:
        """SHA-256 over the directory's config, tokenizer, gazetteer and weight files."""
        digest = hashlib.sha256()
        for f in sorted(self.path.iterdir()):
            if f.suffix in {".json", ".safetensors", ".bin", ".gz"}:
                digest.update(f.name.encode())
                digest.update(f.read_bytes())
        return digest.hexdigest()


def load_model(path: str | Path, dtype: torch.dtype = torch.float32) -> RedactionModel:
    """Load a redaction model from a local directory; nothing is fetched from any hub."""
    from transformers import AutoConfig, AutoModelForCausalLM

    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: model directory not found")
    for name in ("config.json", "tokenizer.json"):
        if not (path / name).is_file():
            raise ModelError(f"{path}: missing {name}")
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ModelError(f"{path}: missing model weights (*.safetensors)")
    from vault.encoder_oracle import ENCODER_TOKENIZER, EncoderOracle, is_encoder_oracle

    if is_encoder_oracle(path):
        if not (path / ENCODER_TOKENIZER).is_file():
            raise ModelError(f"{path}: missing {ENCODER_TOKENIZER}")
        try:
            model = EncoderOracle.from_folder(path, dtype)
        except Exception as exc:  # the libraries raise many kinds (tokenizers a bare Exception): all the folder's fault
            raise ModelError(f"{path}: cannot load the model: {exc}") from exc
        return RedactionModel(path, model, RedactionTokenizer.from_file(path / "tokenizer.json"))
    try:
        config = AutoConfig.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, config=config, local_files_only=True, dtype=dtype)
    except Exception as exc:  # as above: safetensors, transformers and torch each raise their own
        raise ModelError(f"{path}: cannot load the model: {exc}") from exc
    model.eval()
    tokenizer = RedactionTokenizer.from_file(path / "tokenizer.json")
    if config.vocab_size < tokenizer.vocab_size:
        raise ModelError(f"{path}: model vocabulary ({config.vocab_size}) is smaller than the tokenizer's ({tokenizer.vocab_size})")
    return RedactionModel(path, model, tokenizer)


def check_pair(draft: RedactionModel, oracle: RedactionModel) -> None:
    """A draft and an oracle must share one tokenizer: verification compares token ids."""
    if draft.tokenizer.tokenizer.get_vocab() != oracle.tokenizer.tokenizer.get_vocab():
        raise ModelError(
            f"{draft.path} and {oracle.path}: draft and oracle vocabularies differ; a pair must share one tokenizer"
        )


DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default_models"


def load_pair(draft_dir: str | Path | None = None, oracle_dir: str | Path | None = None) -> tuple[RedactionModel, RedactionModel]:
    draft = load_model(draft_dir or DEFAULT_MODEL_DIR / "draft")
    oracle = load_model(oracle_dir or DEFAULT_MODEL_DIR / "oracle")
    check_pair(draft, oracle)
    return draft, oracle


# The most tokens in a chunk: what the pipeline cuts documents into, the training examples' length and the
# engine's unit for a batch's position budget.
CHUNK_TOKENS = 256


def chunk_bounds(text: str, offsets: list[tuple[int, int]], max_tokens: int) -> list[tuple[int, int]]:
    """Cut a document's tokens into chunks of at most `max_tokens`, at the best boundary in the back half.

    Cut before a paragraph break, else after a sentence end, else before a line break, else before a space:
    an entity seldom straddles those. Chunks come from one whole-document encoding so their tokens map
    to document offsets directly.
    """

    def quality(k: int) -> int:
        first = text[offsets[k][0] : offsets[k][1]]
        before = text[max(0, offsets[k - 1][1] - 1) : offsets[k - 1][1]]
        if text.startswith("\n\n", offsets[k][0]):
            return 4
        if first[:1].isspace() and before in {".", "!", "?", ":", ";"}:
            return 3
        if first.startswith("\n"):
            return 2
        return 1 if first[:1].isspace() else 0

    bounds, start, n = [], 0, len(offsets)
    while start < n:
        end = min(n, start + max_tokens)
        if end < n:
            end = max(range(start + max(1, max_tokens // 2), end + 1), key=lambda k: (quality(k), k))
        bounds.append((start, end))
        start = end
    return bounds
