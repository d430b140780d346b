"""Policies: what counts as sensitive, how each type is rendered, which overrides apply.

A policy is a YAML file validated by the pydantic models below. Every error names the file,
the key path and what is allowed, because the people who write policies are not the people
who read tracebacks.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Optional, get_args, get_origin

import regex  # the regex engine Presidio compiles patterns with, so errors match at load time
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vault.spans import ENTITY_TYPES

OPERATORS = ("tag", "pseudonym", "mask", "hash", "remove", "keep", "year")
Operator = Literal["tag", "pseudonym", "mask", "hash", "remove", "keep", "year"]
EntityType = Literal[ENTITY_TYPES]  # type: ignore[valid-type]

# Presidio's predefined pattern recognizers a policy may use, by name, with the vault entity
# type their hits become. A plain table here (no Presidio import) so that loading a policy
# stays cheap; vault.detect maps the same names to classes.
PREDEFINED_RECOGNIZERS: dict[str, str] = {
    "EmailRecognizer": "EMAIL_ADDRESS",
    "PhoneRecognizer": "PHONE_NUMBER",
    "CreditCardRecognizer": "CREDIT_CARD",
    "IbanRecognizer": "IBAN_CODE",
    "IpRecognizer": "IP_ADDRESS",
    "UrlRecognizer": "URL",
    "UsSsnRecognizer": "US_SSN",
    "DateRecognizer": "DATE_TIME",
    # Presidio has no single "ID": its national, licence, health-plan and device codes are ours.
    "UsItinRecognizer": "ID",
    "UsPassportRecognizer": "ID",
    "UsLicenseRecognizer": "ID",
    "UsBankRecognizer": "ID",
    "MedicalLicenseRecognizer": "ID",
    "NhsRecognizer": "ID",
    "UsNpiRecognizer": "ID",
    "UsMbiRecognizer": "ID",
    "UsHealthInsuranceMemberIdRecognizer": "ID",
    "CryptoRecognizer": "ID",
    "MacAddressRecognizer": "ID",
}

SHIPPED_DIR = resources.files("vault") / "policies"
SHIPPED_POLICIES = ("default", "strict", "hipaa-safe-harbor", "example-custom")
DEFAULT_POLICY_PATH = Path(str(SHIPPED_DIR / "default.yaml"))


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityRule(_Strict):
    """How one entity type is handled. Unset fields take the policy's `defaults`."""

    operator: Optional[Operator] = None
    threshold: Optional[float] = Field(None, ge=0.0, le=1.0)  # minimum recognizer score
    mask_char: Optional[str] = Field(None, min_length=1, max_length=1)
    hash_length: Optional[int] = Field(None, ge=8, le=64)  # hex characters kept of the HMAC


class Defaults(_Strict):
    operator: Operator = "tag"
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    mask_char: str = Field("*", min_length=1, max_length=1)
    hash_length: int = Field(16, ge=8, le=64)


class PatternSpec(_Strict):
    name: str
    regex: str
    score: float = Field(0.5, ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value)
        except regex.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        return value


class RecognizerSpec(_Strict):
    """A custom recognizer, in the shape of Presidio's recognizer YAML."""

    name: str = Field(min_length=1)
    supported_entity: EntityType
    type: Literal["custom"] = "custom"
    supported_language: Literal["en"] = "en"
    enabled: bool = True
    patterns: list[PatternSpec] = []
    context: list[str] = []
    deny_list: list[str] = []
    deny_list_score: float = Field(1.0, ge=0.0, le=1.0)
    validator: Optional[Literal["luhn"]] = None  # a hit that fails it is dropped

    @model_validator(mode="after")
    def _finds_something(self) -> "RecognizerSpec":
        if not self.patterns and not self.deny_list:
            raise ValueError("a recognizer needs `patterns` or a `deny_list`")
        if self.name in PREDEFINED_RECOGNIZERS:
            raise ValueError(f"'{self.name}' is a predefined recognizer's name; choose another")
        return self


