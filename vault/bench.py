"""`vault bench speculative`: every decoding mode on the same chunks, in one run, against the reference.

Modes: Hugging Face `generate` greedy, assisted generation (`assistant_model=`) and prompt lookup
(`prompt_lookup_num_tokens=`), all under the same grammar through a logits processor, at batch size 1
(assisted generation cannot batch); vault's reference mode (oracle-alone greedy); vault with each
drafter, at batch size 1 and batched. Oracle passes are counted by a hook on the oracle's forward,
so every mode is counted the same way.
"""

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from vault.evaluate import TAB_DEV, read_gold
from vault.models import Grammar, RedactionModel, build_prompt
from vault.speculate import Engine

DEFAULT_DEV = TAB_DEV
# Generated held-out documents, kept as a file so that the bench never runs training code (data/README.md).
BENCH_HELDOUT = TAB_DEV.parent / "bench_heldout.jsonl"


def _require(path: Path) -> Path:
    """A gold file that was asked for must be there: a benchmark that quietly measures something
    else is worse than one that stops."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: gold JSONL not found (the TAB dev set and the bench's other texts ship in "
                                f"the repository's data/; pass --dev FILE from another checkout)")
    return path


class GrammarProcessor(LogitsProcessor):
    """The redaction grammar for `generate`: every token it forbids gets -inf."""

    def __init__(self, source: list[int], prompt_len: int, tags):
        self.source, self.prompt_len, self.tags = source, prompt_len, tags

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        mask = torch.full_like(scores, float("-inf"))
        for row, ids in enumerate(input_ids.tolist()):
            g = Grammar(self.source, self.tags)
            for t in ids[self.prompt_len :]:
                g.advance(t)
            allowed = g.allowed_tags() + ([g.next_source()] if g.next_source() is not None else [])
            mask[row, allowed] = 0
        return scores + mask


class PassCounter:
    """Counts forward calls of a model: one call is one oracle pass."""

    def __init__(self, model: torch.nn.Module):
        self.calls = 0
        model.register_forward_pre_hook(self._hook)

    def _hook(self, *_):
        self.calls += 1


@dataclass
class Row:
    mode: str
    batch: int
    seconds: float
    tokens: int
    passes: int
    drafted: int
    accepted: int
    identical: bool

    def as_dict(self) -> dict:
        return {
            "mode": self.mode,
            "batch": self.batch,
            "seconds": round(self.seconds, 3),
            "tokens_per_second": round(self.tokens / self.seconds, 1),
            "oracle_passes_per_token": round(self.passes / max(1, self.tokens), 4),
            "accept_rate": round(self.accepted / self.drafted, 4) if self.drafted else None,
            "identical": self.identical,
        }


@dataclass
class BenchChunks:
    """The chunks every mode decodes: source tokens, what the models read (hinted source) and the
    drafters' first guess, prepared as `vault redact` prepares them."""

    sources: list[list[int]]
    readings: list[list[int]]
    guesses: list[list[int]]


def bench_chunks(redactor, dev_path: Path | None, n_dev: int, n_generated: int) -> BenchChunks:
    """One chunk from the middle of each of `n_dev` TAB dev and `n_generated` held-out generated documents."""
    texts = []
    if dev_path is not None:
        texts += [d["text"] for d in read_gold(_require(dev_path))[:n_dev]]
    texts += [d["text"] for d in read_gold(_require(BENCH_HELDOUT))[:n_generated]]
    chunks = redactor.chunk(texts)
    picked = []
    for t in range(len(texts)):
        mine = [k for k, job in enumerate(chunks.jobs) if job.text == t]
        if mine:
            picked.append(mine[len(mine) // 2])
    return BenchChunks([chunks.sources[k] for k in picked], [chunks.readings[k] for k in picked],
                       [chunks.guesses[k] for k in picked])


def run_hf(mode: str, oracle: RedactionModel, draft: RedactionModel, chunks: BenchChunks) -> list[list[int]]:
    tags = oracle.tags
    outputs = []
    for source, reading in zip(chunks.sources, chunks.readings):
        prompt = build_prompt(tags, reading)
        kwargs = dict(
            max_new_tokens=3 * len(source) + 2,
            do_sample=False,
            eos_token_id=tags.eos,
            pad_token_id=tags.pad,
            logits_processor=LogitsProcessorList([GrammarProcessor(source, len(prompt), tags)]),
        )
        if mode == "hf-assisted":
            kwargs["assistant_model"] = draft.model
        elif mode == "hf-prompt-lookup":
            kwargs["prompt_lookup_num_tokens"] = 10
        with torch.inference_mode():
            seq = oracle.model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long), **kwargs)
        outputs.append(seq[0, len(prompt) :].tolist())
    return outputs


