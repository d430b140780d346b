"""The HTML report of an audit run: its sections, what counts as a conflict, the redacted context of a
span, escaping, reruns. The browser test of a real run is in test_report_browser.py."""

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

from test_audit import KEY, META, doc_row, span
from vault.audit import AuditWriter, iter_rows, keyed_hash
from vault.pipeline import RunOptions, run
from vault.policy import Policy
from vault.report import build_report, conflict_rule, format_coverage, write_report


class _Sections(HTMLParser):
    """Top-level sections by id, with their text; asserts that nothing is loaded from elsewhere."""

    def __init__(self):
        super().__init__()
        self.ids, self.tags, self.text, self._current = [], set(), {}, None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "section":
            self._current = attrs.get("id")
            self.ids.append(self._current)
            self.text[self._current] = ""
        assert "src" not in attrs and tag not in ("script", "link", "img", "iframe"), "no external resources"
        # Links stay in the page, or point to another run's report beside this one.
        assert "href" not in attrs or attrs["href"].startswith("#") or attrs["href"].endswith("/report.html")
        assert "://" not in (attrs.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "section":
            self._current = None

    def handle_data(self, data):
        if self._current:
            self.text[self._current] += data


def parse_report(path):
    parser = _Sections()
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return parser


def test_report_sections(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    w.add_document(doc_row("<script>alert(1)</script>.txt"), [
        span("<script>alert(1)</script>.txt", 0),
        span("<script>alert(1)</script>.txt", 1, entity_type="EMAIL_ADDRESS", detectors=["email"],
             action="kept", operator="", reason="below threshold", oracle_checked=True),
        span("<script>alert(1)</script>.txt", 2, detectors=["us_ssn"], draft_proposed=False,
             reason="policy override: must-redact us_ssn", entity_type="US_SSN"),
        span("<script>alert(1)</script>.txt", 3, action="kept", operator="", reason="not in policy",
             entity_type="DEMOGRAPHIC"),
    ])
    w.add_document(doc_row("bad.csv", status="failed", error="invalid CSV at line 2: x"), [])
    w.add_document(doc_row("held.txt", status="held", error="oracle and must-redact disagree"), [])
    w.close({"documents": 3})
    out = write_report(w.run_dir, tmp_path / "report.html", KEY)
    html_text = out.read_text()
    report = parse_report(out)
    assert report.ids == ["summary", "conflicts", "documents", "low-confidence", "failures", "fingerprints",
                          "verification"]
    assert 'id="run"' in html_text and 'id="coverage"' in html_text and 'id="entities"' in html_text
    assert "script" not in report.tags and "svg" in report.tags and "style" in report.tags
    assert "<script>alert" not in html_text and "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in html_text
    assert "100%" in report.text["summary"] and "4 of 4 sensitive spans" in " ".join(report.text["summary"].split())
    # Three conflicts: the below-threshold recognizer hit, the unknown override and the held document; the
    # model's own "not in policy" span is counted in the summary, not listed.
    assert "Conflicts (3)" in report.text["conflicts"]
    assert "policy override: must-redact us_ssn" in report.text["conflicts"]
    assert "DEMOGRAPHIC" not in report.text["conflicts"]
    assert "Not conflicts: 1 span the model kept" in " ".join(report.text["summary"].split())
    assert "bad.csv" in report.text["failures"] and "held.txt" in report.text["failures"]
    assert "p" * 64 in report.text["fingerprints"]
    assert "Verified" in report.text["verification"]
    # Every component is listed, recorded or not.
    for component in ("torch", "transformers", "presidio-analyzer", "spacy", "spacy-model", "pyarrow", "python"):
        assert f"<th>{component}</th>" in html_text


def test_report_incomplete_and_partial_coverage(tmp_path):
    w = AuditWriter(tmp_path, "run1", KEY, META)
    rows = [span("a.txt", i, oracle_checked=i != 0) for i in range(2000)]
    w.add_document(doc_row("a.txt"), rows)
    w.flush()  # no close: an interrupted run
    report = parse_report(write_report(w.run_dir, tmp_path / "r.html", KEY))
    assert "99.9%" in report.text["summary"] and "100%" not in report.text["summary"]
    assert "incomplete" in report.text["summary"].lower()
    # An interrupted run verifies up to its last signed checkpoint (vault.audit).
    assert "Verified" in report.text["verification"]


def test_the_run_card_shows_the_runs_wall_time_and_its_processing_seconds(tmp_path):
    """A run opens its audit late (at its first redacted document): the card shows the run's own
    measure of its wall time, never the audit's open-to-close."""
    w = AuditWriter(tmp_path, "run1", KEY, META, started_at="2026-01-01T00:00:00+00:00")
    w.add_document(doc_row("a.txt"), [span("a.txt", 0)])
    w.close({"documents": 1, "seconds": 48.93, "processing_seconds": 12.34})
    text = " ".join(parse_report(write_report(w.run_dir, tmp_path / "r.html", KEY)).text["summary"].split())  # <th><td>: no space
    assert "Started2026-01-01T00:00:00+00:00" in text
    assert "Duration (wall time)48.9 s" in text and "Processing12.3 s (" in text
    interrupted = AuditWriter(tmp_path / "other", "run2", KEY, META)
    interrupted.flush()
    text = " ".join(parse_report(write_report(interrupted.run_dir, tmp_path / "i.html", KEY)).text["summary"].split())
    assert "Duration (wall time)not finished" in text and "Processingnot recorded" in text


def test_no_documents_and_no_spans_never_read_as_100_percent(tmp_path):
    empty = AuditWriter(tmp_path, "empty", KEY, META)
    empty.close({})
    text = " ".join(parse_report(write_report(empty.run_dir, tmp_path / "e.html", KEY)).text["summary"].split())
    assert "no documents" in text and "100%" not in text
    quiet = AuditWriter(tmp_path, "quiet", KEY, META)
    quiet.add_document(doc_row("plain.txt"), [])
    quiet.close({})
    text = " ".join(parse_report(write_report(quiet.run_dir, tmp_path / "q.html", KEY)).text["summary"].split())
    assert "no spans" in text and "0 sensitive spans" in text and "100%" not in text


def test_format_coverage_never_rounds_up():
    assert format_coverage(0, 0) == "no spans"
    assert format_coverage(5, 5) == "100%"
    assert format_coverage(99999, 100000) == "99.9%"
    assert format_coverage(1, 3) == "33.3%"


def test_only_real_disagreements_are_conflicts():
    def rule(**kw):
        return conflict_rule({"action": "redacted", "reason": "oracle", "detectors": ["oracle"], **kw})

    assert rule() is None
    assert rule(detectors=["oracle", "EmailRecognizer"]) is None  # both agreed
    assert rule(reason="recognizer", detectors=["EmailRecognizer"]) == "recognizer"
    assert rule(reason="type mass") == "type mass" and rule(reason="consistency") == "consistency"
    assert rule(action="kept", reason="not in policy") is None  # the model's own kept span
    assert rule(action="kept", reason="not in policy", detectors=["oracle", "PhoneRecognizer"]) == "oracle kept a recognizer's hit"
    assert rule(action="kept", reason="below threshold", detectors=["PhoneRecognizer"]) == "below threshold"
    assert rule(action="kept", reason="allow list", detectors=["oracle"]) is None
    assert rule(action="kept", reason="allow list", detectors=["EmailRecognizer"]) == "allow list"


SOURCE = "Call Anna Berg at 555-0100 or mail anna@berg.example today."
OUTPUT = "Call <PERSON> at 555-0100 or mail <EMAIL_ADDRESS> today."


def _context_run(tmp_path, output: str, run_id="run1"):
    """A run over one text whose output lies in tmp_path/out: a redacted name, a phone number a recognizer
    proposed below its threshold (kept), and an e-mail address only a recognizer found."""
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "out" / "note.txt").write_text(output)
    sha = hashlib.sha256(output.encode()).hexdigest()
    w = AuditWriter(tmp_path / "audit", run_id, KEY, {**META, "output_dir": str(tmp_path / "out")})

    def at(value, **kw):
        start = SOURCE.index(value)
        return span("note.txt", 0, start=start, end=start + len(value), value_hmac=keyed_hash(KEY, value), **kw)

    w.add_document(doc_row("note.txt", output_sha256=sha), [
        at("Anna Berg"),
        at("555-0100", entity_type="PHONE_NUMBER", detectors=["PhoneRecognizer"], detector_scores=[0.3],
           action="kept", operator="", reason="below threshold"),
        at("anna@berg.example", entity_type="EMAIL_ADDRESS", detectors=["EmailRecognizer"], reason="recognizer"),
    ])
    w.close({})
    return w.run_dir


def test_conflicts_show_the_redacted_output_around_them_never_a_raw_value(tmp_path):
    run_dir = _context_run(tmp_path, OUTPUT)
    html_text = write_report(run_dir, tmp_path / "r.html", KEY).read_text()
    conflicts = " ".join(parse_report(tmp_path / "r.html").text["conflicts"].split())
    assert "Call &lt;PERSON&gt; at [kept] or mail <mark>&lt;EMAIL_ADDRESS&gt;</mark> today." in html_text
    assert "at <mark class=\"kept\">[kept]</mark> or mail" in html_text
    assert "recognizer" in conflicts and "below threshold" in conflicts
    for value in ("Anna", "Berg", "555-0100", "anna@berg.example"):
        assert value not in html_text


def test_no_context_when_the_output_changed(tmp_path):
    run_dir = _context_run(tmp_path, OUTPUT)
    (tmp_path / "out" / "note.txt").write_text(OUTPUT.replace("today", "tonight"))
    conflicts = " ".join(parse_report(write_report(run_dir, tmp_path / "r.html", KEY)).text["conflicts"].split())
    assert "No context: the output file has changed since this run." in conflicts
    assert "tonight" not in conflicts


def test_file_names_with_control_characters_are_shown_escaped(tmp_path):
    name = "evil\x1b[2J\u202etxt.exe"
    w = AuditWriter(tmp_path, "run1", KEY, META)
    w.add_document(doc_row(name, status="failed", error="binary content"), [])
    w.close({})
    html_text = write_report(w.run_dir, tmp_path / "r.html", KEY).read_text()
    assert "\x1b" not in html_text and "\u202e" not in html_text
    assert "evil\\x1b[2J\\u202etxt.exe" in html_text


def test_a_rerun_links_the_run_that_wrote_its_unchanged_outputs(tmp_path):
    first = _context_run(tmp_path, OUTPUT, run_id="20260101T000000000000Z-aaaaaa")
    sha = hashlib.sha256(OUTPUT.encode()).hexdigest()
    w = AuditWriter(tmp_path / "audit", "20260102T000000000000Z-bbbbbb", KEY, META)
    w.add_document(doc_row("note.txt", status="unchanged", output_sha256=sha), [])
    w.close({})
    report = parse_report(write_report(w.run_dir, w.run_dir / "report.html", KEY))
    documents = " ".join(report.text["documents"].split())
    assert f"output written by run {first.name}" in documents
    assert f'href="../{first.name}/report.html"' in (w.run_dir / "report.html").read_text()
    assert "no spans" in report.text["summary"] and "100%" not in report.text["summary"]


# Planted in every format and in a file name; the silent oracle tags nothing, so each is redacted by a
# recognizer: a conflict. The e-mail gets a pseudonym and the phone is encrypted, replacements whose length
# nothing but the recorded output offsets tells.
PLANTED = {"email": "mia.berg@example.com", "phone": "+44 20 7946 0958", "card": "4111 1111 1111 1111",
           "ip": "10.20.30.40"}
EVERY_FORMAT = {
    "note.txt": f"Mail {PLANTED['email']} or call {PLANTED['phone']}.\nCard {PLANTED['card']} on file.\n",
    "visits/visit.md": f"# Visit\n\nFrom {PLANTED['ip']}, call {PLANTED['phone']} or mail {PLANTED['email']}.\n",
    "people.csv": f"name,email,phone\nMia,{PLANTED['email']},{PLANTED['phone']}\n",
    "profile.json": json.dumps({"contact": {"email": PLANTED["email"], "note": f"call {PLANTED['phone']} today"},
                                "by_mail": {PLANTED["email"]: {"card": PLANTED["card"]}}}, indent=2),
    "chat.jsonl": json.dumps({"message": f"card {PLANTED['card']} from {PLANTED['ip']}"}) + "\n",
    f"mail {PLANTED['email']}.txt": "hello\n",
    f"noteFrom {PLANTED['ip']}.txt": "hello\n",  # read as "note From ...": the name's offsets are not the reading's
}


def test_every_conflict_of_a_run_shows_its_context_in_every_format(tmp_path, silent_pair, monkeypatch):
    for rel, text in EVERY_FORMAT.items():
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_text(text, encoding="utf-8")
    policy = Policy.model_validate({"name": "t", "defaults": {"threshold": 0.3}, "entities": {
        "EMAIL_ADDRESS": {"operator": "pseudonym"}, "PHONE_NUMBER": {"operator": "encrypt"}, "CREDIT_CARD": {},
        "IP_ADDRESS": {"operator": "mask", "mask_char": "#"}}})
    monkeypatch.setenv("VAULT_AUDIT_KEY", KEY.hex())
    summary = run(RunOptions(tmp_path / "in", tmp_path / "out", policy, tmp_path / "audit"), pair=silent_pair)
    run_dir = Path(summary.audit_run)
    report = build_report(run_dir, KEY, tmp_path / "r.html", output_dir=tmp_path / "out")
    conflicts = report["conflicts"]
    assert {Path(c["doc"]).suffix for c in conflicts} == {".txt", ".md", ".csv", ".json", ".jsonl"}
    assert any(c["where"].startswith("path component") for c in conflicts)
    assert any(c["where"].startswith("$.by_mail[#1]~") for c in conflicts)  # a JSON key
    assert len(conflicts) == sum(1 for s in iter_rows(run_dir, "spans") if conflict_rule(s))
    for c in conflicts:
        assert c["context"] is not None, (c["doc"], c["where"], c["why_no_context"])
        # The marked span is the replacement the output holds, with the output on either side of it.
        shown = c["context"].before.lstrip("…") + c["context"].span + c["context"].after.rstrip("…")
        output = c["doc"] if c["where"].startswith("path component") else (tmp_path / "out" / c["doc"]).read_text()
        assert " ".join(shown.split()) in " ".join(output.split()), c
        mark = c["context"].span
        assert {"CREDIT_CARD": mark == "<CREDIT_CARD>", "IP_ADDRESS": set(mark) == {"#"}}.get(c["type"], True), c
        assert not any(value in c["context"].span for value in PLANTED.values())
    page = write_report(run_dir, tmp_path / "r.html", KEY, output_dir=tmp_path / "out").read_text()
    for value in PLANTED.values():
        assert value not in page
