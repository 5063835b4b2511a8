"""Check syncd/data/catalog-sports-outdoor.yaml: every book is a goodbooks-10k row (title, first
authors, year, ISBN-13 = the row's first 12 digits with the check digit recomputed), ids are unique
across all catalog files, every non-book names a source, every event has months and a city.

    .venv/bin/python tools/catalog_sports_outdoor_check.py
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "syncd" / "data"
MINE = DATA / "catalog-sports-outdoor.yaml"
GOODBOOKS = ROOT.parent / "shared" / "data" / "goodbooks-10k-books.csv"


def check_digit(first12: str) -> int:
    return (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12)) % 10) % 10


def titles(row: dict[str, str]) -> set[str]:
    edition = re.sub(r"\s*\([^()]*\)$", "", row["title"]).strip()
    full = {edition, row["original_title"].strip()}
    return full | {t.split(":")[0].strip() for t in full}


def main() -> int:
    problems: list[str] = []
    rows = list(csv.DictReader(GOODBOOKS.open(encoding="utf-8", newline="")))
    ids = Counter(item["id"] for path in sorted(DATA.glob("catalog*.yaml"))
                  for item in yaml.safe_load(path.read_text(encoding="utf-8")) or [])
    mine = yaml.safe_load(MINE.read_text(encoding="utf-8"))
    for item in mine:
        where = item["id"]
        if ids[where] > 1:
            problems.append(f"{where}: id used {ids[where]} times across catalog files")
        if item["kind"] == "book":
            by = [a.strip() for a in item["by"].split(",")]
            isbn = item.get("isbn13", "")
            found = [r for r in rows if item["title"] in titles(r)
                     and [a.strip() for a in r["authors"].split(",")][: len(by)] == by
                     and str(item.get("year", r["original_publication_year"])) == r["original_publication_year"]
                     and isbn[:12] == r["isbn13"][:12] and isbn[12:] == str(check_digit(isbn[:12]))]
            if not found:
                problems.append(f"{where}: no goodbooks row with this title, authors, year and ISBN")
            if item.get("titles") and not item.get("source"):
                problems.append(f"{where}: an Italian title needs a source")
        else:
            if not item.get("source"):
                problems.append(f"{where}: a non-book needs a source")
            if "shape" not in item:
                problems.append(f"{where}: no shape")
            if item["kind"] == "event" and (not item.get("months") or not item.get("city")):
                problems.append(f"{where}: an event needs months and a city")
    isbns = Counter(item["isbn13"] for item in mine if item["kind"] == "book")
    problems += [f"ISBN {i} used twice" for i, n in isbns.items() if n > 1]
    print("\n".join(problems) or f"{len(mine)} items, all checks pass")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
