"""The templated kinds of vault.train.generate: a document of a kind is one of the kind's templates
(vault/train/data/kinds/KIND.yaml) with its slots expanded: people playing roles ({patient.full}), values
({date}, {invoice_no}), hard negatives ({!drug}), alternatives ({|a|b}) and blocks ({@body}, {@table:NAME})
filled with the kind's sentences, log lines, chat lines and tables. Names, places and numbers come from Faker
in seven locales (vault/train/data/generate.yaml).
"""

from __future__ import annotations

import datetime as dt
import functools
import random

from vault.train import drawn
from vault.train.data import load
from vault.train.pieces import (DATE_STYLES, DIRECT, MONTHS, Piece, QUASI, WEEKDAYS, WORDS, article, ascii_word,
                                entity, faker_for, format_date, from_pattern, grouped, laid_out, parse_template, plain,
                                render, thousands, time_text)

TRAIN_KINDS = ("clinical_note", "hr_email", "support_ticket", "invoice", "court_report", "police_report", "field_log",
               "chat_transcript", "bank_letter", "rental_agreement")
HELDOUT_KINDS = ("insurance_claim", "school_report", "travel_booking", "pharmacy_prescription", "job_application")
SPLITS = {"train": TRAIN_KINDS, "heldout": HELDOUT_KINDS}
KINDS: dict[str, dict] = {kind: load(f"kinds/{kind}") for kind in TRAIN_KINDS + HELDOUT_KINDS}
GEN = load("generate")  # vault/train/data/generate.yaml


class Person:
    """One person in one document: name fixed at creation, other attributes drawn lazily."""

    def __init__(self, doc: "_Doc", role: str, locale: str):
        self.doc, self.locale, self.f = doc, locale, doc.fakers[locale]
        rng = doc.rng
        self.male = rng.random() < 0.5
        self.first = (self.f.first_name_male() if self.male else self.f.first_name_female()).strip()
        self.last = self.f.last_name().strip()
        lo, hi = GEN["role_ages"].get(role, (19, 85))
        self.age = rng.randint(lo, hi)
        self._cache: dict[str, list[Piece]] = {}

    def attr(self, name: str) -> list[Piece]:
        if name not in self._cache:  # an unknown attribute is a KeyError that names it
            self._cache[name] = PERSON_ATTRS[name](self)
        return self._cache[name]

    # values reused by several attributes
    def value(self, name: str) -> str:
        return "".join(p[0] for p in self.attr(name) if p[1])


def _p_title(p: Person) -> list[Piece]:
    en = GEN["titles"]["en_GB" if p.locale == "en_GB" else "en_US"]
    native = GEN["titles"].get(p.locale, en)
    titles = native if p.doc.rng.random() < 0.3 else en
    return [plain(titles[0 if p.male else 1] + " "), entity(p.last, "PERSON", DIRECT)]


def _p_dr(p: Person) -> list[Piece]:
    name = p.last if p.doc.rng.random() < 0.5 else f"{p.first} {p.last}"
    return [plain("Dr. " if p.doc.rng.random() < 0.8 else "Dr "), entity(name, "PERSON", DIRECT)]


def _p_initial(p: Person) -> list[Piece]:
    r = p.doc.rng.random()
    if r < 0.6:
        v = f"{p.first[0]}. {p.last}"
    elif r < 0.8:
        v = f"{p.last} {p.first[0]}."
    else:
        v = f"{p.first[0]}.{p.last[0]}."
    return [entity(v, "PERSON", DIRECT)]


def _p_formal(p: Person) -> list[Piece]:
    last = p.last.upper() if p.doc.rng.random() < 0.5 else p.last
    return [entity(f"{last}, {p.first}", "PERSON", DIRECT)]


def _p_email(p: Person) -> list[Piece]:
    rng, f = p.doc.rng, p.f
    first, last = ascii_word(p.first) or "info", ascii_word(p.last) or f.user_name()
    domain = f.free_email_domain() if rng.random() < 0.6 else f.domain_name()
    local = rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{rng.randint(1, 99)}",
                        f"{last}.{first[0]}", f"{first}_{last}"])
    return [entity(f"{local}@{domain}", "EMAIL_ADDRESS", DIRECT)]


def _p_username(p: Person) -> list[Piece]:
    first, last = ascii_word(p.first) or "user", ascii_word(p.last) or "x"
    v = p.doc.rng.choice([f"{first[0]}{last}", f"{first}.{last}", f"{first}{p.doc.rng.randint(1, 99)}"])
    return [entity(v, "ID", DIRECT)]


