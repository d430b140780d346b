"""The audit key: where it comes from, and nothing else (no pyarrow, no torch: the CLI resolves the
key before it imports anything heavy, so a bad key is a one-line error in well under a second).

Where the key lives, first match wins:

1. `--key-file PATH` or `$VAULT_AUDIT_KEY_FILE`: a file of 64 hex characters;
2. `$VAULT_AUDIT_KEY`: hex, or else taken as a raw string;
3. the user's key file, `$XDG_CONFIG_HOME/vault/audit.key` (default `~/.config/vault/audit.key`),
   created with mode 0600 by the first `vault redact` that needs it.

The key signs the audit's manifests and keys the span-value hashes. It is kept away from the audit
directory by default: whoever can write the audit directory must not be able to re-sign it. A key
file inside the audit directory still works (old audits kept theirs in `AUDIT_DIR/.key`), but every
command that uses one says so on stderr and the run's manifest records it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

KEY_ENV = "VAULT_AUDIT_KEY"
KEY_FILE_ENV = "VAULT_AUDIT_KEY_FILE"
LEGACY_KEY_FILE = ".key"  # where vault < 0.2 created the key: inside the audit directory
MIN_KEY_BYTES = 32  # an HMAC-SHA256 key of 256 bits: no brute force of the key, whatever the value


class KeyProblem(ValueError):
    """A key that cannot be used: a configuration error (exit code 2); the message never holds the key."""


class KeyMissing(KeyProblem):
    """No key where one was looked for: a redaction run may create the default key file."""


@dataclass(frozen=True)
class AuditKey:
    key: bytes
    source: str  # "environment", or the key file's path
    inside_audit: bool = False  # the key file lies inside the audit directory: say so loudly
    notes: tuple[str, ...] = ()  # other warnings found while reading it (a file others may read, a short key)

    def warnings(self) -> list[str]:
        """One line each, for stderr; never the key."""
        found = list(self.notes)
        if self.inside_audit:
            found.insert(0, f"warning: the audit key {self.source} lies inside the audit directory: whoever can write "
                            f"the audit can re-sign it; move it out (see `--key-file` and ${KEY_ENV})")
        return found


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "vault" / "audit.key"


def key_file_path(key_file: str | os.PathLike | None = None) -> Path | None:
    """The file the key would be read from, or None when it comes from the environment."""
    key_file = key_file or os.environ.get(KEY_FILE_ENV) or None
    if key_file is None and KEY_ENV in os.environ:
        return None
    return Path(key_file) if key_file else default_key_path()


def resolve_key(audit_dir: str | os.PathLike, key_file: str | os.PathLike | None = None, create: bool = False,
                allow_short: bool = False) -> AuditKey:
    """The audit key for `audit_dir`. `create` makes the default key file when there is none (a
    redaction run); verification and dry runs never create one. `allow_short` (verification only)
    accepts a key under MIN_KEY_BYTES with a warning, so runs signed by an older vault stay checkable."""
    path = key_file_path(key_file)
    if path is None:
        env = os.environ[KEY_ENV]
        if not env.strip():
            raise KeyProblem(f"${KEY_ENV} is set but empty")
        if len(env) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", env):
            key = bytes.fromhex(env)
        else:
            key = env.encode("utf-8")
        return AuditKey(key, "environment", notes=_short(key, f"${KEY_ENV}", allow_short))
    explicit = bool(key_file or os.environ.get(KEY_FILE_ENV))
    try:
        exists = path.exists()
    except OSError as exc:  # a folder on the way that this user may not enter
        raise KeyProblem(f"audit key file {path} is unreadable: {exc.strerror or type(exc).__name__}") from None
    if not exists:
        if not create or explicit:
            hint = "" if explicit else f" (a `vault redact` creates it; or set ${KEY_ENV} or --key-file)"
            raise KeyMissing(f"audit key file {path} not found{hint}")
        _create_key_file(path)
    key = _read_key_file(path)
    notes = []
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0
    if mode & 0o077:  # anyone who can read the key can forge the audit and test guesses against its hashes
        notes.append(f"warning: the audit key file {path} is open to group or others (mode {mode:04o}): chmod 600 it")
    return AuditKey(key, str(path), _inside(path, Path(audit_dir)), tuple(notes))


def _short(key: bytes, what: str, allow_short: bool) -> tuple[str, ...]:
    if len(key) >= MIN_KEY_BYTES:
        return ()
    if not allow_short:
        raise KeyProblem(f"{what} is shorter than {MIN_KEY_BYTES} bytes: HMACs under it can be brute-forced; "
                         "use 64 hex characters (e.g. `openssl rand -hex 32`)")
    return (f"warning: {what} is shorter than {MIN_KEY_BYTES} bytes: its signatures and hashes can be brute-forced; "
            "use it only to verify old runs",)


def legacy_key_hint(audit_dir: str | os.PathLike) -> str | None:
    """A note for audits made by older versions, whose key sits in the audit directory."""
    legacy = Path(audit_dir) / LEGACY_KEY_FILE
    if legacy.is_file() and not os.environ.get(KEY_FILE_ENV) and KEY_ENV not in os.environ:
        return f"note: {legacy} is the key of runs made by an older vault; verify them with --key-file {legacy}"
    return None


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _read_key_file(path: Path) -> bytes:
    try:
        if path.is_dir():
            raise KeyProblem(f"audit key file {path} is a folder, not a file")
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyProblem(f"audit key file {path} is unreadable: {getattr(exc, 'strerror', None) or type(exc).__name__}") from None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise KeyProblem(f"audit key file {path} is corrupt: it must hold 64 hex characters")
    return bytes.fromhex(text)


def _create_key_file(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A 0600 temp file hard-linked into place: the link fails if another process created the key
        # meanwhile, and no reader ever sees a partial key file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".vault-tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_bytes(32).hex() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise KeyProblem(f"cannot create the audit key file {path}: {exc.strerror or exc}") from None


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA256 of text, hex: the only form in which a span's value or a file name enters the audit."""
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    # Names the key in manifests so verify can tell "wrong key" from "tampered".
    return hmac.new(key, b"vault-audit-key-id", hashlib.sha256).hexdigest()[:16]
