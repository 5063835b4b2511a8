"""Measure the daemon against a real Radicale on 127.0.0.1: edit-to-server latency, CPU of an
idle daemon, requests per idle poll. Run: .venv/bin/python bench/daemon.py [--contacts N]
[--idle SECONDS]. Prints a Markdown table."""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from loopback_proxy import LoopbackProxy  # noqa: E402

from syncd.demo import RadicaleServer  # noqa: E402
from syncd.errors import TargetError  # noqa: E402
from syncd.model import followup_uid  # noqa: E402
from syncd.targets.caldav import CalDAVTarget  # noqa: E402

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nNOTE:#sailing\r\nEND:VCARD\r\n"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


def measure(contacts: int = 1000, idle: float = 60.0, poll: int = 5) -> dict:
    args = argparse.Namespace(contacts=contacts, idle=idle, poll=poll)
    with tempfile.TemporaryDirectory() as folder, \
            RadicaleServer(Path(folder) / "radicale", password="bench") as server, \
            LoopbackProxy(server.url) as proxy:
        home = Path(folder)
        contacts = home / "contacts"
        contacts.mkdir()
        for n in range(args.contacts):
            (contacts / f"c{n}.vcf").write_text(CARD.format(uid=f"c{n}", name=f"Person {n}"))
        config = home / "config.yaml"
        config.write_text(
            f"contacts: [{{type: vdir, path: contacts}}]\n"
            f"calendar: {{type: caldav, url: '{proxy.url}', calendar: Bench, "
            f"username: {server.username}, password_env: BENCH_PW}}\n"
            f"rules: {{weekly_cap: 1000}}\n"
            f"daemon: {{poll: {args.poll}s, debounce: 1s}}\nstate: state.sqlite\n")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "syncd", "--log-level", "info", "run", "--config", str(config)],
            env={**os.environ, "BENCH_PW": server.password or ""},
            stderr=open(home / "daemon.log", "w"),
        )
        # Watch the server the cheap way, so that watching does not slow it down: one PROPFIND
        # listing (no bodies) for counts, one GET of the expected href for latency.
        watcher = CalDAVTarget(server.url, "Bench", server.username, server.password)

        def todo_count() -> int:
            try:
                return len(watcher.list())
            except TargetError:  # the calendar does not exist yet
                return 0

        def present(contact_uid: str) -> bool:
            href = watcher.href_for(followup_uid(contact_uid, "keep-in-touch", "new"))
            try:
                watcher.get(href)
                return True
            except TargetError:
                return False

        started = time.monotonic()
        while todo_count() < args.contacts:  # one keep-in-touch each: the cap admits them all
            time.sleep(1.0)
        first_sync = time.monotonic() - started
        time.sleep(2)
        latencies = []
        for n in range(5):
            t0 = time.monotonic()
            write_atomically(contacts / f"new{n}.vcf", CARD.format(uid=f"new{n}", name=f"New {n}"))
            while not present(f"new{n}"):
                time.sleep(0.02)
            latencies.append(time.monotonic() - t0)
            time.sleep(3)  # let the cycle finish the introductions it changed
        time.sleep(2)
        # Requests per cycle, cycles counted by the daemon's own "cycle:" log lines.
        log_path = home / "daemon.log"
        start_requests, start_cycles = proxy.count(), log_path.read_text().count("INFO: cycle: ")
        time.sleep(args.poll * 6 + 0.5)
        cycles = log_path.read_text().count("INFO: cycle: ") - start_cycles
        per_poll = (proxy.count() - start_requests) / max(cycles, 1)
        daemon.send_signal(signal.SIGHUP)  # nothing changes: the config is the same
        # Idle CPU: with the default 5-minute poll nothing happens for a minute.
        config.write_text(config.read_text().replace(f"poll: {args.poll}s", "poll: 5m"))
        daemon.send_signal(signal.SIGHUP)
        time.sleep(3)
        cpu0 = cpu_seconds(daemon.pid)
        time.sleep(args.idle)
        idle_cpu = cpu_seconds(daemon.pid) - cpu0
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
    return {"contacts": args.contacts, "first_sync": first_sync, "latencies": latencies,
            "per_poll": per_poll, "idle": args.idle, "idle_cpu": idle_cpu, "exit": code}


def table(r: dict) -> str:
    return "\n".join([
        f"| `syncd run`, {r['contacts']:,} contacts → Radicale | figure |", "|---|---:|",
        f"| daemon start to all {r['contacts']:,} to-dos on the server (first sync) "
        f"| {r['first_sync']:.2f} s |",
        f"| edit-to-server latency (atomic write of a new card → its to-do on the server), "
        f"median / max of {len(r['latencies'])} "
        f"| {statistics.median(r['latencies']):.2f} s / {max(r['latencies']):.2f} s |",
        f"| requests per idle poll (nothing changed) | {r['per_poll']:g} |",
        f"| CPU of the idle daemon over {r['idle']:g} s | {r['idle_cpu']:.3f} s "
        f"({r['idle_cpu'] / r['idle'] * 60:.3f} s per minute) |",
        f"| exit status after SIGTERM | {r['exit']} |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--poll", type=int, default=5, help="poll seconds for the request count")
    args = parser.parse_args()
    print(table(measure(args.contacts, args.idle, args.poll)))


if __name__ == "__main__":
    main()