def _p_url(p: Person) -> list[Piece]:
    first, last = ascii_word(p.first) or "user", ascii_word(p.last) or "x"
    site = p.doc.rng.choice(["https://www.linkedin.com/in/", "https://twitter.com/",
                             "https://github.com/", "https://www.facebook.com/", "https://"])
    if site == "https://":
        return [entity(f"https://{first}{last}.{p.f.tld()}", "URL", QUASI)]
    return [entity(f"{site}{first}-{last}-{p.doc.rng.randint(10, 999)}", "URL", QUASI)]


def _p_addr(p: Person) -> list[Piece]:
    lines = [ln.strip() for ln in p.f.address().splitlines() if ln.strip()]
    return [entity("\n".join(lines), "LOCATION", DIRECT)]


def _p_addr1(p: Person) -> list[Piece]:
    return [entity(", ".join(p.value("addr").splitlines()), "LOCATION", DIRECT)]


def _p_dob(p: Person) -> list[Piece]:
    d = p.doc.today - dt.timedelta(days=365 * p.age + p.doc.rng.randint(0, 364))
    return [entity(p.doc.fmt_date(d), "DATE_TIME", QUASI)]


def _p_age(p: Person) -> list[Piece]:
    return [entity(f"{p.age}-year-old", "DEMOGRAPHIC", QUASI)]


def _p_a_age(p: Person) -> list[Piece]:
    return [plain("an " if str(p.age).startswith("8") or p.age in (11, 18) else "a "),
            *_p_age(p)]


def _p_nationality(p: Person) -> list[Piece]:
    rng = p.doc.rng
    v = GEN["nationality"][p.locale] if rng.random() < 0.6 else rng.choice(WORDS["nationalities"])
    return [entity(v, "DEMOGRAPHIC", QUASI)]


def _p_job(p: Person) -> list[Piece]:
    job = p.f.job().strip()
    if p.locale.startswith("en") and len(job) > 1 and job[1].islower():
        job = job[0].lower() + job[1:]
    return [entity(job, "DEMOGRAPHIC", QUASI)]


def _p_ssn(p: Person) -> list[Piece]:
    if p.locale == "en_US":
        return [entity(p.f.ssn(), "US_SSN", DIRECT)]
    return [entity(from_pattern(p.doc.rng, GEN["national_ids"].get(p.locale, "#########")), "ID", DIRECT)]


def _p_iban(p: Person) -> list[Piece]:
    f = p.f if p.locale != "en_US" else p.doc.fakers["en_GB"]
    iban = f.iban()
    if p.doc.rng.random() < 0.5:
        iban = grouped(iban)
    return [entity(iban, "IBAN_CODE", DIRECT)]


def _p_card(p: Person) -> list[Piece]:
    num = p.f.credit_card_number()
    if p.doc.rng.random() < 0.5 and len(num) == 16:
        num = grouped(num)
    return [entity(num, "CREDIT_CARD", DIRECT)]


def _p_passport(p: Person) -> list[Piece]:
    try:
        v = p.f.passport_number()
    except AttributeError:
        v = from_pattern(p.doc.rng, "??#######")
    return [entity(v, "ID", DIRECT)]


def _p_rank(p: Person) -> list[Piece]:
    return [plain(p.doc.rng.choice(GEN["ranks"]) + " "), entity(p.last, "PERSON", DIRECT)]


def _pronoun(male: str, female: str):
    return lambda p: [plain(male if p.male else female)]


def _one(label: str, ident: str, fn):
    return lambda p: [entity(fn(p), label, ident)]


