"""Greedy speculative decoding under the redaction grammar, batched over chunks of different lengths.

A pass feeds each row its pending token(s) plus a draft; the oracle's constrained argmax at every
position decides how much of the draft is accepted; the first mismatch is replaced by the oracle's own
token. So the output equals oracle-alone greedy decoding, token for token, whatever the drafter does.

A step, in gpt-fast's shape (`Engine._step`): a drafter proposes, one oracle pass verifies (`judge`), and
each row emits its accepted tokens with their evidence (`Row.take`). Drafters are small objects with a
`propose`/`update` pair (transformers' CandidateGenerator), named in DRAFTERS: `copy` (the rest of the
source), `hints` (the source with the recognizers' tags), `draft` (the draft model, which itself decodes
speculatively over the hints/copy hypothesis), and `none` (oracle-alone greedy, the reference).
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from transformers.cache_utils import Cache, DynamicLayer

from vault.models import CHUNK_TOKENS, Grammar, Tags, build_prompt

OPEN_FLOOR = 0.01


@dataclass
class ChunkResult:
    """One chunk's output and, per output token, who proposed it and how the oracle judged it."""

    output: list[int] = field(default_factory=list)
    oracle_pass: list[int] = field(default_factory=list)  # the chunk's verification pass that emitted it
    proposed_by: list[str] = field(default_factory=list)  # a drafter's name, or "oracle" for its own token
    logprob: list[float] = field(default_factory=list)  # log-probability under the allowed set
    margin: list[float] = field(default_factory=list)  # to the best other allowed token (inf: no other)
    # At each output index where the oracle opened a span: the probability of opening each entity type
    # there (under the allowed set), so a policy can weigh the types the argmax did not choose.
    type_probs: dict[int, dict[str, float]] = field(default_factory=dict)
    # At each output index where the oracle copied a source token outside a span but gave opening one
    # there at least OPEN_FLOOR: the probability of opening each entity type, so that a detector's hint
    # the oracle doubted (did not tag, but nearly did) can be weighed by the policy.
    open_probs: dict[int, dict[str, float]] = field(default_factory=dict)
    passes: int = 0
    drafted: int = 0
    accepted: int = 0


class Outputs:
    """A pass's outputs at its kept positions: the full logits, or, when the model's output layer is a plain
    linear map (checked once per model, `linear_head`), the last hidden states, scored only against the few
    tokens the grammar allows. On the small default models the full-vocabulary product is most of a pass."""

    def __init__(self, logits: torch.Tensor | None = None, hidden: torch.Tensor | None = None, head=None):
        self.logits, self.hidden, self.head = logits, hidden, head

    @property
    def shape(self) -> tuple[int, int]:
        x = self.logits if self.logits is not None else self.hidden
        return x.shape[0], x.shape[1]

    def scores(self, src: torch.Tensor, tag_ids: list[int]) -> torch.Tensor:
        """[rows, K, 1 + len(tag_ids)]: the score of source token src[r, k], then of every tag."""
        if self.logits is not None:
            candidates = torch.cat([src[..., None], torch.tensor(tag_ids).expand(*src.shape, -1)], dim=-1)
            return self.logits.gather(-1, candidates.to(self.logits.device)).float()
        weight, bias = self.head
        hidden, src = self.hidden, src.to(self.hidden.device)
        tags = hidden @ weight[tag_ids].T
        own = (hidden * weight[src]).sum(-1, keepdim=True)
        if bias is not None:
            tags, own = tags + bias[tag_ids], own + bias[src][..., None]
        return torch.cat([own, tags], dim=-1).float()


def linear_head(model: torch.nn.Module):
    """(weight, bias) of the model's output layer if its logits are exactly that linear map of the base
    model's last hidden state, else None (then the full logits are used)."""
    if hasattr(model, "_vault_head"):
        return model._vault_head
    get_head = getattr(model, "get_output_embeddings", None)  # a Hugging Face model; anything else: full logits
    head, found = (get_head() if get_head else None), None
    if isinstance(head, torch.nn.Linear) and getattr(model, "base_model", model) is not model:
        ids = torch.arange(1, 9, device=head.weight.device)[None] % head.weight.shape[0]
        with torch.inference_mode():
            full = model(input_ids=ids).logits
            hidden = model.base_model(input_ids=ids).last_hidden_state
            mine = torch.nn.functional.linear(hidden, head.weight, head.bias)
        if torch.allclose(full, mine, rtol=1e-4, atol=1e-5):
            found = (head.weight.detach(), None if head.bias is None else head.bias.detach())
    model._vault_head = found
    return found


