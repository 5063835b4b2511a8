"""How good the follow-ups are, on a generated network (issue 14): real cards in a folder, a real
state file and ledger, real syncs to a calendar folder, the shipped catalog.

Two networks of N contacts (default 300), one written in English (`me.language: en`, interests
in English) and one in Italian (`me.language: it`, Italian interest words, Italian notes, no
LANG); each contact has 2 interests out of the 100 below. A third of them gave me a book last
month, a sixth something else. Reports:

- interests with at least 3 ideas on the contact's own tag (a contact with only that interest);
- over the first sync: the share of follow-ups holding the most frequent idea, the distinct ideas
  used, give-backs after a book whose first idea is a book, gift ideas that are not gifts, and
  Italian follow-ups holding an English word of syncd's;
- a simulated year of weekly syncs where every follow-up is ticked off as written (and now and
  then someone gives me something new): ideas proposed twice to one person within 12 months
  (in two different follow-ups), and catalog items recorded as given although the person never
  said which.

Run: .venv/bin/python bench/suggestions.py [--contacts 300] [--weeks 52] [--show 20] [--write]
(`--show N` prints N follow-ups of each language to read; `--write` puts the figures into
docs/benchmarks.md.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import icalendar

from syncd import cycle, matching, render, wording
from syncd.config import Config, MeConfig, SourceConfig
from syncd.ledger import Ledger
from syncd.model import RECEIVED, Contact, Exchange
from syncd.planner import GIFT_REASONS
from syncd.state import State
from syncd.targets.local import LocalTarget

START = dt.date(2026, 12, 7)  # a Monday
# (English, Italian) forms of 100 common interests.
INTERESTS = [
    ("sailing", "vela"), ("cooking", "cucina"), ("photography", "fotografia"),
    ("hiking", "escursionismo"), ("running", "corsa"), ("cycling", "ciclismo"),
    ("climbing", "arrampicata"), ("skiing", "sci"), ("swimming", "nuoto"), ("yoga", "yoga"),
    ("tennis", "tennis"), ("football", "calcio"), ("basketball", "pallacanestro"),
    ("volleyball", "pallavolo"), ("golf", "golf"), ("rugby", "rugby"), ("surfing", "surf"),
    ("scuba diving", "subacquea"), ("kayaking", "canoa"), ("fishing", "pesca sportiva"),
    ("horse riding", "equitazione"), ("martial arts", "arti marziali"), ("fitness", "palestra"),
    ("triathlon", "triathlon"), ("motorcycling", "motociclismo"), ("motorsport", "automobilismo"),
    ("camping", "campeggio"), ("mountaineering", "alpinismo"), ("birdwatching", "ornitologia"),
    ("gardening", "giardinaggio"), ("chess", "scacchi"), ("board games", "giochi da tavolo"),
    ("video games", "videogiochi"), ("literature", "letteratura"), ("poetry", "poesia"),
    ("history", "storia"), ("philosophy", "filosofia"), ("psychology", "psicologia"),
    ("science fiction", "fantascienza"), ("fantasy", "fantasy"), ("mystery", "gialli"),
    ("comics", "fumetti"), ("theatre", "teatro"), ("film", "cinema"), ("television", "serie tv"),
    ("music", "musica"), ("jazz", "jazz"), ("rock", "musica rock"),
    ("classical music", "musica classica"), ("opera", "lirica"), ("blues", "blues"),
    ("electronic music", "musica elettronica"), ("folk music", "musica folk"),
    ("guitar", "chitarra"), ("piano", "pianoforte"), ("singing", "canto"), ("dance", "danza"),
    ("painting", "pittura"), ("drawing", "disegno"), ("art", "arte"),
    ("architecture", "architettura"), ("design", "design"), ("fashion", "moda"),
    ("museums", "musei"), ("knitting", "maglia"), ("sewing", "cucito"), ("pottery", "ceramica"),
    ("woodworking", "falegnameria"), ("diy", "fai da te"), ("crafts", "artigianato"),
    ("baking", "pasticceria"), ("wine", "vino"), ("beer", "birra"), ("coffee", "caffè"),
    ("cocktails", "cocktail"), ("chocolate", "cioccolato"), ("vegetarian", "vegetariano"),
    ("nutrition", "alimentazione"), ("travel", "viaggi"), ("languages", "lingue"),
    ("dogs", "cani"), ("cats", "gatti"), ("parenting", "genitori"), ("astronomy", "astronomia"),
    ("physics", "fisica"), ("mathematics", "matematica"), ("biology", "biologia"),
    ("programming", "programmazione"), ("artificial intelligence", "intelligenza artificiale"),
    ("robotics", "robotica"), ("entrepreneurship", "imprenditoria"), ("investing", "finanza"),
    ("economics", "economia"), ("leadership", "leadership"), ("marketing", "marketing"),
    ("politics", "politica"), ("environment", "ambiente"), ("sustainability", "sostenibilità"),
    ("journalism", "giornalismo"), ("mindfulness", "meditazione"),
]
FIRST = ["Anna", "Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide", "Chiara",
         "Matteo", "Laura", "Andrea", "Francesca", "Simone", "Marta", "Pietro", "Alice", "Tom",
         "Emma", "Noah", "Olivia", "Liam", "Maya", "Ravi", "Priya", "Kenji", "Sofia", "Omar"]
LAST = ["Rossi", "Bianchi", "Verdi", "Neri", "Russo", "Ferrari", "Esposito", "Romano", "Colombo",
        "Smith", "Jones", "Brown", "Taylor", "Wilson", "Khan", "Tanaka", "Garcia", "Müller"]
KINDS_RECEIVED = ("meal", "advice", "intro", "favour")


def network(home: Path, language: str, size: int, seed: int) -> tuple[Config, list[str]]:
    """Cards, a ledger, a configuration; returns the config and the uids that gave a book."""
    rng = random.Random(seed)
    folder = home / "contacts"
    folder.mkdir(parents=True)
    column = 0 if language == "en" else 1
    gave_book = []
    with State(home / "state.sqlite") as state:
        ledger = Ledger(state)
        for n in range(size):
            uid = f"{language}-{n:04d}"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {n}"
            tags = [pair[column] for pair in rng.sample(INTERESTS, 2)]
            hashtags = [f"#{tag.replace(' ', '-')}" for tag in tags]
            note = (f"Interests: {tags[0]}, {tags[1]}" if language == "en" and n % 2
                    else f"Loves {hashtags[0]} and {hashtags[1]}" if language == "en"
                    else f"Appassionata di {hashtags[0]} e {hashtags[1]}" if n % 2
                    else f"Interessi: {tags[0]} e {tags[1]}")
            lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}",
                     f"EMAIL:{uid}@example.org", f"NOTE:{note}"]
            if n % 3 == 0:
                birthday = START + dt.timedelta(days=rng.randrange(365))
                lines.append(f"BDAY:{1960 + n % 40}-{birthday:%m-%d}")
            (folder / f"{uid}.vcf").write_text("\r\n".join([*lines, "END:VCARD", ""]),
                                               encoding="utf-8")
            received = START - dt.timedelta(days=rng.randrange(20, 40))
            if n % 3 == 1:
                ledger.add(Exchange(uid, RECEIVED, "book", f"A book from {name}", received, 2.0, "cli"))
                gave_book.append(uid)
            elif n % 6 == 2:
                ledger.add(Exchange(uid, RECEIVED, rng.choice(KINDS_RECEIVED), "something",
                                    received, 2.0, "cli"))
    config = Config(contacts=(SourceConfig("vdir", folder),),
                    me=MeConfig(interests=("sailing", "history") if language == "en"
                                else ("vela", "storia"), language=language),
                    state=home / "state.sqlite")
    return config, gave_book


def coverage(config: Config) -> tuple[int, int, list[str]]:
    """Interests (of the 100) with at least 3 ideas on their own tag in every month of the
    year (events count only in the months before them), for a keep-in-touch and for a gift;
    the ones short of it, with their fewest (share/give)."""
    catalog, vocabulary = cycle.load_ideas(config)
    share = gift = 0
    short = []
    for english, _ in INTERESTS:
        tag = vocabulary.canonical(english)
        contact = Contact(f"only-{tag}", "Only", "bench", interests=(english.replace(" ", "-"),))
        fewest = []
        for purpose in (matching.SHARE, matching.GIFT):
            counts = []
            for month in range(12):
                day = dt.date(START.year, month + 1, 1)
                picks = matching.match(contact, catalog, vocabulary, my_interests=(),
                                       my_language=config.me.language, exchanged=(), limit=3,
                                       occasion=matching.Occasion(purpose, day))
                counts.append(sum(tag in {vocabulary.canonical(t) for t in s.idea.tags}
                                  for s in picks))
            fewest.append(min(counts))
        share += fewest[0] >= 3
        gift += fewest[1] >= 3
        if min(fewest) < 3:
            short.append(f"{english} ({fewest[0]}/{fewest[1]})")
    return share, gift, short


def read_calendar(folder: Path) -> dict[Path, render.Stored]:
    return {path: render.read(path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.ics"))}


def first_sync_figures(config: Config, calendar: Path, gave_book: list[str]) -> dict:
    catalog = {idea.id: idea for idea in cycle.load_ideas(config)[0]}
    objects = read_calendar(calendar)
    ideas = Counter(idea for stored in objects.values() for idea in stored.ideas)
    with_ideas = [s for s in objects.values() if s.ideas]
    after_book = [s for s in objects.values()
                  if "give-back" in (s.reason, *s.also) and s.contact_uid in set(gave_book)]
    not_gifts = sum(not catalog[i].is_gift for s in objects.values()
                    if set(GIFT_REASONS) & {s.reason, *s.also} for i in s.ideas)
    english = 0
    if config.me.language == "it":
        english = sum(bool(english_words(s, catalog)) for s in objects.values())
    top, top_count = ideas.most_common(1)[0] if ideas else ("-", 0)
    return {
        "follow-ups": len(objects), "with ideas": len(with_ideas),
        "most frequent idea": f"{top} in {top_count} ({top_count / max(1, len(objects)):.1%})",
        "distinct ideas": len(ideas),
        "give-backs after a book, book first": f"{sum(catalog[s.ideas[0]].kind == 'book' for s in after_book if s.ideas)} of {len(after_book)}",
        "gift ideas that are not gifts": not_gifts,
        "Italian follow-ups with an English word": english,
    }


def english_words(stored: render.Stored, catalog: dict) -> list[str]:
    """English words of syncd's left in a follow-up once the names (titles, authors, places),
    tags, links and email are taken out."""
    text = f"{stored.summary}\n{stored.description}"
    names = []
    for uid in stored.ideas:
        idea = catalog[uid]
        names += [idea.title, idea.title_in("it"), idea.by, idea.city or "", idea.link or ""]
    names += re.findall(r"^- presenta (.+?): in comune", text, re.MULTILINE)
    names += re.findall(r"(?:Compleanno|Anniversario) di (.+?) (?:il|l')", text)
    names += re.findall(r"(?:Fatti sentire con|Ricambia|Conosci meglio) (.+)", text)
    names += re.findall(r"“([^”]*)”", text)
    for name in sorted(filter(None, names), key=len, reverse=True):
        text = text.replace(name, " ")
    text = re.sub(r"#\S+|https?://\S+|\S+@\S+", " ", text)
    own = wording.english_only_words()
    return [word for word in re.findall(r"[^\W\d_]+", text) if word.lower() in own]


def tick_everything(calendar: Path, when: dt.datetime) -> int:
    """Every open follow-up ticked off as written, as a calendar app saves it."""
    ticked = 0
    for path in sorted(calendar.glob("*.ics")):
        parsed = icalendar.Calendar.from_ical(path.read_bytes())
        todo = next(c for c in parsed.walk() if c.name == "VTODO")
        if str(todo.get("STATUS", "")).upper() == "COMPLETED":
            continue
        for name in ("STATUS", "COMPLETED", "PERCENT-COMPLETE"):
            todo.pop(name, None)
        todo.add("status", "COMPLETED")
        todo.add("completed", when)
        path.write_bytes(parsed.to_ical())
        ticked += 1
    return ticked


def year(config: Config, calendar: Path, weeks: int, seed: int) -> dict:
    """Weekly syncs, everything ticked off as written each week, new gifts now and then."""
    rng = random.Random(seed)
    catalog = cycle.load_ideas(config)[0]
    titles = {matching.title_key(name) for idea in catalog
              for name in (idea.title, *(t for _, t in idea.titles))}
    shown: dict[str, dict[str, tuple[str, dt.date]]] = defaultdict(dict)  # contact → idea → (f-up, day)
    twice, followups, ticked = 0, set(), 0
    repeats: list[str] = []
    uids = sorted(p.stem for p in (config.contacts[0].path).glob("*.vcf"))
    with State(config.state) as state:
        for week in range(weeks):
            day = START + dt.timedelta(weeks=week)
            now = dt.datetime.combine(day, dt.time(9), dt.timezone.utc)
            for uid in rng.sample(uids, max(1, len(uids) // 50)):  # 2 % give me something
                Ledger(state).add(Exchange(uid, RECEIVED, rng.choice(("book", "meal", "advice")),
                                           f"gift of week {week}", day - dt.timedelta(days=1),
                                           2.0, "cli"))
            ticked += tick_everything(calendar, now - dt.timedelta(hours=12))
            cycle.sync(config, state, LocalTarget(calendar), day, now)
            for stored in read_calendar(calendar).values():
                if stored.status == "COMPLETED" or not stored.contact_uid:
                    continue
                followups.add(stored.uid)
                for idea in stored.ideas:
                    before = shown[stored.contact_uid].get(idea)
                    if before and before[0] != stored.uid and (day - before[1]).days < 365:
                        twice += 1
                        repeats.append(f"{stored.contact_uid}: {idea} in {before[0][:14]} on "
                                       f"{before[1]} and in {stored.uid[:14]} ({stored.reason}"
                                       f"{'+' + '+'.join(stored.also) if stored.also else ''}) "
                                       f"on {day}")
                    if not before or before[0] != stored.uid:
                        shown[stored.contact_uid][idea] = (stored.uid, day)
        recorded = [e for e in Ledger(state).exchanges()
                    if e.source == "calendar" and matching.title_key(e.item) in titles]
    for line in repeats[:10]:
        print("  twice:", line, flush=True)
    return {"weeks": weeks, "follow-ups shown": len(followups), "ticked off": ticked,
            "ideas proposed twice to one person within a year": twice,
            "catalog items recorded without being marked": len(recorded)}


def show(config: Config, calendar: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    objects = [s for s in read_calendar(calendar).values() if s.status != "COMPLETED"]
    for stored in rng.sample(objects, min(count, len(objects))):
        print(f"--- {stored.summary}\n{stored.description}\n")


TITLE = "## Follow-up quality (issue 14): `bench/suggestions.py`"


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT).stdout.strip()


def write_figures(lines: list[str], args: argparse.Namespace, commit: str) -> None:
    """The figures as a section of docs/benchmarks.md (kept in bench/SUGGESTIONS.md, which
    bench/run.py carries over when it rewrites that file); `commit` is the code measured."""
    section = [TITLE, "", f"`.venv/bin/python bench/suggestions.py --contacts {args.contacts} "
               f"--weeks {args.weeks}`, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d} (commit "
               f"{commit}), goals in brackets:", "", "```", *lines, "```"]
    text = "\n".join(section) + "\n"
    (ROOT / "bench" / "SUGGESTIONS.md").write_text(text, encoding="utf-8")
    docs = ROOT / "docs" / "benchmarks.md"
    current = docs.read_text(encoding="utf-8")
    if TITLE in current:
        before, _, after = current.partition(TITLE)
        rest = after.split("\n## ", 1)
        current = before + text + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    docs.write_text(current, encoding="utf-8")


ROOT = Path(__file__).resolve().parent.parent
GOALS = {
    "interests with >= 3 ideas": "[>= 90 of 100]", "most frequent idea": "[<= 10 %]",
    "give-backs after a book": "[all]", "gift ideas that are not gifts": "[0]",
    "Italian follow-ups with an English word": "[0]", "ideas proposed twice": "[0]",
    "catalog items recorded": "[0]",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--show", type=int, default=0, help="follow-ups of each language to print")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--write", action="store_true",
                        help="write the figures into docs/benchmarks.md")
    args = parser.parse_args()
    measured = commit()  # the code as it was loaded, not as it is when the run ends
    lines: list[str] = []

    def say(line: str) -> None:
        goal = next((g for key, g in GOALS.items() if line.startswith(key)), "")
        lines.append(f"{line} {goal}".rstrip())
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for language in ("en", "it"):
            home = Path(tmp) / language
            config, gave_book = network(home, language, args.contacts, args.seed)
            share, gift, short = coverage(config)
            say(f"== {language}: {args.contacts} contacts, 2 interests each of {len(INTERESTS)}")
            say(f"interests with >= 3 ideas on their own tag in every month: {share} of "
                f"{len(INTERESTS)} to share, {gift} to give; short (share/give): "
                f"{', '.join(short) or '-'}")
            calendar = home / "calendar"
            calendar.mkdir()
            with State(config.state) as state:
                now = dt.datetime.combine(START, dt.time(9), dt.timezone.utc)
                cycle.sync(config, state, LocalTarget(calendar), START, now)
            for key, value in first_sync_figures(config, calendar, gave_book).items():
                say(f"{key}: {value}")
            if args.show:
                show(config, calendar, args.show, args.seed)
            for key, value in year(config, calendar, args.weeks, args.seed).items():
                say(f"{key}: {value}")
    if args.write:
        write_figures(lines, args, measured)


if __name__ == "__main__":
    main()
