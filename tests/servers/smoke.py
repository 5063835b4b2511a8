"""By hand, not collected by pytest: checks one server module against the caldav library.

    .venv/bin/python tests/servers/smoke.py cyrus|sabre|sabre-digest|...

A module NAME (or NAME-AUTH, e.g. sabre-digest, which passes auth="digest") is started in a
temporary folder; for two fresh accounts: principal discovery from caldav_url, MKCALENDAR, a
VTODO PUT with If-None-Match: * (201, then 412), GET, PROPFIND of the address book, a vCard 3.0
PUT, and that the second account cannot read the first one's object. Prints the timings and
what the server offers an unauthenticated client.
"""

from __future__ import annotations

import http.client
import importlib
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import caldav  # noqa: E402
from caldav.lib.error import DAVError  # noqa: E402

PROPFIND = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>'


def status(client: caldav.DAVClient, url: str, method: str, body: str = "", **headers: str):
    try:
        return client.request(url, method, body, headers).status
    except DAVError as error:  # the caldav library raises on 403 and others
        return type(error).__name__


def check(server, account) -> tuple[caldav.DAVClient, str]:
    basic = {"auth_type": "basic"} if server.auth == "basic" else {}
    client = caldav.DAVClient(account.caldav_url, username=account.username,
                              password=account.password, enable_rfc6764=False, **basic)
    calendar = client.get_principal().make_calendar(
        name="x", cal_id="x", supported_calendar_component_set=["VTODO", "VEVENT"])
    uid = uuid.uuid4().hex
    url = f"{str(calendar.url).rstrip('/')}/{uid}.ics"
    todo = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//smoke//EN\r\nBEGIN:VTODO\r\n"
            f"UID:{uid}\r\nDTSTAMP:20240101T000000Z\r\nSUMMARY:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    put = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    got = (status(client, url, "PUT", todo, **put), status(client, url, "PUT", todo, **put))
    assert got == (201, 412), got
    assert uid in client.request(url).raw
    book = account.addressbook_url
    assert status(client, book, "PROPFIND", PROPFIND, Depth="1",
                  **{"Content-Type": "application/xml"}) == 207
    card = (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\n"
            "END:VCARD\r\n")
    assert status(client, f"{book}{uid}.vcf", "PUT", card, **{
        "Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"}) == 201
    sync = ('<?xml version="1.0"?><sync-collection xmlns="DAV:"><sync-token/>'
            "<sync-level>1</sync-level><prop><getetag/></prop></sync-collection>")
    print("  sync-collection:", status(client, str(calendar.url), "REPORT", sync, Depth="0",
                                       **{"Content-Type": "application/xml"}))
    return client, url


def main(which: str) -> None:
    name, _, auth = which.partition("-")
    module = importlib.import_module(f"servers.{name}")
    workdir = Path(tempfile.mkdtemp(prefix=f"smoke-{which}-"))
    began = time.monotonic()
    server = module.start(workdir, **({"auth": auth} if auth else {}))
    print(f"{server.name} {server.version} ({server.auth}): start {time.monotonic() - began:.2f} s")
    try:
        results = []
        for _ in range(2):
            began = time.monotonic()
            account = server.new_account()
            print(f"new_account {time.monotonic() - began:.2f} s: {account}")
            results.append(check(server, account))
        (_, first_url), (second, _) = results
        assert status(second, first_url, "GET") not in (200, 204), "accounts are not independent"
        parts = urllib.parse.urlsplit(account.calendar_home)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("PROPFIND", parts.path, headers={"Depth": "0"})
        response = connection.getresponse()
        response.read()
        print("unauthenticated:", response.status, response.msg.get_all("WWW-Authenticate"))
    finally:
        began = time.monotonic()
        server.stop()
        print(f"stop {time.monotonic() - began:.2f} s")
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
