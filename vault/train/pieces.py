"""Pieces of a generated document, shared by both generators (generate.py, genres.py).

A document is built as a list of pieces, each plain text or a labelled value: (text, label or None,
identifier or None). Rendering joins them, with optional noise, and counts every span's offsets while
joining, so offsets are exact by construction. Also here: patterns (# a digit, ? a capital letter, * either),
date styles, times, template parsing and Faker instances with reproducible word lists.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata

from faker import Faker

from vault.spans import ENTITY_TYPES
from vault.train.data import load

WORDS = load("words")  # vault/train/data/words.yaml
MONTHS, WEEKDAYS = WORDS["months"], WORDS["weekdays"]
DIRECT, QUASI = "DIRECT", "QUASI"
Piece = tuple[str, "str | None", "str | None"]  # (text, label or None, identifier or None)


def plain(text: str) -> Piece:
    return (text, None, None)


def entity(text: str, label: str, ident: str) -> Piece:
    text = text.strip()
    assert text and label in ENTITY_TYPES, (text, label)
    return (text, label, ident)


@functools.lru_cache(maxsize=None)
def faker_for(locale: str) -> Faker:
    fake = Faker(locale)
    # Faker's it_IT builds its city list from a set, so its order (and the city a seed draws)
    # depends on PYTHONHASHSEED; sorting makes the output reproducible across processes.
    for provider in fake.providers:
        if isinstance(getattr(provider, "cities", None), list):
            provider.cities = sorted(provider.cities)
    return fake


def ascii_word(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", s.lower())


def from_pattern(rng: random.Random, pattern: str) -> str:
    """# → digit, ? → capital letter, * → digit or capital letter; anything else is kept."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "?":
            out.append(chr(65 + rng.randrange(26)))
        elif ch == "*":
            out.append(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
        else:
            out.append(ch)
    return "".join(out)


def grouped(s: str) -> str:
    """Groups of four, as IBANs and card numbers are often written."""
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def thousands(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def article(word: str) -> str:
    """The indefinite article for a word (by its first letter; good enough for our lists)."""
    w = word.lower()
    return "an " if w[:1] in "aeio" or (w[:1] == "u" and not w.startswith(("uni", "use", "usu"))) else "a "


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


DATE_STYLES = WORDS["date_styles"]  # generate.py's, in the order it draws them
ALL_DATES = {**DATE_STYLES, **WORDS["more_date_styles"]}  # and genres.py's besides


def format_date(style: str, d, locale: str) -> str:
    """`d` in a date style of words.yaml; "native" writes the month in the locale's language."""
    fmt, native = ALL_DATES[style], WORDS["native_months"].get(locale)
    if style == "native":
        fmt = WORDS["native_date_styles"].get(locale, fmt) if native else ALL_DATES["d_month_y"]
    month, weekday = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return fmt.format(d=d, month=month, mon=month[:3], weekday=weekday, wd=weekday[:3], yy=d.year % 100,
                      ordinal=ordinal(d.day), native=(native or MONTHS)[d.month - 1])


def time_text(rng: random.Random, h: int | None = None, m: int | None = None) -> str:
    h = rng.randrange(6, 23) if h is None else h
    m = rng.randrange(60) if m is None else m
    style = rng.randrange(6)
    if style == 0:
        return f"{(h - 1) % 12 + 1}:{m:02d} {'pm' if h >= 12 else 'am'}"
    if style == 1:
        return f"{(h - 1) % 12 + 1}.{m:02d}{'pm' if h >= 12 else 'am'}"
    if style == 2:
        return f"{h:02d}h{m:02d}"
    if style == 3:
        return f"{h:02d}:{m:02d}:{rng.randrange(60):02d}"
    return f"{h:02d}:{m:02d}"


_SLOT_RE = re.compile(r"\{([^{}]*)\}")


def rotation(master: random.Random, names, n: int):
    """(index, name, seed) of `n` documents: the names in a seeded order, each used once before any repeats,
    so every one is represented evenly; each document's seed drawn after its name."""
    order: list = []
    for i in range(n):
        if not order:
            order = list(names)
            master.shuffle(order)
        yield i, order.pop(), master.getrandbits(48)


@functools.lru_cache(maxsize=None)
def parse_template(template: str) -> tuple[tuple[bool, str], ...]:
    """A template as (is_slot, text) parts."""
    parts, pos = [], 0
    for m in _SLOT_RE.finditer(template):
        if m.start() > pos:
            parts.append((False, template[pos:m.start()]))
        parts.append((True, m.group(1)))
        pos = m.end()
    if pos < len(template):
        parts.append((False, template[pos:]))
    return tuple(parts)


def ocr_noise(s: str, rate: float, rng: random.Random) -> str:
    out, i = [], 0
    while i < len(s):
        subs = WORDS["ocr"].get(s[i])
        if subs and rng.random() < rate:
            a, b = subs[0]
            if s.startswith(a, i):
                out.append(b)
                i += len(a)
                continue
        out.append(s[i])
        i += 1
    return "".join(out)


def double_spaces(s: str, rate: float, rng: random.Random) -> str:
    return re.sub(" ", lambda m: "  " if rng.random() < rate else " ", s) if rate else s


def render(pieces: list[Piece], rng: random.Random, noisy: bool) -> tuple[str, list[dict]]:
    ocr = spaces = caps = 0.0
    wrap = 0
    if noisy:
        kinds = [k for k in ("ocr", "spaces", "caps", "wrap") if rng.random() < 0.5] or ["ocr"]
        ocr = rng.uniform(0.01, 0.06) if "ocr" in kinds else 0.0
        spaces = rng.uniform(0.03, 0.15) if "spaces" in kinds else 0.0
        caps = rng.uniform(0.05, 0.25) if "caps" in kinds else 0.0
        wrap = rng.randint(45, 90) if "wrap" in kinds else 0
    text: list[str] = []
    spans: list[dict] = []
    pos = col = 0
    caps_line = caps and rng.random() < caps
    for value, label, ident in pieces:
        if not value:
            continue
        scale = 1.0 if label is None else 0.3
        if ocr:
            value = ocr_noise(value, ocr * scale, rng)
        if spaces:
            value = double_spaces(value, spaces * scale, rng)
        if caps or wrap:
            chars = []
            for ch in value:
                if ch == "\n":
                    col = 0
                    caps_line = caps and rng.random() < caps
                elif wrap and ch == " " and col >= wrap:
                    ch, col = "\n", 0
                    caps_line = caps and rng.random() < caps
                else:
                    col += 1
                    if caps_line:
                        ch = ch.upper()
                chars.append(ch)
            value = "".join(chars)
        if label is not None:
            spans.append({"start": pos, "end": pos + len(value), "label": label, "identifier": ident})
        text.append(value)
        pos += len(value)
    return "".join(text), spans


NEG = "NEG"  # pseudo-label of planted hard negatives while rendering; never in the output


def laid_out(pattern: tuple, named: dict[str, list[Piece]]) -> list[Piece]:
    """A line laid out as data: each item of `pattern` is a name of `named` ("@who") or plain text."""
    return [p for x in pattern for p in named.get(x, [plain(x)])]


def negative(text: str) -> Piece:
    return (text, NEG, None)


def fold(s: str) -> str:
    """Diacritics dropped, as people type names on keyboards without them."""
    s = s.replace("Đ", "D").replace("đ", "d").replace("ı", "i").replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
