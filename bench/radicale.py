"""`syncd sync` against a real Radicale on 127.0.0.1, counted by a proxy on loopback: the first
sync of N follow-ups, a second sync with nothing changed, and a sync after one card was edited
(its email: nothing another follow-up shows). Run: .venv/bin/python bench/radicale.py
[--contacts 1000]. Prints a Markdown table."""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from loopback_proxy import LoopbackProxy  # noqa: E402

from syncd.demo import RadicaleServer  # noqa: E402

CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\n"
        "NOTE:#sailing\r\nEND:VCARD\r\n")


def sync(config: Path, password: str, proxy: LoopbackProxy) -> dict:
    before = len(proxy.requests)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "syncd", "sync", "--config", str(config)],
                          env={**os.environ, "BENCH_PW": password}, capture_output=True,
                          text=True, timeout=1800)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # syncd's own CPU, not Radicale's
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"syncd sync failed:\n{done.stdout}\n{done.stderr}")
    methods = Counter(method for method, _ in proxy.requests[before:])
    return {"seconds": seconds, "cpu": cpu, "requests": sum(methods.values()), "methods": methods,
            "summary": done.stdout.strip().splitlines()[-1]}


def measure(contacts: int) -> list[tuple[str, dict]]:
    with tempfile.TemporaryDirectory() as folder, \
            RadicaleServer(Path(folder) / "radicale", password="bench") as server, \
            LoopbackProxy(server.url) as proxy:
        home = Path(folder)
        (home / "contacts").mkdir()
        for n in range(contacts):
            (home / "contacts" / f"c{n}.vcf").write_text(
                CARD.format(uid=f"c{n}", name=f"Person {n}", email=f"p{n}@example.org"))
        config = home / "config.yaml"
        config.write_text(
            f"contacts: [{{type: vdir, path: {home / 'contacts'}}}]\n"
            f"calendar: {{type: caldav, url: '{proxy.url}', calendar: Bench, "
            f"username: {server.username}, password_env: BENCH_PW}}\n"
            f"rules: {{weekly_cap: {contacts}}}\nstate: {home / 'state.sqlite'}\n")
        password = server.password or ""
        first = sync(config, password, proxy)
        steady = sync(config, password, proxy)
        edited = home / "contacts" / "c7.vcf"
        edited.write_text(CARD.format(uid="c7", name="Person 7", email="new-7@example.org"))
        one_edit = sync(config, password, proxy)
    return [("first sync", first), ("second sync, nothing changed", steady),
            ("after one edited card", one_edit)]


def table(results: list[tuple[str, dict]], contacts: int) -> str:
    rows = [f"| `syncd sync`, {contacts:,} contacts → Radicale | time | CPU of syncd | requests "
            "| by method | result |", "|---|---:|---:|---:|---|---|"]
    for label, r in results:
        methods = ", ".join(f"{m} {n}" for m, n in sorted(r["methods"].items()))
        rows.append(f"| {label} | {r['seconds']:.2f} s | {r['cpu']:.2f} s | {r['requests']} "
                    f"| {methods} "
                    f"| {r['summary']} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    args = parser.parse_args()
    print(table(measure(args.contacts), args.contacts))


if __name__ == "__main__":
    main()
