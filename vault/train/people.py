"""The people in the genres' documents (vault.train.genres): names from many cultures (Faker's locales and
vault/train/data/names.yaml) in their forms, and their attributes, {role.attr} in templates (PATTRS): contact
details, addresses, dates of birth, ages, IDs, jobs and the words that follow a person's gender or role.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from vault.train import drawn
from vault.train.data import load
from vault.train.pieces import DIRECT, Piece, QUASI, WORDS, article, ascii_word, entity, fold, from_pattern, plain
from vault.train.places import (COUNTRIES, DEMONYMS, ORGS, PLACES, TEXT_DATES, address_lines, card_number,
                                country_name, from_pattern_n, iban_number, ipv4_address, luhn_digit, mac_address,
                                national_id, org_name, phone_for, plate_in, postcode_in, user_id)

NAMES, VALUES = load("names"), load("values")  # vault/train/data/
AGE_LABEL = "DEMOGRAPHIC"  # ages, as in kinds.py and TAB


@dataclass
class Name:
    given: str
    family: str
    middle: str = ""
    eastern: bool = False


def _gendered_family(culture: str, family: str, male: bool) -> str:
    if male or culture != "russian":
        return family
    if family.endswith(("ov", "ev", "in", "yov")):
        return family + "a"
    return family


def draw_name(g, culture: str, male: bool) -> Name:
    """A name of `culture` (a key of names.yaml's cultures), drawn from Faker's locale or the curated lists."""
    kind, loc, _ = NAMES["cultures"][culture]
    if kind == "faker":
        return _faker_name(g, culture, loc, male)
    if kind == "roman":
        return _romanized_name(g, culture, loc, male)
    return _curated_name(g.rng, culture, male)


def _faker_name(g, culture: str, loc: str, male: bool) -> Name:
    """A name from Faker's locale, with the double surnames, particles and middle names its culture uses."""
    rng = g.rng
    f = g.faker(loc)
    given = (f.first_name_male() if male else f.first_name_female()).strip()
    family = f.last_name().strip()
    if culture == "vi_VN":
        return _vietnamese_name(rng, f, given, family, male)
    middle = ""
    if culture.startswith(("es_", "pt_")) and rng.random() < 0.5:
        second = f.last_name().strip()
        if second != family:
            family = f"{family} {second}" if rng.random() < 0.85 else f"{family}-{second}"
    elif culture.startswith(("en_", "ga_")) and rng.random() < 0.07:
        family = rng.choice(NAMES["particle_surnames"])
    elif rng.random() < 0.04:
        family = f"{family}-{f.last_name().strip()}"
    if culture.startswith(("fr_", "de_")) and rng.random() < 0.12:
        given = rng.choice(NAMES["hyphen_first"][0 if male else 1])
    if culture.startswith("en_") and rng.random() < 0.18:
        middle = (f.first_name_male() if male else f.first_name_female()).strip()
    return Name(given, family, middle, culture in NAMES["eastern"] and rng.random() < 0.7)


def _vietnamese_name(rng, f, given: str, family: str, male: bool) -> Name:
    """Family name first, always with a middle name; written without diacritics almost half the time."""
    middle = f.middle_name().strip()
    if middle == given or middle == family:
        middle = "Văn" if male else "Thị"
    if rng.random() < 0.45:
        return Name(fold(given), fold(family), fold(middle), True)
    return Name(given, family, middle, True)


def _romanized_name(g, culture: str, loc: str, male: bool) -> Name:
    """A name in Faker's romanization of a Chinese or Japanese locale."""
    f = g.faker(loc)
    if culture == "zh_CN":
        given, family = f.first_romanized_name(), f.last_romanized_name()
    else:
        given = f.first_romanized_name_male() if male else f.first_romanized_name_female()
        family = f.last_romanized_name()
    if culture == "zh_TW":
        given, family = given.title(), family.title()
    return Name(given, family, "", g.rng.random() < 0.5)


def _curated_name(rng, culture: str, male: bool) -> Name:
    """A name from names.yaml's curated lists, with the culture's middle names, patronymics and order."""
    males, females, families = NAMES["curated"][culture]
    given = rng.choice(males if male else females)
    family = rng.choice(families)
    middle = ""
    eastern = False
    if culture == "arabic" and rng.random() < 0.25:
        middle = f"{'bin' if male else 'bint'} {rng.choice(males)}" if rng.random() < 0.6 else rng.choice(males)
    elif culture == "persian" and male and rng.random() < 0.12:
        given = f"Seyed {given}"
    elif culture in ("chinese", "korean"):
        eastern = rng.random() < (0.6 if "-" in given else 0.4 if culture == "chinese" else 0.0)
        if culture == "korean" and rng.random() < 0.25:
            given = given.replace("-", "").capitalize()
    elif culture in NAMES["patronymics"]:
        family = _gendered_family(culture, family, male)
        if rng.random() < 0.3:
            middle = rng.choice(NAMES["patronymics"][culture])[0 if male else 1]
    elif culture == "somali":
        middle = rng.choice(NAMES["curated"]["somali"][0])
    elif culture == "amharic":
        family = rng.choice(NAMES["curated"]["amharic"][0])
        if rng.random() < 0.3:
            middle, family = family, rng.choice(NAMES["curated"]["amharic"][2])
    elif culture == "filipino" and rng.random() < 0.3:
        middle = rng.choice(families)
    return Name(given, family, middle, eastern)


def _initial(word: str) -> str:
    """"Anne-Marie" → "A.-M.", "Mark Anthony" → "M. A.", "Ma. Cristina" → "M. C."."""
    parts = re.split(r"([- ])", word)
    out = []
    for part in parts:
        if part in ("-", " "):
            out.append(part if part == "-" else " ")
        elif part:
            out.append(part[0].upper() + ".")
    return "".join(out)


class Person:
    """One person in one document. The name is fixed; facts (address, phone, ...) are drawn once."""

    def __init__(self, g, role: str, culture: str, male: bool, family: str | None = None,
                 age: tuple[int, int] | None = None):
        self.g, self.role, self.culture, self.male = g, role, culture, male
        self.name = draw_name(g, culture, male)
        if family:
            self.name.family = _gendered_family(culture, family, male)
        lo, hi = age or NAMES["role_ages"].get(role, (19, 85))
        self.age = g.rng.randint(lo, max(lo, hi))
        self.born = g.today - dt.timedelta(days=365 * self.age + g.rng.randint(0, 364))
        homes = NAMES["cultures"][culture][2]
        self.cc = g.cc if g.rng.random() < 0.9 or not homes else homes[0]
        self.home = g.cc if g.cc in homes or g.rng.random() < 0.3 else g.rng.choice(homes)
        self.facts: dict[str, list[Piece]] = {}

    # the name in its forms ------------------------------------------------------------------
    def full(self) -> str:
        n = self.name
        if n.eastern:
            return " ".join(x for x in (n.family, n.middle, n.given) if x)
        return " ".join(x for x in (n.given, n.middle, n.family) if x)

    def first(self) -> str:
        return self.name.given

    def last(self) -> str:
        return self.name.family

    def value_of(self, attr: str) -> str:
        """The text of an attribute's values, e.g. value_of("email")."""
        if attr == "handle_bare":
            return self.value_of("handle").lstrip("@")
        return "".join(p[0] for p in PATTRS[attr](self) if p[1])

    def fact(self, key: str, fn) -> list[Piece]:
        if key not in self.facts:
            self.facts[key] = fn()
        return self.facts[key]


def _pname(label_fn):
    return lambda p: [entity(label_fn(p), "PERSON", DIRECT)]


def _p_initial(p: Person) -> str:
    n, r = p.name, p.g.rng.random()
    if r < 0.55:
        mid = f" {_initial(n.middle)}" if n.middle and p.g.rng.random() < 0.6 else ""
        return f"{_initial(n.given)}{mid} {n.family}"
    if r < 0.7:
        middle = _initial(n.middle).replace(" ", "") if n.middle else ""
        return f"{_initial(n.given).replace(' ', '')}{middle} {n.family}"
    if r < 0.85:
        return f"{n.family} {_initial(n.given).replace(' ', '')}"
    return f"{n.given} {n.family[0]}."


def _p_formal(p: Person) -> str:
    n, r = p.name, p.g.rng.random()
    given = f"{n.given} {n.middle}" if n.middle else n.given
    if r < 0.5:
        return f"{n.family}, {given}"
    if r < 0.8:
        return f"{n.family.upper()}, {given}"
    return f"{n.family.upper()} {given}"


def _p_nick(p: Person) -> str:
    nick = NAMES["nicknames"].get(p.name.given)
    return nick if nick else p.name.given


def _p_poss(p: Person, form: str) -> list[Piece]:
    name = p.full() if form == "full" else p.first() if form == "first" else p.last()
    return [entity(name, "PERSON", DIRECT), plain("'" if name.endswith("s") and p.g.rng.random() < 0.6 else "'s")]


def _p_title(p: Person, with_name: str = "last") -> list[Piece]:
    rng = p.g.rng
    title = rng.choice(NAMES["titles_m"] if p.male else NAMES["titles_f"])
    name = p.last() if with_name == "last" else p.full()
    return [plain(title + " "), entity(name, "PERSON", DIRECT)]


def _p_honorific(p: Person, options: tuple[str, ...]) -> list[Piece]:
    rng = p.g.rng
    name = p.last() if rng.random() < 0.6 else p.full()
    return [plain(rng.choice(options) + " "), entity(name, "PERSON", DIRECT)]


def _login(p: Person) -> str:
    """A username made from the person's name (ASCII)."""
    rng = p.g.rng
    first, last = ascii_word(p.first()) or "user", ascii_word(p.last()) or "x"
    return rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{first}_{last}",
                       f"{last}{first[0]}", f"{first}{rng.randint(1, 99)}", f"{first}.{last}{rng.randint(1, 9)}",
                       f"{first[:3]}{last[:3]}", f"{last}.{first}", f"{first}{p.born.year % 100:02d}"])


