"""The CardDAV source against a real Radicale: incremental reads (one REPORT when nothing
changed, only changed cards fetched and parsed), the fallbacks, the errors, the password
sources, and the same follow-ups as the same cards in a folder."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import http.server
import logging
import sys
import textwrap
import threading
import types
from pathlib import Path

import pytest

from syncd import cycle, dav
from syncd.passwords import resolve_password
from syncd.config import SourceConfig, load_config
from syncd.demo import free_port
from syncd.errors import SourceError
from syncd.sources import carddav
from syncd.sources.carddav import CardDAVSource
from syncd.sources.vcard import parse_cards
from syncd.state import State

TODAY = dt.date(2026, 11, 30)
SAMPLES = Path(__file__).resolve().parent.parent / "config" / "contacts"


def card(uid: str, name: str, *lines: str, version: str = "3.0") -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return (f"BEGIN:VCARD\r\nVERSION:{version}\r\nUID:{uid}\r\nFN:{name}\r\n{body}"
            "END:VCARD\r\n")


@pytest.fixture
def parsed(monkeypatch):
    """The source of every card text parsed by the CardDAV source."""
    seen: list[str] = []
    parse = carddav.parse_checked

    def counting(text, source):
        seen.append(source)
        return parse(text, source)

    monkeypatch.setattr(carddav, "parse_checked", counting)
    return seen


def source_for(book, state=None, **overrides) -> CardDAVSource:
    options = {"username": book.server.username, "password": book.server.password,
               "timeout": 10.0, "cache": state}
    options.update(overrides)
    return CardDAVSource(book.url, **options)


def names(contacts) -> list[str]:
    return sorted(contact.name for contact in contacts)


# -- incremental reads ---------------------------------------------------------------------------


def test_added_changed_and_deleted_cards_are_seen(address_book, tmp_path):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace", "EMAIL:ada@example.org"))
    address_book.put("bob.vcf", card("bob", "Bob Stone"))
    address_book.put("cy.vcf", card("cy", "Cy Twombly"))
    with State(tmp_path / "state.sqlite") as state:
        first = source_for(address_book, state).read()
        assert names(first) == ["Ada Lovelace", "Bob Stone", "Cy Twombly"]
        ada = next(c for c in first if c.uid == "ada")
        assert ada.source == address_book.url + "ada.vcf" and ada.emails == ("ada@example.org",)

        address_book.put("dee.vcf", card("dee", "Dee Dee"))
        address_book.put("bob.vcf", card("bob", "Bob Stone", "BDAY:1980-04-15"))
        address_book.delete("cy.vcf")
        second = source_for(address_book, state).read()
    assert names(second) == ["Ada Lovelace", "Bob Stone", "Dee Dee"]
    bob = next(c for c in second if c.uid == "bob")
    assert (bob.birthday.month, bob.birthday.day, bob.birthday.year) == (4, 15, 1980)


def test_only_changed_cards_are_fetched_and_parsed(address_book, tmp_path, wire, parsed):
    for index in range(5):
        address_book.put(f"p{index}.vcf", card(f"p{index}", f"Person {index}"))
    with State(tmp_path / "state.sqlite") as state:
        source = source_for(address_book, state)
        source.read()
        assert source.requests == 3  # cold: PROPFIND (is it a book?), sync-collection, multiget
        assert len(parsed) == 5
        address_book.put("p3.vcf", card("p3", "Person Three"))
        address_book.put("p5.vcf", card("p5", "Person 5"))
        wire.clear()
        parsed.clear()
        contacts = source_for(address_book, state).read()
    assert [method for method, _, _ in wire] == ["REPORT", "REPORT"]  # sync, then one multiget
    multiget = wire[1][2]
    assert "addressbook-multiget" in multiget
    assert multiget.count("<d:href>") == 2 and "p3.vcf" in multiget and "p5.vcf" in multiget
    assert sorted(parsed) == [address_book.url + "p3.vcf", address_book.url + "p5.vcf"]
    assert "Person Three" in names(contacts) and len(contacts) == 6


def test_a_steady_read_sends_exactly_one_report(address_book, tmp_path, wire, parsed):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    with State(tmp_path / "state.sqlite") as state:
        first = source_for(address_book, state).read()
        wire.clear()
        parsed.clear()
        for _ in range(3):
            source = source_for(address_book, state)  # a new process, the same state file
            assert source.read() == first
            assert source.requests == 1
    assert [(method, "<d:sync-collection" in body) for method, _, body in wire] == [
        ("REPORT", True)] * 3
    assert parsed == []  # the cards come from the state file, parsed once


def test_without_a_state_file_reads_stay_incremental_in_the_process(address_book, wire):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    source = source_for(address_book)
    source.read()
    wire.clear()
    assert names(source.read()) == ["Ada Lovelace"]
    assert [method for method, _, _ in wire] == ["REPORT"]


def test_a_rejected_token_falls_back_to_addressbook_query_and_converges(
        address_book, tmp_path, wire, caplog):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    address_book.put("bob.vcf", card("bob", "Bob Stone"))
    with State(tmp_path / "state.sqlite") as state:
        source = source_for(address_book, state)
        source.read()
        state.db.execute("UPDATE collections SET token = 'http://radicale.org/ns/sync/garbage'")
        address_book.put("bob.vcf", card("bob", "Bob Changed"))
        wire.clear()
        caplog.set_level(logging.WARNING)
        assert names(source.read()) == ["Ada Lovelace", "Bob Changed"]
        bodies = [body for _, _, body in wire]
        assert ["<d:sync-collection" in bodies[0], "<C:addressbook-query" in bodies[1],
                "<C:addressbook-multiget" in bodies[2]] == [True, True, True]
        assert len(bodies) == 3  # only Bob, whose etag moved, was fetched
        assert "refused the sync token (403)" in caplog.text
        assert state.load_listing(source.url)[0] is None
        caplog.clear()
        wire.clear()
        assert names(source.read()) == ["Ada Lovelace", "Bob Changed"]  # a full sync-collection
        assert [method for method, _, _ in wire] == ["REPORT"]  # every etag already known
        assert state.load_listing(source.url)[0].startswith("http://radicale.org/ns/sync/")
        state.db.execute("UPDATE collections SET token = 'http://radicale.org/ns/sync/bad2'")
        source.read()
    assert "refused" not in caplog.text  # logged once per process, not every cycle


def test_a_server_without_sync_collection_is_read_with_addressbook_query(
        address_book, tmp_path, wire, monkeypatch, caplog):
    """Not asked again in the same process; only changed cards are fetched even so."""
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    send = dav.DavSession.send

    def no_sync(self, method, url, body="", headers=None):
        if "<d:sync-collection" in body:
            return types.SimpleNamespace(status=501, reason="Not Implemented", tree=None,
                                         headers={})
        return send(self, method, url, body, headers)

    monkeypatch.setattr(dav.DavSession, "send", no_sync)
    monkeypatch.setattr(dav, "_unsupported", set())
    caplog.set_level(logging.WARNING)
    with State(tmp_path / "state.sqlite") as state:
        source = source_for(address_book, state)
        assert names(source.read()) == ["Ada Lovelace"]
        assert source.requests == 3  # PROPFIND, addressbook-query, multiget
        address_book.put("bob.vcf", card("bob", "Bob Stone"))
        before = source.requests
        assert names(source.read()) == ["Ada Lovelace", "Bob Stone"]
        assert source.requests - before == 2  # the query and a multiget of Bob alone
        before = source.requests
        source.read()
        assert source.requests - before == 1
    assert caplog.text.count("does not support incremental reads") == 1


def test_an_incomplete_multiget_keeps_the_old_token(address_book, tmp_path, monkeypatch):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    with State(tmp_path / "state.sqlite") as state:
        source = source_for(address_book, state)
        source.read()
        token = state.load_listing(source.url)[0]
        address_book.put("bob.vcf", card("bob", "Bob Stone"))
        monkeypatch.setattr(carddav.CardDAVSource, "_multiget",
                            lambda self, hrefs, known: ({}, set(), set(hrefs)))
        assert names(source.read()) == ["Ada Lovelace"]
        assert state.load_listing(source.url)[0] == token
        assert source.changed_during_read == [address_book.url + "bob.vcf"]
        assert not source.complete
        monkeypatch.undo()
        assert names(source.read()) == ["Ada Lovelace", "Bob Stone"]
        assert source.complete


def test_an_emptied_book_reads_as_empty(address_book, tmp_path):
    """The cycle's guard, not the source, keeps follow-ups when a book suddenly empties."""
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    with State(tmp_path / "state.sqlite") as state:
        source_for(address_book, state).read()
        address_book.delete("ada.vcf")
        assert source_for(address_book, state).read() == []


