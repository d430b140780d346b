"""What `vault redact` writes for data/samples and data/wild.jsonl, as one comparable JSON file.

A change that only moves code around (issue 19: records, one decision step, the speculative step's shape)
must leave every output byte and every audit row the same. Run this before and after, then compare:

    python scripts/redaction-fingerprint.py --out before.json      # on the old commit (a git worktree)
    python scripts/redaction-fingerprint.py --out after.json
    python scripts/redaction-fingerprint.py --compare before.json after.json

Each record of data/wild.jsonl becomes a text file of its own (wild/<id>.txt), beside a copy of data/samples,
and both are redacted in one run under a fixed audit key, so pseudonyms and HMACs are reproducible. What
differs between two runs by nature is left out: the run id, the row hashes chained from it, and each
document's seconds. Everything else is kept: every output file's SHA-256 by path, and every span and document
row. The outputs and rows hold redacted text and HMACs only; the JSON still stays out of the repository.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXED_KEY = "5" * 64  # not a secret: it only makes two runs' pseudonyms and HMACs comparable
VARYING = {"run_id", "prev_hash", "row_hash", "seconds"}
sys.path.insert(0, str(REPO))  # this checkout's vault, whichever is installed


def build_input(root: Path) -> None:
    shutil.copytree(REPO / "data" / "samples", root / "samples")
    wild = root / "wild"
    wild.mkdir()
    for line in (REPO / "data" / "wild.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            (wild / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")


def redact(work: Path, policy: str) -> None:
    env = {**os.environ, "VAULT_AUDIT_KEY": FIXED_KEY, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-c", "from vault.cli import main; main()", "redact", str(work / "in"), str(work / "out"),
           "--audit-dir", str(work / "audit"), "--policy", policy, "--quiet"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"vault redact exited {done.returncode}:\n{done.stderr[-2000:]}")


def audit_rows(audit: Path) -> dict[str, list[dict]]:
    from vault.audit import TABLES, iter_rows

    runs = [d for d in audit.iterdir() if d.is_dir()]
    if len(runs) != 1:
        sys.exit(f"expected one run in {audit}, found {len(runs)}")
    tables = {}
    for table in TABLES:
        rows = [{k: v for k, v in row.items() if k not in VARYING} for row in iter_rows(runs[0], table)]
        tables[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return tables


def fingerprint(policy: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="vault-fp-") as tmp:
        work = Path(tmp)
        build_input(work / "in")
        redact(work, policy)
        outputs = {str(p.relative_to(work / "out")): hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in sorted((work / "out").rglob("*")) if p.is_file()}
        return {"policy": policy, "outputs": outputs, **audit_rows(work / "audit")}


def compare(before: dict, after: dict) -> list[str]:
    problems = []
    for part in ("policy", "outputs", "spans", "documents"):
        a, b = before.get(part), after.get(part)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for path in sorted(set(a) | set(b)):
                if a.get(path) != b.get(path):
                    problems.append(f"{part}: {path}: {a.get(path)} -> {b.get(path)}")
        elif isinstance(a, list) and isinstance(b, list):
            dump = lambda rows: {json.dumps(r, sort_keys=True, default=str) for r in rows}  # noqa: E731
            only_a, only_b = dump(a) - dump(b), dump(b) - dump(a)
            problems.append(f"{part}: {len(a)} rows -> {len(b)}; {len(only_a)} only before, {len(only_b)} only after")
            problems += [f"  before: {r}" for r in sorted(only_a)[:5]] + [f"  after:  {r}" for r in sorted(only_b)[:5]]
        else:
            problems.append(f"{part}: {a} -> {b}")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the fingerprint here")
    parser.add_argument("--policy", default="default")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        problems = compare(*(json.loads(p.read_text()) for p in args.compare))
        print("\n".join(problems) if problems else "identical: every output byte and audit row")
        sys.exit(1 if problems else 0)
    if not args.out:
        parser.error("--out or --compare")
    result = fingerprint(args.policy)
    args.out.write_text(json.dumps(result, sort_keys=True, default=str))
    print(f"{len(result['outputs'])} outputs, {len(result['spans'])} span rows, "
          f"{len(result['documents'])} document rows -> {args.out}")


if __name__ == "__main__":
    main()
