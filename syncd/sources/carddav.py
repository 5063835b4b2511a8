"""An address book on a CardDAV server (RFC 6352) as a contact source.

caldav has no CardDAV support, but its authenticated client sends any request. A read is:

1. the listing: one sync-collection REPORT (RFC 6578) with the token of the last read, which
   names the cards changed and removed since (every card, the first time); when the server
   refuses the token or lacks the report (logged once per process), one addressbook-query
   REPORT for the etags of every card instead;
2. one addressbook-multiget REPORT per 500 cards whose etag differs from the one kept, and
   nothing when none does.

So a read where nothing changed costs one REPORT. The very first read also checks, with one
PROPFIND, that the URL is an address book, so that a wrong URL is an error rather than an empty
book. Cards are read with the same lossless reader as files (`parse_cards`), with the card's URL
(no credentials) as their source; only fetched cards are parsed. The `ListingCache` (the state
file during a sync) keeps, per href, the etag and the contacts parsed from it as JSON, tagged
with the shape of `Contact` so that a newer syncd reads everything again instead of misreading.

A card whose new version cannot be read keeps the contacts of its previous version and is
named in `damaged` for as long as that version is on the server (the cache remembers it); a
card the server did not return when asked is named in `changed_during_read`. Either way the
read is not `complete`.

Every failure of the book as a whole (401/403, no answer, not WebDAV) is a `SourceError` naming
the URL without credentials and the status; no message or log line carries the password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import fields
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from syncd import dav
from syncd.cache import ListingCache, MemoryListingCache
from syncd.dav import CARDDAV, DAV, XML, normalize_href, public_url
from syncd.errors import SourceError
from syncd.model import Contact, PartialDate
from syncd.passwords import resolve_password
from syncd.sources import SOURCE_TYPES, ContactSource, dedupe
from syncd.sources.vcard import parse_checked

if TYPE_CHECKING:
    from syncd.config_types import SourceConfig

log = logging.getLogger(__name__)

MULTIGET_BATCH = 500
_QUERY_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:addressbook-query xmlns:d="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
    "<d:prop><d:getetag/></d:prop><C:filter/></C:addressbook-query>"
)
_PROPFIND_TYPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>'
)
# The shape of the contacts kept in the cache: a change of `Contact` reads every card again.
# Bump the number when `parse_cards` reads the same card differently (2: a card nested in a
# card became part of it, no longer a contact of its own; 3: CHARSET on 8-bit values, vendor
# anniversaries, names from N, ORG or email, phones, group cards skipped; 4: the id of a card
# without UID from the person, not the href).
_SHAPE = "4 " + " ".join(f.name for f in fields(Contact))
SHAPE = hashlib.sha256(_SHAPE.encode()).hexdigest()[:12]
_DATES = frozenset(f.name for f in fields(Contact) if "PartialDate" in str(f.type))


class Card(NamedTuple):
    """One href as read: its etag, the JSON kept in the cache, the contacts."""

    etag: str
    data: str
    contacts: list[Contact]
    damaged: str | None = None  # why this version could not be read (the contacts are older)


def _source_error(message: str, **details: Any) -> SourceError:
    return SourceError(message, **details)


class CardDAVSource(ContactSource, dav.OnSession):
    incremental = True

    def __init__(
        self,
        url: str,
        username: str | None,
        password: str | None,
        *,
        verify: bool = True,
        timeout: float = 30.0,
        cache: ListingCache | None = None,
    ) -> None:
        if not re.match(r"https?://[^/]", url or ""):
            raise SourceError(f"{public_url(url or '')!r}: not an http:// or https:// URL")
        if not url.endswith("/"):
            url += "/"  # a collection
        self.url = public_url(url)  # never the credentials a URL may carry
        super().__init__(self.url)
        if not verify:
            dav.log_once(logging.WARNING, ("verify", self.url),
                         "%s: TLS certificates are NOT verified (verify: false)", self.url)
        self._session = dav.DavSession(url, username, password, verify=verify, timeout=timeout,
                                       error=_source_error, service="CardDAV")
        parts = urlsplit(self.url)
        self._origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self._cache: ListingCache = cache if cache is not None else MemoryListingCache()

    @classmethod
    def from_config(cls, config: SourceConfig, cache: ListingCache | None = None,
                    key: str = "contacts[]") -> CardDAVSource:
        return cls(config.url or "", config.username, resolve_password(config, key, SourceError),
                   verify=config.verify, timeout=config.timeout.total_seconds(), cache=cache)

    # -- reading -------------------------------------------------------------------------------

    def read(self) -> list[Contact]:
        self.damaged, self.changed_during_read = [], []
        token, cards = self._load()
        if token is None and not cards:
            self._check_book()
        new_token: str | None
        try:
            result = dav.sync_collection(self._session, self.url, token, self._cache)
        except dav.SyncRefused as refusal:
            dav.note_refusal(refusal, "reading the etags of every card with addressbook-query")
            new_token, listing, full = None, self._query_etags(), True
            removed: set[str] = set()
        else:
            new_token, listing, removed, full = (
                result.token, result.changed, result.removed, token is None)
        if full:
            removed = set(cards) - set(listing)
        wanted = sorted(href for href, etag in listing.items()
                        if href not in cards or cards[href].etag != etag)
        fetched, gone, missing = self._multiget(wanted, cards)
        if missing:
            new_token = token  # read the same changes again next time
            self.changed_during_read = [self._origin + href for href in sorted(missing)]
        for href in removed | gone:
            cards.pop(href, None)
        cards.update(fetched)
        if full:
            self._cache.save_listing(self.url, new_token,
                                     {href: card[:2] for href, card in cards.items()},
                                     replace=True)
        elif new_token != token or fetched or removed or gone:
            self._cache.save_listing(self.url, new_token,
                                     {href: card[:2] for href, card in fetched.items()},
                                     removed | gone)
        log.debug("%s: %d cards, %d fetched, %d removed, %d requests so far", self.url,
                  len(cards), len(fetched), len(removed | gone), self.requests)
        self.damaged = [problem for href in sorted(cards) if (problem := cards[href].damaged)]
        return dedupe(contact for href in sorted(cards) for contact in cards[href].contacts)

    def _load(self) -> tuple[str | None, dict[str, Card]]:
        token, items = self._cache.load_listing(self.url)
        cards: dict[str, Card] = {}
        for href, (etag, data) in items.items():
            kept = _decode(data)
            if kept is None:  # written by another syncd, or damaged: read everything again
                return None, {}
            cards[href] = Card(etag, data, *kept)
        return token, cards

    def _check_book(self) -> None:
        """A wrong URL is an error, not an empty address book."""
        response = self._session.read("PROPFIND", self.url, _PROPFIND_TYPE, {"Depth": "0"},
                                      ok=(207,))
        own = normalize_href(urlsplit(self.url).path).rstrip("/")
        for member in self._session.multistatus(response, self.url):
            if member.href.rstrip("/") != own:
                continue
            resourcetype = member.props.get(f"{DAV}resourcetype")
            kinds = {child.tag for child in resourcetype} if resourcetype is not None else set()
            if f"{CARDDAV}addressbook" in kinds:
                return
            what = ("a calendar" if "{urn:ietf:params:xml:ns:caldav}calendar" in kinds
                    else "a plain collection" if f"{DAV}collection" in kinds else "a single file")
            raise SourceError(f"{self.url}: not an address book ({what}); give the URL of the "
                              "address book collection")
        raise SourceError(f"{self.url}: the server did not describe this URL")

    def _query_etags(self) -> dict[str, str]:
        response = self._session.read("REPORT", self.url, _QUERY_ETAGS, {"Depth": "1", **XML},
                                      ok=(207,))
        listing: dict[str, str] = {}
        own = normalize_href(urlsplit(self.url).path).rstrip("/")
        for member in self._session.multistatus(response, self.url):
            if member.href.rstrip("/") == own or member.href.endswith("/"):
                continue
            if member.etag:
                listing[member.href] = member.etag
            elif member.status == HTTPStatus.OK:
                log.warning("%s: the server gave no etag; ignored", self._origin + member.href)
        return listing

    def _multiget(self, hrefs: list[str],
                  known: dict[str, Card]) -> tuple[dict[str, Card], set[str], set[str]]:
        """(cards fetched and parsed, hrefs gone since the listing, hrefs the server did not
        answer), in one REPORT per MULTIGET_BATCH hrefs. A card that cannot be read keeps the
        contacts of its version in `known`, if any."""
        fetched: dict[str, Card] = {}
        gone: set[str] = set()
        missing: set[str] = set()
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start:start + MULTIGET_BATCH]
            body = ('<?xml version="1.0" encoding="utf-8"?>'
                    '<C:addressbook-multiget xmlns:d="DAV:" '
                    'xmlns:C="urn:ietf:params:xml:ns:carddav">'
                    "<d:prop><d:getetag/><C:address-data/></d:prop>"
                    + "".join(f"<d:href>{escape(href)}</d:href>" for href in batch)
                    + "</C:addressbook-multiget>")
            response = self._session.read("REPORT", self.url, body, {"Depth": "1", **XML},
                                          ok=(207,))
            answered: set[str] = set()
            for member in self._session.multistatus(response, self.url):
                text = member.text(f"{CARDDAV}address-data")
                if member.status == HTTPStatus.NOT_FOUND:
                    gone.add(member.href)
                elif member.status == HTTPStatus.OK and member.etag and text.strip():
                    fetched[member.href] = _card(member.etag, text, self._origin + member.href,
                                                 known.get(member.href))
                else:
                    continue
                answered.add(member.href)
            unanswered = set(batch) - answered
            if unanswered:
                log.warning("%s: the server did not return %d of the cards asked for (e.g. %s); "
                            "asking again next time", self.url, len(unanswered), min(unanswered))
                missing |= unanswered
        return fetched, gone, missing


def _card(etag: str, text: str, where: str, previous: Card | None) -> Card:
    contacts, problem = parse_checked(text, where)
    if problem is None:
        return Card(etag, _encode(contacts), contacts)
    if previous is not None:
        contacts = previous.contacts
        problem += "; the contacts of its previous version are kept"
    return Card(etag, _encode(contacts, problem), contacts, problem)


# -- the cached contacts -----------------------------------------------------------------------


def _encode(contacts: list[Contact], damaged: str | None = None) -> str:
    rows = []
    for contact in contacts:
        row: dict[str, Any] = {}
        for f in fields(Contact):
            value = getattr(contact, f.name)
            if isinstance(value, PartialDate):
                value = [value.month, value.day, value.year]
            row[f.name] = list(value) if isinstance(value, tuple) else value
        rows.append(row)
    kept: dict[str, Any] = {"shape": SHAPE, "contacts": rows}
    if damaged:
        kept["damaged"] = damaged
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":"))


def _decode(data: str) -> tuple[list[Contact], str | None] | None:
    """The contacts kept for one card and why its version could not be read (None when it
    could), or None when the data is not of this syncd's shape."""
    try:
        kept = json.loads(data)
        if kept.get("shape") != SHAPE:
            return None
        contacts = []
        for row in kept["contacts"]:
            values: dict[str, Any] = {}
            for name, value in row.items():
                if name in _DATES and value is not None:
                    value = PartialDate(*value)
                elif isinstance(value, list):
                    value = tuple(value)
                values[name] = value
            contacts.append(Contact(**values))
        damaged = kept.get("damaged")
        return contacts, damaged if isinstance(damaged, str) else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


SOURCE_TYPES["carddav"] = CardDAVSource
