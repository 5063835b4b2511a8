"""What one edited card costs: one card of a generated address book (bench/cards.py) edited three
ways in turn — its email, one interest tag added, its name — each followed by a sync into a
calendar folder; prints how many follow-ups each edit created, updated and deleted. Its own
follow-ups change with any edit; a tag or a name also changes the follow-ups of others that
propose this person as an introduction or share the ideas the new tag brings.
Run: .venv/bin/python bench/edits.py [CONTACTS]   (default 300)

Measured 2026-12-02 (2 cores, Python 3.11): 300 contacts: email 2 updated, tag 4, name 7;
3,000 contacts: email 2, tag 5, name 6 (0 created, 0 deleted each)."""
import sys, tempfile, datetime as dt, re
from pathlib import Path
sys.path.insert(0, "bench")
from cards import cards, write_vdir
from syncd import cycle
from syncd.config import Config, MeConfig, Rules, SourceConfig
from syncd.state import State
from syncd.targets.local import LocalTarget
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
home = Path(tempfile.mkdtemp())
write_vdir(home / "contacts", cards(N))
config = Config(contacts=(SourceConfig("vdir", home / "contacts"),), me=MeConfig(interests=("sailing", "cooking")),
                rules=Rules(weekly_cap=10000), state=home / "s.sqlite")
today = dt.date(2026, 11, 27)
now = dt.datetime(2026, 11, 27, 9, tzinfo=dt.timezone.utc)
(home / "cal").mkdir()
target = LocalTarget(home / "cal")
files = sorted((home / "contacts").glob("*.vcf"))
with State(config.state) as st:
    r = cycle.sync(config, st, target, today, now)
    print("first", dict(r.counts))
    # pick a card with tags in its NOTE
    for f in files:
        t = f.read_text()
        if re.search(r"#\w", t) and "EMAIL" in t:
            break
    print("edited", f.name)
    edits = [("email", lambda t: re.sub(r"(EMAIL[^:]*:)([^\r\n]+)", r"\1changed@example.org", t, count=1)),
             ("tag", lambda t: t.replace("#", "#sailing #", 1)),
             ("name", lambda t: re.sub(r"FN:([^\r\n]+)", r"FN:\1 Jr", t, count=1))]
    for label, edit in edits:
        f.write_text(edit(f.read_text()))
        r = cycle.sync(config, st, target, today, now)
        print(label, {k: v for k, v in r.counts.items() if k in ("created", "updated", "deleted")})
