"""The ledger as a file: the rows of `syncd ledger export` (CSV or YAML) and what `syncd ledger
import` reads back (pure: exchanges and text in, text and exchanges out).

A CSV cell that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage
return first: a card's name or an item can be anything) is written with a `'` in front, as
OWASP's advice for CSV injection has it; the import takes that `'` off again, so a round trip
gives back the text as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from syncd import reciprocity
from syncd.errors import SyncdError
from syncd.model import Exchange

FIELDS = ("id", "contact_uid", "contact_name", "direction", "kind", "item", "date", "weight",
          "source", "note")
# An export's rows; a file written by hand may name the contact instead of giving its id.
CONTACT = "contact"
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")


def row(exchange: Exchange, name: str) -> dict[str, Any]:
    return {
        "id": reciprocity.entry_id(exchange),
        "contact_uid": exchange.contact_uid,
        "contact_name": name,
        "direction": exchange.direction,
        "kind": exchange.kind,
        "item": exchange.item,
        "date": exchange.date.isoformat(),
        "weight": exchange.weight,
        "source": exchange.source,
        "note": exchange.note,
    }


class _Dumper(yaml.SafeDumper):
    """Text with a Unicode line break (NEL, U+2028, U+2029) double-quoted, where they are
    escapes: written raw, YAML reads NEL back as a space."""


def _text_scalar(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = '"' if any(ch in value for ch in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text_scalar)


def to_yaml(rows: list[dict[str, Any]]) -> str:
    return yaml.dump(rows, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    # The csv module quotes only what holds the line terminator: a lone CR would end the row.
    quoted = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for r in rows:
        cells = {key: _inert(value) for key, value in r.items()}
        (quoted if any("\r" in str(v) for v in cells.values()) else writer).writerow(cells)
    return out.getvalue()


def _inert(value: Any) -> Any:
    """A text cell no spreadsheet runs as a formula; `'` already in front gets one more, so
    that `_as_written` can tell the two apart."""
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def _as_written(value: Any) -> Any:
    return value[1:] if isinstance(value, str) and _ESCAPED.match(value) else value


def parse(name: str, text: str) -> list[tuple[str, Any]]:
    """The rows of an export, each with where it is (`FILE:LINE`, `FILE: entry N`). `text` as
    in the file, line ends untranslated (a CR in a cell is the card's)."""
    if name.lower().endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text) or []
        except yaml.YAMLError as error:
            raise SyncdError(f"{name}: not valid YAML ({error})") from error
        if not isinstance(data, list):
            raise SyncdError(f"{name}: expected a list of exchanges")
        return [(f"{name}: entry {n}", entry) for n, entry in enumerate(data, 1)]
    header = text.split("\n", 1)[0]
    # A spreadsheet in an Italian (or other comma-decimal) locale saves with semicolons.
    delimiter = ";" if ";" in header and "," not in header else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [(f"{name}:{reader.line_num}", {key: _as_written(value) for key, value in r.items()})
            for r in reader]


def exchanges(rows: Iterable[tuple[str, Any]], find: Callable[[str], str],
              weights: Mapping[str, float]) -> list[Exchange]:
    """The exchanges of the rows; every problem of every row is listed (with where it is) in
    one error, so that nothing is imported from a file that is not valid as a whole. `find`
    gives the id of the contact a `contact` cell means (`lookup.find_contact`), or raises."""
    found, problems = [], []
    for where, entry in rows:
        try:
            found.append(_exchange(entry, find, weights))
        except (SyncdError, KeyError, TypeError, ValueError) as error:
            reason = str(error) if not isinstance(error, KeyError) else error.args[0]
            problems.append(f"{where}: {reason}")
    if problems:
        raise SyncdError("nothing imported:\n" + "\n".join(problems))
    return found


def _text(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    return "" if value is None else str(value).strip()


def _exchange(entry: Any, find: Callable[[str], str], weights: Mapping[str, float]) -> Exchange:
    if not isinstance(entry, dict):
        raise TypeError("expected a mapping of " + ", ".join(FIELDS))
    required = ("direction", "kind", "item", "date")
    missing = [key for key in required if not _text(entry, key)]
    who = _text(entry, "contact_uid") or _text(entry, CONTACT)
    if not who:
        missing.insert(0, "contact_uid or contact")
    if missing:
        raise KeyError("missing " + ", ".join(missing))
    direction = reciprocity.direction_of(_text(entry, "direction"))
    if direction is None:
        raise ValueError(f"direction {entry['direction']!r} is not one of "
                         f"{reciprocity.direction_words()}")
    kind = reciprocity.kind_of(_text(entry, "kind"))
    if kind is None:
        raise ValueError(f"kind {entry['kind']!r} is not one of {reciprocity.kind_words()}")
    try:
        date = dt.date.fromisoformat(_text(entry, "date"))
    except ValueError:
        raise ValueError(f"date {entry['date']!r} is not a date YYYY-MM-DD") from None
    weight_text = _text(entry, "weight").replace(",", ".")
    try:
        weight = float(weight_text) if weight_text else weights[kind]
    except ValueError:
        raise ValueError(f"weight {entry['weight']!r} is not a number") from None
    if not (weight > 0 and math.isfinite(weight)):
        raise ValueError(f"weight {weight:g} is not a positive number")
    uid = str(entry["contact_uid"]) if _text(entry, "contact_uid") else find(_text(entry, CONTACT))
    return Exchange(uid, direction, kind, str(entry["item"]), date, weight,
                    _text(entry, "source") or "import", str(entry.get("note") or ""))
