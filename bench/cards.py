"""Generated address books for the benchmarks: cards as people's phones, Thunderbird, Google and
Nextcloud export them — vCard 3.0 and 4.0, grouped properties (item1.EMAIL), folded NOTEs,
base64 photos, unescaped commas, birthdays — with interest tags from the shipped vocabulary and
a NOTE `received:` line now and then. Seeded: the same arguments give the same bytes."""

from __future__ import annotations

import base64
import datetime as dt
import random
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "syncd" / "data"
FIRST = "Laura Marco Giulia Ana Chen Olu Priya Sven Mette Aiko Omar Zoë Léa Jürgen Ines".split()
LAST = "Rossi Bianchi Müller García Okafor Tanaka Nguyen Kowalski Dubois Silva Hansen".split()
CITIES = ["Milano", "Torino", "Berlin", "Lisboa", "São Paulo", "Osaka", "Lagos", "Oslo"]


def vocabulary_tags() -> list[str]:
    """The tags the shipped catalog uses, so that generated people get real ideas."""
    tags: set[str] = set()
    for path in sorted(DATA.glob("catalog-*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            tags.update(item.get("tags", []))
    return sorted(tags)


def _fold(line: str) -> str:
    """RFC 6350 folding at 75 octets-ish (characters here: the readers must not care)."""
    chunks = [line[i:i + 74] for i in range(0, len(line), 74)] or [""]
    return "\r\n ".join(chunks)


def card(n: int, rng: random.Random, tags: list[str], today: dt.date) -> str:
    version = "4.0" if n % 3 == 0 else "3.0"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    uid = f"bench-{n:06d}"
    chosen = rng.sample(tags, rng.randint(0, 5))
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"UID:{uid}", f"FN:{first} {last} {n}",
             f"N:{last};{first};;;"]
    if n % 4 == 0:
        lines += [f"item1.EMAIL;TYPE=INTERNET:{first.lower()}.{n}@example.org",
                  "item1.X-ABLabel:work"]
    else:
        lines.append(f"EMAIL;TYPE=home:{first.lower()}{n}@example.net")
    lines.append(f"TEL;TYPE=cell:+39 02 {n:07d}")
    # Unescaped commas, as many exporters write them.
    lines.append(f"ADR;TYPE=home:;;Via Roma 1, scala B;{rng.choice(CITIES)};;20100;Italia")
    lines.append("ORG:Acme, Inc.;R&D, Milano")
    if n % 2 == 0:
        born = dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
        lines.append(f"BDAY:{born:%Y%m%d}" if version == "4.0" else f"BDAY:{born:%Y-%m-%d}")
    if chosen and n % 3 == 1:
        lines.append("CATEGORIES:" + ",".join(chosen))
        note = "Met at the conference in " + rng.choice(CITIES) + ", talked for an hour."
    else:
        note = ("Met through friends. " * rng.randint(1, 6)) + " ".join(f"#{t}" for t in chosen)
    if n % 10 == 0:
        when = today - dt.timedelta(days=rng.randint(10, 400))
        note += f"\\nreceived: book \"{rng.choice(LAST)} memoirs\" {when:%Y-%m-%d}"
    lines.append(_fold("NOTE:" + note))
    if n % 10 == 5:
        photo = base64.b64encode(rng.randbytes(3000)).decode()
        head = "PHOTO;ENCODING=b;TYPE=JPEG:" if version == "3.0" else \
            "PHOTO:data:image/jpeg;base64,"
        lines.append(_fold(head + photo))
    lines += [f"REV:{today:%Y%m%d}T120000Z", "END:VCARD"]
    return "\r\n".join(lines) + "\r\n"


def cards(count: int, seed: int = 7, today: dt.date = dt.date(2026, 11, 27)) -> list[str]:
    rng = random.Random(seed)
    tags = vocabulary_tags()
    return [card(n, rng, tags, today) for n in range(count)]


def write_vdir(folder: Path, texts: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, text in enumerate(texts):
        (folder / f"bench-{n:06d}.vcf").write_text(text, encoding="utf-8", newline="")
