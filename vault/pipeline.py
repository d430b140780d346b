"""`vault redact`: read → chunk → detect → draft → verify → decide → render → write, for a directory.

`Redactor.redact` is the per-batch step (texts in, redacted texts and audit rows out) and does not care
who feeds it. A run has two sides: `Loop` is the driver (walk, read, skip what verified evidence says is
done, name, batch; then record each document and write the audit, alone), `Worker` the step that redacts
a batch of documents, writes each output atomically and gives back its rows. The local engine runs the
Worker in this process (`Loop.execute`); the Ray engine (vault.distributed) runs it on Ray actors.
"""

from __future__ import annotations

import bisect
import errno
import hashlib
import math
import os
import secrets
import sys
import time
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING

from vault.audit import (DOCUMENT_STATUSES, AuditWriter, DocumentRow, append_anchor, audit_head, bound_roots, head_ref,
                         keyed_hash, new_run_id, now, repair, trusted_outputs, verify_audit)
from vault.context import Output
from vault.documents import (Document, DocumentError, read_document, remove_temp_files, render_document, walk,
                             write_atomic)
from vault.hints import AS_ENTITY
from vault.names import Names, OutputPath, hashed_path
from vault.policy import Policy
from vault.preflight import Prepared, RunOptions, UsageError, model_dirs, prepare  # noqa: F401  (RunOptions, UsageError: re-exported)
from vault.versions import component_versions

# torch, transformers, Presidio and Faker come with vault.models, vault.speculate, vault.detect and
# vault.render: imported where a model is loaded or used, so a dry run or a run with nothing to do
# answers without them.
if TYPE_CHECKING:
    from vault.models import RedactionModel
    from vault.decisions import Decision, Verdict
    from vault.render import Pseudonymizer


@dataclass
class TextResult:
    """One text's redaction: the output text, span rows for the audit, and the engine's counts."""

    redacted: str
    span_rows: list[dict]
    hold: bool
    chunks: int
    tokens: int
    passes: int
    drafted: int
    accepted: int
    verified: bool  # every chunk decoded to the end and gave back its source: otherwise fail closed


@dataclass(frozen=True)
class ChunkJob:
    """A chunk of a text: the text's index in the batch, and its tokens [start, end)."""

    text: int
    start: int
    end: int


@dataclass(frozen=True)
class Encoded:
    """A text's tokens and the characters of each."""

    ids: list[int]
    offsets: list[tuple[int, int]]


@dataclass
class Chunks:
    """Texts cut into the engine's chunks. Per text: its tokens, and the recognizers' candidates and the
    hints; per chunk: where it is, its source tokens, what the models read of it (the source with hint
    markers) and the drafters' first guess (a tagged output)."""

    encoded: list[Encoded] = field(default_factory=list)
    candidates: list[list] = field(default_factory=list)
    hints: list[list] = field(default_factory=list)
    jobs: list[ChunkJob] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)
    readings: list[list[int]] = field(default_factory=list)
    guesses: list[list[int]] = field(default_factory=list)


@dataclass(frozen=True)
class DecodedChunk:
    """A chunk of a text with what the engine made of it (a speculate.ChunkResult)."""

    start: int  # its first token in the text
    end: int
    result: object


@dataclass(frozen=True)
class OracleReading:
    """What the oracle wrote for one text, read back: its spans, its verdict per source token, its
    probability of opening each type where it did not open one, and whether every chunk decoded to <eos>
    and strips back to its source."""

    spans: list
    verdicts: dict[int, Verdict]
    doubts: dict[int, dict[str, float]]
    verified: bool


