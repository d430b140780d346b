"""`vault eval`: redaction quality on gold documents, through the same code path as `vault redact`.

Gold JSONL: {"id", "text", "spans": [{"start", "end", "label", "identifier"}]}; DIRECT and QUASI spans
must be redacted, NO_MASK spans need not be (their characters count neither for nor against precision).
Whitespace never counts. Metrics:

- leak: share of sensitive characters left visible (1 - character recall);
- mention recall: share of sensitive mentions redacted completely; `direct_recall` for DIRECT ones;
- precision: share of redacted characters that were sensitive; F1 of character recall and precision;
- per entity type: leak and mention recall by gold type, precision by predicted type;
- visible: how many direct identifiers (DIRECT spans, and IP addresses) were left visible in part or
  whole, by type, a street address counting as STREET_ADDRESS: the figure that must be 0 on everyday text.

What a reader sees (gold spans of the types the policy redacts; Presidio's labels in vault's names):

- exact lines: share of documents that come out word for word, each gold value replaced by its own
  type's tag and nothing else replaced;
- label accuracy: share of the gold mentions redacted completely whose redaction carries their gold type;
- words swallowed: words outside every gold span that were redacted, per 1,000 words.
"""

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable

from vault.spans import PRESIDIO_LABELS, TAB_LABELS

_WORDS = re.compile(r"\w+")

# The Text Anonymization Benchmark's dev set, shipped in the repository's data/ (MIT; see data/NOTICE):
# the default gold file of `vault eval` and the real documents of `vault bench`.
TAB_DEV = Path(__file__).resolve().parents[1] / "data" / "tab_echr_dev.jsonl"