def test_a_bad_card_is_skipped_with_a_warning_naming_its_url(address_book, caplog):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace", "BDAY:2026-02-30"))
    address_book.put("bob.vcf", card("bob", "Bob Stone"))
    caplog.set_level(logging.WARNING)
    contacts = source_for(address_book).read()
    assert names(contacts) == ["Ada Lovelace", "Bob Stone"]
    assert f"{address_book.url}ada.vcf:" in caplog.text


def test_cached_contacts_of_another_shape_are_read_again(address_book, tmp_path, parsed):
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    with State(tmp_path / "state.sqlite") as state:
        source = source_for(address_book, state)
        source.read()
        state.db.execute("UPDATE cache.collection_items SET data = '{\"shape\": \"older\"}'")
        parsed.clear()
        assert names(source_for(address_book, state).read()) == ["Ada Lovelace"]
        assert len(parsed) == 1


# -- the same follow-ups as a folder -------------------------------------------------------------


def _survivors() -> dict[str, str]:
    """The sample cards as they survive Radicale, which re-serialises an uploaded vCard with
    vobject: the commas in text values escaped (vobject cuts a value at its first unescaped
    comma), and HOBBY before INTEREST (it sorts the properties by name, and their order is the
    order of a contact's interest tags)."""
    cards = {path.name: path.read_text() for path in sorted(SAMPLES.glob("*.vcf"))}
    cards["giulia-verdi.vcf"] = cards["giulia-verdi.vcf"].replace(
        "negoziazione, design, running", "negoziazione\\, design\\, running")
    cards["laura-bianchi.vcf"] = cards["laura-bianchi.vcf"].replace(
        "sailing, leadership, history", "sailing\\, leadership\\, history")
    marco = cards["marco-rossi.vcf"].replace("Rossi, Marco", "Rossi\\, Marco")
    hobby = "HOBBY;LEVEL=medium:cooking\n"
    cards["marco-rossi.vcf"] = marco.replace(hobby, "").replace("INTEREST;", hobby + "INTEREST;")
    return cards


