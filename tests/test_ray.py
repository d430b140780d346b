"""`vault redact --engine ray` on a local Ray instance (127.0.0.1, two CPUs) with two workers: the same
outputs and rows as the local engine, a worker killed mid-run, reruns.

Every Ray run happens in a subprocess (tests/ray_redact.py), which starts and stops its own instance: Ray
can end its driver's process when it loses its cluster, and that must fail a test, never end pytest."""

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_cli import POLICY, letter, make_tree, redact_args
from vault.audit import iter_rows, verify_audit
from vault.cli import main
from vault.keys import resolve_key

NAMED_POLICY = POLICY.replace("redact_file_names: false", "redact_file_names: true")
HELPER = Path(__file__).with_name("ray_redact.py")
RAY_TIMEOUT = 900  # seconds for one subprocess (its Ray instance, every run in it): a hang, not a slow machine

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install -e '.[ray]')")


def _stop_leftovers(temp: str) -> None:
    """Ray's processes of this instance outlive their driver now and then: ended by their ids, found by the
    instance's own temp folder in their command line."""
    for _ in range(20):
        pids = [int(p) for p in subprocess.run(["pgrep", "-f", temp], capture_output=True, text=True).stdout.split()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def _actor_pids(root: int) -> list[int]:
    """The processes of vault's Ray workers under `root` (the subprocess: its raylet's children)."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    procs = [(int(pid), int(ppid), args) for pid, ppid, args in (line.split(None, 2) for line in out.splitlines()
                                                                  if len(line.split(None, 2)) == 3)]
    below, grew = {root}, True
    while grew:
        grew = False
        for pid, ppid, _ in procs:
            if ppid in below and pid not in below:
                below.add(pid)
                grew = True
    return [pid for pid, _, args in procs if pid in below and "_Actor" in args]


def _ray_runs(tmp_path: Path, runs: list[list[str]], while_running=None) -> list[dict]:
    """Each argument list's --json summary, run one after another in a subprocess on one Ray instance of
    its own; `while_running(process)` is called once it has started. A subprocess that ends early, or
    takes longer than RAY_TIMEOUT, fails the test with what it printed."""
    temp = tempfile.mkdtemp(prefix="vray-", dir="/tmp")  # short: Ray's socket paths stay under 108 bytes
    out, err = tmp_path / "ray.stdout", tmp_path / "ray.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, str(HELPER), temp, json.dumps(runs)], stdout=stdout, stderr=stderr)
    late = False
    try:
        if while_running:
            while_running(process)
        process.wait(timeout=RAY_TIMEOUT)
    except subprocess.TimeoutExpired:
        late = True
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        _stop_leftovers(temp)
        shutil.rmtree(temp, ignore_errors=True)
    lines = out.read_text().splitlines()
    if process.returncode != 0 or len(lines) != len(runs):
        tail = "\n".join(err.read_text(errors="replace").splitlines()[-15:])
        how = f"was killed after {RAY_TIMEOUT} s" if late else f"ended with code {process.returncode}"
        pytest.fail(f"the Ray subprocess {how} after {len(lines)} of {len(runs)} runs; stdout {lines[-3:]}; "
                    f"the end of its stderr:\n{tail}")
    return [json.loads(line) for line in lines]  # --json: one line per run, whatever Ray printed


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _comparable(run: Path, table: str) -> list[str]:
    """A run's rows without what differs between two runs of the same work: ids, times, chain hashes."""
    volatile = {"run_id", "seconds", "prev_hash", "row_hash"}
    return sorted(json.dumps({k: v for k, v in row.items() if k not in volatile}, sort_keys=True)
                  for row in iter_rows(run, table))


def _args(tmp_path: Path, pair: dict, out: str, audit: str, *extra: str) -> list[str]:
    args = redact_args(tmp_path, pair, "--json", "--batch-size", "2", *extra)
    (tmp_path / "e2e.yaml").write_text(NAMED_POLICY)
    args[args.index(str(tmp_path / "out"))] = str(tmp_path / out)
    args[args.index(str(tmp_path / "audit"))] = str(tmp_path / audit)
    return args


def _redact(tmp_path: Path, pair: dict, out: str, audit: str, *extra: str) -> dict:
    """A run of the local engine, in this process (no Ray)."""
    result = CliRunner().invoke(main, _args(tmp_path, pair, out, audit, *extra))
    assert len(result.stdout.splitlines()) == 1, result.output
    return json.loads(result.stdout)


def _kill_one_worker(folder: Path, seen: dict):
    """Once both workers run and one output is written: both held (SIGSTOP) while the outputs are
    counted, one killed, the other let go on."""

    def act(process):
        deadline = time.time() + RAY_TIMEOUT / 2
        while time.time() < deadline and process.poll() is None:
            victims = _actor_pids(process.pid)
            if len(victims) == 2 and any(p.is_file() for p in folder.rglob("*")):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"two Ray workers and a first output never showed (subprocess code {process.poll()})")
        for pid in victims:
            os.kill(pid, signal.SIGSTOP)
        seen["done_before"] = sum(p.is_file() for p in folder.rglob("*"))
        os.kill(victims[0], signal.SIGKILL)
        os.kill(victims[1], signal.SIGCONT)

    return act


