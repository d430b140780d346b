"""Decide what is redacted: everything between the oracle's output and rendering.

`decide_texts` is the one entry point (vault.pipeline.Redactor calls it once per batch): for each text, the
hints the oracle nearly tagged (`doubted_hints`), the union of what the detectors the policy trusts found
(`decide`), repeats within the text, then repeats across the values of one file (`spread`). What comes out
is a list of `Decision`s per text, in the text's own coordinates; vault.render applies the operators.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable, Literal, Optional

from vault.keys import keyed_hash
from vault.policy import Policy
from vault.spans import VALIDATED_TYPES, Span, overlap_groups

Action = Literal["redacted", "kept"]
Reason = Literal["oracle", "recognizer", "type mass", "hint mass", "consistency", "allow list", "not in policy",
                 "below threshold"]


@dataclass(frozen=True)
class Decision:
    """What happened to one span, and why. `detectors` are (name, score) of every detector
    that proposed it, the oracle included. `reason` names the rule that decided it: "oracle" (the
    oracle tagged a policy type), "recognizer" (a recognizer the policy trusts found it and the
    oracle did not redact it), "type mass" (the oracle tagged a type the policy keeps but gave the
    policy's types enough probability), "hint mass" (a detector's hint the oracle did not tag, but
    where it gave opening a span of the policy's types enough probability), "consistency" (a repeat of a redacted value), or, for kept
    spans, "allow list", "not in policy", "below threshold". `hold` marks a must-redact hit the
    oracle did not confirm under `on_disagreement: hold` (the span is still redacted: the
    document is held)."""

    span: Span
    action: Action
    reason: Reason
    detectors: tuple[tuple[str, float], ...] = ()
    hold: bool = False


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _covered(span: Span, cover: list[Span]) -> bool:
    """Whether every character of `span` lies in one of `cover` (sorted by start)."""
    pos = span.start
    for c in cover:
        if c.start > pos:
            break
        pos = max(pos, c.end)
        if pos >= span.end:
            return True
    return pos >= span.end


def policy_type(span: Span, policy: Policy) -> Optional[str]:
    """The policy type an oracle span counts as: its own type if the policy redacts it; else the
    likeliest redacted type, when the oracle's probability mass over the redacted types reaches the
    policy's `type_mass_threshold`; else None. So a name the oracle labelled DATE_TIME under a
    policy that keeps dates, but that it also thought likely a PERSON, is still redacted."""
    if policy.redacts(span.entity_type):
        return span.entity_type
    redacted = [(p, t) for t, p in span.type_probs if policy.redacts(t)]
    if redacted and sum(p for p, _ in redacted) >= policy.type_mass_threshold:
        return max(redacted)[1]
    return None


def doubted_hints(hints: list[Span], offsets: list[tuple[int, int]], doubts: dict[int, dict[str, float]],
                  policy: Policy) -> list[tuple[Span, float]]:
    """The hints (vault.hints) that the oracle did not tag (whether it read them or not), but where it
    gave opening a span of the policy's types, before the hint's first token, at least the policy's
    `hint_mass_threshold` of its probability: each as (the hint as a span of the likeliest such type,
    from "hint:SOURCE"; that mass). `doubts` maps a token index to the oracle's probability of opening each type there (only
    where it did not open one)."""
    out, ends = [], [b for _, b in offsets]
    for h in hints:
        # The first token that ends after the hint starts (a bisection: long texts hold many hints).
        first = bisect.bisect_right(ends, h.start)
        while first < len(offsets) and offsets[first][0] >= offsets[first][1]:  # tokens of no characters
            first += 1
        if first == len(offsets) or offsets[first][0] >= h.end:
            continue
        redacted = [(p, t) for t, p in doubts.get(first, {}).items() if policy.redacts(t)]
        mass = sum(p for p, _ in redacted)
        if redacted and mass >= policy.hint_mass_threshold:
            out.append((replace(h, entity_type=max(redacted)[1], source=f"hint:{h.source}"), round(mass, 4)))
    return out


def decide(oracle_spans: list[Span], candidates: list[Span], policy: Policy, text: str,
           doubted: list[tuple[Span, float]] = ()) -> list[Decision]:
    """Every character that a detector the policy trusts calls sensitive is redacted: the union of
    the oracle's spans (of policy types, by label or by probability mass), the recognizers' hits
    of policy types at or above threshold, and the hints the oracle nearly tagged (`doubted_hints`),
    with the union's boundaries. The oracle's label can therefore never turn a value a recognizer
    found into a kept one."""
    decisions: list[Decision] = []
    candidates = [_bare_name(c, text) for c in candidates]
    doubted = [(_bare_name(h, text), mass) for h, mass in doubted]
    trusted = [c for c in candidates if c.entity_type in VALIDATED_TYPES and policy.redacts(c.entity_type)
               and c.score >= policy.rule(c.entity_type).threshold and not policy.allowed(text[c.start:c.end])]
    oracle_spans = cut_at_values(oracle_spans, trusted, text)
    for h, mass in doubted:
        kept = policy.allowed(text[h.start:h.end])
        decisions.append(Decision(h, "kept" if kept else "redacted", "allow list" if kept else "hint mass",
                                  (("oracle", mass), (h.source, h.score))))
    for o in oracle_spans:
        etype = policy_type(o, policy)
        if etype is None:
            action, reason = "kept", "not in policy"
        elif policy.allowed(text[o.start:o.end]):
            action, reason = "kept", "allow list"
        else:
            action, reason = "redacted", "oracle" if etype == o.entity_type else "type mass"
            o = replace(o, entity_type=etype)
        decisions.append(Decision(o, action, reason, (("oracle", o.score),)))

    oracle_cover = sorted((d.span for d in decisions if d.action == "redacted"), key=lambda s: s.start)
    for c in candidates:
        rule = policy.rule(c.entity_type)
        action, reason, hold = "kept", "", False
        if not policy.redacts(c.entity_type):
            reason = "not in policy"
        elif c.score < rule.threshold:
            reason = "below threshold"
        elif policy.allowed(text[c.start:c.end]):
            reason = "allow list"
        else:
            confirmed = _covered(c, oracle_cover)
            action, reason = "redacted", "oracle" if confirmed else "recognizer"
            hold = not confirmed and policy.on_disagreement == "hold" and policy.is_must_redact(c.entity_type, c.source)
        decisions.append(Decision(c, action, reason, ((c.source, c.score),), hold))
    decisions = _without_stray_brackets(_settle(decisions, text), text)
    if policy.redact_repeats:
        decisions = _without_stray_brackets(_settle(spread(decisions, redacted_values(decisions, text), policy, text), text), text)
    return decisions


_CLOSERS = {")": "(", "]": "[", "}": "{"}
_OPENERS = {o: c for c, o in _CLOSERS.items()}


def _without_stray_brackets(decisions: list[Decision], text: str) -> list[Decision]:
    """A redaction only the oracle made does not take a bracket at its edge whose partner is outside it
    ("(Kraków, PL)" tagged from "Kraków" to the ")"): a bracket identifies no one, and without it the reader
    loses the sentence's punctuation. A span a recognizer or a repeat took part in is left as it is."""
    out = []
    for d in decisions:
        start, end = d.span.start, d.span.end
        if d.action == "redacted" and all(name == "oracle" for name, _ in d.detectors):
            while end - start > 1:
                first, last = text[start], text[end - 1]
                if last in _CLOSERS and text.count(last, start, end) > text.count(_CLOSERS[last], start, end):
                    end -= 1
                    while end - start > 1 and text[end - 1].isspace():
                        end -= 1
                elif first in _OPENERS and text.count(first, start, end) > text.count(_OPENERS[first], start, end):
                    start += 1
                    while end - start > 1 and text[start].isspace():
                        start += 1
                else:
                    break
        out.append(d if (start, end) == (d.span.start, d.span.end) else replace(d, span=replace(d.span, start=start, end=end)))
    return out


