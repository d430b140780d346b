"""`vault redact`: read → chunk → detect → draft → verify → decide → render → write, for a directory.

`Redactor.redact` is the per-batch step (texts in, redacted texts and audit rows out) and does not care
who feeds it; `run` is the local loop that streams documents through it in batches, writes outputs
atomically and appends the audit after each output.
"""

import bisect
import fcntl
import hashlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from vault.audit import AuditWriter, completed_documents, keyed_hash, load_audit_key, new_run_id
from vault.detect import build_analyzer
from vault.documents import (Document, DocumentError, read_document, remove_temp_files, render_document, walk,
                             write_atomic)
from vault.hints import AS_ENTITY
from vault.models import (RedactionModel, chunk_bounds, hinted_source, load_pair, spans_from_output, strip_tags,
                          tokens_with_tags)
from vault.policy import Policy
from vault.render import Decision, Pseudonymizer, decide, redacted_values, render, spread
from vault.speculate import Engine

CHUNK_TOKENS = 256
LOCK_NAME = ".vault.lock"


class UsageError(Exception):
    """A bad command line or configuration: exit code 2."""


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


class Redactor:
    """The per-batch step: many texts in, their redactions out, with every chunk of the batch decoded
    together by the speculative engine."""

    def __init__(self, draft: RedactionModel, oracle: RedactionModel, policy: Policy, key: bytes,
                 batch_size: int = 8, drafter: str = "draft"):
        self.draft, self.oracle, self.policy, self.key = draft, oracle, policy, key
        self.detector = build_analyzer(policy, hints=bool(oracle.tags.hints), gazetteer=oracle.gazetteer())
        self.engine = Engine(oracle.model, oracle.tags, draft.model)
        self.batch_size, self.drafter = batch_size, drafter

    def redact(self, texts: list[str], pseudonymizers: list[Pseudonymizer],
               contexts: list[str] | None = None, documents: list[int] | None = None) -> list[TextResult]:
        """`contexts[i]`, if given, is what texts[i] is (a column header, a JSON key): the models
        and recognizers read "context: text", and only spans inside the text count. Texts with the
        same `documents[i]` are the values of one file: a value redacted in one is redacted where
        it repeats in the others (policy `redact_repeats`)."""
        tok, tags = self.oracle.tokenizer, self.oracle.tags
        encoded, candidates, jobs = [], [], []  # jobs: (text index, first token, end token)
        sources, hints = [], []
        # A name says what a value is; a 10 kB "header" would only cost time in every cell.
        prefixes = [f"{' '.join(c.split())[:64]}: " if c and c.strip() else "" for c in contexts or [""] * len(texts)]
        full = [prefix + text for prefix, text in zip(prefixes, texts)]
        readings = []
        for t, (text, found) in enumerate(zip(full, self.detector.analyze(full))):
            ids, offsets = tok.encode(text)
            encoded.append((ids, offsets))
            candidates.append(found.candidates)
            # The drafters' first guess: the recognizers' candidates and the hints, as a tagged output.
            guess = [s for s in found.candidates if self.policy.redacts(s.entity_type)]
            guess += [replace(h, entity_type=AS_ENTITY[h.entity_type]) for h in found.hints if h.entity_type in AS_ENTITY]
            for a, b in chunk_bounds(text, offsets, CHUNK_TOKENS):
                jobs.append((t, a, b))
                sources.append(ids[a:b])
                readings.append(hinted_source(tags, ids[a:b], offsets[a:b], found.hints))
                hints.append(tokens_with_tags(tags, ids[a:b], offsets[a:b], guess))
        results = self.engine.run(sources, drafter=self.drafter, hints=hints, batch_size=self.batch_size,
                                  readings=readings)
        per_text: list[list[tuple[int, int, object]]] = [[] for _ in texts]
        for (t, a, b), res in zip(jobs, results):
            per_text[t].append((a, b, res))
        judged = [self._decide(text, prefixes[t], encoded[t], candidates[t], per_text[t]) for t, text in enumerate(texts)]
        if documents is not None and self.policy.redact_repeats:
            # decide() has spread each text's values within it; a file of several values (CSV cells,
            # JSON strings) spreads them across its values too. A one-text file has nothing to add.
            size = Counter(documents)
            shared = [t for t in range(len(texts)) if size[documents[t]] > 1]
            values: dict[int, dict[str, str]] = {}
            for t in shared:
                for value, etype in redacted_values(judged[t][0], texts[t]).items():
                    values.setdefault(documents[t], {}).setdefault(value, etype)
            for t in shared:
                judged[t] = (spread(judged[t][0], values.get(documents[t], {}), self.policy, texts[t]), *judged[t][1:])
        return [
            self._finish(text, prefixes[t], encoded[t], per_text[t], *judged[t], pseudonymizers[t])
            for t, text in enumerate(texts)
        ]

    def _decide(self, text, prefix, encoded, candidates, chunks) -> tuple[list[Decision], dict, bool]:
        """The decisions about one text, in its own coordinates; the oracle's verdict per source
        token; whether every chunk was decoded to <eos> and strips back to its source."""
        ids, offsets = encoded  # of prefix + text
        skip = len(prefix)
        tags = self.oracle.tags
        oracle_spans, verdicts = [], {}  # verdicts: source token -> (chunk, logprob, margin, drafted, checked)
        verified = True
        for c, (a, b, res) in enumerate(chunks):
            verified &= strip_tags(tags, res.output) == ids[a:b] and bool(res.output) and res.output[-1] == tags.eos
            oracle_spans += spans_from_output(tags, res.output, prefix + text, offsets[a:b], res.type_probs)
            k = a
            for j, token in enumerate(res.output):
                record = (c, res.logprob[j], res.margin[j], res.proposed_by[j] != "oracle", res.oracle_pass[j] >= 1)
                if token in tags.open:
                    verdicts[k] = record  # the oracle's decision to open a span before token k
                elif not tags.is_tag(token) and token != tags.eos:
                    verdicts.setdefault(k, record)  # ... or to copy token k without opening one
                    k += 1
        return _inside(decide(oracle_spans, candidates, self.policy, prefix + text), skip), verdicts, verified

    def _finish(self, text, prefix, encoded, chunks, decisions, verdicts, verified, pseudonymizer) -> TextResult:
        """Audit rows and the rendered text."""
        offsets, skip = encoded[1], len(prefix)
        ends = [o[1] for o in offsets]
        rows = []
        for d in decisions:
            s = d.span
            k = bisect.bisect_right(ends, s.start + skip)
            chunk, logprob, margin, drafted, checked = verdicts.get(k, (0, None, None, False, False))
            names = [n for n, _ in d.detectors]
            scores = [float(v) for n, v in d.detectors]
            recognizer_scores = [v for n, v in d.detectors if n != "oracle"]
            rule = self.policy.rule(s.entity_type)
            rows.append({
                "chunk": chunk,
                "start": s.start,
                "end": s.end,
                "entity_type": s.entity_type,
                "detectors": names,
                "detector_scores": scores,
                "detector_score": max(recognizer_scores) if recognizer_scores else None,
                "draft_proposed": drafted and "oracle" in names,
                "oracle_checked": checked and verified,
                "oracle_logprob": logprob,
                "oracle_margin": None if margin is None or margin == float("inf") else margin,
                "action": d.action,
                "operator": rule.operator if d.action == "redacted" and rule else "",
                "reason": d.reason,
                "value_hmac": keyed_hash(self.key, text[s.start : s.end]),
            })
        return TextResult(
            redacted=render(text, decisions, self.policy, pseudonymizer),
            span_rows=rows,
            hold=any(d.hold for d in decisions),
            chunks=len(chunks),
            tokens=sum(len(r.output) for _, _, r in chunks),
            passes=sum(r.passes for _, _, r in chunks),
            drafted=sum(r.drafted for _, _, r in chunks),
            accepted=sum(r.accepted for _, _, r in chunks),
            verified=verified,
        )