def _p_email(p: Person, work: bool = False) -> str:
    rng, g = p.g.rng, p.g
    local = _login(p) if rng.random() < 0.85 else rng.choice(
        [f"{ascii_word(p.first())}.{rng.choice(['bakes', 'runs', 'travels', 'design', 'music', 'photo'])}",
         f"{ascii_word(p.last())}.family", f"{ascii_word(p.first())}{p.born.year}"])
    if work:
        domain = g.org_domain(g.value("employer1"))
    else:
        pool = PLACES["free_mail"].get(p.cc, ()) + PLACES["free_mail"]["default"]
        domain = rng.choice(pool)
    return f"{local}@{domain}"


def _p_handle(p: Person) -> str:
    rng = p.g.rng
    base = _login(p) if rng.random() < 0.7 else rng.choice(
        [f"{ascii_word(p.first())}_{rng.choice(['xo', 'official', 'art', 'fit', 'eats', 'dev'])}",
         f"the{ascii_word(p.last())}", f"{ascii_word(p.first())}{ascii_word(p.last())[:1]}{rng.randint(10, 9999)}",
         f"real{ascii_word(p.first())}"])
    return base.replace(".", "_") if rng.random() < 0.5 else base


def _p_url(p: Person) -> str:
    """A profile or home page of the person's (values.yaml's profile_urls)."""
    u = p.fact("login", lambda: [plain(_p_handle(p))])[0][0]
    env = {"u": u, "first": ascii_word(p.first()) or "me", "last": ascii_word(p.last()) or "x"}
    return p.g.rng.choice([drawn.fill(t, p.g.rng, env, {}) for t in VALUES["profile_urls"]])


