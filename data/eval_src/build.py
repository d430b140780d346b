"""Build the hand-written evaluation sets from their inline-markup sources (stdlib only).

    python data/eval_src/build.py            # writes data/wild.jsonl and data/everyday.jsonl
    python data/eval_src/build.py --check    # checks and prints counts, writes nothing

Sources:
  data/eval_src/wild/<genre>.md   one file per genre (the file name is the genre)
  data/eval_src/everyday.md       one- or two-line texts; the genre is given after the id

A source file is a sequence of documents, each starting with a line `=== <id>` or
`=== <id> <genre>`. Anything before the first `===` line is a comment. Blank lines at the start
and end of a document are dropped; everything else is kept as written.

A sensitive span is written inline as [[LABEL|IDENTIFIER:value]], e.g.
    Please call [[PERSON|DIRECT:Tomás Ruiz]] back at [[PHONE_NUMBER|DIRECT:(415) 555-0187]].
Spans do not nest. The value is the exact text that stays in the document.
Short forms, to keep the sources readable: a label may be abbreviated (P, LOC, ORG, DT, PH, EM, IP,
CC, SSN, DEM, QTY; ADDR is LOCATION|DIRECT, for street addresses), the identifier may be abbreviated
(D, Q, N), and it may be left out where the label has a default (see DEFAULTS: names, e-mails,
phones, SSNs, cards, IBANs are DIRECT; places, organisations, dates, IPs, URLs, demographics,
quantities and MISC are QUASI; ID has no default and always says DIRECT or QUASI). So
    Please call [[P:Tomás Ruiz]] back at [[PH:(415) 555-0187]] before [[DT:Friday]].
A bracket of the text itself may touch a span: `[[[DT:09:14]]] <[[ID|D:tranvu]]>` gives `[09:14] <tranvu>`.

Checks (any failure stops the build): known label and identifier, no whitespace at either end of a
value, no markup left in the text, unique ids, spans sorted and non-overlapping and equal to
text[start:end], every CREDIT_CARD passes the Luhn check, every IBAN_CODE has a valid mod-97
checksum, every US_SSN looks like one, no PERSON span starts with a title (Mr, Dr, Frau, ...),
every everyday text holds a DIRECT span.
Warnings (printed, not fatal): an annotated value, or a capitalised part of an annotated name, that
also occurs unannotated in the same document, and e-mail / IPv4 / long-digit patterns that no span covers, so they can be looked at by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent

LABELS = {
    "PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME", "PHONE_NUMBER", "EMAIL_ADDRESS", "URL",
    "IP_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "ID", "DEMOGRAPHIC", "QUANTITY", "MISC",
}
IDENTIFIERS = {"DIRECT", "QUASI", "NO_MASK"}
SHORT_LABELS = {
    "P": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION", "DT": "DATE_TIME", "PH": "PHONE_NUMBER",
    "EM": "EMAIL_ADDRESS", "IP": "IP_ADDRESS", "CC": "CREDIT_CARD", "IBAN": "IBAN_CODE", "SSN": "US_SSN",
    "DEM": "DEMOGRAPHIC", "QTY": "QUANTITY",
}
SHORT_IDENTIFIERS = {"D": "DIRECT", "Q": "QUASI", "N": "NO_MASK"}
DEFAULTS = {
    "PERSON": "DIRECT", "EMAIL_ADDRESS": "DIRECT", "PHONE_NUMBER": "DIRECT", "US_SSN": "DIRECT",
    "CREDIT_CARD": "DIRECT", "IBAN_CODE": "DIRECT", "LOCATION": "QUASI", "ORGANIZATION": "QUASI",
    "DATE_TIME": "QUASI", "IP_ADDRESS": "QUASI", "URL": "QUASI", "DEMOGRAPHIC": "QUASI",
    "QUANTITY": "QUASI", "MISC": "QUASI",
}

SPAN = re.compile(r"\[\[([A-Z_]+)(?:\|([A-Z_]+))?:(.*?)\]\]", re.S)
TITLE = re.compile(r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Sr|Sra|Srta|Mme|Mlle|Herr|Frau)\.?\s", re.I)
HEADER = re.compile(r"^=== (\S+)(?: (\S+))?\s*$")


class BuildError(Exception):
    pass


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = re.sub(r"[\s-]", "", iban).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", s):
        return False
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def ssn_ok(ssn: str) -> bool:
    return bool(re.fullmatch(r"\d{3}[- ]?\d{2}[- ]?\d{4}", ssn))


def parse_document(doc_id: str, source: str, where: str) -> tuple[str, list[dict]]:
    """Turn marked-up text into (text, spans) with exact character offsets."""
    text_parts, spans, pos, out_len = [], [], 0, 0
    for m in SPAN.finditer(source):
        label, ident, value = m.groups()
        if label == "ADDR":
            if ident is not None:
                raise BuildError(f"{where}: {doc_id}: ADDR takes no identifier (it is LOCATION|DIRECT)")
            label, ident = "LOCATION", "DIRECT"
        label = SHORT_LABELS.get(label, label)
        ident = SHORT_IDENTIFIERS.get(ident, ident) if ident else DEFAULTS.get(label)
        before = source[pos:m.start()]
        text_parts.append(before)
        out_len += len(before)
        if label not in LABELS:
            raise BuildError(f"{where}: {doc_id}: unknown label {label!r}")
        if ident is None:
            raise BuildError(f"{where}: {doc_id}: {label} needs an identifier ({value!r})")
        if ident not in IDENTIFIERS:
            raise BuildError(f"{where}: {doc_id}: unknown identifier {ident!r}")
        if not value or value != value.strip():
            raise BuildError(f"{where}: {doc_id}: empty value or whitespace at the edge: {value!r}")
        if "[[" in value or "]]" in value:
            raise BuildError(f"{where}: {doc_id}: nested markup in {value!r}")
        if label == "PERSON" and TITLE.match(value):
            raise BuildError(f"{where}: {doc_id}: the title stays outside the PERSON span: {value!r}")
        if label == "CREDIT_CARD" and not luhn_ok(value):
            raise BuildError(f"{where}: {doc_id}: card number fails the Luhn check: {value}")
        if label == "IBAN_CODE" and not iban_ok(value):
            raise BuildError(f"{where}: {doc_id}: IBAN checksum is wrong: {value}")
        if label == "US_SSN" and not ssn_ok(value):
            raise BuildError(f"{where}: {doc_id}: not an SSN: {value}")
        spans.append({"start": out_len, "end": out_len + len(value), "label": label, "identifier": ident})
        text_parts.append(value)
        out_len += len(value)
        pos = m.end()
    text_parts.append(source[pos:])
    text = "".join(text_parts)
    for bad in ("[[", "]]", "|DIRECT:", "|QUASI:", "|NO_MASK:", "|D:", "|Q:", "|N:"):
        if bad in text:
            i = text.index(bad)
            raise BuildError(f"{where}: {doc_id}: markup left in the text near {text[max(0, i - 30):i + 30]!r}")
    return text, spans


def check_spans(doc: dict, where: str) -> None:
    text, last_end = doc["text"], 0
    for s in doc["spans"]:
        value = text[s["start"]:s["end"]]
        if s["start"] < last_end:
            raise BuildError(f"{where}: {doc['id']}: spans overlap or are out of order at {s}")
        if not value or value != value.strip():
            raise BuildError(f"{where}: {doc['id']}: bad span {s} -> {value!r}")
        last_end = s["end"]


def read_source(path: Path, default_genre: str | None) -> list[dict]:
    docs, current, lines = [], None, []

    def flush():
        if current is None:
            return
        doc_id, genre = current
        if genre is None:
            raise BuildError(f"{path}: {doc_id}: no genre")
        source = "\n".join(lines).strip("\n")
        if not source.strip():
            raise BuildError(f"{path}: {doc_id}: empty document")
        text, spans = parse_document(doc_id, source, str(path))
        docs.append({"id": doc_id, "text": text, "genre": genre, "spans": spans})

    for line in path.read_text(encoding="utf-8").splitlines():
        m = HEADER.match(line)
        if m:
            flush()
            current, lines = (m.group(1), m.group(2) or default_genre), []
        elif current is not None:
            lines.append(line)
    flush()
    return docs


PATTERNS = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "IPv4": re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"),
    "long digits": re.compile(r"\b\d[\d -]{6,}\d\b"),
}


def warnings_for(doc: dict) -> list[str]:
    text, spans = doc["text"], doc["spans"]
    covered = [False] * len(text)
    for s in spans:
        for i in range(s["start"], s["end"]):
            covered[i] = True
    out = []
    seen = set()
    for s in spans:
        value = text[s["start"]:s["end"]]
        if len(value) < 3 or value in seen or s["identifier"] == "NO_MASK":
            continue
        seen.add(value)
        for m in re.finditer(r"(?<!\w)" + re.escape(value) + r"(?!\w)", text):
            if not any(covered[m.start():m.end()]):
                out.append(f"{doc['id']}: {value!r} also occurs unannotated at {m.start()}")
    for s in spans:
        if s["label"] != "PERSON":
            continue
        for word in re.findall(r"[^\W\d_][\w'-]{2,}", text[s["start"]:s["end"]]):
            if word in seen or not word[0].isupper():
                continue
            seen.add(word)
            for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text):
                if not any(covered[m.start():m.end()]):
                    out.append(f"{doc['id']}: name part {word!r} occurs unannotated at {m.start()}")
    for name, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            if not any(covered[m.start():m.end()]):
                out.append(f"{doc['id']}: unannotated {name} {m.group()!r}")
    return out


def build(check_only: bool, quiet_warnings: bool) -> int:
    sets = {
        "wild": [p for p in sorted((HERE / "wild").glob("*.md"))],
        "everyday": [HERE / "everyday.md"],
    }
    ids: set[str] = set()
    for name, paths in sets.items():
        docs = []
        for path in paths:
            if not path.exists():
                continue
            default_genre = path.stem if name == "wild" else None
            for doc in read_source(path, default_genre):
                if doc["id"] in ids:
                    raise BuildError(f"{path}: duplicate id {doc['id']}")
                ids.add(doc["id"])
                check_spans(doc, str(path))
                if name == "everyday" and not any(s["identifier"] == "DIRECT" for s in doc["spans"]):
                    raise BuildError(f"{path}: {doc['id']}: an everyday text needs a DIRECT span")
                docs.append(doc)
        warnings = [w for d in docs for w in warnings_for(d)]
        print_counts(name, docs)
        if warnings and not quiet_warnings:
            print(f"  {len(warnings)} warnings (look at them by hand):")
            for w in warnings:
                print("   ", w)
        if not check_only:
            out = DATA / f"{name}.jsonl"
            with out.open("w", encoding="utf-8") as f:
                for d in docs:
                    f.write(json.dumps(d, ensure_ascii=False) + "\n")
            print(f"  wrote {out.relative_to(DATA.parent)}")
    return 0


def print_counts(name: str, docs: list[dict]) -> None:
    spans = [s for d in docs for s in d["spans"]]
    words = sorted(len(d["text"].split()) for d in docs)
    print(f"{name}: {len(docs)} documents, {len(spans)} spans, "
          f"words per document min {words[0] if words else 0} / median {words[len(words) // 2] if words else 0}"
          f" / max {words[-1] if words else 0}")
    for title, counter in (
        ("genre", Counter(d["genre"] for d in docs)),
        ("label", Counter(s["label"] for s in spans)),
        ("identifier", Counter(s["identifier"] for s in spans)),
    ):
        print(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check and count only; write nothing")
    parser.add_argument("--no-warnings", action="store_true", help="do not list the warnings")
    args = parser.parse_args()
    try:
        return build(args.check, args.no_warnings)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