def _inside(decisions: list[Decision], skip: int) -> list[Decision]:
    """The decisions about the text after a context prefix of `skip` characters, clipped to it
    and in its coordinates."""
    if not skip:
        return decisions
    return [replace(d, span=replace(d.span, start=max(d.span.start, skip) - skip, end=d.span.end - skip))
            for d in decisions if d.span.end > skip]


# ---------------------------------------------------------------------------------------------- the local loop


@dataclass
class RunOptions:
    input_dir: Path
    output_dir: Path
    policy: Policy
    audit_dir: Path = Path("audit")
    draft_dir: Path | None = None
    oracle_dir: Path | None = None
    batch_size: int = 8
    force: bool = False
    dry_run: bool = False
    consistent_pseudonyms: bool = False
    progress: bool = False
    max_bytes: int = 20_000_000  # larger files fail with a clear reason instead of stalling the night


@dataclass
class Summary:
    run_id: str = ""
    audit_run: str = ""
    counts: dict = field(default_factory=lambda: {s: 0 for s in ("redacted", "unchanged", "skipped", "failed", "held")})
    spans_redacted: int = 0
    oracle_checked: int = 0
    sensitive_spans: int = 0
    tokens: int = 0
    chunks: int = 0
    seconds: float = 0.0
    started: float = field(default_factory=time.time)
    problems: list[str] = field(default_factory=list)  # "path: reason", never a raw value

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["failed"] or self.counts["held"] else 0

    def as_dict(self) -> dict:
        coverage = self.oracle_checked / self.sensitive_spans if self.sensitive_spans else 1.0
        return {"run_id": self.run_id, "audit_run": self.audit_run, **self.counts,
                "spans_redacted": self.spans_redacted, "coverage": coverage, "tokens": self.tokens,
                "seconds": round(self.seconds, 2), "problems": self.problems, "exit_code": self.exit_code}

    def line(self) -> str:
        c = self.counts
        coverage = self.oracle_checked / self.sensitive_spans if self.sensitive_spans else 1.0
        return (f"vault: {c['redacted']} redacted, {c['unchanged']} unchanged, {c['skipped']} skipped, "
                f"{c['failed']} failed, {c['held']} held; {self.spans_redacted} spans redacted; "
                f"oracle coverage {coverage:.0%}; {self.seconds:.1f} s; audit {self.audit_run or '-'}")