def _age_pieces(p: Person, form: str) -> list[Piece]:
    a = p.age
    if form == "hyph":
        return [entity(f"{a}-year-old", AGE_LABEL, QUASI)]
    if form == "a":
        art = "an " if str(a).startswith("8") or a in (11, 18) else "a "
        return [plain(art), entity(f"{a}-year-old", AGE_LABEL, QUASI)]
    if form == "years":
        return [entity(f"{a} years old" if p.g.rng.random() < 0.8 else f"{a} yrs", AGE_LABEL, QUASI)]
    return [entity(str(a), AGE_LABEL, QUASI)]


def _p_natid(p: Person) -> list[Piece]:
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    name, kind = g.rng.choice(c.ids) if c.ids else ("ID", "#########")
    value = national_id(g.rng, kind, p.born, p.male)
    return [entity(value, "US_SSN" if kind == "ssn" else "ID", DIRECT)]


def _p_natid_named(p: Person) -> list[Piece]:
    """"National Insurance number QQ 12 34 56 C": the kind of number as plain text, then the value."""
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    name, kind = g.rng.choice(c.ids) if c.ids else ("ID number", "#########")
    value = national_id(g.rng, kind, p.born, p.male)
    named = name.endswith(("number", "No.", "No"))
    sep = g.rng.choice([": ", " "] if named else [": ", " ", " no. ", " number "])
    return [plain(name + sep), entity(value, "US_SSN" if kind == "ssn" else "ID", DIRECT)]