def test_what_radicale_does_to_an_uploaded_card(address_book):
    """Radicale 3.9.0 (vobject inside) cuts unescaped commas, sorts the properties, refolds long
    lines and refuses a second card with the same UID in a book: why the next test uploads the
    cards as `_survivors` writes them."""
    sample = (SAMPLES / "marco-rossi.vcf").read_text()
    assert sample.index("INTEREST") < sample.index("HOBBY") and "FN:Rossi, Marco" in sample
    address_book.put("marco-rossi.vcf", sample)
    served = address_book.get("marco-rossi.vcf")
    assert "FN:Rossi\r\n" in served
    assert served.index("HOBBY") < served.index("INTEREST")
    for name, text in _survivors().items():
        address_book.put(name, text)
        [sent] = parse_cards(text, "x")
        [back] = parse_cards(address_book.get(name), "x")
        # The same values; the lines of the NOTEs are where Radicale's sorting put them.
        assert (dataclasses.replace(back, note_lines=())
                == dataclasses.replace(sent, note_lines=())), name
    response = address_book.client.request(address_book.url + "again.vcf", "PUT",
                                           card("sample-sam-okafor", "Sam Again"),
                                           {"Content-Type": "text/vcard"})
    assert response.status == 409


def test_a_radicale_book_gives_the_same_follow_ups_as_a_folder(address_book, tmp_path):
    folder = tmp_path / "contacts"
    folder.mkdir()
    for name, text in _survivors().items():
        (folder / name).write_text(text)
        address_book.put(name, text)
    base = textwrap.dedent("""\
        me:
          interests: [sailing, leadership]
        tags:
          synonyms: {vela: sailing}
        """)
    (tmp_path / "folder.yaml").write_text(
        f"contacts:\n  - type: vdir\n    path: {folder}\n" + base)
    (tmp_path / "book.yaml").write_text(textwrap.dedent(f"""\
        contacts:
          - type: carddav
            url: {address_book.url}
            username: {address_book.server.username}
            password: {address_book.server.password}
        """) + base)

    def plan(name):
        config = load_config(tmp_path / name)
        read = cycle.read_contacts(config)
        assert read.failed == []
        followups = cycle.make_plan(config, read.contacts, TODAY, None)
        return read.contacts, [dataclasses.replace(
            f, contact=dataclasses.replace(f.contact, source="", line=1, note_lines=()))
            for f in followups]

    folder_contacts, from_folder = plan("folder.yaml")
    book_contacts, from_book = plan("book.yaml")
    assert len(book_contacts) == len(folder_contacts) == 5
    assert len(from_folder) >= 5
    assert from_book == from_folder
    assert {c.source for c in book_contacts} == {address_book.url + n for n in _survivors()}


