"""End-to-end: `vault redact` over a generated tree of every supported format and bad inputs."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from vault.cli import main
from vault.preflight import lock_dir

NAMES = ["Anneliese Vandermolen", "Tobias Grünewald", "Maeve O'Sullivan"]
PLANTED = NAMES + [
    "anna.kowalski@example.org", "+1 415 555 0134", "536-22-8410", "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00", "192.168.14.27", "j.smith@mailbox.example.net",
]

POLICY = """
name: e2e
defaults: {operator: tag, threshold: 0.3}
entities: {PERSON: {}, EMAIL_ADDRESS: {}, PHONE_NUMBER: {}, US_SSN: {}, CREDIT_CARD: {}, IBAN_CODE: {},
           IP_ADDRESS: {}, ID: {}, LOCATION: {}, DATE_TIME: {}}
recognizers:
  - name: PlantedNames
    supported_entity: PERSON
    deny_list: %s
must_redact: [PERSON, EMAIL_ADDRESS, PHONE_NUMBER, US_SSN, CREDIT_CARD, IBAN_CODE, IP_ADDRESS]
redact_file_names: false  # the random test oracle would rename every file; tests/test_reliability.py covers names
""" % json.dumps(NAMES)


def letter(i: int) -> str:
    a, b, c = NAMES[i % 3], PLANTED[3 + i % 6], PLANTED[3 + (i + 2) % 6]
    return (f"Dear {a},\n\nThank you for your message of last week. Please reach us at {b}.\n"
            f"Our records also hold {c} for your account.\n\nKind regards,\nThe service team\n")


def make_tree(root: Path, bad: bool = True) -> dict[str, str]:
    """Every supported format, nested folders, odd names; with `bad`, inputs that must fail or be skipped."""
    files = {
        "letter.txt": letter(0),
        "notes/meeting notes.md": "# Notes\n\n" + letter(1),
        "notes/deep/er/zürich café.txt": letter(2),
        "records.json": json.dumps({"client": {"name": NAMES[0], "email": PLANTED[3], "age": 41},
                                    "history": [letter(3), {"ip": PLANTED[8]}]}, indent=2),
        "events.jsonl": "\n".join(json.dumps({"who": NAMES[i % 3], "msg": letter(i)}) for i in range(3)) + "\n",
        "people.csv": "name,email,phone,notes\n" + "".join(
            f'{NAMES[i % 3]},{PLANTED[3 + i % 2 * 6]},{PLANTED[4]},"{letter(i).replace(chr(10), " ")}"\n' for i in range(3)),
        "bom.txt": "\ufeff" + letter(4),
        "empty.txt": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    outcome = {rel: "redacted" for rel in files}
    if bad:
        (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
        (root / "binary.txt").write_bytes(b"abc\x00\x01\x02" * 10)
        (root / "latin1.txt").write_bytes("Grüße von ".encode("latin-1") + NAMES[0].encode())
        (root / "huge.txt").write_text(("x" * 99 + " ") * 50_000)  # 5 MB on one line
        outside = root.parent / "outside-secret.txt"
        outside.write_text(letter(5))
        (root / "link.txt").symlink_to(outside)
        outcome.update({"image.png": "skipped", "binary.txt": "failed", "latin1.txt": "failed",
                        "huge.txt": "failed", "link.txt": "skipped"})
        if os.geteuid() != 0:  # root reads anything: tests/test_reliability.py drops privileges for this case
            (root / "locked.txt").write_text(letter(0))
            (root / "locked.txt").chmod(0)
            outcome["locked.txt"] = "failed"
    return outcome


def redact_args(tmp_path: Path, pair: dict, *extra: str) -> list[str]:
    policy = tmp_path / "e2e.yaml"
    policy.write_text(POLICY)
    return ["redact", str(tmp_path / "in"), str(tmp_path / "out"), "--policy", str(policy),
            "--audit-dir", str(tmp_path / "audit"), "--draft", str(pair["draft"]), "--oracle", str(pair["oracle"]),
            "--max-bytes", "1000000", *extra]


def audit_rows(audit_dir: Path, table: str) -> list[dict]:
    rows = []
    for run in sorted(p for p in audit_dir.iterdir() if p.is_dir()):
        for part in sorted(run.glob(f"{table}*.parquet")):
            rows += pq.read_table(part).to_pylist()
    return rows


def all_bytes(folder: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in folder.rglob("*") if p.is_file()]


def test_redact_tree_end_to_end(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    outcome = make_tree(tmp_path / "in")
    result = CliRunner().invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json"))
    assert result.exit_code == 1, result.output  # some inputs failed; the rest are done
    assert len(result.stdout.splitlines()) == 1  # one line of JSON
    summary = json.loads(result.stdout)
    expected = {s: sum(v == s for v in outcome.values()) for s in ("redacted", "skipped", "failed")}
    assert {s: summary[s] for s in expected} == expected
    assert summary["coverage"] == 1.0
    # Each problem names its file and reason; no raw value anywhere in what is printed.
    for rel, status in outcome.items():
        out = tmp_path / "out" / rel
        assert out.exists() == (status == "redacted"), rel
        if status != "redacted":
            assert any(p["file"] == rel and p["stage"] and p["reason"] for p in summary["problems"]), rel
    assert any("larger than the limit" in p["reason"] for p in summary["problems"])
    assert any("not valid UTF-8" in p["reason"] for p in summary["problems"])
    # Structure is kept; the BOM too.
    records = json.loads((tmp_path / "out" / "records.json").read_text())
    age = records["client"]["age"]  # a number stays a number unless redacted, then it is a string
    assert set(records) == {"client", "history"} and (age == 41 or (isinstance(age, str) and "41" not in age))
    # The header row is redacted like the rest (the random test oracle tags almost anything); its shape stays.
    assert len((tmp_path / "out" / "people.csv").read_text().splitlines()) == 4
    assert len((tmp_path / "out" / "events.jsonl").read_text().splitlines()) == 3
    assert (tmp_path / "out" / "bom.txt").read_bytes().startswith(b"\xef\xbb\xbf")
    # No planted value in any output, audit file or printed line.
    printed = result.output
    for path, data in all_bytes(tmp_path / "out") + all_bytes(tmp_path / "audit"):
        for value in PLANTED:
            assert value.encode() not in data, (path, value)
    for row in audit_rows(tmp_path / "audit", "spans"):
        assert not any(v in str(row) for v in PLANTED)
    assert not any(v in printed for v in PLANTED)
    # The audit verifies, and its report has every section.
    run_dir = Path(summary["audit_run"])
    assert CliRunner().invoke(main, ["audit", "verify", str(run_dir)]).exit_code == 0
    assert CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit")]).exit_code == 0
    # Nothing but outputs in the output tree: no lock file, no temp file.
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()) == \
        sorted(rel for rel, status in outcome.items() if status == "redacted")
    report = CliRunner().invoke(main, ["audit", "report", str(run_dir), "--out", str(tmp_path / "r.html")])
    assert report.exit_code == 0
    html = (tmp_path / "r.html").read_text()
    for section in ("run", "coverage", "entities", "conflicts", "failures", "fingerprints", "verification"):
        assert f'id="{section}"' in html
    assert "100%" in html


def test_rerun_skips_unchanged_and_force_redoes(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    outcome = make_tree(tmp_path / "in", bad=False)
    runner = CliRunner()
    first = runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json"))
    assert first.exit_code == 0, first.output
    second = json.loads(runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json")).stdout)
    assert second["unchanged"] == len(outcome) and second["redacted"] == 0 and second["exit_code"] == 0
    assert second["noop"] and second["audit_run"] is None and second["outputs_from"] == [json.loads(first.stdout)["run_id"]]
    assert len([p for p in (tmp_path / "audit").iterdir() if p.is_dir()]) == 1  # no empty "100%" run
    said = runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs))
    assert "nothing to do" in said.output
    (tmp_path / "in" / "letter.txt").write_text(letter(3))
    third = json.loads(runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json")).stdout)
    assert third["redacted"] == 1 and third["unchanged"] == len(outcome) - 1
    forced = json.loads(runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json", "--force")).stdout)
    assert forced["redacted"] == len(outcome)
    dry = runner.invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--dry-run"))
    assert dry.exit_code == 0 and "dry run" in dry.output and f"{len(outcome)} unchanged" in dry.output
    assert dry.output.count("unchanged ") == len(outcome)  # one line per file


def test_kill_9_midway_then_resume_finishes_everything_once(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    names = []
    for i in range(16):
        rel = f"batch{i // 8}/doc{i:02d}.txt"
        (tmp_path / "in" / rel).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / rel).write_text(letter(i))
        names.append(rel)
    args = redact_args(tmp_path, tiny_pair_dirs, "--batch-size", "1", "--quiet")  # outputs land 4 at a time
    env = dict(os.environ, OMP_NUM_THREADS="1")  # tiny models: threads only contend
    proc = subprocess.Popen([sys.executable, "-m", "vault.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "out").rglob("*.txt")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((tmp_path / "out").rglob("*.txt")))
    assert 0 < done_before < len(names), "the run was not killed midway"
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["redacted"] + summary["unchanged"] == len(names)
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.txt")) == names
    assert not list((tmp_path / "out").rglob("*.vault-tmp"))
    # Every document was redacted exactly once across the two runs' audits.
    redacted = [r["doc_path"] for r in audit_rows(tmp_path / "audit", "documents") if r["status"] == "redacted"]
    assert sorted(redacted) == names
    assert CliRunner().invoke(main, ["audit", "verify", summary["audit_run"]]).exit_code == 0


def test_second_run_on_the_same_output_fails_at_once(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in", bad=False)
    (tmp_path / "out").mkdir()
    lock = lock_dir(tmp_path / "out", "output")
    try:
        result = CliRunner().invoke(main, redact_args(tmp_path, tiny_pair_dirs))
    finally:
        os.close(lock)
    assert result.exit_code == 2 and "another vault run" in result.output
    assert os.listdir(tmp_path / "out") == []  # the lock is the directory's flock: no file


@pytest.mark.parametrize("case", ["missing input", "output inside input", "input inside output", "bad policy", "missing model",
                                  "output inside audit", "input inside audit", "audit inside input"])
def test_usage_errors_exit_2_with_a_clear_message(tmp_path, tiny_pair_dirs, case):
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in", bad=False)
    args = redact_args(tmp_path, tiny_pair_dirs)
    expect = {"missing input": "input directory not found", "output inside input": "must not be inside the input",
              "input inside output": "must not be inside the output", "bad policy": "colour",
              "missing model": "model directory not found",
              "output inside audit": "output directory must not be inside the audit",
              "input inside audit": "input directory must not be inside the audit",
              "audit inside input": "audit directory must not be inside the input"}[case]
    if case == "missing input":
        args[1] = str(tmp_path / "nope")
    elif case == "output inside input":
        args[2] = str(tmp_path / "in" / "out")
    elif case == "input inside output":
        args[2] = str(tmp_path)
    elif case == "bad policy":
        (tmp_path / "e2e.yaml").write_text(POLICY + "colour: blue\n")
        args[4] = str(tmp_path / "bad.yaml")
        (tmp_path / "bad.yaml").write_text(POLICY + "colour: blue\n")
    elif case == "output inside audit":
        args[2] = str(tmp_path / "audit" / "out")
    elif case == "input inside audit":
        (tmp_path / "audit").mkdir()
        (tmp_path / "in").rename(tmp_path / "audit" / "in")
        args[1] = str(tmp_path / "audit" / "in")
    elif case == "audit inside input":
        args[args.index("--audit-dir") + 1] = str(tmp_path / "in" / "audit")
    else:
        args[args.index("--oracle") + 1] = str(tmp_path / "no-model")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert expect in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "in" / "audit").exists()


def test_tampered_audit_fails_verify_naming_the_row(tmp_path, tiny_pair_dirs):
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in", bad=False)
    summary = json.loads(CliRunner().invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--json")).stdout)
    run_dir = Path(summary["audit_run"])
    part = run_dir / "spans.parquet"
    table = pq.read_table(part).to_pylist()
    table[1]["entity_type"] = "MISC" if table[1]["entity_type"] != "MISC" else "ID"
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(table, schema=pq.read_schema(part)), part)
    result = CliRunner().invoke(main, ["audit", "verify", str(run_dir)])
    assert result.exit_code != 0 and "row 2" in result.output


def test_policy_commands(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(main, ["policy", "validate", "strict"])
    assert ok.exit_code == 0 and "fingerprint" in ok.output
    shown = runner.invoke(main, ["policy", "show", "hipaa-safe-harbor"])
    assert shown.exit_code == 0 and "fingerprint:" in shown.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nentities:\n  PERSONN: {}\n")
    result = runner.invoke(main, ["policy", "validate", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.output and "PERSONN" in result.output


def _cli(args: list[str], env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """`python -m vault.cli ...` as its own process, from the repository."""
    return subprocess.run([sys.executable, "-m", "vault.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], env=dict(os.environ, OMP_NUM_THREADS="1", **(env or {})), **kw)


_PROBE = """
import sys, time
started = time.perf_counter()
from vault.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    print("EXIT", exit.code, "torch" in sys.modules, "presidio_analyzer" in sys.modules, round(time.perf_counter() - started, 3))
"""


@pytest.mark.parametrize("case", ["missing input", "empty key", "corrupt key", "audit dir is a file", "output is a file",
                                  "bad policy", "missing model", "bad option", "object-store uri", "workers without ray",
                                  "ray and consistent pseudonyms", "no ray cluster there", "more workers than cpus",
                                  "short key", "short hex key", "key in input", "key in output", "key in audit",
                                  "key file is a folder", "empty accept reason"])
def test_configuration_errors_exit_2_at_once_before_any_model(tmp_path, tiny_pair_dirs, case):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(letter(0))
    args = redact_args(tmp_path, tiny_pair_dirs)
    env = {}
    expect = {"missing input": "input directory not found", "empty key": "VAULT_AUDIT_KEY is set but empty",
              "corrupt key": "is corrupt", "audit dir is a file": "the audit directory is a file",
              "output is a file": "the output directory is a file", "bad policy": "colour",
              "missing model": "model directory not found", "bad option": "--batch-size",
              "object-store uri": "object-store URIs are not supported", "workers without ray": "need --engine ray",
              "ray and consistent pseudonyms": "--consistent-pseudonyms needs --engine local",
              "no ray cluster there": "no Ray cluster answers there", "more workers than cpus": "this machine has",
              "short key": "shorter than 32 bytes", "short hex key": "shorter than 32 bytes",
              "key in input": "must not be inside the input directory", "key in output": "must not be inside the output",
              "key in audit": "must not be inside the audit directory", "key file is a folder": "is a folder",
              "empty accept reason": "--accept-broken-audit needs a reason"}[case]
    key_hex = "ab" * 32
    if case == "missing input":
        args[1] = str(tmp_path / "nope")
    elif case == "empty key":
        env["VAULT_AUDIT_KEY"] = ""
    elif case == "corrupt key":
        (tmp_path / "bad.key").write_text("John Smith's key\n")
        args += ["--key-file", str(tmp_path / "bad.key")]
    elif case == "audit dir is a file":
        (tmp_path / "audit").write_text("")
    elif case == "output is a file":
        (tmp_path / "out").write_text("")
    elif case == "bad policy":
        (tmp_path / "e2e.yaml").write_text(POLICY + "colour: blue\n")
        args[args.index("--policy") + 1] = str(tmp_path / "e2e.yaml")
    elif case == "missing model":
        args[args.index("--oracle") + 1] = str(tmp_path / "no-model")
    elif case == "object-store uri":
        args[2] = "s3://bucket/redacted"
    elif case == "workers without ray":
        args += ["--workers", "2"]
    elif case == "ray and consistent pseudonyms":
        args += ["--engine", "ray", "--consistent-pseudonyms"]
    elif case == "no ray cluster there":
        args += ["--engine", "ray", "--ray-address", "127.0.0.1:1"]  # a port nothing listens on
    elif case == "more workers than cpus":
        args += ["--engine", "ray", "--workers", "1", "--worker-cpus", "4096"]
    elif case == "short key":
        env["VAULT_AUDIT_KEY"] = "John Smith"  # a planted value: never echoed
    elif case == "short hex key":
        env["VAULT_AUDIT_KEY"] = "ab" * 31
        key_hex = "ab" * 31
    elif case.startswith("key in"):
        folder = tmp_path / {"key in input": "in", "key in output": "out", "key in audit": "audit"}[case]
        folder.mkdir(exist_ok=True)
        (folder / "audit.key").write_text(key_hex + "\n")
        (folder / "audit.key").chmod(0o600)
        args += ["--key-file", str(folder / "audit.key")]
    elif case == "key file is a folder":
        args += ["--key-file", str(tmp_path)]
    elif case == "empty accept reason":
        args += ["--accept-broken-audit", " "]
    else:
        args += ["--batch-size", "0"]
    for extra in ([], ["--json"]):
        proc = subprocess.run([sys.executable, "-c", _PROBE, *args, *extra], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1], env=dict(os.environ, **env))
        exit_line = proc.stdout.splitlines()[-1].split()
        assert exit_line[:4] == ["EXIT", "2", "False", "False"], (proc.stdout, proc.stderr)  # no torch, no Presidio
        assert float(exit_line[4]) < 1.0
        if extra:
            (line,) = proc.stdout.splitlines()[:-1]
            error = json.loads(line)
            assert error["exit_code"] == 2 and expect in error["error"] and error["problems"][0]["stage"]
            assert proc.stderr == ""
        else:
            assert len(proc.stderr.strip().splitlines()) == 1 and expect in proc.stderr, proc.stderr
            assert "Traceback" not in proc.stderr and "John Smith" not in proc.stderr
        assert key_hex not in proc.stdout + proc.stderr
    assert not (tmp_path / "out").is_dir() or case in ("output is a file", "key in output")
    assert not (tmp_path / "out").is_dir() or os.listdir(tmp_path / "out") in ([], ["audit.key"])


def test_verify_never_creates_a_key_and_needs_one(tmp_path, tiny_pair_dirs, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "audit").mkdir()
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit")])
    assert result.exit_code == 2 and "not found" in result.output
    assert not (tmp_path / "config").exists() and os.listdir(tmp_path / "audit") == []
    (tmp_path / "bad.key").write_text("zz")
    result = CliRunner().invoke(main, ["audit", "verify", str(tmp_path / "audit"), "--key-file", str(tmp_path / "bad.key")])
    assert result.exit_code == 2 and "corrupt" in result.output


def test_dry_run_loads_no_model_and_writes_nothing(tmp_path, tiny_pair_dirs, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in", bad=False)
    (tmp_path / "in" / "x.png").write_bytes(b"\x89PNG")
    from vault import models

    def no_model(*a, **k):
        raise AssertionError("a dry run loaded a model")

    monkeypatch.setattr(models, "load_pair", no_model)
    monkeypatch.setattr(models, "load_model", no_model)
    result = CliRunner().invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--dry-run"))
    assert result.exit_code == 0, result.output
    assert "redact    letter.txt" in result.output and "skip      x.png: unsupported file type .png" in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "audit").exists() and not (tmp_path / "config").exists()
    as_json = CliRunner().invoke(main, redact_args(tmp_path, tiny_pair_dirs, "--dry-run", "--json"))
    plan = json.loads(as_json.stdout)
    assert len(as_json.stdout.splitlines()) == 1 and {p["action"] for p in plan["dry_run"]} == {"redact", "skip"}


@pytest.mark.parametrize("damage", ["tokenizer", "weights"])
def test_a_model_folder_that_cannot_be_loaded_is_one_line_naming_it(tmp_path, tiny_pair_dirs, damage):
    """redact (its oracle from $VAULT_ORACLE), eval and bench speculative: exit 2 and one line that names the
    folder, never a traceback, whatever the library that failed raised."""
    bad = tmp_path / "bad-oracle"
    shutil.copytree(tiny_pair_dirs["oracle"], bad)
    if damage == "tokenizer":
        (bad / "tokenizer.json").write_text("not a tokenizer")
    else:
        (bad / "model.safetensors").write_bytes(b"not weights")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(letter(0))
    redact = redact_args(tmp_path, tiny_pair_dirs)
    del redact[redact.index("--oracle"):redact.index("--oracle") + 2]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "1", "text": letter(0), "spans": []}) + "\n")
    pair = ["--draft", str(tiny_pair_dirs["draft"]), "--oracle", str(bad)]
    for args in (redact, ["eval", str(gold), *pair], ["bench", "speculative", "--quick", *pair]):
        result = CliRunner().invoke(main, args, env={"VAULT_ORACLE": str(bad)})
        assert result.exit_code == 2, (args[0], result.output)
        assert len(result.stderr.splitlines()) == 1 and str(bad) in result.stderr, result.stderr
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_a_dry_run_shows_names_only_as_keyed_hashes(tmp_path, tiny_pair_dirs, monkeypatch):
    """No model, so no name can be redacted: the folder, and the name's keyed hash (issue 21)."""
    from vault.keys import keyed_hash

    key = bytes(range(32))
    monkeypatch.setenv("VAULT_AUDIT_KEY", key.hex())
    names = [f"contact.{NAMES[0]}", f"id.{PLANTED[5]}", f".{NAMES[1]}.txt", f"x.{NAMES[2]}", f"{NAMES[0]}.png",
             f"d/{NAMES[1]}.txt"]
    for name in names:
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_text("hello\n")
    args = redact_args(tmp_path, tiny_pair_dirs, "--dry-run")
    (tmp_path / "e2e.yaml").write_text(POLICY.replace("redact_file_names: false", "redact_file_names: true"))
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(main, args + extra)
        assert result.exit_code == 0, result.output
        for value in [*NAMES, PLANTED[5], *" ".join(NAMES).split()]:
            assert value not in result.output, value
    plan = {p["file"]: p for p in json.loads(result.stdout)["dry_run"]}
    assert plan[f".#{keyed_hash(key, names[2])[:16]}.txt"]["action"] == "redact"
    assert plan[f"d/#{keyed_hash(key, names[5])[:16]}.txt"]["action"] == "redact"
    assert plan[f"#{keyed_hash(key, names[4])[:16]}"]["reason"] == "unsupported file type .png"
    assert plan[f"#{keyed_hash(key, names[1])[:16]}"]["reason"] == "unsupported file type (extension not shown)"
    assert not (tmp_path / "out").exists() and not (tmp_path / "audit").exists()