class Redactor:
    """The per-batch step: many texts in, their redactions out, with every chunk of the batch decoded
    together by the speculative engine."""

    def __init__(self, draft: RedactionModel, oracle: RedactionModel, policy: Policy, key: bytes,
                 batch_size: int = 8, drafter: str = "draft"):
        self.draft, self.oracle, self.policy, self.key = draft, oracle, policy, key
        # Hints always: a model with hint tokens reads them, and for any model they are where the oracle's
        # near-misses are weighed (decisions.doubted_hints).
        from vault.detect import build_analyzer
        from vault.speculate import Engine

        self.detector = build_analyzer(policy, hints=True, gazetteer=oracle.gazetteer())
        self.engine = Engine(oracle.model, oracle.tags, draft.model)
        self.batch_size, self.drafter = batch_size, drafter

    def redact(self, texts: list[str], pseudonymizers: list[Pseudonymizer],
               contexts: list[str] | None = None, documents: list[int] | None = None) -> list[TextResult]:
        """`contexts[i]`, if given, is what texts[i] is (a column header, a JSON key): the models
        and recognizers read "context: text", and only spans inside the text count. Texts with the
        same `documents[i]` are the values of one file: a value redacted in one is redacted where
        it repeats in the others (policy `redact_repeats`)."""
        from vault.decisions import TextEvidence, decide_texts

        # A name says what a value is; a 10 kB "header" would only cost time in every cell.
        prefixes = [f"{' '.join(c.split())[:64]}: " if c and c.strip() else "" for c in contexts or [""] * len(texts)]
        reads = [prefix + text for prefix, text in zip(prefixes, texts)]
        chunks = self.chunk(reads)
        results = self.engine.run(chunks.sources, drafter=self.drafter, hints=chunks.guesses,
                                  batch_size=self.batch_size, readings=chunks.readings)
        decoded: list[list[DecodedChunk]] = [[] for _ in texts]
        for job, res in zip(chunks.jobs, results):
            decoded[job.text].append(DecodedChunk(job.start, job.end, res))
        readings = [self._read_oracle(read, chunks.encoded[t], decoded[t]) for t, read in enumerate(reads)]
        evidence = [TextEvidence(read, len(prefixes[t]), chunks.encoded[t].offsets, readings[t].spans,
                                 readings[t].doubts, chunks.candidates[t], chunks.hints[t],
                                 documents[t] if documents is not None else t)
                    for t, read in enumerate(reads)]
        decisions = decide_texts(evidence, self.policy)
        return [self._finish(texts[t], len(prefixes[t]), chunks.encoded[t], decoded[t], decisions[t], readings[t],
                             pseudonymizers[t])
                for t in range(len(texts))]

    def chunk(self, texts: list[str]) -> "Chunks":
        """Detect in the texts (one spaCy pass for all), tokenize them and cut them into chunks, each with
        what the models read (its hinted source) and the drafters' first guess."""
        from vault.models import CHUNK_TOKENS, chunk_bounds, hinted_source, tokens_with_tags

        tok, tags = self.oracle.tokenizer, self.oracle.tags
        out = Chunks()
        for t, (text, found) in enumerate(zip(texts, self.detector.analyze(texts))):
            ids, offsets = tok.encode(text)
            out.encoded.append(Encoded(ids, offsets))
            out.candidates.append(found.candidates)
            out.hints.append(found.hints)
            # The drafters' first guess: the recognizers' candidates and the hints, as a tagged output.
            guess = [s for s in found.candidates if self.policy.redacts(s.entity_type)]
            guess += [replace(h, entity_type=AS_ENTITY[h.entity_type]) for h in found.hints if h.entity_type in AS_ENTITY]
            for a, b in chunk_bounds(text, offsets, CHUNK_TOKENS):
                out.jobs.append(ChunkJob(t, a, b))
                out.sources.append(ids[a:b])
                out.readings.append(hinted_source(tags, ids[a:b], offsets[a:b], found.hints))
                out.guesses.append(tokens_with_tags(tags, ids[a:b], offsets[a:b], guess))
        return out

    def _read_oracle(self, read: str, encoded: Encoded, chunks: list[DecodedChunk]) -> OracleReading:
        """The oracle's output for one text (`read`: its prefix, then the text), read back in the text's
        tokens."""
        from vault.decisions import Verdict
        from vault.models import spans_from_output, strip_tags

        tags = self.oracle.tags
        spans, verdicts, doubts = [], {}, {}
        verified = True
        for c, chunk in enumerate(chunks):
            res, a = chunk.result, chunk.start
            verified &= strip_tags(tags, res.output) == encoded.ids[a:chunk.end] and bool(res.output) and res.output[-1] == tags.eos
            spans += spans_from_output(tags, res.output, read, encoded.offsets[a:chunk.end], res.type_probs)
            k = a
            for j, token in enumerate(res.output):
                verdict = Verdict(c, res.logprob[j], res.margin[j], res.proposed_by[j] != "oracle", res.oracle_pass[j] >= 1)
                if token in tags.open:
                    verdicts[k] = verdict  # the oracle's decision to open a span before token k
                elif not tags.is_tag(token) and token != tags.eos:
                    verdicts.setdefault(k, verdict)  # ... or to copy token k without opening one
                    if j in res.open_probs:
                        doubts[k] = res.open_probs[j]
                    k += 1
        return OracleReading(spans, verdicts, doubts, verified)

    def _finish(self, text: str, skip: int, encoded: Encoded, chunks: list[DecodedChunk], decisions: list[Decision],
                reading: OracleReading, pseudonymizer: Pseudonymizer) -> TextResult:
        """Audit rows and the rendered text."""
        from vault.decisions import Verdict, span_row
        from vault.render import replacements

        ends = [o[1] for o in encoded.offsets]
        output = Output.of(text, replacements(text, decisions, self.policy, pseudonymizer))
        rows = []
        for d in decisions:
            verdict = reading.verdicts.get(bisect.bisect_right(ends, d.span.start + skip), Verdict())
            # out: where the report finds the span in the output (vault.context)
            rows.append(span_row(d, text, self.policy, self.key, verdict, reading.verified,
                                 output.place(d.span.start, d.span.end)))
        results = [c.result for c in chunks]
        return TextResult(
            redacted=output.text,
            span_rows=rows,
            hold=any(d.hold for d in decisions),
            chunks=len(chunks),
            tokens=sum(len(r.output) for r in results),
            passes=sum(r.passes for r in results),
            drafted=sum(r.drafted for r in results),
            accepted=sum(r.accepted for r in results),
            verified=reading.verified,
        )


# ---------------------------------------------------------------------------------------------- the local loop

# Write errors that no other document would escape: the run stops (fail closed) instead of failing
# every document after this one the same way.
_FATAL_WRITE = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO)

# Where an exception inside the per-batch step came from, by the deepest vault module it passed.
_STAGES = {"detect.py": "detect", "hints.py": "detect", "models.py": "tokenize", "speculate.py": "decode",
           "decisions.py": "decide", "render.py": "decide"}


