"""Scratch checker for syncd/data/catalog-home-food-family.yaml (run from the repository root).

Checks what the loader does not: every book is a goodbooks-10k row (title, first authors, year,
ISBN-13 with recomputed check digit), ids and ISBNs are unique across every catalog file, every
non-book has a source and every event months and a city; then prints, for each tag of the
home-food-family list, how many items all catalog files hold, how many are gifts and how many
are Italian (language it or a verified Italian title)."""
import csv
import glob
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOODBOOKS = ROOT.parent / "shared" / "data" / "goodbooks-10k-books.csv"
MINE = ROOT / "syncd" / "data" / "catalog-home-food-family.yaml"
TAGS = ("cooking wine coffee parenting mindfulness happiness health learning creativity gardening "
        "woodworking knitting sewing pottery diy baking beer chocolate cocktails vegetarian pets dogs "
        "cats languages genealogy interior-design sustainability spirituality nutrition "
        "relationships childrens-books crafts nonprofit").split()
DEFAULT_SHAPE = {"book": "gift", "podcast": "share", "article": "share", "webinar": "share"}


def check_digit(first12: str) -> int:
    return (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12)) % 10) % 10


def squash(text: str) -> str:
    return " ".join(text.split())


def titles(row):
    edition = re.sub(r"\s*\([^()]*\)$", "", row["title"])
    full = {squash(edition), squash(row["original_title"])}
    return full | {squash(t.split(":")[0]) for t in full}


def backing(item, rows):
    for row in rows:
        authors = [squash(a) for a in row["authors"].split(",")]
        written = [squash(a) for a in item["by"].split(",")]
        year_ok = item.get("year") is None or str(item["year"]) == row["original_publication_year"]
        isbn = item.get("isbn13", "")
        isbn_ok = (len(row["isbn13"]) == 13 and isbn[:12] == row["isbn13"][:12]
                   and isbn[12:] == str(check_digit(isbn[:12])))
        if item["title"] in titles(row) and authors[: len(written)] == written and year_ok and isbn_ok:
            return row
    return None


def main() -> int:
    rows = list(csv.DictReader(GOODBOOKS.open(encoding="utf-8")))
    problems = []
    everything = []
    for path in sorted(glob.glob(str(ROOT / "syncd" / "data" / "catalog*.yaml"))):
        for item in yaml.safe_load(open(path, encoding="utf-8")) or []:
            everything.append((Path(path).name, item))
    ids = Counter(item["id"] for _, item in everything)
    isbns = Counter(item.get("isbn13") for _, item in everything if item.get("isbn13"))
    mine = yaml.safe_load(MINE.open(encoding="utf-8"))
    for item in mine:
        where = item["id"]
        if ids[item["id"]] > 1:
            problems.append(f"{where}: id used {ids[item['id']]} times across the catalog files")
        if item["kind"] == "book":
            if backing(item, rows) is None:
                problems.append(f"{where}: no goodbooks row backs this book")
            if isbns[item.get("isbn13")] > 1:
                problems.append(f"{where}: ISBN {item.get('isbn13')} used by another book")
            if item.get("titles") and not item.get("source"):
                problems.append(f"{where}: an Italian title needs a source")
        else:
            if not item.get("source"):
                problems.append(f"{where}: no source")
            if not item.get("shape") and item["kind"] not in DEFAULT_SHAPE:
                problems.append(f"{where}: no shape")
            if item["kind"] == "event" and not (item.get("months") and item.get("city")):
                problems.append(f"{where}: an event needs months and city")
    count = defaultdict(Counter)
    for _, item in everything:
        shape = item.get("shape") or DEFAULT_SHAPE.get(item["kind"], "?")
        italian = item.get("language") == "it" or "it" in (item.get("titles") or {})
        for tag in item["tags"]:
            count[tag]["items"] += 1
            count[tag]["gifts"] += shape == "gift"
            count[tag]["it"] += italian
    print(f"{'tag':18} items gifts it")
    short = []
    for tag in TAGS:
        c = count[tag]
        flag = "" if c["items"] >= 6 and c["gifts"] >= 2 and c["it"] >= 2 else "  <-- short"
        short += [tag] if flag else []
        print(f"{tag:18} {c['items']:5} {c['gifts']:5} {c['it']:3}{flag}")
    books = sum(item["kind"] == "book" for item in mine)
    print(f"\n{len(mine)} items in {MINE.name}: {books} books, {len(mine) - books} others")
    for problem in problems:
        print("PROBLEM", problem)
    return 1 if problems or short else 0


if __name__ == "__main__":
    sys.exit(main())
