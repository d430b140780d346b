"""Policies: what counts as sensitive, how each type is rendered, which overrides apply.

A policy is a YAML file validated by the pydantic models below. Every error names the file,
the key path and what is allowed, because the people who write policies are not the people
who read tracebacks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

import regex  # the regex engine Presidio compiles patterns with, so errors match at load time
import yaml
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator,
                      model_validator)

from vault.spans import ENTITY_TYPES

log = logging.getLogger(__name__)

# presidio-anonymizer's operator names, then vault's own. `tag` is `replace` without a `new_value`
# ("<PERSON>"), `remove` is `redact` (Presidio's "redact" removes the text); `pseudonym` and `year` are
# vault's. `hash` is a keyed HMAC here, not Presidio's salted hash (see vault.render).
OPERATORS = ("replace", "redact", "mask", "hash", "encrypt", "keep", "tag", "remove", "pseudonym", "year")
Operator = Literal[OPERATORS]  # type: ignore[valid-type]

LANGUAGE = "en"  # the language vault reads; a recognizer for another one is loaded but never used
# The audit names entity types like this; a custom type (one a policy's recognizer finds) must too.
_ENTITY_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")
# Custom entity types declared by the recognizers of the policy being validated (see Policy._custom_types).
_CUSTOM_TYPES: ContextVar[frozenset[str]] = ContextVar("custom_types", default=frozenset())


def _entity_name(value: str) -> str:
    if value not in ENTITY_TYPES and value not in _CUSTOM_TYPES.get():
        raise ValueError(f"unknown entity type '{value}'; allowed: {', '.join(ENTITY_TYPES)}, or a custom "
                         "type that one of the policy's recognizers finds (supported_entity)")
    return value


EntityType = Annotated[str, AfterValidator(_entity_name)]

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
    # Presidio's operator parameters: `replace` writes new_value (default "<TYPE>"); `mask` masks the
    # first chars_to_mask characters (all when unset), or the last ones with from_end.
    new_value: Optional[str] = None
    chars_to_mask: Optional[int] = Field(None, ge=0)
    from_end: Optional[bool] = None


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


class LanguageSpec(_Strict):
    """One entry of Presidio's `supported_languages`: a language and its own context words."""

    language: str
    context: Optional[list[str]] = None


class RecognizerSpec(_Strict):
    """A custom recognizer as Presidio's recognizer YAML writes it (a `recognizers:` entry of Presidio's
    docs loads unchanged), plus vault's `validator`. Presidio's alternative spellings are folded into
    one form: `supported_entities: [X]` into `supported_entity`, `supported_languages` into
    `supported_language` (English if listed) with that language's context words; `version` and
    `country_code` are Presidio's metadata and change nothing here."""

    name: str = Field(min_length=1)
    supported_entity: str
    supported_entities: Optional[list[str]] = Field(None, exclude=True)
    type: Literal["custom"] = "custom"
    supported_language: str = LANGUAGE
    supported_languages: Optional[list[Union[str, LanguageSpec]]] = Field(None, exclude=True, min_length=1)
    enabled: bool = True
    patterns: list[PatternSpec] = []
    context: list[str] = []
    deny_list: list[str] = []
    deny_list_score: float = Field(1.0, ge=0.0, le=1.0)
    version: Optional[str] = Field(None, exclude=True)
    country_code: Optional[str] = Field(None, exclude=True)
    validator: Optional[Literal["luhn"]] = None  # a hit that fails it is dropped

    @model_validator(mode="before")
    @classmethod
    def _presidio_spellings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("type") == "predefined":
            raise ValueError("type: predefined: vault adds Presidio's predefined recognizers itself for the "
                             "entity types under `entities`; list the type there instead")
        entities = data.get("supported_entities")
        if entities is not None and "supported_entity" not in data:
            if not isinstance(entities, list) or len(entities) != 1:
                raise ValueError("a pattern recognizer finds one entity type: give `supported_entity`, "
                                 "or `supported_entities` with one name")
            data["supported_entity"] = entities[0]
        languages = data.get("supported_languages")
        if isinstance(languages, list) and languages and "supported_language" not in data:
            names = [x.get("language") if isinstance(x, dict) else x for x in languages]
            data["supported_language"] = LANGUAGE if LANGUAGE in names else names[0]
            own = next((x for x in languages if isinstance(x, dict) and x.get("language") == LANGUAGE), {})
            if own.get("context") is not None:
                data["context"] = own["context"]
        return data

    @field_validator("supported_entity")
    @classmethod
    def _entity_named_like_the_audit(cls, value: str) -> str:
        if value not in ENTITY_TYPES and not _ENTITY_NAME.match(value):
            raise ValueError(f"'{value}': a custom entity type is an upper-case name of letters, digits "
                             "and _ (like ZIP or EMPLOYEE_ID), as the audit records it")
        return value

    @model_validator(mode="after")
    def _finds_something(self) -> "RecognizerSpec":
        if not self.patterns and not self.deny_list:
            raise ValueError("a recognizer needs `patterns` or a `deny_list`")
        if self.name in PREDEFINED_RECOGNIZERS:
            raise ValueError(f"'{self.name}' is a predefined recognizer's name; choose another")
        return self

    @property
    def detector_name(self) -> str:
        """The name its hits carry in the audit: a plain name, so "Zip code Recognizer" is
        "Zip_code_Recognizer"."""
        return re.sub(r"[^A-Za-z0-9_.:-]+", "_", self.name)

    @property
    def used(self) -> bool:
        """Whether it runs: enabled, and for the language vault reads (Presidio, too, runs a
        recognizer only for its own language)."""
        return self.enabled and self.supported_language == LANGUAGE