_POSSESSIVE = re.compile(r"['’]s?$")


def _bare_name(span: Span, text: str) -> Span:
    """A person found by a recognizer or a hint (spaCy reads "Ms Achterberg's" as one name) without a leading
    courtesy title or a trailing possessive: neither identifies anyone, and the reader keeps them."""
    if span.entity_type != "PERSON" or span.source == "oracle":
        return span
    start, end = span.start, span.end
    words = text[start:end].split(" ")
    if len(words) > 1 and words[0].rstrip(".") in _TITLES:
        start += len(words[0]) + 1
    tail = _POSSESSIVE.search(text[start:end])
    if tail and end - start - len(tail.group()) >= 2:
        end -= len(tail.group())
    return span if (start, end) == (span.start, span.end) else replace(span, start=start, end=end)


def cut_at_values(oracle_spans: list[Span], values: list[Span], text: str) -> list[Span]:
    """Oracle spans that run past a validated value a recognizer found (a phone number, an e-mail, ...) cut
    at the value's edges: the value gets its own tag and type, and the oracle's words on either side stay
    spans of their own (still redacted: the union rule loses nothing), rather than one tag over the name,
    the verb and the number."""
    out = []
    for o in oracle_spans:
        pieces = [(o.start, o.end)]
        for v in values:
            if not (v.start < o.end and o.start < v.end) or (v.start <= o.start and o.end <= v.end):
                continue  # apart, or inside the value: the merge gives it the value's edges and type
            pieces = [part for a, b in pieces for part in ((a, min(b, v.start)), (max(a, v.end), b))]
        if pieces == [(o.start, o.end)]:
            out.append(o)
            continue
        for a, b in pieces:  # without the spaces and punctuation between the words and the value
            while a < b and not text[a].isalnum():
                a += 1
            while b > a and not text[b - 1].isalnum():
                b -= 1
            if any(ch.isalnum() for ch in text[a:b]):
                out.append(replace(o, start=a, end=b))
    return out