def _p_iban(p: Person) -> list[Piece]:
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    if c.iban:
        return [entity(iban_number(g.rng, c.code, c.iban), "IBAN_CODE", DIRECT)]
    eu = COUNTRIES[g.rng.choice(["DE", "FR", "NL", "GB", "ES", "IT"])]
    return [entity(iban_number(g.rng, eu.code, eu.iban), "IBAN_CODE", DIRECT)]


def _p_account(p: Person) -> list[Piece]:
    """A bank account in the country's domestic form (countries.yaml's accounts: sort code, routing number, ...)."""
    rng, cc = p.g.rng, p.cc
    acct = entity(from_pattern(rng, rng.choice(PLACES["account_numbers"])), "ID", DIRECT)  # drawn everywhere
    if cc in PLACES["accounts"]:
        return [piece for text, pattern in PLACES["accounts"][cc] for piece in
                (plain(text), acct if pattern == "account" else entity(from_pattern(rng, pattern), "ID", DIRECT))]
    if COUNTRIES.get(cc) and COUNTRIES[cc].iban and rng.random() < 0.7:
        return _p_iban(p)
    return [plain("account "), acct]


def _p_vehicle(p: Person) -> list[Piece]:
    rng, colours, cars = p.g.rng, WORDS["colours"], WORDS["cars"]
    return [entity(f"{rng.choice(colours)} {rng.choice(cars)}" if rng.random() < 0.7 else
                   f"{rng.choice(colours)} {rng.randint(2003, p.g.today.year)} {rng.choice(cars)}", "MISC", QUASI)]


def _p_employer(p: Person) -> list[Piece]:
    return p.fact("employer", lambda: [
        entity(org_name(p.g, p.g.rng.choice(ORGS["employer_kinds"]), p.cc), "ORGANIZATION", QUASI)])


def _p_job(p: Person) -> str:
    job = p.g.faker("en_US").job().strip()
    return job[0].lower() + job[1:] if len(job) > 1 and job[1].islower() else job


def _pron(male: str, female: str):
    return lambda p: [plain(male if p.male else female)]


def _fact(key: str, label: str, ident: str, fn):
    """An attribute drawn once per person and document (an address, a phone number)."""
    return lambda p: p.fact(key, lambda: [entity(fn(p), label, ident)])


def _id_fact(key: str, patterns: tuple[str, ...]):
    """A personal number, drawn once per person from one of `patterns` (values.yaml's person_ids)."""
    return _fact(key, "ID", DIRECT, lambda p: from_pattern_n(p.g.rng, p.g.rng.choice(patterns)))


def _name_any(p: Person) -> list[Piece]:
    r = p.g.rng.random()
    if r < 0.55:
        return [entity(p.full(), "PERSON", DIRECT)]
    if r < 0.7:
        return [entity(p.first(), "PERSON", DIRECT)]
    if r < 0.8:
        return [entity(_p_initial(p), "PERSON", DIRECT)]
    if r < 0.85:
        return [entity(_p_formal(p), "PERSON", DIRECT)]
    return _p_title(p)


