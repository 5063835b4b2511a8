"""Cyrus IMAP (the server Fastmail runs) with its CalDAV/CardDAV httpd, on 127.0.0.1.

Everything lives in `workdir`: imapd.conf, cyrus.conf, the configuration directory (mailbox
list, DAV databases, sockets, locks), the spool and the sasldb with the passwords. `master` runs
in the foreground, started as root; it drops to the user `cyrus` itself, so `workdir` is handed
to that user. It serves IMAP and HTTP (Basic auth only) on two free loopback ports.

Unusual steps:
- `master` does not pass its `-C imapd.conf` on to the services, so every command in
  cyrus.conf names it (else they use /etc/imapd.conf and /var/lib/cyrus).
- The folders above `workdir` get search permission for others where they would stop `cyrus`
  (pytest's /tmp/pytest-of-root is mode 700).
- Cyrus serves DAV only to users whose mailbox exists: `new_account()` creates `user/NAME` over
  IMAP as the admin `cyrusadmin`; its first authenticated PROPFINDs then make the `Default`
  calendar (and Inbox/Outbox) and the `Default` address book.
- Cyrus logs to syslog, which a test machine may not have: a start error shows what `master`
  wrote itself (`-L`), which holds its fatal errors but not, say, a port it could not bind.
"""

from __future__ import annotations

import base64
import imaplib
import pwd
import secrets
import shutil
import stat
import subprocess
import time
from pathlib import Path

from .postgres import package_version
from .base import Account, free_port, http_status, stop_group

HOST = "127.0.0.1"
BIN = Path("/usr/lib/cyrus/bin")
ADMIN = "cyrusadmin"
REALM = "localhost"  # the servername, which is also the SASL realm of the sasldb entries

IMAPD_CONF = """\
configdirectory: {w}/conf
partition-default: {w}/spool
defaultpartition: default
proc_path: {w}/conf/proc
mboxname_lockpath: {w}/conf/lock
lmtpsocket: {w}/conf/socket/lmtp
idlesocket: {w}/conf/socket/idle
notifysocket: {w}/conf/socket/notify
sievedir: {w}/sieve
servername: {realm}
admins: {admin}
unixhierarchysep: yes
altnamespace: no
httpmodules: caldav carddav
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {w}/sasldb2
# without this the 401 offers SCRAM, Digest and NTLM too; Basic alone, as at Fastmail
sasl_mech_list: PLAIN LOGIN
# invitations would be mailed (iMIP) through sendmail: none leave this machine
sendmail: /bin/true
"""

CYRUS_CONF = """\
START {{
  recover cmd="ctl_cyrusdb -C {conf} -r"
}}
SERVICES {{
  imap cmd="imapd -C {conf}" listen="{host}:{imap}" prefork=0 maxchild=20
  http cmd="httpd -C {conf}" listen="{host}:{http}" prefork=1 maxchild=50
}}
EVENTS {{
}}
"""



class CyrusServer:
    name = "cyrus"
    auth = "basic"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.version = package_version("cyrus-imapd")
        self.imap_port = free_port()
        self.http_port = free_port()
        self.url = f"http://{HOST}:{self.http_port}"
        self._admin_password = secrets.token_hex(12)
        self._log = workdir / "master.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> None:
        w = self.workdir
        for folder in ("conf/proc", "conf/lock", "conf/socket", "spool", "sieve"):
            (w / folder).mkdir(parents=True, exist_ok=True)
        (w / "imapd.conf").write_text(IMAPD_CONF.format(w=w, realm=REALM, admin=ADMIN))
        (w / "cyrus.conf").write_text(CYRUS_CONF.format(
            conf=w / "imapd.conf", host=HOST, imap=self.imap_port, http=self.http_port
        ))
        self._set_password(ADMIN, self._admin_password)
        for path in [w, *w.rglob("*")]:
            shutil.chown(path, "cyrus", "mail")
        _let_cyrus_through(w.parent)

    def _set_password(self, user: str, password: str) -> None:
        sasldb = self.workdir / "sasldb2"
        subprocess.run(
            ["saslpasswd2", "-p", "-c", "-f", str(sasldb), "-u", REALM, user],
            input=password.encode(), check=True, capture_output=True,
        )
        shutil.chown(sasldb, "cyrus", "mail")

    def start(self) -> CyrusServer:
        self._write_config()
        w = self.workdir
        self._process = subprocess.Popen(
            [str(BIN / "master"), "-C", str(w / "imapd.conf"), "-M", str(w / "cyrus.conf"),
             "-p", str(w / "master.pid"), "-L", str(self._log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends the children too
        )
        deadline = time.monotonic() + 30
        while True:
            if self._process.poll() is not None or "fatal" in self._log_tail():
                code = self._process.returncode
                self.stop()
                self._fail("master failed" if code is None else f"master exited with {code}")
            try:
                self._request("OPTIONS", "/dav/", None, timeout=2)
                with imaplib.IMAP4(HOST, self.imap_port, timeout=2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    self._fail("HTTP and IMAP ports did not answer within 30 s")
                time.sleep(0.05)

    def _fail(self, reason: str) -> None:
        raise RuntimeError(f"Cyrus on {self.url}: {reason}\n--- master log ---\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:] if self._log.exists() else ""

    def _request(self, method: str, path: str, user: tuple[str, str] | None,
                 timeout: float = 10) -> int:
        headers = {"Depth": "0"}
        if user:
            token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return http_status(self.http_port, method, path, headers, timeout)

    def new_account(self) -> Account:
        name, password = f"u{secrets.token_hex(6)}", secrets.token_hex(12)
        self._set_password(name, password)
        with imaplib.IMAP4(HOST, self.imap_port, timeout=10) as imap:
            imap.login(ADMIN, self._admin_password)
            status, detail = imap.create(f"user/{name}")
            if status != "OK":
                raise RuntimeError(f"Cyrus: cannot create the mailbox of {name}: {detail}")
        home = f"/dav/calendars/user/{name}/"
        book = f"/dav/addressbooks/user/{name}/Default/"
        for path in (home, book):
            status = self._request("PROPFIND", path, (name, password))
            if status != 207:
                raise RuntimeError(f"Cyrus: PROPFIND {path} as {name} answered {status}")
        return Account(
            username=name, password=password, caldav_url=self.url + home,
            calendar_home=self.url + home, addressbook_url=self.url + book,
        )

    def stop(self) -> None:
        """Ends master and every service it forked (they share its process group)."""
        process, self._process = self._process, None
        stop_group(process)


def _let_cyrus_through(folder: Path) -> None:
    """Adds search (x, not read) permission for others to the folders above `workdir` that
    would stop the user `cyrus`, such as pytest's /tmp/pytest-of-root (mode 700)."""
    cyrus = pwd.getpwnam("cyrus")
    for path in [folder, *folder.parents]:
        mode = path.stat()
        if mode.st_uid == cyrus.pw_uid or mode.st_mode & stat.S_IXOTH or (
            mode.st_gid == cyrus.pw_gid and mode.st_mode & stat.S_IXGRP
        ):
            continue
        path.chmod(stat.S_IMODE(mode.st_mode) | stat.S_IXOTH)



def start(workdir: Path) -> CyrusServer:
    return CyrusServer(Path(workdir)).start()
