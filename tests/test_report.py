"""The HTML report of an audit run, parsed for its sections."""

from pathlib import Path

from test_audit import KEY, META, _Sections, doc_row, span
from vault.audit import AuditWriter
from vault.report import format_coverage, write_report


def parse_report(path):
    parser = _Sections()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def test_report_sections(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    w.add_document(doc_row("<script>alert(1)</script>.txt"), [
        span("<script>alert(1)</script>.txt", 0),
        span("<script>alert(1)</script>.txt", 1, entity_type="EMAIL_ADDRESS", detectors=["email"],
             action="kept", operator="", reason="oracle", oracle_checked=True),
        span("<script>alert(1)</script>.txt", 2, detectors=["us_ssn"], draft_proposed=False,
             reason="policy override: must-redact us_ssn", entity_type="US_SSN"),
    ])
    w.add_document(doc_row("bad.csv", status="failed", error="invalid CSV at line 2: x"), [])
    w.add_document(doc_row("held.txt", status="held", error="oracle and must-redact disagree"), [])
    w.close({"documents": 3})
    out = write_report(w.run_dir, tmp_path / "report.html", KEY)
    html_text = out.read_text()
    report = parse_report(out)
    assert report.ids == ["run", "coverage", "entities", "disagreements", "failures", "fingerprints", "verification"]
    assert "script" not in report.tags and "svg" in report.tags and "style" in report.tags
    assert "<script>alert" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html_text
    assert "100%" in report.text["coverage"]
    assert "2 spans where" in report.text["disagreements"]
    assert "policy override: must-redact us_ssn" in report.text["disagreements"]
    assert "bad.csv" in report.text["failures"] and "held.txt" in report.text["failures"]
    assert "p" * 64 in report.text["fingerprints"] and "o1" in report.text["fingerprints"]
    assert "Verified" in report.text["verification"]


def test_report_incomplete_and_partial_coverage(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    rows = [span("a.txt", i, oracle_checked=i != 0) for i in range(2000)]
    w.add_document(doc_row("a.txt"), rows)
    w.flush()  # no close: an interrupted run
    report = parse_report(write_report(w.run_dir, tmp_path / "r.html", KEY))
    assert "99.9%" in report.text["coverage"] and "100%" not in report.text["coverage"]
    assert "incomplete" in report.text["run"]
    # An interrupted run verifies up to its last signed checkpoint (vault.audit); the run section says
    # it is incomplete.
    assert "Verified" in report.text["verification"]


def test_format_coverage_never_rounds_up():
    assert format_coverage(0, 0) == "100%"
    assert format_coverage(5, 5) == "100%"
    assert format_coverage(99999, 100000) == "99.9%"
    assert format_coverage(1, 3) == "33.3%"
