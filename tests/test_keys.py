"""The audit key: long enough to mean something, kept where no reader of the data finds it, and never
printed (tests/test_cli.py runs the same refusals through `vault redact` before any model loads)."""

import os

import pytest
from click.testing import CliRunner

from vault.audit import AuditWriter, verify_audit
from vault.cli import main
from vault.keys import MIN_KEY_BYTES, KeyProblem, resolve_key

SHORT = "Zebulon Quartermaine"  # a planted value used as a (too short) key: it must never be printed


def test_short_keys_are_refused_and_never_named(tmp_path, monkeypatch):
    for value in (SHORT, "ab" * (MIN_KEY_BYTES - 1), "Zq!"):
        monkeypatch.setenv("VAULT_AUDIT_KEY", value)
        with pytest.raises(KeyProblem, match="shorter than 32 bytes") as refused:
            resolve_key(tmp_path / "audit")
        assert value not in str(refused.value) and len(str(refused.value).splitlines()) == 1
    monkeypatch.setenv("VAULT_AUDIT_KEY", "ab" * MIN_KEY_BYTES)
    assert resolve_key(tmp_path / "audit").key == bytes.fromhex("ab" * MIN_KEY_BYTES)
    monkeypatch.setenv("VAULT_AUDIT_KEY", "a raw passphrase of thirty-two bytes")
    assert resolve_key(tmp_path / "audit").warnings() == []


def test_verify_still_reads_an_old_short_key_and_says_so(tmp_path, monkeypatch):
    AuditWriter(tmp_path / "audit", "run1", SHORT.encode(), {"input_dir": "in"}).close({"documents": 0})
    monkeypatch.setenv("VAULT_AUDIT_KEY", SHORT)
    key = resolve_key(tmp_path / "audit", allow_short=True)
    assert key.key == SHORT.encode() and "shorter than 32 bytes" in key.warnings()[0]
    assert verify_audit(tmp_path / "audit", key.key).ok
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit")])
    assert result.exit_code == 0, result.output
    assert "shorter than 32 bytes" in result.stderr and SHORT not in result.output


def test_a_key_file_others_may_read_is_warned_about(tmp_path):
    path = tmp_path / "audit.key"
    path.write_text("cd" * 32 + "\n")
    path.chmod(0o644)
    (warning,) = resolve_key(tmp_path / "audit", path).warnings()
    assert "open to group or others (mode 0644)" in warning and "chmod 600" in warning and "cd" * 32 not in warning
    path.chmod(0o600)
    assert resolve_key(tmp_path / "audit", path).warnings() == []


def test_a_key_file_that_is_a_folder_says_so(tmp_path):
    with pytest.raises(KeyProblem, match="is a folder"):
        resolve_key(tmp_path / "audit", tmp_path)
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path), "--key-file", str(tmp_path)])
    assert result.exit_code == 2 and "is a folder" in result.output and "not found" not in result.output


def test_verify_reads_an_old_key_inside_the_audit_loudly(tmp_path):
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / ".key").write_text("cd" * 32 + "\n")
    os.chmod(tmp_path / "audit" / ".key", 0o600)
    AuditWriter(tmp_path / "audit", "run1", bytes.fromhex("cd" * 32), {"input_dir": "in"}).close({"documents": 0})
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit"), "--key-file", str(tmp_path / "audit" / ".key")])
    assert result.exit_code == 0 and "inside the audit directory" in result.stderr


def test_the_hash_operator_is_the_audits_keyed_hash():
    """HMAC-SHA256 over UTF-8, hex: a digest pinned here, so outputs hashed by earlier versions still match."""
    from vault.keys import keyed_hash
    from vault.render import Pseudonymizer

    key, value = bytes(range(32)), "Anna Lindqvist, Zürich"
    assert Pseudonymizer(key).hash_hex(value) == keyed_hash(key, value) == (
        "d08f7a26d0158be9d15d202adb36231543e9cddb2aeb487f8ef4615bdfc5afd0")