@dataclass
class Measured:
    """What one mode's run gives back: its outputs and, from vault's engine, its own counts (`passes` 0: the
    oracle's forward calls are counted instead)."""

    outputs: list[list[int]]
    drafted: int = 0
    accepted: int = 0
    passes: int = 0


class ModeBench:
    """Decoding modes on the same prepared chunks, one Row each; the first mode measured is the reference
    the others must match."""

    def __init__(self, draft: RedactionModel, oracle: RedactionModel, prepared: BenchChunks, log):
        self.prepared, self.log = prepared, log
        self.counter = PassCounter(oracle.model)
        self.engine = Engine(oracle.model, oracle.tags, draft.model)
        self.rows: list[Row] = []
        self.reference: list[list[int]] = []

    def measure(self, mode: str, batch: int, fn) -> list[list[int]]:
        """Time `fn` (→ Measured) and record its Row."""
        before = self.counter.calls
        start = time.perf_counter()
        got = fn()
        seconds = time.perf_counter() - start
        tokens = sum(len(o) for o in got.outputs)
        same = all(o == r for o, r in zip(got.outputs, self.reference)) if self.reference else True
        # Passes per chunk: a batched forward call is one pass for each chunk in it.
        self.rows.append(Row(mode, batch, seconds, tokens, got.passes or self.counter.calls - before, got.drafted,
                             got.accepted, same))
        self.log(f"  {mode:<22} batch {batch}: {seconds:7.2f} s, {tokens / seconds:8.1f} tok/s, identical {same}")
        return got.outputs

    def vault_mode(self, drafter: str, batch: int, engine: Engine | None = None):
        """A run of vault's engine (default: the bench's) with `drafter`, at exactly `batch` chunks a batch."""
        engine = engine or self.engine
        prepared = self.prepared

        def fn() -> Measured:
            res = engine.run(prepared.sources, drafter=drafter, hints=prepared.guesses, batch_size=batch, fill=False,
                             readings=prepared.readings)  # exact batch sizes
            return Measured([r.output for r in res], sum(r.drafted for r in res), sum(r.accepted for r in res),
                            sum(r.passes for r in res))

        return fn

    def row(self, mode: str, batch: int) -> Row:
        return next(r for r in self.rows if r.mode == mode and r.batch == batch)


def speculative(draft: RedactionModel, oracle: RedactionModel, quick: bool = False, batch_size: int = 8,
                dev_path: Path | None = DEFAULT_DEV, policy=None, log=print) -> dict:
    """Every mode on the same chunks, prepared under `policy` (default: strict) as `vault redact` does."""
    from vault.pipeline import Redactor
    from vault.policy import load_policy

    n_dev, n_gen = (3, 3) if quick else (12, 12)
    redactor = Redactor(draft, oracle, policy or load_policy("strict"), key=b"bench")
    prepared = bench_chunks(redactor, dev_path, n_dev, n_gen)
    chunks = prepared.sources
    bench = ModeBench(draft, oracle, prepared, log)

    log(f"{len(chunks)} chunks, {sum(map(len, chunks))} source tokens")
    bench.reference.extend(bench.measure("vault-reference", batch_size, bench.vault_mode("none", batch_size)))
    plan = [("vault-reference", 1, "none"), ("vault-copy", 1, "copy"), ("vault-default", 1, "draft")]
    plan += [("vault-copy", batch_size, "copy"), ("vault-hints", batch_size, "hints"), ("vault-default", batch_size, "draft")]
    for mode, batch, drafter in plan:
        bench.measure(mode, batch, bench.vault_mode(drafter, batch))
    # What each engine change is worth: the default mode without the key/value buffer and the restricted
    # output layer (the engine as it was), then with each alone.
    for name, options in (("vault-default (torch.cat cache, full logits)", dict(kv_buffer=False, restricted_head=False)),
                          ("vault-default (+ restricted output layer)", dict(kv_buffer=False, restricted_head=True)),
                          ("vault-default (+ key/value buffer)", dict(kv_buffer=True, restricted_head=False))):
        plain = Engine(oracle.model, oracle.tags, draft.model, **options)
        bench.measure(name, batch_size, bench.vault_mode("draft", batch_size, plain))
    # Hugging Face's generate() needs a causal LM oracle; an encoder oracle (vault.encoder_oracle) has none.
    hf_modes = ["hf-greedy", "hf-assisted", "hf-prompt-lookup"] if hasattr(oracle.model, "generate") else []
    for mode in hf_modes:
        bench.measure(mode, 1, lambda mode=mode: Measured(run_hf(mode, oracle, draft, prepared)))
    return _speculative_result(bench, batch_size, hf_modes)


