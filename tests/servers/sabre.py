"""sabre/dav 1.8 (Debian's php-sabre-dav) as a CalDAV + CardDAV server on 127.0.0.1.

`sabre_server.php`, next to this file, is the router script of PHP's built-in web server
(`php -S`): the standard sabre/dav tree (principals, calendars, address books) on PDO SQLite
backends. The database is made here in `workdir` with the SQLite schema of sabre/dav 1.8's
examples, copied below because Debian images may leave out /usr/share/doc; WAL mode so that
readers do not wait for a writer, since the PHP server runs several workers.

auth="basic" accepts Basic only (sabre/dav 1.8 has no PDO Basic backend: the script has a small
one); auth="digest" accepts Digest only, as Baikal does by default. Users are rows of `users`
(digesta1 = md5("NAME:SabreDAV:PASSWORD")) and `principals`; `new_account()` also inserts an
address book `default`. The calendar home starts empty: sabre/dav makes no default calendar.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import subprocess
import time
from pathlib import Path

from .postgres import package_version
from .base import Account, free_port, http_status, stop_group

HOST = "127.0.0.1"
REALM = "SabreDAV"
SCRIPT = Path(__file__).with_name("sabre_server.php")

SCHEMA = """
CREATE TABLE addressbooks (id integer primary key asc, principaluri text, displayname text,
    uri text, description text, ctag integer);
CREATE TABLE cards (id integer primary key asc, addressbookid integer, carddata blob, uri text,
    lastmodified integer);
CREATE TABLE calendarobjects (id integer primary key asc, calendardata blob, uri text,
    calendarid integer, lastmodified integer, etag text, size integer, componenttype text,
    firstoccurence integer, lastoccurence integer);
CREATE TABLE calendars (id integer primary key asc, principaluri text, displayname text,
    uri text, ctag integer, description text, calendarorder integer, calendarcolor text,
    timezone text, components text, transparent bool);
CREATE TABLE locks (id integer primary key asc, owner text, timeout integer, created integer,
    token text, scope integer, depth integer, uri text);
CREATE TABLE principals (id INTEGER PRIMARY KEY ASC, uri TEXT, email TEXT, displayname TEXT,
    vcardurl TEXT, UNIQUE(uri));
CREATE TABLE groupmembers (id INTEGER PRIMARY KEY ASC, principal_id INTEGER,
    member_id INTEGER, UNIQUE(principal_id, member_id));
CREATE TABLE users (id integer primary key asc, username TEXT, digesta1 TEXT, UNIQUE(username));
"""



class SabreServer:
    def __init__(self, workdir: Path, auth: str) -> None:
        if auth not in ("basic", "digest"):
            raise ValueError(f"auth must be 'basic' or 'digest', not {auth!r}")
        self.workdir = workdir
        self.auth = auth
        self.name = "sabre" if auth == "basic" else "sabre-digest"
        self.version = package_version("php-sabre-dav")
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.database = workdir / "sabre.sqlite"
        self._log = workdir / "php.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _write(self, *statements: tuple[str, tuple[str | None, ...]]) -> None:
        """Runs the statements in one transaction (the PHP workers may be writing too)."""
        db = sqlite3.connect(self.database, timeout=30)
        try:
            with db:
                for sql, parameters in statements:
                    db.execute(sql, parameters)
        finally:
            db.close()

    def start(self) -> SabreServer:
        db = sqlite3.connect(self.database)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        db.close()
        env = dict(
            os.environ, SABRE_DB=str(self.database), SABRE_AUTH=self.auth,
            PHP_CLI_SERVER_WORKERS="4",  # serve concurrent requests, not one at a time
        )
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                ["php", "-d", "display_errors=stderr", "-S", f"{HOST}:{self.port}", str(SCRIPT)],
                cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,  # the workers: one group
            )
        deadline = time.monotonic() + 30
        while True:
            if self._process.poll() is not None:
                code = self._process.returncode
                self.stop()
                self._fail(f"php exited with {code}")
            try:
                if self._request("OPTIONS", "/") == 401:  # the PHP script runs and asks
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                self._fail("the port did not answer 401 within 30 s")
            time.sleep(0.05)

    def _fail(self, reason: str) -> None:
        tail = self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""
        raise RuntimeError(f"sabre/dav on {self.url}: {reason}\n--- php log ---\n{tail}")

    def _request(self, method: str, path: str) -> int:
        return http_status(self.port, method, path, timeout=2)

    def new_account(self) -> Account:
        name, password = f"u{secrets.token_hex(6)}", secrets.token_hex(12)
        principal = f"principals/{name}"
        digest = hashlib.md5(f"{name}:{REALM}:{password}".encode()).hexdigest()
        insert_principal = "INSERT INTO principals (uri, email, displayname) VALUES (?, ?, ?)"
        self._write(
            ("INSERT INTO users (username, digesta1) VALUES (?, ?)", (name, digest)),
            (insert_principal, (principal, f"{name}@example.org", name)),
            (insert_principal, (f"{principal}/calendar-proxy-read", None, None)),
            (insert_principal, (f"{principal}/calendar-proxy-write", None, None)),
            ("INSERT INTO addressbooks (principaluri, displayname, uri, description, ctag)"
             " VALUES (?, 'Contacts', 'default', '', 1)", (principal,)),
        )
        return Account(
            username=name, password=password, caldav_url=self.url,
            calendar_home=f"{self.url}calendars/{name}/",
            addressbook_url=f"{self.url}addressbooks/{name}/default/",
        )

    def stop(self) -> None:
        """Ends the PHP server and its workers (its process group) and waits for them."""
        process, self._process = self._process, None
        stop_group(process)


def start(workdir: Path, auth: str = "basic") -> SabreServer:
    return SabreServer(Path(workdir), auth).start()
