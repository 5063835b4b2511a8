"""syncd beside the tools people compare it with, in one run on the same data (issue 17; what
is compared with what: bench/side_by_side.py), each work as min / median / max of N
whole-process runs and a ratio of the medians. `--write` puts the table, with the date, the
commit and the machine, into docs/benchmarks.md's "Side by side" section (kept in
bench/SIDE_BY_SIDE.md too, which `--full-page` carries over).

    .venv/bin/python bench/run.py --peers /tmp/bench-peers --write   # about 10 minutes on 2 cores
    .venv/bin/python bench/run.py --quick       # small sizes, to try the scripts (not for docs)
    .venv/bin/python bench/run.py --large       # the cold cycle at 100,000 contacts as well
    .venv/bin/python bench/run.py --full-page   # issue 7's page: targets, cold cycle, Radicale,
                                                # daemon; rewrites docs/benchmarks.md whole

`--peers VENV` is a virtualenv for vdirsyncer, todoman and khal (the `bench` extra), made and
filled from PyPI when it does not hold them; without it they are looked for beside this Python
and on PATH.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cold_cycle  # noqa: E402
import daemon  # noqa: E402
import radicale  # noqa: E402
import readers  # noqa: E402
import side_by_side  # noqa: E402

ROOT = HERE.parent
SECTION = "## Side by side (issue 17): `bench/run.py`"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    memory = next((int(line.split()[1]) // 1024 for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return (f"{cpu}, {os.cpu_count()} cores, {memory:,} MB RAM; {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}; Radicale "
            f"{version('radicale')}, icalendar {version('icalendar')}, "
            f"vobject {version('vobject')}, caldav {version('caldav')}")


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", "syncd") else ""
    return (git("rev-parse", "--short", "HEAD") or "unknown") + dirty


def check(met: bool) -> str:
    return "met" if met else "**missed**"


def compare(args: argparse.Namespace) -> None:
    started, load_before = time.monotonic(), os.getloadavg()[0]
    peers = side_by_side.find_peers(args.peers)
    versions = {name: side_by_side.version_of(tool) for name, tool in peers.items()}
    light, heavy = args.light_runs, args.runs
    rows: list[side_by_side.Row] = []
    works = [
        lambda: side_by_side.help_text(light, peers),
        lambda: side_by_side.reading(heavy, 2_000 if args.quick else 10_000),
        lambda: side_by_side.listing(light, (100, 300) if args.quick else (300, 3_000), peers),
        lambda: side_by_side.cold(heavy, (1_000,) if args.quick else
                                  (10_000, 100_000) if args.large else (10_000,)),
        lambda: side_by_side.uploads(heavy, 100 if args.quick else args.objects, peers),
    ]
    for work in works:
        done = work()
        rows += done
        print(side_by_side.table(done).split("\n", 2)[2], flush=True)
    elapsed = time.monotonic() - started
    command = " ".join(["bench/run.py", *sys.argv[1:]])
    section = [
        SECTION, "",
        f"`{command}` ({'quick sizes: not the reference figures; ' if args.quick else ''}"
        f"{elapsed / 60:.0f} minutes), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"commit {commit()}.",
        "",
        f"- machine: nproc {len(os.sched_getaffinity(0))}; {machine()}",
        "- peers: " + ", ".join(f"{side_by_side.PEERS[name]} {versions[name]}"
                                for name in side_by_side.PEERS) + f", vobject {version('vobject')}",
        f"- runs: {heavy} of each heavy work (reading, cold cycle, uploads: the smallest N with a "
        f"median), {light} of each light one (listing, `--help`), after one warm-up run each "
        "for the listing (todoman and khal build their caches on the first run); every run is "
        "a whole process.",
        "- **noisy figures**: other engineers' tests and benchmarks share these 2 cores (load "
        f"average {load_before:.2f} at the start, {os.getloadavg()[0]:.2f} at the end), so a "
        "single figure can be off by a factor of 2; the ratios, measured in the same minutes, "
        "are the figures to read, and min / max show the spread.",
        "- not like for like: `syncd plan` reads every card and plans from them, `todo list` "
        "and `khal list` read their own caches of the calendar folder (built in the warm-up) "
        "and `khal list` shows events only, so it lists none of the to-dos; vdirsyncer's "
        "collection is made before its run (syncd's first sync makes its own), and its "
        "`discover` is not timed.",
        "",
        side_by_side.table(rows),
    ]
    not_run = [row for row in rows if row.not_run]
    if not_run:
        section += ["", "Not run:", ""]
        section += [f"- {row.work}: {row.not_run}" for row in not_run]
    text = "\n".join(section) + "\n"
    print(text)
    if args.write:
        (HERE / "SIDE_BY_SIDE.md").write_text(text, encoding="utf-8")
        write_section(text)
        print("written to docs/benchmarks.md and bench/SIDE_BY_SIDE.md")


def write_section(text: str) -> None:
    """The section in docs/benchmarks.md, in place of the one there, else before the first."""
    docs = ROOT / "docs" / "benchmarks.md"
    current = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    if SECTION in current:
        before, _, after = current.partition(SECTION)
        rest = after.split("\n## ", 1)
        current = before + text + ("\n## " + rest[1] if len(rest) > 1 else "")
    elif "\n## " in current:
        before, _, after = current.partition("\n## ")
        current = before + "\n" + text + "\n## " + after
    else:
        current = current.rstrip("\n") + "\n\n" + text
    docs.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the scripts")
    parser.add_argument("--runs", type=int, default=3,
                        help="whole-process runs of each heavy work (default 3)")
    parser.add_argument("--light-runs", type=int, default=5,
                        help="whole-process runs of each light work: listing, --help (default 5)")
    parser.add_argument("--objects", type=int, default=1_000,
                        help="follow-ups uploaded to Radicale (default 1000)")
    parser.add_argument("--large", action="store_true",
                        help="the cold cycle at 100,000 contacts too (about 30 s a run)")
    parser.add_argument("--peers", type=Path, help="virtualenv holding vdirsyncer, todoman, "
                        "khal; made from the bench extra when it does not")
    parser.add_argument("--write", action="store_true",
                        help="write the table into docs/benchmarks.md")
    parser.add_argument("--full-page", action="store_true",
                        help="issue 7's benchmarks instead, rewriting docs/benchmarks.md whole")
    args = parser.parse_args()
    if args.full_page:
        full_page(args.quick)
    else:
        compare(args)


def full_page(q: bool) -> None:
    sections = []

    count = 2_000 if q else 10_000
    read = readers.measure(count)
    syncd_ratio = next(r["ratio"] for r in read if r["reader"] == "syncd")
    sections.append(("Reading contacts", readers.table(read, count)))
    print(sections[-1][1], flush=True)

    sizes = (1_000, 5_000) if q else (1_000, 10_000, 100_000)
    cold = [cold_cycle.measure(size) for size in sizes]
    sections.append(("Cold cycle: read → plan → ideas → render, no network, 50,000-row "
                     "ledger, shipped catalog", cold_cycle.table(cold)))
    print(sections[-1][1], flush=True)

    contacts = 200 if q else 1_000
    syncs = radicale.measure(contacts)
    sections.append(("Against Radicale: `syncd sync`", radicale.table(syncs, contacts)))
    print(sections[-1][1], flush=True)

    running = daemon.measure(contacts, idle=15.0 if q else 60.0)
    sections.append(("Against Radicale: the daemon", daemon.table(running)))
    print(sections[-1][1], flush=True)

    by_size = {r["contacts"]: r for r in cold}
    ten = by_size.get(10_000)
    hundred = by_size.get(100_000)
    steady, one_edit = syncs[1][1], syncs[2][1]
    targets = [
        ("reader ≥ 10× vobject", f"{syncd_ratio:.1f}×", syncd_ratio >= 10),
        ("cold cycle, 10,000 contacts ≤ 1.5 s",
         f"{ten['cycle']:.2f} s" if ten else "—", bool(ten) and ten["cycle"] <= 1.5),
        ("cold cycle, 10,000 contacts ≤ 150 MB",
         f"{ten['peak_mb']:.0f} MB" if ten else "—", bool(ten) and ten["peak_mb"] <= 150),
        ("cold cycle, 100,000 contacts ≤ 15 s",
         f"{hundred['cycle']:.2f} s" if hundred else "—",
         bool(hundred) and hundred["cycle"] <= 15),
        ("steady poll: 0 writes, ≤ 1 request per collection",
         f"{steady['requests']} requests, "
         f"{sum(steady['methods'][m] for m in ('PUT', 'DELETE'))} writes",
         steady["requests"] <= 1 and not steady["methods"]["PUT"]),
        ("one edited card: exactly 1 PUT", f"{one_edit['methods']['PUT']} PUT",
         one_edit["methods"]["PUT"] == 1 and not one_edit["methods"]["DELETE"]),
        ("daemon edit-to-server latency ≤ 2 s",
         f"{statistics.median(running['latencies']):.2f} s median, "
         f"{max(running['latencies']):.2f} s max", max(running["latencies"]) <= 2.0),
        ("idle daemon: 1 request per poll", f"{running['per_poll']:g}",
         running["per_poll"] <= 1),
    ]
    summary = ["| target | measured | |", "|---|---:|---|"]
    summary += [f"| {name} | {value} | {check(met)} |" for name, value, met in targets]

    text = [
        "# Benchmarks",
        "",
        "Written by `.venv/bin/python bench/run.py --full-page` "
        f"({'quick sizes: not the reference figures' if q else 'full sizes'}).",
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- commit: {commit()}",
        f"- machine: {machine()}",
        "",
        "## Targets (issue 7)",
        "",
        *summary,
    ]
    for title, table in sections:
        text += ["", f"## {title}", "", table]
    for carried in ("SIDE_BY_SIDE.md", "SUGGESTIONS.md", "NOTES.md"):  # bench/suggestions.py --write; the notes
        if (HERE / carried).exists():
            text += ["", (HERE / carried).read_text(encoding="utf-8").rstrip()]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(summary))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