class BufferLayer(DynamicLayer):
    """A layer of the key/value cache that keeps its keys and values in a buffer grown by doubling, so a
    pass writes its new positions in place instead of copying the whole cache (DynamicLayer's torch.cat),
    and cropping only moves the end. The model sees views of the used part."""

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        super().lazy_initialization(key_states, value_states)
        self.used, self.buffers = 0, None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n, add = self.used, key_states.shape[-2]
        if self.buffers is None or n + add > self.buffers[0].shape[-2]:
            size = max(64, 2 * (n + add))
            grown = [x.new_empty((*x.shape[:-2], size, x.shape[-1])) for x in (key_states, value_states)]
            if n:
                for new, old in zip(grown, self.buffers):
                    new[..., :n, :] = old[..., :n, :]
            self.buffers = grown
        self.buffers[0][..., n : n + add, :] = key_states
        self.buffers[1][..., n : n + add, :] = value_states
        self.used = n + add
        return self._views()

    def _views(self):
        self.keys, self.values = (b[..., : self.used, :] for b in self.buffers)
        return self.keys, self.values

    def crop(self, tokens_to_remove: int) -> None:
        if tokens_to_remove < 0 and self.is_initialized and self.buffers is not None:
            self.used = max(0, self.used + tokens_to_remove)
            self._views()

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.is_initialized and self.buffers is not None:
            kept = []
            for b in self.buffers:  # copy the used positions only, not the whole capacity
                new = b.new_empty((len(indices), *b.shape[1:]))
                new[..., : self.used, :] = b[indices, ..., : self.used, :]
                kept.append(new)
            self.buffers = kept
            self._views()

    def get_seq_length(self) -> int:
        return self.used if self.is_initialized and self.buffers is not None else 0


