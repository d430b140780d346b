"""Reading input files into redactable units, and writing the redacted files back.

A Document is one input file turned into a list of Units: the strings vault redacts, each
with a `field` locator saying where in the file it sits. render_document puts redacted
strings back into the same structure. Plain text is one unit; JSON, JSONL and CSV are one
unit per non-empty string value, number or cell, so CSV headers keep the file's shape. A JSON
number is a unit too (an account number stored as an integer is still an account number); if
anything in it is redacted it becomes a string. A JSON key is a unit unless it is a field name
(`field_name`): an export keyed by name, e-mail or account number holds values in its keys. A
redacted key takes a keyed suffix, as a redacted file name does, so the object keeps every member.

Files are read one at a time (walk yields paths, read_document loads one file), so memory
stays bounded by the largest single file, not by the collection.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from vault.keys import keyed_hash

SUPPORTED = {".txt", ".md", ".json", ".jsonl", ".csv"}
# Extensions a skip reason may name: well-known file types. Any other "extension" may be part of a
# value ("id.536-22-8410"), and the reason is written to stderr, --json and the audit as it is.
KNOWN_TYPES = set(
    ".png .jpg .jpeg .gif .bmp .tif .tiff .webp .svg .heic .ico .pdf .doc .docx .xls .xlsx .ppt .pptx .odt .ods "
    ".odp .rtf .epub .zip .gz .tgz .bz2 .xz .7z .rar .tar .exe .dll .so .bin .dat .iso .dmg .msi .jar .class .pyc "
    ".mp3 .wav .flac .ogg .m4a .mp4 .mov .avi .mkv .webm .html .htm .xml .yaml .yml .toml .ini .cfg .conf .log "
    ".sql .db .sqlite .parquet .avro .eml .msg .ics .vcf .py .js .ts .sh .c .h .java .go .rs .tsv .bak .tmp .key .pem".split())

_BOM = b"\xef\xbb\xbf"

# csv's default field limit (128 KiB) would reject a large single-cell file; vault reads
# whole files anyway, so the limit adds nothing but a spurious failure.
csv.field_size_limit(2**31 - 1)


# --------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class Entry:
    """One path found under the input root: `ok`, or skipped with the reason why."""

    rel_path: str  # POSIX, relative to the input root
    status: str  # "ok" or "skipped"
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def walk(input_root: str | os.PathLike, exclude: Iterable[str | os.PathLike] = ()) -> Iterator[Entry]:
    """Yield every file under input_root, depth first, sorted by name at each level.

    Symlinked directories are never followed (no cycles, no escaping the tree); a symlinked
    file is read only when its target lies inside the tree. `exclude` names directories not
    to descend into (for example an output directory nested in the input).
    """
    root = os.path.realpath(input_root)
    if not os.path.isdir(root):
        raise NotADirectoryError(f"input directory not found: {input_root}")
    excluded = {os.path.realpath(p) for p in exclude}
    yield from _walk_dir(root, root, "", excluded)


def _walk_dir(root: str, path: str, rel: str, excluded: set[str]) -> Iterator[Entry]:
    try:
        with os.scandir(path) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError as e:
        yield Entry(rel or ".", "skipped", f"unreadable directory: {e.strerror}")
        return
    for child in children:
        rel_path = f"{rel}/{child.name}" if rel else child.name
        if _bad_name(child.name):
            # Names that are not UTF-8 cannot be stored in the audit or shown safely.
            yield Entry(rel_path, "skipped", "file name is not valid UTF-8")
            continue
        if child.is_symlink():
            yield _symlink_entry(root, child.path, rel_path)
        elif child.is_dir(follow_symlinks=False):
            if os.path.realpath(child.path) not in excluded:
                yield from _walk_dir(root, child.path, rel_path, excluded)
        elif not child.is_file(follow_symlinks=False):
            yield Entry(rel_path, "skipped", "not a regular file")
        else:
            yield _by_extension(rel_path)


def _bad_name(name: str) -> bool:
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:  # os.scandir decodes undecodable bytes to lone surrogates
        return True


def _symlink_entry(root: str, path: str, rel_path: str) -> Entry:
    target = os.path.realpath(path)
    if os.path.commonpath([root, target]) != root:
        return Entry(rel_path, "skipped", "symlink points outside the input tree")
    if not os.path.exists(target):
        return Entry(rel_path, "skipped", "broken symlink")
    if os.path.isdir(target):
        return Entry(rel_path, "skipped", "symlinked directory not followed")
    if not os.path.isfile(target):
        return Entry(rel_path, "skipped", "not a regular file")
    return _by_extension(rel_path)


def _by_extension(rel_path: str) -> Entry:
    ext = _extension(rel_path)
    if ext in SUPPORTED:
        return Entry(rel_path, "ok")
    if not ext:
        return Entry(rel_path, "skipped", "unsupported file type (no extension)")
    return Entry(rel_path, "skipped", f"unsupported file type {ext if ext in KNOWN_TYPES else '(extension not shown)'}")


def _extension(rel_path: str) -> str:
    return os.path.splitext(rel_path)[1].lower()


# --------------------------------------------------------------------------- reading


class DocumentError(Exception):
    """A file that cannot be read as a document; the reason never quotes file content."""

    def __init__(self, rel_path: str, reason: str):
        super().__init__(f"{rel_path}: {reason}")
        self.rel_path = rel_path
        self.reason = reason


@dataclass
class Unit:
    """One string to redact, and where it sits in its file. The locator never holds a CSV header's or a
    JSON key's text unless that key is a plain identifier: a header or a key can be a value too."""

    field: str  # "" (txt/md), "$.a[0].b" (json), "line 3: $.name" (jsonl), "row 4, column 2" (csv)
    text: str
    # What the value is, for the models to read before it ("email" for a CSV column or a JSON
    # key): "Brandon Harris" alone is any two words, "name: Brandon Harris" is a person. Never written.
    context: str = ""
    kind: str = "text"  # "text", "csv", "json" or "jsonl": what `row`, `column`, `line`, `json_path` mean
    row: int | None = None  # CSV row, as a spreadsheet numbers it (the first row is 1)
    column: int | None = None  # CSV column, from 1
    line: int | None = None  # JSONL line, from 1
    json_path: str | None = None  # JSON and JSONL: where the value sits ("$.a[0].b")


