"""Everything `vault redact` checks before it imports torch or loads a model: options, paths, the policy,
the model directories, the audit key, and the locks. A configuration error is a UsageError (exit code 2)
with one line that says what is wrong, raised in well under a second.

The locks are flock(2) locks on the output and audit directories themselves, not lock files: nothing is
left in the output tree for downstream readers to find, and the kernel drops a lock when its process
dies, even by kill -9, so a crashed run never leaves a stale lock behind. The audit directory's lock
makes runs that share an audit directory take turns, which the chain of runs needs (each run links the
one before it).
"""

from __future__ import annotations

import errno
import fcntl
import importlib.util
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path

from vault.keys import AuditKey, KeyMissing, KeyProblem, key_file_path, resolve_key
from vault.policy import Policy

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default_models"  # as vault.models, without torch


class UsageError(Exception):
    """A bad command line or configuration: exit code 2."""


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
    quiet: bool = False  # print nothing but the summary and problems (--quiet, --json)
    max_bytes: int = 20_000_000  # larger files fail with a clear reason instead of stalling the night
    key_file: Path | None = None
    flush_seconds: float = 5.0  # how often finished documents are committed to the audit
    engine: str = "local"  # "local": this process; "ray": a pool of Ray actors (vault.distributed)
    ray_address: str | None = None  # HOST:PORT of a running Ray cluster; None starts a local instance
    workers: int | None = None  # Ray actors; None: as many as the cluster's CPUs allow
    worker_cpus: int = 1  # CPUs (and torch threads) of each Ray actor
    accept_broken_audit: str | None = None  # why a run may append to an audit that fails verification
    anchor: Path | None = None  # a file outside the audit to which the run appends its head (rollback detection)
    label: str | None = None  # the operator's name for what the run redacts, recorded as given (the paths only as hashes)


@dataclass
class Prepared:
    """What the checks found: the key and the held locks (release them when the run ends)."""

    key: AuditKey | None
    locks: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def release(self) -> None:
        for fd in self.locks:
            os.close(fd)  # closing the descriptor drops its flock
        self.locks = []


def model_dirs(opts: RunOptions) -> tuple[Path, Path]:
    return (opts.draft_dir or DEFAULT_MODEL_DIR / "draft", opts.oracle_dir or DEFAULT_MODEL_DIR / "oracle")


def prepare(opts: RunOptions) -> Prepared:
    """Check everything a run needs; for a real run create the output and audit directories, take
    the locks and resolve (or create) the key. A dry run creates nothing and takes no lock."""
    check_paths(opts)
    check_engine(opts)
    check_accept(opts)
    check_label(opts)
    for path in model_dirs(opts):
        if not path.is_dir():
            raise UsageError(f"{path}: model directory not found")
        for name in ("config.json", "tokenizer.json"):
            if not (path / name).is_file():
                raise UsageError(f"{path}: not a model directory (missing {name})")
    if opts.dry_run:
        try:
            key = resolve_key(opts.audit_dir, opts.key_file, create=False)
        except KeyMissing:
            key = None  # no key, no evidence: the dry run says every document would be redacted
        except KeyProblem as exc:  # a key the real run would refuse: say so now
            raise UsageError(str(exc)) from None
        return Prepared(key, warnings=key.warnings() if key else [])
    prepared = Prepared(None)
    try:
        # A bad key is found before anything is created; a missing default key file is made only
        # once the directories are there and locked.
        prepared.key = resolve_key(opts.audit_dir, opts.key_file, create=False)
    except KeyProblem as exc:
        if opts.key_file or not isinstance(exc, KeyMissing):
            raise UsageError(str(exc)) from None
    try:
        for folder, what in ((opts.output_dir, "output"), (opts.audit_dir, "audit")):
            make_writable_dir(folder, what)
            prepared.locks.append(lock_dir(folder, what))
        try:
            prepared.key = prepared.key or resolve_key(opts.audit_dir, opts.key_file, create=True)
        except KeyProblem as exc:
            raise UsageError(str(exc)) from None
        prepared.warnings += prepared.key.warnings()
    except BaseException:
        prepared.release()
        raise
    return prepared


# pyarrow.fs's schemes. A Path keeps "s3://b/x" as "s3:/b/x", so both spellings are caught.
_URI = re.compile(r"(s3|gs|gcs|hdfs|viewfs|abfs|abfss|az|file)://?", re.IGNORECASE)


def check_paths(opts: RunOptions) -> None:
    for path, what in ((opts.input_dir, "input"), (opts.output_dir, "output"), (opts.audit_dir, "audit")):
        if _URI.match(str(path)):
            uri = re.sub(r"^(\w+):/+", r"\1://", str(path))
            raise UsageError(f"{uri}: object-store URIs are not supported as the {what} directory; use a path that "
                             "every node reaches on a shared POSIX file system (see the README)")
    inp, out, aud = opts.input_dir.resolve(), opts.output_dir.resolve(), opts.audit_dir.resolve()
    if not inp.is_dir():
        raise UsageError(f"{opts.input_dir}: input directory not found")
    if out == inp or inp in out.parents:
        raise UsageError(f"{opts.output_dir}: the output directory must not be inside the input directory")
    if out in inp.parents:
        raise UsageError(f"{opts.input_dir}: the input directory must not be inside the output directory")
    if aud == out or out in aud.parents:
        raise UsageError(f"{opts.audit_dir}: the audit directory must not be inside the output directory")
    # The audit lists the runs in its folder; an output there is a foreign folder to every verify,
    # and an input there would be redacted from the evidence itself.
    if aud in out.parents:
        raise UsageError(f"{opts.output_dir}: the output directory must not be inside the audit directory")
    if aud == inp or aud in inp.parents:
        raise UsageError(f"{opts.input_dir}: the input directory must not be inside the audit directory")
    if inp in aud.parents:
        raise UsageError(f"{opts.audit_dir}: the audit directory must not be inside the input directory")
    for path, what in ((opts.output_dir, "output"), (opts.audit_dir, "audit")):
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path}: the {what} directory is a file")
    if opts.key_file is not None and Path(opts.key_file).is_dir():
        raise UsageError(f"{opts.key_file}: the audit key file is a folder, not a file")
    if opts.key_file is not None and not Path(opts.key_file).is_file():
        raise UsageError(f"{opts.key_file}: audit key file not found")
    check_key_place(key_file_path(opts.key_file), inp, out, aud)
    if opts.anchor is not None:
        check_anchor(Path(opts.anchor), inp, out, aud)