class KVDecoder:
    """One model over a batch of rows with a shared key/value cache in which every row keeps its own tokens.

    Rows accept different numbers of tokens each pass; rather than shifting caches, rejected positions
    stay behind as masked holes, and the cache is cropped back to the furthest position still in use.
    """

    def __init__(self, model: torch.nn.Module, prompts: list[list[int]], pad: int, kv_buffer: bool = True,
                 restricted_head: bool = True):
        self.model, self.pad, self.prompts = model, pad, list(prompts)
        self.head = linear_head(model) if restricted_head else None
        self.device = next(model.parameters()).device
        self.cache = Cache(layer_class_to_replicate=BufferLayer if kv_buffer else DynamicLayer)
        self.seq: list[list[int]] = [[] for _ in prompts]  # tokens whose keys/values are cached
        self.cols: list[list[int]] = [[] for _ in prompts]  # their cache columns
        self.valid = torch.zeros(len(prompts), 0, dtype=torch.long, device=self.device)
        # Prefill all but the last prompt token, right-padded: no logits needed yet.
        self.pending = [p[-1:] for p in prompts]
        self._feed([p[:-1] for p in prompts], left_pad=False, logits_to_keep=1)

    def forward(self, drafts: list[list[int]]) -> tuple[Outputs, list[int]]:
        """Feed each row its pending tokens and draft; the outputs predicting each draft token and the next.

        Returns Outputs over [rows, K] positions and, per row, the index in K of the outputs after its
        pending tokens.
        """
        feeds = [p + d for p, d in zip(self.pending, drafts)]
        keep = max(len(d) for d in drafts) + 1
        logits = self._feed(feeds, left_pad=True, logits_to_keep=keep)
        self.pending = [[] for _ in feeds]
        return logits, [keep - len(d) - 1 for d in drafts]

    def _feed(self, feeds: list[list[int]], left_pad: bool, logits_to_keep: int) -> Outputs:
        width = max(len(f) for f in feeds)
        base = self.valid.shape[1]
        ids = torch.full((len(feeds), width), self.pad, dtype=torch.long)
        pos = torch.zeros((len(feeds), width), dtype=torch.long)
        mask = torch.zeros((len(feeds), width), dtype=torch.long)
        for r, f in enumerate(feeds):
            first = width - len(f) if left_pad else 0
            ids[r, first : first + len(f)] = torch.tensor(f, dtype=torch.long)
            pos[r, first : first + len(f)] = torch.arange(len(self.seq[r]), len(self.seq[r]) + len(f))
            mask[r, first : first + len(f)] = 1
            self.seq[r] += f
            self.cols[r] += range(base + first, base + first + len(f))
        self.valid = torch.cat([self.valid, mask.to(self.device)], dim=1)
        inputs = dict(attention_mask=self.valid, position_ids=pos.to(self.device), cache=self.cache, use_cache=True)
        with torch.inference_mode():
            return self._outputs(ids.to(self.device), [len(f) for f in feeds], inputs, logits_to_keep)

    def _outputs(self, ids: torch.Tensor, fed: list[int], inputs: dict, logits_to_keep: int) -> Outputs:
        """The model's outputs at the last `logits_to_keep` positions of a pass; `fed[r]` tokens of row r are
        new (the last ones of self.seq[r])."""
        if self.head is None:
            return Outputs(logits=self.model(input_ids=ids, **inputs, logits_to_keep=logits_to_keep).logits)
        hidden = self.model.base_model(input_ids=ids, **inputs).last_hidden_state
        return Outputs(hidden=hidden[:, -logits_to_keep:], head=self.head)

    def sync(self, outputs: list[list[int]]) -> None:
        """Keep each row's cached tokens that agree with its prompt + `outputs[row]`; the rest becomes pending."""
        for r, output in enumerate(outputs):
            target = self.prompts[r] + output
            seq = self.seq[r]
            n = min(len(seq), len(target))
            keep = next((k for k in range(n) if seq[k] != target[k]), n)
            keep = min(keep, len(target) - 1)  # something must be fed: the logits after it judge the draft
            if keep < len(seq):
                self.valid[r, self.cols[r][keep:]] = 0
                del seq[keep:], self.cols[r][keep:]
            self.pending[r] = target[keep:]
        self._crop()

    def _crop(self) -> None:
        used = max((c[-1] + 1 for c in self.cols if c), default=0)
        extra = self.valid.shape[1] - used
        if extra > 0:
            self.cache.crop(-extra)
            self.valid = self.valid[:, :used]

    def keep_rows(self, rows: list[int]) -> None:
        """Drop finished rows from the batch."""
        index = torch.tensor(rows, dtype=torch.long, device=self.device)
        self.cache.batch_select_indices(index)
        self.valid = self.valid[index]
        self.seq = [self.seq[r] for r in rows]
        self.cols = [self.cols[r] for r in rows]
        self.pending = [self.pending[r] for r in rows]
        self.prompts = [self.prompts[r] for r in rows]
        self._crop()


