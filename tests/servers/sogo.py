"""SOGo 5.8 (Debian package `sogo`) on 127.0.0.1, for the server matrix.

What runs, all in the workdir: a private PostgreSQL (tests/servers/postgres.py) holding SOGo's
tables and a `sogo_users` table that is SOGo's only SOGoUserSources (plain-text passwords, so a
new account is one INSERT); memcached on a free loopback port (SOGo will not work without one);
`sogod` itself as the system user `sogo`, in the foreground (`-WONoDetach YES`), listening on
127.0.0.1 at a free port, three workers; and in front of it a private Apache reverse proxy
(tests/servers/apache.py), as in Debian's /usr/share/doc/sogo/apache.conf. Clients talk to Apache.

Why the proxy: sogod closes the connection after answering a PUT without saying
`Connection: close`, so a client that reuses the connection at once (niquests, which the caldav
library uses, does) gets "Remote end closed connection without response" on its next request.
Every real deployment has a proxy in front (Debian's sets `proxy-nokeepalive` towards sogod).
`Proxy100Continue Off`: sogod never answers `Expect: 100-continue` (curl sends it), which Apache
would otherwise pass on and wait 60 s for.

Every setting is passed on sogod's command line, which GNUstep ranks above /etc/sogo/sogo.conf.
sogod aborts if it cannot read that file (the package's, root:sogo 0640), but nothing in it
matters here: its IMAP/SMTP servers are never contacted (e-mail notifications are off, nothing
opens Mail/). WOLogFile must be given or sogod logs to /var/log/sogo; HOME points into the
workdir so GNUstep writes no defaults elsewhere.

SOGo creates its own tables on first start; its workers race to do so, and the loser logs
"creation failed ... already exists" and carries on. Every user has a calendar `personal` under
Calendar/ that SOGo makes on first access and will not delete, so a calendar home is never
empty: it holds exactly that one calendar before a test makes its own.
URLs: /SOGo/dav/NAME/ (principal), /SOGo/dav/NAME/Calendar/, /SOGo/dav/NAME/Contacts/personal/.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import time

from .apache import Apache, http_status
from .base import Account, free_port
from .postgres import Cluster, as_user, package_version, stop_process, tail

PROXY = """\
ProxyRequests Off
ProxyPreserveHost On
SetEnv proxy-nokeepalive 1
Proxy100Continue Off
Redirect 301 /.well-known/caldav /SOGo/dav
Redirect 301 /.well-known/carddav /SOGo/dav
ProxyPass /SOGo http://127.0.0.1:{sogod}/SOGo retry=0 nocanon
<Proxy http://127.0.0.1:{sogod}/SOGo>
  RequestHeader set x-webobjects-server-port "{port}"
  RequestHeader set x-webobjects-server-name "127.0.0.1"
  RequestHeader set x-webobjects-server-url "http://127.0.0.1:{port}"
  RequestHeader set x-webobjects-server-protocol "HTTP/1.0"
  RequestHeader unset x-webobjects-remote-user
  Require all granted
