"""Synthetic gold documents of many real-world genres, for training vault's redaction models.

`generate_genres(n_docs, seed, split="train", with_negatives=False)` returns documents in vault's gold
format; the id names the split, seed, index, genre and the document's locale tag, e.g.
``genres-train-0-00012-news-vi_VN``; with_negatives=True adds a "negatives" list with the offsets of the
planted hard negatives. A document (_G) is set in a country, holds its people and values, and expands a
genre's templates into pieces. How the genres, names, places and noise are made, and the template syntax:
vault/train/data/README.md. CLI: ``python -m vault.train.generate --genres --n 100 --out FILE.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import zlib
from dataclasses import dataclass

from vault.train.data import load
from vault.train.kinds import NEGATIVES as BASE_NEGATIVES, drawn_words
from vault.train.layouts import DATA, LAYOUTS, casual, pick
from vault.train.people import Name, PATTRS, Person, draw_name
from vault.train.pieces import (DIRECT, MONTHS, NEG, Piece, QUASI, WEEKDAYS, WORDS, article, double_spaces, entity,
                                faker_for, fold, format_date, from_pattern, negative, ocr_noise, parse_template,
                                plain, render, rotation)
from vault.train.places import (COUNTRIES, DEMONYMS, FULL_DATES, ORGS, PLACES, SHORT_DATES, TEXT_DATES, address_lines,
                                all_cities, all_countries, card_number, clock_text, country_name, from_pattern_n,
                                ipv4_address, ipv6_address, mac_address, money_text, org_name, phone_for, plate_in,
                                postcode_in, regions_of, timestamp)

NAMES, VALUES = load("names"), load("values")  # vault/train/data/


class _G:
    """One document: its random stream, country, "today", people and values drawn so far."""

    def __init__(self, seed: int, genre: str):
        self.seed, self.genre = seed, genre
        self.rng = rng = random.Random(seed)
        codes = list(COUNTRIES)
        self.country = COUNTRIES[rng.choices(codes, weights=[COUNTRIES[c].weight for c in codes])[0]]
        self.cc = self.country.code
        self.today = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(14 * 365))
        r = rng.random()
        self.date_styles = ((self.country.dates,) if r < 0.45 else
                            (self.country.dates, rng.choice(TEXT_DATES)) if r < 0.75 else
                            (rng.choice(FULL_DATES), rng.choice(FULL_DATES)))
        self._fakers: dict = {}
        self.persons: dict[str, Person] = {}
        self.cache: dict[str, list[Piece]] = {}
        self._last_year: int | None = None
        self._last_hour: int | None = None
        self._last_date: dt.date | None = None

    # sources --------------------------------------------------------------------------------
    def faker(self, locale: str):
        f = self._fakers.get(locale)
        if f is None:
            f = faker_for(locale)
            f.seed_instance(self.seed ^ zlib.crc32(locale.encode()))
            self._fakers[locale] = f
        return f

    def culture(self, cc: str | None = None) -> str:
        c = COUNTRIES.get(cc or self.cc, self.country)
        names, weights = zip(*c.cultures)
        return self.rng.choices(names, weights=weights)[0]

    def local_name(self, cc: str | None = None) -> Name:
        return draw_name(self, self.culture(cc), self.rng.random() < 0.5)

    def city_admin(self, cc: str | None = None) -> tuple[str, str]:
        cities = all_cities().get(cc or self.cc) or all_cities()[self.cc]
        if self.rng.random() < 0.45:
            return cities[self.rng.randrange(min(25, len(cities)))]
        return cities[self.rng.randrange(len(cities))]

    def city(self, cc: str | None = None) -> str:
        return self.city_admin(cc)[0]

    def region(self, cc: str | None = None) -> str:
        regions = regions_of(cc or self.cc)
        return self.rng.choice(regions) if regions else self.city(cc)

    def org_domain(self, org: str) -> str:
        words = [w for w in re.split(r"[^a-z0-9]+", fold(org).lower()) if w and w not in (
            "the", "of", "and", "ltd", "inc", "llc", "gmbh", "plc", "co", "sa", "bv", "pvt", "limited", "srl")]
        stem = "".join(words[:2]) or "example"
        tld = (PLACES["tld"].get(self.cc, self.cc.lower()) if self.rng.random() < 0.6
               else self.rng.choice(["com", "org", "net"]))
        return f"{stem[:24]}.{tld}"

    # dates ----------------------------------------------------------------------------------
    def date(self, lo: int = -900, hi: int = 120) -> dt.date:
        return self.today + dt.timedelta(days=self.rng.randint(lo, hi))

    def fmt(self, d: dt.date, styles: tuple[str, ...] | None = None) -> str:
        rng = self.rng
        if styles is None:
            styles = self.date_styles if rng.random() < 0.7 else (rng.choice(FULL_DATES),)
        return format_date(rng.choice(styles), d, self.country.tag)

    def when(self, lo: int = -900, hi: int = 60) -> dt.datetime:
        d = self.date(lo, hi)
        return dt.datetime(d.year, d.month, d.day, self.rng.randrange(24), self.rng.randrange(60),
                           self.rng.randrange(60))

    def money(self, lo: float, hi: float, round_to: int = 0) -> str:
        v = self.rng.uniform(lo, hi)
        if round_to:
            v = round(v / round_to) * round_to
        styles = PLACES["currency_styles"]
        style = self.country.money if self.rng.random() < 0.85 else self.rng.choice(list(styles.values()))
        return money_text(self.rng, style, v)

    # people and values ----------------------------------------------------------------------
    def person(self, role: str, local: dict | None = None) -> Person:
        store = local if role.endswith("+") and local is not None else self.persons
        if role not in store:
            base = role.rstrip("+").rstrip("0123456789")
            rng = self.rng
            male = NAMES["family_roles"].get(base)
            if base in NAMES["kin"] and role != "A" and "A" not in self.persons:
                self.person("A")  # relatives are drawn after the person they belong to
            subject = self.persons.get("A")
            culture, family, age = None, None, None
            if base in NAMES["kin"] and subject is not None:
                culture = subject.culture
                if base in ("father", "brother", "sister", "son", "daughter", "sibling", "child", "kid",
                            "grandfather") or (base in ("mother", "spouse", "wife") and rng.random() < 0.5):
                    family = subject.name.family
                if base == "spouse" and male is None:
                    male = not subject.male if rng.random() < 0.92 else subject.male
                if base in ("son", "daughter"):
                    age = (max(0, subject.age - 45), max(1, subject.age - 18))
                elif base in ("child", "kid"):
                    age = NAMES["role_ages"][base]
                elif base in ("father", "mother", "parent"):
                    age = (subject.age + 18, subject.age + 42)
                elif base in ("spouse", "husband", "wife", "sibling", "brother", "sister"):
                    age = (max(18, subject.age - 8), subject.age + 8)
            if male is None:
                male = rng.random() < 0.5
            if culture is None:
                culture = self.culture() if rng.random() < 0.88 else rng.choice(sorted(NAMES["cultures"]))
            store[role] = Person(self, base, culture, male, family, age)
        return store[role]

    def value(self, name: str) -> str:
        return "".join(p[0] for p in self.slot(name, {}) if p[1])

    def slot(self, name: str, local: dict) -> list[Piece]:
        if name.startswith("|"):
            return [plain(self.rng.choice(name[1:].split("|")))]
        if name.startswith("!"):
            return [negative(NEGS[name[1:].rstrip("0123456789")](self))]
        if name.startswith("="):  # a literal value: {=LABEL|IDENT|text}, see layouts._lit
            label, ident, text = name[1:].split("|", 2)
            return [entity(text, label, ident)]
        if "." in name:
            role, attr = name.split(".", 1)
            return PATTRS[attr](self.person(local.get("@" + role, role), local))
        base = name.rstrip("0123456789")
        if base != name:
            if name not in self.cache:
                self.cache[name] = SLOTS[base](self)
            return self.cache[name]
        return SLOTS[name](self)

    def year(self) -> int:
        """Years in one template run forward (a career, a list of events), from after the
        subject's childhood where there is a subject."""
        rng, last = self.rng, self._last_year
        if last is None or last >= self.today.year - 1:
            subject = self.persons.get("A")
            lo = subject.born.year + 16 if subject and subject.age > 24 else self.today.year - 30
            y = rng.randint(lo, max(lo, self.today.year - 2))
        else:
            y = rng.randint(last + 1, min(self.today.year, last + 8))
        self._last_year = y
        return y

    def day(self) -> dt.date:
        """Dates in one template run forward, mostly within the last two and a half years."""
        last = self._last_date
        if last is None or last > self.today + dt.timedelta(days=90):
            d = self.date()
        else:
            d = last + dt.timedelta(days=self.rng.randint(0, 75))
        self._last_date = d
        return d

    def clock(self) -> str:
        """Times in one template run forward through a day."""
        last = self._last_hour
        h = self.rng.randint(7, 12) if last is None or last >= 20 else self.rng.randint(last, min(22, last + 3))
        self._last_hour = h
        return clock_text(self.rng, h)

    def x(self, template: str, **roles: str) -> list[Piece]:
        """A template expanded into pieces; roles=dict(me="B") makes {me.full} B's name."""
        self._last_year = self._last_hour = self._last_date = None
        local: dict = {"@" + k: v for k, v in roles.items()}
        out: list[Piece] = []
        for is_slot, text in parse_template.__wrapped__(template):  # uncached: documents are unique
            out.extend(self.slot(text, local) if is_slot else [plain(text)])
        return out