class EncoderKVDecoder(KVDecoder):
    """The decoder of an encoder oracle (vault.encoder_oracle) over a batch of rows: the encoder reads each
    chunk once, here; every pass then adds, at each fed position, the state of the source token that position
    is about to copy (the count of source tokens in its output so far). Its prompt is `<src> <out>`: the
    source reaches it through the encoder, not through its own cache."""

    def __init__(self, model: torch.nn.Module, sources: list[list[int]], readings: list[list[int]], tags: Tags,
                 kv_buffer: bool = True, restricted_head: bool = True):
        from vault.encoder_oracle import encoder_inputs, hint_index, hint_labels

        self.device = next(model.parameters()).device
        hint_ids = hint_index(tags)
        labels = [hint_labels(r, hint_ids, tags.hint_close) for r in readings]
        with torch.inference_mode():
            inputs = encoder_inputs(model.wordpiece, model.table, sources, labels, tags.pad)
            self.states = model.source_states(inputs.to(self.device))
        self.lengths = torch.tensor([len(s) for s in sources], device=self.device)
        # Which token ids are source text (everything but the task's special tokens), to count copies.
        self.is_source = np.ones(max(model.config["decoder"]["vocab_size"], 1), dtype=np.int64)
        for t in [tags.src, tags.out, tags.eos, tags.pad, tags.close, *tags.open, *tags.hints.values()]:
            self.is_source[t] = 0
        if tags.hint_close is not None:
            self.is_source[tags.hint_close] = 0
        super().__init__(model, [[tags.src, tags.out] for _ in sources], tags.pad, kv_buffer, restricted_head=False)
        self.head = model.head if restricted_head else None

    def _outputs(self, ids: torch.Tensor, fed: list[int], inputs: dict, logits_to_keep: int) -> Outputs:
        width = ids.shape[1]
        src_index = np.zeros(ids.shape, dtype=np.int64)
        for r, n in enumerate(fed):
            if n:
                copied = np.cumsum(self.is_source[np.asarray(self.seq[r])])
                src_index[r, width - n :] = copied[-n:]
        src_index = torch.minimum(torch.from_numpy(src_index).to(self.device), self.lengths[:, None])
        hidden = self.model.decode(ids, src_index, self.states, **inputs)[:, -logits_to_keep:]
        if self.head is None:
            return Outputs(logits=self.model.lm_head(hidden))
        return Outputs(hidden=hidden, head=self.head)

    def keep_rows(self, rows: list[int]) -> None:
        index = torch.tensor(rows, dtype=torch.long, device=self.device)
        self.states, self.lengths = self.states[index], self.lengths[index]
        super().keep_rows(rows)


def decoder_for(model: torch.nn.Module, prompts: list[list[int]], sources: list[list[int]],
                readings: list[list[int]], tags: Tags, **options) -> KVDecoder:
    """The KV decoder that suits the model: a causal LM reads the prompt; an encoder oracle reads the source
    with its encoder."""
    if hasattr(model, "source_states"):
        return EncoderKVDecoder(model, sources, readings, tags, **options)
    return KVDecoder(model, prompts, tags.pad, **options)


@dataclass(frozen=True)
class Judgement:
    """The oracle's verdict on a pass: numpy arrays over [rows, K] positions of the chosen token (the
    constrained argmax), its log-probability and its margin to the best other allowed token, and over
    [rows, K, n_open] the probability of each open tag (in `tags.open_ids` order). Row r's draft starts at
    position `starts[r]`; positions past a row's draft, or after a draft token the grammar forbids, are
    meaningless and never read."""

    starts: list[int]
    chosen: np.ndarray
    logprob: np.ndarray
    margin: np.ndarray
    open_probs: np.ndarray


def judge(outputs: Outputs, starts: list[int], drafts: list[list[int]], grammars: list[Grammar],
          tags: Tags) -> Judgement:
    """The constrained argmax, its log-probability and margin at each draft position (and one past it)."""
    rows, width = outputs.shape
    src = np.zeros((rows, width), dtype=np.int64)
    # Per position, which of [source token, *tags.candidates] the grammar allows there.
    allowed = np.zeros((rows, width, 1 + len(tags.candidates)), dtype=bool)
    for r, (start, draft, g) in enumerate(zip(starts, drafts, grammars)):
        g = g.copy()
        for j in range(len(draft) + 1):
            s = g.next_source()
            if s is not None:
                src[r, start + j] = s
            allowed[r, start + j] = g.allowed_mask()
            if j == len(draft) or not g.allows(draft[j]):
                break
            g.advance(draft[j])
    src = torch.from_numpy(src)
    candidates = torch.cat([src[..., None], torch.tensor(tags.candidates).expand(rows, width, -1)], dim=-1)
    scores = outputs.scores(src, tags.candidates)
    scores = scores.masked_fill(~torch.from_numpy(allowed).to(scores.device), float("-inf"))
    logp = torch.log_softmax(scores, dim=-1)
    top2 = torch.topk(logp, 2, dim=-1)
    best = top2.indices[..., 0]
    chosen = candidates.to(best.device).gather(-1, best[..., None])[..., 0]
    margin = top2.values[..., 0] - top2.values[..., 1]
    open_probs = logp[..., 1 : 1 + len(tags.open)].exp()  # the open tags come first among the candidates
    return Judgement(starts, chosen.cpu().numpy(), top2.values[..., 0].cpu().numpy(), margin.cpu().numpy(),
                     open_probs.cpu().numpy())


