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