def _e(label: str, ident: str, fn):
    return lambda g: [entity(fn(g), label, ident)]


def _anon(attr: str):
    """An attribute of somebody who plays no other part in the document."""
    return lambda g: PATTRS[attr](Person(g, "other", g.culture(), g.rng.random() < 0.5))


def _duration(g) -> str:
    rng = g.rng
    unit = rng.choices(["years", "months", "weeks", "days"], weights=[50, 30, 12, 8])[0]
    n = rng.randint(2, {"years": 25, "months": 30, "weeks": 12, "days": 20}[unit])
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
             12: "twelve", 18: "eighteen"}
    num = words[n] if n in words and rng.random() < 0.4 else str(n)
    return f"{num} {unit}"


def _ref(*patterns: str):
    return lambda g: from_pattern_n(g.rng, g.rng.choice(patterns).replace("{Y}", str(g.today.year)))


def _award(g) -> str:
    rng = g.rng
    return rng.choice([f"{g.city()} Citizen of the Year",
                       f"the {rng.choice(ORGS['words'])} Medal for Community Service",
                       f"the {g.local_name().family} Prize for Young Scientists", f"{g.region()} Teacher of the Year",
                       f"the {g.city()} Arts Council Fellowship",
                       f"an honorary doctorate from {org_name(g, 'university')}",
                       f"the {rng.choice(ORGS['words'])} Award for Nursing Excellence"])