class Policy(_Strict):
    name: str
    description: str = ""
    defaults: Defaults = Defaults()
    entities: dict[EntityType, Optional[EntityRule]]
    recognizers: list[RecognizerSpec] = []
    allow_list: list[str] = []
    must_redact: list[str] = []
    on_disagreement: Literal["redact", "hold"] = "redact"
    use_ner: bool = False
    # An oracle span of a type the policy keeps is still redacted when the oracle gave the policy's
    # redacted types at least this probability where it opened the span (render.policy_type).
    type_mass_threshold: float = Field(0.2, gt=0.0, le=1.0)
    # Redact every other occurrence of a redacted value in the same file (render.spread).
    redact_repeats: bool = True
    # Redact file and folder names like text; a changed name gets a keyed suffix (vault.names).
    redact_file_names: bool = True

    @field_validator("recognizers")
    @classmethod
    def _recognizers_fit(cls, value: list[RecognizerSpec], info) -> list[RecognizerSpec]:
        entities = info.data.get("entities") or {}
        names = [r.name for r in value]
        for r in value:
            if names.count(r.name) > 1:
                raise ValueError(f"recognizer name '{r.name}' is used twice")
            # Without a rule there would be no operator for its hits.
            if entities and r.supported_entity not in entities:
                raise ValueError(
                    f"recognizer '{r.name}' finds {r.supported_entity}, which is not under "
                    f"`entities`; add it there (allowed: {', '.join(entities)})"
                )
        return value

    @field_validator("must_redact")
    @classmethod
    def _known_names(cls, value: list[str], info) -> list[str]:
        custom = [r.name for r in info.data.get("recognizers") or []]
        allowed = [*ENTITY_TYPES, *PREDEFINED_RECOGNIZERS, *custom]
        entities = info.data.get("entities") or {}
        for item in value:
            if item not in allowed:
                raise ValueError(
                    f"'{item}' is neither an entity type nor a recognizer; allowed: "
                    + ", ".join(allowed)
                )
            if item in ENTITY_TYPES and entities and item not in entities:
                raise ValueError(f"'{item}' is not under `entities`, so it has no operator; add it there")
        return value

    @model_validator(mode="after")
    def _resolve(self) -> "Policy":
        # Fill every rule from `defaults`, so the rest of vault never sees an unset field and
        # the fingerprint is of what the policy means, not of how it was abbreviated.
        base = self.defaults.model_dump()
        resolved = {}
        for etype, rule in self.entities.items():
            given = rule.model_dump(exclude_none=True) if rule else {}
            resolved[etype] = EntityRule(**{**base, **given})
        object.__setattr__(self, "entities", resolved)
        return self

    # ---- queries used by detect, render and audit

    def rule(self, entity_type: str) -> Optional[EntityRule]:
        return self.entities.get(entity_type)

    def redacts(self, entity_type: str) -> bool:
        rule = self.rule(entity_type)
        return rule is not None and rule.operator != "keep"

    def is_must_redact(self, entity_type: str, recognizer: str) -> bool:
        return entity_type in self.must_redact or recognizer in self.must_redact

    def allowed(self, value: str) -> bool:
        # Exact match after trimming: a fuzzy allow list would let near-misses of real PII out.
        return value.strip() in {s.strip() for s in self.allow_list}

    def canonical(self) -> dict[str, Any]:
        # `defaults` is folded into the rules by _resolve, so it is not part of the meaning.
        return self.model_dump(mode="json", exclude={"defaults"})

    def fingerprint(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def shipped_policy(name: str) -> Path:
    """Path of a policy shipped inside the package ("default", "strict", ...)."""
    if name not in SHIPPED_POLICIES:
        raise PolicyError(f"no shipped policy '{name}'; shipped: {', '.join(SHIPPED_POLICIES)}")
    return Path(str(SHIPPED_DIR / f"{name}.yaml"))


def load_policy(path_or_name: str | Path) -> Policy:
    """Load a policy from a YAML file, or a shipped one by name."""
    if isinstance(path_or_name, str) and path_or_name in SHIPPED_POLICIES:
        path = shipped_policy(path_or_name)
    else:
        path = Path(path_or_name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy is a mapping with keys: {', '.join(Policy.model_fields)}")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc)) from None


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: invalid policy"]
    for err in exc.errors():
        loc = [p for p in err["loc"] if p != "[key]"]
        where = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            allowed = _fields_at(loc[:-1])
            msg = f"unknown key; allowed: {', '.join(allowed)}"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "[key]" in err["loc"] and err["type"] == "literal_error":
            msg = f"unknown entity type '{loc[-1]}'; allowed: {', '.join(ENTITY_TYPES)}"
        lines.append(f"  {where}: {msg}")
    return "\n".join(lines)


def _fields_at(loc: list) -> list[str]:
    """The keys a model accepts at a key path, found by walking the models' annotations."""
    model, skip = Policy, False
    for part in loc:
        if skip:  # a mapping key or a list index, not a field
            skip = False
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        model, skip = _inner_model(field.annotation) if field else (None, False)
        if model is None:
            return []
    return list(model.model_fields)


def _inner_model(ann) -> tuple[type[BaseModel] | None, bool]:
    """(model inside an annotation, whether a key or index comes before it in a path)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    if get_origin(ann) in (list, dict):
        return _inner_model(get_args(ann)[-1])[0], True
    for arg in get_args(ann):  # Optional[...]
        found = _inner_model(arg)
        if found[0] is not None:
            return found
    return None, False