@dataclass
class Document:
    rel_path: str
    sha256: str  # of the file's bytes as read
    format: str  # "txt", "md", "json", "jsonl" or "csv"
    units: list[Unit]
    bom: bool = False  # the file started with a UTF-8 BOM; the output keeps it
    size: int = 0  # bytes
    # What render_document needs to rebuild the file; its shape depends on the format.
    layout: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Limits:
    """What one document may hold. Past a limit the document fails with a reason that names the limit;
    the run goes on. Each bounds a cost that would otherwise stall or crash the night: Python's recursion
    (nesting), its int-string conversion (numbers), per-cell model calls (cells), and the detectors'
    per-text limit (spaCy reads at most 1,000,000 characters at once)."""

    depth: int = 100  # JSON nesting
    number_chars: int = 100  # characters of one JSON number
    cells: int = 200_000  # CSV cells, or JSON strings and numbers, in one file
    columns: int = 1_000  # CSV columns
    cell_chars: int = 100_000  # characters of one CSV cell
    text_chars: int = 1_000_000  # characters of one text unit: a whole .txt/.md file, a JSON string
    line_chars: int = 1_000_000  # characters of one line of any file (a JSONL record is a line)


LIMITS = Limits()


def read_document(root: str | os.PathLike, rel_path: str, limits: Limits = LIMITS) -> Document:
    """Read one file under root. Raises DocumentError for anything that is not clean UTF-8
    text in its declared format, or that passes one of `limits`."""
    fmt = _extension(rel_path).lstrip(".")
    if "." + fmt not in SUPPORTED:
        raise DocumentError(rel_path, f"unsupported file type .{fmt}")
    try:
        with open(os.path.join(root, rel_path), "rb") as f:
            data = f.read()
    except PermissionError:
        raise DocumentError(rel_path, "unreadable: permission denied") from None
    except OSError as e:
        raise DocumentError(rel_path, f"unreadable: {e.strerror or type(e).__name__}") from None
    return parse_document(rel_path, data, limits)