def accept(draft: list[int], chosen: np.ndarray, start: int) -> tuple[int, int]:
    """How many draft tokens match the oracle's choices, and the oracle's token after them."""
    n = 0
    while n < len(draft) and draft[n] == chosen[start + n]:
        n += 1
    return n, int(chosen[start + n])


# ------------------------------------------------------------------------------------ a chunk in a batch


@dataclass
class DraftLength:
    """Draft length that follows recent acceptance: a little past the recent accepted run. On a CPU a
    verified position costs the same whether it is accepted or not, so long hopeful drafts lose
    (measured on the default pair: 2x the mean run cost 1.6x the time of the mean run plus 4)."""

    low: int = 4
    high: int = 96
    mean: float = 16.0

    def next(self) -> int:
        return int(min(self.high, max(self.low, self.mean + 4)))

    def update(self, accepted: int) -> None:
        self.mean = 0.5 * self.mean + 0.5 * accepted


def _by_type(tags: Tags, probs: np.ndarray) -> dict[str, float]:
    """The probability of opening each entity type, rounded; below 0.001 left out."""
    return {name: round(float(p), 4) for name, p in zip(tags.open.values(), probs) if p >= 1e-3}


@dataclass
class Row:
    """One chunk being decoded in a batch: where its grammar stands, its result so far, the hinted output
    that the hints drafter and the draft model's hypothesis follow (None: the copy) and its draft length."""

    grammar: Grammar
    hinted: list[int] | None = None
    result: ChunkResult = field(default_factory=ChunkResult)
    length: DraftLength = field(default_factory=DraftLength)

    def take(self, draft: list[int], judged: Judgement, r: int, by: str) -> None:
        """Emit the accepted prefix of `draft` (proposed `by` a drafter) and the oracle's own token after it,
        each with the oracle's evidence at its position in row `r` of the pass."""
        res, start = self.result, judged.starts[r]
        n, own = accept(draft, judged.chosen[r], start)
        res.passes += 1
        res.drafted += len(draft)
        res.accepted += n
        self.length.update(n)
        for j, token in enumerate(draft[:n] + [own]):
            k = start + j
            self.emit(token, by if j < n else "oracle", float(judged.logprob[r, k]), float(judged.margin[r, k]),
                      judged.open_probs[r, k])
            if self.grammar.done:
                break

    def emit(self, token: int, by: str, logprob: float, margin: float, open_probs: np.ndarray) -> None:
        """The one place a result grows: a verified token, the pass that verified it, who proposed it and the
        oracle's evidence; the grammar advances past it."""
        g, res, tags = self.grammar, self.result, self.grammar.tags
        outside = not g.in_span  # before advancing: an open tag puts the grammar inside a span
        g.advance(token)
        res.output.append(token)
        res.oracle_pass.append(res.passes)
        res.proposed_by.append(by)
        res.logprob.append(logprob)
        res.margin.append(margin)
        if token in tags.open:
            res.type_probs[len(res.output) - 1] = _by_type(tags, open_probs)
        elif outside and not tags.is_tag(token) and token != tags.eos and open_probs.sum() >= OPEN_FLOOR:
            res.open_probs[len(res.output) - 1] = _by_type(tags, open_probs)


# ---------------------------------------------------------------------------------------------- drafters


def valid_prefix(g: Grammar, tokens: list[int]) -> list[int]:
    """The longest prefix of `tokens` the grammar allows from where `g` stands."""
    probe, out = g.copy(), []
    for t in tokens:
        if not probe.allows(t):
            break
        probe.advance(t)
        out.append(t)
    return out


def hint_draft(g: Grammar, hinted: list[int], limit: int) -> list[int]:
    """Continue along the hinted output from where the grammar stands."""
    tags = g.tags
    # Our place in `hinted`: the index of source token g.i (or of the end).
    k, pos = 0, len(hinted) - 1
    for idx, t in enumerate(hinted):
        if not tags.is_tag(t) and t != tags.eos:
            if k == g.i:
                pos = idx
                break
            k += 1
    # Take along the hinted tags right before that token when the grammar allows them now.
    lead = pos
    while lead > 0 and tags.is_tag(hinted[lead - 1]):
        lead -= 1
    start = next((s for s in range(lead, pos) if len(valid_prefix(g, hinted[s:pos])) == pos - s), pos)
    return valid_prefix(g, hinted[start : start + limit]) or g.copy_rest(limit)