@needs_ray
def test_two_ray_workers_write_what_the_local_engine_writes_even_when_one_is_killed(tmp_path, tiny_pair_dirs):
    """Every format, bad inputs, file names redacted (by the driver, once), and one of the two workers
    killed mid-run: byte-identical outputs and the same span and document rows as the local engine, every
    document recorded once, an audit that verifies, no temp file left; a rerun with either engine redoes
    nothing. (One Ray instance for both Ray runs: each start costs a quarter of a minute here.)"""
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in")
    for i in range(16):
        (tmp_path / "in" / f"letters{i // 8}" / f"letter{i:02d}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "in" / f"letters{i // 8}" / f"letter{i:02d}.txt").write_text(letter(i) * (1 + i % 3))
    local = _redact(tmp_path, tiny_pair_dirs, "out-local", "audit-local")
    seen: dict = {}
    ray_args = _args(tmp_path, tiny_pair_dirs, "out-ray", "audit-ray", "--engine", "ray", "--workers", "2")
    result, again_ray = _ray_runs(tmp_path, [ray_args, ray_args], _kill_one_worker(tmp_path / "out-ray", seen))
    assert 0 < seen["done_before"] < local["redacted"], seen
    for key in ("redacted", "unchanged", "skipped", "failed", "held", "spans_redacted", "coverage", "exit_code", "problems"):
        assert result[key] == local[key], key
    assert local["redacted"] == 24 and result["processing_seconds"] > 0
    assert _outputs(tmp_path / "out-ray") == _outputs(tmp_path / "out-local")  # no temp file of the killed write either
    for table in ("spans", "documents"):  # the first Ray run's rows (the rerun's are its own)
        assert _comparable(Path(result["audit_run"]), table) == _comparable(Path(local["audit_run"]), table), table
    check = verify_audit(tmp_path / "audit-ray", resolve_key(tmp_path / "audit-ray").key)
    assert check.ok, check.problems
    redacted = [r["input_path_hmac"] for r in iter_rows(Path(result["audit_run"]), "documents") if r["status"] == "redacted"]
    assert len(redacted) == len(set(redacted)) == local["redacted"]  # each once, whichever attempt answered
    manifest = json.loads((Path(result["audit_run"]) / "manifest.json").read_text())
    assert manifest["meta"]["engine"] == {"name": "ray", "address": "local", "workers": 2, "worker_cpus": 1}
    assert result["engine"]["workers"] == 2 and result["engine"]["planning_seconds"] > 0
    again_local = _redact(tmp_path, tiny_pair_dirs, "out-ray", "audit-ray", "--engine", "local")
    for engine, again in (("ray", again_ray), ("local", again_local)):  # the bad inputs fail again; every output stands
        assert (again["redacted"], again["unchanged"], again["failed"]) == (0, local["redacted"], local["failed"]), engine


def test_a_pool_that_cannot_start_stops_the_run_with_the_workers_reason():
    """What a worker's mismatch says reaches the summary through Ray's wrapping; any other failure only
    by its type (its message could quote a value)."""
    from vault.distributed import WorkerMismatch, _why

    class Wrapped(Exception):
        def __init__(self, cause):
            self.cause = cause

    mismatch = WorkerMismatch("a worker runs other versions of torch than the driver (node n2)")
    assert _why(Wrapped(mismatch)) == str(mismatch)
    try:
        try:
            raise mismatch
        except WorkerMismatch as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as outer:
        assert _why(outer) == str(mismatch)
    assert _why(Wrapped(KeyError("Anna Berg"))) == "Wrapped"