@dataclass
class Summary:
    run_id: str = ""
    audit_run: str = ""
    counts: dict = field(default_factory=lambda: {s: 0 for s in DOCUMENT_STATUSES})
    spans_redacted: int = 0
    oracle_checked: int = 0
    sensitive_spans: int = 0
    tokens: int = 0
    chunks: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    started_at: str = field(default_factory=now)  # the same moment on the wall clock: the audit's started_at
    problems: list[dict] = field(default_factory=list)  # {"file", "stage", "reason"}: never a raw value
    warnings: list[str] = field(default_factory=list)
    noop: bool = False  # nothing to do: no run was written
    outputs_from: list[str] = field(default_factory=list)  # the runs that produced the unchanged outputs
    stopped: str | None = None  # why the run stopped before the end (disk full, ...)
    head: str | None = None  # SEQ:SHA256 of the audit's latest run (its manifest) once the run ends: keep it elsewhere
    dry_run: list[dict] | None = None  # a dry run's plan: {"file", "action", "reason"}
    # The run's own processing: reading, naming, redacting, writing and recording, without start-up
    # (imports, models, Ray, the walk). Intervals on the wall clock (Ray workers may be other machines).
    processing: list[tuple[float, float]] = field(default_factory=list)
    loading: list[tuple[float, float]] = field(default_factory=list)  # model loads: start-up, even when inside the above
    # How the run was executed; the Ray engine adds its pool and the driver's planning seconds (reading,
    # hashing and naming every document before the workers start: the part that does not scale).
    engine: dict = field(default_factory=lambda: {"name": "local"})

    def processed(self, started: float, ended: float) -> None:
        self.processing.append((started, ended))

    @property
    def processing_seconds(self) -> float | None:
        if not self.processing:
            return None
        loads = sum(max(0.0, min(b, d) - max(a, c)) for a, b in self.processing for c, d in self.loading)
        return sum(b - a for a, b in self.processing) - loads

    @property
    def exit_code(self) -> int:
        anchor = any(p["stage"] == "anchor" for p in self.problems)
        return 1 if self.counts["failed"] or self.counts["held"] or self.stopped or self.ignored or anchor else 0

    @property
    def ignored(self) -> list[dict]:
        return [p for p in self.problems if p["stage"] == "audit"]

    @property
    def coverage(self) -> float | None:
        return self.oracle_checked / self.sensitive_spans if self.sensitive_spans else None

    def problem(self, file: str | None, stage: str, reason: str) -> None:
        self.problems.append({"file": file, "stage": stage, "reason": reason})

    def as_dict(self) -> dict:
        out = {"run_id": self.run_id or None, "audit_run": self.audit_run or None, **self.counts,
               "spans_redacted": self.spans_redacted, "sensitive_spans": self.sensitive_spans,
               "oracle_checked": self.oracle_checked, "coverage": self.coverage, "tokens": self.tokens,
               "seconds": round(self.seconds, 3),
               "processing_seconds": None if self.processing_seconds is None else round(self.processing_seconds, 3),
               "engine": self.engine, "noop": self.noop, "outputs_from": self.outputs_from,
               "stopped": self.stopped, "head": self.head, "problems": self.problems, "warnings": self.warnings,
               "exit_code": self.exit_code}
        if self.dry_run is not None:
            out["dry_run"] = self.dry_run
        return out

    def line(self) -> str:
        c = self.counts
        if self.dry_run is not None:
            return (f"vault (dry run): would redact {c['redacted']}, {c['unchanged']} unchanged, "
                    f"{c['skipped']} would be skipped, {c['failed']} would fail; nothing written")
        if self.noop:
            return (f"vault: nothing to do: {c['unchanged']} unchanged, {c['skipped']} skipped; outputs from "
                    f"{', '.join(self.outputs_from) or 'no run'}; no audit run written; {self.seconds:.1f} s"
                    + (f"; head {self.head}" if self.head else ""))
        coverage = (f"{_percent(self.oracle_checked, self.sensitive_spans)} ({self.oracle_checked}/{self.sensitive_spans})"
                    if self.sensitive_spans else "n/a (no sensitive spans)")
        stopped = f"; STOPPED: {self.stopped}" if self.stopped else ""
        processing = f" ({self.processing_seconds:.1f} s processing)" if self.processing_seconds is not None else ""
        return (f"vault: {c['redacted']} redacted, {c['unchanged']} unchanged, {c['skipped']} skipped, "
                f"{c['failed']} failed, {c['held']} held; {self.spans_redacted} spans redacted; "
                f"oracle coverage {coverage}; {self.seconds:.1f} s wall time{processing}; audit {self.audit_run or '-'}"
                + (f"; head {self.head}" if self.head else "") + stopped)


def _percent(part: int, whole: int) -> str:
    """A share that never rounds up to 100%."""
    return "100%" if part >= whole else f"{math.floor(1000 * part / whole) / 10:.1f}%"


class StopRun(Exception):
    """A failure no later document would escape (the output disk is full or read-only)."""


class AuditFailed(StopRun):
    """The audit cannot be written (its disk is full or read-only): no output may outrun its evidence."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unchanged(doc_sha: str, prev: dict | None, output_dir: Path, policy_fp: str, model_fp: str) -> bool:
    """A document may be skipped only when a verified row of the same input, policy and models
    vouches for an output that is still there, byte for byte."""
    if not prev or prev["input_sha256"] != doc_sha or not prev.get("doc_path"):
        return False
    if prev["policy_fingerprint"] != policy_fp or prev["model_fingerprint"] != model_fp:
        return False
    try:
        return _sha256((output_dir / prev["doc_path"]).read_bytes()) == prev["output_sha256"]
    except OSError:
        return False


@dataclass(frozen=True)
class Fingerprints:
    """Hashes of the model directories' files (no model loaded): the draft's, the oracle's and the pair's."""

    draft: str
    oracle: str
    pair: str

    def meta(self, draft: RedactionModel, oracle: RedactionModel) -> dict:
        """What a run's signed listings say about the models."""
        return {"model_fingerprint": self.pair, "draft": {"path": str(draft.path), "fingerprint": self.draft},
                "oracle": {"path": str(oracle.path), "fingerprint": self.oracle}}


def model_fingerprint(draft_dir: Path, oracle_dir: Path) -> Fingerprints:
    draft_fp, oracle_fp = _directory_fingerprint(Path(draft_dir)), _directory_fingerprint(Path(oracle_dir))
    return Fingerprints(draft_fp, oracle_fp, _sha256((draft_fp + oracle_fp).encode()))


