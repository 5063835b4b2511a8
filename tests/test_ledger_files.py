"""The ledger as a file (syncd.ledger_files): whatever a card's text holds comes back as it was
from an export, and a CSV cell never starts a spreadsheet formula."""

import csv
import datetime as dt
import io

import pytest

from syncd import ledger_files
from syncd.config_types import Rules
from syncd.errors import SyncdError
from syncd.model import Exchange

TEXTS = ["=1+1", "+39 333", "-5%", "@A1", "\tTab", "\rCR", "'=x", "''+y", "'Tis", "a\x85b",
         "x\u2028y\u2029z", "two\nlines", 'say "hi", ok', "null", "~", "yes", "1e3",
         "2026-01-01", "- dash", "# hash", "Nicolò Àlvarez", "\x1b[31mred"]


def exchanges():
    return [Exchange(f"uid-{n}", "gave", "gift", text, dt.date(2026, 1, 1 + n), 1.5, "cli", text)
            for n, text in enumerate(TEXTS)]


@pytest.mark.parametrize("name", ["ledger.csv", "ledger.yaml"])
def test_every_text_comes_back_as_it_was(name):
    rows = [ledger_files.row(e, e.item) for e in exchanges()]
    text = ledger_files.to_yaml(rows) if name.endswith("yaml") else ledger_files.to_csv(rows)
    back = ledger_files.exchanges(ledger_files.parse(name, text), lambda q: q,
                                  Rules().give_back_weights)
    assert back == exchanges()


def test_no_csv_cell_starts_a_formula():
    rows = [ledger_files.row(e, e.item) for e in exchanges()]
    cells = [cell for r in csv.reader(io.StringIO(ledger_files.to_csv(rows))) for cell in r]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_a_weight_that_is_no_positive_number_is_refused():
    rows = [("f.csv:2", {"contact_uid": "a", "direction": "gave", "kind": "book", "item": "X",
                         "date": "2026-01-01", "weight": w}) for w in ("0", "-1", "nan", "inf", "x")]
    with pytest.raises(SyncdError) as error:
        ledger_files.exchanges(rows, lambda q: q, Rules().give_back_weights)
    assert str(error.value).count("f.csv:2: weight") == 5
