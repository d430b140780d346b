"""Render what vault.decisions decided: each redacted span replaced by its type's operator.

Operators carry presidio-anonymizer's names (`replace`, `redact`, `mask`, `hash`, `encrypt`, `keep`)
and vault's own (`tag` = `replace` without a new value, `remove` = `redact`, `pseudonym`, `year`). They
are applied here, span by span, at the character offsets vault.decisions chose, never through
presidio-anonymizer's AnonymizerEngine: its conflict resolution drops or merges overlapping results by
score and merges entities separated by whitespace, which would silently change the decisions that the
audit records. Where an operator's semantics fit, its presidio-anonymizer class does the work on the
span's text: Mask (with its chars_to_mask and from_end) and Encrypt (AES, reversible with Presidio's
Decrypt and `encryption_key(audit key)`). `hash` is not Presidio's Hash, a salted SHA whose salt is
random unless given: vault's is an HMAC under the audit key, so that the same value hashes the same
across documents and runs and cannot be reversed by hashing guesses without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import replace
from typing import Callable, Optional

from faker import Faker
from presidio_anonymizer.operators import Encrypt, Mask

from vault.decisions import Decision
from vault.policy import EntityRule, Policy
from vault.spans import Span, overlap_groups

_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|2[01]\d\d)(?!\d)")

# Fake values per entity type; types without a natural fake get a keyed code.
_FAKES: dict[str, Callable[[Faker, str], str]] = {
    "PERSON": lambda f, v: f.name(),
    "LOCATION": lambda f, v: f.street_address() if any(c.isdigit() for c in v) else f.city(),
    "ORGANIZATION": lambda f, v: f.company(),
    "DATE_TIME": lambda f, v: f.date(),
    "PHONE_NUMBER": lambda f, v: f.phone_number(),
    "EMAIL_ADDRESS": lambda f, v: f.email(),
    "URL": lambda f, v: f.url(),
    "IP_ADDRESS": lambda f, v: f.ipv6() if ":" in v else f.ipv4(),
    "CREDIT_CARD": lambda f, v: f.credit_card_number(),
    "IBAN_CODE": lambda f, v: f.iban(),
    "US_SSN": lambda f, v: f.ssn(),
    "ID": lambda f, v: f.bothify("??-########").upper(),
}


class Pseudonymizer:
    """Keyed, consistent replacements: the same (entity type, value) gets the same fake value
    for as long as the object lives (share one across a run for run-wide consistency), and
    the same fake value under the same key in a later run (Faker seeded from an HMAC of the
    value; the same Faker version is assumed). Also the key of the `hash` operator."""

    def __init__(self, key: Optional[bytes] = None, locale: str = "en_US"):
        self.key = key if key is not None else os.urandom(32)
        self._locale, self._faker = locale, None  # Faker is slow to build: only when a pseudonym is asked for
        self._given: dict[tuple[str, str], str] = {}
        self._taken: set[tuple[str, str]] = set()

    def hash_hex(self, value: str) -> str:
        from vault.keys import keyed_hash  # one keyed hash in vault: the HMAC the audit rows hold

        return keyed_hash(self.key, value)

    @property
    def encryption_key(self) -> bytes:
        return encryption_key(self.key)

    def pseudonym(self, entity_type: str, value: str) -> str:
        if (entity_type, value) in self._given:
            return self._given[(entity_type, value)]
        fake = None
        for attempt in range(50):
            digest = hmac.new(self.key, f"{entity_type}\0{value}\0{attempt}".encode("utf-8"),
                              hashlib.sha256).digest()
            make = _FAKES.get(entity_type)
            if make is None:
                candidate = f"{entity_type}_{digest.hex()[:8]}"
            else:
                self._faker = self._faker or Faker(self._locale)
                self._faker.seed_instance(int.from_bytes(digest[:8], "big"))
                candidate = make(self._faker, value)
            # Two values must not share a fake (they would read as one person), and a fake
            # must not repeat the value it replaces (Faker does produce "John Smith").
            if (entity_type, candidate) not in self._taken and not _reveals(candidate, value):
                fake = candidate
                break
        if fake is None:
            fake = f"{entity_type}_{self.hash_hex(value)[:12]}"
        self._given[(entity_type, value)] = fake
        self._taken.add((entity_type, fake))
        return fake


def _reveals(fake: str, value: str) -> bool:
    v = value.strip().lower()
    return fake.strip().lower() == v or (len(v) >= 3 and v in fake.lower())


def encryption_key(key: bytes) -> bytes:
    """The AES-256 key of the `encrypt` operator, derived from the audit key (so one secret is kept,
    but the two uses never share a key). Decrypt a value with presidio-anonymizer:
    `Decrypt().operate(text, {"key": encryption_key(audit_key)})`."""
    return hmac.new(key, b"vault-encrypt-operator", hashlib.sha256).digest()


def _operate(text: str, span: Span, policy: Policy, pseudonymizer: Pseudonymizer) -> str:
    value = text[span.start:span.end]
    rule = policy.rule(span.entity_type) or EntityRule(operator="tag")
    tag = f"<{span.entity_type}>"
    operator = rule.operator
    if operator in ("replace", "tag"):
        return tag if rule.new_value is None else rule.new_value
    if operator == "pseudonym":
        return pseudonymizer.pseudonym(span.entity_type, value)
    if operator == "mask":
        chars = len(value) if rule.chars_to_mask is None else rule.chars_to_mask
        return Mask().operate(value, {"masking_char": rule.mask_char, "chars_to_mask": chars,
                                      "from_end": bool(rule.from_end)})
    if operator == "hash":
        return pseudonymizer.hash_hex(value)[: rule.hash_length]
    if operator == "encrypt":
        return Encrypt().operate(value, {"key": pseudonymizer.encryption_key})
    if operator in ("redact", "remove"):
        return ""
    if operator == "year":
        found = _YEAR.search(value)
        return found.group(1) if found else tag
    return tag  # "keep": a redacted span whose type the policy would keep is tagged, never left as text


def replacements(text: str, decisions: list[Decision], policy: Policy,
                 pseudonymizer: Optional[Pseudonymizer] = None) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for the redacted text, left to right, overlaps merged."""
    pseudonymizer = pseudonymizer or Pseudonymizer()
    spans = [d.span for d in decisions if d.action == "redacted" and d.span.end > d.span.start]
    out = []
    for group in overlap_groups(spans, lambda s: s):
        # The longest member names the type of a merged group.
        head = max(group, key=lambda s: (s.end - s.start, -s.start))
        span = replace(head, start=group[0].start, end=max(s.end for s in group))
        out.append((span.start, span.end, _operate(text, span, policy, pseudonymizer)))
    return out


def render(text: str, decisions: list[Decision], policy: Policy,
           pseudonymizer: Optional[Pseudonymizer] = None) -> str:
    """The text with every redacted decision's span replaced by its type's operator. Without
    a shared Pseudonymizer, pseudonyms and hashes are consistent within this text only."""
    # Offsets all refer to the original text, so pieces are cut from it left to right
    # (the same as replacing right to left, without copying the text once per span).
    pieces, pos = [], 0
    for start, end, new in replacements(text, decisions, policy, pseudonymizer):
        pieces += [text[pos:start], new]
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)
