"""The report of a real run (the tiny model pair of conftest) as a reviewer sees it: rendered by headless
Chromium (Debian's chromium, installed by .ci/run), at the narrowest and widest screens the layout is
for. Chromium is driven by its own command line: --dump-dom after a measuring script ran in a copy of
the page, and --screenshot, whose pixels are read back in a canvas by a second page. Then the report of
`vault redact data/samples` with the shipped pair, under the default and the strict policy, whose every
conflict must show its context; VAULT_REPORT_PNG=docs/report.png makes that test write the README's picture.
"""

import base64
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from vault.audit import iter_rows
from vault.pipeline import RunOptions, run
from vault.policy import load_policy
from vault.report import conflict_rule, write_report

CHROMIUM = shutil.which("chromium")
# CI installs chromium, so there a missing browser fails the test instead of skipping it.
pytestmark = pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed (.ci/run installs it)")

POLICY = r"""
name: browser-test
defaults: {operator: tag, threshold: 0.5}
entities: {PERSON: {}, EMAIL_ADDRESS: {}, PHONE_NUMBER: {threshold: 0.4}, US_SSN: {}, CREDIT_CARD: {},
           IBAN_CODE: {}, IP_ADDRESS: {}, ID: {}, LOCATION: {}}
recognizers:
  - name: Ticket numbers
    supported_entity: ID
    patterns: [{name: ticket, regex: "TCK-\\d{5}", score: 0.2}]
must_redact: [US_SSN]
on_disagreement: hold
"""

DOCUMENTS = {
    "letters/complaint.txt": "Dear Ms Vandermolen,\n\nyour ticket TCK-48213 was closed. Write to anna.kowalski@example.org "
                             "or call +1 415 555 0134 about TCK-48214.\n\nRegards,\nSupport\n",
    "letters/very/deeply/nested/folder/with/a/long/name/that/must/wrap/in/the/table/renewal-notice-2024.txt":
        "Renewal for card 4111 1111 1111 1111; server 192.168.14.27 logged TCK-00017.\n",
    "hr/ssn.txt": "Employee SSN 536-22-8410 on file, ticket TCK-11111.\n",
    "crm/people.csv": "name,email,notes\nTobias Grünewald,t.gruenewald@example.net,TCK-22222 open\n"
                      "Maeve O'Sullivan,maeve@example.com,call +1 415 555 0199\n",
    "empty.txt": "",
}

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]

# Measures the rendered page and writes the result into the DOM, for --dump-dom to carry out.
MEASURE = """<script>
(() => {
  const vw = document.documentElement.clientWidth;
  const outside = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect(); return r.width && (r.right > vw + 0.5 || r.left < -0.5); });
  const clipped = [...document.querySelectorAll('td, th')].filter(e => e.scrollWidth > e.clientWidth + 1);
  const box = id => document.getElementById(id).getBoundingClientRect();
  const text = sel => document.querySelector(sel).innerText.replace(/\\s+/g, ' ').trim();
  const pre = document.createElement('pre'); pre.id = 'measure';
  pre.textContent = JSON.stringify({
    viewport: vw, height: window.innerHeight, scroll_width: document.documentElement.scrollWidth,
    outside: outside.slice(0, 10).map(e => e.tagName + '#' + e.id + '.' + e.className.baseVal + e.className),
    clipped: clipped.slice(0, 10).map(e => e.innerText.slice(0, 40)),
    summary_bottom: box('summary').bottom,
    documents: text('#documents-summary .big'), coverage: text('#coverage'),
    conflicts: text('#conflicts-summary .big'), conflict_rows: document.querySelectorAll('#conflicts tbody tr').length,
    document_rows: document.querySelectorAll('#documents tbody tr').length,
    versions: text('#versions'), policy: text('#policy'), badge: text('header .badge'),
  });
  document.body.appendChild(pre);
})();
</script>"""

