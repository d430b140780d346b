"""The README's audit queries run as written, against a real run's audit (DuckDB and pandas)."""

import re
from pathlib import Path

import pytest

from test_audit import KEY as AUDIT_KEY, META, doc_row, span
from test_reliability import POLICY, letter
from vault.audit import AuditWriter
from vault.keys import resolve_key
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
    assert conflicts and all(n > 0 for _, _, n in conflicts)  # the silent oracle: every redaction is the recognizers'
    assert [(r[2], r[3].split(":")[0]) for r in failures] == [("read", "invalid JSON")]


def _conflict_counts(audit_dir: Path, key: bytes) -> tuple[dict, dict]:
    """Conflicts per run as the README's query counts them, and as each run's report does."""
    import duckdb

    from vault.report import build_report

    rows = duckdb.sql(blocks("sql")[1]).fetchall()
    readme = {run: sum(n for r, _, n in rows if r == run) for run, _, _ in rows}
    report = {run.name: build_report(run, key, run / "report.html")["conflicts_total"]
              for run in sorted(p for p in audit_dir.iterdir() if p.is_dir())}
    return readme, {run: n for run, n in report.items() if n}


def test_the_readme_counts_the_conflicts_the_report_counts(audited, tmp_path, monkeypatch):
    """The README's conflict query and the report agree, on a real run and on an audit that holds every
    rule a span can be decided by (hint mass, the rule the query once left out, included) and a held
    document."""
    pytest.importorskip("duckdb")
    monkeypatch.chdir(audited)
    readme, report = _conflict_counts(audited / "audit", resolve_key(audited / "audit").key)
    assert readme == report and sum(report.values()) > 0
    w = AuditWriter(tmp_path / "audit", "run1", AUDIT_KEY, META)
    recognizer = {"detectors": ["email"], "detector_scores": [0.9], "detector_score": 0.9}
    both = {"detectors": ["oracle", "email"], "detector_scores": [0.8, 0.9], "detector_score": 0.9}
    kinds = [{}, {"reason": "recognizer", **recognizer}, {"reason": "type mass"}, {"reason": "hint mass"},
             {"reason": "consistency"}, {"action": "kept", "reason": "below threshold", **recognizer},
             {"action": "kept", "reason": "below threshold"}, {"action": "kept", "reason": "allow list", **recognizer},
             {"action": "kept", "reason": "not in policy"}, {"action": "kept", "reason": "not in policy", **both},
             {"action": "kept", "reason": "not in policy", **recognizer}]
    w.add_document(doc_row("a.txt"), [span("a.txt", i, **kind) for i, kind in enumerate(kinds)])
    w.add_document(doc_row("held.txt", status="held", error="must-redact and the oracle disagree"),
                   [span("held.txt", 0, reason="recognizer", **recognizer)])
    w.add_document(doc_row("plain.txt"), [span("plain.txt", 0)])
    w.close({})
    monkeypatch.chdir(tmp_path)
    readme, report = _conflict_counts(tmp_path / "audit", AUDIT_KEY)
    assert readme == report == {"run1": 9}  # a.txt: 7 of its 11 spans; held.txt: its span and the hold


def test_pandas_example_runs_as_written(audited, monkeypatch, capsys):
    pytest.importorskip("pandas")
    monkeypatch.chdir(audited)
    (code,) = blocks("python")
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "EMAIL_ADDRESS" in printed and "invalid JSON" in printed
