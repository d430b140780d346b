"""Where spans land in the redacted output (vault.context.Output): the text it builds is render()'s, a
redacted span is placed on its replacement and a kept one on its own text, whatever the operators. The
report's side (the output around a span) is tested in test_report.py."""

from hypothesis import given
from hypothesis import strategies as st

from vault.context import Output
from vault.policy import Policy
from vault.decisions import Decision
from vault.render import Pseudonymizer, render, replacements
from vault.spans import Span

KEY = b"k" * 32
OPERATORS = ["tag", "mask", "redact", "hash", "year", "pseudonym", "encrypt"]


@st.composite
def texts_with_decisions(draw, operators=OPERATORS):
    """A text, decisions on it (redacted and kept, overlapping or not, some empty) and one operator per type."""
    text = draw(st.text(alphabet="ab 1\n", min_size=1, max_size=40))
    types = ["PERSON", "ID", "DATE_TIME"]
    decisions = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        decisions.append(Decision(Span(start, end, draw(st.sampled_from(types))), draw(st.sampled_from(["redacted", "kept"])),
                                  "oracle"))
    rules = {t: {"operator": draw(st.sampled_from(operators))} for t in types}
    return text, decisions, Policy.model_validate({"name": "t", "entities": rules, "recognizers": []})


@given(texts_with_decisions())
def test_a_redacted_span_is_placed_on_its_replacement_and_a_kept_one_on_its_own_text(case):
    text, decisions, policy = case
    cuts = replacements(text, decisions, policy, Pseudonymizer(KEY))
    output = Output.of(text, cuts)
    for d in decisions:
        start, end = output.place(d.span.start, d.span.end)
        assert 0 <= start <= end <= len(output.text)
        covering = [(a, b, new) for a, b, new in cuts if a <= d.span.start and d.span.end <= b and a < b]
        if d.action == "redacted" and d.span.end > d.span.start:
            [(_, _, new)] = covering  # the merged replacement it is part of
            assert output.text[start:end] == new
        elif not any(a < d.span.end and d.span.start < b for a, b, _ in cuts):
            assert output.text[start:end] == text[d.span.start:d.span.end]  # untouched: its own text, moved


# Not encrypt: its random IV makes two renderings of one value differ.
@given(texts_with_decisions([op for op in OPERATORS if op != "encrypt"]))
def test_the_text_is_what_render_writes(case):
    text, decisions, policy = case
    cuts = replacements(text, decisions, policy, Pseudonymizer(KEY))
    assert Output.of(text, cuts).text == render(text, decisions, policy, Pseudonymizer(KEY))


def test_a_kept_span_around_a_redaction_takes_its_replacement_whole():
    text = "to Anna Berg Street now"
    cuts = [(3, 12, "<PERSON>")]  # "Anna Berg" redacted inside a kept "Anna Berg Street"
    output = Output.of(text, cuts)
    assert output.text == "to <PERSON> Street now"
    start, end = output.place(3, 19)
    assert output.text[start:end] == "<PERSON> Street"
    start, end = output.place(20, 23)
    assert output.text[start:end] == "now"
    assert output.place(0, 0) == (0, 0) and output.place(23, 23) == (len(output.text),) * 2