PERSON_ATTRS = {
    "full": _one("PERSON", DIRECT, lambda p: f"{p.first} {p.last}"),
    "first": _one("PERSON", DIRECT, lambda p: p.first),
    "last": _one("PERSON", DIRECT, lambda p: p.last),
    "title": _p_title,
    "dr": _p_dr,
    "rank": _p_rank,
    "initial": _p_initial,
    "formal": _p_formal,
    "email": _p_email,
    "username": _p_username,
    "url": _p_url,
    "phone": _one("PHONE_NUMBER", DIRECT, lambda p: p.f.phone_number()),
    "addr": _p_addr,
    "addr1": _p_addr1,
    "street": _one("LOCATION", DIRECT, lambda p: p.value("addr").splitlines()[0]),
    "city": _one("LOCATION", QUASI, lambda p: p.f.city()),
    "postcode": _one("LOCATION", QUASI, lambda p: p.f.postcode()),
    "dob": _p_dob,
    "birth_year": _one("DATE_TIME", QUASI, lambda p: str(p.doc.today.year - p.age)),
    "age": _p_age,
    "a_age": _p_a_age,
    "age_words": _one("DEMOGRAPHIC", QUASI, lambda p: f"{p.age} years old"),
    "age_num": _one("DEMOGRAPHIC", QUASI, lambda p: str(p.age)),
    "nationality": _p_nationality,
    "a_nationality": lambda p: [plain(article(p.value("nationality"))), *p.attr("nationality")],
    "religion": _one("DEMOGRAPHIC", QUASI, lambda p: p.doc.rng.choice(WORDS["religions"])),
    "ethnicity": _one("DEMOGRAPHIC", QUASI, lambda p: p.doc.rng.choice(WORDS["ethnicities"])),
    "job": _p_job,
    "a_job": lambda p: [plain(article(p.value("job"))), *p.attr("job")],
    "ssn": _p_ssn,
    "iban": _p_iban,
    "card": _p_card,
    "passport": _p_passport,
    "sex": lambda p: [plain(p.doc.rng.choice(["M", "male", "Male"] if p.male else ["F", "female", "Female"]))],
    **{name: _pronoun(*words) for name, words in GEN["gendered_words"].items()},
}


def _money(doc: "_Doc", lo: float, hi: float, step: int = 0) -> str:
    rng = doc.rng
    value = rng.uniform(lo, hi)
    if step:
        whole, cents = int(round(value / step) * step), None
    else:
        whole, cents = int(value), rng.randrange(100) if rng.random() < 0.6 else None
    cur = GEN["currency"].get(doc.locale, "EUR")
    if rng.random() < 0.15:
        cur = rng.choice(["USD", "GBP", "EUR", "CHF"])
    if cur in ("USD", "GBP"):
        sym = "$" if cur == "USD" else "£"
        num = thousands(whole, ",") + (f".{cents:02d}" if cents is not None else "")
        return rng.choice([f"{sym}{num}", f"{sym}{num}", f"{cur} {num}"])
    if rng.random() < 0.4:  # English-style euros
        num = thousands(whole, ",") + (f".{cents:02d}" if cents is not None else "")
        return rng.choice([f"€{num}", f"{cur} {num}"])
    sep = " " if doc.locale == "fr_FR" else "."
    num = thousands(whole, sep) + (f",{cents:02d}" if cents is not None else "")
    return rng.choice([f"{num} €", f"€ {num}", f"{num} {cur}"])


def _company(doc: "_Doc") -> str:
    return doc.f.company().strip()


def _city(doc: "_Doc") -> str:
    return doc.f.city().strip()


def _named(doc: "_Doc", options: list[str]) -> str:
    """An organisation name from patterns; {city}, {last}, {saint}, {company} are filled."""
    pat = doc.rng.choice(options)
    return (pat.replace("{city}", _city(doc)).replace("{last}", doc.f.last_name().strip())
            .replace("{saint}", doc.rng.choice(WORDS["saints"])).replace("{company}", _company(doc)))


def _by_locale(table: dict[str, list[str]]):
    def fn(doc: "_Doc") -> str:
        opts = table.get(doc.locale, [])
        return _named(doc, opts if opts and doc.rng.random() < 0.6 else table["default"])
    return fn


def _date_slot(doc: "_Doc") -> str:
    return doc.fmt_date(doc.rand_date())


def _datetime(doc: "_Doc") -> str:
    d, rng = doc.rand_date(), doc.rng
    h, m = rng.randrange(6, 23), rng.randrange(60)
    style = rng.randrange(5)
    if style >= 2:  # the document's date style and a time as people write it, a comma between them a third of the time
        return f"{doc.fmt_date(d)}{', ' if style == 2 else ' '}{time_text(rng, h, m)}"
    if style == 0:  # ISO 8601 in UTC, as machines write it
        return f"{d.isoformat()}T{h:02d}:{m:02d}:{rng.randrange(60):02d}Z"
    return f"{d.isoformat()} {h:02d}:{m:02d}"


def _email_date(doc: "_Doc") -> str:
    d, rng = doc.rand_date(), doc.rng
    tz = rng.choice(["+0000", "+0100", "+0200", "-0500", "-0800"])
    return (f"{WEEKDAYS[d.weekday()][:3]}, {d.day} {MONTHS[d.month - 1][:3]} {d.year} "
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} {tz}")


