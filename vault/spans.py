"""Entity types and the character span every part of vault speaks in."""

from dataclasses import dataclass
from typing import Callable

# Presidio's names where one exists, plus the project's own (ID, DEMOGRAPHIC, QUANTITY, MISC).
ENTITY_TYPES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "DATE_TIME",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "URL",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "ID",
    "DEMOGRAPHIC",
    "QUANTITY",
    "MISC",
)

# Formats a pattern recognizer finds and validates (checksums, address syntax): where one found such a value,
# its boundaries and type are the value's, whatever span the oracle drew around it (decisions.decide).
VALIDATED_TYPES = frozenset({"PHONE_NUMBER", "EMAIL_ADDRESS", "URL", "IP_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN"})

# The Text Anonymization Benchmark's labels in vault's names.
TAB_LABELS = {
    "PERSON": "PERSON",
    "CODE": "ID",
    "LOC": "LOCATION",
    "ORG": "ORGANIZATION",
    "DEM": "DEMOGRAPHIC",
    "DATETIME": "DATE_TIME",
    "QUANTITY": "QUANTITY",
    "MISC": "MISC",
}

# Presidio's entity names that vault names otherwise (its other names are vault's own), to compare labels.
PRESIDIO_LABELS = {
    "NRP": "DEMOGRAPHIC",
    "US_DRIVER_LICENSE": "ID",
    "US_PASSPORT": "ID",
    "US_BANK_NUMBER": "ID",
    "US_ITIN": "ID",
    "MEDICAL_LICENSE": "ID",
    "UK_NHS": "ID",
    "UK_NINO": "ID",
    "CRYPTO": "ID",
}


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of a text, with its entity type."""

    start: int
    end: int
    entity_type: str
    score: float = 1.0
    source: str = "oracle"  # who proposed it: "oracle" or a recognizer's name
    # For an oracle span: (entity type, probability) of opening each type where it opened this one, so
    # that a type the policy keeps cannot hide a value the oracle also thought of as a redacted type.
    type_probs: tuple[tuple[str, float], ...] = ()


def overlap_groups(items: list, span: Callable[[object], Span]) -> list[list]:
    """Group items whose spans overlap, transitively, in order of start."""
    groups: list[list] = []
    end = -1
    for item in sorted(items, key=lambda i: (span(i).start, span(i).end)):
        if groups and span(item).start < end:
            groups[-1].append(item)
            end = max(end, span(item).end)
        else:
            groups.append([item])
            end = span(item).end
    return groups
