"""`vault redact --engine ray` on a local Ray instance (127.0.0.1, two CPUs, started and stopped here) with
two workers: the same outputs and rows as the local engine, a worker killed mid-run, reruns."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

# Read when Ray is imported: the instance binds to the loopback address, and reports no usage anywhere.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import logging  # noqa: E402

import pytest  # noqa: E402
import ray  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from test_cli import POLICY, audit_rows, letter, make_tree, redact_args  # noqa: E402
from vault.audit import iter_rows, verify_audit  # noqa: E402
from vault.cli import main  # noqa: E402
from vault.keys import resolve_key  # noqa: E402

NAMED_POLICY = POLICY.replace("redact_file_names: false", "redact_file_names: true")


@pytest.fixture(scope="module")
def cluster():
    # A short folder of its own: Ray's socket paths must stay under 108 bytes, and its leftovers are ours to find.
    temp = tempfile.mkdtemp(prefix="vray-", dir="/tmp")
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=temp,
             object_store_memory=100 * 2**20, logging_level=logging.ERROR, log_to_driver=False)
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    yield temp
    ray.shutdown()
    _stop_leftovers(temp)
    shutil.rmtree(temp, ignore_errors=True)


def _stop_leftovers(temp: str) -> None:
    """Ray's agents of this instance outlive a shutdown now and then: ended by their ids, found by the
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


def _actor_pids() -> list[int]:
    """The processes of vault's Ray workers in this instance: children of its raylet."""
    raylet = ray._private.worker._global_node.all_processes["raylet"][0].process.pid
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout
    return [int(pid) for pid, ppid, args in (line.split(None, 2) for line in out.splitlines() if line.strip())
            if int(ppid) == raylet and "_Actor" in args]


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _comparable(audit: Path, table: str) -> list[str]:
    """A run's rows without what differs between two runs of the same work: ids, times, chain hashes."""
    volatile = {"run_id", "seconds", "prev_hash", "row_hash"}
    return sorted(json.dumps({k: v for k, v in row.items() if k not in volatile}, sort_keys=True)
                  for row in audit_rows(audit, table))


def _redact(tmp_path: Path, pair: dict, out: str, audit: str, *extra: str, policy: str = NAMED_POLICY) -> dict:
    args = redact_args(tmp_path, pair, "--json", "--batch-size", "2", *extra)
    (tmp_path / "e2e.yaml").write_text(policy)
    args[args.index(str(tmp_path / "out"))] = str(tmp_path / out)
    args[args.index(str(tmp_path / "audit"))] = str(tmp_path / audit)
    result = CliRunner().invoke(main, args)
    assert len(result.stdout.splitlines()) == 1, result.output  # --json: one line, whatever Ray printed
    return json.loads(result.stdout)


def test_two_ray_workers_write_what_the_local_engine_writes_even_when_one_is_killed(tmp_path, tiny_pair_dirs, cluster):
    """Every format, bad inputs, file names redacted (by the driver, once), and one of the two workers
    killed mid-run: byte-identical outputs and the same span and document rows as the local engine, every
    document recorded once, an audit that verifies, no temp file left; a rerun with either engine redoes
    nothing. (One test: each Ray run starts its workers, which costs a quarter of a minute here.)"""
    (tmp_path / "in").mkdir()
    make_tree(tmp_path / "in")
    for i in range(16):
        (tmp_path / "in" / f"letters{i // 8}" / f"letter{i:02d}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "in" / f"letters{i // 8}" / f"letter{i:02d}.txt").write_text(letter(i) * (1 + i % 3))
    local = _redact(tmp_path, tiny_pair_dirs, "out-local", "audit-local")
    result: dict = {}
    run = threading.Thread(target=lambda: result.update(_redact(
        tmp_path, tiny_pair_dirs, "out-ray", "audit-ray", "--engine", "ray", "--workers", "2")))
    run.start()
    deadline = time.time() + 120
    while time.time() < deadline and not (any(p.is_file() for p in (tmp_path / "out-ray").rglob("*"))
                                          and len(victims := _actor_pids()) == 2):
        time.sleep(0.02)
    done_before = sum(p.is_file() for p in (tmp_path / "out-ray").rglob("*"))
    os.kill(victims[0], signal.SIGKILL)
    run.join(timeout=300)
    assert len(victims) == 2 and 0 < done_before < local["redacted"], (victims, done_before)
    for key in ("redacted", "unchanged", "skipped", "failed", "held", "spans_redacted", "coverage", "exit_code", "problems"):
        assert result[key] == local[key], key
    assert local["redacted"] == 24 and result["processing_seconds"] > 0
    assert _outputs(tmp_path / "out-ray") == _outputs(tmp_path / "out-local")  # no temp file of the killed write either
    for table in ("spans", "documents"):
        assert _comparable(tmp_path / "audit-ray", table) == _comparable(tmp_path / "audit-local", table), table
    check = verify_audit(tmp_path / "audit-ray", resolve_key(tmp_path / "audit-ray").key)
    assert check.ok, check.problems
    (run_id,) = check.trusted
    redacted = [r["input_path_hmac"] for r in iter_rows(tmp_path / "audit-ray" / run_id, "documents") if r["status"] == "redacted"]
    assert len(redacted) == len(set(redacted)) == local["redacted"]  # each once, whichever attempt answered
    manifest = json.loads((Path(result["audit_run"]) / "manifest.json").read_text())
    assert manifest["meta"]["engine"] == {"name": "ray", "address": "local", "workers": 2, "worker_cpus": 1}
    assert result["engine"]["workers"] == 2 and result["engine"]["planning_seconds"] > 0
    for engine in ("local", "ray"):  # the bad inputs fail again; every output stands
        again = _redact(tmp_path, tiny_pair_dirs, "out-ray", "audit-ray", "--engine", engine)
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