def _speculative_result(bench: ModeBench, batch_size: int, hf_modes: list[str]) -> dict:
    """The bench's figures: every mode's row, and the default mode batched against the others."""
    rows, chunks = bench.rows, bench.prepared.sources
    best = bench.row("vault-default", batch_size)
    ref_same_batch = rows[0]
    plain = bench.row("vault-default (torch.cat cache, full logits)", batch_size)
    return {
        "engine_changes": {r.mode: round(plain.seconds / r.seconds, 2) for r in rows
                           if r.mode.startswith("vault-default (") and r.batch == batch_size} | {
            "vault-default (both)": round(plain.seconds / best.seconds, 2)},
        "chunks": len(chunks),
        "source_tokens": sum(map(len, chunks)),
        "identical": all(r.identical for r in rows),
        "speedup_vs_oracle": round(ref_same_batch.seconds / best.seconds, 2),
        "speedup_vs_oracle_batch1": round(bench.row("vault-reference", 1).seconds / best.seconds, 2),
        **{f"speedup_vs_{mode.replace('-', '_')}": round(bench.row(mode, 1).seconds / best.seconds, 2)
           if mode in hf_modes else None for mode in ("hf-greedy", "hf-assisted", "hf-prompt-lookup")},
        "oracle_passes_per_token": round(best.passes / max(1, best.tokens), 4),
        "accept_rate": round(best.accepted / best.drafted, 4) if best.drafted else None,
        "modes": [r.as_dict() for r in rows],
    }


def table(result: dict) -> str:
    head = f"{'mode':<46}{'batch':>6}{'seconds':>10}{'tok/s':>10}{'passes/tok':>12}{'accept':>8}{'identical':>11}"
    lines = [head, "-" * len(head)]
    for m in result["modes"]:
        accept = f"{m['accept_rate']:.2f}" if m["accept_rate"] is not None else "-"
        lines.append(f"{m['mode']:<46}{m['batch']:>6}{m['seconds']:>10.2f}{m['tokens_per_second']:>10.1f}"
                     f"{m['oracle_passes_per_token']:>12.3f}{accept:>8}{str(m['identical']):>11}")
    lines.append("")
    lines += [f"{k}: {result[k]}" for k in ("chunks", "source_tokens", "identical", "engine_changes", "speedup_vs_oracle",
              "speedup_vs_oracle_batch1", "speedup_vs_hf_greedy", "speedup_vs_hf_assisted",
              "speedup_vs_hf_prompt_lookup", "oracle_passes_per_token", "accept_rate")]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- pipeline


