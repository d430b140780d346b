import pytest
from hypothesis import given
from hypothesis import strategies as st

from vault.evaluate import Scores, read_gold

TEXT = "Mr John Smith lives in Oslo since 2001."
GOLD = [
    {"start": 3, "end": 13, "label": "PERSON", "identifier": "DIRECT"},
    {"start": 23, "end": 27, "label": "LOCATION", "identifier": "QUASI"},
    {"start": 34, "end": 38, "label": "DATE_TIME", "identifier": "NO_MASK"},
]


def test_perfect_none_and_partial_redaction():
    perfect = Scores()
    perfect.add(TEXT, GOLD, [(3, 13, "PERSON"), (23, 27, "LOCATION")])
    r = perfect.report()
    assert r["leak"] == 0 and r["precision"] == 1 and r["f1"] == 1 and r["direct_recall"] == 1
    assert r["visible"] == {}
    nothing = Scores()
    nothing.add(TEXT, GOLD, [])
    assert nothing.report()["leak"] == 1 and nothing.report()["mention_recall"] == 0
    partial = Scores()
    partial.add(TEXT, GOLD, [(3, 7, "PERSON"), (0, 2, "MISC")])  # "John" only, and "Mr"
    r = partial.report()
    assert r["leak"] == pytest.approx(1 - 4 / 13, abs=1e-4)  # 13 sensitive non-space characters, 4 hidden
    assert r["precision"] == pytest.approx(4 / 6, abs=1e-4) and r["mention_recall"] == 0
    assert r["per_type"]["MISC"]["precision"] == 0
    assert r["visible"] == {"PERSON": 1}  # in part: a direct identifier left visible; Oslo is QUASI
    address = Scores()
    address.add("at 12 Baker St and 10.0.0.1", [{"start": 3, "end": 14, "label": "LOCATION", "identifier": "DIRECT"},
                                                 {"start": 19, "end": 27, "label": "IP_ADDRESS", "identifier": "QUASI"}], [])
    assert address.report()["visible"] == {"IP_ADDRESS": 1, "STREET_ADDRESS": 1}


def test_no_mask_characters_count_neither_way():
    s = Scores()
    s.add(TEXT, GOLD, [(3, 13, "PERSON"), (23, 27, "LOCATION"), (34, 38, "DATE_TIME")])
    assert s.report()["precision"] == 1


@given(st.lists(st.tuples(st.integers(0, 38), st.integers(1, 12)), max_size=6))
def test_metrics_stay_in_range_and_whitespace_never_counts(spans):
    s = Scores()
    predicted = [(a, min(len(TEXT), a + n), "MISC") for a, n in spans]
    s.add(TEXT, GOLD, predicted)
    r = s.report()
    assert 0 <= r["leak"] <= 1 and 0 <= r["precision"] <= 1 and 0 <= r["f1"] <= 1
    spaced = Scores()
    spaced.add(TEXT, GOLD, predicted + [(2, 3, "MISC"), (7, 8, "MISC")])  # only spaces
    assert spaced.report() == r


def test_gold_labels_are_mapped_and_bad_lines_named(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "text": "x", "spans": [{"start": 0, "end": 1, "label": "CODE", "identifier": "DIRECT"}]}\nnot json\n')
    try:
        read_gold(path)
    except ValueError as exc:
        assert "gold.jsonl: line 2" in str(exc)
    else:
        raise AssertionError("a bad line must be refused")
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert read_gold(path)[0]["spans"][0]["label"] == "ID"


def test_what_a_reader_sees():
    right = Scores()
    right.add(TEXT, GOLD, [(3, 13, "PERSON"), (23, 27, "LOCATION")])
    r = right.report()
    assert (r["exact_lines"], r["label_accuracy"], r["words_swallowed"]) == (1, 1, 0)
    # The verb swallowed with the name, and the place tagged as a person: hidden, but not what a reader needs.
    wrong = Scores()
    wrong.add(TEXT, GOLD, [(3, 19, "PERSON"), (23, 27, "PERSON")])
    r = wrong.report()
    assert r["leak"] == 0 and r["exact_lines"] == 0 and r["label_accuracy"] == 0.5
    assert r["words_swallowed"] == round(1000 / 8, 2)  # "lives" of 8 words
    # Under a policy that keeps places, the line is exact without them.
    names_only = Scores(redacts=lambda label: label == "PERSON")
    names_only.add(TEXT, GOLD, [(3, 13, "PERSON")])
    assert names_only.report()["exact_lines"] == 1


def test_reader_view_tags_each_span_once():
    from vault.evaluate import reader_view

    assert reader_view(TEXT, [(3, 13, "PERSON"), (22, 27, "LOCATION")]) == "Mr <PERSON> lives in <LOCATION> since 2001."
    assert reader_view(TEXT, [(3, 13, "PERSON"), (8, 13, "ID")]) == "Mr <PERSON> lives in Oslo since 2001."


def test_an_address_reads_the_same_whole_or_in_parts():
    from vault.evaluate import reader_view

    text = "Send it to 5 Bondi Rd, Bondi NSW 2026, attn Ana, Bo."
    parts = [(11, 21, "LOCATION"), (23, 28, "LOCATION"), (29, 32, "LOCATION"), (33, 37, "LOCATION")]
    whole = [(11, 37, "LOCATION")]
    assert reader_view(text, parts) == reader_view(text, whole) == "Send it to <LOCATION>, attn Ana, Bo."
    # Only places: two people stay two tags.
    assert reader_view(text, [(44, 47, "PERSON"), (49, 51, "PERSON")]).endswith("attn <PERSON>, <PERSON>.")