def _month(doc: "_Doc") -> str:
    d = doc.rand_date()
    if doc.rng.random() < 0.8:
        return f"{MONTHS[d.month - 1]} {d.year}"
    return f"{d.month:02d}/{d.year}"


def _vehicle(doc: "_Doc") -> str:
    rng = doc.rng
    colour, car = rng.choice(WORDS["colours"]), rng.choice(WORDS["cars"])
    if rng.random() < 0.6:
        return f"{colour} {rng.randint(2004, doc.today.year)} {car}"
    return f"{colour} {car}"


def _dms(value: float, pos: str, neg: str) -> str:
    v = abs(value)
    return f"{int(v)}°{int(v % 1 * 60)}'{v * 3600 % 60:.1f}\"{pos if value >= 0 else neg}"


def _gps(doc: "_Doc") -> str:
    rng = doc.rng
    lat, lon = rng.uniform(36, 58), rng.uniform(-8, 18)
    if rng.random() < 0.7:
        return f"{lat:.5f}, {lon:.5f}"
    return f"{_dms(lat, 'N', 'S')} {_dms(lon, 'E', 'W')}"


def _iban(doc: "_Doc") -> str:
    f = doc.f if doc.locale != "en_US" else doc.fakers["en_GB"]
    iban = f.iban()
    return grouped(iban) if doc.rng.random() < 0.5 else iban




def _url(doc: "_Doc") -> str:
    rng, f = doc.rng, doc.f
    base = f.url().rstrip("/")
    if rng.random() < 0.5:
        return base + rng.choice(["/account", "/claims/status", "/docs/", "/pay", "/portal/login",
                                  f"/u/{f.user_name()}", f"/share/{from_pattern(rng, '********')}"])
    return base








def _pat(*patterns: str):
    """A slot function drawing one of `patterns` (see from_pattern; {Y} is the document's year)."""
    return lambda doc: from_pattern(doc.rng, doc.rng.choice(patterns).replace("{Y}", str(doc.today.year)))


def _one_line_address(doc: "_Doc") -> str:
    return ", ".join(ln.strip() for ln in doc.f.address().splitlines() if ln.strip())


def _choice(options: list[str]):
    return lambda doc: doc.rng.choice(options)


# name → (label, identifier, function(doc) → str)
SLOTS: dict[str, tuple[str, str, object]] = {
    **{name: (s["label"], s["identifier"], _pat(*s["patterns"])) for name, s in GEN["ids"].items()},
    # dates and times
    "date": ("DATE_TIME", QUASI, _date_slot),
    "date_num": ("DATE_TIME", QUASI, lambda doc: format_date(
        GEN["date_style"][doc.locale], doc.rand_date(), doc.locale).replace(".", "/")),
    "time": ("DATE_TIME", QUASI, lambda doc: time_text(doc.rng)),
    "datetime": ("DATE_TIME", QUASI, _datetime),
    "email_date": ("DATE_TIME", QUASI, _email_date),
    "month": ("DATE_TIME", QUASI, _month),
    "year": ("DATE_TIME", QUASI, lambda doc: str(doc.today.year - doc.rng.randint(1, 20))),
    "school_year": ("DATE_TIME", QUASI,
                    lambda doc: f"{doc.today.year - 1}/{doc.today.year % 100:02d}"),
    # places
    "address": ("LOCATION", DIRECT, _one_line_address),
    "property": ("LOCATION", DIRECT, _one_line_address),
    "street": ("LOCATION", DIRECT, lambda doc: doc.f.street_address()),
    "city": ("LOCATION", QUASI, _city),
    "country": ("LOCATION", QUASI, lambda doc: doc.f.country()),
    "gps": ("LOCATION", QUASI, _gps),
    # organisations
    "org": ("ORGANIZATION", QUASI, _company),
    "hospital": ("ORGANIZATION", QUASI, _by_locale(GEN["hospitals"])),
    "court": ("ORGANIZATION", QUASI, _by_locale(GEN["courts"])),
    "police": ("ORGANIZATION", QUASI, _by_locale(GEN["police"])),
    **{name: ("ORGANIZATION", QUASI, functools.partial(_named, options=patterns))
       for name, patterns in GEN["orgs"].items()},
    # contact and network
    "phone": ("PHONE_NUMBER", DIRECT, lambda doc: doc.f.phone_number().strip()),
    "org_email": ("EMAIL_ADDRESS", DIRECT, lambda doc: f"{doc.rng.choice(GEN['org_mailboxes'])}@{doc.f.domain_name()}"),
    "support_email": ("EMAIL_ADDRESS", DIRECT,
                      lambda doc: f"{doc.rng.choice(GEN['support_mailboxes'])}@{doc.f.domain_name()}"),
    "url": ("URL", QUASI, _url),
    "ip": ("IP_ADDRESS", QUASI,
           lambda doc: doc.f.ipv4_public() if doc.rng.random() < 0.8 else doc.f.ipv4_private()),
    "ipv6": ("IP_ADDRESS", QUASI, lambda doc: doc.f.ipv6()),
    "iban": ("IBAN_CODE", DIRECT, _iban),
    # identifiers
    "vat": ("ID", DIRECT, lambda doc: from_pattern(doc.rng, GEN["vat"][doc.locale])),
    "plate": ("ID", DIRECT, lambda doc: doc.f.license_plate().strip()),
    # money
    "amount": ("QUANTITY", QUASI, lambda doc: _money(doc, 5, 9000)),
    "salary": ("QUANTITY", QUASI, lambda doc: _money(doc, 18000, 150000, step=500)),
    "rent": ("QUANTITY", QUASI, lambda doc: _money(doc, 400, 3200, step=5)),
    # other identifying details
    "diagnosis": ("MISC", QUASI, _choice(WORDS["diagnoses"])),
    "injury": ("MISC", QUASI, _choice(WORDS["injuries"])),
    "condition": ("MISC", QUASI, _choice(WORDS["conditions"])),
    "vehicle": ("MISC", QUASI, _vehicle),
}