def _addr_lines(p: Person) -> list[str]:
    lines = p.fact("addr", lambda: [plain("\n".join(address_lines(p.g, p.cc)))])[0][0]
    return lines.split("\n")


PATTRS = {
    # the name
    "full": _pname(lambda p: p.full()),
    "first": _pname(lambda p: p.first()),
    "last": _pname(lambda p: p.last()),
    "name": _name_any,
    "formal": _pname(_p_formal),
    "initial": _pname(_p_initial),
    "caps": _pname(lambda p: p.full().upper()),
    "CAPS": _pname(lambda p: p.full().upper()),
    "CAPS_LAST": _pname(lambda p: f"{p.last().upper()} {p.first()}"),
    "lower": _pname(lambda p: p.full().lower() if p.g.rng.random() < 0.4 else p.first().lower()),
    "nick": _pname(_p_nick),
    "initials": _pname(lambda p: "".join(w[0] for w in (p.first().split()[0], p.last().split()[-1])).upper()),
    "poss": lambda p: _p_poss(p, "full"),
    "first_poss": lambda p: _p_poss(p, "first"),
    "last_poss": lambda p: _p_poss(p, "last"),
    "title": lambda p: _p_title(p),
    "title_full": lambda p: _p_title(p, "full"),
    "dr": lambda p: _p_honorific(p, ("Dr", "Dr.", "Dr")),
    "prof": lambda p: _p_honorific(p, ("Prof.", "Professor", "Prof")),
    "honor": lambda p: _p_honorific(p, NAMES["honorifics"]),
    "rank": lambda p: _p_honorific(p, NAMES["ranks"]),
    # contact
    "email": _fact("email", "EMAIL_ADDRESS", DIRECT, _p_email),
    "work_email": _fact("work_email", "EMAIL_ADDRESS", DIRECT, lambda p: _p_email(p, work=True)),
    "username": _fact("username", "ID", DIRECT, _login),
    "handle": _fact("handle", "ID", DIRECT, lambda p: "@" + _p_handle(p)),
    "uid": _fact("uid", "ID", DIRECT, lambda p: user_id(p.g.rng)),
    "url": _fact("url", "URL", QUASI, _p_url),
    "phone": _fact("phone", "PHONE_NUMBER", DIRECT, lambda p: phone_for(p.g, p.cc)),
    "mobile": _fact("mobile", "PHONE_NUMBER", DIRECT, lambda p: phone_for(p.g, p.cc, mobile=True)),
    "work_phone": _fact("work_phone", "PHONE_NUMBER", DIRECT,
                        lambda p: phone_for(p.g, p.cc, mobile=False, ext=p.g.rng.random() < 0.4)),
    # places
    "addr": lambda p: [entity(", ".join(_addr_lines(p)), "LOCATION", DIRECT)],
    "addr_block": lambda p: [entity("\n".join(_addr_lines(p)), "LOCATION", DIRECT)],
    "street": lambda p: [entity(_addr_lines(p)[0], "LOCATION", DIRECT)],
    "city": _fact("city", "LOCATION", QUASI, lambda p: p.g.city(p.cc)),
    "postcode": _fact("postcode", "LOCATION", QUASI, lambda p: postcode_in(p.g, p.cc) or p.g.city(p.cc)),
    "region": _fact("region", "LOCATION", QUASI, lambda p: p.g.region(p.cc)),
    "country": _fact("country", "LOCATION", QUASI, lambda p: country_name(p.cc)),
    "birthplace": _fact("birthplace", "LOCATION", QUASI, lambda p: p.g.city(p.home)),
    "birthcountry": _fact("birthcountry", "LOCATION", QUASI, lambda p: country_name(p.home)),
    # time
    "dob": _fact("dob", "DATE_TIME", QUASI, lambda p: p.g.fmt(p.born)),
    "dob_long": _fact("dob_long", "DATE_TIME", QUASI, lambda p: p.g.fmt(p.born, TEXT_DATES[:3])),
    "dob_num": _fact("dob_num", "DATE_TIME", QUASI, lambda p: p.g.fmt(p.born, (p.g.country.dates, "iso"))),
    "birth_year": _fact("birth_year", "DATE_TIME", QUASI, lambda p: str(p.born.year)),
    "dod": _fact("dod", "DATE_TIME", QUASI, lambda p: p.g.fmt(
        p.born + dt.timedelta(days=365 * p.age + p.g.rng.randint(0, 300)), TEXT_DATES[:3])),
    "death_year": _fact("death_year", "DATE_TIME", QUASI,
                        lambda p: str((p.born + dt.timedelta(days=365 * p.age)).year)),
    "age": lambda p: _age_pieces(p, "num"),
    "age_hyph": lambda p: _age_pieces(p, "hyph"),
    "a_age": lambda p: _age_pieces(p, "a"),
    "age_years": lambda p: _age_pieces(p, "years"),
    # who they are
    "nationality": _fact("nationality", "DEMOGRAPHIC", QUASI, lambda p: DEMONYMS.get(p.home, "foreign")),
    "a_nationality": lambda p: [plain(article(DEMONYMS.get(p.home, "x"))),
                                *PATTRS["nationality"](p)],
    "ethnicity": _fact("ethnicity", "DEMOGRAPHIC", QUASI,
                       lambda p: p.g.rng.choice(WORDS["ethnicities"] + VALUES["ethnic_extra"])),
    "religion": _fact("religion", "DEMOGRAPHIC", QUASI, lambda p: p.g.rng.choice(WORDS["religions"])),
    "job": _fact("job", "DEMOGRAPHIC", QUASI, _p_job),
    "a_job": lambda p: [plain(article(p.fact("job", lambda: [entity(_p_job(p), "DEMOGRAPHIC", QUASI)])[0][0])),
                        *PATTRS["job"](p)],
    "employer": _p_employer,
    "school": _fact("school", "ORGANIZATION", QUASI, lambda p: org_name(p.g, "school", p.home)),
    "university": _fact("university", "ORGANIZATION", QUASI, lambda p: org_name(p.g, "university", p.home)),
    # numbers
    "natid": lambda p: p.fact("natid", lambda: _p_natid(p)),
    "natid_named": lambda p: p.fact("natid_named", lambda: _p_natid_named(p)),
    "ssn": _fact("ssn", "US_SSN", DIRECT, lambda p: national_id(p.g.rng, "ssn", p.born, p.male)),
    "iban": lambda p: p.fact("iban", lambda: _p_iban(p)),
    "account": lambda p: p.fact("account", lambda: _p_account(p)),
    "card": _fact("card", "CREDIT_CARD", DIRECT, lambda p: card_number(p.g.rng)),
    **{key: _id_fact(key, patterns) for key, patterns in VALUES["person_ids"].items()},
    "plate": _fact("plate", "ID", DIRECT, lambda p: plate_in(p.g, p.cc)),
    "vehicle": lambda p: p.fact("vehicle", lambda: _p_vehicle(p)),
    "ip": _fact("ip", "IP_ADDRESS", QUASI, lambda p: ipv4_address(p.g.rng)),
    "mac": _fact("mac", "ID", DIRECT, lambda p: mac_address(p.g.rng)),
    "imei": _fact("imei", "ID", DIRECT,
                  lambda p: (lambda b: b + luhn_digit(b))(from_pattern(p.g.rng, "35#############"))),
    # health
    "diagnosis": _fact("diagnosis", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["diagnoses"])),
    "condition": _fact("condition", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["conditions"])),
    "injury": _fact("injury", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["injuries"])),
    # words that follow the person's gender or role
    **{name: _pron(*words) for name, words in NAMES["gendered_words"].items()},
    "Mr": lambda p: [plain(p.g.rng.choice(NAMES["titles_m"] if p.male else NAMES["titles_f"]))],
    "rel": lambda p: [plain(NAMES["rel_words"].get(p.role, ("partner", "partner"))[0 if p.male else 1])],
}