def read_gold(path: Path) -> list[dict]:
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                doc = json.loads(line)
                doc["text"], doc["spans"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: line {n}: not a gold document ({exc})") from None
            for s in doc["spans"]:
                s["label"] = TAB_LABELS.get(s["label"], s["label"])
            docs.append(doc)
    return docs


def _chars(text: str, spans) -> set[int]:
    return {i for a, b in spans for i in range(a, b) if not text[i].isspace()}


def _trimmed(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def reader_view(text: str, spans: list[tuple[int, int, str]]) -> str:
    """The text as a reader of a tagged output sees it: each span replaced by `<TYPE>` (overlapping
    spans as one, with the first's type)."""
    out, pos = [], 0
    for a, b, label in sorted(_trimmed(text, a, b) + (label,) for a, b, label in spans):
        if a >= b:
            continue
        if a < pos:  # overlaps the previous tag: it already stands for these characters
            pos = max(pos, b)
            continue
        out += [text[pos:a], f"<{label}>"]
        pos = b
    return _ONE_ADDRESS.sub("<LOCATION>", "".join(out + [text[pos:]]))


# An address tagged as one place or as its street, town and postcode reads the same to a reader (the gold
# sets tag its parts; a model may tag it whole): places next to each other, apart by spaces and commas only, are one.
_ONE_ADDRESS = re.compile(r"<LOCATION>(?:[ ,]+<LOCATION>)+")


class Scores:
    """Character and mention counts, accumulated over documents. `redacts(type)` says which gold types
    the policy redacts: what the reader's figures (exact lines, label accuracy) expect to see tagged."""

    def __init__(self, redacts: Callable[[str], bool] = lambda label: True):
        self.sensitive = self.hidden = self.redacted = self.redacted_sensitive = 0
        self.mentions = self.mentions_hit = self.direct = self.direct_hit = 0
        self.by_type = defaultdict(lambda: defaultdict(int))
        self.visible: Counter = Counter()
        self.redacts = redacts
        self.documents = self.exact = self.labelled = self.labelled_right = self.words = self.swallowed = 0

    def add(self, text: str, gold: list[dict], predicted: list[tuple[int, int, str]]) -> None:
        must = [s for s in gold if s.get("identifier", "DIRECT") in ("DIRECT", "QUASI")]
        neutral = _chars(text, [(s["start"], s["end"]) for s in gold if s.get("identifier") == "NO_MASK"])
        sensitive = _chars(text, [(s["start"], s["end"]) for s in must])
        redacted = _chars(text, [(a, b) for a, b, _ in predicted])
        self.sensitive += len(sensitive)
        self.hidden += len(sensitive & redacted)
        counted = redacted - (neutral - sensitive)
        self.redacted += len(counted)
        self.redacted_sensitive += len(counted & sensitive)
        for s in must:
            chars = _chars(text, [(s["start"], s["end"])])
            hit = chars <= redacted
            t = self.by_type[s["label"]]
            t["sensitive"] += len(chars)
            t["hidden"] += len(chars & redacted)
            t["mentions"] += 1
            t["mentions_hit"] += hit
            self.mentions += 1
            self.mentions_hit += hit
            if s.get("identifier", "DIRECT") == "DIRECT":
                self.direct += 1
                self.direct_hit += hit
            if not hit and (s.get("identifier", "DIRECT") == "DIRECT" or s["label"] == "IP_ADDRESS"):
                street = s["label"] == "LOCATION" and any(c.isdigit() for c in text[s["start"]:s["end"]])
                self.visible["STREET_ADDRESS" if street else s["label"]] += 1
        for a, b, label in predicted:
            chars = _chars(text, [(a, b)]) - (neutral - sensitive)
            if not chars:
                continue  # whitespace, or only NO_MASK characters: counts neither way
            t = self.by_type[label]
            t["redacted"] += len(chars)
            t["redacted_sensitive"] += len(chars & sensitive)
        self._read(text, gold, must, redacted, predicted)

    def _read(self, text: str, gold: list[dict], must: list[dict], redacted: set[int],
              predicted: list[tuple[int, int, str]]) -> None:
        """The reader's figures for one document."""
        expected = [(s["start"], s["end"], s["label"]) for s in must if self.redacts(s["label"])]
        self.documents += 1
        self.exact += reader_view(text, expected) == reader_view(text, predicted)
        for a, b, label in expected:
            chars = _chars(text, [(a, b)])
            if not chars or not chars <= redacted:
                continue
            # The redaction that covers most of the mention names its type.
            best = max(predicted, key=lambda p: len(chars & _chars(text, [(p[0], p[1])])))
            self.labelled += 1
            self.labelled_right += best[2] == label
        gold_chars = {i for s in gold for i in range(s["start"], s["end"])}
        for m in _WORDS.finditer(text):
            self.words += 1
            inside = set(range(m.start(), m.end()))
            self.swallowed += not (inside & gold_chars) and bool(inside & redacted)

    def report(self) -> dict:
        recall = self.hidden / self.sensitive if self.sensitive else 1.0
        precision = self.redacted_sensitive / self.redacted if self.redacted else 1.0
        f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
        per_type = {}
        for label, t in sorted(self.by_type.items()):
            per_type[label] = {
                "leak": round(1 - t["hidden"] / t["sensitive"], 4) if t["sensitive"] else None,
                "mention_recall": round(t["mentions_hit"] / t["mentions"], 4) if t["mentions"] else None,
                "precision": round(t["redacted_sensitive"] / t["redacted"], 4) if t["redacted"] else None,
                "mentions": t["mentions"],
            }
        return {
            "leak": round(1 - recall, 4),
            "mention_recall": round(self.mentions_hit / self.mentions, 4) if self.mentions else None,
            "direct_recall": round(self.direct_hit / self.direct, 4) if self.direct else None,
            "precision": round(precision, 4),
            "f1": round(f1, 4),
            "per_type": per_type,
            "visible": dict(sorted(self.visible.items())),
            "exact_lines": round(self.exact / self.documents, 4) if self.documents else None,
            "label_accuracy": round(self.labelled_right / self.labelled, 4) if self.labelled else None,
            "words_swallowed": round(1000 * self.swallowed / self.words, 2) if self.words else None,
        }


def evaluate_vault(docs: list[dict], redactor) -> dict:
    """Score vault's redactions: every span the pipeline redacted, after the policy's decisions."""
    from vault.render import Pseudonymizer

    scores = Scores(redactor.policy.redacts)
    results = redactor.redact([d["text"] for d in docs], [Pseudonymizer(redactor.key) for _ in docs])
    for doc, res in zip(docs, results):
        predicted = [(r["start"], r["end"], r["entity_type"]) for r in res.span_rows if r["action"] == "redacted"]
        scores.add(doc["text"], doc["spans"], predicted)
    return scores.report()


def evaluate_presidio(docs: list[dict], redacts: Callable[[str], bool] = lambda label: True) -> dict:
    """Score Presidio's default analyzer: everything it finds is redacted, under its labels in vault's names.
    `redacts`: the gold types the reader's figures expect tagged (the vault policy's, for a fair comparison)."""
    from vault.detect import presidio_default_analyzer

    analyzer = presidio_default_analyzer()
    scores = Scores(redacts)
    for doc in docs:
        spans = analyzer.detect(doc["text"])
        scores.add(doc["text"], doc["spans"],
                   [(s.start, s.end, PRESIDIO_LABELS.get(s.entity_type, s.entity_type)) for s in spans])
    report = scores.report()
    report["nlp_model"] = analyzer.nlp_model
    return report


def table(results: dict[str, dict]) -> str:
    names = list(results)
    lines = [f"{'metric':<16}" + "".join(f"{n:>12}" for n in names)]
    for metric in ("leak", "mention_recall", "direct_recall", "precision", "f1", "exact_lines", "label_accuracy",
                   "words_swallowed"):
        lines.append(f"{metric:<16}" + "".join(f"{_fmt(results[n].get(metric)):>12}" for n in names))
    for n in names:
        visible = results[n].get("visible", {})
        lines.append(f"{'visible direct':<16}{n:>12}: {sum(visible.values())} "
                     f"({', '.join(f'{k} {v}' for k, v in visible.items()) or 'none'})")
    labels = sorted({label for r in results.values() for label in r["per_type"]})
    lines.append("")
    lines.append(f"{'type (recall/prec)':<22}" + "".join(f"{n:>20}" for n in names))
    for label in labels:
        cells = []
        for n in names:
            t = results[n]["per_type"].get(label, {})
            cells.append(f"{_fmt(t.get('mention_recall'))}/{_fmt(t.get('precision'))}")
        lines.append(f"{label:<22}" + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
