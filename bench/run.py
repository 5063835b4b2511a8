"""Every benchmark, one command: prints the tables and writes them, with the machine, the date
and the commit, to docs/benchmarks.md (the notes come from bench/NOTES.md).

    .venv/bin/python bench/run.py            # about 5 minutes on 2 cores
    .venv/bin/python bench/run.py --quick    # smaller sizes, to try the scripts (not for docs)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import cold_cycle  # noqa: E402
import daemon  # noqa: E402
import radicale  # noqa: E402
import readers  # noqa: E402

ROOT = HERE.parent


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    q = args.quick
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
        "Written by `.venv/bin/python bench/run.py` "
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
    for carried in ("SUGGESTIONS.md", "NOTES.md"):  # bench/suggestions.py --write; the notes
        if (HERE / carried).exists():
            text += ["", (HERE / carried).read_text(encoding="utf-8").rstrip()]
    out = ROOT / "docs" / "benchmarks.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(text) + "\n", encoding="utf-8")
    print("\n".join(summary))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
