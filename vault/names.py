"""Output paths: a file or folder name can hold a value as well as a document can ("Anna Berg SSN
536-22-8410.txt"), so under a policy with `redact_file_names` (the default) every name component of an
input path is redacted like a short text, and the output tree keeps the input's shape.

A name loses only what is sensitive in it. The models and recognizers read it as words (`read_name`:
"police_report" as "police report", "AnnaBerg2023" as "Anna Berg 2023"), after the context "file name",
as they read a CSV cell after its column header; a value a recognizer validates in the raw name (an
e-mail, a phone number) is read whole. What they find is decided as in a text, then a redaction made only
of words that file names are made of (`plain`: common words, numbers of at most four digits, short codes
such as "t13", "v2" or "FY2024", at most two parts of a date) is kept, with the reason "name word",
unless a recognizer found a validated value there (phone, e-mail, SSN, card, IBAN, IP, URL): such a value
never stays visible. The redactions are applied to the name itself, so its separators stay:
"offer_letter_Carlos_Mendoza_final" becomes "offer_letter_<PERSON>_final~1a2b3c4d".

A component that comes out unchanged keeps its name. One that changes becomes the redacted text, made
safe for a file system ("/" and NUL replaced, never "." or ".."), plus "~" and eight hex characters of
an HMAC of the original under the audit key, so two names that redact alike ("<PERSON>.txt") stay two
files, and the same input gets the same output name on every run. The extension of a file vault reads
(.txt, .csv, ...) is kept out of the redaction: it says what the file is. Any other "extension" is part
of the name ("id.536-22-8410", "x.Zebulon Quartermaine"), and so is all but the leading dots of a hidden
name (".Anna Berg.txt": the dot is structure, "Anna Berg" a name). The redaction runs once per folder
and file name and is cached for the run: the files of one folder land in one output folder.

Where no model can redact a name (a dry run), `hashed_path` shows it: its folder, and for the name an
HMAC under the audit key (the prefix of the audit's `input_path_hmac`), never the name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from vault.documents import SUPPORTED
from vault.keys import keyed_hash
from vault.spans import VALIDATED_TYPES

NAME_BYTES = 255  # the longest file name most file systems allow
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTEXT = "file name"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Component:
    """One redacted name component of an input path."""

    name: str | None  # the output name; None when the redaction failed or was not verified
    span_rows: list[dict] = field(default_factory=list)
    hold: bool = False
    reason: str = ""  # why it failed, never the name


@dataclass
class OutputPath:
    path: str | None  # relative output path; None when some component could not be redacted
    span_rows: list[dict]
    hold: bool
    reason: str = ""


@dataclass
class Reading:
    """A name as the models read it: its words apart, and for each character of `text` the index of the
    character of the name it stands for (an inserted space stands for the character after it)."""

    text: str
    origin: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The characters of the name that [start, end) of the reading covers."""
        return self.origin[start], self.origin[end - 1] + 1


# Separators people put between the words of a name; a space is one already.
_SEPARATORS = "_-."
# Where one word meets the next without a separator: a word of three letters or more and a number
# ("report2023", "2023report"), a lower-case letter and a capitalised word ("AnnaBerg"). A short code
# ("t13", "FY2024", "X12345678") stays one word: it is read as a code.
_BOUNDARY = re.compile(r"(?<=[^\W\d_]{3})(?=\d)|(?<=\d)(?=[^\W\d_]{3})|(?<=[a-z])(?=[A-Z][a-z])")


def read_name(name: str, values: list[tuple[int, int]] = ()) -> Reading:
    """`name` with its words apart, for the models and recognizers. `values` are the (start, end) of
    values a recognizer validated in the raw name: they are read as they are ("anna.berg@example.com"
    split at its dots would be no e-mail address)."""
    text, origin = [], []
    for i, ch in enumerate(name):
        inside = any(a <= i < b for a, b in values)
        if i and _BOUNDARY.match(name, i) and not any(a < i < b for a, b in values):
            text.append(" ")
            origin.append(i)
        text.append(" " if ch in _SEPARATORS and not inside else ch)
        origin.append(i)
    return Reading("".join(text), origin)