def check_anchor(anchor: Path, inp: Path, out: Path, aud: Path) -> None:
    """The anchor keeps the heads of the audit where a rollback of the audit does not reach them: never
    inside the audit (nor the input, where it would be read as a document, nor the output)."""
    where = anchor.resolve()
    for folder, what in ((aud, "audit"), (inp, "input"), (out, "output")):
        if where.is_relative_to(folder):
            raise UsageError(f"{anchor}: the anchor file must not be inside the {what} directory; keep it on "
                             "another disk, or in a log shipped off the machine")
    if where.is_dir():
        raise UsageError(f"{anchor}: the anchor file is a folder, not a file")
    if not where.parent.is_dir():
        raise UsageError(f"{anchor}: the anchor file's folder does not exist")
    if not os.access(where if where.exists() else where.parent, os.W_OK):
        raise UsageError(f"{anchor}: the anchor file cannot be written")


def check_key_place(key_file: Path | None, inp: Path, out: Path, aud: Path) -> None:
    """A key file in the input would be redacted into the output (and read as a document); in the
    output it is published; in the audit, whoever can write the audit could re-sign it."""
    if key_file is None:
        return
    try:
        where = key_file.resolve()
    except OSError:
        return  # resolve_key names the problem
    for folder, what in ((inp, "input"), (out, "output"), (aud, "audit")):
        if where.is_relative_to(folder):
            raise UsageError(f"{key_file}: the audit key file must not be inside the {what} directory; move it out "
                             "(e.g. ~/.config/vault/audit.key, mode 0600)")


def check_label(opts: RunOptions) -> None:
    label = opts.label
    if label is not None and (not label.strip() or len(label) > 200 or re.search(r"[\x00-\x1f\x7f-\x9f]", label)):
        raise UsageError("--label: one line of at most 200 characters, no control characters (it is recorded as given)")


def check_accept(opts: RunOptions) -> None:
    if opts.accept_broken_audit is not None and not opts.accept_broken_audit.strip():
        raise UsageError("--accept-broken-audit needs a reason: it is recorded, signed, in the new run")


def check_engine(opts: RunOptions) -> None:
    """The engine and its options. For Ray: that it is installed and, for a cluster, that its address
    answers (ray.init would otherwise retry for a minute)."""
    if opts.engine not in ("local", "ray"):
        raise UsageError(f"--engine {opts.engine}: use local or ray")
    if opts.engine == "local":
        if opts.ray_address or opts.workers is not None or opts.worker_cpus != 1:
            raise UsageError("--ray-address, --workers and --worker-cpus need --engine ray")
        return
    if importlib.util.find_spec("ray") is None:
        raise UsageError("--engine ray needs Ray: pip install 'vault[ray]'")
    if opts.consistent_pseudonyms:
        # A pseudonymizer keeps its fakes apart within one process; Ray actors cannot share one.
        raise UsageError("--consistent-pseudonyms needs --engine local: Ray workers cannot share one pseudonym table")
    if opts.ray_address is None:
        cpus = len(os.sched_getaffinity(0))
        if (opts.workers or 1) * opts.worker_cpus > cpus:
            raise UsageError(f"--workers {opts.workers or 1} of --worker-cpus {opts.worker_cpus}: this machine has {cpus} CPUs")
        return
    if opts.dry_run:
        return
    host, _, port = opts.ray_address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray-address {opts.ray_address}: expected HOST:PORT (the head node's `ray start --head --port`)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(f"--ray-address {opts.ray_address}: no Ray cluster answers there ({exc.strerror or type(exc).__name__})") from None


def make_writable_dir(folder: Path, what: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot create the {what} directory: {exc.strerror or exc}") from None
    if not writable(folder):
        raise UsageError(f"{folder}: the {what} directory is not writable")


def writable(folder: Path) -> bool:
    """Whether files can be created in folder: an unnamed O_TMPFILE probe, which leaves nothing
    behind even if the process dies (and, unlike os.access, tells the truth for root on a
    read-only mount)."""
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # no O_TMPFILE here
            return os.access(folder, os.W_OK | os.X_OK)
        return False
    os.close(fd)
    return True


def lock_dir(folder: Path, what: str) -> int:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"{folder}: another vault run is using this {what} directory") from None
    except OSError as exc:
        os.close(fd)
        raise UsageError(f"{folder}: cannot lock the {what} directory: {exc.strerror or exc}") from None
    return fd
