"""The `vault` command: thin; it parses, calls the modules and prints. Exit codes: 0 done, 1 some
documents failed or were held, 2 usage or configuration error."""

import json
import os
import sys
from pathlib import Path

import click

from vault import __version__
from vault.evaluate import TAB_DEV

# A gold file that was named (or defaulted to) must exist: a missing one is a usage error, never skipped.
_GOLD = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail(message: str, code: int = 2):
    click.echo(f"vault: {message}", err=True)
    sys.exit(code)


def _policy(path_or_name: str):
    from vault.policy import PolicyError, load_policy

    try:
        return load_policy(path_or_name)
    except PolicyError as exc:
        _fail(str(exc))


@click.group()
@click.version_option(__version__, prog_name="vault")
def main():
    """vault: privacy redaction for document collections, built on speculative decoding."""


@main.command()
@click.argument("input_dir", type=click.Path(path_type=Path))
@click.argument("output_dir", type=click.Path(path_type=Path))
@click.option("--policy", "policy_path", default="default", show_default=True, help="policy file, or a shipped policy's name")
@click.option("--audit-dir", type=click.Path(path_type=Path), default=Path("audit"), show_default=True)
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path), help="draft model directory (default: the shipped one)")
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path), help="oracle model directory (default: the shipped one)")
@click.option("--batch-size", type=click.IntRange(1, 256), default=8, show_default=True, help="chunks decoded together")
@click.option("--force", is_flag=True, help="redo documents that are unchanged since the last run")
@click.option("--dry-run", is_flag=True, help="say what would be done; run no model, write nothing")
@click.option("--consistent-pseudonyms", is_flag=True, help="one pseudonym per value across the whole run")
@click.option("--max-bytes", type=click.IntRange(1), default=20_000_000, show_default=True,
              help="larger files fail with a clear reason")
@click.option("--quiet", is_flag=True, help="no progress bar, only the summary line")
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def redact(input_dir, output_dir, policy_path, audit_dir, draft_dir, oracle_dir, batch_size, force, dry_run,
           consistent_pseudonyms, max_bytes, quiet, as_json):
    """Redact every supported file under INPUT_DIR into OUTPUT_DIR (same tree)."""
    from vault.pipeline import RunOptions, UsageError, run

    if draft_dir is None and os.environ.get("VAULT_DRAFT"):
        draft_dir = Path(os.environ["VAULT_DRAFT"])
    if oracle_dir is None and os.environ.get("VAULT_ORACLE"):
        oracle_dir = Path(os.environ["VAULT_ORACLE"])
    opts = RunOptions(
        input_dir=input_dir, output_dir=output_dir, policy=_policy(policy_path), audit_dir=audit_dir,
        draft_dir=draft_dir, oracle_dir=oracle_dir, batch_size=batch_size, force=force, dry_run=dry_run,
        consistent_pseudonyms=consistent_pseudonyms, max_bytes=max_bytes, progress=not quiet and not as_json and sys.stderr.isatty(),
    )
    try:
        summary = run(opts)
    except UsageError as exc:
        _fail(str(exc))
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=1))
    else:
        if not quiet:
            for problem in summary.problems:
                click.echo(f"  {problem}", err=True)
        click.echo(("dry run: " if dry_run else "") + summary.line())
    sys.exit(summary.exit_code)


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
    """Verify an audit run and render its report."""


@audit.command("verify")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def audit_verify(run_dir):
    """Exit 0 if the run's audit is intact; otherwise name the first bad row."""
    from vault.audit import load_audit_key, verify_run

    result = verify_run(run_dir, load_audit_key(run_dir.parent))
    if result.ok:
        click.echo(f"{run_dir}: intact")
        return
    for problem in result.problems:
        click.echo(f"{run_dir}: {problem}", err=True)
    sys.exit(1)


@audit.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="HTML file (default: RUN_DIR/report.html)")
def audit_report(run_dir, out):
    """Render a self-contained HTML report for compliance review."""
    from vault.audit import load_audit_key
    from vault.report import write_report

    path = write_report(run_dir, out or run_dir / "report.html", load_audit_key(run_dir.parent))
    click.echo(str(path))


@main.command("eval")
@click.argument("gold", type=_GOLD, required=False, default=TAB_DEV)
@click.option("--policy", "policy_path", default="strict", show_default=True)
@click.option("--baseline", type=click.Choice(["presidio"]), help="also measure a baseline on the same documents")
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--limit", type=int, help="only the first N documents")
@click.option("--json", "as_json", is_flag=True)
def eval_command(gold, policy_path, baseline, draft_dir, oracle_dir, limit, as_json):
    """Leak, recall, precision and F1 of vault (and a baseline) on GOLD.jsonl (default: the TAB dev set in data/)."""
    from vault import evaluate
    from vault.models import ModelError, load_pair
    from vault.pipeline import Redactor

    try:
        docs = evaluate.read_gold(gold)[:limit]
        draft, oracle = load_pair(draft_dir, oracle_dir)
    except (ValueError, ModelError) as exc:
        _fail(str(exc))
    redactor = Redactor(draft, oracle, _policy(policy_path), key=b"evaluation")
    results = {"vault": evaluate.evaluate_vault(docs, redactor)}
    if baseline == "presidio":
        results["presidio"] = evaluate.evaluate_presidio(docs)
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
@click.option("--quick", is_flag=True, help="a few chunks: under a minute")
@click.option("--json", "as_json", is_flag=True)
@click.option("--draft", "draft_dir", type=click.Path(path_type=Path))
@click.option("--oracle", "oracle_dir", type=click.Path(path_type=Path))
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--dev", type=_GOLD, default=TAB_DEV, show_default=True, help="gold JSONL of real documents")
def bench_speculative(quick, as_json, draft_dir, oracle_dir, batch_size, dev):
    """Every decoding mode on the same chunks: wall time, tokens/s, oracle passes per token, acceptance."""
    from vault import bench as bench_mod
    from vault.detect import build_analyzer
    from vault.models import load_pair
    from vault.policy import load_policy

    draft, oracle = load_pair(draft_dir, oracle_dir)
    log = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    result = bench_mod.speculative(draft, oracle, quick=quick, batch_size=batch_size,
                                   dev_path=dev,
                                   detector=build_analyzer(load_policy("strict")), log=log)
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(bench_mod.table(result))


@bench.command("pipeline")
@click.option("--quick", is_flag=True, help="4 documents; 100 against 1,000 for memory")
@click.option("--json", "as_json", is_flag=True)
@click.option("--policy", "policy_path", default="default", show_default=True)
@click.option("--dev", type=_GOLD, default=TAB_DEV, show_default=True, help="gold JSONL of real documents")
def bench_pipeline(quick, as_json, policy_path, dev):
    """End-to-end throughput against Presidio's analyzer alone; peak memory of 10x more documents."""
    from vault import bench as bench_mod

    log = (lambda m: click.echo(m, err=True)) if as_json else click.echo
    result = bench_mod.pipeline(quick=quick, dev_path=dev, policy=policy_path, log=log)
    click.echo(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
