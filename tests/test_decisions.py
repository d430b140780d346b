"""decide_texts, the decision step's one entry point: prefixes clipped, repeats spread across a file's values
and never across files. The rules of one text (the union, whole words, edges, spreading within it) are in
tests/test_render.py, beside the operators that render them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from vault.decisions import TextEvidence, decide_texts
from vault.policy import Policy
from vault.spans import Span

POLICY = Policy.model_validate({"name": "t", "entities": {"PERSON": {}, "ID": {}}, "redact_repeats": True})


def evidence(text: str, document: int, name: str | None = None, prefix: str = "") -> TextEvidence:
    """A text whose oracle tagged `name` (as PERSON) once, after a context prefix."""
    read = prefix + text
    spans = []
    if name is not None:
        at = read.index(name, len(prefix))
        spans.append(Span(at, at + len(name), "PERSON", 0.9))
    return TextEvidence(read, len(prefix), [], spans, {}, [], [], document)


def redacted(decisions, text):
    return sorted(text[d.span.start:d.span.end] for d in decisions if d.action == "redacted")


def test_spans_are_in_the_texts_own_coordinates_after_the_prefix():
    [decisions] = decide_texts([evidence("Signed: Anna Berg.", 0, "Anna Berg", prefix="name: ")], POLICY)
    assert redacted(decisions, "Signed: Anna Berg.") == ["Anna Berg"]


def test_a_value_redacted_in_one_cell_is_redacted_in_the_files_other_cells_only():
    texts = ["Anna Berg called", "then Berg again", "Berg of another file"]
    out = decide_texts([evidence(texts[0], 0, "Anna Berg"), evidence(texts[1], 0), evidence(texts[2], 1)], POLICY)
    assert redacted(out[0], texts[0]) == ["Anna Berg"]
    assert redacted(out[1], texts[1]) == ["Berg"]
    assert [d.reason for d in out[1]] == ["consistency"]
    assert redacted(out[2], texts[2]) == []  # another file: nothing spreads to it


def test_without_redact_repeats_nothing_spreads():
    policy = POLICY.model_copy(update={"redact_repeats": False})
    out = decide_texts([evidence("Anna Berg called", 0, "Anna Berg"), evidence("then Berg again", 0)], policy)
    assert redacted(out[1], "then Berg again") == []


NAMES = ["Anna Berg", "Bo Lind", "Carla Diaz"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.integers(0, 2), st.booleans()), min_size=1, max_size=6))
def test_every_whole_word_repeat_in_a_file_of_a_name_redacted_in_it_is_redacted(cells):
    """Each cell names someone; the oracle tagged the name in some cells only. Whatever the oracle missed,
    a name it tagged anywhere in a file is hidden in every cell of that file, and no other file changes."""
    texts = [f"{name} wrote." for name, _, _ in cells]
    out = decide_texts([evidence(t, doc, name if tagged else None) for t, (name, doc, tagged) in zip(texts, cells)],
                       POLICY)
    for t, (name, doc, tagged) in enumerate(cells):
        found_in_file = any(n == name and d == doc and tg for n, d, tg in cells)
        assert (name in redacted(out[t], texts[t])) == found_in_file


def test_an_oracle_span_leaves_a_stray_bracket_at_its_edge_to_the_reader():
    text = "Login from 10.0.0.1 (Kraków, PL). Not you? (ref: Anna Berg)"
    spans = [Span(text.index("Kraków"), text.index(")") + 1, "LOCATION", 0.9),
             Span(text.index("(ref"), text.index(" Anna"), "ID", 0.9)]
    policy = Policy.model_validate({"name": "t", "entities": {"LOCATION": {}, "ID": {}}})
    [decisions] = decide_texts([TextEvidence(text, 0, [], spans, {}, [], [], 0)], policy)
    assert redacted(decisions, text) == ["Kraków, PL", "ref:"]  # "(" and ")" stay: no partner inside


def test_a_recognizers_span_keeps_its_brackets():
    text = "Call (415) 555-0199 today"
    found = Span(5, 19, "PHONE_NUMBER", 0.9, "PhoneRecognizer")
    policy = Policy.model_validate({"name": "t", "entities": {"PHONE_NUMBER": {}}})
    [decisions] = decide_texts([TextEvidence(text, 0, [], [Span(9, 19, "PHONE_NUMBER", 0.9)], {}, [found], [], 0)], policy)
    assert redacted(decisions, text) == ["(415) 555-0199"]
