"""The shipped pair as a reader meets it: values replaced by the tag of their own type, every other word
intact, and a JSON export's row counters and amounts left alone (issue 17). These run the real models
(vault/default_models), so they check the weights that ship, not the engine."""

import json
import os

import pytest
from click.testing import CliRunner

from vault.cli import main
from vault.models import DEFAULT_MODEL_DIR, load_pair
from vault.pipeline import Redactor
from vault.policy import load_policy
from vault.render import Pseudonymizer

KEY = b"k" * 32


@pytest.fixture(scope="module")
def redactor():
    draft, oracle = load_pair(DEFAULT_MODEL_DIR / "draft", DEFAULT_MODEL_DIR / "oracle")
    return Redactor(draft, oracle, load_policy("default"), key=KEY)


# Lines quoted in the oracle issue, where the causal v3 oracle swallowed verbs and labels or gave a wrong type.
LINES = [
    ("Please call Dmitri Volkov back at +44 20 7946 0321.", "Please call <PERSON> back at <PHONE_NUMBER>."),
    ("SSN on file for Mateus Carvalho: 219-09-9999", "SSN on file for <PERSON>: <US_SSN>"),
    ("Note from nurse: Rajesh Venkataraman was discharged, follow-up in two weeks.",
     "Note from nurse: <PERSON> was discharged, follow-up in two weeks."),
    ("Access from 198.51.100.23 was blocked after three attempts by Nguyen Van Thanh.",
     "Access from <IP_ADDRESS> was blocked after three attempts by <PERSON>."),
    ("Ticket 4821: José Antonio Ruiz reports that the invoice was sent to y.tanabe@example-corp.jp by mistake.",
     "Ticket 4821: <PERSON> reports that the invoice was sent to <EMAIL_ADDRESS> by mistake."),
]


def test_each_value_gets_its_own_tag_and_the_sentence_stays(redactor):
    texts = [text for text, _ in LINES]
    results = redactor.redact(texts, [Pseudonymizer(KEY) for _ in texts])
    assert [r.redacted for r in results] == [want for _, want in LINES]


def test_counters_and_amounts_of_a_json_and_a_csv_export_stay(tmp_path, monkeypatch):
    rows = [{"n": 1, "count": 17, "amount": 1240.5, "total": "1,240.00", "name": "Anna Lindqvist",
             "message": "Please call Dmitri Volkov back at +44 20 7946 0321."},
            {"n": 2, "count": 3, "amount": 18.0, "total": "18.00", "name": "Rajesh Venkataraman",
             "message": "Refund sent to y.tanabe@example-corp.jp on Monday."}]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.json").write_text(json.dumps(rows), encoding="utf-8")
    (tmp_path / "in" / "orders.csv").write_text("n,customer,qty,amount\n1,Anna Lindqvist,3,18.00\n2,Rajesh Venkataraman,17,1240.50\n",
                                               encoding="utf-8")
    monkeypatch.setenv("VAULT_AUDIT_KEY", "a" * 64)
    result = CliRunner().invoke(main, ["redact", str(tmp_path / "in"), str(tmp_path / "out"),
                                       "--audit-dir", str(tmp_path / "audit")])
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "out" / "export.json").read_text(encoding="utf-8"))
    for got, row in zip(out, rows):
        assert {k: got[k] for k in ("n", "count", "amount", "total")} == {k: row[k] for k in ("n", "count", "amount", "total")}
        assert got["name"] == "<PERSON>"
    assert out[0]["message"] == "Please call <PERSON> back at <PHONE_NUMBER>."
    assert out[1]["message"].startswith("Refund sent to <EMAIL_ADDRESS>")
    csv_rows = (tmp_path / "out" / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert csv_rows == ["n,customer,qty,amount", "1,<PERSON>,3,18.00", "2,<PERSON>,17,1240.50"]
    assert sorted(os.listdir(tmp_path / "out")) == ["export.json", "orders.csv"]
