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
import os
from dataclasses import dataclass, field
from pathlib import Path

from vault.keys import AuditKey, KeyProblem, resolve_key
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
    max_bytes: int = 20_000_000  # larger files fail with a clear reason instead of stalling the night
    key_file: Path | None = None
    flush_seconds: float = 5.0  # how often finished documents are committed to the audit


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
    for path in model_dirs(opts):
        if not path.is_dir():
            raise UsageError(f"{path}: model directory not found")
        for name in ("config.json", "tokenizer.json"):
            if not (path / name).is_file():
                raise UsageError(f"{path}: not a model directory (missing {name})")
    if opts.dry_run:
        try:
            key = resolve_key(opts.audit_dir, opts.key_file, create=False)
        except KeyProblem:
            key = None  # no key, no evidence: the dry run says every document would be redacted
        return Prepared(key)
    prepared = Prepared(None)
    try:
        # A bad key is found before anything is created; a missing default key file is made only
        # once the directories are there and locked.
        prepared.key = resolve_key(opts.audit_dir, opts.key_file, create=False)
    except KeyProblem as exc:
        if opts.key_file or "not found" not in str(exc):
            raise UsageError(str(exc)) from None
    try:
        for folder, what in ((opts.output_dir, "output"), (opts.audit_dir, "audit")):
            _make_writable_dir(folder, what)
            prepared.locks.append(_lock(folder, what))
        try:
            prepared.key = prepared.key or resolve_key(opts.audit_dir, opts.key_file, create=True)
        except KeyProblem as exc:
            raise UsageError(str(exc)) from None
        if prepared.key.warning():
            prepared.warnings.append(prepared.key.warning())
    except BaseException:
        prepared.release()
        raise
    return prepared


def check_paths(opts: RunOptions) -> None:
    inp, out, aud = opts.input_dir.resolve(), opts.output_dir.resolve(), opts.audit_dir.resolve()
    if not inp.is_dir():
        raise UsageError(f"{opts.input_dir}: input directory not found")
    if out == inp or inp in out.parents:
        raise UsageError(f"{opts.output_dir}: the output directory must not be inside the input directory")
    if out in inp.parents:
        raise UsageError(f"{opts.input_dir}: the input directory must not be inside the output directory")
    if aud == out or out in aud.parents:
        raise UsageError(f"{opts.audit_dir}: the audit directory must not be inside the output directory")
    for path, what in ((opts.output_dir, "output"), (opts.audit_dir, "audit")):
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path}: the {what} directory is a file")
    if opts.key_file is not None and not Path(opts.key_file).is_file():
        raise UsageError(f"{opts.key_file}: audit key file not found")


def _make_writable_dir(folder: Path, what: str) -> None:
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


def _lock(folder: Path, what: str) -> int:
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