def _settle(decisions: list[Decision], text: str) -> list[Decision]:
    """Merged, in whole words, and again until the redactions stop growing: a word taken can reach
    a span that then merges, and a merged span can end inside a word."""
    shape = lambda ds: sorted((d.span.start, d.span.end, d.action) for d in ds)  # noqa: E731
    decisions = _merge(decisions)
    while True:  # ends: each round only widens redactions, within the text
        settled = _merge(_whole_words(decisions, text))
        if shape(settled) == shape(decisions):
            return settled
        decisions = settled


def _whole_words(decisions: list[Decision], text: str) -> list[Decision]:
    """A redaction that starts or ends inside a word takes the whole word: a value cut mid-word
    (`<ID>lacruz` for "r.delacruz") leaves part of it readable, and the oracle's chunks and
    tokens do not always end where words do."""
    out = []
    for d in decisions:
        start, end = d.span.start, d.span.end
        if d.action == "redacted":
            while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
                start -= 1
            while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
                end += 1
            if "@" in text[start:end]:  # an address is one word: "chidi.eze@protonmail" must take ".example"
                start, end = _address_edges(text, start, end)
        out.append(d if (start, end) == (d.span.start, d.span.end) else replace(d, span=replace(d.span, start=start, end=end)))
    return out


_ADDRESS_CHAR = re.compile(r"[\w.+%-]")


