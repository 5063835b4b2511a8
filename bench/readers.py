"""Contact reading rate: syncd's vCard reader, vobject and icalendar side by side, on the same
generated cards (bench/cards.py), in the same process. Each reader is asked for what syncd
needs of a card — UID, FN, NOTE, CATEGORIES, BDAY, EMAIL — so none wins by parsing lazily.
Best of three runs. Run: .venv/bin/python bench/readers.py [--cards 10000]"""

from __future__ import annotations

import argparse
import sys
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cards import cards  # noqa: E402

WANTED = ("uid", "fn", "note", "categories", "bday", "email")


def with_syncd(text: str) -> int:
    from syncd.sources.vcard import parse_cards

    return len(parse_cards(text, "bench.vcf"))  # a Contact holds all of WANTED


def with_vobject(text: str) -> int:
    import vobject

    count = 0
    for card in vobject.readComponents(text):
        for name in WANTED:
            for line in card.contents.get(name, ()):
                line.value  # noqa: B018 (decodes the value)
        count += 1
    return count


def with_icalendar(text: str) -> int:
    from icalendar.cal import Component

    count = 0
    for card in Component.from_ical(text, multiple=True):
        for name in WANTED:
            card.get(name)
        count += 1
    return count


READERS = {"syncd": with_syncd, "vobject": with_vobject, "icalendar": with_icalendar}


def measure(count: int, runs: int = 3) -> list[dict]:
    text = "".join(cards(count))
    results = []
    for name, read in READERS.items():
        best = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            got = read(text)
            best = min(best, time.perf_counter() - started)
        assert got == count, f"{name} read {got} of {count} cards"
        results.append({"reader": name, "version": version(name) if name != "syncd" else "",
                         "seconds": best, "rate": count / best})
    vobject_rate = next(r["rate"] for r in results if r["reader"] == "vobject")
    for result in results:
        result["ratio"] = result["rate"] / vobject_rate
    return results


def table(results: list[dict], count: int) -> str:
    rows = [f"| reader ({count:,} cards in one .vcf) | time | cards/s | × vobject |",
            "|---|---:|---:|---:|"]
    for r in results:
        label = f"{r['reader']} {r['version']}".strip()
        rows.append(f"| {label} | {r['seconds']:.2f} s | {r['rate']:,.0f} | "
                    f"**{r['ratio']:.1f}×** |" if r["reader"] == "syncd" else
                    f"| {label} | {r['seconds']:.2f} s | {r['rate']:,.0f} | {r['ratio']:.1f}× |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=10_000)
    args = parser.parse_args()
    print(table(measure(args.cards), args.cards))


if __name__ == "__main__":
    main()