# -- failures --------------------------------------------------------------------------------------


def test_wrong_password_is_a_source_error_with_401_and_no_secret(address_book, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="caldav")
    source = source_for(address_book, password="wrong-pw-789")
    with pytest.raises(SourceError) as caught:
        source.read()
    message = str(caught.value)
    assert "401" in message and "authentication failed" in message
    assert address_book.url in message
    token = base64.b64encode(b"alice:wrong-pw-789").decode()
    for secret in ("wrong-pw-789", token, "Authorization"):
        assert secret not in message and secret not in caplog.text


def test_a_good_read_logs_no_secret(address_book, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="caldav")
    address_book.put("ada.vcf", card("ada", "Ada Lovelace"))
    source_for(address_book).read()
    assert "sending request" in caplog.text  # caldav's own debug lines were captured
    token = base64.b64encode(f"alice:{address_book.server.password}".encode()).decode()
    for secret in (address_book.server.password, token, "Authorization"):
        assert secret not in caplog.text


def test_refused_connection_names_the_url_without_credentials():
    url = f"http://alice:in-url-secret@127.0.0.1:{free_port()}/alice/book/"
    source = CardDAVSource(url, None, "s3cret-pw", timeout=5)
    source.retry_delays = (0.0,)
    with pytest.raises(SourceError) as caught:
        source.read()
    message = str(caught.value)
    assert "Connection refused" in message and "127.0.0.1" in message
    assert "in-url-secret" not in message and "s3cret-pw" not in message
    assert source.requests == 2  # a read is retried


def test_not_an_address_book(address_book, radicale):
    with pytest.raises(SourceError, match="not an address book"):
        CardDAVSource(radicale.user_url, radicale.username, radicale.password).read()
    with pytest.raises(SourceError, match="404"):
        CardDAVSource(address_book.url + "nope/", radicale.username, radicale.password).read()


class _NotDav(http.server.BaseHTTPRequestHandler):
    """Answers every request with a web page, as a misconfigured proxy might."""

    def answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(207)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_GET = answer

    def log_message(self, *args) -> None:
        pass


def test_a_body_that_is_not_webdav_xml_is_a_source_error():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotDav)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alice/book/"
        with pytest.raises(SourceError) as caught:
            CardDAVSource(url, "alice", "pw-not-shown").read()
    finally:
        server.shutdown()
        server.server_close()
    message = str(caught.value)
    assert url in message and "207" in message and "multistatus" in message
    assert "pw-not-shown" not in message


def test_verify_false_warns_naming_the_url(caplog):
    url = f"https://dav.example.org/{free_port()}/book/"
    caplog.set_level(logging.WARNING)
    cycle.make_source(SourceConfig("carddav", url=url, verify=False))
    assert "TLS certificates are NOT verified" in caplog.text and url in caplog.text


