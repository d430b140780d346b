"""The redacted output around a span, for the report: what a reviewer needs to judge a conflict,
without a raw value.

The text comes from the output file, and only when that file is readable and is byte for byte the
one the audit vouches for (its `output_sha256`). Offsets in the audit count in the source text, so the
span's place in the output is computed from the audit rows of the same value (its CSV cell, JSON
string, or the whole text): each redaction before it shifts it by its replacement's length minus the
source's. That length is known for `tag`/`replace`, `mask`, `redact`/`remove`, `hash` and `year`, and
each such replacement is checked against the output; it is not known for `pseudonym` and `encrypt`, so
the output after one of those is never shown. In what is shown, a redacted span appears as its
replacement, and any span a detector flagged but the policy kept is hidden as "[kept]": the report
never shows text that a detector called sensitive.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from vault.documents import DocumentError, read_document
from vault.policy import Policy

WINDOW = 60  # characters of output shown on each side of the span
KEPT = "[kept]"


@dataclass
class Context:
    before: str
    span: str  # the replacement as written in the output; KEPT for a kept span
    after: str


@dataclass
class _Segment:
    """A stretch of the output that stands for a flagged span of the source."""

    src_start: int
    src_end: int
    out_start: int
    out_end: Optional[int]  # None: the replacement's length is not known (and nothing after it is)
    kept: bool


class OutputFile:
    """One document's output, read once, for the contexts of its spans."""

    def __init__(self, output_root: Optional[Path], doc: dict[str, Any], spans: list[dict[str, Any]],
                 policy: Optional[Policy]):
        self.policy = policy
        self.spans = spans
        self.units: dict[Any, str] | None = None
        self.why_not = ""
        path = output_root / str(doc.get("doc_path")) if output_root is not None else None
        if path is None:
            self.why_not = "the run did not record its output directory"
        elif not doc.get("output_sha256"):
            self.why_not = "no output was written"
        else:
            try:
                data = path.read_bytes()
            except OSError:
                self.why_not = "the output file is not readable here"
                return
            if hashlib.sha256(data).hexdigest() != doc["output_sha256"]:
                self.why_not = "the output file has changed since this run"
                return
            try:
                units = read_document(output_root, str(doc["doc_path"])).units
            except (DocumentError, ValueError, OSError):
                self.why_not = "the output file cannot be read back"
                return
            self.units = {_unit_key(u): u.text for u in units}

    def context(self, span: dict[str, Any]) -> Context | str:
        """The context of one span row of this document, or why it is not shown."""
        if self.units is None:
            return self.why_not
        key = _unit_key(span)
        text = self.units.get(key)
        if text is None:
            if span.get("action") == "redacted" and span.get("operator") in ("redact", "remove"):
                text = ""  # a value redacted to nothing is no unit of the output any more
            else:
                return "its place in the output file is not recorded in a form the report can find"
        same_unit = [s for s in self.spans if _unit_key(s) == key]
        segments = _segments(same_unit, text, self.policy)
        target = next((g for g in segments if g.src_start <= span["start"] and span["end"] <= g.src_end
                       and g.kept == (span.get("action") == "kept")), None)
        if target is None:
            return "its place in the output cannot be computed from the audit rows"
        if target.out_start is None:
            return "it comes after a pseudonym or an encrypted value, whose length the audit does not record"
        if target.out_end is None:
            return "its replacement's length is not recorded (pseudonym or encrypted value)"
        known_end = next((g.out_start for g in segments if g.out_end is None), len(text))
        lo, hi = max(0, target.out_start - WINDOW), min(known_end, target.out_end + WINDOW)
        before = _shown(text, lo, target.out_start, segments)
        after = _shown(text, target.out_end, hi, segments)
        span_text = KEPT if target.kept else text[target.out_start:target.out_end]
        return Context(("…" if lo > 0 else "") + before, span_text, after + ("…" if hi < len(text) else ""))