def test_quiet_and_json_print_only_what_they_say(tmp_path, tiny_pair_dirs):
    """A real process, as cron runs it: --quiet prints the summary line (stdout) and problems (stderr),
    no loading bars; --json prints exactly one line of JSON; no lock or temp file is left behind."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(letter(0))
    (tmp_path / "in" / "b.json").write_text("{")
    quiet = _cli(redact_args(tmp_path, tiny_pair_dirs, "--quiet"))
    assert quiet.returncode == 1
    assert len(quiet.stdout.splitlines()) == 1 and quiet.stdout.startswith("vault: 1 redacted")
    assert quiet.stderr.splitlines() == ["  b.json: [read] invalid JSON: Expecting property name enclosed in double "
                                         "quotes at line 1, column 2"], quiet.stderr
    anchor = tmp_path / "anchor.jsonl"  # from the environment, as a cron line would set it
    as_json = _cli(redact_args(tmp_path, tiny_pair_dirs, "--json", "--force"), env={"VAULT_AUDIT_ANCHOR": str(anchor)})
    assert as_json.returncode == 1 and as_json.stderr == "" and len(as_json.stdout.splitlines()) == 1
    summary = json.loads(as_json.stdout)
    # Each run's head (sequence number, manifest SHA-256): in the summary line, --json, and the anchor.
    assert "; head 1:" in quiet.stdout and summary["head"].startswith("2:")
    assert [json.loads(line)["seq"] for line in anchor.read_text().splitlines()] == [2]
    assert f"{summary['head']}: intact" in _cli(["audit", "verify", str(tmp_path / "audit"), "--anchor", str(anchor)]).stdout
    assert summary["problems"] == [{"file": "b.json", "stage": "read", "reason": summary["problems"][0]["reason"]}]
    assert sorted(os.listdir(tmp_path / "out")) == ["a.txt"]


def test_eval_and_redact_default_to_the_same_policy():
    """Figures from `vault eval` describe what `vault redact` does when neither names a policy."""
    defaults = {name: {p.name: p.default for p in main.commands[name].params}["policy_path"] for name in ("eval", "redact")}
    assert defaults["eval"] == defaults["redact"] == "default"
