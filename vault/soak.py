"""`vault bench soak`: kill -9 a real `vault redact` process at a random moment, resume it, and check
that nothing is lost, doubled, partial or unverifiable. Repeated N times, it prints trials/clean.

Each trial: a fresh output and audit directory; `vault redact` started as its own process and sent
SIGKILL after a random delay, uniform over the time a whole run takes (model loading, reading,
decoding, writing, flushing, compaction: anywhere); then a second `vault redact` to finish. Clean
means: the second run exits as an uninterrupted run does; the output tree holds exactly the files of
an uninterrupted run, byte for byte, and nothing else (no temp file, no lock file); `vault audit verify`
passes for the whole audit directory; and across the verified runs every document was redacted once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vault.audit import iter_rows, verify_audit

VALUES = ["mia.berg@example.com", "+44 20 7946 0958", "536-22-8410", "4111 1111 1111 1111", "10.20.30.40"]


def _tree(root: Path, documents: int) -> None:
    for i in range(documents):
        path = root / f"batch{i % 3}" / f"note{i:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Note {i}. Please write to {VALUES[i % 5]} or call {VALUES[(i + 1) % 5]}.\n" * (1 + i % 4))
    (root / "records.csv").write_text("name,email\nAnna Berg,anna@example.org\nTom Lee,tom@example.org\n")
    (root / "broken.json").write_text("{")  # a document that always fails: exit code 1 either way


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


def soak(trials: int, documents: int = 12, extra: list[str] = (), seed: int = 0, log=print) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="vault-soak-") as tmp:
        work = Path(tmp)
        _tree(work / "in", documents)
        key_file = work / "audit.key"
        key_file.write_text(os.urandom(32).hex() + "\n")
        key_file.chmod(0o600)  # a key others may read is warned about
        key = bytes.fromhex(key_file.read_text().strip())
        env = dict(os.environ, VAULT_AUDIT_KEY_FILE=str(key_file), OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        env.pop("VAULT_AUDIT_KEY", None)

        def redact(out: str, audit: str) -> subprocess.Popen:
            cmd = [sys.executable, "-m", "vault.cli", "redact", str(work / "in"), str(work / out),
                   "--audit-dir", str(work / audit), "--json", *extra]
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)

        started = time.monotonic()
        ref = redact("ref", "ref-audit")
        ref_code = ref.wait()
        whole = time.monotonic() - started
        expected = _outputs(work / "ref")
        log(f"soak: an uninterrupted run takes {whole:.1f} s, exit {ref_code}, {len(expected)} outputs")
        clean, failures = 0, []
        for t in range(trials):
            out, audit = f"out{t}", f"audit{t}"
            delay = rng.uniform(0, whole)
            proc = redact(out, audit)
            time.sleep(delay)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            resume = redact(out, audit)
            stdout, _ = resume.communicate()
            problems = _check(work / out, work / audit, key, expected, ref_code, resume.returncode, stdout)
            if problems:
                failures.append({"trial": t, "delay": round(delay, 2), "killed": killed, "problems": problems})
                log(f"soak: trial {t} (kill after {delay:.2f} s): NOT CLEAN: {'; '.join(problems)}")
            else:
                clean += 1
            if (t + 1) % 10 == 0:
                log(f"soak: {t + 1} trials, {clean} clean")
            for folder in (out, audit):
                subprocess.run(["rm", "-rf", str(work / folder)], check=False)
    log(f"soak: {trials} trials, {clean} clean")
    return {"trials": trials, "clean": clean, "seconds_per_run": round(whole, 2), "failures": failures}


def _check(out: Path, audit: Path, key: bytes, expected: dict, ref_code: int, code: int, stdout: bytes) -> list[str]:
    problems = []
    if code != ref_code:
        problems.append(f"resume exited {code}, an uninterrupted run {ref_code}")
    try:
        json.loads(stdout)
    except ValueError:
        problems.append("resume did not print one JSON line")
    got = _outputs(out)
    if set(got) != set(expected):
        problems.append(f"outputs differ: missing {sorted(set(expected) - set(got))}, extra {sorted(set(got) - set(expected))}")
    problems += [f"{name}: content differs from an uninterrupted run" for name in expected if name in got and got[name] != expected[name]]
    check = verify_audit(audit, key)
    problems += [f"audit: {p}" for p in check.problems]
    redacted = [r["input_path_hmac"] for run in check.trusted for r in iter_rows(audit / run, "documents") if r["status"] == "redacted"]
    if len(redacted) != len(set(redacted)):
        problems.append("a document was redacted twice in the verified audit")
    if len(set(redacted)) != len(expected):
        problems.append(f"{len(set(redacted))} documents redacted in the verified audit, {len(expected)} expected")
    return problems
