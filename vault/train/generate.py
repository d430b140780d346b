"""Synthetic gold documents for training and evaluating vault's redaction models: the one command line.

`generate(n_docs, seed, split)` returns documents of the templated kinds (kinds.py) in vault's gold format;
the id names the split, seed, index, document kind and Faker locale, e.g. ``train-1-00007-invoice-de_DE``.
`snippets` cuts short texts from a document, as `vault redact` sees CSV cells and JSON values;
`write_samples` writes the demo input tree of data/samples. How documents are built, the kinds, the
template syntax and what is deterministic: vault/train/data/README.md.

CLI (the genres too):
    python -m vault.train.generate --n 100 --seed 1 --split train --out FILE.jsonl
    python -m vault.train.generate --genres --n 100 --seed 0 --out FILE.jsonl
    python -m vault.train.generate --samples DIR --seed 7
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
from pathlib import Path

from vault.train.kinds import Doc, GEN, Person, SPLITS, generate_doc
from vault.train.pieces import rotation




def generate(n_docs: int, seed: int, split: str = "train", noise: float = 0.3) -> list[dict]:
    """`n_docs` gold documents of the split's kinds, in gold format.

    The same (seed, split) gives the same documents, and generate(n, s) is a prefix of
    generate(m, s) for n < m. Kinds rotate through the split's list in a seeded order, so every
    kind is represented evenly.
    `noise` is the probability that a document gets noise (ALL CAPS lines, OCR errors, doubled
    spaces, hard wraps); 0 turns it off.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, not {split!r}")
    return [generate_doc(kind, doc_seed, noise, id_prefix=f"{split}-{seed}-{i:05d}-")
            for i, kind, doc_seed in rotation(random.Random(f"{split}:{seed}"), SPLITS[split], n_docs)]


class _Planted:
    """The PII values written into the sample files, in the order they were first written.

    Each sample document and person draws from its own seeded generator, so the order of the calls
    below fixes both the files' bytes and the order of the returned values: keep it.
    """

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.values: list[str] = []

    def doc(self, kind: str) -> str:
        """The text of a fresh document of `kind`, its sensitive spans planted."""
        d = generate_doc(kind, self.rng.getrandbits(48), noise=0.0)
        self.values.extend(d["text"][s["start"]:s["end"]] for s in d["spans"])
        return d["text"] + "\n"

    def of(self, person: Person, *attrs: str) -> list[str]:
        """The person's values of `attrs`, planted."""
        got = [person.value(a) for a in attrs]
        self.values.extend(got)
        return got


def _documents(planted: _Planted) -> dict[str, str]:
    """The five prose files, one in a nested folder, two with a Markdown heading."""
    return {
        "hr_email.txt": planted.doc("hr_email"),
        "clinical_note.md": "# Clinical note\n\n" + planted.doc("clinical_note"),
        "bank_letter.txt": planted.doc("bank_letter"),
        "tickets/support_ticket.md": "## Support ticket\n\n" + planted.doc("support_ticket"),
        "archive/2023/police_report.txt": planted.doc("police_report"),
    }


def _customers_csv(planted: _Planted, people: list[Person]) -> str:
    """One row a person: name, e-mail, phone and a note that names a city and an age in words."""
    rows = []
    for p in people:
        name, email, phone = planted.of(p, "full", "email", "phone")
        city, = planted.of(p, "city")
        age, = planted.of(p, "age_words")
        rows.append([name, email, phone, f"Called about a late delivery; lives in {city}, {age}."])
    sio = io.StringIO()
    csv.writer(sio, lineterminator="\n").writerows([["name", "email", "phone", "notes"], *rows])
    return sio.getvalue()


def _profile_json(planted: _Planted, customer: Person, kin: Person) -> str:
    """A nested customer profile with an emergency contact."""
    name, email, phone, addr, iban, dob = planted.of(customer, "full", "email", "phone", "addr1", "iban", "dob")
    kin_name, kin_phone = planted.of(kin, "full", "phone")
    relation = kin.attr("sibling")[0][0]
    profile = {
        "customer": {
            "name": name,
            "contact": {"email": email, "phone": phone},
            "address": addr,
            "date_of_birth": dob,
        },
        "payment": {"iban": iban, "method": "direct debit"},
        "emergency_contact": {"name": kin_name, "phone": kin_phone, "relation": relation},
        "notes": [f"Prefers e-mail ({email}) over phone.", "Uses the mobile app, version 4.2."],
    }
    return json.dumps(profile, indent=2, ensure_ascii=False) + "\n"


