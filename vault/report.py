"""The compliance report of an audit run: one self-contained HTML page (inline CSS and SVG, no scripts,
no external assets), with run facts, coverage, counts per entity type and action, disagreements between
the oracle and the recognizers, failed or held documents, fingerprints and the verification result.
Every value is escaped; the audit holds no raw span text to begin with."""

from __future__ import annotations

import html
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

from vault.audit import DOCUMENT_STATUSES, MANIFEST, RUN_INFO, VerifyResult, _load_json, _read_rows, verify_run
from vault.documents import write_atomic


def format_coverage(checked: int, total: int) -> str:
    """"100%" only when every sensitive span was checked; never rounds up to 100."""
    if checked >= total:
        return "100%"
    return f"{math.floor(1000 * checked / total) / 10:.1f}%"


_MAX_TABLE_ROWS = 1000  # keeps the report readable on huge runs; the Parquet has the rest

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;color:#1d1d1f;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f6}code{font-size:.8rem;word-break:break-all}.ok{color:#176b2c;font-weight:600}.bad{color:#a4161a;font-weight:600}
.big{font-size:2rem;font-weight:700}.muted{color:#666}
"""


def write_report(run_dir: str | os.PathLike, out_html: str | os.PathLike, key: bytes) -> Path:
    """One self-contained HTML file for compliance review of a run: inline CSS and SVG, no
    scripts, no external assets, every value escaped. The audit holds no span text, so
    neither does the report."""
    run_dir = Path(run_dir)
    manifest = _load_json(run_dir / MANIFEST)
    info = manifest or _load_json(run_dir / RUN_INFO) or {}
    spans = _read_rows(run_dir, "spans")
    docs = _read_rows(run_dir, "documents")
    result = verify_run(run_dir, key)
    run_id = str(info.get("run_id", run_dir.name))
    checked = sum(1 for s in spans if s.get("oracle_checked") is True)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>vault audit report: {_e(run_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>vault audit report: run {_e(run_id)}</h1>",
        _section_run(info, manifest, docs, spans),
        _section_coverage(checked, len(spans), manifest),
        _section_entities(spans),
        _section_disagreements(spans),
        _section_failures(docs),
        _section_fingerprints(info, docs),
        _section_verification(result),
        "</body></html>",
    ]
    out = Path(out_html)
    write_atomic(out, "\n".join(parts).encode("utf-8"))
    return out


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv(pairs: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in pairs)
    return f"<table><tbody>{body}</tbody></table>"


def _json_value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False)


def _section_run(info: dict, manifest: dict | None, docs: list[dict], spans: list[dict]) -> str:
    state = "complete" if manifest else "incomplete (no manifest: interrupted, or manifest removed)"
    statuses = Counter(d.get("status") for d in docs)
    pairs = [
        ("Run id", info.get("run_id", "")),
        ("State", state),
        ("Started", info.get("started_at", "")),
        ("Finished", (manifest or {}).get("finished_at", "not finished")),
        ("Documents", len(docs)),
        *((f"Documents {s}", statuses[s]) for s in DOCUMENT_STATUSES if statuses[s]),
        ("Sensitive spans", len(spans)),
        *((f"Versions: {k}", v) for k, v in sorted(info.get("versions", {}).items())),
        *((f"Totals: {k}", _json_value(v)) for k, v in sorted((manifest or {}).get("totals", {}).items())),
    ]
    return f'<section id="run"><h2>Run</h2>{_kv(pairs)}</section>'


def _section_coverage(checked: int, total: int, manifest: dict | None) -> str:
    pct = format_coverage(checked, total)
    cls = "ok" if checked >= total else "bad"
    note = "" if manifest else '<p class="bad">Incomplete run: coverage of the documents audited so far.</p>'
    return (
        '<section id="coverage"><h2>Coverage</h2>'
        f'<p class="big {cls}">{_e(pct)}</p>'
        f"<p>{checked} of {total} sensitive spans were checked by the oracle model.</p>{note}</section>"
    )


def _section_entities(spans: list[dict]) -> str:
    counts: dict[str, Counter[str]] = {}
    for s in spans:
        counts.setdefault(str(s.get("entity_type")), Counter())[str(s.get("action"))] += 1
    types = sorted(counts)
    rows = [[t, counts[t]["redacted"], counts[t]["kept"], sum(counts[t].values())] for t in types]
    table = _table(["Entity type", "Redacted", "Kept", "Total"], rows) if rows else "<p>No sensitive spans.</p>"
    return f'<section id="entities"><h2>Entities</h2>{_bar_chart(types, counts)}{table}</section>'


def _bar_chart(types: list[str], counts: dict[str, Counter[str]]) -> str:
    """Horizontal stacked bars, redacted then kept, per entity type."""
    label_w, bar_w, row_h = 160, 480, 22
    top = max((sum(c.values()) for c in counts.values()), default=0) or 1
    height = row_h * len(types) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
           f'role="img" aria-label="Spans per entity type"><title>Spans per entity type</title>']
    for i, t in enumerate(types):
        y = i * row_h
        red, kept = counts[t]["redacted"], counts[t]["kept"]
        w_red, w_kept = bar_w * red / top, bar_w * kept / top
        out.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{_e(t)}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{w_red:.1f}" height="{row_h - 6}" fill="#a4161a"/>')
        out.append(f'<rect x="{label_w + w_red:.1f}" y="{y + 3}" width="{w_kept:.1f}" height="{row_h - 6}" fill="#9db4c0"/>')
        out.append(f'<text x="{label_w + w_red + w_kept + 4:.1f}" y="{y + 15}" font-size="11">{red + kept}</text>')
    y = row_h * len(types) + 16
    out.append(f'<rect x="{label_w}" y="{y - 9}" width="10" height="10" fill="#a4161a"/>'
               f'<text x="{label_w + 14}" y="{y}" font-size="11">redacted</text>'
               f'<rect x="{label_w + 80}" y="{y - 9}" width="10" height="10" fill="#9db4c0"/>'
               f'<text x="{label_w + 94}" y="{y}" font-size="11">kept</text></svg>')
    return "".join(out)


def is_disagreement(span: dict[str, Any]) -> bool:
    """The oracle and the recognizers disagreed: the policy overrode the oracle (reason
    other than "oracle": a must-redact hit, or a repeat of a value redacted elsewhere in the
    document), or the oracle kept a span a recognizer proposed."""
    detectors = [d for d in span.get("detectors") or [] if d != "oracle"]
    return span.get("reason") != "oracle" or (span.get("action") == "kept" and bool(detectors))


def _section_disagreements(spans: list[dict]) -> str:
    rows = [s for s in spans if is_disagreement(s)]
    headers = ["Document", "Field", "Chunk", "Start", "End", "Entity", "Detectors", "Score",
               "Oracle log-prob", "Oracle margin", "Action", "Reason", "Value HMAC"]
    body = [[s.get("doc_path"), s.get("field"), s.get("chunk"), s.get("start"), s.get("end"),
             s.get("entity_type"), ", ".join(s.get("detectors") or []), _num(s.get("detector_score")),
             _num(s.get("oracle_logprob")), _num(s.get("oracle_margin")), s.get("action"),
             s.get("reason"), str(s.get("value_hmac", ""))[:16]]
            for s in rows[:_MAX_TABLE_ROWS]]
    more = f"<p class=\"muted\">{len(rows) - _MAX_TABLE_ROWS} more in the spans table.</p>" if len(rows) > _MAX_TABLE_ROWS else ""
    content = _table(headers, body) + more if rows else "<p>None: the policy and the oracle agreed on every span.</p>"
    return (f'<section id="disagreements"><h2>Disagreements</h2><p>{len(rows)} spans where the oracle '
            f"and the recognizers disagreed (policy override, a repeat of a value redacted elsewhere, or the oracle kept a recognizer's candidate).</p>"
            f"{content}</section>")


def _num(v: Any) -> str:
    return "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _section_failures(docs: list[dict]) -> str:
    rows = [[d.get("doc_path"), d.get("status"), d.get("error")] for d in docs
            if d.get("status") in ("failed", "held")]
    content = _table(["Document", "Status", "Error"], rows[:_MAX_TABLE_ROWS]) if rows else "<p>None.</p>"
    return f'<section id="failures"><h2>Failures and held documents</h2><p>{len(rows)} documents.</p>{content}</section>'


def _section_fingerprints(info: dict, docs: list[dict]) -> str:
    meta = info.get("meta", {})
    pairs = [(f"Run meta: {k}", _json_value(v)) for k, v in sorted(meta.items())]
    for column in ("policy_fingerprint", "model_fingerprint"):
        seen = Counter(d.get(column) for d in docs)
        pairs += [(f"Documents with {column}", f"{v or '(none)'}: {n}") for v, n in sorted(seen.items(), key=str)]
    return f'<section id="fingerprints"><h2>Fingerprints</h2>{_kv(pairs)}</section>'


def _section_verification(result: VerifyResult) -> str:
    if result.ok:
        body = '<p class="ok">Verified: hash chains, part files and the manifest signature all check out.</p>'
    else:
        items = "".join(f"<li>{_e(p)}</li>" for p in result.problems)
        body = f'<p class="bad">Verification failed: {len(result.problems)} problems.</p><ol>{items}</ol>'
    return f'<section id="verification"><h2>Verification</h2>{body}</section>'
