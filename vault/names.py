"""Output paths: a file or folder name can hold a value as well as a document can ("Anna Berg SSN
536-22-8410.txt"), so under a policy with `redact_file_names` (the default) every name component of an
input path is redacted like a short text, and the output tree keeps the input's shape.

A component that comes out of redaction unchanged keeps its name. One that changes becomes the
redacted text, made safe for a file system ("/" and NUL replaced, never "." or ".."), plus "~" and
eight hex characters of an HMAC of the original under the audit key, so two names that redact alike
("<PERSON>.txt") stay two files, and the same input gets the same output name on every run. The
extension of a file vault reads (.txt, .csv, ...) is kept out of the redaction: it says what the file
is. Any other "extension" is part of the name ("id.536-22-8410", "x.Zebulon Quartermaine"), and so is
all but the leading dots of a hidden name (".Anna Berg.txt": the dot is structure, "Anna Berg" a name).
The redaction runs once per folder and file name and is cached for the run: the files of one folder
land in one output folder.

Where no model can redact a name (a dry run), `hashed_path` shows it: its folder, and for the name an
HMAC under the audit key (the prefix of the audit's `input_path_hmac`), never the name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from vault.documents import SUPPORTED
from vault.keys import keyed_hash

NAME_BYTES = 255  # the longest file name most file systems allow
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTEXT = "file name"


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

    def _redact(self, stems: list[str]) -> list:
        from vault.render import Pseudonymizer

        # A fresh pseudonymizer per name: the same name gets the same replacement on every run.
        return self.redactor.redact(stems, [Pseudonymizer(self.redactor.key) for _ in stems], [CONTEXT] * len(stems))

    def _component(self, path: str, stem: str, res, is_file: bool) -> Component:
        if isinstance(res, Exception):
            return Component(None, reason=f"its name could not be redacted ({type(res).__name__})")
        if not res.verified:
            return Component(None, reason="its name was not fully verified by the oracle")
        name = path.rsplit("/", 1)[-1]
        if res.redacted != stem:
            dots, _, ext = _split(name, is_file)
            name = safe_name(dots + res.redacted, keyed_hash(self.redactor.key, path)[:8], ext)
        return Component(self._plain(name, path, is_file), res.span_rows, res.hold)

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
