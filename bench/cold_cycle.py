"""A cold cycle without network: read the address book → plan → ideas → render, in a fresh
process, with a 50,000-row ledger and the shipped catalog. Prints wall time, peak RSS and how
many follow-ups were planned. Run: .venv/bin/python bench/cold_cycle.py [--sizes 1000,10000]"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cards import cards, write_vdir  # noqa: E402

TODAY = dt.date(2026, 11, 27)
KINDS = ("book", "gift", "advice", "intro", "meal", "webinar")


def prepare(home: Path, size: int, ledger_rows: int) -> Path:
    from syncd.ledger import Ledger
    from syncd.model import GAVE, RECEIVED, Exchange
    from syncd.state import State

    write_vdir(home / "contacts", cards(size))
    rng = random.Random(size)
    with State(home / "state.sqlite") as state:
        Ledger(state).add_many(
            Exchange(f"bench-{rng.randrange(size):06d}", rng.choice((GAVE, RECEIVED)),
                     rng.choice(KINDS), f"item {n}", TODAY - dt.timedelta(days=rng.randrange(900)),
                     1.0, "cli")
            for n in range(ledger_rows))
    config = home / "config.yaml"
    config.write_text(
        "contacts: [{type: vdir, path: contacts}]\n"
        "calendar: {type: local, path: calendar}\n"
        "me: {interests: [sailing, photography, machine-learning]}\n"
        "state: state.sqlite\n")
    return config


def child(config_path: str) -> None:
    """The measured part, alone in its process: nothing is cached or imported ahead."""
    started = time.perf_counter()
    from syncd import cycle
    from syncd.config import load_config
    from syncd.state import State
    from syncd.targets import MemoryTarget

    imported = time.perf_counter()
    config = load_config(config_path)
    now = dt.datetime.combine(TODAY, dt.time(9), dt.timezone.utc)
    with State(config.state) as state:
        marks = {"start": time.perf_counter()}
        context = cycle.RunContext(config)  # one catalog load for reading and planning, as a cycle
        read = cycle.read_contacts(config, state, context=context)
        marks["read"] = time.perf_counter()
        followups = cycle.make_plan(config, read.contacts, TODAY, state, context)
        marks["plan"] = time.perf_counter()
        desired = context.desire(followups, MemoryTarget(), now, state.instance())
        marks["render"] = time.perf_counter()
    # VmHWM, not ru_maxrss: on Linux ru_maxrss keeps the peak of the parent this process was
    # forked from (before exec), which measured the benchmark runner instead of the cycle.
    status = Path("/proc/self/status").read_text()
    peak_kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    print(json.dumps({
        "contacts": len(read.contacts), "followups": len(desired),
        "imports": imported - started,
        "read": marks["read"] - marks["start"], "plan": marks["plan"] - marks["read"],
        "render": marks["render"] - marks["plan"], "cycle": marks["render"] - marks["start"],
        "peak_mb": peak_kb / 1024,
    }))


def measure(size: int, ledger_rows: int = 50_000) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        config = prepare(Path(folder), size, ledger_rows)
        output = subprocess.run([sys.executable, __file__, "--child", str(config)],
                                capture_output=True, text=True, check=True, cwd=folder).stdout
    return json.loads(output.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    rows = ["| contacts | follow-ups | read | plan + ideas | render | cycle (wall) | peak RSS |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r['contacts']:,} | {r['followups']:,} | {r['read']:.2f} s "
                    f"| {r['plan']:.2f} s | {r['render']:.2f} s | **{r['cycle']:.2f} s** "
                    f"| {r['peak_mb']:.0f} MB |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--ledger", type=int, default=50_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(table([measure(int(size), args.ledger) for size in args.sizes.split(",")]))


if __name__ == "__main__":
    main()