def drawn_words(doc, template: str) -> str:
    """A template of vault.train.drawn filled from the document's random stream; {one NAME} draws from
    words.yaml's list NAME."""
    return drawn.fill(template, doc.rng, {}, {"one": lambda name: doc.rng.choice(WORDS[name])})


def _fmt(*formats: str, hi: int = 99):
    """A negative: one of `formats` with each {} a number from 1 to `hi`."""
    return lambda doc: doc.rng.choice(formats).format(
        *(doc.rng.randint(1, hi) for _ in range(3)))


# Hard negatives: name → function(doc) → plain text.
NEGATIVES = {
    **{name: _fmt(*f["formats"], hi=f["hi"]) for name, f in GEN["negative_numbers"].items()},
    "drug": _choice(WORDS["drugs"]),
    "dose": _choice(WORDS["doses"]),
    "product": _choice(WORDS["products"]),
    "software": _choice(WORDS["software"]),
    "error": _choice(WORDS["errors"]),
    "article": _choice(WORDS["articles"]),
    **{name: functools.partial(drawn_words, template=t) for name, t in GEN["negative_templates"].items()},
}


class _Block:
    """A block slot ({@body}, {@table:NAME}, ...) that is filled after the template."""

    def __init__(self, kind: str, arg: str):
        self.kind, self.arg = kind, arg


MAX_POOL_PASSES = 2


def _base(name: str) -> str:
    """A slot's generator name: without the "+" and the instance digits ("date2+" → "date")."""
    name = name.rstrip("+")
    return name if name in SLOTS or name in NEGATIVES else name.rstrip("0123456789")