def parse_document(rel_path: str, data: bytes, limits: Limits = LIMITS) -> Document:
    """A file's bytes as a Document, its format by rel_path's extension: what read_document does after
    reading the file (vault serve parses request bodies with it, so they are handled exactly as files)."""
    fmt = _extension(rel_path).lstrip(".")
    if "." + fmt not in SUPPORTED:
        raise DocumentError(rel_path, f"unsupported file type .{fmt}")
    text, bom = _decode(rel_path, data)
    _check_lines(rel_path, text, limits)
    doc = Document(rel_path, hashlib.sha256(data).hexdigest(), fmt, [], bom, len(data))
    if fmt in ("txt", "md"):
        # Kept verbatim (line endings included) so an unredacted file renders byte-identical.
        doc.units = [Unit("", text)] if text else []
    elif fmt == "json":
        if text.strip():
            _read_json(doc, text, limits)
        else:  # empty or blank: nothing to redact, and not JSON; render gives it back as is
            doc.layout = {"blank": text}
    elif fmt == "jsonl":
        _read_jsonl(doc, text, limits)
    else:
        _read_csv(doc, text, limits)
    if len(doc.units) > limits.cells:
        raise DocumentError(rel_path, f"{len(doc.units):,} values to redact, more than the limit of {limits.cells:,}")
    for unit in doc.units:
        if len(unit.text) > limits.text_chars:
            where = f" at {unit.field}" if unit.field else ""
            raise DocumentError(rel_path, f"a text of {len(unit.text):,} characters{where}, longer than the limit "
                                          f"of {limits.text_chars:,} (split the file)")
    return doc


def _check_lines(rel_path: str, text: str, limits: Limits) -> None:
    if len(text) <= limits.line_chars:
        return
    start = 0
    for number, match in enumerate(re.finditer(r"\r\n|\n|\r|$", text), start=1):
        if match.start() - start > limits.line_chars:
            raise DocumentError(rel_path, f"line {number} has {match.start() - start:,} characters, more than the "
                                          f"limit of {limits.line_chars:,}")
        start = match.end()
        if start >= len(text):
            break


def _decode(rel_path: str, data: bytes) -> tuple[str, bool]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(rel_path, "UTF-16 text is not supported (convert to UTF-8)")
    nul = data.find(b"\x00")
    if nul >= 0:
        # Checked before decoding: NUL is valid UTF-8, but no text format vault reads has it.
        raise DocumentError(rel_path, f"binary content (NUL byte at offset {nul})")
    bom = data.startswith(_BOM)
    body = data[len(_BOM):] if bom else data
    try:
        return body.decode("utf-8"), bom
    except UnicodeDecodeError as e:
        offset = e.start + (len(_BOM) if bom else 0)  # offset in the file, not after the BOM
        raise DocumentError(rel_path, f"not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset}") from None


