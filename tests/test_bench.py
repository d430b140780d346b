from pathlib import Path

import pytest

from vault.bench import speculative, table
from vault.models import load_pair


def test_every_mode_matches_the_reference_on_the_same_chunks(tiny_pair_dirs):
    """Hugging Face greedy, assisted and prompt-lookup generation under the grammar, and every vault
    drafter, must give the oracle's greedy output on every chunk."""
    draft, oracle = load_pair(tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"])
    lines = []
    result = speculative(draft, oracle, quick=True, batch_size=4, dev_path=None, log=lines.append)
    assert result["identical"] is True
    modes = {(m["mode"], m["batch"]) for m in result["modes"]}
    assert {("hf-greedy", 1), ("hf-assisted", 1), ("hf-prompt-lookup", 1), ("vault-default", 4), ("vault-copy", 1)} <= modes
    greedy = next(m for m in result["modes"] if m["mode"] == "hf-greedy")
    assert greedy["oracle_passes_per_token"] >= 1.0  # one pass per token: the counter counts what it should
    for key in ("speedup_vs_oracle", "speedup_vs_hf_assisted", "speedup_vs_hf_prompt_lookup", "oracle_passes_per_token",
                "accept_rate", "chunks"):
        assert key in result
    assert "identical" in table(result)


def test_the_tab_dev_set_ships_in_the_repository_and_a_missing_gold_file_is_an_error(tmp_path):
    from click.testing import CliRunner

    from vault.bench import pipeline
    from vault.cli import main
    from vault.evaluate import TAB_DEV, read_gold

    assert TAB_DEV.is_relative_to(Path(__file__).resolve().parents[1]) and len(read_gold(TAB_DEV)) == 21
    with pytest.raises(FileNotFoundError, match="not found"):
        pipeline(quick=True, dev_path=tmp_path / "missing.jsonl", log=lambda m: None)
    for args in (["eval", str(tmp_path / "missing.jsonl")], ["bench", "pipeline", "--dev", str(tmp_path / "missing.jsonl")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "does not exist" in result.output


def test_startup_bench_reports_every_figure(tiny_pair_dirs):
    """`vault bench startup --repeats 1 --json` runs each command once and reports every figure (no timing
    asserted: that is the bench's to measure)."""
    import json

    from click.testing import CliRunner

    from vault.bench import STARTUP_FIGURES
    from vault.cli import main

    result = CliRunner().invoke(main, ["bench", "startup", "--repeats", "1", "--json", "--draft",
                                       str(tiny_pair_dirs["draft"]), "--oracle", str(tiny_pair_dirs["oracle"])])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["repeats"] == 1 and isinstance(report["cpus"], int)
    assert isinstance(report["load_average_before"], float) and isinstance(report["load_average_after"], float)
    assert list(report["figures"]) == list(STARTUP_FIGURES) == ["help", "usage_error", "dry_run", "nothing_to_do", "real_run"]
    for name, figure in report["figures"].items():
        assert isinstance(figure["command"], str) and figure["command"].startswith("vault ")
        assert isinstance(figure["median_seconds"], float) and 0 < figure["min_seconds"] <= figure["median_seconds"]
        if name in ("usage_error", "dry_run", "nothing_to_do"):
            assert figure["target_seconds"] == 1.5 and isinstance(figure["met"], bool)
        else:
            assert figure["target_seconds"] is None and figure["met"] is None
    real = report["figures"]["real_run"]
    for key in ("median_run_seconds", "median_processing_seconds", "median_outside_processing_seconds"):
        assert isinstance(real[key], float) and 0 <= real[key] <= real["median_seconds"]


def test_every_quick_bench_says_it_finishes_in_under_a_minute():
    from click.testing import CliRunner

    from vault.cli import bench, main

    quick = [name for name, command in bench.commands.items() if any(p.name == "quick" for p in command.params)]
    assert {"speculative", "pipeline"} <= set(quick)
    for name in quick:
        help_text = " ".join(CliRunner().invoke(main, ["bench", name, "--help"]).output.split())
        assert "under a minute on an idle machine" in help_text, name
