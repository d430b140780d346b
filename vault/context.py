"""Where each span lands in the redacted output, and the output around it, for the report: what a
reviewer needs to judge a conflict, without a raw value.

Writing: a value is rendered through `Output`, which applies render.replacements' cuts and says where any
source range lands in the result. Each span row records that place as `out_start` and `out_end` (offsets
are no value): a redacted span is its replacement, overlapping redactions merged as they were rendered; a
kept span is its own text, moved by the replacements before it.

Reading: the text comes from the output file, and only when that file is readable and is byte for byte the
one the audit vouches for (its `output_sha256`); the span's value is found by its `field` (the whole text, a
CSV cell, a JSON string or key), or for a file or folder name in the output path the audit records. In what
is shown, a redacted span appears as its replacement, and any span a detector flagged but the policy kept is
hidden as "[kept]": the report never shows text that a detector called sensitive.

Runs of older versions recorded no output offsets: for them the place is computed from the audit rows of the
same value, each redaction before the span shifting it by its replacement's length minus the source's. That
length is known for `tag`/`replace`, `mask`, `redact`/`remove`, `hash` and `year` (each checked against the
output), not for `pseudonym` and `encrypt`, so the output after one of those is never shown.
"""

from __future__ import annotations

import hashlib
import re
import string
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from vault.documents import DocumentError, read_document
from vault.policy import Policy

WINDOW = 60  # characters of output shown on each side of the span
KEPT = "[kept]"


@dataclass(frozen=True)
class Context:
    before: str
    span: str  # the replacement as written in the output; KEPT for a kept span
    after: str


# --------------------------------------------------------------------------- writing: where spans land


@dataclass(frozen=True)
class Cut:
    """One replacement: the source's [start, end) became the output's [out_start, out_end)."""

    start: int
    end: int
    out_start: int
    out_end: int


@dataclass(frozen=True)
class Output:
    """A value with render.replacements' cuts applied, and where its source ranges are in it."""

    text: str
    cuts: tuple[Cut, ...]

    @classmethod
    def of(cls, source: str, replacements: list[tuple[int, int, str]]) -> "Output":
        """`replacements`: (start, end, new), left to right, not overlapping, as render.replacements gives them.
        The text is built here, from the same replacements the offsets come from: a pseudonym or an encrypted
        value is drawn once."""
        pieces, cuts, pos, shift = [], [], 0, 0
        for start, end, new in replacements:
            pieces += [source[pos:start], new]
            cuts.append(Cut(start, end, start + shift, start + shift + len(new)))
            shift += len(new) - (end - start)
            pos = end
        pieces.append(source[pos:])
        return cls("".join(pieces), tuple(cuts))

    def place(self, start: int, end: int) -> tuple[int, int]:
        """Where the source's [start, end) is in the output; a replacement under either end counts whole."""
        i = bisect_right(self.cuts, start, key=lambda c: c.start) - 1  # the last cut starting at or before it
        if i >= 0 and start < self.cuts[i].end:
            out_start = self.cuts[i].out_start
        else:
            out_start = start + self._shift(i)
        j = bisect_left(self.cuts, end, key=lambda c: c.start) - 1  # the last cut starting before it
        if j >= 0 and end <= self.cuts[j].end:
            out_end = self.cuts[j].out_end
        else:
            out_end = end + self._shift(j)
        return out_start, out_end

    def _shift(self, i: int) -> int:
        """How far the text after cut i has moved (nothing before the first cut)."""
        return self.cuts[i].out_end - self.cuts[i].end if i >= 0 else 0


# --------------------------------------------------------------------------- reading: the output around a span