def _newline(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    if "\n" not in text and "\r" in text:
        return "\r"
    return "\n"


# JSON: every non-empty string value and every number is a unit. Keys and other values are structure.


def _loads(rel_path: str, text: str, limits: Limits, where: str = "") -> Any:
    """json.loads with the limits checked: numbers are bounded before Python converts them (a 5,000-digit
    integer passes its int-string limit), nesting after parsing (deeper than ~1,000 the parser itself
    raises RecursionError), and a string holding a lone surrogate escape (\\udc80) is refused, since no
    UTF-8 output could hold it."""

    def number(kind):
        def parse(literal: str):
            if len(literal) > limits.number_chars:
                raise _Limit(f"a JSON number of {len(literal):,} characters{where}, longer than the limit of "
                             f"{limits.number_chars}")
            return kind(literal)
        return parse

    try:
        value = json.loads(text, parse_int=number(int), parse_float=number(float))
    except _Limit as e:
        raise DocumentError(rel_path, str(e)) from None
    except RecursionError:
        raise DocumentError(rel_path, f"JSON nested deeper than the limit of {limits.depth}{where}") from None
    except json.JSONDecodeError as e:
        if where:
            raise DocumentError(rel_path, f"invalid JSON{where}: {e.msg} (column {e.colno})") from None
        raise DocumentError(rel_path, f"invalid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    _check_json(rel_path, value, limits, where)
    return value


class _Limit(Exception):
    pass


def _check_json(rel_path: str, value: Any, limits: Limits, where: str) -> None:
    """Nesting depth and lone surrogates, without recursion (the value may be ~1,000 deep)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limits.depth:
                raise DocumentError(rel_path, f"JSON nested deeper than the limit of {limits.depth}{where}")
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for k, v in children:
                if k is not None and _has_surrogate(k):
                    raise DocumentError(rel_path, f"a JSON key holds a lone surrogate escape{where}: not encodable as UTF-8")
                stack.append((v, depth + 1))
        elif isinstance(item, str) and _has_surrogate(item):
            raise DocumentError(rel_path, f"a JSON string holds a lone surrogate escape{where}: not encodable as UTF-8")


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _read_json(doc: Document, text: str, limits: Limits) -> None:
    value = _loads(doc.rel_path, text, limits)
    doc.units = [Unit(path, s, key, "json", json_path=path) for path, key, s in _strings(value, "$")]
    # "Looked indented": a document spread over several lines is re-emitted with indent 2.
    doc.layout = {
        "value": value,
        "indent": 2 if "\n" in text.strip() else None,
        "newline": _newline(text),
        "final_newline": text.endswith(("\n", "\r")),
    }


def _read_jsonl(doc: Document, text: str, limits: Limits) -> None:
    newline = _newline(text)
    lines = re.split(r"\r\n|\n|\r", text)
    final_newline = len(lines) > 1 and lines[-1] == ""
    if final_newline:
        lines.pop()
    values: list[Any] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            values.append(_BLANK_LINE)
            continue
        value = _loads(doc.rel_path, line, limits, where=f" on line {number}")
        values.append(value)
        doc.units.extend(Unit(f"line {number}: {path}", s, key, "jsonl", line=number, json_path=path)
                         for path, key, s in _strings(value, "$"))
    doc.layout = {"values": values, "newline": newline, "final_newline": final_newline}


# Marks a blank JSONL line, kept blank (None would be confused with a line holding null).
_BLANK_LINE = object()

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")

# JSON keys. A field name is made of letters, digits and separators, and of words a field name is made of
# (vault/data/field_words.txt). The models are not asked about it: they can take a short word ("zip",
# "status") for a name. Any other key is redacted like a value.
FIELD_WORDS = frozenset(word for line in (Path(__file__).parent / "data" / "field_words.txt").read_text("utf-8").splitlines()
                        if not line.startswith("#") for word in line.split())
_FIELD_NAME = re.compile(r"[@$]?[A-Za-z][A-Za-z0-9_ .\-]{0,63}\Z")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def field_name(key: str) -> bool:
    """Whether a JSON key names a field ("name", "date_of_birth", "firstName", "address_line_2") rather than
    holding a value: every word of it a field word, or of one or two letters ("id"), and no number of more
    than two digits (an account number, a year)."""
    if not _FIELD_NAME.match(key):
        return False
    return all(len(w) <= 2 or (not w.isdigit() and w.lower() in FIELD_WORDS) for w in _WORDS.findall(key))


def _holds_value(key: str) -> bool:
    """Whether a JSON key is a unit to redact: not empty, and no field name."""
    return bool(key) and not field_name(key)


@dataclass(frozen=True)
class _Key:
    """A JSON key to redact, on _strings' stack beside the values."""

    text: str


def _strings(value: Any, path: str, key: str = "") -> Iterator[tuple[str, str, str]]:
    """(JSON path, nearest key, text) for every non-empty string, every number and every key that is not a
    field name, in document order: a key just before its value. _replace_strings must visit them in exactly
    this order. A key's own path is its member's and "~" (JSONPath-Plus's selector of a property's name), and
    what the models read before it is the key above it. Only a field name that is a plain identifier appears
    in a path by name; any other key by its position (`$[#2]`): the path goes into the audit. Iterative: the
    value may be nested a thousand deep."""
    stack: list[tuple[Any, str, str]] = [(value, path, key)]
    while stack:
        item, where, name = stack.pop()
        if isinstance(item, _Key):
            yield where, name, item.text
        elif isinstance(item, str):
            if item:
                yield where, name, item
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            yield where, name, json.dumps(item)
        elif isinstance(item, dict):
            steps = []
            for i, (k, v) in enumerate(item.items()):
                member = where + (f".{k}" if _IDENTIFIER.match(k) and field_name(k) else f"[#{i + 1}]")
                if _holds_value(k):
                    steps.append((_Key(k), member + "~", name))
                steps.append((v, member, k))
            stack.extend(reversed(steps))
        elif isinstance(item, list):
            stack.extend(reversed([(v, f"{where}[{i}]", name) for i, v in enumerate(item)]))


def _replace_strings(value: Any, next_text: Callable[[], str], key: bytes | None) -> Any:
    if isinstance(value, str):
        return next_text() if value else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = next_text()
        return value if text == json.dumps(value) else text
    if isinstance(value, dict):
        members = []
        for k, v in value.items():
            new = next_text() if _holds_value(k) else k
            members.append((k, new, _replace_strings(v, next_text, key)))
        taken = {k for k, new, _ in members if new == k}
        out = {}
        for k, new, v in members:
            if new != k:
                new = _distinct(new, k, taken, key)
                taken.add(new)
            out[new] = v
        return out
    if isinstance(value, list):
        return [_replace_strings(v, next_text, key) for v in value]
    return value


def _distinct(redacted: str, original: str, taken: set[str], key: bytes | None) -> str:
    """A redacted key with "~" and the start of the original's HMAC under the audit key (its spans'
    value_hmac, when one span covers it), as a redacted file name has: two keys that redact alike stay two
    members, and the same key is the same output key in every record. Longer where even that is taken."""
    if key is None:
        raise ValueError("a JSON key was redacted, and no audit key was given for its suffix")
    digest = keyed_hash(key, original)
    for n in (8, 16, len(digest)):
        name = f"{redacted}~{digest[:n]}"
        if name not in taken:
            return name
    raise ValueError("a redacted JSON key is the name of another key of its object")


# CSV: every non-empty cell is a unit, the first row's too. A first row that looks like a header also
# tells the models what each column is; but it is redacted like any other row, so a value is never
# copied out because of where it sits (a one-line file, a file without a header, a header that names
# people). A header of plain column names comes out as it went in.


def _read_csv(doc: Document, text: str, limits: Limits) -> None:
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
    rows: list[list[str]] = []
    cells = 0
    try:
        for row in reader:
            if len(row) > limits.columns:
                raise DocumentError(doc.rel_path, f"row {len(rows) + 1} has {len(row):,} columns, more than the "
                                                  f"limit of {limits.columns:,}")
            for c, cell in enumerate(row):
                if len(cell) > limits.cell_chars:
                    raise DocumentError(doc.rel_path, f"the cell at row {len(rows) + 1}, column {c + 1} has "
                                                      f"{len(cell):,} characters, more than the limit of {limits.cell_chars:,}")
            cells += len(row)
            if cells > limits.cells:
                raise DocumentError(doc.rel_path, f"more than the limit of {limits.cells:,} cells")
            rows.append(row)
    except csv.Error as e:
        raise DocumentError(doc.rel_path, f"invalid CSV at line {reader.line_num}: {e}") from None
    header = rows[0] if rows and _looks_like_header(rows) else []
    # Rows are numbered as a spreadsheet shows them: the first row is row 1.
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(row):
            if cell:
                context = "column header" if header and r == 1 else (header[c] if c < len(header) else "")
                doc.units.append(Unit(f"row {r}, column {c + 1}", cell, context, "csv", row=r, column=c + 1))
    doc.layout = {
        "rows": rows,
        "delimiter": delimiter,
        "lineterminator": _newline(text),
        "final_newline": text.endswith(("\n", "\r")),
    }


def _looks_like_header(rows: list[list[str]]) -> bool:
    """Whether the first row reads as column names: there are rows below it, and its cells are
    distinct, short, non-empty and not numbers."""
    first = rows[0]
    return (len(rows) > 1 and len(set(first)) == len(first)
            and all(0 < len(c) <= 64 and any(ch.isalpha() for ch in c) for c in first))


_DELIMITERS = (",", "\t", ";", "|")


def _sniff_delimiter(text: str) -> str:
    """The candidate delimiter that splits the first records into the most columns,
    consistently (same count in every record). csv.Sniffer guesses too freely (letters,
    quote chars), so vault only considers the usual four, preferring comma on ties."""
    best, best_columns = ",", 1
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True)
        counts = set()
        try:
            for row, _ in zip(reader, range(20)):
                if row:
                    counts.add(len(row))
        except csv.Error:
            continue
        if len(counts) == 1 and (columns := counts.pop()) > best_columns:
            best, best_columns = delimiter, columns
    return best


# --------------------------------------------------------------------------- rendering


def render_document(doc: Document, redacted_texts: list[str], key: bytes | None = None) -> bytes:
    """The file rebuilt with unit i replaced by redacted_texts[i], its structure kept. `key`, the audit key,
    keys the suffix of a redacted JSON key."""
    if len(redacted_texts) != len(doc.units):
        raise ValueError(f"{doc.rel_path}: {len(redacted_texts)} texts for {len(doc.units)} units")
    texts = iter(redacted_texts)
    next_text = texts.__next__
    layout = doc.layout
    if doc.format in ("txt", "md"):
        out = redacted_texts[0] if redacted_texts else ""
    elif "blank" in layout:
        out = layout["blank"]
    elif doc.format == "json":
        out = _dump_json(_replace_strings(layout["value"], next_text, key), layout["indent"])
        if layout["indent"] is not None:
            out = out.replace("\n", layout["newline"])  # json escapes newlines inside strings
        if layout["final_newline"]:
            out += layout["newline"]
    elif doc.format == "jsonl":
        lines = ["" if v is _BLANK_LINE else _dump_json(_replace_strings(v, next_text, key), None) for v in layout["values"]]
        out = layout["newline"].join(lines) + (layout["newline"] if layout["final_newline"] else "")
    else:
        out = _render_csv(layout, next_text)
    return (_BOM if doc.bom else b"") + out.encode("utf-8")


def _dump_json(value: Any, indent: int | None) -> str:
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)