def _chat_jsonl(planted: _Planted, people: list[Person]) -> str:
    """Three chat messages between two of the people that mention the third's address and name."""
    a_name, a_email = planted.of(people[2], "first", "email")
    b_name, b_phone = planted.of(people[1], "first", "phone")
    c_addr, = planted.of(people[0], "addr1")
    c_name = people[0].value("full")  # planted with the profile already
    records = [
        {"id": 1, "user": a_name, "message": f"Hi, please send the contract to {a_email}."},
        {"id": 2, "user": b_name, "message": f"Sure, call me on {b_phone} if anything is unclear."},
        {"id": 3, "user": a_name, "message": f"The keys are at {c_addr}, ask for {c_name}."},
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_samples(out_dir: str | Path, seed: int) -> list[str]:
    """Write a small tree of synthetic input files under `out_dir`; return the planted PII values.

    Eight files: .txt and .md documents (one in a nested folder), a nested .json object, a .jsonl
    of three records and a .csv of five people. No noise, so every returned value appears
    verbatim in some file.
    """
    out = Path(out_dir)
    planted = _Planted(random.Random(f"samples:{seed}"))
    files = _documents(planted)
    people = [Person(Doc("support_ticket", planted.rng.getrandbits(48)), "customer", "en_US")
              for _ in range(5)]
    files["customers.csv"] = _customers_csv(planted, people)
    files["profile.json"] = _profile_json(planted, people[0], people[1])
    files["chat_export.jsonl"] = _chat_jsonl(planted, people)

    for rel, content in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(dict.fromkeys(v for v in planted.values if v))


# What `vault redact` puts before a CSV cell or JSON value ("column: value"), by what the value is.
FIELD_KEYS, NEUTRAL_FIELDS = GEN["field_keys"], GEN["neutral_fields"]


def snippets(doc: dict, rng: random.Random, n: int) -> list[dict]:
    """Short gold texts cut from a gold document: about n/2 single lines (those that cut no
    sensitive span in two), about n/2 single sensitive values after a field name ("name: Ann
    Berg"), and one neutral field ("relation: brother"). A model trained on long documents alone
    misses names in a three-word cell."""
    text = doc["text"]
    sensitive = [s for s in doc["spans"] if s.get("identifier", "DIRECT") != "NO_MASK"]
    out = []
    lines, pos = [], 0
    for line in text.split("\n"):
        if 0 < len(line.strip()) <= 300:
            lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    for a, b in rng.sample(lines, min(n // 2, len(lines))):
        if all(s["end"] <= a or s["start"] >= b or (a <= s["start"] and s["end"] <= b) for s in sensitive):
            inside = [dict(s, start=s["start"] - a, end=s["end"] - a) for s in doc["spans"]
                      if a <= s["start"] and s["end"] <= b]
            out.append({"id": f"{doc['id']}#line{a}", "text": text[a:b], "spans": inside})
    for s in rng.sample(sensitive, min(n - n // 2, len(sensitive))):
        value = text[s["start"]:s["end"]]
        if s["label"] in FIELD_KEYS and "\n" not in value:
            key = rng.choice(FIELD_KEYS[s["label"]]) + ": "
            out.append({"id": f"{doc['id']}#field{s['start']}", "text": key + value,
                        "spans": [dict(s, start=len(key), end=len(key) + len(value))]})
    key, value = rng.choice(NEUTRAL_FIELDS)
    out.append({"id": f"{doc['id']}#neutral", "text": f"{key}: {value}", "spans": []})
    return out


def main(argv: list[str] | None = None) -> int:
    """The one command line for generated data: templated kinds (default) or --genres, as documents, snippets
    or the demo sample tree."""
    ap = argparse.ArgumentParser(prog="python -m vault.train.generate",
                                 description="Generate synthetic gold documents for vault.")
    ap.add_argument("--n", type=int, default=100, help="number of documents")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--genres", action="store_true",
                    help="documents of the many genres (vault.train.genres) instead of the templated kinds")
    ap.add_argument("--split", default="train",
                    help=f"{' or '.join(sorted(SPLITS))}; with --genres any lowercase word (default: train)")
    ap.add_argument("--noise", type=float, default=0.3,
                    help="probability a templated document is noisy (the genres have their own)")
    ap.add_argument("--out", help="output JSONL file (default: stdout)")
    ap.add_argument("--samples", metavar="DIR", help="write the demo sample tree to DIR instead")
    ap.add_argument("--snippets", type=int, default=0, metavar="N",
                    help="write about N short snippets of each document (lines, 'field: value') instead of it")
    args = ap.parse_args(argv)
    if args.samples:
        values = write_samples(args.samples, args.seed)
        print(f"wrote samples to {args.samples} ({len(values)} planted values)", file=sys.stderr)
        return 0
    if args.genres:
        from vault.train.genres import generate_genres  # genres.py builds on this module

        docs = generate_genres(args.n, args.seed, args.split)
    elif args.split in SPLITS:
        docs = generate(args.n, args.seed, args.split, args.noise)
    else:
        ap.error(f"--split must be one of {sorted(SPLITS)} without --genres")
    if args.snippets:
        rng = random.Random(args.seed)
        docs = [s for d in docs for s in snippets(d, rng, args.snippets)]
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(lines, encoding="utf-8")
        print(f"wrote {len(docs)} documents to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