class Policy(_Strict):
    name: str
    description: str = ""
    defaults: Defaults = Defaults()
    entities: dict[EntityType, Optional[EntityRule]]
    recognizers: list[RecognizerSpec] = []
    allow_list: list[str] = []
    must_redact: list[str] = []
    on_disagreement: Literal["redact", "hold"] = "redact"
    # spaCy's entities as recognizer hits: all of them (true), or only those of the listed types ([PERSON]).
    use_ner: Union[bool, list[EntityType]] = False
    # An oracle span of a type the policy keeps is still redacted when the oracle gave the policy's
    # redacted types at least this probability where it opened the span (decisions.policy_type).
    type_mass_threshold: float = Field(0.2, gt=0.0, le=1.0)
    # A hint the oracle did not tag is redacted when it gave opening a span of the redacted types there at least
    # this probability (decisions.doubted_hints; the engine records it from speculate.OPEN_FLOOR = 0.01 up).
    hint_mass_threshold: float = Field(0.02, ge=0.01, le=1.0)
    # Redact every other occurrence of a redacted value in the same file (decisions.spread).
    redact_repeats: bool = True
    # Redact file and folder names like text; a changed name gets a keyed suffix (vault.names).
    redact_file_names: bool = True

    @model_validator(mode="wrap")
    @classmethod
    def _custom_types(cls, data: Any, handler):
        """A type that one of the policy's recognizers finds and that is not vault's own (Presidio's
        example ZIP, TITLE) is a custom type of the policy: a key `entities` accepts, and redacted with
        the `defaults` when `entities` does not name it."""
        declared = _declared_types(data)
        if declared and isinstance(data, dict) and isinstance(data.get("entities"), dict):
            data = {**data, "entities": {**{t: None for t in sorted(declared)}, **data["entities"]}}
        token = _CUSTOM_TYPES.set(frozenset(declared))
        try:
            return handler(data)
        finally:
            _CUSTOM_TYPES.reset(token)

    @field_validator("recognizers")
    @classmethod
    def _recognizers_fit(cls, value: list[RecognizerSpec], info) -> list[RecognizerSpec]:
        entities = info.data.get("entities") or {}
        names = [r.detector_name for r in value]
        for r in value:
            if names.count(r.detector_name) > 1:
                raise ValueError(f"recognizer name '{r.name}' is used twice (names count without spaces "
                                 "and punctuation)")
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
        recognizers = info.data.get("recognizers") or []
        custom = [n for r in recognizers for n in dict.fromkeys((r.name, r.detector_name))]
        types = [*ENTITY_TYPES, *sorted(_CUSTOM_TYPES.get())]
        allowed = [*types, *PREDEFINED_RECOGNIZERS, *custom]
        entities = info.data.get("entities") or {}
        for item in value:
            if item not in allowed:
                raise ValueError(
                    f"'{item}' is neither an entity type nor a recognizer; allowed: "
                    + ", ".join(allowed)
                )
            if item in types and entities and item not in entities:
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
        # Recognizers are named in the audit by their plain names; so are they here.
        plain = {r.name: r.detector_name for r in self.recognizers}
        object.__setattr__(self, "must_redact", [plain.get(m, m) for m in self.must_redact])
        return self

    def unused_recognizers(self) -> list[str]:
        """One line for each recognizer that is loaded but never runs because its language is not
        the one vault reads."""
        return [f"recognizer '{r.name}' ({r.supported_entity}) is for language '{r.supported_language}', "
                f"which vault does not support (it reads '{LANGUAGE}' only): it is not used"
                for r in self.recognizers if r.enabled and not r.used]

    # ---- queries used by detect, render and audit

    def rule(self, entity_type: str) -> Optional[EntityRule]:
        return self.entities.get(entity_type)

    def trusts_ner(self, entity_type: str) -> bool:
        """Whether spaCy's entity of this type counts as a recognizer hit (`use_ner`)."""
        return self.use_ner is True or (isinstance(self.use_ner, list) and entity_type in self.use_ner)

    def redacts(self, entity_type: str) -> bool:
        rule = self.rule(entity_type)
        return rule is not None and rule.operator != "keep"

    def is_must_redact(self, entity_type: str, recognizer: str) -> bool:
        return entity_type in self.must_redact or recognizer in self.must_redact

    def allowed(self, value: str) -> bool:
        # Exact match after trimming: a fuzzy allow list would let near-misses of real PII out.
        return value.strip() in {s.strip() for s in self.allow_list}

    def canonical(self) -> dict[str, Any]:
        # `defaults` is folded into the rules by _resolve, so it is not part of the meaning; an operator
        # parameter left unset is absent, so a policy that sets none keeps the fingerprint it had.
        out = self.model_dump(mode="json", exclude={"defaults"})
        out["entities"] = {t: {k: v for k, v in rule.items() if v is not None} for t, rule in out["entities"].items()}
        return out

    def rules_only(self) -> dict[str, Any]:
        """The policy as applied, for the audit's record: its types, operators and thresholds, without the
        recognizers and the allow list, which can hold the very values it redacts (a deny list of names).
        Still a valid policy, so a report can read it back."""
        data = self.canonical()
        data["recognizers"], data["allow_list"] = [], []
        data["must_redact"] = [m for m in data["must_redact"] if m in data["entities"]]
        return data

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
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    except yaml.YAMLError as exc:
        raise PolicyError(_yaml_error(path, exc)) from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy is a mapping with keys: {', '.join(Policy.model_fields)}")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc)) from None
    for line in policy.unused_recognizers():
        log.warning("vault: %s: %s", path, line)
    return policy


def _yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """Where the YAML breaks and what kind of break, never the text there: a policy's deny_list is a
    list of the very names it protects, and PyYAML's message quotes the offending line."""
    def at(mark) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}"

    def plain(text: str) -> str:  # "found character 'x'": the quoted part is content
        return re.sub(r"'[^']*'|\"[^\"]*\"", "…", text)

    mark, context_mark = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    message = f"{path}: not valid YAML" + (f" at {at(mark)}" if mark else "")
    message += f": {plain(getattr(exc, 'problem', None) or 'syntax error')}"
    if getattr(exc, "context", None) and context_mark:
        message += f" ({plain(exc.context)} from {at(context_mark)})"
    return message


def _declared_types(data: Any) -> set[str]:
    """The custom entity types the raw policy's recognizers find (names checked by RecognizerSpec)."""
    found = set()
    recognizers = data.get("recognizers") if isinstance(data, dict) else None
    for r in recognizers if isinstance(recognizers, list) else []:
        if isinstance(r, dict):
            entities = r.get("supported_entities")
            name = r.get("supported_entity", entities[0] if isinstance(entities, list) and entities else None)
            if isinstance(name, str) and name not in ENTITY_TYPES and _ENTITY_NAME.match(name):
                found.add(name)
    return found


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