@cache
def _words(list_name: str) -> frozenset[str]:
    lines = (DATA / list_name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


_PART = re.compile(r"[^\W\d_]+|\d+")


def plain(text: str) -> bool:
    """Whether a piece of a name is made only of what names are made of: words of the name word list,
    numbers of at most four digits (a year, a counter: "2023", "0042", "d00001"), letters of at most two
    glued to a number (a short code: "t13", "v2", "Q3", "FY2024"), and at most two parts of a date (numbers
    and months): "march_2023" and "2023-2024" are plain, "12_march_1985" and "2023-04-12" are dates."""
    parts = list(_PART.finditer(text))
    dates = 0
    for i, m in enumerate(parts):
        part = m.group().lower()
        # Parts that touch are letters and a number: "t" and "13" in "t13".
        glued = (i > 0 and parts[i - 1].end() == m.start()) or (i + 1 < len(parts) and parts[i + 1].start() == m.end())
        if part.isdigit():
            dates += 1
            if len(part.lstrip("0")) > 4:
                return False
        elif part in _words("months.txt"):
            dates += 1
        elif part not in _words("name_words.txt") and not (len(part) <= 2 and glued):
            return False
    return dates <= 2


def _trusted(row: dict) -> bool:
    """A validated value a recognizer found (the merged span takes its type): never kept."""
    return row["entity_type"] in VALIDATED_TYPES and any(d != "oracle" for d in row["detectors"])


class Names:
    """Redacts input paths into output paths with a Redactor (vault.pipeline), caching each component."""

    def __init__(self, redactor, enabled: bool):
        self.redactor, self.enabled = redactor, enabled
        self._cache: dict[str, Component] = {}  # input path of the component -> its redaction

    def prepare(self, rel_paths: list[str]) -> None:
        """Redact, in one engine call, every component of these paths not redacted yet."""
        if not self.enabled:
            return
        todo = sorted({prefix for p in rel_paths for prefix in _prefixes(p)} - set(self._cache))
        if not todo:
            return
        stems = {p: _split(p.rsplit("/", 1)[-1], is_file=p in rel_paths)[1] for p in todo}
        for path in [p for p in todo if not stems[p].strip()]:  # nothing but dots: no name in it
            self._cache[path] = Component(self._plain(path.rsplit("/", 1)[-1], path, path in rel_paths))
        todo = [p for p in todo if p not in self._cache]
        try:
            results = self._redact([stems[p] for p in todo])
        except Exception:  # one bad name must not cost the others theirs: one by one
            results = []
            for path in todo:
                try:
                    results += self._redact([stems[path]])
                except Exception as exc:
                    results.append(exc)
        for path, res in zip(todo, results):
            self._cache[path] = self._component(path, stems[path], res, is_file=path in rel_paths)

    def output_path(self, rel_path: str) -> OutputPath:
        if not self.enabled:
            parts = rel_path.split("/")
            return OutputPath("/".join(self._plain(p, prefix, i == len(parts) - 1)
                                       for i, (p, prefix) in enumerate(zip(parts, _prefixes(rel_path)))), [], False)
        self.prepare([rel_path])
        parts, rows, hold = [], [], False
        for i, prefix in enumerate(_prefixes(rel_path), start=1):
            comp = self._cache[prefix]
            if comp.name is None:
                return OutputPath(None, [], False, comp.reason)
            parts.append(comp.name)
            hold |= comp.hold
            rows += [dict(r, field=f"path component {i}", field_kind="path", column=i) for r in comp.span_rows]
        return OutputPath("/".join(parts), rows, hold)

    def _redact(self, stems: list[str]) -> list[tuple[Reading, object, list]]:
        """Each stem's reading, the Redactor's result on it, and the validated values of the policy that a
        recognizer found in the raw stem."""
        from vault.render import Pseudonymizer

        policy = self.redactor.policy
        found = self.redactor.detector.analyze(stems)
        readings = [read_name(stem, [(s.start, s.end) for s in f.candidates + f.hints if s.entity_type in VALIDATED_TYPES])
                    for stem, f in zip(stems, found)]
        values = [[c for c in f.candidates if c.entity_type in VALIDATED_TYPES and policy.redacts(c.entity_type)
                   and c.score >= policy.rule(c.entity_type).threshold and not policy.allowed(stem[c.start:c.end])]
                  for stem, f in zip(stems, found)]
        # A fresh pseudonymizer per name: the same name gets the same replacement on every run.
        results = self.redactor.redact([r.text for r in readings], [Pseudonymizer(self.redactor.key) for _ in stems],
                                       [CONTEXT] * len(stems))
        return list(zip(readings, results, values))

    def _component(self, path: str, stem: str, res, is_file: bool) -> Component:
        if isinstance(res, Exception):
            return Component(None, reason=f"its name could not be redacted ({type(res).__name__})")
        reading, res, values = res
        if not res.verified:
            return Component(None, reason="its name was not fully verified by the oracle")
        from vault.context import Output
        from vault.decisions import Decision
        from vault.render import Pseudonymizer, replacements
        from vault.spans import Span

        rows, decisions = [], []
        for row in res.span_rows:  # in the reading's offsets: to the name's
            start, end = reading.span(row["start"], row["end"])
            row = dict(row, start=start, end=end, value_hmac=keyed_hash(self.redactor.key, stem[start:end]))
            if row["action"] == "redacted" and not _trusted(row) and plain(stem[start:end]):
                row.update(action="kept", reason="name word", operator="")
            if row["action"] == "redacted":
                decisions.append(Decision(Span(start, end, row["entity_type"]), "redacted", row["reason"]))
            rows.append(row)
        for value in values:  # the union rule, for what the reading hid from the recognizer that found it in
            # the raw name: "(415) 555-0199_2023" reads as "(415) 555-0199 2023", which is no phone number.
            if not any(d.span.start <= value.start and value.end <= d.span.end for d in decisions):
                decisions.append(Decision(value, "redacted", "recognizer"))  # overlaps merge in replacements()
                rows.append(self._value_row(value, stem))
        name = path.rsplit("/", 1)[-1]
        output = Output.of(stem, replacements(stem, decisions, self.redactor.policy, Pseudonymizer(self.redactor.key)))
        for row in rows:  # where the report finds each span in this name, not in the reading (vault.context)
            row["out_start"], row["out_end"] = output.place(row["start"], row["end"])
        if output.text != stem:
            dots, _, ext = _split(name, is_file)
            name = safe_name(dots + output.text, keyed_hash(self.redactor.key, path)[:8], ext)
        return Component(self._plain(name, path, is_file), rows, res.hold)

    def _value_row(self, value, stem: str) -> dict:
        """The audit row of a validated value redacted by the recognizer alone."""
        from vault.decisions import Decision, span_row

        found = Decision(value, "redacted", "recognizer", ((value.source, value.score),))
        return span_row(found, stem, self.redactor.policy, self.redactor.key)

    def _plain(self, name: str, path: str, is_file: bool) -> str:
        """A name without control characters: an ESC in a file name would reach terminals, logs and
        reports as an escape sequence. A changed name gets the keyed suffix, as a redacted one does."""
        if not _CONTROL.search(name):
            return name
        dots, stem, ext = _split(name, is_file)
        return safe_name(_CONTROL.sub("_", dots + stem), keyed_hash(self.redactor.key, path)[:8], ext)


def safe_name(redacted: str, tag: str, ext: str) -> str:
    """A file-system-safe name for a redacted component, within NAME_BYTES."""
    text = redacted.replace("/", "_").replace("\0", "_")
    suffix = f"~{tag}{ext}"
    room = NAME_BYTES - len(suffix.encode("utf-8"))
    text = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    if text in ("", ".", ".."):
        text = "_"
    return text + suffix


def _prefixes(rel_path: str) -> list[str]:
    parts = rel_path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _split(name: str, is_file: bool) -> tuple[str, str, str]:
    """(leading dots, the part to redact, the kept extension: one vault reads, else none)."""
    rest = name.lstrip(".")
    dots = name[: len(name) - len(rest)]
    stem, ext = os.path.splitext(rest) if is_file else (rest, "")
    if ext.lower() not in SUPPORTED:
        stem, ext = rest, ""
    return dots, stem, ext


def hashed_path(key: bytes, rel_path: str) -> str:
    """A path for people to read where its name cannot be redacted: the input-relative folder, then the
    leading dots, "#" and 16 hex characters of the HMAC of the whole input path (the start of the
    audit's `input_path_hmac`), then a kept extension."""
    folder, _, name = rel_path.rpartition("/")
    dots, _, ext = _split(name, is_file=True)
    shown = f"{dots}#{keyed_hash(key, rel_path)[:16]}{ext}"
    return f"{folder}/{shown}" if folder else shown