def test_a_failing_carddav_source_is_reported_and_the_others_go_on(address_book, tmp_path):
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "x.vcf").write_text(card("x", "From The Folder"))
    (tmp_path / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts:
          - type: carddav
            url: {address_book.url}
            username: alice
            password: not-the-password
          - type: vdir
            path: cards
        """))
    read = cycle.read_contacts(load_config(tmp_path / "config.yaml"))
    assert names(read.contacts) == ["From The Folder"]
    [error] = read.failed
    failure = str(error)
    assert error.auth and error.status == 401
    assert "401" in failure and "not-the-password" not in failure


# -- the password ----------------------------------------------------------------------------------


@pytest.fixture
def keyring(monkeypatch):
    calls: list[tuple[str, str]] = []
    module = types.ModuleType("keyring")

    def get_password(service, name):
        calls.append((service, name))
        return "from-the-keyring"

    module.get_password = get_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    return calls


def test_password_sources_for_a_carddav_source(keyring, monkeypatch):
    url = "https://dav.example.org/anna/contacts/"
    resolve = resolve_password
    monkeypatch.setenv("BOOK_PW", "from-env")
    assert resolve(SourceConfig("carddav", url=url, username="anna", password_env="BOOK_PW"),
                   "contacts[0]", SourceError) == "from-env"
    assert resolve(SourceConfig("carddav", url=url, username="anna",
                                password_command="printf 'from-command\\n'"),
                   "contacts[0]", SourceError) == "from-command"
    assert resolve(SourceConfig("carddav", url=url, username="anna", password="plain"),
                   "contacts[0]", SourceError) == "plain"
    assert keyring == []
    assert resolve(SourceConfig("carddav", url=url, username="anna"),
                   "contacts[0]", SourceError) == "from-the-keyring"
    assert keyring == [("syncd", url)]
    assert resolve(SourceConfig("carddav", url=url), "contacts[0]", SourceError) is None
    assert len(keyring) == 1  # no user name: no password wanted, the keyring is not asked
    with pytest.raises(SourceError, match=r"^contacts\[0\]\.password_env: \$NOPE_UNSET is not set"):
        resolve(SourceConfig("carddav", url=url, password_env="NOPE_UNSET"), "contacts[0]",
                SourceError)
    with pytest.raises(SourceError, match=r"^contacts\[0\]\.password_command exited with status 3$"):
        resolve(SourceConfig("carddav", url=url, password_command="echo leaked; exit 3"),
                "contacts[0]", SourceError)


def test_the_calendar_uses_the_keyring_too(keyring):
    from syncd.config import CalendarConfig

    calendar = CalendarConfig(type="caldav", url="https://dav.example.org/", username="anna")
    assert resolve_password(calendar) == "from-the-keyring"
    assert keyring == [("syncd", "https://dav.example.org/")]


def test_a_failing_keyring_means_no_password_and_a_warning(monkeypatch, caplog):
    module = types.ModuleType("keyring")

    def broken(service, name):
        raise RuntimeError("the D-Bus session is gone")

    module.get_password = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    caplog.set_level(logging.WARNING)
    config = SourceConfig("carddav", url="https://dav.example.org/b/", username="anna")
    assert resolve_password(config, "contacts[0]", SourceError) is None
    assert "contacts[0]: no password from the system keyring (RuntimeError)" in caplog.text


def test_without_the_keyring_package_there_is_no_password(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails
    config = SourceConfig("carddav", url="https://dav.example.org/b/", username="anna")
    assert resolve_password(config, "contacts[0]", SourceError) is None


# -- a whole cycle: CardDAV contacts, CalDAV follow-ups -------------------------------------------


def test_a_steady_cycle_over_carddav_and_caldav_is_one_report_per_collection(
        address_book, calendar_name, tmp_path, monkeypatch, wire):
    for name, text in _survivors().items():
        address_book.put(name, text)
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", address_book.server.password)
    server = address_book.server
    (tmp_path / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts:
          - type: carddav
            url: {address_book.url}
            username: {server.username}
            password_env: SYNCD_TEST_PASSWORD
        calendar:
          type: caldav
          url: {server.url}
          calendar: {calendar_name}
          username: {server.username}
          password_env: SYNCD_TEST_PASSWORD
        me:
          interests: [sailing, leadership]
        state: state.sqlite
        """))

    def run():
        """As the daemon runs a cycle: a new target (and new sources) each time."""
        config = load_config(tmp_path / "config.yaml")
        target = cycle.make_target(config.calendar)
        with State(config.state) as state:
            report = cycle.sync(config, state, target, TODAY, dt.datetime.now(dt.timezone.utc))
        assert report.errors == []
        return report

    first = run()
    assert first.counts["created"] >= 5
    wire.clear()
    report = run()
    assert (report.counts["created"], report.counts["updated"], report.counts["deleted"]) == (
        0, 0, 0)
    assert [(method, url, "<d:sync-collection" in body) for method, url, body in wire] == [
        ("REPORT", address_book.url, True),
        ("REPORT", f"{server.user_url}syncd-{calendar_name.lower()}/", True),
    ]
    address_book.delete("sam-okafor.vcf")
    wire.clear()
    report = run()
    assert report.counts["deleted"] == 1  # Sam's get-to-know follow-up
    assert [method for method, _, _ in wire] == ["REPORT", "REPORT", "DELETE"]