SLOTS = {
    **{name: _e(r["label"], r["identifier"], _ref(*r["patterns"])) for name, r in VALUES["references"].items()},
    # dates and times
    "date": lambda g: [entity(g.fmt(g.day()), "DATE_TIME", QUASI)],
    "date_text": lambda g: [entity(g.fmt(g.day(), TEXT_DATES), "DATE_TIME", QUASI)],
    "date_num": lambda g: [entity(g.fmt(g.day(), (g.country.dates, "iso", "dmy_yy", "mdy_yy")), "DATE_TIME", QUASI)],
    "date_iso": lambda g: [entity(g.day().isoformat(), "DATE_TIME", QUASI)],
    "date_short": lambda g: [entity(g.fmt(g.day(), SHORT_DATES), "DATE_TIME", QUASI)],
    "date_next": lambda g: [entity(g.fmt(g.date(1, 60)), "DATE_TIME", QUASI)],
    "date_old": lambda g: [entity(g.fmt(g.date(-9000, -400)), "DATE_TIME", QUASI)],
    "weekday": lambda g: [entity(g.rng.choice(WEEKDAYS), "DATE_TIME", QUASI)],
    "year": lambda g: [entity(str(g.year()), "DATE_TIME", QUASI)],
    "month_year": _e("DATE_TIME", QUASI, lambda g: (lambda d: f"{MONTHS[d.month - 1]} {d.year}")(g.date(-4000, 60))),
    "time": lambda g: [entity(g.clock(), "DATE_TIME", QUASI)],
    "datetime": lambda g: [entity(f"{g.fmt(g.date())}{g.rng.choice([' ', ', ', ' at '])}{clock_text(g.rng)}"
                                if g.rng.random() < 0.6 else timestamp(g.rng, g.when(), g.rng.choice(
                                    ["space", "iso_z", "win"])), "DATE_TIME", QUASI)],
    "stamp": lambda g: [entity(timestamp(g.rng, g.when(), g.rng.choice(["iso_z", "iso_ms", "iso_off", "space"])),
                             "DATE_TIME", QUASI)],
    "email_date": lambda g: [entity(timestamp(g.rng, g.when(), "rfc"), "DATE_TIME", QUASI)],
    "clf": lambda g: [entity(timestamp(g.rng, g.when(), "clf"), "DATE_TIME", QUASI)],
    "duration": _e("DATE_TIME", QUASI, _duration),
    "years": _e("DATE_TIME", QUASI, lambda g: f"{g.rng.randint(3, 45)} years"),
    # places
    "city": _e("LOCATION", QUASI, lambda g: g.city()),
    "city_any": _e("LOCATION", QUASI, lambda g: g.city(g.rng.choice(sorted(COUNTRIES)))),
    "region": _e("LOCATION", QUASI, lambda g: g.region()),
    "country": _e("LOCATION", QUASI, lambda g: g.rng.choice(all_countries())[1]),
    "home_country": _e("LOCATION", QUASI, lambda g: country_name(g.cc)),
    "address": _e("LOCATION", DIRECT, lambda g: ", ".join(address_lines(g))),
    "address_block": _e("LOCATION", DIRECT, lambda g: "\n".join(address_lines(g))),
    "street": _e("LOCATION", DIRECT, lambda g: address_lines(g)[0]),
    "postcode": _e("LOCATION", QUASI, lambda g: postcode_in(g, g.cc) or g.city()),
    "gps": _e("LOCATION", QUASI, lambda g: f"{g.rng.uniform(-40, 60):.5f}, {g.rng.uniform(-120, 140):.5f}"),
    # organisations
    **{k: _e("ORGANIZATION", QUASI, functools.partial(lambda g, kind: org_name(g, kind), kind=k))
       for k in ORGS["patterns"]},
    "org": _e("ORGANIZATION", QUASI, lambda g: org_name(g, "company")),
    "employer": _e("ORGANIZATION", QUASI, lambda g: org_name(g, g.rng.choice(ORGS["employer_kinds"]))),
    # contact and network
    "phone": _e("PHONE_NUMBER", DIRECT, lambda g: phone_for(g, g.cc)),
    "office_phone": _e("PHONE_NUMBER", DIRECT, lambda g: phone_for(g, g.cc, mobile=False, ext=g.rng.random() < 0.5)),
    "org_email": _e("EMAIL_ADDRESS", DIRECT, lambda g: g.rng.choice(
        ["info", "hr", "accounts", "office", "admissions", "reception", "contact", "billing"])
        + "@" + g.org_domain(g.value("employer1"))),
    "email": _anon("email"),
    "url": _anon("url"),
    "ip": _e("IP_ADDRESS", QUASI, lambda g: ipv4_address(g.rng)),
    "ip_public": _e("IP_ADDRESS", QUASI, lambda g: ipv4_address(g.rng, False)),
    "ip_private": _e("IP_ADDRESS", QUASI, lambda g: ipv4_address(g.rng, True)),
    "ipv6": _e("IP_ADDRESS", QUASI, lambda g: ipv6_address(g.rng)),
    "mac": _e("ID", DIRECT, lambda g: mac_address(g.rng)),
    "track_url": _e("URL", QUASI, lambda g: g.rng.choice([
        f"https://track.{g.org_domain(g.value('employer1'))}/{from_pattern(g.rng, '**********')}",
        f"https://www.{g.org_domain(org_name(g, 'company'))}/orders/{from_pattern(g.rng, '#########')}",
        f"https://pay.{g.org_domain(org_name(g, 'utility'))}/i/{from_pattern(g.rng, '********')}"])),
    # identifiers
    "iban": _anon("iban"),
    "card": _e("CREDIT_CARD", DIRECT, lambda g: card_number(g.rng)),
    "natid": _anon("natid"),
    "customer_id": _anon("customer_id"),
    "patient_id": _anon("patient_id"),
    "employee_id": _anon("employee_id"),
    "member_id": _anon("member_id"),
    "plate": _e("ID", DIRECT, lambda g: plate_in(g, g.cc)),
    "username": _anon("username"),
    "handle": _anon("handle"),
    "uid": _anon("uid"),
    "session_id": _e("ID", QUASI, lambda g: g.rng.choice([f"{g.rng.randrange(16 ** 16):016x}",
                                                          from_pattern(g.rng, "**********************").lower(),
                                                          f"sess_{g.rng.randrange(16 ** 12):012x}"])),
    # money, in the country's style
    **{name: _e("QUANTITY", QUASI, lambda g, a=args: g.money(*a)) for name, args in VALUES["money_slots"].items()},
    # other identifying details, and words.yaml's and values.yaml's lists as slots
    **{name: _e(label, ident, lambda g, words=WORDS.get(src) or VALUES[src]: g.rng.choice(words))
       for name, (label, ident, src) in VALUES["word_slots"].items()},
    "award": _e("MISC", QUASI, _award),
    "nationality": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(sorted(set(DEMONYMS.values())))),
    "ethnicity": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(WORDS["ethnicities"] + VALUES["ethnic_extra"])),
    "job": _anon("job"),
    "vehicle": _anon("vehicle"),
    "age": _anon("age_hyph"),
}
SLOTS.update({
    "lb": lambda g: [plain("{")],
    "rb": lambda g: [plain("}")],
    "a_occ": lambda g: (lambda o: [plain(article(o)), entity(o, "DEMOGRAPHIC", QUASI)])(
        g.rng.choice(VALUES["occupations"])),
    "subject": lambda g: [plain(g.rng.choice(VALUES["subjects"]))],  # of study: plain text
})