def _render_csv(layout: dict[str, Any], next_text: Callable[[], str]) -> str:
    rows = layout["rows"]
    terminator = layout["lineterminator"]
    buf = io.StringIO()
    # Written with "\r\n" so the csv module quotes any cell holding \r or \n whatever the
    # file's own terminator is; each row's final "\r\n" is then swapped for that terminator.
    writer = csv.writer(buf, delimiter=layout["delimiter"], quotechar='"', lineterminator="\r\n")
    out = []
    for row in rows:
        cells = [next_text() if cell else cell for cell in row]
        buf.seek(0)
        buf.truncate()
        writer.writerow(cells)
        out.append(buf.getvalue()[:-2])
    text = terminator.join(out)
    return text + terminator if layout["final_newline"] else text


# --------------------------------------------------------------------------- writing


_TEMP_SUFFIX = ".vault-tmp"


def write_atomic(path: str | os.PathLike, data: bytes, mode: int = 0o644) -> None:
    """Write data to path so that readers (and a crash at any moment) see either the old
    file or the complete new one, never a partial file.

    Temp file in the same directory (os.replace is atomic only within a file system),
    fsync the data before the rename and the directory after it, so the rename itself
    survives a power loss. A killed process may leave a `.*.vault-tmp` file behind
    (remove_temp_files clears them).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A short temp name: `.{name}.XXXX` would pass the 255-byte limit for a long but valid name.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vault-", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)  # mkstemp creates 0600
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_temp_files(root: str | os.PathLike) -> None:
    """Remove the temp files of writes that a killed run left behind (never a finished output)."""
    for tmp in Path(root).rglob(f".*{_TEMP_SUFFIX}"):
        tmp.unlink(missing_ok=True)