def _write_docs(folder: Path, texts: list[str]) -> None:
    for i, text in enumerate(texts):
        path = folder / f"{i // 500:03d}" / f"doc{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _redact_process(input_dir: Path, work: Path, extra: list[str]) -> tuple[float, int, dict]:
    """Run `vault redact` as its own process: wall seconds, peak resident memory (KiB), JSON summary."""
    import json
    import os
    import subprocess
    import sys

    out, audit = work / f"out-{input_dir.name}", work / f"audit-{input_dir.name}"
    cmd = [sys.executable, "-m", "vault.cli", "redact", str(input_dir), str(out), "--audit-dir", str(audit), "--json", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"vault redact {input_dir} failed with exit status {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss, json.loads(stdout)


def _long_and_short_texts(dev_path: Path, quick: bool) -> tuple[list[str], list[str]]:
    """Long documents (TAB dev's court judgments, repeated to at least 1 MB) and short texts (at least
    2,000 lines, cells and one-liners: the everyday and held-out field sets and the wild set's lines),
    all shipped in data/. `quick`: 8 long texts and 100 short ones."""
    data = Path(dev_path).parent
    long_texts = [d["text"] for d in read_gold(_require(dev_path))]
    while sum(map(len, long_texts)) < 1_000_000:
        long_texts += long_texts[: len(long_texts)]
    short = [d["text"] for name in ("everyday.jsonl", "heldout_fields.jsonl") for d in read_gold(_require(data / name))]
    short += [line.strip() for d in read_gold(_require(data / "wild.jsonl")) for line in d["text"].split("\n")
              if 20 <= len(line.strip()) <= 300]
    while len(short) < 2000:
        short += short[: 2000 - len(short)]
    if quick:
        long_texts, short = long_texts[:8], short[:100]
    return long_texts, short


def _startup_seconds(policy: str, extra_env: dict) -> float:
    """A fresh process's imports and model loading, up to a Redactor ready for its first batch."""
    import os
    import subprocess
    import sys

    code = ("import time; t = time.perf_counter(); from vault.models import load_pair; "
            "from vault.pipeline import Redactor; from vault.policy import load_policy; "
            f"Redactor(*load_pair(), load_policy({policy!r}), b'k'); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **extra_env})
    return float(out.stdout.strip().splitlines()[-1])


def _steady(texts: list[str], work: Path, name: str, policy, pair) -> tuple[float, dict]:
    """Seconds of a warm `vault redact` run's own work on the texts (the documents' seconds in its audit:
    reading, detecting, decoding, writing, auditing; not imports or model loading), and its summary."""
    from vault.audit import iter_rows
    from vault.pipeline import RunOptions, run

    _write_docs(work / name, texts)
    opts = RunOptions(work / name, work / f"out-{name}", policy, work / f"audit-{name}")
    summary = run(opts, log=lambda m: None, pair=pair)
    seconds = sum(r["seconds"] or 0.0 for r in iter_rows(Path(summary.audit_run), "documents"))
    return seconds, summary.as_dict()


def pipeline(quick: bool = False, dev_path: Path | None = DEFAULT_DEV, policy: str = "default",
             extra: list[str] = (), log=print) -> dict:
    """`vault redact` against Presidio's analyzer (with en_core_web_sm) on the same texts, in one run:
    start-up, steady-state characters per second on long documents and on short texts, as ratios; and
    peak memory of a run of 10,000 short documents against one of 1,000."""
    import os
    import secrets
    import tempfile

    from vault.detect import presidio_default_analyzer
    from vault.models import load_pair
    from vault.policy import load_policy

    long_texts, short_texts = _long_and_short_texts(dev_path, quick)
    env = {"VAULT_AUDIT_KEY": secrets.token_hex(32)}
    os.environ.update(env)
    result: dict = {"policy": policy}
    with tempfile.TemporaryDirectory(prefix="vault-bench-") as tmp:
        work = Path(tmp)
        result["startup_seconds"] = round(_startup_seconds(policy, env), 2)
        log(f"start-up (imports, models, spaCy, analyzer): {result['startup_seconds']} s")
        analyzer = presidio_default_analyzer()
        analyzer.detect("warm up the pipeline, Mr Smith.")
        pair = load_pair()
        for name, texts in (("long", long_texts), ("short", short_texts)):
            chars = sum(map(len, texts))
            start = time.perf_counter()
            for text in texts:
                analyzer.detect(text)
            presidio = time.perf_counter() - start
            vault, summary = _steady(texts, work, name, load_policy(policy), pair)
            result[name] = {"documents": len(texts), "characters": chars,
                            "vault_chars_per_second": round(chars / vault, 1),
                            "presidio_chars_per_second": round(chars / presidio, 1),
                            "throughput_vs_presidio": round(presidio / vault, 3),
                            "vault_seconds": round(vault, 1), "presidio_seconds": round(presidio, 1),
                            "coverage": summary["coverage"], "redacted": summary["redacted"]}
            log(f"{name}: {len(texts)} texts, {chars:,} characters: vault {chars / vault:,.0f} chars/s, "
                f"Presidio {chars / presidio:,.0f} chars/s, ratio {presidio / vault:.3f}")
        small_n, large_n = (10, 100) if quick else (1000, 10000)
        memory = {}
        for n in (small_n, large_n):
            # Short notes: memory should depend on how many documents flow, not on their size.
            docs = [d["text"][:160] for d in read_gold(_require(Path(dev_path).parent / "heldout.jsonl"))]
            _write_docs(work / f"n{n}", [docs[i % len(docs)] + f"\nref {i}" for i in range(n)])
            seconds, peak_kib, s = _redact_process(work / f"n{n}", work, ["--policy", policy, *extra])
            memory[n] = peak_kib
            log(f"{n} documents: {seconds:.0f} s, peak memory {peak_kib / 1024:.0f} MiB, {s['redacted']} redacted")
    result["peak_memory_mib"] = {str(n): round(k / 1024, 1) for n, k in memory.items()}
    result["memory_ratio"] = round(memory[large_n] / memory[small_n], 3)
    return result


# ---------------------------------------------------------------------------------------------- scaling


def _short_texts(data_dir: Path, n: int) -> list[str]:
    """Short texts as people write them (the hand-written wild and everyday sets, alternating; repeated
    where they hold fewer than `n`)."""
    sets = [[d["text"] for d in read_gold(data_dir / name)] for name in ("wild.jsonl", "everyday.jsonl")
            if (data_dir / name).is_file()]
    mixed = [t for pair in zip(*sets) for t in pair] or [d["text"] for d in read_gold(_require(data_dir / "wild.jsonl"))]
    return [mixed[i % len(mixed)] for i in range(n)]


def scaling(workers: list[int], dev_path: Path | None = DEFAULT_DEV, policy: str = "default", long_docs: int = 8,
            short_docs: int = 52, extra: list[str] = (), log=print) -> dict:
    """`vault redact --engine ray` with single-CPU (single-thread) workers, for each worker count, beside
    the local engine with torch on every CPU and on one, on the same tree, in one run; each run a process
    of its own. Throughput is the tree's characters over the run's own processing seconds (reading, naming,
    redacting, writing, recording; not imports, model loading, Ray's start or the workers' start); wall time
    beside it. Each Ray run's outputs are compared with the local engine's, byte for byte."""
    import os
    import tempfile

    from vault.distributed import local_cpus

    long = [d["text"] for d in read_gold(_require(dev_path))][:long_docs] if dev_path is not None else []
    texts = long + _short_texts(TAB_DEV.parent, short_docs)
    chars = sum(len(t) for t in texts)
    cpus = local_cpus()
    runs = []
    with tempfile.TemporaryDirectory(prefix="vault-scaling-") as tmp:
        work = Path(tmp)
        plan = [("local", None, t) for t in sorted({cpus, 1}, reverse=True)] + [("ray", n, 1) for n in workers]
        for engine, n, threads in plan:
            name = f"local{threads}" if engine == "local" else f"ray{n}"
            _write_docs(work / name, texts)
            args = ["--policy", policy, *extra]
            if engine == "ray":
                args += ["--engine", "ray", "--workers", str(n), "--worker-cpus", "1"]
            saved = dict(os.environ)
            os.environ["OMP_NUM_THREADS"] = str(threads)  # torch's threads in the local engine's process
            try:
                wall, _, summary = _redact_process(work / name, work, args)
            finally:
                os.environ.clear()
                os.environ.update(saved)
            processing = summary["processing_seconds"] or wall
            run = {"engine": engine, "workers": n, "threads": threads, "wall_seconds": round(wall, 2),
                   "processing_seconds": round(processing, 2), "chars_per_second": round(chars / processing, 1),
                   "redacted": summary["redacted"]}
            if engine == "ray":
                # The driver's serial part (reading, hashing, naming every document), inside processing.
                run["planning_seconds"] = summary["engine"].get("planning_seconds")
                run["identical_to_local"] = _tree_bytes(work / f"out-{name}") == _tree_bytes(work / f"out-local{cpus}")
            runs.append(run)
            log(f"{name}: {run['processing_seconds']} s processing, {run['wall_seconds']} s wall, "
                f"{run['chars_per_second']} characters/s")
    local, local_one = runs[0], next(r for r in runs if r["engine"] == "local" and r["threads"] == 1)
    one = next((r for r in runs if r["engine"] == "ray" and r["workers"] == 1), None)
    ratios = {}
    for r in (r for r in runs if r["engine"] == "ray"):
        ratios[f"ray_{r['workers']}_vs_local"] = round(r["chars_per_second"] / local["chars_per_second"], 3)
        ratios[f"ray_{r['workers']}_vs_local_1_thread"] = round(r["chars_per_second"] / local_one["chars_per_second"], 3)
        if one is not None and r is not one:
            ratios[f"ray_{r['workers']}_vs_ray_1"] = round(r["chars_per_second"] / one["chars_per_second"], 3)
    return {"documents": len(texts), "long_documents": len(long), "characters": chars, "cpus": cpus, "runs": runs,
            "ratios": ratios}


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------- serve


def _percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) of values."""
    import math

    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def serve(requests: int = 2000, clients: int = 16, policy: str = "default", data_dir: Path | None = None,
          extra: list[str] = (), max_batch: int = 32, max_wait_ms: float = 100.0, log=print) -> dict:
    """A bounded load on `vault serve` (its own process, on 127.0.0.1): `requests` everyday texts, one per
    request, from `clients` concurrent clients, stopping by itself; beside `vault redact` (its own process)
    on the same texts as files, in the same run. Throughput is texts per second: the server's from the
    first request sent to the last answer, vault redact's over its processing seconds (neither counts
    imports or model loading). Latency percentiles per request, batch sizes from the server's metrics,
    errors, and each process's peak resident memory."""
    import os
    import tempfile

    import httpx  # before anything runs: without it the bench stops at once

    data_dir = Path(data_dir) if data_dir is not None else TAB_DEV.parent
    everyday = [d["text"] for d in read_gold(data_dir / "everyday.jsonl")] if (data_dir / "everyday.jsonl").is_file() \
        else _short_texts(data_dir, 200)
    texts = [everyday[i % len(everyday)] for i in range(requests)]
    with tempfile.TemporaryDirectory(prefix="vault-bench-serve-") as tmp:
        work = Path(tmp)
        key_file = work / "key"
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
        _write_docs(work / "texts", texts)
        wall, redact_rss, summary = _redact_process(work / "texts", work, ["--policy", policy, "--key-file", str(key_file), *extra])
        redact_seconds = summary["processing_seconds"] or wall
        log(f"vault redact: {requests} texts, {redact_seconds:.1f} s processing ({wall:.1f} s wall)")

        server = _start_server(work, ["--policy", policy, "--audit-dir", str(work / "audit-serve"), "--key-file",
                                      str(key_file), "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms),
                                      "--queue-size", str(max(64, 2 * clients)), *extra])
        try:
            load = _load(server.base, texts, clients)
            metrics = httpx.get(f"{server.base}/metrics", timeout=60).text
            serve_rss = _peak_rss_kib(server.proc.pid)
        finally:
            server.stop()
    result = {
        "requests": requests, "clients": clients, "policy": policy, "errors": load.errors,
        "serve": _serve_figures(load, metrics, serve_rss),
        "redact": {"processing_seconds": round(redact_seconds, 2), "wall_seconds": round(wall, 2),
                   "texts_per_second": round(summary["redacted"] / redact_seconds, 2), "peak_rss_mb": round(redact_rss / 1024, 1)},
    }
    result["throughput_vs_redact"] = round(result["serve"]["texts_per_second"] / result["redact"]["texts_per_second"], 3)
    log(f"vault serve: {len(load.latencies)} answered, {sum(load.errors.values())} errors, "
        f"{result['serve']['texts_per_second']} texts/s ({result['throughput_vs_redact']} x vault redact), "
        f"p99 {result['serve']['latency_p99']} s, average batch {result['serve']['average_batch_texts']} texts")
    return result