def _directory_fingerprint(folder: Path) -> str:
    """vault.models.RedactionModel.fingerprint without importing torch (a dry run loads no model): SHA-256
    over the directory's config, tokenizer, gazetteer and weight files. tests/test_pipeline.py checks
    that the two agree."""
    digest = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        if f.suffix in {".json", ".safetensors", ".bin", ".gz"}:
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def run(opts: RunOptions, log=lambda msg: print(msg, file=sys.stderr), prepared: Prepared | None = None,
        pair: tuple[RedactionModel, RedactionModel] | None = None, loop: type[Loop] | None = None) -> Summary:
    """Redact a directory. Raises UsageError for configuration problems (exit code 2). `prepared` is
    what vault.preflight.prepare returned (the CLI calls it before importing this module); `pair`
    is an already loaded model pair (tests); `loop` runs the batches: Loop by default, or the Ray
    engine's RayLoop, which the CLI passes (vault.distributed sits above this module, never below)."""
    loop = loop or Loop
    if loop.engine != opts.engine:  # a caller's slip: never run a Ray run's options on the local engine
        raise ValueError(f"--engine {opts.engine}, but {loop.__name__} runs {loop.engine}: pass its loop "
                         "(the CLI passes vault.distributed.RayLoop for ray)")
    summary = Summary()
    prepared = prepared or prepare(opts)
    summary.warnings += prepared.warnings
    try:
        draft_dir, oracle_dir = model_dirs(opts)
        fingerprints = model_fingerprint(draft_dir, oracle_dir)
        if opts.dry_run:
            return _dry_run(opts, prepared, fingerprints.pair, summary)
        key = prepared.key.key
        # Appending to a broken chain would hide the break: the new run would link whatever is left,
        # and HEAD would name it. So a broken audit stops the run before anything is written, unless
        # the operator accepts it, which the new run records (signed) and verify shows.
        check = verify_audit(opts.audit_dir, key, deep=False)
        if not check.ok and not opts.accept_broken_audit:
            for problem in check.problems:
                summary.problem(str(opts.audit_dir), "audit", problem)
            summary.stopped = ("the audit's chain of runs is broken (vault audit verify): nothing redacted or appended; "
                               "--accept-broken-audit REASON goes on and records the reason")
            summary.seconds = time.monotonic() - summary.started
            return summary
        accepted = None
        if not check.ok:
            accepted = {"reason": opts.accept_broken_audit, "problems": check.problems}
            summary.warnings.append(f"warning: appending to a broken audit ({len(check.problems)} problems), "
                                    "accepted with --accept-broken-audit; the new run records it")
        if pair is None:
            pair = partial(_load_pair, draft_dir, oracle_dir)  # loaded by the loop when a document needs it
        driver = loop(opts, key=key, prepared=prepared, pair=pair, fingerprints=fingerprints, summary=summary, log=log)
        if accepted:
            driver.meta["accepted_broken_audit"] = accepted  # signed with the run's listings
        driver.run()
    finally:
        prepared.release()
    summary.seconds = time.monotonic() - summary.started
    return summary


def _load_pair(draft_dir: Path, oracle_dir: Path) -> tuple[RedactionModel, RedactionModel]:
    from vault import models

    try:
        return models.load_pair(draft_dir, oracle_dir)
    except Exception as exc:  # ModelError and friends: a configuration problem
        raise UsageError(str(exc).splitlines()[0]) from exc


def _bound(opts: RunOptions) -> tuple[str, str]:
    return str(opts.input_dir.resolve()), str(opts.output_dir.resolve())


@dataclass
class _Item:
    """One entry of the input tree on its way through a batch. The driver fills it in (reading, the skip
    decision, the output name); the worker step redacts and writes it. It travels to Ray workers as is,
    less its parsed document: its input path is a file name of the input tree, and nothing else in it is
    a value."""

    rel_path: str
    doc: Document | None = None
    status: str = ""  # for an entry that is not redacted: "skipped" or "failed"
    stage: str = ""
    reason: str = ""
    seconds: float = 0.0
    previous: dict | None = None  # the verified row of this input's last output, if any
    named: OutputPath | None = None  # its output path, decided by the driver before redaction

    @property
    def to_redact(self) -> bool:
        return not self.status and self.named is not None and self.named.path is not None


@dataclass(frozen=True)
class Outcome:
    """What the worker step gives back per document: its documents row, its span rows (HMACs, never a value),
    and, when a write failed in a way every later write would, why the run must stop."""

    row: DocumentRow
    spans: list[dict] = field(default_factory=list)
    stop: str | None = None


@dataclass(frozen=True)
class Written:
    """What checking, rendering and writing one document came to."""

    status: str
    stage: str | None = None
    error: str | None = None
    output_sha256: str | None = None
    stop: str | None = None  # why the run must stop (a full or read-only disk)


def engine_counts(results: list[TextResult]) -> dict:
    """A document's engine columns (chunks, tokens, oracle passes, accept rate) from its texts' results."""
    drafted = sum(r.drafted for r in results)
    return {"chunks": sum(r.chunks for r in results), "tokens": sum(r.tokens for r in results),
            "oracle_passes": sum(r.passes for r in results),
            "accept_rate": sum(r.accepted for r in results) / drafted if drafted else None}