def _c(options: tuple[str, ...]):
    return lambda g: g.rng.choice(options)


def _masked(rng: random.Random, n: int) -> str:
    """The visible end of a card or account number: not an identifier on its own."""
    return rng.choice([f"**** {n}", f"ending in {n}", f"xxxx-xxxx-xxxx-{n}", f"•••• {n}",
                       f"ending {n % 100:02d}"])


NEGS = {
    **BASE_NEGATIVES,
    **{name: _c(options) for name, options in VALUES["negatives"].items()},
    "car": lambda g: g.rng.choice(WORDS["cars"]),
    **{name: functools.partial(drawn_words, template=t) for name, t in VALUES["negative_templates"].items()},
    "price": lambda g: money_text(g.rng, g.country.money, g.rng.choice(
        [4.99, 9.99, 19.99, 29, 49.95, 79, 129, 299, 799, 1199, 2.5, 14.99]) * (100 if g.country.money[4] == 0 else 1)),
    "masked": lambda g: _masked(g.rng, g.rng.randint(1000, 9999)),
    "software": lambda g: g.rng.choice(WORDS["software"] + VALUES["more_software"]),
    "product": lambda g: g.rng.choice(WORDS["products"] + VALUES["more_products"]),
}


@dataclass(frozen=True)
class Genre:
    layouts: tuple          # functions g → template string or pieces: full documents
    short: tuple            # templates of one or two lines
    neutral: tuple          # templates without any sensitive value (hard negatives only)
    noise: float = 0.25     # chance a full document gets OCR-like noise (pieces.render)
    joiner: str = "\n"      # how neutral templates are joined into a longer neutral document


