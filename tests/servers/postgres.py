"""A private PostgreSQL 15 cluster for a server of the matrix (SOGo and DAViCal keep their data in
PostgreSQL): `initdb` into the workdir, `postgres` run as the system user `postgres` (it refuses to
run as root), listening on a Unix socket in the workdir and on 127.0.0.1 at a free port, `trust`
authentication for both (loopback only, throw-away data). fsync is off: nothing here must survive
a crash, and it keeps creating a database fast.

Daemons that are not root (postgres, sogo, www-data) must be able to reach files in the workdir,
and pytest's temporary folders are 0700: `reachable()` adds search permission (x, not r) to the
workdir and to those of its ancestors that lack it. Also here, for the modules that use a
cluster: running a child as a system user, a package's version, a log's tail, stopping a child."""

from __future__ import annotations

import os
import pathlib
import shutil
import signal
import stat
import subprocess
import time
from typing import Any

from .base import free_port

BIN = pathlib.Path("/usr/lib/postgresql/15/bin")


def reachable(path: pathlib.Path) -> None:
    """Let every user traverse `path` and its ancestors (search permission only)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def as_user(name: str) -> dict[str, Any]:
    """subprocess arguments that run a child as system user `name` with only its own group."""
    return {"user": name, "group": name, "extra_groups": []}


def package_version(package: str) -> str:
    """The upstream part of a package's version: "5.8.0" for "5.8.0-2+deb12u4"."""
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                          check=True, capture_output=True, text=True)
    version = done.stdout.strip().split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


def tail(path: pathlib.Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not written)"


def stop_process(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM,
                 timeout: float = 15) -> None:
    """Signal a process started with start_new_session=True and its whole group, then wait;
    SIGKILL if it is not gone after `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    except ProcessLookupError:
        proc.wait(timeout)


class Cluster:
    """A running cluster; `psql()` runs SQL as the superuser `postgres`."""

    def __init__(self, workdir: pathlib.Path) -> None:
        self.data = workdir / "pgdata"
        self.socket_dir = workdir / "pgsock"
        self.log = workdir / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        if len(str(self.socket_dir / ".s.PGSQL.65535")) > 107:
            raise RuntimeError(f"workdir path too long for a Unix socket: {workdir}")
        reachable(workdir)
        for folder in (self.data, self.socket_dir):
            folder.mkdir()
            shutil.chown(folder, "postgres", "postgres")
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")
        done = subprocess.run(
            [BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--locale=C.UTF-8", "-N"],
            **as_user("postgres"), check=False, capture_output=True, text=True, cwd=self.data,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        options = (f"listen_addresses='127.0.0.1'\nport={self.port}\n"
                   f"unix_socket_directories='{self.socket_dir}'\nfsync=off\n"
                   "synchronous_commit=off\nfull_page_writes=off\nmax_connections=50\n")
        (self.data / "postgresql.auto.conf").write_text(options)
        self.proc = subprocess.Popen(
            [BIN / "postgres", "-D", self.data], **as_user("postgres"), cwd=self.data,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        ready = [BIN / "pg_isready", "-q", "-h", self.socket_dir, "-p", str(self.port)]
        while subprocess.run(ready, check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"PostgreSQL did not start; {self.log}:\n{tail(self.log)}")
            time.sleep(0.1)

    def env(self) -> dict[str, str]:
        """Environment variables that point libpq clients (psql, PHP, perl) at this cluster."""
        return {"PGHOST": str(self.socket_dir), "PGPORT": str(self.port)}

    def psql(self, sql: str, db: str = "postgres", user: str = "postgres") -> str:
        done = subprocess.run(
            [BIN / "psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-c", sql],
            env={**os.environ, **self.env()}, check=False, capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {sql[:200]}\n{done.stderr}")
        return done.stdout

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGINT)  # fast shutdown: ends open sessions
