"""The `vault` command: thin; it parses, calls the modules and prints. Exit codes: 0 done, 1 some
documents failed or were held (or the audit needs attention), 2 usage or configuration error.

`vault redact` checks everything it can (options, paths, policy, model directories, key, locks) before
it imports torch, transformers or Presidio, so a configuration error is one line in well under a second.
"""

import json
import os
import sys
from pathlib import Path

import click

from vault import __version__
from vault.evaluate import TAB_DEV

# A gold file that was named (or defaulted to) must exist: a missing one is a usage error, never skipped.
_GOLD = click.Path(exists=True, dir_okay=False, path_type=Path)


class _Group(click.Group):
    """One line for a usage error (and one line of JSON with --json), whatever click would print."""

    def main(self, args=None, prog_name=None, **extra):
        args = list(sys.argv[1:] if args is None else args)
        try:
            return super().main(args=args, prog_name=prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            _fail("aborted", 1, as_json="--json" in args)
        except click.ClickException as exc:
            _fail(exc.format_message().replace("\n", " "), exc.exit_code, as_json="--json" in args)


def _fail(message: str, code: int = 2, as_json: bool = False, stage: str = "usage"):
    message = message.strip() or "error"
    if as_json:
        click.echo(json.dumps({"error": message, "stage": stage, "problems": [{"file": None, "stage": stage, "reason": message}],
                               "exit_code": code}))
    else:
        click.echo(f"vault: {message}", err=True)
    sys.exit(code)


def _policy(path_or_name: str, as_json: bool = False, one_line: bool = False):
    from vault.policy import PolicyError, load_policy

    try:
        return load_policy(path_or_name)
    except PolicyError as exc:
        lines = [line.strip() for line in str(exc).splitlines()]
        _fail("; ".join(lines) if one_line or as_json else str(exc), as_json=as_json, stage="policy")


def _pair(draft_dir: Path | None, oracle_dir: Path | None):
    """The model pair; a folder that cannot be loaded is one line naming it and exit 2, never a traceback."""
    from vault.models import ModelError, load_pair

    try:
        return load_pair(draft_dir, oracle_dir)
    except ModelError as exc:  # its first line names the folder; the library's details follow
        _fail(str(exc).splitlines()[0])


def _quiet_libraries() -> None:
    """Silence what transformers, tqdm and Presidio print while loading: a cron log wants the summary."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    import logging

    for name in ("presidio-analyzer", "presidio-anonymizer", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # transformers reads the two variables above when it is imported; imported here, it would cost a
    # rerun with nothing to do (which loads no model) seconds.
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()


def _options(*options):
    """One decorator that applies click options in the order given, the order --help lists them in."""

    def apply(command):
        for option in reversed(options):
            command = option(command)
        return command

    return apply


# The model pair and how many chunks it decodes together, as `vault redact` and `vault serve` take them.
_model_options = _options(
    click.option("--draft", "draft_dir", type=click.Path(path_type=Path), envvar="VAULT_DRAFT", show_envvar=True,
                 help="draft model directory (default: the shipped one)"),
    click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path), envvar="VAULT_ORACLE", show_envvar=True,
                 help="oracle model directory (default: the shipped one)"),
    click.option("--batch-size", type=click.IntRange(1, 256), default=8, show_default=True, help="chunks decoded together"),
)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="vault")
def main():
    """vault: privacy redaction for document collections, built on speculative decoding."""


@main.command()
@click.argument("input_dir", type=click.Path(path_type=Path))
@click.argument("output_dir", type=click.Path(path_type=Path))
@click.option("--policy", "policy_path", default="default", show_default=True, help="policy file, or a shipped policy's name")
@click.option("--audit-dir", type=click.Path(path_type=Path), default=Path("audit"), show_default=True)
@click.option("--key-file", type=click.Path(path_type=Path), help="the audit key file (default: $VAULT_AUDIT_KEY_FILE, "
              "else $VAULT_AUDIT_KEY, else ~/.config/vault/audit.key)")
@_model_options
@click.option("--force", is_flag=True, help="redo documents that are unchanged since the last run")
@click.option("--dry-run", is_flag=True, help="list what would be done per file; load no model, write nothing")
@click.option("--consistent-pseudonyms", is_flag=True, help="one pseudonym per value across the whole run")
@click.option("--max-bytes", type=click.IntRange(1), default=20_000_000, show_default=True,
              help="larger files fail with a clear reason")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: this process; ray: a pool of Ray workers (pip install 'vault[ray]')")
@click.option("--ray-address", help="HOST:PORT of a Ray cluster's head (default: a local Ray instance on this machine)")
@click.option("--workers", type=click.IntRange(1), help="Ray workers (default: as many as the cluster's CPUs allow)")
@click.option("--worker-cpus", type=click.IntRange(1), default=1, show_default=True, help="CPUs and torch threads per Ray worker")
@click.option("--accept-broken-audit", metavar="REASON", help="append to an audit that fails verification (refused "
              "otherwise, exit 1); REASON is recorded, signed, in the new run")
@click.option("--anchor", type=click.Path(path_type=Path), envvar="VAULT_AUDIT_ANCHOR", show_envvar=True,
              help="append the run's head (sequence number, manifest SHA-256) to this file, outside the audit: "
              "`vault audit verify --anchor` then finds a rolled-back audit")
@click.option("--label", metavar="TEXT", help="your name for what this run redacts (say, 'HR exports'), recorded as "
              "given in the audit; the input and output paths are recorded only as keyed hashes")
@click.option("--quiet", is_flag=True, help="only the summary line and problems")
@click.option("--json", "as_json", is_flag=True, help="print one line of JSON, whatever happens")
def redact(input_dir, output_dir, policy_path, audit_dir, key_file, draft_dir, oracle_dir, batch_size, force, dry_run,
           consistent_pseudonyms, max_bytes, engine, ray_address, workers, worker_cpus, accept_broken_audit, anchor, label,
           quiet, as_json):
    """Redact every supported file under INPUT_DIR into OUTPUT_DIR (same tree)."""
    from vault.preflight import RunOptions, UsageError, prepare

    opts = RunOptions(
        input_dir=input_dir, output_dir=output_dir, policy=_policy(policy_path, as_json, one_line=True), audit_dir=audit_dir,
        draft_dir=draft_dir, oracle_dir=oracle_dir, batch_size=batch_size, force=force, dry_run=dry_run,
        consistent_pseudonyms=consistent_pseudonyms, max_bytes=max_bytes, key_file=key_file, engine=engine,
        ray_address=ray_address, workers=workers, worker_cpus=worker_cpus, accept_broken_audit=accept_broken_audit,
        anchor=anchor, label=label,
        quiet=quiet or as_json,
        progress=not quiet and not as_json and sys.stderr.isatty(),
    )
    try:
        prepared = prepare(opts)  # before any heavy import: a configuration error is fast
    except UsageError as exc:
        _fail(str(exc), as_json=as_json)
    for warning in prepared.warnings:
        click.echo(f"vault: {warning}", err=True)
    try:
        if not dry_run:
            _quiet_libraries()
        from vault.pipeline import Loop, run

        loop = Loop
        if engine == "ray":  # chosen here, above both loops: vault.distributed imports vault.pipeline
            from vault.distributed import RayLoop as loop
        summary = run(opts, prepared=prepared, log=(lambda m: None) if (quiet or as_json) else (lambda m: click.echo(m, err=True)),
                      loop=loop)
    except UsageError as exc:
        prepared.release()
        _fail(str(exc), as_json=as_json)
    except Exception as exc:  # a bug: still one line (and no traceback: it could quote a value)
        prepared.release()
        if os.environ.get("VAULT_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__} (please report it; VAULT_DEBUG=1 shows the traceback)",
              code=1, as_json=as_json, stage="internal")
    if as_json:
        click.echo(json.dumps(summary.as_dict(), separators=(",", ":")))
        sys.exit(summary.exit_code)
    if dry_run and not quiet:
        for plan in summary.dry_run:
            click.echo(f"  {plan['action']:<9} {plan['file']}" + (f": {plan['reason']}" if plan["reason"] else ""))
    for problem in summary.problems:
        click.echo(f"  {problem['file']}: [{problem['stage']}] {problem['reason']}", err=True)
    click.echo(summary.line())
    sys.exit(summary.exit_code)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on (not loopback: needs --api-keys-file)")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--policy", "policy_paths", multiple=True, default=["default"], show_default=True,
              help="a policy a request may name (repeat for several; the first is the default)")
@click.option("--audit-dir", type=click.Path(path_type=Path), default=Path("audit"), show_default=True)
@click.option("--key-file", type=click.Path(path_type=Path), help="the audit key file (default as for vault redact)")
@click.option("--api-keys-file", type=click.Path(path_type=Path), help="one name:sha256hex per line; callers send the key "
              "as Authorization: Bearer KEY")
@_model_options
@click.option("--max-batch", type=click.IntRange(1), default=32, show_default=True, help="texts gathered into one engine call")
@click.option("--max-wait-ms", type=click.FloatRange(0), default=100.0, show_default=True,
              help="how long to wait for more texts after the first")
@click.option("--queue-size", type=click.IntRange(1), default=64, show_default=True, help="requests waiting; more get 429")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.1), default=120.0, show_default=True, help="seconds per request (504)")
@click.option("--max-bytes", type=click.IntRange(1), default=2_000_000, show_default=True, help="request body limit (413)")
@click.option("--checkpoint-every", type=click.IntRange(1), default=100, show_default=True, help="texts between audit checkpoints")
def serve(host, port, policy_paths, audit_dir, key_file, api_keys_file, draft_dir, oracle_dir, batch_size, max_batch,
          max_wait_ms, queue_size, timeout_s, max_bytes, checkpoint_every):
    """Redaction as an HTTP service (pip install 'vault[serve]'): POST /v1/redact, /healthz, /readyz, /metrics."""
    try:
        from vault import serve as service
    except ImportError:
        _fail("vault serve needs FastAPI, uvicorn and prometheus-client: pip install 'vault[serve]'")
    from vault.preflight import UsageError

    try:
        service.main(service.CommandLine(
            host=host, port=port, policies=[_policy(p, one_line=True) for p in policy_paths], audit_dir=audit_dir,
            key_file=key_file, api_keys_file=api_keys_file, draft_dir=draft_dir,
            oracle_dir=oracle_dir, batch_size=batch_size, max_batch=max_batch,
            max_wait_ms=max_wait_ms, queue_size=queue_size, timeout_s=timeout_s, max_bytes=max_bytes,
            checkpoint_every=checkpoint_every), quiet=_quiet_libraries)
    except UsageError as exc:
        _fail(str(exc))


@main.group()
def policy():
    """Check and show policies."""


@policy.command("validate")
@click.argument("file")
def policy_validate(file):
    """Exit 0 if FILE is a valid policy; otherwise name the key and what is allowed."""
    p = _policy(file)
    click.echo(f"{file}: valid policy '{p.name}', fingerprint {p.fingerprint()}")


@policy.command("show")
@click.argument("file")
def policy_show(file):
    """Print the resolved policy and its fingerprint."""
    import yaml

    p = _policy(file)
    click.echo(yaml.safe_dump(p.canonical(), sort_keys=False, allow_unicode=True))
    click.echo(f"fingerprint: {p.fingerprint()}")


@main.group()
def audit():
    """Verify audit runs and render a run's report."""


def _audit_key(path: Path, key_file):
    """The key for verifying: never created here."""
    from vault.keys import KeyProblem, resolve_key

    audit_dir = path if not (path / "run.json").exists() and not (path / "manifest.json").exists() else path.parent
    try:
        # A short key is still read here, with a warning: runs an older vault signed stay checkable.
        key = resolve_key(audit_dir, key_file, create=False, allow_short=True)
    except KeyProblem as exc:
        _fail(str(exc))
    for warning in key.warnings():
        click.echo(f"vault: {warning}", err=True)
    return key.key, audit_dir


@audit.command("verify")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--key-file", type=click.Path(path_type=Path), help="the audit key file (default as for vault redact)")
@click.option("--anchor", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="VAULT_AUDIT_ANCHOR",
              show_envvar=True, help="the anchor file `vault redact --anchor` appends to: every run it knows must be here")
@click.option("--expect-head", "expect_heads", multiple=True, metavar="SEQ:HASH",
              help="a head a run printed (its summary line's `head`): that run must be here, with that manifest")
def audit_verify(path, key_file, anchor, expect_heads):
    """Verify an audit directory (every run, and the chain of runs) or one run folder.

    Exit 0 if intact; 1 naming every problem (the first bad row of each table); 2 without a usable key."""
    from vault.audit import (audit_head, check_heads, describe_roots, head_ref, parse_head_ref, read_anchor, verify_audit,
                             verify_run)
    from vault.keys import legacy_key_hint

    try:
        expected = [parse_head_ref(h) for h in expect_heads]
    except ValueError as exc:
        _fail(str(exc))
    key, audit_dir = _audit_key(path, key_file)
    if audit_dir != path:
        if expected or (anchor and click.get_current_context().get_parameter_source("anchor").name != "ENVIRONMENT"):
            _fail(f"{path}: --anchor and --expect-head check an audit directory, not one run folder")
        anchor = None  # $VAULT_AUDIT_ANCHOR is about the whole audit
    if audit_dir == path:
        check = verify_audit(path, key)
        problems, notes = list(check.problems), check.notes
        if anchor is not None:
            heads, anchor_problems = read_anchor(anchor, key)
            problems += anchor_problems + check_heads(path, check, heads, f"the anchor {anchor}")
        if expected:
            problems += check_heads(path, check, expected, "--expect-head")
        head = audit_head(path, key)
        summary = (f"{path}: {len(check.runs)} runs" + (f", audit {check.audit_id}" if check.audit_id else "")
                   + (f", head {head_ref(head)}" if head and head.get("sha256") else ""))
        for name, result in sorted(check.runs.items(), key=lambda r: ((r[1].listing or {}).get("seq") or 0, r[0])):
            listing = result.listing or {}
            meta = listing.get("meta", {})
            state = "complete" if result.complete else "interrupted" if listing else "unsigned"
            click.echo(f"{path}: run #{listing.get('seq', '-')} {name}: {state}, "
                       f"{listing.get('rows', {}).get('documents', 0)} documents, "
                       f"{describe_roots(meta, key)}")
    else:
        result = verify_run(path, key)
        problems, notes, summary = result.problems, result.notes, str(path)
    for note in notes:
        click.echo(f"{path}: note: {note}")
    if not problems:
        click.echo(f"{summary}: intact")
        return
    hint = legacy_key_hint(audit_dir)
    for problem in problems:
        click.echo(f"{path}: {problem}", err=True)
    if hint:
        click.echo(f"vault: {hint}", err=True)
    sys.exit(1)


@audit.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="HTML file (default: RUN_DIR/report.html)")
@click.option("--key-file", type=click.Path(path_type=Path), help="the audit key file (default as for vault redact)")
@click.option("--output-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="the run's output directory, for the conflicts' context (the audit records it only as a keyed hash)")
def audit_report(run_dir, out, key_file, output_dir):
    """Render a self-contained HTML report for compliance review."""
    from vault.report import write_report

    key, _ = _audit_key(run_dir, key_file)
    path = write_report(run_dir, out or run_dir / "report.html", key, output_dir)
    click.echo(str(path))


@main.command("eval")
@click.argument("gold", type=_GOLD, required=False, default=TAB_DEV)
@click.option("--policy", "policy_path", default="default", show_default=True,
              help="policy file, or a shipped policy's name (the same default as vault redact)")
@click.option("--baseline", type=click.Choice(["presidio"]), help="also measure a baseline on the same documents")
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--limit", type=int, help="only the first N documents")
@click.option("--json", "as_json", is_flag=True)
def eval_command(gold, policy_path, baseline, draft_dir, oracle_dir, limit, as_json):
    """Leak, recall, precision and F1 of vault (and a baseline) on GOLD.jsonl (default: the TAB dev set in data/)."""
    from vault import evaluate
    from vault.pipeline import Redactor

    try:
        docs = evaluate.read_gold(gold)[:limit]
    except ValueError as exc:
        _fail(str(exc))
    draft, oracle = _pair(draft_dir, oracle_dir)
    redactor = Redactor(draft, oracle, _policy(policy_path), key=b"evaluation")
    results = {"vault": evaluate.evaluate_vault(docs, redactor)}
    if baseline == "presidio":
        results["presidio"] = evaluate.evaluate_presidio(docs, redactor.policy.redacts)
    results["documents"] = len(docs)
    if as_json:
        click.echo(json.dumps(results, indent=1))
    else:
        click.echo(evaluate.table({k: v for k, v in results.items() if isinstance(v, dict)}))
        click.echo(f"documents: {len(docs)}")


@main.group()
def bench():
    """Benchmarks: speed and memory, measured side by side in one run."""


@bench.command("speculative")
@click.option("--quick", is_flag=True, help="6 chunks instead of 24: finishes in under a minute on an idle machine")
@click.option("--json", "as_json", is_flag=True)
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--dev", type=_GOLD, default=TAB_DEV, show_default=True, help="gold JSONL of real documents")
def bench_speculative(quick, as_json, draft_dir, oracle_dir, batch_size, dev):
    """Every decoding mode on the same chunks: wall time, tokens/s, oracle passes per token, acceptance."""
    from vault import bench as bench_mod

    draft, oracle = _pair(draft_dir, oracle_dir)
    log = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    result = bench_mod.speculative(draft, oracle, quick=quick, batch_size=batch_size, dev_path=dev, log=log)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(bench_mod.table(result))


@bench.command("pipeline")
@click.option("--quick", is_flag=True,
              help="8 long texts (about 33 KB), 100 short; memory: 10 against 100 documents: finishes in under "
              "a minute on an idle machine")
@click.option("--json", "as_json", is_flag=True)
@click.option("--policy", "policy_path", default="default", show_default=True)
@click.option("--dev", type=_GOLD, default=TAB_DEV, show_default=True, help="gold JSONL of real documents")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: throughput per Ray worker count beside the local engine (scaling)")
@click.option("--workers", "worker_counts", default="1,2", show_default=True, help="with --engine ray: worker counts to run")
def bench_pipeline(quick, as_json, policy_path, dev, engine, worker_counts):
    """End-to-end throughput against Presidio's analyzer alone; peak memory of 10x more documents. With
    --engine ray: throughput of 1-CPU Ray workers per worker count, beside the local engine."""
    from vault import bench as bench_mod

    log = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    if engine == "ray":
        try:
            counts = [int(n) for n in worker_counts.split(",")]
        except ValueError:
            _fail(f"--workers {worker_counts}: expected counts such as 1,2", as_json=as_json)
        click.echo(json.dumps(bench_mod.scaling(counts, dev_path=dev, policy=policy_path, log=log), indent=1))
        return
    result = bench_mod.pipeline(quick=quick, dev_path=dev, policy=policy_path, log=log)
    click.echo(json.dumps(result, indent=1))


@bench.command("startup")
@click.option("--repeats", type=click.IntRange(1), default=5, show_default=True, help="runs of each command (median and min)")
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def bench_startup(repeats, draft_dir, oracle_dir, as_json):
    """Whole-process wall times, a fresh interpreter each: vault --help, a usage error, a dry run, a rerun with
    nothing to do, and a real run of a one-line file; beside the target (< 1.5 s for the three that load no
    model). In a temporary folder with a temporary audit key."""
    from vault import bench as bench_mod

    extra = [*(["--draft", str(draft_dir)] if draft_dir else []), *(["--oracle", str(oracle_dir)] if oracle_dir else [])]
    result = bench_mod.startup(repeats, extra, log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(result, indent=1) if as_json else bench_mod.startup_table(result))


@bench.command("serve")
@click.option("--requests", "n_requests", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--clients", type=click.IntRange(1), default=16, show_default=True, help="concurrent clients")
@click.option("--policy", "policy_path", default="default", show_default=True)
@click.option("--max-batch", type=click.IntRange(1), default=32, show_default=True)
@click.option("--max-wait-ms", type=click.FloatRange(0), default=100.0, show_default=True)
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--data", "data_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="folder holding everyday.jsonl (default: the repository's data/)")
def bench_serve(n_requests, clients, policy_path, max_batch, max_wait_ms, draft_dir, oracle_dir, data_dir):
    """Everyday texts from concurrent clients against vault serve on 127.0.0.1, beside vault redact on the
    same texts: throughput, latency p50/p95/p99, batch sizes, errors, peak memory (JSON)."""
    from vault import bench as bench_mod

    extra = [*(["--draft", str(draft_dir)] if draft_dir else []), *(["--oracle", str(oracle_dir)] if oracle_dir else [])]
    result = bench_mod.serve(n_requests, clients, policy_path, data_dir, extra, max_batch, max_wait_ms,
                             log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(result, indent=1))


@bench.command("soak")
@click.option("--trials", type=click.IntRange(1), default=100, show_default=True)
@click.option("--documents", type=click.IntRange(1), default=12, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def bench_soak(trials, documents, seed, draft_dir, oracle_dir, as_json):
    """kill -9 `vault redact` at random moments, resume, check; prints trials/clean. Exit 1 unless all clean."""
    from vault.soak import soak

    extra = [*(["--draft", str(draft_dir)] if draft_dir else []), *(["--oracle", str(oracle_dir)] if oracle_dir else [])]
    result = soak(trials, documents, extra, seed, log=lambda m: click.echo(m, err=as_json))
    if as_json:
        click.echo(json.dumps(result, separators=(",", ":")))
    sys.exit(0 if result["clean"] == result["trials"] else 1)


if __name__ == "__main__":
    main()