GENRES: dict[str, Genre] = {name: Genre(tuple(LAYOUTS[f] for f in d["layouts"]), d["short"], d["neutral"],
                                        d.get("noise", 0.25), d.get("joiner", "\n"))
                            for name, d in DATA.items()}
P_NEUTRAL, P_SHORT = 0.10, 0.22


def _short_noise(g, pieces: list[Piece], genre: str) -> list[Piece]:
    rng = g.rng
    r = rng.random()
    if genre in ("chat", "note") and r < 0.5:
        return casual(g, pieces, rng.random() < 0.5, rng.choice([0.0, 0.02, 0.05]), rng.random() < 0.3)
    if r < 0.06:  # a form or label in capitals
        return [(t.upper(), lab, ident) for t, lab, ident in pieces]
    if r < 0.12:
        rate = rng.uniform(0.01, 0.05)
        return [(double_spaces(ocr_noise(t, rate, rng), 0.05, rng) if lab is None else t, lab, ident)
                for t, lab, ident in pieces]
    return pieces


def _build(genre: str, seed: int) -> tuple[_G, list[Piece], str]:
    g = _G(seed, genre)
    rng, spec = g.rng, GENRES[genre]
    r = rng.random()
    if genre == "note":
        shape = "short" if r < 0.7 else "neutral" if r < 0.8 else "full"
    else:
        shape = "neutral" if r < P_NEUTRAL else "short" if r < P_NEUTRAL + P_SHORT else "full"
    if shape == "short":
        return g, _short_noise(g, g.x(rng.choice(spec.short)), genre), shape
    if shape == "neutral":
        k = 1 if rng.random() < 0.4 else rng.randint(2, 6)
        return g, g.x(spec.joiner.join(pick(g, spec.neutral, k))), shape
    doc = rng.choice(spec.layouts)(g)
    return g, g.x(doc) if isinstance(doc, str) else doc, shape