def base_draft(g: Grammar, hinted: list[int] | None, limit: int) -> list[int]:
    return hint_draft(g, hinted, limit) if hinted else g.copy_rest(limit)


class Drafter:
    """Proposes the next tokens of every row of a batch before each verification pass (transformers'
    CandidateGenerator: `propose` is its get_candidates, `update` its update_candidate_strategy). This one
    proposes nothing: oracle-alone greedy decoding, the reference."""

    name = "none"  # what `proposed_by` records and the CLI's --drafter names

    def propose(self, rows: list[Row], width: int) -> list[list[int]]:
        """At most `width` tokens per row, from where its grammar stands."""
        return [[] for _ in rows]

    def update(self, kept: list[int]) -> None:
        """After a pass: the rows at indices `kept` of the last proposal go on; the others are done."""


class CopyDrafter(Drafter):
    """The rest of the source: nearly free, since a redaction's output is mostly a copy."""

    name = "copy"

    def propose(self, rows: list[Row], width: int) -> list[list[int]]:
        return [row.grammar.copy_rest(width) for row in rows]


class HintDrafter(Drafter):
    """The source with the recognizers' tags (a row's hinted output), else the copy."""

    name = "hints"

    def propose(self, rows: list[Row], width: int) -> list[list[int]]:
        return [base_draft(row.grammar, row.hinted, width) for row in rows]


class ModelDrafter(Drafter):
    """The draft model, decoding greedily under the grammar and itself speculating over the hints/copy
    hypothesis. It checks at most `step` hypothesis tokens a pass, `iterations` passes a proposal: past its
    first disagreement the rest of a pass is wasted, and on a CPU wasted tokens cost as much as useful ones."""

    name = "draft"

    def __init__(self, model: KVDecoder, tags: Tags, iterations: int, step: int):
        self.model, self.tags, self.iterations, self.step = model, tags, iterations, step

    def propose(self, rows: list[Row], width: int) -> list[list[int]]:
        drafts: list[list[int]] = [[] for _ in rows]
        states = [row.grammar.copy() for row in rows]
        self.model.sync([row.result.output for row in rows])
        for _ in range(self.iterations):
            open_rows = [not g.done and len(d) < width for g, d in zip(states, drafts)]
            hyps = [base_draft(g, row.hinted, min(self.step, width - len(d))) if go else []
                    for row, g, d, go in zip(rows, states, drafts, open_rows)]
            if not any(hyps) and not any(open_rows):
                break
            outputs, starts = self.model.forward(hyps)
            chosen = judge(outputs, starts, hyps, states, self.tags).chosen
            for r, (g, d) in enumerate(zip(states, drafts)):
                if not open_rows[r]:
                    continue
                n, own = accept(hyps[r], chosen[r], starts[r])
                for t in hyps[r][:n] + [own]:
                    g.advance(t)
                    d.append(t)
                    if g.done:
                        break
            self.model.sync([row.result.output + d for row, d in zip(rows, drafts)])
        return [d[:width] for d in drafts]

    def update(self, kept: list[int]) -> None:
        if len(kept) < len(self.model.seq):
            self.model.keep_rows(kept)


# The names `vault bench speculative` and Engine.run take, mapped to drafters in this one place.
DRAFTERS = {d.name: d for d in (Drafter, CopyDrafter, HintDrafter, ModelDrafter)}


# ---------------------------------------------------------------------------------------------- the engine