class Doc:
    def __init__(self, kind: str, seed: int):
        self.kind, self.spec = kind, KINDS[kind]
        self.rng = rng = random.Random(seed)
        self.locale = rng.choices(list(GEN["locales"]), weights=list(GEN["locales"].values()))[0]
        self.fakers = {}
        for i, loc in enumerate(GEN["locales"]):
            f = faker_for(loc)
            f.seed_instance(seed * 31 + i)
            self.fakers[loc] = f
        self.f = self.fakers[self.locale]
        self.today = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(14 * 365))
        r = rng.random()
        self.date_style = (GEN["date_style"][self.locale] if r < 0.4
                           else "native" if r < 0.5 and self.locale in WORDS["native_months"]
                           else rng.choice(list(DATE_STYLES)))
        self.persons: dict[str, Person] = {}
        self.values: dict[str, list[Piece]] = {}
        self.pools: dict[str, list[str]] = {}
        self.passes: dict[str, int] = {}

    # dates ---------------------------------------------------------------------------------
    def rand_date(self) -> dt.date:
        return self.today + dt.timedelta(days=self.rng.randint(-900, 120))

    def fmt_date(self, d: dt.date) -> str:
        style = self.date_style if self.rng.random() < 0.8 else self.rng.choice(list(DATE_STYLES))
        return format_date(style, d, self.locale)

    # slots ---------------------------------------------------------------------------------
    def person(self, role: str, local: dict) -> Person:
        store = local if role.endswith("+") else self.persons
        if role not in store:
            base = role.rstrip("+").rstrip("0123456789")
            others = [loc for loc in GEN["locales"] if loc != self.locale]
            loc = self.locale if self.rng.random() < 0.85 else self.rng.choice(others)
            store[role] = Person(self, base, loc)
        return store[role]

    def slot(self, name: str, local: dict, aliases: dict) -> list[Piece | _Block]:
        if name.startswith("|"):
            return [plain(self.rng.choice(name[1:].split("|")))]
        if name.startswith("!"):  # hard negatives: fresh in every sentence
            key = name[1:]
            if key not in local:
                local[key] = [plain(NEGATIVES[_base(key)](self))]
            return local[key]
        if name.startswith("@"):
            kind, _, arg = name[1:].partition(":")
            return [_Block(kind, arg)]
        if "." in name:
            role, attr = name.split(".", 1)
            role = aliases.get(role, role)
            return self.person(role, local).attr(attr)
        store = local if name.endswith("+") else self.values
        if name not in store:
            label, ident, fn = SLOTS[_base(name)]
            store[name] = [entity(fn(self), label, ident)]
        return store[name]

    def expand(self, template: str, local: dict | None = None, aliases: dict | None = None) -> list:
        local = {} if local is None else local
        aliases = aliases or {}
        out: list = []
        for is_slot, text in parse_template(template):
            out.extend(self.slot(text, local, aliases) if is_slot else [plain(text)])
        return out

    def draw(self, pool: str) -> str | None:
        """The next sentence of a pool, or None when it is used up.

        The pool is shuffled and each sentence used once before any repeats; a document uses a
        pool at most MAX_POOL_PASSES times, so long documents of a kind with a small pool come
        out shorter than their target rather than repetitive.
        """
        queue = self.pools.get(pool)
        if not queue:
            ordered = pool in self.spec.get("ordered", ())
            self.passes[pool] = self.passes.get(pool, 0) + 1
            if self.passes[pool] > (1 if ordered else MAX_POOL_PASSES):
                return None
            queue = list(self.spec[pool])
            if ordered:  # a script: keep its order, drop a few lines
                queue = [x for x in queue if self.rng.random() < 0.85][::-1]
            else:
                self.rng.shuffle(queue)
            self.pools[pool] = queue
        return queue.pop() if queue else None


def _words(pieces: list) -> int:
    return sum(len(p[0].split()) for p in pieces if isinstance(p, tuple))


def _sentences(doc: Doc, budget: int, at_least: int = 1):
    """Expanded sentences of the kind's pool until `budget` words are reached."""
    n, words = 0, 0
    while n < at_least or words < budget:
        sentence = doc.draw("sentences")
        if sentence is None:
            return
        pieces = doc.expand(sentence)
        words += _words(pieces)
        n += 1
        yield pieces


def _block_body(doc: Doc, budget: int) -> list[Piece]:
    out: list[Piece] = []
    in_par = 0
    par_len = doc.rng.randint(2, 5)
    for sentence in _sentences(doc, budget, at_least=2):
        if in_par == par_len:
            out.append(plain("\n\n" if doc.rng.random() < 0.85 else "\n"))
            in_par, par_len = 0, doc.rng.randint(1, 5)
        elif in_par:
            out.append(plain(" "))
        out.extend(sentence)
        in_par += 1
    return out


def _block_list(doc: Doc, budget: int, numbered_from: int | None = None) -> list[Piece]:
    bullet = doc.rng.choice(["- ", "* ", "• ", "– ", "o "])
    sep = "\n\n" if numbered_from is not None and doc.rng.random() < 0.7 else "\n"
    out: list[Piece] = []
    for i, sentence in enumerate(_sentences(doc, budget, at_least=2)):
        if i:
            out.append(plain(sep))
        out.append(plain(f"{numbered_from + i}. " if numbered_from is not None else bullet))
        out.extend(sentence)
    return out


def _stamp(doc: Doc, minutes: int, style: int, date: dt.date) -> Piece:
    h, m = divmod(minutes % (24 * 60), 60)
    if style == 0:
        return entity(f"{h:02d}:{m:02d}", "DATE_TIME", QUASI)
    if style == 1:
        return entity(f"{date.isoformat()} {h:02d}:{m:02d}", "DATE_TIME", QUASI)
    return entity(f"{(h - 1) % 12 + 1}:{m:02d} {'PM' if h >= 12 else 'AM'}", "DATE_TIME", QUASI)


