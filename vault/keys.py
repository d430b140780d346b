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


class KeyProblem(ValueError):
    """A key that cannot be used: a configuration error (exit code 2); the message never holds the key."""


@dataclass(frozen=True)
class AuditKey:
    key: bytes
    source: str  # "environment", or the key file's path
    inside_audit: bool = False  # the key file lies inside the audit directory: say so loudly

    def warning(self) -> str | None:
        if not self.inside_audit:
            return None
        return (f"warning: the audit key {self.source} lies inside the audit directory: whoever can write the "
                f"audit can re-sign it; move it out (see `--key-file` and ${KEY_ENV})")


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "vault" / "audit.key"


def resolve_key(audit_dir: str | os.PathLike, key_file: str | os.PathLike | None = None, create: bool = False) -> AuditKey:
    """The audit key for `audit_dir`. `create` makes the default key file when there is none (a
    redaction run); verification and dry runs never create one."""
    key_file = key_file or os.environ.get(KEY_FILE_ENV) or None
    if key_file is None and KEY_ENV in os.environ:
        env = os.environ[KEY_ENV]
        if not env.strip():
            raise KeyProblem(f"${KEY_ENV} is set but empty")
        if len(env) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", env):
            return AuditKey(bytes.fromhex(env), "environment")
        return AuditKey(env.encode("utf-8"), "environment")
    path = Path(key_file) if key_file else default_key_path()
    try:
        exists = path.exists()
    except OSError as exc:  # a folder on the way that this user may not enter
        raise KeyProblem(f"audit key file {path} is unreadable: {exc.strerror or type(exc).__name__}") from None
    if not exists:
        if not create or key_file:
            hint = "" if key_file else f" (a `vault redact` creates it; or set ${KEY_ENV} or --key-file)"
            raise KeyProblem(f"audit key file {path} not found{hint}")
        _create_key_file(path)
    return AuditKey(_read_key_file(path), str(path), _inside(path, Path(audit_dir)))


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
            raise KeyProblem(f"audit key file {path} is a directory")
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