class Loop:
    """A run: walk, read, skip what verified evidence says is done, name and batch the rest, have a
    Worker redact and write each batch, then record each document's rows (this process alone writes
    the audit). `execute` runs the batches here, one after another; vault.distributed.RayLoop runs
    them on Ray actors. Every document is isolated: whatever goes wrong with one (reading, naming,
    detecting, tokenizing, decoding, rendering, writing) fails that one with its stage and reason, and
    the run goes on."""

    engine = "local"  # the --engine this loop is

    def __init__(self, opts: RunOptions, *, key: bytes, prepared: Prepared, pair, fingerprints: Fingerprints,
                 summary: Summary, log):
        self.opts, self.key, self.prepared, self.summary, self.log = opts, key, prepared, summary, log
        # The model pair, or a function that loads it: loaded when a document is to be named or redacted,
        # so a rerun with nothing to do decides that without loading (or importing) any model.
        self._pair = pair
        self.fingerprints = fingerprints
        self.policy_fp = opts.policy.fingerprint()
        self.input_dir, self.output_dir = _bound(opts)
        self.audit: AuditWriter | None = None
        self.waiting: list[tuple[DocumentRow, list]] = []  # unchanged and skipped rows: written once the run writes an audit
        # Recorded documents no signed listing holds yet (item, row, what they added to the summary), and
        # documents written but never recorded (the rest of a batch when the audit failed): if the audit
        # cannot be written, their outputs are removed and the summary counts what the audit holds.
        self.uncommitted: list[tuple[_Item | None, DocumentRow, dict]] = []
        self.unrecorded: list[tuple[_Item, DocumentRow]] = []
        self.audit_failed = False
        self.outputs: dict[str, str] = {}  # output path -> input path HMAC, to refuse two inputs one output
        self.bar = None

    @cached_property
    def redactor(self) -> Redactor:
        started = time.time()
        draft, oracle = self._pair() if callable(self._pair) else self._pair
        redactor = Redactor(draft, oracle, self.opts.policy, self.key, self.opts.batch_size)  # loads spaCy too
        self.summary.loading.append((started, time.time()))
        return redactor

    @cached_property
    def names(self) -> Names:
        return Names(self.redactor, getattr(self.opts.policy, "redact_file_names", True))

    @cached_property
    def worker(self) -> Worker:
        from vault.render import Pseudonymizer

        shared = Pseudonymizer(self.key) if self.opts.consistent_pseudonyms else None
        return Worker(self.redactor, self.opts, self.key, shared)

    @cached_property
    def meta(self) -> dict:
        """What the run's signed listings say about it (the models are loaded for their versions)."""
        draft, oracle = self.redactor.draft, self.redactor.oracle
        return {"policy_fingerprint": self.policy_fp, "policy": self.opts.policy.name,
                **self.fingerprints.meta(draft, oracle),
                # The directories it is bound to, as keyed hashes (a path can hold a name), and its label.
                **bound_roots(self.key, self.input_dir, self.output_dir, self.opts.label),
                # For the report: every component's version, and the policy's rules as applied.
                "versions": component_versions(self.redactor.detector.nlp_model),
                "policy_resolved": self.opts.policy.rules_only()}

    # ---- the run

    def run(self) -> None:
        opts, summary = self.opts, self.summary
        for note in repair(opts.audit_dir, self.key):
            self.log(f"vault: audit: {note}")
        evidence = trusted_outputs(opts.audit_dir, self.key, self.input_dir, self.output_dir) if not opts.force else None
        for run_id, reason in (evidence.ignored if evidence else []):
            summary.problem(f"{opts.audit_dir}/{run_id}", "audit", f"run ignored for skipping: {reason}")
        previous = evidence.rows if evidence else {}
        remove_temp_files(opts.output_dir)
        entries = list(walk(opts.input_dir, exclude=[opts.output_dir, opts.audit_dir]))
        self.bar = _progress(len(entries), opts.progress)
        try:
            self.execute(self._batches(entries, previous))
        except StopRun as stop:
            summary.stopped = str(stop)
        finally:
            if self.bar is not None:
                self.bar.close()
        self._close()

    def execute(self, batches) -> None:
        """The local engine: each batch through the worker step in this process, its documents
        recorded as they come back."""
        started = time.time()
        try:
            for items in batches:
                self.land_all(items, self.worker.process(items))
        finally:
            self.summary.processed(started, time.time())

    def _batches(self, entries, previous: dict):
        """The run's batches of items, read, named and checked: documents that verified evidence says are
        unchanged are recorded here and never batched."""
        opts = self.opts
        batch: list[_Item] = []
        budget = 0
        for entry in entries:
            item = _Item(entry.rel_path)
            if not entry.ok:
                item.status, item.stage, item.reason = "skipped", "walk", entry.reason
            else:
                _load(opts, item)
            if item.doc is not None:
                prev = item.previous = previous.get(keyed_hash(self.key, entry.rel_path))
                if _unchanged(item.doc.sha256, prev, opts.output_dir, self.policy_fp, self.fingerprints.pair):
                    self._unchanged(item, prev)
                    continue
                budget += max(1, sum(len(u.text) for u in item.doc.units) // 1200)
            batch.append(item)
            # A few engine batches' worth of chunks per call: enough to batch well, few enough that
            # memory stays flat and outputs land steadily.
            if budget >= 4 * opts.batch_size or len(batch) >= 64:
                yield self._name(batch)
                batch, budget = [], 0
        if batch:
            yield self._name(batch)

    def _name(self, items: list[_Item]) -> list[_Item]:
        """Decide each item's output path (names redacted in one engine call), here and only here, so
        that a folder has one output name and no two inputs share an output."""
        started = time.monotonic()
        self.names.prepare([i.rel_path for i in items])
        for item in items:
            item.named = self.names.output_path(item.rel_path)
            if item.to_redact and item.doc is not None:
                mine = keyed_hash(self.key, item.rel_path)
                if self.outputs.setdefault(item.named.path, mine) != mine:
                    item.status, item.stage, item.reason = "failed", "name", "its redacted name is the output name of another document"
        naming = (time.monotonic() - started) / len(items)
        for item in items:
            item.seconds += naming
        return items

    def _close(self) -> None:
        summary = self.summary
        if self.audit is None and not summary.stopped:
            summary.noop = True  # nothing redacted, failed or held: no run to write
            head = audit_head(self.opts.audit_dir, self.key)
            summary.head = head_ref(head) if head else None
            return
        if not self.audit_failed:
            try:
                self._open_audit()
                self.audit.close(self._totals(), **({"stopped": summary.stopped} if summary.stopped else {}))
            except OSError as exc:  # the audit disk failed: the run stays interrupted at its last checkpoint
                self.audit_failed = True
                summary.stopped = summary.stopped or f"cannot write the audit: {exc.strerror or type(exc).__name__}"
        if self.audit_failed:
            self._retract()
            if self.audit is not None and not self.audit.closed:
                try:  # with only what its last checkpoint holds; the disk may still refuse it
                    self.audit.close(self._totals(), stopped=summary.stopped)
                except OSError as exc:
                    summary.problem(summary.audit_run, "audit", f"manifest not written: {exc.strerror or type(exc).__name__}"
                                    "; the run stays interrupted at its last signed checkpoint")
        if self.audit is not None:
            self._anchor(self.audit.head())

    def _totals(self) -> dict:
        summary = self.summary
        summary.seconds = time.monotonic() - summary.started
        return {k: v for k, v in summary.as_dict().items() if k not in ("problems", "warnings", "run_id", "audit_run", "head")}

    def _retract(self) -> None:
        """The audit could not be written: outputs must not outrun their evidence. The rows no signed
        listing holds are dropped, the outputs they (or no row at all) vouched for are removed, unless an
        earlier run's signed row vouches for the very same bytes, and the summary counts what the audit
        holds. The next run redoes those documents."""
        summary = self.summary
        if self.audit is not None:
            self.audit.discard()
        for _, row, added in self.uncommitted:
            summary.counts[row.status] -= 1
            for name, value in added.items():
                setattr(summary, name, getattr(summary, name) - value)
        written = [(item, row) for item, row, _ in self.uncommitted if row.status == "redacted"] + self.unrecorded
        removed = 0
        for item, row in written:
            removed += self._remove_output(item, row)
        if self.uncommitted or self.unrecorded:
            summary.problem(summary.audit_run or str(self.opts.audit_dir), "audit",
                            f"{len(self.uncommitted) + len(self.unrecorded)} documents finished since the audit's last "
                            f"signed checkpoint are not in the audit; {removed} outputs written for them removed; "
                            "the next run redoes them")
        self.uncommitted, self.unrecorded = [], []

    def _remove_output(self, item: _Item | None, row: DocumentRow) -> int:
        path, sha = row.doc_path, row.output_sha256
        if row.status != "redacted" or not path or not sha:
            return 0
        prev = item.previous if item is not None else None
        if prev and prev.get("doc_path") == path and prev.get("output_sha256") == sha:
            return 0  # the same bytes an earlier run's signed row vouches for
        try:
            if _sha256((self.opts.output_dir / path).read_bytes()) == sha:
                (self.opts.output_dir / path).unlink()
                return 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.summary.problem(path, "audit", f"not in the audit, and its output cannot be removed: "
                                 f"{exc.strerror or type(exc).__name__}; remove it by hand")
        return 0

    def _anchor(self, head: dict) -> None:
        """Print the run's head; with --anchor, append it to the anchor file, outside the audit."""
        self.summary.head = head_ref(head) if head.get("sha256") else None
        if self.opts.anchor is None or not self.summary.head:
            return
        try:
            append_anchor(self.opts.anchor, head, self.key)
        except OSError as exc:
            self.summary.problem(str(self.opts.anchor), "anchor",
                                 f"the run's head was not appended: {exc.strerror or type(exc).__name__}")

    def _open_audit(self) -> None:
        if self.audit is not None:
            return
        self.summary.run_id = new_run_id()
        inside = self.prepared.key.inside_audit
        self.audit = AuditWriter(self.opts.audit_dir, self.summary.run_id, self.key, self.meta,
                                 flush_seconds=self.opts.flush_seconds, key_inside_audit=inside,
                                 started_at=self.summary.started_at)
        self.summary.audit_run = str(self.audit.run_dir)
        for row, spans in self.waiting:
            self.audit.add_document(row.as_dict(), spans)
        self.waiting = []

    # ---- recording, whoever did the work

    def land_all(self, items: list[_Item], outcomes: list[Outcome]) -> None:
        """Record a batch's documents in order; if the audit fails, the rest of the batch is written but
        never recorded (their outputs are removed when the run closes)."""
        for n, (item, outcome) in enumerate(zip(items, outcomes)):
            try:
                self.land(item, outcome)
            except AuditFailed:
                self.unrecorded += [(i, o.row) for i, o in zip(items[n + 1 :], outcomes[n + 1 :])]
                raise

    def land(self, item: _Item, outcome: Outcome) -> None:
        """Record one document the worker step finished. Its output, if any, is durable by now (written,
        fsynced and renamed before the worker gave its rows back); the input's previous output under
        another name goes first, so no kill leaves a recorded output beside a stale one."""
        summary, row, spans = self.summary, outcome.row, outcome.spans
        added = {"tokens": row.tokens, "chunks": row.chunks}
        if row.status == "redacted":
            self._remove_stale(item.previous, row.doc_path)
            added.update(spans_redacted=sum(r["action"] == "redacted" for r in spans),
                         oracle_checked=sum(r["oracle_checked"] for r in spans), sensitive_spans=len(spans))
        for name, value in added.items():
            setattr(summary, name, getattr(summary, name) + value)
        self._record(row, spans, item, added)
        if outcome.stop:
            raise StopRun(outcome.stop)

    def _record(self, row: DocumentRow, spans: list | None = None, item: _Item | None = None,
                added: dict | None = None) -> None:
        """Count a document, report its problem, and write its rows (or keep them waiting while the run
        has done nothing that needs an audit run)."""
        summary = self.summary
        summary.counts[row.status] += 1
        if row.error:
            summary.problem(row.doc_path or f"(input {row.input_path_hmac[:16]})", row.stage, row.error)
        if self.bar is not None:
            self.bar.update(1)
        self.uncommitted.append((item, row, added or {}))
        if self.audit is None and row.status in ("unchanged", "skipped"):
            self.waiting.append((row, spans or []))
            return
        try:
            self._open_audit()
            self.audit.add_document(row.as_dict(), spans or [])
        except OSError as exc:
            self.audit_failed = True  # no further output: the run stops, and its close retracts what is not evidence
            raise AuditFailed(f"cannot write the audit: {exc.strerror or type(exc).__name__}") from None
        if self.audit.committed_documents == self.audit.documents:
            self.uncommitted = []

    def _unchanged(self, item: _Item, prev: dict) -> None:
        self.outputs[prev["doc_path"]] = prev["input_path_hmac"]
        if prev["run_id"] not in self.summary.outputs_from:
            self.summary.outputs_from.append(prev["run_id"])
        self._record(DocumentRow(prev["input_path_hmac"], "unchanged", doc_path=prev["doc_path"], format=item.doc.format,
                                 input_sha256=item.doc.sha256, output_sha256=prev["output_sha256"], seconds=item.seconds))

    def _remove_stale(self, prev: dict | None, path: str) -> None:
        """This input's previous output, when it landed under another name (the name's redaction
        changed with the model or policy) and is still exactly what vault wrote: removed, so the output
        tree holds one output per input."""
        if not prev or not prev.get("doc_path") or prev["doc_path"] == path or prev["doc_path"] in self.outputs:
            return
        old = self.opts.output_dir / prev["doc_path"]
        try:
            if _sha256(old.read_bytes()) == prev["output_sha256"]:
                old.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


class Worker:
    """The worker step: redact a batch of documents in one engine call, then per document check, render,
    write the output atomically and give back its rows. It keeps no state of the run (names, outputs and
    the audit are the driver's), so the local loop runs one in its own process and the Ray engine one per
    actor, on any node that reaches the input and output directories at the same paths."""

    def __init__(self, redactor: Redactor, opts: RunOptions, key: bytes, shared: Pseudonymizer | None = None):
        self.redactor, self.opts, self.key = redactor, opts, key
        self.shared = shared  # one pseudonymizer for the whole run (--consistent-pseudonyms), else one per document

    def process(self, items: list[_Item]) -> list[Outcome]:
        """One outcome per item, in order; fewer when a write failed in a way every later one would (the
        last outcome says so, and the items after it are left unwritten)."""
        for item in items:
            if item.to_redact and item.doc is None:  # sent without its document (Ray): read it here
                _load(self.opts, item)
        docs = [i for i in items if i.to_redact]
        results, engine_seconds = self._redact(docs)
        by_item = {id(i): res for i, res in zip(docs, results)}
        tokens = {k: sum(r.tokens for r in res) for k, res in by_item.items() if not isinstance(res, Exception)}
        total_tokens = max(1, sum(tokens.values()))
        outcomes = []
        for item in items:
            # Its own time, and its share (by tokens) of the engine batch it was decoded in.
            item.seconds += engine_seconds * tokens.get(id(item), 0) / total_tokens
            try:
                outcome = self._finish(item, by_item.get(id(item)))
            except Exception as exc:  # a bug in the steps after redaction: still this document alone
                outcome = Outcome(DocumentRow(keyed_hash(self.key, item.rel_path), "failed", stage=_stage(exc, "write"),
                                              error=f"internal error: {type(exc).__name__}"))
            outcomes.append(outcome)
            if outcome.stop:
                break
        return outcomes

    def _redact(self, docs: list[_Item]) -> tuple[list, float]:
        """Every document's unit results, or the exception that failed it. One engine call for the
        batch; if it fails, one call per document, so one bad document fails alone."""
        started = time.monotonic()
        if not docs:
            return [], 0.0
        try:
            flat = self._call([d.doc for d in docs])
            results, at = [], 0
            for d in docs:
                results.append(flat[at : at + len(d.doc.units)])
                at += len(d.doc.units)
        except Exception:
            results = []
            for d in docs:
                try:
                    results.append(self._call([d.doc]))
                except Exception as exc:
                    results.append(exc)
        return results, time.monotonic() - started

    def _call(self, docs: list[Document]) -> list[TextResult]:
        from vault.render import Pseudonymizer

        texts, contexts, documents, pseudonymizers = [], [], [], []
        for i, doc in enumerate(docs):
            own = self.shared or Pseudonymizer(self.key)  # one per document unless consistent across the run
            texts += [u.text for u in doc.units]
            contexts += [u.context for u in doc.units]
            documents += [i] * len(doc.units)
            pseudonymizers += [own] * len(doc.units)
        return self.redactor.redact(texts, pseudonymizers, contexts, documents)

    def _finish(self, item: _Item, results) -> Outcome:
        """Check, render and write one document; its rows."""
        started = time.monotonic()
        doc, named = item.doc, item.named
        spans, counts = [], {}
        if named.path is None:
            written = Written("failed", "name", named.reason)
        elif item.status:
            written = Written(item.status, item.stage, item.reason)
        elif isinstance(results, Exception):
            written = Written("failed", _stage(results, "redact"), f"redaction failed: {type(results).__name__}")
        else:
            spans = named.span_rows + [dict(r, **span_location(u, r)) for u, res in zip(doc.units, results) for r in res.span_rows]
            counts = engine_counts(results)
            written = self._write(item, results)
        row = DocumentRow(keyed_hash(self.key, item.rel_path), written.status, doc_path=named.path,
                          format=doc.format if doc else None, stage=written.stage, error=written.error,
                          input_sha256=doc.sha256 if doc else None, output_sha256=written.output_sha256,
                          seconds=item.seconds + time.monotonic() - started, **counts)
        for r in spans:
            r["doc_path"] = named.path
        return Outcome(row, spans, written.stop)

    def _write(self, item: _Item, results) -> Written:
        """Check, render and write one document. Nothing is written unless every chunk was verified."""
        if not all(r.verified for r in results):
            return Written("failed", "verify", "not fully verified by the oracle")
        if item.named.hold or any(r.hold for r in results):
            return Written("held", "hold", "held for review: a must-redact recognizer and the oracle disagree")
        try:
            data = render_document(item.doc, [r.redacted for r in results], self.key)
        except Exception as exc:
            return Written("failed", "render", f"cannot rebuild the file: {type(exc).__name__}")
        try:
            write_atomic(self.opts.output_dir / item.named.path, data)  # fsynced and renamed before the rows go back
        except OSError as exc:
            reason = f"cannot write the output: {exc.strerror or type(exc).__name__}"
            # Fail closed: a full or read-only disk fails every later document too, so the run stops.
            return Written("failed", "write", reason, stop=reason if exc.errno in _FATAL_WRITE else None)
        return Written("redacted", output_sha256=_sha256(data))


def span_location(unit, row: dict) -> dict:
    """The audit's location columns for a span in a unit."""
    loc = {"field": unit.field or None, "field_kind": unit.kind, "row": unit.row, "column": unit.column,
           "line": unit.line, "json_path": unit.json_path}
    if unit.kind == "text":
        loc["line"] = unit.text.count("\n", 0, row["start"]) + 1
    return loc


def _stage(exc: BaseException, default: str) -> str:
    stage, tb = default, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith("vault."):
            stage = _STAGES.get(os.path.basename(tb.tb_frame.f_code.co_filename), stage)
        tb = tb.tb_next
    return stage


def _load(opts: RunOptions, item: _Item) -> None:
    """Read an item's document, or say why not: the stage, and a reason that quotes nothing from it."""
    started = time.monotonic()
    try:
        item.doc = _read(opts, item.rel_path)
    except DocumentError as exc:
        item.status, item.stage, item.reason = "failed", "read", exc.reason
    except Exception as exc:  # a reader bug must not stop the night either
        item.status, item.stage, item.reason = "failed", "read", f"unreadable: {type(exc).__name__}"
    item.seconds += time.monotonic() - started


def _read(opts: RunOptions, rel_path: str) -> Document:
    try:
        size = (opts.input_dir / rel_path).stat().st_size
    except OSError as exc:
        raise DocumentError(rel_path, f"unreadable: {exc.strerror}") from None
    if size > opts.max_bytes:
        raise DocumentError(rel_path, f"file is {size / 1e6:.1f} MB, larger than the limit of {opts.max_bytes / 1e6:.1f} MB (--max-bytes)")
    return read_document(opts.input_dir, rel_path)


def _dry_run(opts: RunOptions, prepared: Prepared, model_fp: str, summary: Summary) -> Summary:
    """What a run would do, without loading a model or writing anything. Without the models it cannot
    redact names, so (unless the policy keeps names) it shows each file by its folder and the keyed
    hash of its path (vault.names.hashed_path), never its name."""
    summary.dry_run = []
    # No key yet: a key for this listing only, so no name is ever shown under an unkeyed hash (one a
    # dictionary of names would reverse).
    name_key = prepared.key.key if prepared.key is not None else secrets.token_bytes(32)
    keep_names = not getattr(opts.policy, "redact_file_names", True)
    previous = {}
    if prepared.key is not None and not opts.force:
        evidence = trusted_outputs(opts.audit_dir, prepared.key.key, *_bound(opts))
        previous = evidence.rows
        for run_id, reason in evidence.ignored:
            summary.problem(f"{opts.audit_dir}/{run_id}", "audit", f"run ignored for skipping: {reason}")
    elif prepared.key is None:
        summary.warnings.append("no audit key: earlier runs cannot be verified, so every document would be redone")
    policy_fp = opts.policy.fingerprint()
    for entry in walk(opts.input_dir, exclude=[opts.output_dir, opts.audit_dir]):
        plan = {"file": entry.rel_path if keep_names else hashed_path(name_key, entry.rel_path), "action": "redact",
                "reason": None}
        if not entry.ok:
            plan.update(action="skip", reason=entry.reason)
            summary.counts["skipped"] += 1
        else:
            try:
                doc = _read(opts, entry.rel_path)
            except DocumentError as exc:
                plan.update(action="fail", reason=exc.reason)
                summary.counts["failed"] += 1
            else:
                prev = previous.get(keyed_hash(prepared.key.key, entry.rel_path)) if prepared.key else None
                unchanged = _unchanged(doc.sha256, prev, opts.output_dir, policy_fp, model_fp)
                plan["action"] = "unchanged" if unchanged else "redact"
                summary.counts["unchanged" if unchanged else "redacted"] += 1
        summary.dry_run.append(plan)
    summary.seconds = time.monotonic() - summary.started
    return summary


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="vault redact", dynamic_ncols=True)