def check_paths(opts: RunOptions) -> None:
    inp, out = opts.input_dir.resolve(), opts.output_dir.resolve()
    if not inp.is_dir():
        raise UsageError(f"{opts.input_dir}: input directory not found")
    if out == inp or inp in out.parents:
        raise UsageError(f"{opts.output_dir}: the output directory must not be inside the input directory")
    if out in inp.parents:
        raise UsageError(f"{opts.input_dir}: the input directory must not be inside the output directory")


class OutputLock:
    """One run at a time per output directory: an exclusive, non-blocking lock on a file in it."""

    def __init__(self, output_dir: Path):
        output_dir.mkdir(parents=True, exist_ok=True)
        self.path = output_dir / LOCK_NAME
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise UsageError(f"{output_dir}: another vault run is writing to this directory (lock {self.path})") from None

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unchanged(doc_sha: str, prev: dict | None, out_path: Path, policy_fp: str, model_fp: str) -> bool:
    if not prev or prev["input_sha256"] != doc_sha:
        return False
    if prev["policy_fingerprint"] != policy_fp or prev["model_fingerprint"] != model_fp:
        return False
    try:
        return _sha256(out_path.read_bytes()) == prev["output_sha256"]
    except OSError:
        return False


def run(opts: RunOptions, log=lambda msg: print(msg, file=sys.stderr)) -> Summary:
    """Redact a directory. Raises UsageError for configuration problems (exit code 2)."""
    check_paths(opts)
    started = time.time()
    summary = Summary()
    lock = OutputLock(opts.output_dir)
    try:
        try:
            draft, oracle = load_pair(opts.draft_dir, opts.oracle_dir)
        except Exception as exc:  # ModelError and friends: a configuration problem
            raise UsageError(str(exc)) from exc
        policy_fp = opts.policy.fingerprint()
        draft_fp, oracle_fp = draft.fingerprint(), oracle.fingerprint()  # hashes the weights: once
        model_fp = _sha256((draft_fp + oracle_fp).encode())
        opts.audit_dir.mkdir(parents=True, exist_ok=True)
        key = load_audit_key(opts.audit_dir)
        previous = {} if opts.force else completed_documents(opts.audit_dir)
        if not opts.dry_run:
            remove_temp_files(opts.output_dir)
        entries = list(walk(opts.input_dir, exclude=[opts.output_dir, opts.audit_dir]))
        if opts.dry_run:
            return _dry_run(opts, entries, previous, policy_fp, model_fp, summary, started)
        summary.run_id = new_run_id()
        meta = {"policy_fingerprint": policy_fp, "model_fingerprint": model_fp, "policy": opts.policy.name,
                "draft": {"path": str(draft.path), "fingerprint": draft_fp},
                "oracle": {"path": str(oracle.path), "fingerprint": oracle_fp},
                "input_dir": str(opts.input_dir), "output_dir": str(opts.output_dir)}
        redactor = Redactor(draft, oracle, opts.policy, key, opts.batch_size)
        shared = Pseudonymizer(key) if opts.consistent_pseudonyms else None
        bar = _progress(len(entries), opts.progress)
        # Flushing the audit every few seconds bounds what a killed run has to redo.
        with AuditWriter(opts.audit_dir, summary.run_id, key, meta, flush_seconds=5.0) as audit:
            summary.audit_run = str(audit.run_dir)
            batch: list[Document] = []
            batch_chunks = 0

            def flush_batch():
                nonlocal batch, batch_chunks
                if batch:
                    _redact_batch(batch, redactor, opts, audit, summary, shared, bar)
                batch, batch_chunks = [], 0

            for entry in entries:
                out_path = opts.output_dir / entry.rel_path
                if not entry.ok:
                    _record(audit, summary, {"doc_path": entry.rel_path, "status": "skipped", "error": entry.reason}, bar)
                    continue
                try:
                    doc = _read(opts, entry.rel_path)
                except DocumentError as exc:
                    _record(audit, summary, {"doc_path": entry.rel_path, "status": "failed", "error": exc.reason}, bar)
                    continue
                prev = previous.get(entry.rel_path)
                if _unchanged(doc.sha256, prev, out_path, policy_fp, model_fp):
                    _record(audit, summary, {"doc_path": entry.rel_path, "status": "unchanged", "input_sha256": doc.sha256,
                                             "output_sha256": prev["output_sha256"]}, bar)
                    continue
                batch.append(doc)
                batch_chunks += max(1, sum(len(u.text) for u in doc.units) // 1200)
                # A few engine batches' worth of chunks per call: enough to batch well, few enough that
                # memory stays flat and outputs land steadily.
                if batch_chunks >= 4 * opts.batch_size:
                    flush_batch()
            flush_batch()
            totals = summary.as_dict()
            totals.pop("problems")
            audit.close(totals)
        if bar is not None:
            bar.close()
    finally:
        lock.release()
    summary.seconds = time.time() - started
    return summary


def _read(opts: RunOptions, rel_path: str) -> Document:
    try:
        size = (opts.input_dir / rel_path).stat().st_size
    except OSError as exc:
        raise DocumentError(rel_path, f"unreadable: {exc.strerror}") from None
    if size > opts.max_bytes:
        raise DocumentError(rel_path, f"file is {size / 1e6:.1f} MB, larger than the limit of {opts.max_bytes / 1e6:.1f} MB (--max-bytes)")
    return read_document(opts.input_dir, rel_path)


def _record(audit: AuditWriter, summary: Summary, row: dict, bar, spans: list[dict] = ()) -> None:
    audit.add_document(row, list(spans))
    summary.counts[row["status"]] += 1
    if row.get("error"):
        summary.problems.append(f"{row['doc_path']}: {row['error']}")
    if bar is not None:
        bar.update(1)


def _redact_batch(batch: list[Document], redactor: Redactor, opts: RunOptions, audit: AuditWriter,
                  summary: Summary, shared: Pseudonymizer | None, bar) -> None:
    """Redact a batch of documents in one engine call, then write each output and its audit rows."""
    started = time.time()
    texts, contexts, documents, pseudonymizers = [], [], [], []
    for i, doc in enumerate(batch):
        own = shared or Pseudonymizer(redactor.key)  # one per document unless consistent across the run
        texts += [u.text for u in doc.units]
        contexts += [u.context for u in doc.units]
        documents += [i] * len(doc.units)
        pseudonymizers += [own] * len(doc.units)
    try:
        results = redactor.redact(texts, pseudonymizers, contexts, documents)
    except Exception as exc:  # fail closed: nothing of this batch is written
        for doc in batch:
            _record(audit, summary, {"doc_path": doc.rel_path, "status": "failed", "input_sha256": doc.sha256,
                                     "error": f"redaction failed: {type(exc).__name__}"}, bar)
        return
    seconds = (time.time() - started) / max(1, len(batch))
    done = 0
    for doc in batch:
        unit_results = results[done : done + len(doc.units)]
        done += len(doc.units)
        stats = {
            "doc_path": doc.rel_path, "input_sha256": doc.sha256,
            "chunks": sum(r.chunks for r in unit_results), "tokens": sum(r.tokens for r in unit_results),
            "oracle_passes": sum(r.passes for r in unit_results), "seconds": seconds,
        }
        drafted = sum(r.drafted for r in unit_results)
        stats["accept_rate"] = sum(r.accepted for r in unit_results) / drafted if drafted else None
        spans = [dict(row, doc_path=doc.rel_path, field=u.field) for u, r in zip(doc.units, unit_results) for row in r.span_rows]
        summary.tokens += stats["tokens"]
        summary.chunks += stats["chunks"]
        if bar is not None:
            elapsed = max(1e-9, time.time() - summary.started)
            bar.set_postfix(chunks=summary.chunks, tok_s=f"{summary.tokens / elapsed:.0f}", refresh=False)
        if not all(r.verified for r in unit_results):
            _record(audit, summary, dict(stats, status="failed", error="not fully verified by the oracle"), bar, spans)
            continue
        if any(r.hold for r in unit_results):
            _record(audit, summary, dict(stats, status="held", error="held for review: a must-redact recognizer and the oracle disagree"), bar, spans)
            continue
        data = render_document(doc, [r.redacted for r in unit_results])
        write_atomic(opts.output_dir / doc.rel_path, data)
        summary.spans_redacted += sum(row["action"] == "redacted" for row in spans)
        summary.oracle_checked += sum(row["oracle_checked"] for row in spans)
        summary.sensitive_spans += len(spans)
        _record(audit, summary, dict(stats, status="redacted", output_sha256=_sha256(data)), bar, spans)


def _dry_run(opts, entries, previous, policy_fp, model_fp, summary, started) -> Summary:
    """What a run would do, without running the models or writing anything."""
    for entry in entries:
        if not entry.ok:
            summary.counts["skipped"] += 1
            summary.problems.append(f"{entry.rel_path}: {entry.reason}")
            continue
        try:
            doc = _read(opts, entry.rel_path)
        except DocumentError as exc:
            summary.counts["failed"] += 1
            summary.problems.append(f"{entry.rel_path}: {exc.reason}")
            continue
        unchanged = _unchanged(doc.sha256, previous.get(entry.rel_path), opts.output_dir / entry.rel_path, policy_fp, model_fp)
        summary.counts["unchanged" if unchanged else "redacted"] += 1
    summary.seconds = time.time() - started
    return summary


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="vault redact", dynamic_ncols=True)
