import textwrap

import pytest
from click.testing import CliRunner

from vault.cli import main
from vault.policy import (
    DEFAULT_POLICY_PATH,
    PREDEFINED_RECOGNIZERS,
    SHIPPED_POLICIES,
    PolicyError,
    load_policy,
    shipped_policy,
)
from vault.spans import ENTITY_TYPES

MINIMAL = """\
name: t
entities:
  PERSON: {}
"""


def write(tmp_path, body: str, name="p.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    return str(info.value)


@pytest.mark.parametrize("name", SHIPPED_POLICIES)
def test_shipped_policies_load_by_name_and_path(name):
    by_name = load_policy(name)
    by_path = load_policy(shipped_policy(name))
    assert by_name == by_path
    assert by_name.name == name
    assert by_name.entities
    for rule in by_name.entities.values():  # every rule resolved from the defaults
        assert rule.operator and rule.threshold is not None and rule.mask_char


def test_default_policy_path_and_coverage():
    assert DEFAULT_POLICY_PATH.is_file()
    default = load_policy(DEFAULT_POLICY_PATH)
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IBAN_CODE",
            "IP_ADDRESS", "URL", "ID", "LOCATION"} <= set(default.entities)
    assert set(load_policy("strict").entities) == set(ENTITY_TYPES)
    hipaa = load_policy("hipaa-safe-harbor")
    assert hipaa.entities["DATE_TIME"].operator == "year"


def test_unknown_shipped_name():
    with pytest.raises(PolicyError, match="shipped: default"):
        shipped_policy("nope")


def test_minimal_policy_gets_defaults(tmp_path):
    p = load_policy(write(tmp_path, MINIMAL))
    rule = p.entities["PERSON"]
    assert (rule.operator, rule.threshold, rule.mask_char) == ("tag", 0.5, "*")
    assert p.on_disagreement == "redact" and p.use_ner is False
    assert p.redacts("PERSON") and not p.redacts("LOCATION")


def test_null_entity_rule_is_allowed(tmp_path):
    p = load_policy(write(tmp_path, "name: t\nentities:\n  PERSON:\n"))
    assert p.entities["PERSON"].operator == "tag"


@pytest.mark.parametrize(
    "body, key, allowed",
    [
        (MINIMAL + "colour: red\n", "colour", "allowed: name, description, defaults, entities"),
        ("name: t\nentities:\n  PERSN: {}\n", "entities.PERSN", "allowed: PERSON, LOCATION"),
        ("name: t\nentities:\n  PERSON: {operator: blur}\n", "entities.PERSON.operator",
         "'replace', 'redact', 'mask', 'hash', 'encrypt', 'keep', 'tag', 'remove', 'pseudonym' or 'year'"),
        ("name: t\nentities:\n  PERSON: {operatr: tag}\n", "entities.PERSON.operatr",
         "allowed: operator, threshold, mask_char, hash_length"),
        ("name: t\nentities:\n  PERSON: {threshold: 1.5}\n", "entities.PERSON.threshold",
         "less than or equal to 1"),
        (MINIMAL + "on_disagreement: maybe\n", "on_disagreement", "'redact' or 'hold'"),
        (MINIMAL + "must_redact: [Nope]\n", "must_redact", "allowed: PERSON"),
        (MINIMAL + "must_redact: [US_SSN]\n", "must_redact", "'US_SSN' is not under `entities`"),
        ("entities:\n  PERSON: {}\n", "name", "required key is missing"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: ID, deny_list: [x]}\n",
         "recognizers", "not under `entities`"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: PERSON, patterns: "
         "[{name: p, regex: '(', score: 0.5}]}\n",
         "recognizers.0.patterns.0.regex", "invalid regular expression"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: PERSON, patterns: "
         "[{name: p, regex: x, scor: 0.5}]}\n",
         "recognizers.0.patterns.0.scor", "allowed: name, regex, score"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: PERSON}\n",
         "recognizers.0", "needs `patterns` or a `deny_list`"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: PERSON, deny_list: [x], "
         "validator: crc}\n", "recognizers.0.validator", "'luhn'"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entity: zip code, deny_list: [x]}\n",
         "recognizers.0.supported_entity", "upper-case name of letters, digits and _"),
        (MINIMAL + "recognizers:\n  - {name: CreditCardRecognizer, type: predefined}\n",
         "recognizers.0", "list the type there instead"),
        (MINIMAL + "recognizers:\n  - {name: R, supported_entities: [A, B], deny_list: [x]}\n",
         "recognizers.0", "finds one entity type"),
        ("name: t\nentities:\n  ZIP: {}\n", "entities.ZIP", "or a custom type that one of the policy's recognizers finds"),
    ],
)
def test_errors_name_file_key_and_allowed(tmp_path, body, key, allowed):
    path = write(tmp_path, body, name="bad-policy.yaml")
    message = error_of(path)
    assert "bad-policy.yaml" in message
    assert f"  {key}:" in message
    assert allowed in message