@dataclass
class _Server:
    """A `vault serve` process of the bench's, listening on 127.0.0.1."""

    proc: subprocess.Popen
    base: str  # http://127.0.0.1:PORT

    def stop(self) -> None:
        """SIGTERM (the server closes its audit run), a kill if it has not gone in five minutes."""
        import signal

        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(300)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _start_server(work: Path, args: list[str]) -> _Server:
    """Start `vault serve --port 0 ARGS`, its log in WORK/serve.log, and wait until it says where it listens
    (once its models are loaded)."""
    import os
    import re
    import sys

    log_path = work / "serve.log"
    with log_path.open("w") as server_log:
        proc = subprocess.Popen([sys.executable, "-m", "vault.cli", "serve", "--port", "0", *args],
                                stderr=server_log, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"vault serve exited with status {proc.returncode}")
            found = re.search(r"running on http://127\.0\.0\.1:(\d+)", log_path.read_text())
            if found:
                return _Server(proc, f"http://127.0.0.1:{int(found.group(1))}")
            time.sleep(0.2)
    except BaseException:
        _Server(proc, "").stop()
        raise


@dataclass
class _Load:
    """What the clients of a load saw: each answered request's latency, the others counted by status (or
    exception), and the seconds from the first request sent to the last answer."""

    latencies: list[float]
    errors: dict[str, int]
    seconds: float