# Reads a screenshot's pixels: how much of it is not page background, and how many pixels of the colours
# only the summary's charts use.
PIXELS = """<!DOCTYPE html><html><body><img id="shot" src="data:image/png;base64,%s"><script>
window.addEventListener('load', () => {
  const img = document.getElementById('shot'), c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data, near = (i, rgb) => rgb.every((v, k) => Math.abs(d[i + k] - v) < 6);
  let ink = 0, status = 0, redacted = 0, dark_top = 0;
  for (let i = 0; i < d.length; i += 4) {
    const p = i / 4, y = Math.floor(p / c.width);
    if (!near(i, [245, 247, 250]) && !near(i, [255, 255, 255])) ink++;
    if (near(i, [47, 111, 79])) status++;
    if (near(i, [31, 78, 121])) redacted++;
    if (y < 60 && d[i] < 80 && d[i + 1] < 80 && d[i + 2] < 80) dark_top++;
  }
  const pre = document.createElement('pre'); pre.id = 'pixels';
  pre.textContent = JSON.stringify({width: c.width, height: c.height, ink: ink / (c.width * c.height), status, redacted, dark_top});
  document.body.appendChild(pre);
});
</script></body></html>"""


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh one each time
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dumped(tmp_path: Path, page: Path, width: int, height: int, element: str) -> dict:
    dom = chromium(tmp_path, f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom",
                   page.as_uri())
    found = re.search(rf'<pre id="{element}">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, tiny_pair_dirs):
    root = tmp_path_factory.mktemp("browser")
    for rel, text in DOCUMENTS.items():
        (root / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "in" / rel).write_text(text, encoding="utf-8")
    (root / "policy.yaml").write_text(POLICY)
    key = bytes(range(32))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VAULT_AUDIT_KEY", key.hex())
        summary = run(RunOptions(root / "in", root / "out", load_policy(root / "policy.yaml"), root / "audit",
                                 tiny_pair_dirs["draft"], tiny_pair_dirs["oracle"]))
    run_dir = Path(summary.audit_run)
    report = write_report(run_dir, root / "report.html", key, output_dir=root / "out")
    return root, run_dir, report


def test_the_report_of_a_real_run_fits_the_screen_and_shows_its_numbers(real_run, tmp_path):
    root, run_dir, report = real_run
    docs, spans = list(iter_rows(run_dir, "documents")), list(iter_rows(run_dir, "spans"))
    statuses = Counter(d["status"] for d in docs)
    expected_conflicts = sum(1 for s in spans if conflict_rule(s)) + statuses["held"]
    assert len(docs) == len(DOCUMENTS) and spans and expected_conflicts > 0
    page = tmp_path / "measured.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    for width in (1280, 1920):
        m = dumped(tmp_path, page, width, 1080, "measure")
        assert m["viewport"] == width
        # Nothing wider than the screen, and no cell whose content is cut off.
        assert m["scroll_width"] <= width and not m["outside"] and not m["clipped"], m
        # The summary fits the first screen and shows the run's own numbers.
        assert m["summary_bottom"] <= m["height"], m
        assert m["documents"] == str(len(docs))
        checked = sum(1 for s in spans if s["oracle_checked"])
        assert f"{checked} of {len(spans)} sensitive spans were checked" in m["coverage"]
        assert m["conflicts"] == str(expected_conflicts) and m["conflict_rows"] == expected_conflicts
        assert m["document_rows"] == len(docs)
        assert "presidio-analyzer" in m["versions"] and "browser-test" in m["policy"]
        assert "Verified" in m["badge"]


def test_the_screenshot_shows_the_summary_and_its_charts(real_run, tmp_path):
    _, _, report = real_run
    shot = tmp_path / "report.png"
    chromium(tmp_path, "--window-size=1280,1080", f"--screenshot={shot}", report.as_uri())
    page = tmp_path / "pixels.html"
    page.write_text(PIXELS % base64.b64encode(shot.read_bytes()).decode(), encoding="utf-8")
    p = dumped(tmp_path, page, 400, 300, "pixels")
    assert (p["width"], p["height"]) == (1280, 1080)
    assert p["ink"] > 0.05  # cards, tables and text, not a blank page
    assert p["status"] > 50 and p["redacted"] > 50  # the status bar and the spans-by-type bars
    assert p["dark_top"] > 200  # the title


SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"

# Each conflict row as drawn: its document, the redacted output shown around it (null where none is) and its
# marked span, with the mark's drawn width.
CONFLICT_ROWS = """<script>
(() => {
  const rows = [...document.querySelectorAll('#conflicts tbody tr')].map(tr => {
    const ctx = tr.querySelector('.ctx'), mark = ctx && ctx.querySelector('mark');
    return {doc: tr.querySelector('.path').innerText, rule: tr.cells[1].innerText, context: ctx && ctx.innerText,
            mark: mark && mark.innerText, mark_width: mark ? mark.getBoundingClientRect().width : 0};
  });
  const pre = document.createElement('pre'); pre.id = 'rows'; pre.textContent = JSON.stringify(rows);
  document.body.appendChild(pre);
})();
</script>"""


@pytest.fixture(scope="module", params=["default", "strict"])
def samples_report(request, tmp_path_factory):
    """`vault redact data/samples` with the shipped pair under a shipped policy, and its report."""
    root = tmp_path_factory.mktemp(f"samples-{request.param}")
    key = bytes(range(32))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VAULT_AUDIT_KEY", key.hex())
        summary = run(RunOptions(SAMPLES, root / "out", load_policy(request.param), root / "audit"))
    run_dir = Path(summary.audit_run)
    return request.param, run_dir, write_report(run_dir, root / "report.html", key, output_dir=root / "out")


def test_every_conflict_in_the_report_of_the_samples_shows_its_context(samples_report, tmp_path):
    policy, run_dir, report = samples_report
    page = tmp_path / "rows.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", CONFLICT_ROWS + "</body>"), encoding="utf-8")
    rows = dumped(tmp_path, page, 1280, 1080, "rows")
    docs, spans = list(iter_rows(run_dir, "documents")), list(iter_rows(run_dir, "spans"))
    held = [d for d in docs if d["status"] == "held"]
    assert len(rows) == sum(1 for s in spans if conflict_rule(s)) + len(held) > 0
    # A held document was not written: nothing to show. Every other conflict shows the output around its
    # span, the span marked and drawn (an empty replacement draws nothing).
    shown = [r for r in rows if r["rule"] != "held"]
    assert [r for r in shown if r["context"] is None or r["mark"] is None] == [], policy
    assert all(r["mark_width"] > 0 for r in shown if r["mark"])
    # Text and Markdown files hold most of the samples' conflicts (before issue 20 none of them had context).
    assert {".txt", ".md"} <= {Path(r["doc"]).suffix for r in shown}
    if policy == "default" and os.environ.get("VAULT_REPORT_PNG"):
        chromium(tmp_path, "--window-size=1280,1500", f"--screenshot={os.path.abspath(os.environ['VAULT_REPORT_PNG'])}",
                 report.as_uri())