def _block_log(doc: Doc, budget: int) -> list[Piece]:
    rng = doc.rng
    style, fmt = rng.randrange(3), rng.randrange(len(GEN["log_lines"]))
    day, minutes = doc.rand_date(), rng.randint(6 * 60, 9 * 60)
    out: list[Piece] = []
    for i, sentence in enumerate(_sentences(doc, budget, at_least=3)):
        minutes += rng.randint(5, 75)
        stamp = _stamp(doc, minutes, style, day)
        if i:
            out.append(plain("\n"))
        out += laid_out(GEN["log_lines"][fmt], {"@stamp": [stamp]}) + sentence
    return out


def _block_chat(doc: Doc, budget: int, roles: list[str]) -> list[Piece]:
    rng = doc.rng
    roles = roles or ["a", "b"]
    spec = GEN["chat_lines"][rng.randrange(len(GEN["chat_lines"]))]
    name_attr = spec.get("names") or rng.choice(["first", "first", "full", "username"])
    day, minutes = doc.rand_date(), rng.randint(7 * 60, 20 * 60)
    date_text = doc.fmt_date(day)
    out: list[Piece] = []
    words = 0
    n = 0
    while n < 4 or words < budget:
        line = doc.draw("chat")
        if line is None:
            break
        who, _, text = line.partition(": ")
        idx = "ABC".find(who)
        speaker = roles[idx] if 0 <= idx < len(roles) else rng.choice(roles)
        listener = rng.choice([r for r in roles if r != speaker] or roles)
        msg = doc.expand(text, aliases={"me": speaker, "you": listener})
        name = doc.person(speaker, {}).attr(name_attr)
        minutes += rng.randint(0, 6)
        if n:
            out.append(plain("\n"))
        out += laid_out(spec["head"], {"@name": name, "@date": [entity(date_text, "DATE_TIME", QUASI)],
                                       "@time": [_stamp(doc, minutes, 0, day)],
                                       "@time12": [_stamp(doc, minutes, 2, day)]})
        out.extend(msg)
        words += _words(msg)
        n += 1
    return out


# Tables: name → function(doc) → rows of cells, each cell a list of pieces (headers in generate.yaml).
def _t_invoice(doc: Doc):
    rows = []
    for _ in range(doc.rng.randint(2, 6)):
        qty = doc.rng.randint(1, 12)
        sets = tuple(f"{c.title()} (set)" for c in WORDS["count_items"])
        rows.append([[plain(doc.rng.choice(WORDS["products"] + sets))],
                     [plain(str(qty))], [entity(_money(doc, 2, 400), "QUANTITY", QUASI)],
                     [entity(_money(doc, 5, 2000), "QUANTITY", QUASI)]])
    return rows


def _t_transactions(doc: Doc):
    rows = []
    for _ in range(doc.rng.randint(3, 8)):
        r = doc.rng.random()
        if r < 0.4:
            desc = [plain("Card payment "), entity(_company(doc), "ORGANIZATION", QUASI)]
        elif r < 0.7:
            desc = [plain("Transfer to "), *Person(doc, "other", doc.locale).attr("full")]
        elif r < 0.85:
            desc = [plain("Direct debit "), entity(_company(doc), "ORGANIZATION", QUASI)]
        else:
            desc = [plain(doc.rng.choice(GEN["tables"]["transactions"]["other"]))]
        rows.append([[entity(doc.fmt_date(doc.rand_date()), "DATE_TIME", QUASI)], desc,
                     [entity(_money(doc, 3, 2500), "QUANTITY", QUASI)]])
    return rows


def _t_staff(doc: Doc):
    rows = []
    for i in range(doc.rng.randint(2, 6)):
        p = Person(doc, "staff", doc.locale)
        rows.append([p.attr("full"), p.attr("job"), [entity(_date_slot(doc), "DATE_TIME", QUASI)],
                     p.attr("phone")])
    return rows


def _t_meds(doc: Doc):  # held out
    rows = [[[plain(doc.rng.choice(WORDS["drugs"]))], [plain(doc.rng.choice(WORDS["doses"]))],
             [plain(doc.rng.choice(GEN["tables"]["meds"]["frequencies"]))]]
            for _ in range(doc.rng.randint(1, 5))]
    return rows


def _t_grades(doc: Doc):  # held out
    rows, table = [], GEN["tables"]["grades"]
    for s in doc.rng.sample(table["subjects"], doc.rng.randint(3, 7)):
        teacher = Person(doc, "teacher", doc.locale)
        rows.append([[plain(s)], [plain(doc.rng.choice(table["grades"]))],
                     teacher.attr("title")])
    return rows