</Proxy>
"""

USERS_TABLE = ("CREATE TABLE sogo_users (c_uid varchar(64) PRIMARY KEY, c_name varchar(64),"
               " c_password varchar(128), c_cn varchar(128), mail varchar(128))")


class Sogo:
    name = "sogo"
    auth = "basic"

    def __init__(self, workdir: pathlib.Path) -> None:
        self.version = package_version("sogo")
        self.workdir = workdir
        self.log = workdir / "sogo.log"
        self.memcached: subprocess.Popen[bytes] | None = None
        self.sogod: subprocess.Popen[bytes] | None = None
        self.proxy: Apache | None = None
        self.db = Cluster(workdir)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.db.psql("CREATE DATABASE sogo")
        self.db.psql(USERS_TABLE, db="sogo")
        memcached_port, sogod_port = free_port(), free_port()
        self.memcached = subprocess.Popen(
            ["memcached", "-l", "127.0.0.1", "-p", str(memcached_port), "-U", "0", "-m", "32",
             "-u", "memcache"],
            stdout=(self.workdir / "memcached.log").open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        home = self.workdir / "sogo-home"
        home.mkdir()
        self.log.touch()
        for path in (home, self.log):
            shutil.chown(path, "sogo", "sogo")
        url = f"postgresql://postgres@127.0.0.1:{self.db.port}/sogo"
        settings = {
            "WONoDetach": "YES",
            "WOPort": f"127.0.0.1:{sogod_port}",
            "WOLogFile": str(self.log),  # the default is /var/log/sogo/sogo.log
            "WOPidFile": str(home / "sogod.pid"),
            "WOWorkersCount": "3",
            "SOGoProfileURL": f"{url}/sogo_user_profile",
            "OCSFolderInfoURL": f"{url}/sogo_folder_info",
            "OCSSessionsFolderURL": f"{url}/sogo_sessions_folder",
            "OCSEMailAlarmsFolderURL": f"{url}/sogo_alarms_folder",
            "SOGoMemcachedHost": f"127.0.0.1:{memcached_port}",
            "SOGoTimeZone": "UTC",
            "SOGoAppointmentSendEMailNotifications": "NO",
            "SOGoUserSources": "({type = sql; id = users; canAuthenticate = YES;"
            f' isAddressBook = NO; userPasswordAlgorithm = plain; viewURL = "{url}/sogo_users";}})',
        }
        argv = ["/usr/sbin/sogod"]
        for key, value in settings.items():
            argv += [f"-{key}", value]
        self.sogod = subprocess.Popen(
            argv, **as_user("sogo"), cwd=home, start_new_session=True,
            env={"HOME": str(home), "PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdout=(self.workdir / "sogod.out").open("ab"), stderr=subprocess.STDOUT,
        )
        self.proxy = Apache(self.workdir, PROXY.replace("{sogod}", str(sogod_port)),
                            ["alias", "proxy", "proxy_http", "headers", "env"])
        self.root = f"http://127.0.0.1:{self.proxy.port}/SOGo/dav/"
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{sogod_port}/SOGo/dav/") != 401:
            if self.sogod.poll() is not None or time.monotonic() > deadline:
                out = self.workdir / "sogod.out"
                raise RuntimeError(f"sogod did not start on port {sogod_port}; {self.log}:\n"
                                   f"{tail(self.log)}\n{out}:\n{tail(out)}")
            time.sleep(0.1)
        self.proxy.wait(self.root, {401})  # a worker answers: it asks for credentials

    def new_account(self) -> Account:
        username, password = f"u{secrets.token_hex(6)}", secrets.token_hex(12)
        self.db.psql(f"INSERT INTO sogo_users VALUES ('{username}', '{username}', '{password}',"
                     f" 'User {username}', '{username}@example.invalid')", db="sogo")
        principal = f"{self.root}{username}/"
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        # SOGo makes a user's folders (Calendar/personal, Contacts/personal) on first access.
        for folder in ("Calendar/", "Contacts/"):
            status = http_status(principal + folder, "PROPFIND",
                                 {"Depth": "1", "Authorization": f"Basic {token}"})
            if status != 207:
                raise RuntimeError(f"SOGo answered {status} to PROPFIND {principal}{folder}")
        return Account(username, password, caldav_url=principal,
                       calendar_home=f"{principal}Calendar/",
                       addressbook_url=f"{principal}Contacts/personal/")

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        if self.sogod is not None and self.sogod.poll() is None:
            # Its watchdog takes 5-15 s to stop its workers (which run in sessions of their own)
            # after a SIGTERM: kill them once it has stopped spawning new ones; it then exits.
            os.kill(self.sogod.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while self.sogod.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                for pid in children(self.sogod.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            stop_process(self.sogod, signal.SIGKILL)
        stop_process(self.memcached)
        self.db.stop()


def children(pid: int) -> list[int]:
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def start(workdir: pathlib.Path) -> Sogo:
    return Sogo(workdir)