class OutputFile:
    """One document's output, read once, for the contexts of its spans."""

    def __init__(self, output_root: Optional[Path], doc: dict[str, Any], spans: list[dict[str, Any]],
                 policy: Optional[Policy]):
        self.policy = policy
        self.spans = spans
        self.doc_path = str(doc.get("doc_path") or "")
        self.values: dict[str, str] | None = None  # the output's values by their `field`
        self.why_not = ""
        if output_root is None:
            self.why_not = "the run did not record its output directory"
        elif not doc.get("output_sha256"):
            self.why_not = "no output was written"
        else:
            try:
                data = (output_root / self.doc_path).read_bytes()
            except OSError:
                self.why_not = "the output file is not readable here"
                return
            if hashlib.sha256(data).hexdigest() != doc["output_sha256"]:
                self.why_not = "the output file has changed since this run"
                return
            try:
                units = read_document(output_root, self.doc_path).units
            except (DocumentError, ValueError, OSError):
                self.why_not = "the output file cannot be read back"
                return
            self.values = {u.field: u.text for u in units}

    def context(self, span: dict[str, Any]) -> Context | str:
        """The context of one span row of this document, or why it is not shown."""
        field = span.get("field") or ""
        text = self._value(span, field)
        if isinstance(text, _WhyNot):
            return text.reason
        same_value = [s for s in self.spans if (s.get("field") or "") == field]
        if span.get("out_start") is not None:
            place = _recorded(span, same_value, text)
        else:
            place = _estimated(span, same_value, text, self.policy)
            if isinstance(place, str):
                return place
        if span.get("field_kind") == "path":
            place = place.moved(len(text) - len(text.lstrip(".")))  # a name keeps its leading dots unredacted
        start, end = place.start, place.end
        if not 0 <= start <= end <= place.known_end <= len(text):
            return "its recorded place is not in the output value"
        lo, hi = max(0, start - WINDOW), min(place.known_end, end + WINDOW)
        before = _shown(text, lo, start, place.kept)
        after = _shown(text, end, hi, place.kept)
        span_text = KEPT if span.get("action") == "kept" else text[start:end]
        return Context(("…" if lo > 0 else "") + before, span_text, after + ("…" if hi < len(text) else ""))

    def _value(self, span: dict[str, Any], field: str) -> str | _WhyNot:
        """The output value the span sits in."""
        if span.get("field_kind") == "path":
            # A file or folder name: the output path the audit records is the output's, and needs no file.
            parts = self.doc_path.split("/")
            column = span.get("column")
            if not isinstance(column, int) or not 1 <= column <= len(parts):
                return _WhyNot("its name is not in the output path")
            return parts[column - 1]
        if self.values is None:
            return _WhyNot(self.why_not)
        text = self.values.get(field)
        if text is None:
            if span.get("action") == "redacted" and span.get("operator") in ("redact", "remove"):
                return ""  # a value redacted to nothing is no value of the output any more
            return _WhyNot("its value is not in the output file")
        return text


@dataclass(frozen=True)
class _WhyNot:
    reason: str


@dataclass(frozen=True)
class _Place:
    """Where a span is in its output value, where the kept flagged spans around it are, and how far the
    output can be shown (all of it, unless a run of an older version left a replacement's length unknown)."""

    start: int
    end: int
    kept: tuple[tuple[int, int], ...]
    known_end: int

    def moved(self, by: int) -> _Place:
        return _Place(self.start + by, self.end + by, tuple((a + by, b + by) for a, b in self.kept), self.known_end + by)


def _recorded(span: dict[str, Any], same_value: list[dict[str, Any]], text: str) -> _Place:
    """The places the run recorded."""
    kept = tuple((s["out_start"], s["out_end"]) for s in same_value
                 if s.get("action") == "kept" and s.get("out_start") is not None and s["out_end"] > s["out_start"])
    return _Place(span["out_start"], span["out_end"], kept, len(text))


def _estimated(span: dict[str, Any], same_value: list[dict[str, Any]], text: str,
               policy: Optional[Policy]) -> _Place | str:
    """The places computed from the replacements' known lengths, for a run that recorded none; or why not."""
    segments = _segments(same_value, text, policy)
    target = next((g for g in segments if g.src_start <= span["start"] and span["end"] <= g.src_end
                   and g.kept == (span.get("action") == "kept")), None)
    if target is None:
        return "its place in the output cannot be computed from the audit rows"
    if target.out_start is None:
        return "it comes after a pseudonym or an encrypted value, whose length the audit does not record"
    if target.out_end is None:
        return "its replacement's length is not recorded (pseudonym or encrypted value)"
    known_end = next((g.out_start for g in segments if g.out_end is None), len(text))
    kept = tuple((g.out_start, g.out_end) for g in segments if g.kept and g.out_end is not None)
    return _Place(target.out_start, target.out_end, kept, known_end)


@dataclass(frozen=True)
class _Segment:
    """A stretch of the output that stands for a flagged span of the source (runs without output offsets)."""

    src_start: int
    src_end: int
    out_start: Optional[int]  # None: after a replacement whose length is not known
    out_end: Optional[int]  # None: the replacement's length is not known (and nothing after it is)
    kept: bool


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


def _shown(text: str, lo: int, hi: int, kept: tuple[tuple[int, int], ...]) -> str:
    """text[lo:hi] with every kept flagged span in it hidden, whitespace runs as one space."""
    pieces, pos = [], lo
    for a, b in sorted(kept):
        if b <= pos or a >= hi:
            continue
        pieces += [text[pos:max(pos, a)], KEPT]
        pos = min(max(pos, b), hi)
    pieces.append(text[pos:hi])
    return re.sub(r"\s+", " ", "".join(pieces))
