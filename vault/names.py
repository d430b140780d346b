"""Output paths: a file or folder name can hold a value as well as a document can ("Anna Berg SSN
536-22-8410.txt"), so under a policy with `redact_file_names` (the default) every name component of an
input path is redacted like a short text, and the output tree keeps the input's shape.

A component that comes out of redaction unchanged keeps its name. One that changes becomes the
redacted text, made safe for a file system ("/" and NUL replaced, never "." or ".."), plus "~" and
eight hex characters of an HMAC of the original under the audit key, so two names that redact alike
("<PERSON>.txt") stay two files, and the same input gets the same output name on every run. The
extension is kept: it says what the file is. The redaction runs once per folder and file name and is
cached for the run: the files of one folder land in one output folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

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
        stems = [_split(p.rsplit("/", 1)[-1], is_file=p in rel_paths)[0] for p in todo]
        try:
            results = self._redact(stems)
        except Exception:  # one bad name must not cost the others theirs: one by one
            results = []
            for stem in stems:
                try:
                    results += self._redact([stem])
                except Exception as exc:
                    results.append(exc)
        for path, stem, res in zip(todo, stems, results):
            self._cache[path] = self._component(path, stem, res, is_file=path in rel_paths)

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
            ext = _split(name, is_file)[1]
            name = safe_name(res.redacted, keyed_hash(self.redactor.key, path)[:8], ext)
        return Component(self._plain(name, path, is_file), res.span_rows, res.hold)

    def _plain(self, name: str, path: str, is_file: bool) -> str:
        """A name without control characters: an ESC in a file name would reach terminals, logs and
        reports as an escape sequence. A changed name gets the keyed suffix, as a redacted one does."""
        if not _CONTROL.search(name):
            return name
        stem, ext = _split(name, is_file)
        return safe_name(_CONTROL.sub("_", stem), keyed_hash(self.redactor.key, path)[:8], _CONTROL.sub("_", ext))


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


def _split(name: str, is_file: bool) -> tuple[str, str]:
    return os.path.splitext(name) if is_file else (name, "")
