"""DAViCal 1.1.12 (Debian package `davical`) on 127.0.0.1, for the server matrix.

What runs, all in the workdir: a private PostgreSQL (tests/servers/postgres.py) with the `davical`
database made by DAViCal's own /usr/share/davical/dba/create-database.sh, and a private Apache
with mod_php (tests/servers/apache.py) serving /usr/share/davical/htdocs as its document root.
URLs: /caldav.php/NAME/ (principal and calendar home), /caldav.php/NAME/addresses/.

Configuration: DAViCal reads /etc/davical/HOST-conf.php (HOST being the Host header's name), else
/etc/davical/config.php. Nothing is written there: the package's stock config.php says
`dbname=davical user=davical_app` and no host, so libpq in the PHP workers takes PGHOST/PGPORT from
Apache's environment, which points at this cluster's socket. A module that needed other settings
would have to write /etc/davical/<name>-conf.php and make that name the Host.

A user is a row in `usr` (password "**" + plain text, which DAViCal accepts as such) and one in
`principal`. DAViCal makes home collections only for users created by its web UI or an external
authenticator, so the calendar home starts empty, and the address book `addresses/` is made here
with an extended MKCOL, as a client would.
"""

from __future__ import annotations

import base64
import os
import pathlib
import secrets
import subprocess

from .apache import Apache, http_status
from .base import Account
from .postgres import Cluster, package_version

HTDOCS = pathlib.Path("/usr/share/davical/htdocs")

SITE = f"""\
DocumentRoot {HTDOCS}
DirectoryIndex index.php
<Directory {HTDOCS}>
  Require all granted
</Directory>
<FilesMatch "\\.php$">
  SetHandler application/x-httpd-php
</FilesMatch>
RewriteEngine On
RewriteRule ^/\\.well-known/(.*)$ /caldav.php/.well-known/$1 [NC,PT]
"""

MKCOL_ADDRESSBOOK = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>
<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype>
<D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>"""


class Davical:
    name = "davical"
    auth = "basic"

    def __init__(self, workdir: pathlib.Path) -> None:
        self.version = package_version("davical")
        self.web: Apache | None = None
        self.db = Cluster(workdir)
        try:
            done = subprocess.run(
                ["/usr/share/davical/dba/create-database.sh", "davical", secrets.token_hex(12)],
                env={**os.environ, **self.db.env(), "PGUSER": "postgres"},
                capture_output=True, text=True, check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"create-database.sh failed:\n{done.stdout}{done.stderr}")
            self.web = Apache(workdir, SITE, ["php", "dir", "rewrite"], env=self.db.env())
            self.root = f"http://127.0.0.1:{self.web.port}/caldav.php/"
            self.web.wait(self.root, {401})  # PHP runs and asks for credentials
        except BaseException:
            self.stop()
            raise

    def new_account(self) -> Account:
        username, password = f"u{secrets.token_hex(6)}", secrets.token_hex(12)
        self.db.psql(
            "WITH u AS (INSERT INTO usr (username, password, fullname, email) VALUES"
            f" ('{username}', '**{password}', 'User {username}', '{username}@example.invalid')"
            " RETURNING user_no) INSERT INTO principal (type_id, user_no, displayname,"
            f" default_privileges) SELECT 1, user_no, 'User {username}',"
            " '000000000000000000000000' FROM u", db="davical")
        home = f"{self.root}{username}/"
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        status = http_status(f"{home}addresses/", "MKCOL", {
            "Authorization": f"Basic {token}", "Content-Type": "application/xml; charset=utf-8",
        }, MKCOL_ADDRESSBOOK.encode())
        if status != 201:
            raise RuntimeError(f"DAViCal answered {status} to MKCOL {home}addresses/")
        return Account(username, password, caldav_url=home, calendar_home=home,
                       addressbook_url=f"{home}addresses/")

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop()
        self.db.stop()


def start(workdir: pathlib.Path) -> Davical:
    return Davical(workdir)