def _address_edges(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened over the characters an e-mail address is made of, without a sentence's full stop
    (only ever widened: what was redacted stays redacted)."""
    while start > 0 and _ADDRESS_CHAR.match(text[start - 1]):
        start -= 1
    wide = end
    while wide < len(text) and _ADDRESS_CHAR.match(text[wide]):
        wide += 1
    while wide > end and text[wide - 1] in ".-":
        wide -= 1
    return start, wide


# Courtesy titles are not part of what identifies a person: "Mr" alone must not spread.
_TITLES = {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Lady", "Lord", "Judge", "Herr", "Frau"}
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def redacted_values(decisions: list[Decision], text: str) -> dict[str, str]:
    """The distinctive values redacted in a text, with their entity types, for `spread`: each
    redacted value, and each part of a redacted person's name. Only values with a capital letter
    or a digit count, so that a common word tagged once does not spread."""
    values: dict[str, str] = {}
    for d in decisions:
        if d.action != "redacted":
            continue
        value = text[d.span.start:d.span.end].strip()
        if _distinctive(value):
            values.setdefault(value, d.span.entity_type)
        if d.span.entity_type == "PERSON":
            for word in _WORD.findall(value):
                if _distinctive(word) and word[0].isupper() and word.rstrip(".") not in _TITLES:
                    values.setdefault(word, "PERSON")
    return values


def spread(decisions: list[Decision], values: dict[str, str], policy: Policy, text: str) -> list[Decision]:
    """Consistency: a value redacted once is redacted wherever else it stands in the same
    document (whole words, same case). The model reads a document in chunks, and a CSV or JSON
    file value by value, and can miss a repeat of what it tagged elsewhere; one visible repeat
    of "Mrs Willis" undoes every other redaction of her. Returns `decisions` with the repeats
    added (reason "consistency") and merged."""
    redacted = [d for d in decisions if d.action == "redacted"]
    values = {v: t for v, t in values.items() if not policy.allowed(v)}
    if not values:
        return decisions
    # One scan for all values, longest first so that "Mrs Willis" wins over "Willis" where both
    # fit; a lookahead, so that overlapping repeats ("Anna Anna" in "Anna Anna Anna") are all found.
    alternatives = "|".join(map(re.escape, sorted(values, key=len, reverse=True)))
    pattern = re.compile(r"(?<!\w)(?=(" + alternatives + r")(?!\w))")
    cover: list[list[int]] = []  # the redacted characters as disjoint [start, end) runs
    for a, b in sorted((d.span.start, d.span.end) for d in redacted):
        if cover and a <= cover[-1][1]:
            cover[-1][1] = max(cover[-1][1], b)
        else:
            cover.append([a, b])
    starts = [a for a, _ in cover]
    found = []
    for m in pattern.finditer(text):
        a, b = m.span(1)
        i = bisect.bisect_right(starts, a) - 1
        if i < 0 or cover[i][1] < b:
            span = Span(a, b, values[m.group(1)], 1.0, "consistency")
            found.append(Decision(span, "redacted", "consistency", (("consistency", 1.0),)))
    return _merge(decisions + found) if found else decisions


def _distinctive(value: str) -> bool:
    return len(value) >= 3 and any(c.isupper() or c.isdigit() for c in value)


def _merge(decisions: list[Decision]) -> list[Decision]:
    """One decision per group of overlapping redactions, with the group's union of characters. An
    oracle span kept only because of its type that overlaps a redaction widens it (the union of
    what the detectors found is redacted); any other kept span overlapping a redaction is folded
    into it as evidence. A kept candidate overlapping a kept oracle span is folded into that one."""
    redacted = [d for d in decisions if d.action == "redacted"]
    widening = [d for d in decisions if d.action == "kept" and d.reason == "not in policy" and d.span.source == "oracle"]
    kept = [d for d in decisions if d.action == "kept"]
    merged = []
    # Widening spans join a group only through a redaction they overlap, never on their own.
    for group in overlap_groups(redacted + widening, lambda d: d.span):
        core = [d for d in group if d.action == "redacted"]
        if not core:
            continue
        group = core + [d for d in group if d.action == "kept"]
        first = min(core, key=lambda d: (d.span.source != "oracle", d.span.start, -d.span.end))
        # The group's type: a validated value's (its recognizer checked the format), else the first's.
        etype = next((d.span.entity_type for d in sorted(core, key=lambda d: (d.span.start, -d.span.end))
                      if d.span.source != "oracle" and d.span.entity_type in VALIDATED_TYPES), first.span.entity_type)
        start, end = min(d.span.start for d in group), max(d.span.end for d in group)
        folded = [k for k in kept if k.span.start < end and start < k.span.end and k not in group]
        members = group + folded
        reasons = [d.reason for d in core]
        merged.append(Decision(
            span=replace(first.span, start=start, end=end, entity_type=etype, score=max(d.span.score for d in core)),
            action="redacted",
            # The rule that redacted more than the oracle's own label would have names the group.
            reason=next(r for r in ("recognizer", "type mass", "hint mass", "consistency", "oracle") if r in reasons),
            detectors=_union_detectors(members),
            hold=any(d.hold for d in core),
        ))
    out = list(merged)
    rest = [k for k in kept if not any(_overlaps(k.span, m.span) for m in merged)]
    oracle_kept = [k for k in rest if k.span.source == "oracle"]
    for k in oracle_kept:
        folded = [c for c in rest if c.span.source != "oracle" and _overlaps(c.span, k.span)]
        out.append(replace(k, detectors=_union_detectors([k, *folded])))
    out += [c for c in rest if c.span.source != "oracle"
            and not any(_overlaps(c.span, k.span) for k in oracle_kept)]
    return sorted(out, key=lambda d: (d.span.start, d.span.end, d.span.source))


def _union_detectors(decisions: Iterable[Decision]) -> tuple[tuple[str, float], ...]:
    best: dict[str, float] = {}
    for d in decisions:
        for name, score in d.detectors:
            best[name] = max(score, best.get(name, score))
    return tuple(sorted(best.items()))


@dataclass(frozen=True)
class Verdict:
    """The oracle's decision at one source token, for the audit row of the span that starts there: to open
    a span before it, or to copy it without opening one."""

    chunk: int = 0
    logprob: float | None = None
    margin: float | None = None
    drafted: bool = False  # the drafter proposed the token the oracle chose
    checked: bool = False  # an oracle pass verified it


def span_row(decision: Decision, text: str, policy: Policy, key: bytes, verdict: Verdict = Verdict(),
             verified: bool = True, out: tuple[int | None, int | None] = (None, None)) -> dict:
    """A decision's row of the audit's spans table (its location columns are the caller's): the oracle's
    verdict where the span starts (whether the whole text was verified), every detector, and the value only
    as an HMAC."""
    span, names = decision.span, [n for n, _ in decision.detectors]
    recognizer_scores = [v for n, v in decision.detectors if n != "oracle"]
    rule = policy.rule(span.entity_type)
    return {
        "chunk": verdict.chunk,
        "start": span.start,
        "end": span.end,
        "out_start": out[0],
        "out_end": out[1],
        "entity_type": span.entity_type,
        "detectors": names,
        "detector_scores": [float(v) for _, v in decision.detectors],
        "detector_score": max(recognizer_scores) if recognizer_scores else None,
        "draft_proposed": verdict.drafted and "oracle" in names,
        "oracle_checked": verdict.checked and verified,
        "oracle_logprob": verdict.logprob,
        "oracle_margin": None if verdict.margin is None or verdict.margin == float("inf") else verdict.margin,
        "action": decision.action,
        "operator": rule.operator if decision.action == "redacted" and rule else "",
        "reason": decision.reason,
        "value_hmac": keyed_hash(key, text[span.start : span.end]),
    }


@dataclass(frozen=True)
class TextEvidence:
    """What the detectors and the oracle said about one text, in the coordinates of what they read: a context
    prefix (a column header, a JSON key), then the text. Texts with the same `document` are the values of one
    file."""

    read: str  # the prefix, then the text
    skip: int  # the prefix's length: only spans after it count
    offsets: list[tuple[int, int]]  # the characters of each token of `read`
    oracle_spans: list[Span]
    doubts: dict[int, dict[str, float]]  # token -> the oracle's probability of opening each type there, where it did not
    candidates: list[Span]  # the recognizers' hits
    hints: list[Span]
    document: int

    @property
    def text(self) -> str:
        """The text itself, without its prefix: the coordinates of its decisions."""
        return self.read[self.skip:]


def decide_texts(evidence: list[TextEvidence], policy: Policy) -> list[list[Decision]]:
    """Each text's decisions, in its own coordinates (after its prefix). `decide` spreads a text's redacted
    values within it; a file of several values (CSV cells, JSON strings) spreads them across its values too."""
    decisions = [_inside(decide(e.oracle_spans, e.candidates, policy, e.read,
                                doubted_hints(e.hints, e.offsets, e.doubts, policy)), e.skip) for e in evidence]
    if not policy.redact_repeats:
        return decisions
    size = Counter(e.document for e in evidence)
    shared = [t for t, e in enumerate(evidence) if size[e.document] > 1]  # a one-text file has nothing to add
    values: dict[int, dict[str, str]] = {}
    for t in shared:
        for value, etype in redacted_values(decisions[t], evidence[t].text).items():
            values.setdefault(evidence[t].document, {}).setdefault(value, etype)
    for t in shared:
        e = evidence[t]
        decisions[t] = spread(decisions[t], values.get(e.document, {}), policy, e.text)
    return decisions


def _inside(decisions: list[Decision], skip: int) -> list[Decision]:
    """The decisions about the text after a context prefix of `skip` characters, clipped to it
    and in its coordinates."""
    if not skip:
        return decisions
    return [replace(d, span=replace(d.span, start=max(d.span.start, skip) - skip, end=d.span.end - skip))
            for d in decisions if d.span.end > skip]
