"""Shared fixtures: a real Radicale on 127.0.0.1 for the whole session, and a fresh calendar
name per test so that tests never see each other's objects."""

from __future__ import annotations

import os
import re
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from syncd import dav
from syncd.demo import RadicaleServer

SAMPLE_CONTACTS = Path(__file__).resolve().parent.parent / "config" / "contacts"
# The server matrix needs servers from Debian (tests/servers/setup.sh): `.ci/run` runs it after
# the suite, with SYNCD_MATRIX=1; the README's test command does not collect it.
collect_ignore = [] if os.environ.get("SYNCD_MATRIX") == "1" else ["servers"]


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    """Radicale with htpasswd authentication (alice / s3cret-pw), started once per session."""
    # Requests to the test server must never go through a proxy from the environment.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("NO_PROXY", "no_proxy"):
            patch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1"])))
        with RadicaleServer(tmp_path_factory.mktemp("radicale"), auth=True) as server:
            yield server


@pytest.fixture
def calendar_name(request: pytest.FixtureRequest) -> str:
    """A calendar display name no other test uses."""
    test = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"{test}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def caldav_target(radicale: RadicaleServer, calendar_name: str) -> Callable[..., object]:
    """Builds CalDAVTarget instances on this test's own calendar of the session's Radicale."""
    from syncd.targets.caldav import CalDAVTarget

    def make(**overrides: object) -> CalDAVTarget:
        options: dict[str, object] = {
            "url": radicale.url,
            "calendar": calendar_name,
            "username": radicale.username,
            "password": radicale.password,
            "timeout": 10.0,
        }
        options.update(overrides)
        return CalDAVTarget(**options)  # type: ignore[arg-type]

    return make


class AddressBook:
    """A CardDAV address book of the session's Radicale, written to as another client would."""

    MKCOL = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:mkcol xmlns:d="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>'
        "<d:resourcetype><d:collection/><C:addressbook/></d:resourcetype>"
        "</d:prop></d:set></d:mkcol>"
    )

    def __init__(self, server: RadicaleServer, name: str) -> None:
        import caldav

        self.server = server
        self.url = f"{server.user_url}{name}/"
        self.client = caldav.DAVClient(url=server.url, username=server.username,
                                       password=server.password, auth_type="basic")
        response = self.client.request(self.url, "MKCOL", self.MKCOL,
                                       {"Content-Type": "application/xml"})
        assert response.status == 201, response.status

    def put(self, name: str, card: str) -> None:
        response = self.client.request(self.url + name, "PUT", card,
                                       {"Content-Type": "text/vcard; charset=utf-8"})
        assert response.status in (201, 204), response.status

    def delete(self, name: str) -> None:
        assert self.client.request(self.url + name, "DELETE").status in (200, 204)

    def get(self, name: str) -> str:
        response = self.client.request(self.url + name, "GET")
        return response._raw_body.decode("utf-8")


@pytest.fixture
def address_book(radicale: RadicaleServer, calendar_name: str) -> AddressBook:
    """A fresh, empty address book on the session's Radicale (the test's own name)."""
    return AddressBook(radicale, "book-" + calendar_name.lower())



@pytest.fixture
def caldav_home(tmp_path, radicale, calendar_name, monkeypatch) -> Path:
    """A folder with the sample contacts and a config.yaml syncing them to this test's calendar
    of the session's Radicale (the password in SYNCD_TEST_PASSWORD)."""
    shutil.copytree(SAMPLE_CONTACTS, tmp_path / "contacts")
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", radicale.password)
    (tmp_path / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts:
          - type: vdir
            path: contacts
        calendar:
          type: caldav
          url: {radicale.url}
          calendar: {calendar_name}
          username: {radicale.username}
          password_env: SYNCD_TEST_PASSWORD
        me:
          interests: [sailing, leadership]
        state: state.sqlite
        """))
    return tmp_path


@pytest.fixture
def wire(monkeypatch) -> list[tuple[str, str, str]]:
    """Every request any DAV session sends, as (method, url, body)."""
    sent: list[tuple[str, str, str]] = []
    send = dav.DavSession.send

    def recording(self, method, url, body="", headers=None):
        sent.append((method, url, body))
        return send(self, method, url, body, headers)

    monkeypatch.setattr(dav.DavSession, "send", recording)
    return sent


CONFORMANCE_CONFTEST = Path(__file__).resolve().parent / "conformance" / "conftest.py"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """The conformance suite's "NOT run" line where its own conftest, which writes it, is not
    loaded: under xdist the controller collects nothing below tests/."""
    if config.pluginmanager.has_plugin(str(CONFORMANCE_CONFTEST)):
        return
    shared = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    missing = [str(path) for path in (shared / "peers", shared / "vcards") if not path.is_dir()]
    if missing:
        terminalreporter.write_sep("=", f"conformance suite NOT run: {', '.join(missing)} missing",
                                   yellow=True, bold=True)
