"""syncd beside the tools people compare it with, on the same data, each work timed over N
whole-process runs (min / median / max):

- reading 10,000 cards: syncd's reader and vobject, one fresh process per run (bench/readers.py);
- the first upload of N follow-ups to a Radicale on 127.0.0.1 and a sync with nothing changed:
  `syncd sync` from the contacts, `vdirsyncer sync` from a local folder holding the same objects
  (the ones syncd writes), each run to a new collection of the same server; wall time and the
  client's CPU (RUSAGE_CHILDREN deltas: Radicale's CPU is not in them);
- listing: `syncd plan` and `syncd status` beside `todo list` (todoman) and `khal list`, on the
  calendar folder syncd wrote for 300 and 3,000 contacts (bench/cards.py), each warmed once
  (todoman and khal build their caches on the first run);
- the cold cycle (bench/cold_cycle.py) beside its goals;
- `syncd --help` beside `todo --help`.

The peers come from PyPI (the `bench` extra of pyproject.toml): next to this Python, in the
virtualenv given with `--peers` (made and filled from the extra when it is not there), or on
PATH. A tool that cannot be installed or run is a row saying "not run" and why.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
import cold_cycle  # noqa: E402
from cards import cards, write_vdir  # noqa: E402

PEERS = {"vdirsyncer": "vdirsyncer", "todo": "todoman", "khal": "khal"}  # command: package
CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL:{email}\r\n"
        "NOTE:#sailing\r\nEND:VCARD\r\n")  # as bench/radicale.py: one follow-up per contact


class NotRun(Exception):
    """A tool could not be installed or run; the message says why."""


@dataclass
class Row:
    work: str
    syncd: list[float] = field(default_factory=list)
    peer_name: str = ""
    peer: list[float] = field(default_factory=list)
    unit: str = "s"
    goal: float | None = None  # a target instead of a peer
    not_run: str = ""

    def ratio(self) -> float | None:
        other = self.goal if self.goal is not None else (
            statistics.median(self.peer) if self.peer else None)
        if not self.syncd or not other:
            return None
        return statistics.median(self.syncd) / other


# --- running things ----------------------------------------------------------------------------

def bench_extra() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return project["project"]["optional-dependencies"].get("bench", list(PEERS.values()))


def find_peers(venv: Path | None) -> dict[str, Path | NotRun]:
    """Each peer command's path, or why it is not there. `venv` is made and filled from the
    `bench` extra when it does not hold them yet."""
    if venv is not None and not all((venv / "bin" / name).exists() for name in PEERS):
        try:
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,
                               capture_output=True, text=True)
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *bench_extra()],
                           check=True, capture_output=True, text=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as error:
            output = getattr(error, "stderr", "") or str(error)
            reason = NotRun(f"could not install into {venv}: {output.strip().splitlines()[-1:]}")
            return {name: reason for name in PEERS}
    found: dict[str, Path | NotRun] = {}
    for name, package in PEERS.items():
        places = [Path(sys.executable).parent / name]
        if venv is not None:
            places.insert(0, venv / "bin" / name)
        path = next((p for p in places if p.exists()), None) or shutil.which(name)
        found[name] = Path(path) if path else NotRun(
            f"`{name}` not found: pip install '.[bench]' ({package}), or give --peers VENV")
    return found


def version_of(tool: Path | NotRun) -> str:
    if isinstance(tool, NotRun):
        return "not installed"
    done = subprocess.run([str(tool), "--version"], capture_output=True, text=True)
    found = re.search(r"\d+(\.\d+)+\S*", done.stdout + done.stderr)
    return found.group(0) if found else "unknown version"


def run_timed(command: list[str], env: dict[str, str] | None = None,
              cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process; NotRun when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NotRun(f"`{Path(command[0]).name} ...` failed: {error}") from error
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        shown = " ".join([Path(command[0]).name, *command[1:3]])
        raise NotRun(f"`{shown}` exited {done.returncode}: {last[0][:200]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def syncd_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "syncd", *args]


def peer_env(home: Path) -> dict[str, str]:
    """No user configuration or cache of the machine leaks in: everything under `home`."""
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg-config"),
            "XDG_CACHE_HOME": str(home / "xdg-cache"), "XDG_DATA_HOME": str(home / "xdg-data"),
            "PYTHONPATH": str(ROOT), "TZ": "UTC"}


def fail(rows: list[Row], who: str, reason: object) -> None:
    for row in rows:
        row.not_run = "; ".join(filter(None, [row.not_run, f"{who}: {reason}"]))


def sample(wall: Row, side: str, command: list[str], env: dict[str, str],
           cpu: Row | None = None, runs: int = 1) -> bool:
    """`runs` whole-process runs of `command` into the rows' `side` lists (the wall time, and
    the CPU time into `cpu`); a failure empties them and marks the rows not run."""
    rows = [wall, *([cpu] if cpu else [])]
    try:
        for _ in range(runs):
            seconds, cpu_seconds = run_timed(command, env)
            getattr(wall, side).append(seconds)
            if cpu:
                getattr(cpu, side).append(cpu_seconds)
        return True
    except NotRun as reason:
        for row in rows:
            setattr(row, side, [])
        fail(rows, "syncd" if side == "syncd" else wall.peer_name, reason)
        return False


# --- the works -------------------------------------------------------------------------------

def reading(runs: int, count: int = 10_000) -> list[Row]:
    row = Row(f"read {count:,} cards (one .vcf, in-process reader)", peer_name="vobject")
    for _ in range(runs):  # a fresh process per run, each reader once on the same text
        done = subprocess.run([sys.executable, __file__, "--child-read", str(count)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            row.not_run = f"reader: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
            row.syncd, row.peer = [], []
            break
        times = json.loads(done.stdout)
        row.syncd.append(times["syncd"])
        row.peer.append(times["vobject"])
    return [row]


def child_read(count: int) -> None:
    import readers

    text = "".join(cards(count))
    result = {}
    for name in ("syncd", "vobject"):
        started = time.perf_counter()
        got = readers.READERS[name](text)
        result[name] = time.perf_counter() - started
        assert got == count, f"{name} read {got} of {count} cards"
    print(json.dumps(result))


@contextmanager
def radicale() -> Iterator[object]:
    from syncd.demo import RadicaleServer

    with tempfile.TemporaryDirectory() as folder, \
            RadicaleServer(Path(folder) / "radicale", password="bench") as server:
        yield server


def make_calendar(server: object, name: str) -> str:
    import requests

    url = f"{server.user_url}{name}/"  # type: ignore[attr-defined]
    answer = requests.request("MKCALENDAR", url, timeout=30,
                              auth=(server.username, server.password))  # type: ignore[attr-defined]
    if answer.status_code != 201:
        raise NotRun(f"MKCALENDAR {name}: HTTP {answer.status_code}")
    return url


def uploads(runs: int, objects: int, peers: dict[str, Path | NotRun]) -> list[Row]:
    first = Row(f"first upload of {objects:,} follow-ups to Radicale (wall)",
                peer_name="vdirsyncer")
    first_cpu = Row(f"first upload of {objects:,} follow-ups: client CPU", peer_name="vdirsyncer")
    steady = Row(f"sync with nothing changed, {objects:,} objects (wall)", peer_name="vdirsyncer")
    steady_cpu = Row(f"sync with nothing changed, {objects:,} objects: client CPU",
                     peer_name="vdirsyncer")
    rows = [first, first_cpu, steady, steady_cpu]
    with tempfile.TemporaryDirectory() as folder, radicale() as server:
        home = Path(folder)
        env = {**peer_env(home), "BENCH_PW": server.password or ""}
        (home / "contacts").mkdir()
        for n in range(objects):
            (home / "contacts" / f"c{n}.vcf").write_text(
                CARD.format(uid=f"c{n}", name=f"Person {n}", email=f"p{n}@example.org"))

        def config(name: str, calendar: str) -> Path:
            path = home / f"{name}.yaml"
            path.write_text(
                f"contacts: [{{type: vdir, path: {home / 'contacts'}}}]\n"
                f"calendar: {calendar}\n"
                f"rules: {{weekly_cap: {objects}}}\nstate: {home / name}.sqlite\n")
            return path

        # The same objects in a local folder, for vdirsyncer to upload.
        local = config("local", f"{{type: local, path: {home / 'objects'}}}")
        try:
            run_timed(syncd_command("sync", "--config", str(local)), env)
        except NotRun as reason:
            fail(rows, "syncd (writing the objects)", reason)
            return rows
        for n in range(runs):
            remote = config(f"syncd-{n}", f"{{type: caldav, url: '{server.url}', "
                                          f"calendar: syncd-{n}, username: {server.username}, "
                                          f"password_env: BENCH_PW}}")
            command = syncd_command("sync", "--config", str(remote))
            if not (sample(first, "syncd", command, env, first_cpu)
                    and sample(steady, "syncd", command, env, steady_cpu)):
                break
        vdirsyncer = peers["vdirsyncer"]
        for n in range(runs):
            if isinstance(vdirsyncer, NotRun):
                fail(rows, "vdirsyncer", vdirsyncer)
                break
            try:
                url = make_calendar(server, f"vdirsyncer-{n}")
            except NotRun as reason:
                fail(rows, "vdirsyncer", reason)
                break
            vd_config = home / f"vdirsyncer-{n}.conf"
            vd_config.write_text(
                f'[general]\nstatus_path = "{home}/vdirsyncer-status-{n}/"\n'
                '[pair bench]\na = "local"\nb = "remote"\ncollections = null\n'
                f'[storage local]\ntype = "filesystem"\npath = "{home / "objects"}/"\n'
                'fileext = ".ics"\n'
                f'[storage remote]\ntype = "caldav"\nurl = "{url}"\n'
                f'username = "{server.username}"\npassword = "{server.password}"\n')
            command = [str(vdirsyncer), "-c", str(vd_config)]
            try:
                run_timed([*command, "discover"], env)  # once per pair, as its docs say; untimed
            except NotRun as reason:
                fail(rows, "vdirsyncer", reason)
                break
            if not (sample(first, "peer", [*command, "sync"], env, first_cpu)
                    and sample(steady, "peer", [*command, "sync"], env, steady_cpu)):
                break
    return rows


def listing(runs: int, sizes: tuple[int, ...], peers: dict[str, Path | NotRun]) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder)
            env = peer_env(home)
            write_vdir(home / "contacts", cards(size))
            config = home / "config.yaml"
            config.write_text(
                "contacts: [{type: vdir, path: contacts}]\n"
                "calendar: {type: local, path: calendars/syncd}\n"
                "me: {interests: [sailing, photography, machine-learning]}\n"
                "rules: {weekly_cap: 100000}\nstate: state.sqlite\n")
            try:
                run_timed(syncd_command("sync", "--config", str(config)), env, home)
                objects = len(list((home / "calendars" / "syncd").glob("*.ics")))
            except NotRun as reason:
                rows.append(Row(f"list, {size:,} contacts", not_run=f"syncd sync: {reason}"))
                continue
            (home / "todoman.py").write_text(
                f'path = "{home}/calendars/*"\ndate_format = "%Y-%m-%d"\n'
                f'time_format = "%H:%M"\ncache_path = "{home}/todoman-cache.sqlite3"\n')
            (home / "khal.conf").write_text(
                f"[calendars]\n[[syncd]]\npath = {home}/calendars/syncd\n[locale]\n"
                "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
                "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
                "default_timezone = UTC\nlocal_timezone = UTC\n"
                f"[sqlite]\npath = {home}/khal.db\n")
            commands = {
                "plan": syncd_command("plan", "--config", str(config)),
                "status": syncd_command("status", "--config", str(config)),
                "todo": ["todo", "--config", str(home / "todoman.py"), "list"],
                "khal": ["khal", "-c", str(home / "khal.conf"), "list"],
            }
            failed: dict[str, str] = {}
            samples: dict[str, list[float]] = {name: [] for name in commands}
            for name, command in commands.items():
                tool = peers.get(name, Path(command[0]))
                if isinstance(tool, NotRun):
                    failed[name] = str(tool)
                    continue
                command = [str(tool), *command[1:]] if name in peers else command
                try:
                    run_timed(command, env, home)  # warm: caches built, files in memory
                    for _ in range(runs):  # interleaved would be fairer; caches stay per tool
                        samples[name].append(run_timed(command, env, home)[0])
                except NotRun as reason:
                    failed[name] = str(reason)
                    samples[name] = []
            label = f"{size:,} contacts, {objects:,} to-dos"
            for ours, theirs, peer_label in (("plan", "todo", "`todo list`"),
                                             ("status", "todo", "`todo list`"),
                                             ("plan", "khal", "`khal list`"),
                                             ("status", "khal", "`khal list`")):
                reasons = [f"{n}: {failed[n]}" for n in (ours, theirs) if n in failed]
                rows.append(Row(f"`syncd {ours}`, {label}", list(samples[ours]), peer_label,
                                list(samples[theirs]), not_run="; ".join(reasons)))
    return rows


def cold(runs: int, sizes: tuple[int, ...]) -> list[Row]:
    goals = {10_000: (1.5, 150.0), 100_000: (15.0, None)}
    rows: list[Row] = []
    for size in sizes:
        wall_goal, memory_goal = goals.get(size, (None, None))
        wall = Row(f"cold cycle, {size:,} contacts, 50,000-row ledger (wall)",
                   peer_name="goal", goal=wall_goal)
        memory = Row(f"cold cycle, {size:,} contacts: peak RSS", peer_name="goal",
                     goal=memory_goal, unit="MB")
        with tempfile.TemporaryDirectory() as folder:
            config = cold_cycle.prepare(Path(folder), size, 50_000)
            for _ in range(runs):
                done = subprocess.run(
                    [sys.executable, cold_cycle.__file__, "--child", str(config)],
                    capture_output=True, text=True, cwd=folder, env=peer_env(Path(folder)))
                if done.returncode != 0:
                    wall.not_run = memory.not_run = \
                        f"syncd: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
                    break
                result = json.loads(done.stdout.strip().splitlines()[-1])
                wall.syncd.append(result["cycle"])
                memory.syncd.append(result["peak_mb"])
        rows += [wall, memory] if memory_goal else [wall]
    return rows


def help_text(runs: int, peers: dict[str, Path | NotRun]) -> list[Row]:
    row = Row("`syncd --help` (wall)", peer_name="`todo --help`")
    with tempfile.TemporaryDirectory() as folder:
        env = peer_env(Path(folder))
        sample(row, "syncd", syncd_command("--help"), env, runs=runs)
        todo = peers["todo"]
        if isinstance(todo, NotRun):
            fail([row], "todo", todo)
        else:
            sample(row, "peer", [str(todo), "--help"], env, runs=runs)
    return [row]


# --- the table -------------------------------------------------------------------------------

def spread(values: list[float], unit: str) -> str:
    if not values:
        return "—"
    digits = 0 if unit == "MB" else 2
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / **{mid:.{digits}f}** / {high:.{digits}f} {unit}"


def ratio_text(row: Row) -> str:
    ratio = row.ratio()
    if ratio is None:
        return "—"
    if row.goal is not None:
        return f"{ratio:.2f}× the goal ({'met' if ratio <= 1 else '**missed**'})"
    if ratio <= 1:
        return f"{ratio:.2f}× ({1 / ratio:.1f}× faster)"
    return f"**{ratio:.2f}×** ({ratio:.1f}× slower)"


def table(rows: list[Row]) -> str:
    lines = ["| work | syncd min / median / max | peer min / median / max | ratio (syncd ÷ peer, "
             "medians) |", "|---|---:|---:|---|"]
    for row in rows:
        if row.peer_name == "goal":
            peer = f"goal {row.goal:g} {row.unit}" if row.goal is not None else "no goal"
        else:
            peer = f"{row.peer_name}: {spread(row.peer, row.unit)}"
        if row.not_run:
            peer += f" — not run: {row.not_run}"
        lines.append(f"| {row.work} | {spread(row.syncd, row.unit)} | {peer} "
                     f"| {ratio_text(row)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-read"]:
        child_read(int(sys.argv[2]))