def test_unreadable_and_malformed_files(tmp_path):
    assert "missing.yaml" in error_of(tmp_path / "missing.yaml")
    assert "not valid YAML" in error_of(write(tmp_path, "name: [unclosed\n"))
    assert "a policy is a mapping" in error_of(write(tmp_path, "- a\n- b\n"))
    (tmp_path / "latin1.yaml").write_bytes("name: t\ndeny_list: [Grünewald]\n".encode("latin-1"))
    assert error_of(tmp_path / "latin1.yaml").endswith("latin1.yaml: not UTF-8 text (byte 23)")


@pytest.mark.parametrize("body, where", [
    ('name: t\nrecognizers:\n  - name: N\n    deny_list: [Zebulon Quartermaine, "Anneliese Vandermolen\n', "line 5, column 1"),
    ("name: t\nrecognizers:\n  - name: N\n    deny_list: [Zebulon Quartermaine\n  bad:: 'Anneliese' Vandermolen]\n",
     "line 5, column 7"),
    ("name: t\n\tdeny_list: [Zebulon Quartermaine, Anneliese Vandermolen]\n", "line 2, column 1"),
    ("name: t\ndeny_list: [Zebulon Quartermaine, Anneliese Vandermolen]]\n", "line 2, column"),
])
def test_yaml_errors_name_file_line_and_column_never_the_content(tmp_path, body, where):
    """A deny_list holds the names a policy protects; PyYAML's message quotes the broken line."""
    message = error_of(write(tmp_path, body, name="names.yaml"))
    assert "names.yaml: not valid YAML at " + where in message, message
    assert len(message.splitlines()) == 1
    for planted in ("Zebulon", "Quartermaine", "Anneliese", "Vandermolen"):
        assert planted not in message, message
    result = CliRunner().invoke(main, ["policy", "validate", str(tmp_path / "names.yaml")])
    assert result.exit_code == 2 and "Zebulon" not in result.output and "Anneliese" not in result.output


def test_must_redact_accepts_types_and_recognizers(tmp_path):
    body = MINIMAL + textwrap.dedent("""\
        recognizers:
          - {name: Mine, supported_entity: PERSON, deny_list: [Bob]}
        must_redact: [PERSON, EmailRecognizer, Mine]
        """)
    p = load_policy(write(tmp_path, body))
    assert p.is_must_redact("ID", "Mine") and p.is_must_redact("PERSON", "x")
    assert not p.is_must_redact("ID", "UsSsnRecognizer")
    assert "EmailRecognizer" in PREDEFINED_RECOGNIZERS


def test_allow_list_exact_after_trimming(tmp_path):
    p = load_policy(write(tmp_path, MINIMAL + "allow_list: [' ACME Corp ']\n"))
    assert p.allowed("ACME Corp") and p.allowed(" ACME Corp\n")
    assert not p.allowed("ACME Corp.") and not p.allowed("acme corp")


def test_fingerprint_stable_and_sensitive(tmp_path):
    a = load_policy("default")
    assert a.fingerprint() == load_policy("default").fingerprint()
    assert len(a.fingerprint()) == 64 and int(a.fingerprint(), 16) >= 0
    base = load_policy(write(tmp_path, MINIMAL, "a.yaml")).fingerprint()
    # Comments, key order and formatting do not change what the policy means.
    same = write(tmp_path, "# a comment\nentities: {PERSON: {}}\nname: t\n", "b.yaml")
    assert load_policy(same).fingerprint() == base
    changed = write(tmp_path, "name: t\nentities:\n  PERSON: {threshold: 0.6}\n", "c.yaml")
    assert load_policy(changed).fingerprint() != base
    more = write(tmp_path, MINIMAL + "allow_list: [x]\n", "d.yaml")
    assert load_policy(more).fingerprint() != base
    fingerprints = {load_policy(n).fingerprint() for n in SHIPPED_POLICIES}
    assert len(fingerprints) == len(SHIPPED_POLICIES)


