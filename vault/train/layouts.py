"""The genres' layouts: each builds a full document of its genre from the sentence pools in
vault/train/data/genres/GENRE.yaml, as a template (a string) or as pieces; and chat-style writing (casual).
A layout is a function here, or is written as data in its genre's file (`written`) and built by compose.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re

from vault.train import drawn
from vault.train.data import load
from vault.train.pieces import DIRECT, NEG, Piece, QUASI, entity, laid_out, plain
from vault.train.places import clock_text, timestamp

VALUES = load("values")  # vault/train/data/values.yaml


def _lit(text: str, label: str = "DATE_TIME", ident: str = QUASI) -> str:
    """A value built by a layout, written into a template as a labelled literal."""
    return "{=" + f"{label}|{ident}|{text}" + "}"


# generate_genres rotates through the genres in this order
GENRE_NAMES = ("bio", "news", "email", "chat", "ticket", "clinical", "casenote", "hr_letter", "legal_letter", "form",
               "cv", "log", "minutes", "review", "delivery", "notice", "school_letter", "statement", "note")
DATA = {name: load(f"genres/{name}") for name in GENRE_NAMES}  # vault/train/data/genres/NAME.yaml
# the sentence pools of the genres whose layouts are functions here (the others' are written as data)
BIO, NEWS, EMAIL, CHAT, CASENOTE, FORM, LOG = (DATA[name]["pools"] for name in ("bio", "news", "email", "chat",
                                                                                 "casenote", "form", "log"))


def pick(g, pool, k: int) -> list[str]:
    k = max(1, min(k, len(pool)))
    return g.rng.sample(list(pool), k)


def _sents(g, pool, lo: int, hi: int, sep: str = " ") -> str:
    return sep.join(pick(g, pool, g.rng.randint(lo, hi)))


def _paras(g, pool, n: int, lo: int, hi: int, sep: str = "\n\n") -> str:
    """`n` paragraphs of `lo`-`hi` sentences each, no sentence used twice."""
    k = [g.rng.randint(lo, hi) for _ in range(n)]
    sents = pick(g, pool, sum(k))
    out, i = [], 0
    for size in k:
        if sents[i:i + size]:
            out.append(" ".join(sents[i:i + size]))
        i += size
    return sep.join(out)


def compose(g, part, pools: dict, kept: dict | None = None) -> str:
    """A layout written as data (a genre file's `written`), built in order, each part drawing where it stands:

        TEXT                        the text (a template: its slots are filled later)
        [PART, ...]                 the parts, joined
        {one: POOL or [PART, ...]}  one sentence of the pool, or one of the parts, every part built first
                                    (as a Python list is built before one of it is chosen)
        {pick: [PART, ...]}         one of the parts, built once chosen
        {chance: {P: PART, ...}}    one draw r: the first part whose P is above r (none: nothing)
        {sents: [POOLS, LO, HI]}    LO to HI sentences of the pools (a name or a list of names, each maybe cut:
                                    "body[:2]"), none twice, joined by a space (or by a fourth item, a part)
        {paras: [POOLS, N_LO, N_HI, LO, HI]}  N_LO to N_HI paragraphs of LO to HI sentences each
        {numbered: [POOL, LO, HI]}  LO to HI sentences of the pool as a numbered list
        {int: [LO, HI]}             a number from LO to HI
        {repeat: {times: [LO, HI], each: PART, join: TEXT, before: TEXT}}  the part built LO to HI times, joined;
                                    `before` is written first where there is at least one
        {keep: {NAME: PART}}        the part built here (where its draws stand) but written by {kept: NAME}
        {part: NAME}                values.yaml's part NAME (shared by several genres)
    """
    kept = {} if kept is None else kept
    if isinstance(part, str):
        return part
    if isinstance(part, tuple):
        return "".join(compose(g, p, pools, kept) for p in part)
    (kind, arg), = part.items()
    if kind == "one":
        return g.rng.choice(pools[arg] if isinstance(arg, str) else [compose(g, p, pools, kept) for p in arg])
    if kind == "pick":
        return compose(g, g.rng.choice(arg), pools, kept)
    if kind == "chance":
        r = g.rng.random()
        return next((compose(g, p, pools, kept) for chance, p in arg.items() if r < chance), "")
    if kind == "int":
        return str(g.rng.randint(*arg))
    if kind == "repeat":
        done = [compose(g, arg["each"], pools, kept) for _ in range(g.rng.randint(*arg["times"]))]
        return (arg.get("before", "") if done else "") + arg.get("join", "").join(done)
    if kind == "keep":
        (name, p), = arg.items()
        kept[name] = compose(g, p, pools, kept)
        return ""
    if kind == "kept":
        return kept[arg]
    if kind == "part":
        return compose(g, VALUES["parts"][arg], pools, kept)
    pool = _pool(pools, arg[0], kept)
    if kind == "numbered":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(pick(g, pool, g.rng.randint(arg[1], arg[2])), 1))
    if kind == "sents":
        return _sents(g, pool, arg[1], arg[2], compose(g, arg[3], pools, kept) if len(arg) > 3 else " ")
    if kind == "paras":
        return _paras(g, pool, g.rng.randint(arg[1], arg[2]), *arg[3:])
    raise ValueError(f"unknown layout part {kind!r}")


def _pool(pools: dict, names, kept: dict) -> tuple:
    """The sentences of the pools named (a name or a list of names, each maybe cut: "body[:2]", or "@NAME":
    the name kept as NAME), in order."""
    out = ()
    for name in (names,) if isinstance(names, str) else names:
        name, _, cut = (kept[name[1:]] if name.startswith("@") else name).partition("[")
        start, _, stop = cut.rstrip("]").partition(":")
        out += pools[name][int(start or 0):int(stop) if stop else None]
    return out


def _one(g, pool) -> str:
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


def casual(g, pieces: list[Piece], lower: bool, typo_rate: float, sms: bool) -> list[Piece]:
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
        out.append(plain(" " + rng.choice(VALUES["emoji"])))
    return [p for p in out if p[0]]


def _quote(pieces: list[Piece], prefix: str = "> ") -> list[Piece]:
    """Pieces as a quoted reply: every line starts with `prefix`; multi-line values are split per line."""
    out: list[Piece] = [plain(prefix)]
    for text, label, ident in pieces:
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if i:
                out.append(plain("\n" + prefix))
            if line.strip():
                if label is None or label == NEG:
                    out.append((line, label, ident))
                else:
                    out.append(entity(line, label, ident))
    return out


def _bio(g) -> str:
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


def _bio_infobox(g) -> str:
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


def _bio_obituary(g) -> str:
    first = BIO["obituary"][0]
    rest = pick(g, BIO["obituary"][1:], g.rng.randint(3, 7))
    return first + " " + " ".join(rest[:2]) + "\n\n" + " ".join(rest[2:])


def _news(g) -> str:
    rng = g.rng
    kind = rng.random()
    pool = NEWS["local"] if kind < 0.4 else NEWS["court"] if kind < 0.7 else NEWS["business"]
    head = _one(g, NEWS["headlines"])
    dateline = rng.choice(["{CITYCAPS}, {date} – ", "{city} ({newspaper}) – ", "",
                           "By {R.full}, {newspaper}\n{date}\n\n",
                           "{date} | {city}\n\n", "Published {datetime}\n\n"])
    dateline = dateline.replace("{CITYCAPS}", "{A.city}" if rng.random() < 0.5 else "{city}")
    return head + "\n\n" + dateline + _paras(g, pool, rng.randint(2, 5), 1, 2)


def _email_headers(g, frm: str, to: str, cc: bool, when: dt.datetime | None = None) -> str:
    """Header lines of a message from role `frm` to role `to`, sent at `when` (default: any time)."""
    rng = g.rng
    style = rng.random()
    subject = _one(g, EMAIL["subjects"])
    when = when or g.when()
    email_date, sent = _lit(timestamp(rng, when, "rfc")), _lit(_sent(g, when))
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


def _email_body(g, sender: str) -> str:
    rng = g.rng
    greet = _one(g, EMAIL["greetings"])
    text = (greet + "\n\n" + _paras(g, EMAIL["body"], rng.randint(1, 3), 1, 3) + "\n\n" + _one(g, EMAIL["signoffs"])
            + "\n" + _one(g, EMAIL["signatures"]))
    if sender != "A":  # the same sentences written by B to A
        text = text.replace("{A.", "{@@.").replace("{B.", "{A.").replace("{@@.", "{B.")
    return text + _one(g, EMAIL["disclaimer"])


def _email(g) -> str:
    return _email_headers(g, "A", "B", g.rng.random() < 0.3) + "\n\n" + _email_body(g, "A")


def _sent(g, when: dt.datetime) -> str:
    """A date and time as mail programs show them."""
    return g.rng.choice([f"{g.fmt(when.date())} {clock_text(g.rng, when.hour, when.minute)}",
                         f"{g.fmt(when.date())}, {clock_text(g.rng, when.hour, when.minute)}",
                         timestamp(g.rng, when, "win"), timestamp(g.rng, when, "space")])


def _email_thread(g) -> list[Piece]:
    """A reply above the quoted original, which was sent minutes to days before it."""
    rng = g.rng
    first = g.when()
    later = first + dt.timedelta(minutes=rng.randint(3, 6000))
    reply = g.x(_email_headers(g, "B", "A", False, later) + "\n\n" + _email_body(g, "B"))
    on, day, clock = _lit(_sent(g, first)), _lit(g.fmt(first.date())), _lit(clock_text(rng, first.hour, first.minute))
    intro = rng.choice([f"On {on}, {{A.full}} <{{A.email}}> wrote:",
                        f"On {_lit(timestamp(rng, first, 'rfc'))} {{A.full}} wrote:",
                        f"-----Original Message-----\nFrom: {{A.full}}\nSent: {on}\nTo: {{B.full}}\n"
                        "Subject: {|RE: |}update",
                        f"Am {day} um {clock} schrieb {{A.full}} <{{A.email}}>:",
                        f"Le {day} à {clock}, {{A.full}} a écrit :",
                        f"{{A.full}} <{{A.email}}> schrieb am {day}:", f"El {day}, {{A.full}} escribió:"])
    original = g.x(_email_body(g, "A"))
    if intro.startswith("-----"):
        return reply + g.x("\n\n" + intro + "\n\n") + original
    return reply + g.x("\n\n" + intro + "\n") + _quote(original, rng.choice(["> ", ">", "| "]))


def _email_forward(g) -> str:
    return ("{|FYI|See below|Can you deal with this?|Forwarding for your records.} {C.first}\n\n"
            "---------- Forwarded message ---------\nFrom: {A.full} <{A.email}>\nDate: {email_date}\n"
            "Subject: " + _one(g, EMAIL["subjects"]) + "\nTo: {B.full} <{B.work_email}>\n\n" + _email_body(g, "A"))


def _chat(g) -> list[Piece]:
    rng = g.rng
    people = ["A", "B", "C", "D"][:rng.randint(2, 4)]
    style = rng.choice(list(DATA["chat"]["styles"]))
    spec = DATA["chat"]["styles"][style]
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
    lines = pick(g, CHAT["lines"], rng.randint(3, 16))
    last = None
    for i, template in enumerate(lines):
        speaker = rng.choice([p for p in people if p != last] or people)
        last = speaker
        listener = rng.choice([p for p in people if p != speaker])
        minute += rng.randint(0, 9)
        t = dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=minute % (24 * 60))
        if rng.random() < 0.05:
            msg = [plain(rng.choice(CHAT["system"]))]
        else:
            msg = casual(g, g.x(template, me=speaker, you=listener), lower, typo_rate, sms)
        who = [entity(names[speaker], "ID" if name_attr[speaker] == "handle_bare" else
                      "PHONE_NUMBER" if name_attr[speaker] == "phone" else "PERSON", DIRECT)]
        if speaker == "A" and "me" in spec:
            who = [plain(spec["me"])]
        parts = dict(day=t.day, month=t.month, year=t.year, yy=t.year % 100, hour=t.hour, minute=t.minute,
                     second=t.second, h12=f"{(t.hour - 1) % 12 + 1}:{t.minute:02d}", ap="PM" if t.hour >= 12 else "AM",
                     apl="pm" if t.hour >= 12 else "am")
        stamp = [entity(drawn.fill(spec["stamp"], rng, parts, {"date": lambda _: g.fmt(day)}), "DATE_TIME", QUASI)
                 ] if "stamp" in spec else []
        if i:
            out.append(plain(spec.get("gap", "\n")))
        out += laid_out(spec["line"], {"@who": who, "@stamp": stamp, "@msg": msg})
    return out


def _casenote(g) -> str:
    rng = g.rng
    if rng.random() < 0.55:
        head = rng.choice(["Case notes – {A.full} (client ID {A.customer_id})",
                           "CLIENT: {A.CAPS_LAST}   DOB: {A.dob}",
                           "Service user: {A.formal}\nAllocated worker: {B.full}"])
        entries = []
        d = g.date(-400, -30)
        for s in pick(g, CASENOTE["entries"], rng.randint(3, 8)):
            d += dt.timedelta(days=rng.randint(1, 21))
            entries.append(_lit(g.fmt(d)) + rng.choice([" – ", ": ", " ", "\t"]) + s
                           + rng.choice(["", " ({B.initials})", " – {B.first}"]))
        return head + "\n\n" + "\n\n".join(entries)
    return ("ASSESSMENT SUMMARY\n\nName: {A.full}\nDOB: {A.dob}\nAddress: {A.addr}\n"
            "Referred by: {E.full}, {employer}\n\n"
            "Household:\n- {A.full} ({A.age}), {A.job}\n- {child.full} ({child.age}), attends {school}\n"
            "- {partner.full} ({partner.age})\n\nConcerns:\n" + _sents(g, CASENOTE["entries"], 2, 4)
            + "\n\nPlan:\n" + _sents(g, CASENOTE["entries"], 1, 2) + "\n\nWorker: {B.full}, {B.work_phone}")


def _kv(g, fields: list[tuple], style: str) -> str:
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


def _form(g) -> str:
    rng = g.rng
    fields = rng.sample(FORM["fields"], rng.randint(4, 12)) + rng.sample(FORM["neutral_fields"], rng.randint(0, 3))
    rng.shuffle(fields)
    title = rng.choice(["", "REGISTRATION FORM\n\n", "Customer record\n", "New patient form\n\n",
                        "Membership application\n",
                        "Applicant details\n\n", "Tenant application – {!heading}\n\n", "KYC check\n",
                        "Visitor log entry\n"])
    return title + _kv(g, fields, rng.choice(["plain", "plain", "upper", "snake", "dots", "table", "json", "tab"]))


def _table(g) -> str:
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


def _log(g) -> str:
    rng = g.rng
    kind = rng.choice(["syslog", "access", "app", "json", "audit"])
    when = g.when()
    host = g.slot("!host", {})[0][0]
    n = rng.randint(2, 14) if rng.random() < 0.8 else rng.randint(15, 30)
    lines = []
    for _ in range(n):
        when += dt.timedelta(seconds=rng.randint(0, 400))
        personal = rng.random() < 0.6
        if kind == "syslog":
            ts = _lit(timestamp(rng, when, "syslog"))
            lines.append(f"{ts} {host} " + _one(g, LOG["syslog"] if personal else LOG["syslog_neutral"]))
        elif kind == "access":
            user = rng.choice(["-", "-", "{A.username}", "{A.email}"]) if personal else "-"
            ip = "{A.ip}" if personal else "{ip}"
            method = rng.choice(["GET", "POST", "GET", "PUT"])
            lines.append(f"{ip} - {user} [{_lit(timestamp(rng, when, 'clf'))}] \"{method} "
                         f"{{!path}} HTTP/1.1\" {rng.choice([200, 200, 200, 302, 304, 401, 403, 404, 500])} "
                         f"{rng.randint(120, 90000)} \"-\" \"{rng.choice(LOG['user_agents'])}\"")
        elif kind == "app":
            ts = _lit(timestamp(rng, when, rng.choice(["pylog", "iso_ms", "space"])))
            lines.append(f"{ts} " + _one(g, LOG["app"] if personal else LOG["app_neutral"]))
        elif kind == "json":
            ts = _lit(timestamp(rng, when, "iso_ms"))
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
            ts = _lit(timestamp(rng, when, "iso_z"))
            lines.append(f"{ts} " + _one(g, LOG["audit"]))
    return "\n".join(lines)
LAYOUTS = {f.__name__[1:]: f for f in (
    _bio, _bio_infobox, _bio_obituary, _news, _email, _email_thread, _email_forward, _chat, _casenote,
    _form, _table, _log)}
# and the layouts written as data in the genre files
LAYOUTS.update({name: functools.partial(compose, part=part, pools=DATA[genre]["pools"])
                for genre in GENRE_NAMES for name, part in DATA[genre].get("written", {}).items()})
