"""The two servers of the matrix that come from PyPI: Radicale (the project's test server) and
Xandikos. Radicale takes new users from its htpasswd file, which it reads on every request;
Xandikos serves one user without authentication, so each account is a server of its own."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from importlib.metadata import version
from pathlib import Path

from syncd.demo import RadicaleServer

from .base import Account, free_port

MKCOL_BOOK = (
    '<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" '
    'xmlns:C="urn:ietf:params:xml:ns:carddav"><d:set><d:prop><d:resourcetype><d:collection/>'
    "<C:addressbook/></d:resourcetype></d:prop></d:set></d:mkcol>")


def make_book(url: str, username: str | None, password: str | None) -> None:
    import caldav

    client = caldav.DAVClient(url=url, username=username, password=password,
                              auth_type="basic" if username else None)
    response = client.request(url, "MKCOL", MKCOL_BOOK, {"Content-Type": "application/xml"})
    if response.status != 201:
        raise RuntimeError(f"{url}: MKCOL of an address book answered {response.status}")


class Radicale:
    name = "radicale"
    auth = "basic"

    def __init__(self, workdir: Path) -> None:
        self.version = version("radicale")
        self.server = RadicaleServer(workdir, auth=True, fsync=False).__enter__()
        self.users = workdir / "htpasswd"

    def new_account(self) -> Account:
        user, password = f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        with self.users.open("a", encoding="utf-8") as users:
            users.write(f"{user}:{password}\n")
        home = f"{self.server.url}{user}/"
        book = f"{home}contacts/"
        make_book(book, user, password)
        return Account(user, password, self.server.url, home, book)

    def stop(self) -> None:
        self.server.__exit__(None, None, None)


class Xandikos:
    name = "xandikos"
    auth = "basic"  # none at all: it refuses Basic over plain HTTP, so accounts have no password

    def __init__(self, workdir: Path) -> None:
        self.version = version("xandikos")
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def new_account(self) -> Account:
        port, folder = free_port(), self.workdir / uuid.uuid4().hex[:10]
        command = [str(Path(sys.executable).parent / "xandikos"), "serve", "-d", str(folder),
                   "--defaults", "-l", "127.0.0.1", "-p", str(port)]
        log = (self.workdir / f"{folder.name}.log").open("wb")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        root = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(root + "user/calendars/", timeout=2)
                break
            except OSError as error:
                if getattr(error, "code", None):  # any HTTP answer: it is up
                    break
                if time.monotonic() > deadline or self.processes[-1].poll() is not None:
                    raise RuntimeError(f"xandikos did not start on {root}") from error
                time.sleep(0.1)
        return Account("", "", root, f"{root}user/calendars/", f"{root}user/contacts/addressbook/")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