def _t_itinerary(doc: Doc):  # held out
    rows = []
    for _ in range(doc.rng.randint(1, 4)):
        rows.append([[entity(SLOTS["flight"][2](doc), "MISC", QUASI)], [entity(_city(doc), "LOCATION", QUASI)],
                     [entity(_city(doc), "LOCATION", QUASI)], [entity(_datetime(doc), "DATE_TIME", QUASI)]])
    return rows


def _t_claim_items(doc: Doc):  # held out
    rows = [[[plain(doc.rng.choice(WORDS["products"]))], [entity(_date_slot(doc), "DATE_TIME", QUASI)],
             [entity(_money(doc, 20, 3000), "QUANTITY", QUASI)]] for _ in range(doc.rng.randint(2, 5))]
    return rows


TABLES = {"invoice": _t_invoice, "transactions": _t_transactions, "staff": _t_staff,
          "meds": _t_meds, "grades": _t_grades, "itinerary": _t_itinerary,
          "claim_items": _t_claim_items}


def _block_table(doc: Doc, name: str) -> list[Piece]:
    header, rows = GEN["tables"][name]["header"], TABLES[name](doc)
    cells = [[[plain(h)] for h in header]] + rows
    widths = [max(sum(len(p[0]) for p in row[c]) for row in cells) for c in range(len(header))]
    style = doc.rng.randrange(4)
    out: list[Piece] = []

    def line(row, sep: str, left: str, right: str, pad: bool = True):
        out.append(plain(left))
        for c, cell in enumerate(row):
            if c:
                out.append(plain(sep))
            out.extend(cell)
            fill = widths[c] - sum(len(p[0]) for p in cell)
            if pad and fill and (c < len(row) - 1 or right):
                out.append(plain(" " * fill))
        out.append(plain(right))

    for r, row in enumerate(cells):
        if r:
            out.append(plain("\n"))
        if style == 0:  # markdown
            line(row, " | ", "| ", " |")
            if r == 0:
                out.append(plain("\n|" + "|".join("-" * (w + 2) for w in widths) + "|"))
        elif style == 1:  # ascii grid
            rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
            if r == 0:
                out.append(plain(rule + "\n"))
            line(row, " | ", "| ", " |")
            if r in (0, len(cells) - 1):
                out.append(plain("\n" + rule))
        elif style == 2:  # aligned columns
            line(row, "   ", "", "")
        else:  # tab separated
            line(row, "\t", "", "", pad=False)
    return out


# {@NAME:ARG} in templates: NAME → function(doc, budget in words, ARG) → pieces
BLOCKS = {"body": lambda doc, budget, arg: _block_body(doc, budget),
          "bullets": lambda doc, budget, arg: _block_list(doc, budget),
          "numbered": lambda doc, budget, arg: _block_list(doc, budget, numbered_from=int(arg or 1)),
          "log": lambda doc, budget, arg: _block_log(doc, budget),
          "chat": lambda doc, budget, arg: _block_chat(doc, budget, [r for r in arg.split(",") if r]),
          "table": lambda doc, budget, arg: _block_table(doc, arg)}


def _target_words(rng: random.Random) -> int:
    if rng.random() < 0.1:
        return rng.randint(600, 1500)
    return int(80 + (600 - 80) * rng.random() ** 1.5)


def generate_doc(kind: str, seed: int, noise: float = 0.3, id_prefix: str | None = None) -> dict:
    """One gold document of `kind`, fully determined by `seed`; its id is prefix + kind + locale."""
    doc = Doc(kind, seed)
    rng = doc.rng
    template = rng.choice(doc.spec["templates"])
    target = _target_words(rng)
    pieces = doc.expand(template.strip("\n"))
    blocks = [p for p in pieces if isinstance(p, _Block)]
    flow = [b for b in blocks if b.kind != "table"]
    budget = max(20, target - _words(pieces)) // max(1, len(flow))
    out: list[Piece] = []
    for p in pieces:
        if not isinstance(p, _Block):
            out.append(p)
        elif p.kind in BLOCKS:
            out.extend(BLOCKS[p.kind](doc, budget, p.arg))
        else:
            raise ValueError(f"unknown block {p.kind!r} in kind {kind!r}")
    text, spans = render(out, rng, noisy=rng.random() < noise)
    prefix = f"{seed}-" if id_prefix is None else id_prefix
    return {"id": f"{prefix}{kind}-{doc.locale}", "text": text, "spans": spans}