def _load(base: str, texts: list[str], clients: int) -> _Load:
    """Each text POSTed to /v1/redact once, by `clients` threads that take the next text as they finish."""
    import threading

    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    todo = iter(range(len(texts)))

    def client() -> None:
        with httpx.Client(base_url=base, timeout=600) as c:
            while True:
                with lock:
                    i = next(todo, None)
                if i is None:
                    return
                sent = time.perf_counter()
                try:
                    status = str(c.post("/v1/redact", json={"text": texts[i], "request_id": f"bench-{i}"}).status_code)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    if status == "200":
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _Load(latencies, errors, time.perf_counter() - started)


def _serve_figures(load: _Load, metrics: str, peak_rss_kib: int | None) -> dict:
    """The server's throughput, latency percentiles, texts per engine call (from its /metrics) and memory."""
    import re

    batches = {name: float(v) for name, v in re.findall(r"^vault_batch_texts_(sum|count) (\S+)$", metrics, re.M)}
    average_batch = batches["sum"] / batches["count"] if batches.get("count") else None
    return {"seconds": round(load.seconds, 2), "texts_per_second": round(len(load.latencies) / load.seconds, 2),
            "latency_p50": _rounded(_percentile(load.latencies, 50)),
            "latency_p95": _rounded(_percentile(load.latencies, 95)),
            "latency_p99": _rounded(_percentile(load.latencies, 99)),
            "average_batch_texts": _rounded(average_batch), "engine_calls": int(batches.get("count", 0)),
            "peak_rss_mb": round(peak_rss_kib / 1024, 1) if peak_rss_kib else None}


