"""Every server answer is one clear message, never a traceback: the precondition a 403 or 409
names (Cyrus's `unique-scheduling-object-resource`, say), an empty answer or an HTML page where a
WebDAV multistatus was due. The answers come from the loopback proxy before the session's
Radicale (a real server cannot be made to give them); the 403 body is Cyrus's, as the server
matrix sees it live."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from loopback_proxy import Fault, LoopbackProxy
from syncd import dav_failures
from syncd.errors import TargetError
from syncd.targets.caldav import CalDAVTarget

CYRUS_403 = (b'<?xml version="1.0" encoding="utf-8"?>\n<D:error xmlns:D="DAV:" '
             b'xmlns:C="urn:ietf:params:xml:ns:caldav"><C:unique-scheduling-object-resource>'
             b"<D:href>/dav/calendars/user/anna/Default/syncd-0123.ics</D:href>"
             b"</C:unique-scheduling-object-resource></D:error>")


def test_a_precondition_is_named_with_the_href_in_the_way():
    said = dav_failures.precondition(CYRUS_403)
    assert said == ("an object with this UID is already in another calendar of this account "
                    "(unique-scheduling-object-resource, /dav/calendars/user/anna/Default/"
                    "syncd-0123.ics)")
    assert dav_failures.precondition(b"<html>no</html>") == dav_failures.precondition(b"") == ""
    assert "precondition odd-thing failed" in dav_failures.precondition(
        b'<error xmlns="DAV:"><odd-thing/></error>')


def test_a_403_on_a_put_says_what_the_server_refused(radicale, calendar_name):
    with LoopbackProxy(radicale.url) as proxy:
        target = CalDAVTarget(proxy.url, calendar_name, radicale.username, radicale.password,
                              timeout=10)
        target.list()
        proxy.fault = lambda method, path: (Fault(status=403, body=CYRUS_403,
                                                  content_type="application/xml")
                                            if method == "PUT" else None)
        with pytest.raises(TargetError) as raised:
            target.create(target.href_for("syncd-0123"), "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    message = str(raised.value)
    assert "403" in message and "already in another calendar of this account" in message
    assert "permission denied" not in message


@pytest.mark.parametrize("fault, said", [
    (Fault(status=200, body=b""), "an empty answer where a WebDAV multistatus was due"),
    (Fault(status=200, body=b"<!DOCTYPE html><html><body>Sign in</body></html>",
           content_type="text/html"), "an HTML page, not a WebDAV multistatus: is this the CalDAV URL?"),
], ids=["empty-200", "html-200"])
def test_a_wrong_answer_at_discovery_is_one_line(tmp_path, radicale, calendar_name, fault, said):
    (tmp_path / "contacts").mkdir()
    with LoopbackProxy(radicale.url) as proxy:
        proxy.fault = lambda method, path: fault if method == "PROPFIND" else None
        (tmp_path / "config.yaml").write_text(textwrap.dedent(f"""\
            contacts: [{{type: vdir, path: contacts}}]
            calendar: {{type: caldav, url: {proxy.url}, calendar: {calendar_name},
                       username: {radicale.username}, password_env: SYNCD_TEST_PASSWORD}}
            state: state.sqlite
            """))
        done = subprocess.run(
            [sys.executable, "-m", "syncd", "sync", "--config", str(tmp_path / "config.yaml")],
            capture_output=True, text=True, timeout=120,
            env={"SYNCD_TEST_PASSWORD": radicale.password or "", "NO_PROXY": "127.0.0.1",
                 "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "caldav" not in done.stderr