def _unit_key(obj: Any) -> tuple:
    """Where a value sits in its file, the same for an audit row and for a Unit read back: the `field`
    locator ("row 4, column email", "$.a.b", "" for a whole text), or else the structured columns."""
    get = obj.get if isinstance(obj, dict) else (lambda k: getattr(obj, k, None))
    field = get("field")
    if field:
        return ("field", field)
    structured = tuple(get(k) for k in ("row", "column", "line", "json_path"))
    if any(v is not None for v in structured):
        return ("at", *structured)
    return ("field", "")


def _segments(rows: list[dict[str, Any]], text: str, policy: Optional[Policy]) -> list[_Segment]:
    """The flagged stretches of one value, in order, with their places in the output as far as they
    can be known."""
    redacted = _clusters([r for r in rows if r.get("action") == "redacted" and r["end"] > r["start"]])
    kept = _clusters([r for r in rows if r.get("action") == "kept" and r["end"] > r["start"]])
    kept = [g for g in kept if not any(_overlap(g, r) for r in redacted)]
    groups = sorted([(g, False) for g in redacted] + [(g, True) for g in kept], key=lambda x: x[0][0]["start"])
    out, shift, known = [], 0, True
    for group, is_kept in groups:
        start, end = group[0]["start"], max(r["end"] for r in group)
        out_start = start + shift if known else None
        if is_kept:
            length = end - start
        else:
            head = max(group, key=lambda r: (r["end"] - r["start"], -r["start"]))
            length = _replacement_length(head, end - start, text, out_start, policy) if known else None
        out_end = None if length is None or out_start is None else out_start + length
        out.append(_Segment(start, end, out_start, out_end, is_kept))
        if out_end is None:
            known = False
        else:
            shift += length - (end - start)
    return out


def _clusters(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows whose spans overlap, as render.replacements merges them."""
    groups: list[list[dict[str, Any]]] = []
    end = -1
    for r in sorted(rows, key=lambda r: (r["start"], r["end"])):
        if groups and r["start"] < end:
            groups[-1].append(r)
            end = max(end, r["end"])
        else:
            groups.append([r])
            end = r["end"]
    return groups


def _overlap(group: list[dict[str, Any]], other: list[dict[str, Any]]) -> bool:
    a, b = group[0]["start"], max(r["end"] for r in group)
    c, d = other[0]["start"], max(r["end"] for r in other)
    return a < d and c < b


def _replacement_length(row: dict[str, Any], source_length: int, text: str, at: int,
                        policy: Optional[Policy]) -> Optional[int]:
    """How long the redacted span's replacement is in the output (checked against it where its form
    is known), or None."""
    operator, etype = row.get("operator"), row.get("entity_type")
    rule = policy.rule(etype) if policy is not None else None
    tag = f"<{etype}>"
    if operator in ("tag", "replace", "keep"):
        expected = rule.new_value if rule is not None and rule.new_value is not None else tag
        return len(expected) if text.startswith(expected, at) else None
    if operator == "mask":
        return source_length  # masking keeps the length
    if operator in ("redact", "remove"):
        return 0
    if operator == "hash" and rule is not None:
        found = text[at:at + rule.hash_length]
        return rule.hash_length if len(found) == rule.hash_length and set(found) <= set(string.hexdigits) else None
    if operator == "year":
        if re.match(r"\d{4}(?!\d)", text[at:]):
            return 4
        return len(tag) if text.startswith(tag, at) else None
    return None  # pseudonym, encrypt: the length is not recorded anywhere


def _shown(text: str, lo: int, hi: int, segments: list[_Segment]) -> str:
    """text[lo:hi] with every kept flagged span in it hidden, whitespace runs as one space."""
    pieces, pos = [], lo
    for g in segments:
        if not g.kept or g.out_end is None or g.out_end <= lo or g.out_start >= hi:
            continue
        pieces += [text[pos:max(pos, g.out_start)], KEPT]
        pos = max(pos, g.out_end)
    pieces.append(text[pos:hi] if pos < hi else "")
    return re.sub(r"\s+", " ", "".join(pieces))
