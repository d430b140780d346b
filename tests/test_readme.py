"""The README's audit queries run as written, against a real run's audit (DuckDB and pandas)."""

import re
from pathlib import Path

import pytest

from test_reliability import POLICY, letter
from vault.pipeline import RunOptions, run

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
SECTION = README[README.index("### Querying the audit"):]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, flags=re.S)


@pytest.fixture(scope="module")
def audited(tmp_path_factory, silent_pair):
    root = tmp_path_factory.mktemp("readme")
    for i in range(4):
        (root / "in" / f"d{i % 2}").mkdir(parents=True, exist_ok=True)
        (root / "in" / f"d{i % 2}" / f"letter{i}.txt").write_text(letter(i))
    (root / "in" / "people.csv").write_text("name,email\nMarlene Vandersloot,mia.berg@example.com\n")
    (root / "in" / "broken.json").write_text("{")
    summary = run(RunOptions(root / "in", root / "out", POLICY, root / "audit"), pair=silent_pair)
    assert summary.counts["redacted"] == 5
    return root


def test_duckdb_queries_run_as_written(audited, monkeypatch):
    duckdb = pytest.importorskip("duckdb")
    monkeypatch.chdir(audited)
    queries = blocks("sql")
    assert len(queries) == 3
    by_type, conflicts, failures = (duckdb.sql(q).fetchall() for q in queries)
    assert any(r[0] == "EMAIL_ADDRESS" and r[1] == "redacted" and r[2] > 0 for r in by_type)
    assert conflicts and all(n > 0 for _, n in conflicts)  # the silent oracle: every redaction is the recognizers'
    assert [(r[2], r[3].split(":")[0]) for r in failures] == [("read", "invalid JSON")]


def test_pandas_example_runs_as_written(audited, monkeypatch, capsys):
    pytest.importorskip("pandas")
    monkeypatch.chdir(audited)
    (code,) = blocks("python")
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "EMAIL_ADDRESS" in printed and "invalid JSON" in printed
