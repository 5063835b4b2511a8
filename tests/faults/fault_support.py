"""What the fault tests share: cards as real files, the real CLI as a subprocess, and the
calendar as the server holds it, read with one raw REPORT straight from Radicale (not through
syncd, not through the fault proxy) and parsed down to UIDs and syncd's marks."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import icalendar
from lxml import etree

from syncd.demo import RadicaleServer
from syncd.model import followup_of

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_QUERY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
    '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
)
_DISPLAYNAMES = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>'
)


def card(uid: str, name: str, interests: str = "sailing") -> str:
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\n"
            f"NOTE:#{interests}\r\nEND:VCARD\r\n")


def write_card(folder: Path, uid: str, name: str) -> None:
    """Atomically, as an editor or vdirsyncer does."""
    temp = folder / f".{uid}.vcf.tmp"
    temp.write_text(card(uid, name), encoding="utf-8")
    os.replace(temp, folder / f"{uid}.vcf")


def loopback_env(**more: str) -> dict[str, str]:
    """The environment for syncd subprocesses: no proxy from the environment, ever."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(more)
    return env


def syncd_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "syncd", *args, "--config", str(config)]


def run_syncd(config: Path, *args: str, env: dict[str, str],
              timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(syncd_command(config, *args), capture_output=True, text=True,
                          env=env, timeout=timeout)


def planned(config: Path, env: dict[str, str], *today: str) -> dict[str, dict]:
    """`syncd plan --json`: uid → follow-up, as the CLI plans it now."""
    args = ("plan", "--json", *(("--today", today[0]) if today else ()))
    done = run_syncd(config, *args, env=env)
    assert done.returncode == 0, done.stderr
    return {f["uid"]: f for f in json.loads(done.stdout)}


def status(config: Path, env: dict[str, str]) -> tuple[dict, str]:
    """`syncd status --json` and `syncd status`, both."""
    as_json = run_syncd(config, "status", "--json", env=env, timeout=60)
    as_text = run_syncd(config, "status", env=env, timeout=60)
    assert as_json.returncode == 0 and as_text.returncode == 0, as_json.stderr + as_text.stderr
    return json.loads(as_json.stdout), as_text.stdout


@dataclass(frozen=True)
class ServerObject:
    href: str
    etag: str
    text: str
    uid: str
    completed: bool
    contact: str | None  # X-SYNCD-CONTACT; None: not syncd's
    reason: str | None


class ServerCalendar:
    """One calendar of a Radicale, read and written as another client would, without syncd."""

    def __init__(self, server: RadicaleServer, name: str) -> None:
        self.server = server
        self.name = name
        self._path: str | None = None

    def _request(self, method: str, path: str, body: str = "",
                 headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        token = base64.b64encode(f"{self.server.username}:{self.server.password}".encode())
        try:
            connection.request(method, path, body=body.encode("utf-8"), headers={
                "Authorization": f"Basic {token.decode()}", **(headers or {})})
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            connection.close()

    def path(self) -> str | None:
        """The collection's path, found by its display name; None while it does not exist."""
        if self._path is None:
            user = urlsplit(self.server.user_url).path
            code, _, body = self._request("PROPFIND", user, _DISPLAYNAMES,
                                          {"Depth": "1", "Content-Type": "application/xml"})
            assert code == 207, code
            for response in etree.fromstring(body).iter(f"{DAV}response"):
                if response.findtext(f".//{DAV}displayname") == self.name:
                    self._path = unquote(response.findtext(f"{DAV}href") or "")
        return self._path

    def objects(self) -> list[ServerObject]:
        path = self.path()
        if path is None:
            return []
        code, _, body = self._request("REPORT", path, _QUERY,
                                      {"Depth": "1", "Content-Type": "application/xml"})
        assert code == 207, code
        found = []
        for response in etree.fromstring(body).iter(f"{DAV}response"):
            text = response.findtext(f".//{CALDAV}calendar-data")
            if not text:
                continue
            component = next(c for c in icalendar.Calendar.from_ical(text).walk()
                             if c.name in ("VTODO", "VEVENT"))
            contact = component.get("X-SYNCD-CONTACT")
            reason = component.get("X-SYNCD-REASON")
            found.append(ServerObject(
                unquote(response.findtext(f"{DAV}href") or ""),
                response.findtext(f".//{DAV}getetag") or "", text, followup_of(str(component["UID"])),
                str(component.get("STATUS", "")).upper() == "COMPLETED",
                None if contact is None else str(contact), None if reason is None else str(reason),
            ))
        return found

    def tick_off(self, item: ServerObject, when: dt.datetime) -> None:
        """What a person's app does when they tick the to-do off: PUT with If-Match."""
        calendar = icalendar.Calendar.from_ical(item.text)
        component = next(c for c in calendar.walk() if c.name == "VTODO")
        for name in ("STATUS", "COMPLETED", "PERCENT-COMPLETE"):
            component.pop(name, None)
        component.add("status", "COMPLETED")
        component.add("completed", when)
        component.add("percent-complete", 100)
        code, _, _ = self._request("PUT", item.href, calendar.to_ical().decode("utf-8"), {
            "If-Match": item.etag, "Content-Type": "text/calendar; charset=utf-8"})
        assert code in (200, 201, 204), code


def check_calendar(objects: list[ServerObject], planned_uids: set[str]) -> dict[str, int]:
    """The promises about what the server holds: every UID once, one open follow-up per
    (contact, reason), and the open ones exactly the planned set. Returns the figures."""
    uids = Counter(o.uid for o in objects)
    duplicates = {uid: n for uid, n in uids.items() if n > 1}
    assert not duplicates, f"duplicate UIDs on the server: {duplicates}"
    open_ = [o for o in objects if o.contact is not None and not o.completed]
    pairs = Counter((o.contact, o.reason) for o in open_)
    doubled = {pair: n for pair, n in pairs.items() if n > 1}
    assert not doubled, f"more than one open follow-up for {doubled}"
    held = {o.uid for o in open_}
    assert held == planned_uids, (
        f"missing on the server: {sorted(planned_uids - held)[:10]} "
        f"({len(planned_uids - held)}); not planned but there: {sorted(held - planned_uids)[:10]} "
        f"({len(held - planned_uids)})")
    return {"objects": len(objects), "open": len(open_), "duplicates": len(duplicates)}
