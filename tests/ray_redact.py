"""Runs `vault` argument lists one after another on one local Ray instance that this process starts (on
127.0.0.1, two CPUs) and stops. tests/test_ray.py runs it as a subprocess: Ray may end its driver's process
when it loses its cluster ("Failed to connect to GCS ... The program will terminate"), which must end
this process and fail a test, never end pytest.

usage: python tests/ray_redact.py TEMP_DIR '[["redact", ..., "--json"], ...]'
prints what each run prints (with --json: one line per run)."""

import json
import logging
import os
import sys

# Read by Ray's processes when they start (they inherit this environment). On a loaded 2-core machine Ray's
# own processes answer late; the defaults (a 10 s health check, a minute to reach the GCS, 30 s for its
# port) then declare a live node dead or end the driver. Generous bounds here: a test's own timeout ends
# a run that truly hangs.
os.environ.update({
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # bind to the loopback address
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_gcs_server_port_wait_time_s": "300",
    "RAY_gcs_rpc_server_connect_timeout_s": "300",
    "RAY_gcs_rpc_server_reconnect_timeout_s": "300",
    "RAY_gcs_server_request_timeout_seconds": "300",
    "RAY_health_check_timeout_ms": "60000",
    "RAY_health_check_failure_threshold": "20",
    "RAY_worker_register_timeout_seconds": "300",
})

import ray  # noqa: E402

from vault.cli import main  # noqa: E402


def run(temp: str, runs: list[list[str]]) -> None:
    # A short folder of the caller's: Ray's socket paths must stay under 108 bytes, and the caller finds
    # the instance's leftovers by it.
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=temp,
             object_store_memory=100 * 2**20, logging_level=logging.ERROR, log_to_driver=False)
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    try:
        for args in runs:  # vault finds Ray initialised and uses this instance
            try:
                main(args)
            except SystemExit:  # vault's exit code is in its --json line
                pass
            sys.stdout.flush()
    finally:
        ray.shutdown()


if __name__ == "__main__":
    run(sys.argv[1], json.loads(sys.argv[2]))
