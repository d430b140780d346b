"""The compliance report of an audit run: one self-contained HTML page (inline CSS and SVG, no scripts,
no external resources) that puts first what a reviewer must see.

- A summary that fits one screen: documents by status, spans by type and action, coverage with its
  numerator and denominator, the policy's types and operators, the versions of every component.
- Conflicts: only real disagreements between the detectors (see `conflict_rule`), each with its rule,
  detectors, scores and the redacted output around it (vault.context), never a raw value.
- Every document with its status, spans, time and links to its conflicts; low-confidence oracle
  decisions flagged; for a rerun, the runs that produced its unchanged outputs.

Rendered by jinja2 from vault/templates/report.html.j2 with autoescaping on; every value also has its
control and bidirectional-override characters made visible, so a file name cannot disguise itself.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from vault.audit import DOCUMENT_STATUSES, MANIFEST, RUN_INFO, iter_rows, load_json, root_ref, verify_run
from vault.context import Context, OutputFile
from vault.documents import write_atomic
from vault.policy import SHIPPED_POLICIES, Policy, load_policy
from vault.versions import COMPONENTS

# An oracle decision is low-confidence when the runner-up it rejected was within this many nats of its
# choice (margin < 1: the other token had more than 37% of the chosen one's probability), or when its
# choice had less than half the probability. About 5% of the spans of the shipped pair on the samples.
LOW_MARGIN = 1.0
LOW_LOGPROB = math.log(0.5)
MAX_ROWS = 500  # rows per table; the Parquet files have the rest

# Why each kind of conflict is one, in a reviewer's words.
RULES = {
    "held": "Held for review: a must-redact recognizer and the oracle disagree, so the document was not written.",
    "recognizer": "A recognizer the policy trusts found it and the oracle did not redact it: redacted by the recognizer.",
    "type mass": "The oracle labelled it a type the policy keeps, but gave the policy's types enough probability: redacted.",
    "hint mass": "A detector's hint the oracle did not tag, though it gave a span of the policy's types enough probability there: redacted.",
    "consistency": "A repeat of a value redacted elsewhere in the same file, which the oracle did not tag here: redacted.",
    "below threshold": "A recognizer proposed it with a score below the type's threshold: kept.",
    "allow list": "On the policy's allow list, though a recognizer proposed it: kept.",
    "name word": "In a file or folder name, made only of words names are made of, though a recognizer proposed it: kept.",
    "oracle kept a recognizer's hit": "The oracle tagged it as a type the policy keeps, where a recognizer had a hit: kept.",
}
STATUS_COLOURS = {"redacted": "#2f6f4f", "unchanged": "#7a8a99", "skipped": "#c9a227", "failed": "#b3261e",
                  "held": "#d9731a"}
ACTION_COLOURS = {"redacted": "#1f4e79", "kept": "#a9c4de"}


def conflict_rule(span: dict[str, Any]) -> Optional[str]:
    """The rule behind a real disagreement between the detectors, or None where they agreed
    (decisions.decide's Decision says which rules there are). The oracle's own "not in policy" spans,
    with no recognizer involved, are the policy working as written, not conflicts. The README's DuckDB
    conflict query says the same in SQL (tests/test_readme.py compares the two)."""
    detectors = span.get("detectors") or []
    recognizers = [d for d in detectors if d != "oracle"]
    reason, action = span.get("reason"), span.get("action")
    if action == "redacted":
        return None if reason == "oracle" else reason  # a reason vault does not know is shown, not hidden
    if reason in ("below threshold", "allow list", "name word"):
        return reason if recognizers else None
    if reason == "not in policy":
        return "oracle kept a recognizer's hit" if recognizers and "oracle" in detectors else None
    return reason


def low_confidence(span: dict[str, Any]) -> bool:
    margin, logprob = span.get("oracle_margin"), span.get("oracle_logprob")
    return (margin is not None and margin < LOW_MARGIN) or (logprob is not None and logprob < LOW_LOGPROB)


def format_coverage(checked: int, total: int) -> str:
    """The share of sensitive spans the oracle checked, never rounded up to 100%; "no spans" for none."""
    if total == 0:
        return "no spans"
    if checked >= total:
        return "100%"
    return f"{math.floor(1000 * checked / total) / 10:.1f}%"


def write_report(run_dir: str | os.PathLike, out_html: str | os.PathLike, key: bytes,
                 output_dir: str | os.PathLike | None = None) -> Path:
    """Write the report of the run in `run_dir`. The output files, for the conflicts' context, are
    looked for under `output_dir`, or else the output directory the run recorded."""
    out = Path(out_html)
    page = render_html(build_report(Path(run_dir), key, out, output_dir))
    write_atomic(out, page.encode("utf-8"))
    return out


def render_html(report: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("vault", "templates"), autoescape=True, undefined=StrictUndefined,
                      finalize=_visible, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2").render(**report)


# Control characters (a file name may hold ESC or a newline) and the characters that reorder or hide
# text (bidirectional overrides, zero-width ones), shown as escapes.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _visible(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xff else f"\\x{ord(m.group()):02x}", value)


def build_report(run_dir: Path, key: bytes, out_html: Path, output_dir=None) -> dict[str, Any]:
    """Everything the template shows, computed from the run's audit files."""
    manifest = load_json(run_dir / MANIFEST)
    info = manifest or load_json(run_dir / RUN_INFO) or {}
    meta = info.get("meta") or {}
    spans = list(iter_rows(run_dir, "spans"))
    docs = list(iter_rows(run_dir, "documents"))
    policy, policy_source = _policy(meta)
    spans_of: dict[str, list[dict]] = defaultdict(list)
    for s in spans:
        spans_of[s.get("doc_path")].append(s)

    # The run records its output directory as a keyed hash: its files are read where the caller says (a
    # run of an older vault recorded the path itself). Context is shown only from files with the audited hash.
    output_root = Path(output_dir) if output_dir else Path(meta["output_dir"]) if meta.get("output_dir") else None
    conflicts = _conflicts(docs, spans_of, policy, output_root)
    checked = sum(1 for s in spans if s.get("oracle_checked") is True)
    statuses = Counter(d.get("status") for d in docs)
    model_only = sum(1 for s in spans if s.get("action") == "kept" and conflict_rule(s) is None)
    low = [s for s in spans if low_confidence(s)]
    return {
        "run_id": str(info.get("run_id", run_dir.name)),
        "complete": manifest is not None,
        "verification": verify_run(run_dir, key),
        # The operator let this run append to an audit that failed verification: shown before anything else.
        "accepted_broken_audit": meta.get("accepted_broken_audit"),
        "facts": _facts(info, manifest, meta, run_dir, key),
        "documents_total": len(docs),
        "statuses": [(s, statuses.get(s, 0), STATUS_COLOURS[s]) for s in DOCUMENT_STATUSES],
        "status_bar": _stacked_bar([(s, statuses.get(s, 0), STATUS_COLOURS[s]) for s in DOCUMENT_STATUSES]),
        "spans_total": len(spans),
        "spans_redacted": sum(1 for s in spans if s.get("action") == "redacted"),
        "spans_kept": sum(1 for s in spans if s.get("action") == "kept"),
        "model_only_kept": model_only,
        "type_chart": _type_chart(spans),
        "checked": checked,
        "coverage": format_coverage(checked, len(spans)),
        "coverage_state": "none" if not spans else "ok" if checked >= len(spans) else "bad",
        "conflicts": conflicts[:MAX_ROWS],
        "conflicts_total": len(conflicts),
        "conflict_rules": Counter(c["rule"] for c in conflicts).most_common(),
        "rules": RULES,
        "low": [_low_row(s, docs) for s in low[:MAX_ROWS]],
        "low_total": len(low),
        "low_margin": LOW_MARGIN,
        "low_probability": round(math.exp(LOW_LOGPROB), 2),
        "documents": _documents(docs, spans_of, conflicts, run_dir, out_html)[:MAX_ROWS],
        "max_rows": MAX_ROWS,
        "policy": _policy_rows(policy, spans),
        "policy_name": meta.get("policy") or (policy.name if policy else "not recorded"),
        "policy_source": policy_source,
        "versions": _versions(info),
        "fingerprints": _fingerprints(meta, manifest),
    }


def _policy(meta: dict[str, Any]) -> tuple[Optional[Policy], str]:
    """The run's policy as resolved: recorded in the run, or a shipped policy whose fingerprint is the
    run's; else None (the report then shows the types and operators seen in the spans)."""
    recorded = meta.get("policy_resolved")
    if isinstance(recorded, dict):
        try:
            return Policy.model_validate(recorded), "as recorded by the run"
        except ValueError:
            pass
    name = meta.get("policy")
    if name in SHIPPED_POLICIES:
        shipped = load_policy(name)
        if shipped.fingerprint() == meta.get("policy_fingerprint"):
            return shipped, f"the shipped policy '{name}', whose fingerprint matches the run's"
    return None, "not recorded by the run: the types and operators below are those seen in its spans"


def _policy_rows(policy: Optional[Policy], spans: list[dict]) -> list[dict[str, Any]]:
    if policy is None:
        seen: dict[str, set] = defaultdict(set)
        for s in spans:
            seen[s.get("entity_type")].add(s.get("operator") or "kept")
        return [{"type": t, "operator": ", ".join(sorted(ops)), "threshold": "", "must": ""} for t, ops in sorted(seen.items())]
    rows = []
    for etype, rule in policy.entities.items():
        operator = rule.operator + (f" ({rule.new_value})" if rule.new_value is not None else "")
        rows.append({"type": etype, "operator": operator, "threshold": f"{rule.threshold:g}",
                     "must": "yes" if etype in policy.must_redact else ""})
    return rows


def _facts(info: dict, manifest: Optional[dict], meta: dict, run_dir: Path, key: bytes) -> list[tuple[str, Any]]:
    started, finished = info.get("started_at"), (manifest or {}).get("finished_at")
    totals = (manifest or {}).get("totals") or {}
    return [
        ("Run", info.get("run_id", run_dir.name)),
        ("State", "complete (signed manifest)" if manifest else "incomplete: no manifest (interrupted, or removed)"),
        ("Started", started or "not recorded"),
        ("Finished", finished or "not finished"),
        ("Duration (wall time)", _duration(started, finished, totals.get("seconds"))),
        ("Processing", _seconds(totals.get("processing_seconds"), "reading, redacting, writing and recording; "
                                "without start-up and model loading")),
        ("Label", meta.get("label") or "none given (vault redact --label)"),
        ("Input", _root(meta, key, "input")),
        ("Output", _root(meta, key, "output")),
        ("Audit folder", str(run_dir)),
    ]


def _root(meta: dict, key: bytes, which: str) -> str:
    ref = root_ref(meta, key, which)
    return f"{ref} (keyed hash of the directory's path)" if ref else "not recorded"


def _duration(started: Optional[str], finished: Optional[str], seconds: Any) -> str:
    """The run's wall time as the run measured it; else (older runs) its listings' start to finish, which
    is the wall time only where the audit was opened at the run's start."""
    if finished is None:
        return "not finished"
    if isinstance(seconds, (int, float)):
        return f"{seconds:.1f} s"
    try:
        return f"{(datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds():.1f} s"
    except (TypeError, ValueError):
        return "not recorded"


def _seconds(seconds: Any, what: str) -> str:
    return f"{seconds:.1f} s ({what})" if isinstance(seconds, (int, float)) else "not recorded"


def _versions(info: dict) -> list[tuple[str, str, bool]]:
    """(component, version, recorded) for every component, as the run recorded them."""
    recorded = {**(info.get("meta") or {}).get("versions", {}), **(info.get("versions") or {})}
    rows = [(c, str(recorded[c]), True) if c in recorded else (c, "not recorded by this run", False) for c in COMPONENTS]
    return rows + [(c, str(v), True) for c, v in sorted(recorded.items()) if c not in COMPONENTS]


def _fingerprints(meta: dict, manifest: Optional[dict]) -> list[tuple[str, Any]]:
    rows = [("Policy", meta.get("policy_fingerprint", "not recorded")), ("Models", meta.get("model_fingerprint", "not recorded"))]
    for model in ("draft", "oracle"):
        m = meta.get(model)
        if isinstance(m, dict):
            rows.append((f"{model.capitalize()} model", f"{m.get('path', '?')} · {m.get('fingerprint', '?')}"))
    rows.append(("Audit key id", (manifest or {}).get("key_id", "no manifest")))
    return rows


# --------------------------------------------------------------------------- conflicts and documents


def _conflicts(docs: list[dict], spans_of: dict[str, list[dict]], policy: Optional[Policy],
               output_root: Optional[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for doc in docs:
        path = doc.get("doc_path")
        found = [s for s in spans_of.get(path, []) if conflict_rule(s)]
        if doc.get("status") == "held":
            rows.append({"rule": "held", "doc": path, "where": "whole document", "type": "", "action": "held",
                         "detectors": [], "oracle": "", "low": False, "context": None,
                         "why_no_context": doc.get("error") or "held for review"})
        if not found:
            continue
        output = OutputFile(output_root, doc, spans_of[path], policy) if doc.get("status") == "redacted" else None
        for s in found:
            context = output.context(s) if output else "no output was written"
            rows.append({
                "rule": conflict_rule(s), "doc": path, "where": _where(s), "type": s.get("entity_type"),
                "action": s.get("action"),
                "detectors": _detectors(s),
                "oracle": _oracle(s), "low": low_confidence(s),
                "context": context if isinstance(context, Context) else None,
                "why_no_context": "" if isinstance(context, Context) else context,
            })
    for n, row in enumerate(rows, start=1):
        row["id"] = f"c{n}"
    return rows


def _where(s: dict[str, Any]) -> str:
    """Where a span is, in the file's own terms, from either audit schema."""
    if s.get("field_kind") == "path":  # its `column` is the name's place in the path, not a CSV column
        return f"{s.get('field')}: characters {s.get('start')}–{s.get('end')}"
    parts = []
    if s.get("line") is not None:
        parts.append(f"line {s['line']}")
    if s.get("row") is not None:
        parts.append(f"row {s['row']}")
    if s.get("column") is not None:
        parts.append(f"column {s['column']}")
    if s.get("json_path"):
        parts.append(str(s["json_path"]))
    where = ", ".join(parts) or s.get("field") or ""
    return f"{where + ': ' if where else ''}characters {s.get('start')}–{s.get('end')}"


def _detectors(s: dict[str, Any]) -> list[str]:
    names, scores = s.get("detectors") or [], s.get("detector_scores") or []
    if len(scores) == len(names):
        return [f"{n} {v:.2f}" for n, v in zip(names, scores)]
    return list(names)


def _oracle(s: dict[str, Any]) -> str:
    logprob, margin = s.get("oracle_logprob"), s.get("oracle_margin")
    if logprob is None and margin is None:
        return "no verdict recorded"
    p = f"p {math.exp(logprob):.2f}" if logprob is not None else "p ?"
    m = f"margin {margin:.2f}" if margin is not None else "margin ∞"
    checked = "" if s.get("oracle_checked") else " · not checked"
    return f"{p} · {m}{checked}"


def _low_row(s: dict[str, Any], docs: list[dict]) -> dict[str, Any]:
    return {"doc": s.get("doc_path"), "where": _where(s), "type": s.get("entity_type"), "action": s.get("action"),
            "reason": s.get("reason"), "oracle": _oracle(s), "detectors": _detectors(s)}


def _documents(docs: list[dict], spans_of: dict[str, list[dict]], conflicts: list[dict], run_dir: Path,
               out_html: Path) -> list[dict[str, Any]]:
    conflict_ids: dict[str, list[str]] = defaultdict(list)
    for c in conflicts:
        conflict_ids[c["doc"]].append(c["id"])
    producers = _producers(docs, run_dir, out_html)
    rows = []
    for n, d in enumerate(docs):
        spans = spans_of.get(d.get("doc_path"), [])
        rows.append({
            "n": n, "id": f"d{n + 1}", "doc": d.get("doc_path"), "status": d.get("status"),
            "colour": STATUS_COLOURS.get(d.get("status"), "#888"),
            "redacted": sum(1 for s in spans if s.get("action") == "redacted"),
            "kept": sum(1 for s in spans if s.get("action") == "kept"),
            "conflicts": conflict_ids.get(d.get("doc_path"), []),
            "low": sum(1 for s in spans if low_confidence(s)),
            "seconds": f"{d['seconds']:.2f}" if isinstance(d.get("seconds"), (int, float)) else "",
            "tokens": d.get("tokens") or "",
            "accept": f"{d['accept_rate']:.2f}" if isinstance(d.get("accept_rate"), float) else "",
            "note": d.get("error") or "",
            "renamed": _renamed(d.get("doc_path"), spans),
            "producer": producers.get(d.get("doc_path")),
        })
    # What needs a reviewer first: held and failed documents, then those with conflicts.
    order = {"held": 0, "failed": 1}
    return sorted(rows, key=lambda r: (order.get(r["status"], 2 if r["conflicts"] else 3), r["n"]))


def _renamed(doc_path: Optional[str], spans: list[dict]) -> str:
    """Which names of a document's path were redacted, in words ("" where none was): its path in the report
    is the output tree's, and a reader should know when that is not the name the input had."""
    columns = {s.get("column") for s in spans if s.get("field_kind") == "path" and s.get("action") == "redacted"}
    depth = len((doc_path or "").split("/"))
    which = [w for w, hit in (("folder", any(c < depth for c in columns)), ("file", depth in columns)) if hit]
    return f"{' and '.join(which)} name{'s' * (len(which) > 1)} redacted" if which else ""


def _producers(docs: list[dict], run_dir: Path, out_html: Path) -> dict[str, dict[str, str]]:
    """For each document this run found unchanged, the latest earlier run in the same audit folder
    that wrote that very output (same input and output hashes)."""
    wanted = {d.get("doc_path"): d for d in docs if d.get("status") == "unchanged"}
    if not wanted:
        return {}
    found: dict[str, dict[str, str]] = {}
    earlier = sorted(p for p in run_dir.parent.iterdir() if p.is_dir() and p.name < run_dir.name)
    for run in reversed(earlier):
        for row in iter_rows(run, "documents"):
            want = wanted.get(row.get("doc_path"))
            if (want and row.get("doc_path") not in found and row.get("status") == "redacted"
                    and row.get("output_sha256") == want.get("output_sha256")
                    and row.get("input_sha256") == want.get("input_sha256")):
                link = os.path.relpath(run / "report.html", out_html.resolve().parent if out_html.parent.exists() else ".")
                found[row["doc_path"]] = {"run": run.name, "href": link}
        if len(found) == len(wanted):
            break
    return found


def _stacked_bar(parts: list[tuple[str, int, str]], width: float = 100.0) -> list[dict[str, Any]]:
    """Segments of one horizontal bar, in percent of its width."""
    total = sum(n for _, n, _ in parts) or 1
    out, x = [], 0.0
    for name, n, colour in parts:
        if n:
            w = width * n / total
            out.append({"name": name, "n": n, "x": round(x, 2), "w": round(w, 2), "colour": colour})
            x += w
    return out


def _type_chart(spans: list[dict]) -> dict[str, Any]:
    """Bars per entity type, redacted then kept, scaled to the largest type."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in spans:
        counts[str(s.get("entity_type"))][s.get("action")] += 1
    top = max((sum(c.values()) for c in counts.values()), default=0) or 1
    rows = []
    for t, c in sorted(counts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        red, kept = c.get("redacted", 0), c.get("kept", 0)
        rows.append({"type": t, "redacted": red, "kept": kept, "w_red": round(100 * red / top, 2),
                     "w_kept": round(100 * kept / top, 2)})
    return {"rows": rows, "colours": ACTION_COLOURS}
