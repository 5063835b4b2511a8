"""Benchmark (not a test): the introduction index over 100,000 synthetic contacts, then
suggestions for 1,000 of them. Run: .venv/bin/python bench/introductions.py"""
import random, sys, time
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parent.parent))
from syncd.ideas import IntroductionIndex, Vocabulary
from syncd.model import Contact

def people(n, tags, weights, rng):
    out = []
    for i in range(n):
        k = rng.randint(3, 8)
        chosen = set()
        while len(chosen) < k:
            chosen.update(rng.choices(tags, weights=weights, k=k - len(chosen)))
        out.append(Contact(uid=f"u{i:06d}", name=f"Person {rng.randrange(10**6):06d}", source="bench",
                           interests=tuple(sorted(chosen))))
    return out

def run(label, weights):
    rng = random.Random(42)
    tags = [f"tag-{i:03d}" for i in range(500)]
    contacts = people(100_000, tags, weights, rng)
    vocabulary = Vocabulary.build({}, {})
    excluded = {frozenset((f"u{rng.randrange(100000):06d}", f"u{rng.randrange(100000):06d}")) for _ in range(20_000)}
    t0 = time.perf_counter()
    index = IntroductionIndex(contacts, vocabulary)
    t1 = time.perf_counter()
    sample = rng.sample(contacts, 1000)
    found = 0
    for c in sample:
        found += len(index.suggest(c, excluded_pairs=excluded, limit=2))
    t2 = time.perf_counter()
    biggest = max(len(index.holders(t)) for t in tags)
    print(f"{label}: build {t1 - t0:.2f} s, 1,000 suggest {t2 - t1:.2f} s, total {t2 - t0:.2f} s; "
          f"{found} introductions; most common tag held by {biggest:,}")

if __name__ == "__main__":
    run("uniform, 3-8 tags of 500", None)
    run("zipf s=1, 3-8 tags of 500", [1 / (i + 1) for i in range(500)])