# A batch holds `batch_size` chunks of full length, or as many more short ones (CSV cells, JSON
# values, chat lines) as fit in the same number of positions: a pass over 64 cells of 20 tokens
# costs about what a pass over 8 chunks of 256 does, and per-pass overhead dominates short chunks.
def _batches(order: list[int], lengths: list[int], batch_size: int) -> list[list[int]]:
    """Consecutive groups of `order` (sorted by length), each within the position budget."""
    budget = batch_size * CHUNK_TOKENS
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < max(batch_size, budget // max(1, lengths[i])):
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


class Engine:
    """Redacts batches of chunks with an oracle and, optionally, a draft model sharing its tokenizer."""

    def __init__(self, oracle: torch.nn.Module, tags: Tags, draft: torch.nn.Module | None = None,
                 draft_iterations: int = 4, draft_step: int = 8, kv_buffer: bool = True, restricted_head: bool = True):
        self.oracle, self.draft, self.tags = oracle, draft, tags
        # Both on by default; off only to measure what each is worth (vault bench speculative).
        self.options = {"kv_buffer": kv_buffer, "restricted_head": restricted_head}
        self.draft_iterations, self.draft_step = draft_iterations, draft_step  # ModelDrafter's

    def run(
        self,
        sources: list[list[int]],
        drafter: str = "draft",
        hints: list[list[int]] | None = None,
        batch_size: int = 8,
        fill: bool = True,
        readings: list[list[int]] | None = None,
    ) -> list[ChunkResult]:
        """Decode every chunk; chunks of similar length share a batch of `batch_size` chunks, or,
        with `fill`, of as many short ones as fit in the same positions. `drafter` names one of DRAFTERS;
        `hints[i]` is chunk i's hinted output; `readings[i]` what the models read of it (its source with hint
        markers, models.hinted_source; default: the bare source). Results are in input order."""
        if drafter not in DRAFTERS:
            raise ValueError(f"unknown drafter {drafter!r}; choose one of {', '.join(DRAFTERS)}")
        if drafter == ModelDrafter.name and self.draft is None:
            raise ValueError("the draft drafter needs a draft model")
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        results: list[ChunkResult | None] = [None] * len(sources)
        lengths = [len(s) if fill else CHUNK_TOKENS for s in sources]
        readings = readings or sources
        for idx in _batches(order, lengths, batch_size):
            rows = [Row(Grammar(sources[i], self.tags), hints[i] if hints else None) for i in idx]
            self._batch(rows, [sources[i] for i in idx], [readings[i] for i in idx], drafter)
            for i, row in zip(idx, rows):
                results[i] = row.result
        return results

    def _batch(self, rows: list[Row], sources: list[list[int]], readings: list[list[int]], name: str) -> None:
        """Decode a batch to the end, a speculative step at a time; finished rows leave the batch."""
        prompts = [build_prompt(self.tags, r) for r in readings]
        oracle = decoder_for(self.oracle, prompts, sources, readings, self.tags, **self.options)
        drafter = self._drafter(name, prompts, sources, readings)
        while rows:
            self._step(oracle, drafter, rows)
            kept = [r for r, row in enumerate(rows) if not row.grammar.done]
            if len(kept) < len(rows):
                oracle.keep_rows(kept)
            drafter.update(kept)
            rows = [rows[r] for r in kept]

    def _step(self, oracle: KVDecoder, drafter: Drafter, rows: list[Row]) -> None:
        """Draft, verify in one oracle pass, and emit each row's accepted tokens and the oracle's next one."""
        # A pass computes every row to the batch's widest draft: rows with shorter drafts get the
        # extra positions for free, so every row may draft that far.
        width = max(row.length.next() for row in rows)
        drafts = drafter.propose(rows, width)
        outputs, starts = oracle.forward(drafts)
        judged = judge(outputs, starts, drafts, [row.grammar for row in rows], self.tags)
        for r, (row, draft) in enumerate(zip(rows, drafts)):
            row.take(draft, judged, r, drafter.name)
        oracle.sync([row.result.output for row in rows])

    def _drafter(self, name: str, prompts: list[list[int]], sources: list[list[int]],
                 readings: list[list[int]]) -> Drafter:
        """The drafter `name` for one batch; the draft model's gets a key/value decoder of its own."""
        if name != ModelDrafter.name:
            return DRAFTERS[name]()
        model = decoder_for(self.draft, prompts, sources, readings, self.tags, **self.options)
        return ModelDrafter(model, self.tags, self.draft_iterations, self.draft_step)