def _rounded(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _peak_rss_kib(pid: int) -> int | None:
    """A running process's peak resident memory (VmHWM), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------------------- startup

STARTUP_TARGET_SECONDS = 1.5  # issue 20: answers that load no model, on an idle machine

# What each figure times, as a user types it, and its target (None: no target, measured for the record).
STARTUP_FIGURES = {
    "help": ("vault --help", None),
    "usage_error": ("vault redact IN  (OUTPUT_DIR missing: exit 2)", STARTUP_TARGET_SECONDS),
    "dry_run": ("vault redact IN OUT --dry-run  (3 small files)", STARTUP_TARGET_SECONDS),
    "nothing_to_do": ("vault redact IN OUT  (rerun of the same 3 files, same audit and key)", STARTUP_TARGET_SECONDS),
    "real_run": ("vault redact IN OUT  (one one-line file, fresh output and audit)", None),
}

_SMALL_TREE = {"a.txt": "Please write to mia.berg@example.com about the invoice.\n",
               "notes/b.md": "# Call\n\nCall Tom on +44 20 7946 0958 tomorrow.\n",
               "c.csv": "name,email\nAnna Berg,anna@example.org\n"}


def startup(repeats: int = 5, extra: list[str] = (), log=print) -> dict:
    """Whole-process wall times, each command a fresh interpreter (`python -m vault.cli`), median and min of
    `repeats`: `vault --help`, a usage error, a dry run and a rerun with nothing to do on a small tree (redacted
    once beforehand, untimed), and a real run of a one-line file, whose --json summary gives the run's own
    seconds and its processing seconds (the rest of the wall time is start-up: interpreter, imports, models,
    and the audit's close). In a temporary folder with a temporary audit key ($VAULT_AUDIT_KEY), never the
    user's key, key file or anchor. `extra`: options for every `vault redact` (--draft DIR --oracle DIR)."""
    import os
    import secrets
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("VAULT_AUDIT_KEY_FILE", "VAULT_AUDIT_ANCHOR")}
    env["VAULT_AUDIT_KEY"] = secrets.token_hex(32)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="vault-bench-startup-") as tmp:
        bench = _StartupBench(Path(tmp), list(extra), env)
        first = bench.vault(["redact", *bench.tree, "--json"], 0).summary  # untimed: what the rerun finds done
        log(f"small tree redacted once (untimed): {first['redacted']} redacted")
        for n in range(repeats):
            bench.repeat(n)
            log(f"repeat {n + 1}/{repeats}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in bench.times.items()))
    return {"repeats": repeats, "cpus": os.cpu_count(), "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2), "figures": bench.figures()}


@dataclass
class _Timed:
    """One `vault` process: its wall seconds and, with --json, the summary it printed."""

    seconds: float
    summary: dict | None


class _StartupBench:
    """The start-up bench's inputs in `work` (the small tree and the one-line file, written at once) and
    the times of each figure's repeats."""

    def __init__(self, work: Path, extra: list[str], env: dict[str, str]):
        self.work, self.extra, self.env = work, extra, env
        self.times: dict[str, list[float]] = {name: [] for name in STARTUP_FIGURES}
        self.real: dict[str, list[float]] = {"run_seconds": [], "processing_seconds": [], "outside_processing_seconds": []}
        for name, text in _SMALL_TREE.items():
            (work / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
            (work / "tree" / name).write_text(text, encoding="utf-8")
        (work / "line").mkdir()
        (work / "line" / "note.txt").write_text("Call Anna Berg on +44 20 7946 0958.\n", encoding="utf-8")
        self.tree = [str(work / "tree"), str(work / "out"), "--audit-dir", str(work / "audit"), *extra]

    def vault(self, args: list[str], expect: int) -> _Timed:
        """`vault ARGS` in a fresh interpreter, which must exit with `expect`."""
        import json
        import sys

        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "vault.cli", *args], capture_output=True, text=True, env=self.env)
        seconds = time.perf_counter() - start
        if done.returncode != expect:
            raise RuntimeError(f"vault {' '.join(args[:1])} exited {done.returncode}, expected {expect}: "
                               f"{(done.stderr or done.stdout).strip()[-300:]}")
        lines = done.stdout.strip().splitlines()
        return _Timed(seconds, json.loads(lines[-1]) if "--json" in args and lines else None)

    def repeat(self, n: int) -> None:
        """Repeat `n` of every figure, each checked for doing what it stands for."""
        work, extra, times = self.work, self.extra, self.times
        times["help"].append(self.vault(["--help"], 0).seconds)
        times["usage_error"].append(self.vault(["redact", str(work / "tree")], 2).seconds)
        dry = [str(work / "tree"), str(work / "out-dry"), "--audit-dir", str(work / "audit-dry"), *extra]
        run = self.vault(["redact", *dry, "--dry-run", "--json"], 0)
        if "dry_run" not in run.summary:
            raise RuntimeError("the dry run printed no plan")
        times["dry_run"].append(run.seconds)
        run = self.vault(["redact", *self.tree, "--json"], 0)
        if not run.summary["noop"]:
            raise RuntimeError(f"the rerun was not a rerun with nothing to do: {run.summary['redacted']} redacted")
        times["nothing_to_do"].append(run.seconds)
        run = self.vault(["redact", str(work / "line"), str(work / f"out-line{n}"), "--audit-dir",
                          str(work / f"audit-line{n}"), *extra, "--json"], 0)
        if run.summary["redacted"] != 1:
            raise RuntimeError(f"the one-line file was not redacted: {run.summary['problems']}")
        times["real_run"].append(run.seconds)
        self.real["run_seconds"].append(run.summary["seconds"])
        self.real["processing_seconds"].append(run.summary["processing_seconds"])
        self.real["outside_processing_seconds"].append(run.seconds - run.summary["processing_seconds"])

    def figures(self) -> dict:
        """Each figure's median and min against its target; the real run's own and processing seconds."""
        import statistics

        figures = {}
        for name, (command, target) in STARTUP_FIGURES.items():
            median = statistics.median(self.times[name])
            figures[name] = {"command": command, "median_seconds": round(median, 3),
                             "min_seconds": round(min(self.times[name]), 3),
                             "target_seconds": target, "met": None if target is None else median < target}
        figures["real_run"] |= {f"median_{k}": round(statistics.median(v), 3) for k, v in self.real.items()}
        return figures


def startup_table(result: dict) -> str:
    head = f"{'figure':<15}{'median s':>10}{'min s':>8}  {'target':<16}command"
    lines = [head, "-" * 100]
    for name, f in result["figures"].items():
        target = "-" if f["target_seconds"] is None else f"< {f['target_seconds']} s: {'met' if f['met'] else 'NOT met'}"
        lines.append(f"{name:<15}{f['median_seconds']:>10.2f}{f['min_seconds']:>8.2f}  {target:<16}{f['command']}")
    real = result["figures"]["real_run"]
    lines += ["", f"real run (medians): {real['median_run_seconds']:.2f} s the run's own (summary), "
              f"{real['median_processing_seconds']:.2f} s processing the document, "
              f"{real['median_outside_processing_seconds']:.2f} s outside it (interpreter, imports, models, audit)",
              f"{result['repeats']} repeats, {result['cpus']} CPUs, load average {result['load_average_before']} before, "
              f"{result['load_average_after']} after"]
    return "\n".join(lines)
