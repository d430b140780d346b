"""`vault redact --engine ray`: the same run, its batches redacted by a pool of Ray actors (Ray Data).

Who does what. The driver (this process) is the local loop (vault.pipeline.Loop) without its worker
step: the locks, the walk, reading each document to hash it and size its batch, the skip decisions
from verified audit evidence, the output names (redacted once, here, so that a folder has one output
name and no two inputs share an output), the batches; then it records what comes back, and it alone
writes the audit: one hash chain per table, one manifest, one link in the chain of runs. Ray Data runs
the batches through a pool of actors; each loads the model pair once, checks that it has the driver's
models, policy and versions and reaches the directories, runs torch on its share of CPUs, and applies
vault.pipeline.Worker to each batch: read, redact, check, render, write atomically (temp file, fsync,
rename, fsync of the folder), and only then give back the batch's rows (HMACs and counts, never a
value). A batch travels as its items: input paths, output names, no document text.

Failures. A worker process that dies is restarted by Ray and its batch retried, up to ATTEMPTS times;
a batch that fails that often fails its documents (stage "worker"), and the run goes on. A retried batch
may rewrite outputs that an earlier attempt wrote: atomically, with the same bytes (the redaction is
deterministic), and its rows are recorded once, whichever attempt answers first. A killed driver takes
its actors with it; as with the local engine, what it recorded up to its last checkpoint is evidence
and the next run (with either engine) redoes the rest.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import time
import warnings
from dataclasses import replace
from pathlib import Path

import vault
from vault.audit import DocumentRow
from vault.documents import remove_temp_files
from vault.keys import keyed_hash
from vault.pipeline import Loop, Outcome, Redactor, StopRun, Worker, model_fingerprint
from vault.preflight import model_dirs
from vault.versions import component_versions

ATTEMPTS = 3  # times a batch is tried when its worker process dies; then its documents fail


class WorkerMismatch(Exception):
    """A worker that cannot do what the driver's audit will say it did: other models, policy or versions,
    or no access to the directories. The message names what differs, never a value."""


class _Key:
    """The audit key on its way to the actors (they key the HMACs and the hash operator with it): no
    repr, log line or error message can show it."""

    def __init__(self, key: bytes):
        self._key = key

    def __repr__(self) -> str:
        return "<audit key>"

    def get(self) -> bytes:
        return self._key


class RayLoop(Loop):
    """The local loop with its batches sent to Ray actors instead of run in this process."""

    engine = "ray"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        opts = self.opts
        # In the run's signed listings from the first on (they must all agree): how it was run. A cluster's
        # default pool size is known only once connected, so it reads null here and shows in the summary.
        workers = opts.workers or (None if opts.ray_address else local_cpus() // opts.worker_cpus)
        self.meta["engine"] = {"name": "ray", "address": opts.ray_address or "local", "workers": workers,
                               "worker_cpus": opts.worker_cpus}

    def execute(self, batches) -> None:
        # Plan the whole run first: Ray Data takes its input as a list. Documents that need no redaction
        # (skipped, failed reading or naming) are finished here at once; the plan keeps no document text.
        # The batches are the local loop's, document for document: the same engine calls give the same
        # outputs and rows, to the last bit of every log-probability.
        started = time.time()
        plan, sizes = [], []
        for items in batches:
            rest = [i for i in items if not i.to_redact]
            for item, outcome in zip(rest, self.worker.process(rest)):
                self.land(item, outcome)
            todo = [i for i in items if i.to_redact]
            if todo:
                sizes.append(sum(len(u.text) for i in todo for u in i.doc.units))
                for item in todo:
                    item.doc = None  # the worker reads it again where it runs
                plan.append(todo)
        self.summary.processed(started, time.time())
        self.summary.engine = {"name": "ray", "planning_seconds": round(time.time() - started, 3)}
        if plan:
            # Largest first, one at a time per worker: the last batches are the short ones, so no worker
            # waits long for another at the end.
            self._dispatch([plan[n] for n in sorted(range(len(plan)), key=lambda n: -sizes[n])])

    def _dispatch(self, plan: list[list]) -> None:
        opts = self.opts
        # Ray prints its workers' deaths to stdout, which holds the summary alone; its C++ core logs to the
        # driver's stderr (once per actor, about restarts), which --quiet and --json keep for problems.
        with contextlib.redirect_stdout(_Lines(self.log)), _silent_stderr(opts.quiet), warnings.catch_warnings():
            ray, ours = _connect(opts)
            warnings.simplefilter("ignore")  # after ray.init, which sets filters of its own
            try:
                cpus = int(ray.cluster_resources().get("CPU", 0))
                workers = opts.workers or max(1, cpus // opts.worker_cpus)
                if workers * opts.worker_cpus > cpus:
                    raise StopRun(f"the Ray cluster has {cpus} CPUs: {workers} workers of {opts.worker_cpus} CPUs do not fit")
                self.log(f"vault: ray: {workers} workers of {opts.worker_cpus} CPUs, {len(plan)} batches")
                self.summary.engine.update(workers=workers, worker_cpus=opts.worker_cpus)
                self._collect(plan, _dataset(ray, plan, self._worker_setup(), workers, opts.worker_cpus))
            finally:
                if ours:
                    ray.shutdown()
                # A worker killed mid-write leaves its temp file (its batch was written again by the retry).
                remove_temp_files(opts.output_dir)

    def _worker_setup(self) -> tuple:
        """What each actor is built from: the options with absolute paths (a worker's working folder is
        not the driver's), the key, and what it must match."""
        draft_dir, oracle_dir = (Path(p).resolve() for p in model_dirs(self.opts))
        opts = replace(self.opts, input_dir=Path(self.input_dir), output_dir=Path(self.output_dir),
                       draft_dir=draft_dir, oracle_dir=oracle_dir, audit_dir=Path("."), key_file=None)
        expected = {"model_fingerprint": self.fingerprints.pair, "policy_fingerprint": self.policy_fp,
                    "versions": self.meta["versions"]}
        return opts, _Key(self.key), expected

    def _collect(self, plan: list[list], dataset) -> None:
        """Record each batch's rows as they come back, once; then fail the documents of batches that
        never came back."""
        pending = set(range(len(plan)))
        window: list[float] = []
        rows = iter(dataset.iter_rows())
        try:
            for row in rows:
                number, started, ended, outcomes = pickle.loads(row["done"])
                if number not in pending:
                    continue  # a retried batch answering twice
                pending.discard(number)
                window = [min([started, *window[:1]]), max([ended, *window[1:]])]
                self.land_all(plan[number], outcomes)
        except StopRun:
            raise
        except Exception as exc:  # the pool itself failed (say, no worker could start)
            if os.environ.get("VAULT_DEBUG"):
                raise
            raise StopRun(f"the Ray engine failed: {_why(exc)}") from None
        finally:
            getattr(rows, "close", lambda: None)()  # stops the pool at once if the run stops early
            if window:
                self.summary.processed(window[0], max(window[1], time.time()))
        for number in sorted(pending):
            for item in plan[number]:
                self.land(item, Outcome(DocumentRow(keyed_hash(self.key, item.rel_path), "failed", doc_path=item.named.path,
                                                    stage="worker", seconds=item.seconds,
                                                    error=f"its worker process died {ATTEMPTS} times; a rerun tries again")))


def _dataset(ray, plan: list[list], setup: tuple, workers: int, cpus: int):
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # vault has its own
    context.max_errored_blocks = -1  # a batch that fails ATTEMPTS times fails its documents, not the run
    context.max_consecutive_actor_init_deaths = ATTEMPTS
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # Items as the worker needs them: without the previous run's row, which only the driver uses.
    work = [{"batch": n, "work": pickle.dumps([replace(i, previous=None) for i in items])} for n, items in enumerate(plan)]
    return ray.data.from_items(work, override_num_blocks=len(work)).map_batches(
        _Actor, fn_constructor_args=setup, batch_size=1, num_cpus=cpus,
        compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
        ray_remote_args_fn=_retries, runtime_env={"env_vars": _worker_env()})


def _retries() -> dict:
    return {"max_task_retries": ATTEMPTS - 1}  # Ray Data's default, -1, would retry a batch that kills its worker forever


def _worker_env() -> dict[str, str]:
    """The actors import this vault (a development tree too; on a cluster, the same path on every node
    or an installed vault, which is on their path anyway) and load models as quietly as the CLI does."""
    here = str(Path(vault.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _connect(opts):
    """Ray, and whether this run started it (and so stops it). Without --ray-address: a local instance
    on this machine's CPUs, listening on 127.0.0.1 only. Usage statistics are never sent."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if opts.ray_address is None:
        # Read when Ray is imported: a single-machine instance binds to the loopback address.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():  # a caller (a test, a notebook) brought its own
        return ray, False
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    if opts.ray_address:
        ray.init(address=opts.ray_address, **quiet)
    else:
        ray.init(address="local", num_cpus=local_cpus(), include_dashboard=False,
                 object_store_memory=200 * 2**20, **quiet)
    return ray, True


def local_cpus() -> int:
    return len(os.sched_getaffinity(0))


def _why(exc: BaseException) -> str:
    """A Ray failure in words that hold no value: a worker's own mismatch message, else the type."""
    seen = exc
    while seen is not None:
        if isinstance(seen, WorkerMismatch):
            return str(seen)
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) and cause is not seen else seen.__cause__
    return type(exc).__name__


@contextlib.contextmanager
def _silent_stderr(silent: bool):
    """File descriptor 2 to /dev/null while Ray runs, when the run prints only its summary and problems."""
    if not silent:
        yield
        return
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


class _Lines(io.TextIOBase):
    """A stream whose lines go to the run's log (stderr, or nowhere under --quiet and --json): stdout
    holds the summary alone."""

    def __init__(self, log):
        self._log = log

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self._log(f"vault: ray: {line.strip()}")
        return len(text)


class _Actor:
    """One Ray worker: the model pair loaded once, then vault.pipeline.Worker on each batch."""

    def __init__(self, opts, key: _Key, expected: dict):
        import torch

        from vault import models  # here, not at the top: the CLI imports this module for a dry run too

        torch.set_num_threads(opts.worker_cpus)  # its CPU share: threads beyond it only contend
        for folder, what in ((opts.input_dir, "input directory"), (opts.output_dir, "output directory"),
                             (opts.draft_dir, "draft model"), (opts.oracle_dir, "oracle model")):
            if not folder.is_dir():
                raise WorkerMismatch(f"a worker cannot reach the {what} at the driver's path (node {os.uname().nodename})")
        if model_fingerprint(opts.draft_dir, opts.oracle_dir).pair != expected["model_fingerprint"]:
            raise WorkerMismatch(f"a worker has other model files than the driver at the same paths (node {os.uname().nodename})")
        if opts.policy.fingerprint() != expected["policy_fingerprint"]:
            raise WorkerMismatch("a worker reads the policy differently from the driver (another vault version?)")
        draft, oracle = models.load_pair(opts.draft_dir, opts.oracle_dir)
        redactor = Redactor(draft, oracle, opts.policy, key.get(), opts.batch_size)
        versions = component_versions(redactor.detector.nlp_model)
        differ = sorted(k for k, v in expected["versions"].items() if versions.get(k) != v)
        if differ:
            raise WorkerMismatch(f"a worker runs other versions of {', '.join(differ)} than the driver (node {os.uname().nodename})")
        self.worker = Worker(redactor, opts, key.get())

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        done = []
        for number, work in zip(batch["batch"], batch["work"]):
            started = time.time()
            try:
                outcomes = self.worker.process(pickle.loads(work))
            except Exception as exc:  # never expected (the worker isolates documents); its message could hold a value
                raise RuntimeError(f"worker step failed: {type(exc).__name__}") from None
            done.append(pickle.dumps((int(number), started, time.time(), outcomes)))
        return {"done": np.array(done, dtype=object)}