def test_fingerprint_is_of_the_resolved_policy(tmp_path):
    via_defaults = "name: t\ndefaults: {operator: mask}\nentities:\n  PERSON: {}\n"
    explicit = "name: t\nentities:\n  PERSON: {operator: mask}\n"
    assert (load_policy(write(tmp_path, via_defaults, "a.yaml")).fingerprint()
            == load_policy(write(tmp_path, explicit, "b.yaml")).fingerprint())


# Presidio's documentation's example of recognizers in YAML ("Creating recognizers from YAML";
# presidio_analyzer/conf/example_recognizers.yaml), copied unchanged.
PRESIDIO_DOCS_RECOGNIZERS = r"""recognizers:
  -
    name: "Zip code Recognizer"
    supported_language: "de"
    patterns:
      -
         name: "zip code (weak)"
         regex: "(\\b\\d{5}(?:\\-\\d{4})?\\b)"
         score: 0.01
    context:
     - zip
     - code
    supported_entity: "ZIP"
  -
    name: "Titles recognizer"
    supported_language: "en"
    supported_entity: "TITLE"
    deny_list:
      - Mr.
      - Mrs.
      - Ms.
      - Miss
      - Dr.
      - Prof.
"""


def test_presidio_docs_recognizers_load_unchanged(tmp_path, caplog):
    from vault.detect import build_analyzer

    policy_yaml = "name: presidio-docs\nentities:\n  PERSON: {}\n" + PRESIDIO_DOCS_RECOGNIZERS
    with caplog.at_level("WARNING", logger="vault.policy"):
        p = load_policy(write(tmp_path, policy_yaml))
    # Custom types become the policy's own, redacted with the defaults.
    assert {"ZIP", "TITLE"} <= set(p.entities) and p.redacts("TITLE") and p.entities["TITLE"].operator == "tag"
    zip_rec, titles = p.recognizers
    assert (zip_rec.supported_language, zip_rec.used) == ("de", False)
    assert titles.used and titles.detector_name == "Titles_recognizer"
    # The German recognizer is reported in one line and not used; the English one runs.
    [line] = p.unused_recognizers()
    assert "'Zip code Recognizer' (ZIP) is for language 'de'" in line and "not used" in line
    assert any(line in r.getMessage() and "\n" not in r.getMessage() for r in caplog.records)
    hits = build_analyzer(p).detect("Dear Mrs. Okafor, the parcel for 10115 Berlin has arrived.")
    assert [(h.entity_type, h.source) for h in hits] == [("TITLE", "Titles_recognizer")]


def test_presidio_spellings_and_names_with_spaces(tmp_path):
    body = textwrap.dedent("""\
        name: t
        entities:
          PERSON: {}
          EMPLOYEE_ID: {operator: mask, chars_to_mask: 3, from_end: true}
        recognizers:
          - name: Employee id recognizer
            type: custom
            enabled: true
            version: "0.0.1"
            supported_entities: [EMPLOYEE_ID]
            supported_languages:
              - language: en
                context: [employee, staff]
              - language: es
                context: [empleado]
            patterns:
              - {name: emp, regex: "EMP-\\\\d{6}", score: 0.4}
        must_redact: [Employee id recognizer]
        """)
    p = load_policy(write(tmp_path, body))
    [r] = p.recognizers
    assert (r.supported_entity, r.supported_language, r.context) == ("EMPLOYEE_ID", "en", ["employee", "staff"])
    assert p.must_redact == ["Employee_id_recognizer"] and p.is_must_redact("EMPLOYEE_ID", "Employee_id_recognizer")
    assert p.entities["EMPLOYEE_ID"].chars_to_mask == 3
    # Presidio's metadata and alternative spellings do not change what the policy means.
    plain = body.replace('    version: "0.0.1"\n', "").replace("    type: custom\n", "")
    assert load_policy(write(tmp_path, plain, "plain.yaml")).fingerprint() == p.fingerprint()


def test_rules_only_keeps_the_rules_and_leaves_out_every_listed_value():
    from vault.policy import Policy, load_policy

    custom = load_policy("example-custom")
    rules = custom.rules_only()
    text = str(rules)
    assert "Bluebird" not in text and "help@acme.example" not in text  # a deny list, an allow list
    back = Policy.model_validate(rules)
    assert {t: r.operator for t, r in back.entities.items()} == {t: r.operator for t, r in custom.entities.items()}
    assert set(back.must_redact) == {m for m in custom.must_redact if m in custom.entities}