def generate_one(genre: str, seed: int, doc_id: str | None = None, with_negatives: bool = False) -> dict:
    """One gold document of `genre`, fully determined by `seed`."""
    g, pieces, shape = _build(genre, seed)
    spec = GENRES[genre]
    noisy = shape == "full" and g.rng.random() < spec.noise
    text, spans = render(pieces, g.rng, noisy)
    doc = {"id": doc_id or f"genres-{seed}-{genre}-{g.country.tag}", "text": text,
           "spans": [s for s in spans if s["label"] != NEG]}
    if with_negatives:
        doc["negatives"] = [{"start": s["start"], "end": s["end"]} for s in spans if s["label"] == NEG]
    return doc


def generate_genres(n_docs: int, seed: int, split: str = "train", with_negatives: bool = False) -> list[dict]:
    """`n_docs` gold documents of all genres, in gold format.

    Genres rotate through GENRES in a seeded order, so each is represented evenly; the same
    (n_docs, seed, split) always gives the same documents, and a shorter list is a prefix of a
    longer one. `with_negatives` adds a "negatives" list of the planted hard negatives' offsets
    (for tests and inspection; not part of the gold format).
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", split):
        raise ValueError(f"split must be a lowercase word, not {split!r}")
    docs = []
    for i, genre, doc_seed in rotation(random.Random(f"genres:{split}:{seed}"), GENRES, n_docs):
        doc = generate_one(genre, doc_seed, with_negatives=with_negatives)
        doc["id"] = f"genres-{split}-{seed}-{i:05d}-{genre}-{doc['id'].rsplit('-', 1)[1]}"
        docs.append(doc)
    return docs
