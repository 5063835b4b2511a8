"""Any RFC 4791 (CalDAV) server, through the caldav library.

caldav finds the principal and the calendar (and creates the calendar when it is missing); the
object requests themselves are sent through the client's authenticated `request` method, because
caldav's own `add_todo` sends no `If-None-Match: *` (see FIELD-NOTES.md).

`list()` reads incrementally: one sync-collection REPORT (RFC 6578) with the token of the last
read, merged into the listing kept with it in a `ListingCache` (the state file during a sync,
memory otherwise), so a calendar where nothing changed costs one request and no transfer. A
server that refuses the token or lacks the report gets the PROPFIND listing instead (logged once
per process). The calendar found by name is remembered in the cache too, so a new process costs
no discovery. Then one request per `get`/`create`/`update`/`delete`, each updating the cached
listing; a 412 drops the token, so the next `list()` starts from a full listing. So does each of
syncd's own writes: a token taken before them names a state of the collection that a collection
deleted and made again can answer with "no change" (Radicale's tokens hash the content), so it is
never trusted for the state after them. A collection answering 404 or 410 is `TargetMissing`, and
its cached listing and token are dropped with it.

`failure` keeps the last failure of an object request that is worth a backoff (the server
unreachable or stalled, a 5xx, a 429) until the caller clears it: the daemon stops the cycle's
remaining writes on it, since each would fail the same way (or wait the whole timeout), and
backs off.

The cache can only be behind the server, never ahead of it in a way that matters: the token and
the listing are saved together, whatever changed after the token is reported again, and every
write carries If-Match / If-None-Match, so even a stale etag can only make a write fail (412),
never overwrite or delete what a person changed.

Hrefs are absolute paths on the server, normalised (each segment unquoted and quoted again the
same way) so that `href_for` and `list` agree whatever quoting the server uses. Messages name
the URL without credentials and never contain the password.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from functools import wraps
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from caldav.lib import error as caldav_error
from caldav.lib.url import URL
from lxml import etree

from syncd import dav
from syncd.cache import ListingCache, MemoryListingCache
from syncd.dav import normalize_href, public_url
from syncd.dav_failures import body_text, connection_reason, dav_reason
from syncd.errors import PreconditionFailed, TargetError, TargetMissing
from syncd.targets import Target
from syncd.targets.local import safe_name

__all__ = ["COMPONENTS", "CalDAVTarget", "normalize_href"]

log = logging.getLogger(__name__)

COMPONENTS = {"todo": "VTODO", "event": "VEVENT"}
MAX_REDIRECTS = 5
_PROPFIND_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>'
)
_PROPFIND_TYPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>'
)
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_PROPFIND_COMPONENTS = (
    '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" '
    'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:supported-calendar-component-set/>'
    "</d:prop></d:propfind>"
)
_PROPFIND_ETAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)


_Method = TypeVar("_Method", bound=Callable[..., Any])
_Answer = TypeVar("_Answer")


def _noting_failure(method: _Method) -> _Method:
    """Keeps a failure worth a backoff in `self.failure` (see the module's docstring)."""

    @wraps(method)
    def noted(self: CalDAVTarget, *args: Any) -> Any:
        try:
            return method(self, *args)
        except PreconditionFailed:
            raise
        except TargetError as error:
            if error.transient:
                self.failure = error
            raise

    return noted  # type: ignore[return-value]


def _synchronous(answer: _Answer | Coroutine[Any, Any, _Answer]) -> _Answer:
    """What caldav's synchronous client answered (its types allow the async client's too)."""
    assert not isinstance(answer, Coroutine)
    return answer


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return slug or safe_name(name)[:16]


class CalDAVTarget(dav.OnSession, Target):
    def __init__(
        self,
        url: str,
        calendar: str | None,
        username: str | None,
        password: str | None,
        verify: bool = True,
        timeout: float = 30.0,
        component: str = "todo",
        cache: ListingCache | None = None,
    ) -> None:
        if component not in COMPONENTS:
            raise TargetError(f"calendar component must be one of {sorted(COMPONENTS)}")
        if not re.match(r"https?://[^/]", url or ""):
            raise TargetError(f"{public_url(url or '')!r}: not an http:// or https:// URL")
        self.url = public_url(url)  # never the credentials a URL may carry
        self.calendar_name = calendar
        self.component = component
        self.description = self.url + (f" ({calendar})" if calendar else "")
        if not verify:
            dav.log_once(logging.WARNING, ("verify", self.url),
                         "%s: TLS certificates are NOT verified (calendar.verify: false)",
                         self.url)
        self._session = dav.DavSession(url, username, password, verify=verify, timeout=timeout,
                                       error=TargetError)
        self._client = self._session.client
        # With the component: a calendar found for to-dos is checked again for events.
        self._discovery_key = f"caldav {self.url} {username or ''} {calendar or ''} {component}"
        self._cache: ListingCache = cache if cache is not None else MemoryListingCache()
        self._collection: str | None = None  # absolute URL of the calendar collection
        self._remembered = False  # the collection URL came from the cache, not a discovery
        self._pending = False  # a dry run: the calendar is not there, a sync would create it
        self._origin = ""  # scheme://host[:port], joined with an href to make a URL
        self.failure: TargetError | None = None  # see the module's docstring
        self.listing_complete = True

    def use_cache(self, cache: ListingCache) -> None:
        """Keep the sync token, the listing and the calendar's URL in `cache` from now on (the
        state file during a sync: it must stay open while this target is used)."""
        if cache is self._cache:
            return
        found = self._collection
        if found and self.calendar_name and cache.discovered(self._discovery_key) != found:
            cache.remember_discovered(self._discovery_key, found)
        self._cache = cache

    # -- setup ---------------------------------------------------------------------------------

    def _calendar_url(self) -> str:
        if self._collection is None:
            if self.calendar_name is None:
                collection = str(self._client.url)
            elif found := self._cache.discovered(self._discovery_key):
                collection, self._remembered = found, True
            else:
                collection = self._find()
                if not self._pending:
                    self._check_component(collection)
                    self._cache.remember_discovered(self._discovery_key, collection)
            collection = public_url(collection)
            if not collection.endswith("/"):
                collection += "/"
            parts = urlsplit(collection)
            self._origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
            self._collection = collection
            self.description = public_url(collection)
        return self._collection

    def _find(self) -> str:  # noqa: PLR0912 (a branch per step of calendar discovery)
        """The calendar at `url` when that is a calendar collection; else the one named
        `self.calendar_name`, created if the principal has none."""
        name = self.calendar_name
        assert name is not None
        where, answer = self._followed(public_url(self.url))
        if self._is_calendar(where, answer):
            return where
        try:
            principal = self._client.get_principal()
            calendars = _synchronous(principal.get_calendars())
            for calendar in calendars:
                if calendar.get_display_name() == name:
                    log.debug("calendar %r found at %s", name, calendar.url)
                    return str(calendar.url)
            # The collection syncd made earlier, renamed since in a calendar app: keep using it.
            cal_id = f"syncd-{_slug(name)}"
            for calendar in calendars:
                if str(calendar.url).rstrip("/").endswith("/" + cal_id):
                    log.info("calendar %r not found by name; using %s, which syncd created",
                             name, public_url(str(calendar.url)))
                    return str(calendar.url)
            if self.read_only:
                home = str(principal.calendar_home_set.url).rstrip("/")
                self._pending = True
                log.warning("dry run: there is no calendar %r; a sync would create the calendar "
                            "at %s/%s/", name, public_url(home), cal_id)
                return f"{home}/{cal_id}/"
            try:
                # Both components, so that `calendar.component` can change later (Cyrus and
                # sabre/dav refuse a VEVENT in a calendar made for VTODOs).
                calendar = _synchronous(principal.make_calendar(
                    name=name, cal_id=cal_id, supported_calendar_component_set=list(
                        dict.fromkeys([COMPONENTS[self.component], *COMPONENTS.values()]))))
            except caldav_error.DAVError as error:
                if isinstance(error, caldav_error.AuthorizationError):
                    raise
                raise TargetError(
                    f"{where}: cannot create the calendar {name!r} at {cal_id}/ "
                    f"({dav_reason(error)}); create it yourself or name an existing one",
                    status=getattr(error, "status", None)) from error
            log.info("created calendar %r at %s", name, public_url(str(calendar.url)))
            return str(calendar.url)
        except caldav_error.AuthorizationError as error:
            raise self._session.auth_error(where, error) from error
        except caldav_error.DAVError as error:
            raise TargetError(f"{where}: {dav_reason(error)}",
                              status=getattr(error, "status", None)) from error
        except etree.XMLSyntaxError as error:
            raise TargetError(f"{where}: the server sent malformed XML ({error})") from error
        except OSError as error:
            raise TargetError(f"{where}: cannot connect: {connection_reason(error)}",
                              connection=True) from error
        except (AttributeError, TypeError, KeyError, IndexError) as error:
            # The caldav library met an answer it cannot read (an empty 200 gave AttributeError).
            raise TargetError(f"{where}: an answer that is not the WebDAV one due "
                              f"({type(error).__name__} in the caldav library); is this the "
                              "CalDAV URL?") from error

    def _check_component(self, url: str) -> None:
        """At discovery: the calendar accepts the configured component (one PROPFIND)."""
        kind = COMPONENTS[self.component]
        response = self._session.read("PROPFIND", url, _PROPFIND_COMPONENTS, {"Depth": "0"},
                                      ok=(207,))
        accepted = {comp.get("name", "").upper()
                    for member in self._session.multistatus(response, url)
                    for prop in [member.props.get(f"{CALDAV}supported-calendar-component-set")]
                    if prop is not None for comp in prop.iter(f"{CALDAV}comp")}
        if accepted and kind not in accepted:
            raise TargetError(
                f"{public_url(url)}: the calendar {self.calendar_name!r} accepts only "
                f"{', '.join(sorted(accepted))} objects, not {kind} (calendar.component: "
                f"{self.component}); name another calendar, or set the component it accepts")

    def _followed(self, url: str) -> tuple[str, Any]:
        """`url` after the redirects its server answers at discovery (Cyrus's and SOGo's
        `/.well-known/caldav`, a moved server), which the caldav library does not follow for
        PROPFIND; discovery goes on from there. With the last answer: the PROPFIND of its
        resource type, which `_is_calendar` reads."""
        for _ in range(MAX_REDIRECTS):
            response = self._session.read("PROPFIND", url, _PROPFIND_TYPE, {"Depth": "0"},
                                          ok=tuple(range(200, 500)))  # 5xx: retried, raised
            location = response.headers.get("Location")
            if response.status == HTTPStatus.MULTI_STATUS and response.tree is not None:
                # Followed already: the one member's href is where the answer came from.
                found = [m.href for m in dav.members(response.tree)]
                own = normalize_href(urlsplit(url).path)
                if len(found) != 1 or found[0].rstrip("/") == own.rstrip("/"):
                    return url, response
                location = found[0]
            elif response.status not in (301, 302, 303, 307, 308) or not location:
                return url, response
            moved = public_url(urljoin(url, location))
            if urlsplit(moved).scheme not in ("http", "https"):
                break
            log.info("%s redirects to %s", url, moved)
            url = moved
            self._client.url = URL.objectify(url)
        raise TargetError(f"{public_url(self.url)}: more than {MAX_REDIRECTS} redirects, or one "
                          "to a URL that is not http(s)")

    def _is_calendar(self, url: str, response: Any) -> bool:
        """Whether `url` is a calendar collection itself, by its PROPFIND `response`."""
        if (HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES
                and response.status != HTTPStatus.MULTI_STATUS):
            # A success that is no WebDAV answer (a web page): the wrong URL.
            raise self._session.status_error(url, response, (207,))
        if response.status != HTTPStatus.MULTI_STATUS:
            return False  # a server root or a principal that will not say: found by name
        own = normalize_href(urlsplit(url).path).rstrip("/")
        for member in self._session.multistatus(response, url):
            kinds = member.props.get(f"{dav.DAV}resourcetype")
            if member.href.rstrip("/") == own and kinds is not None:
                return any(kind.tag == f"{CALDAV}calendar" for kind in kinds)
        return False

    # -- HTTP ----------------------------------------------------------------------------------

    def _url(self, href: str) -> str:
        self._calendar_url()
        return self._origin + normalize_href(href)

    def _etag_by_propfind(self, url: str) -> str:
        response = self._session.read("PROPFIND", url, _PROPFIND_ETAG, {"Depth": "0"}, ok=(207,))
        for member in self._session.multistatus(response, url):
            if member.etag:
                return member.etag
        raise TargetError(f"{public_url(url)}: the server gave no etag")

    # -- the Target contract -------------------------------------------------------------------

    def href_for(self, uid: str) -> str:
        return normalize_href(urlsplit(self._calendar_url()).path + quote(safe_name(uid), safe="")
                              + ".ics")

    def identity(self) -> str:
        return self._calendar_url()

    def list(self) -> dict[str, str]:
        try:
            return self._list()
        except TargetError as error:
            if error.status not in (404, 410):
                raise
            # Deleted or moved: nothing cached of it can be trusted, and a calendar found by
            # name is looked for again in the next cycle.
            collection = self._calendar_url()
            self._cache.save_listing(collection, None, {}, replace=True)
            again = ""
            if self._remembered:
                self._cache.remember_discovered(self._discovery_key, None)
                self._collection, self._remembered = None, False
                again = f"; the calendar {self.calendar_name!r} is looked up again next cycle"
            raise TargetMissing(f"{error}: the calendar is not there{again}",
                                status=error.status) from error

    def _list(self) -> dict[str, str]:
        collection = self._calendar_url()
        self.listing_complete = True
        if self._pending:
            return {}  # a dry run on a calendar not made yet: nothing is there
        token, cached = self._cache.load_listing(collection)
        try:
            result = dav.sync_collection(self._session, collection, token, self._cache)
        except dav.SyncRefused as refusal:
            dav.note_refusal(refusal, "listing the calendar with PROPFIND")
            listing = self._propfind_listing(collection)
            self._cache.save_listing(collection, None, {h: (e, "") for h, e in listing.items()},
                                     replace=True)
            return listing
        if token is None:
            listing = result.changed
        else:
            listing = {href: etag for href, (etag, _) in cached.items()}
            listing.update(result.changed)
            for href in result.removed:
                listing.pop(href, None)
        if token is None or result.token != token or result.changed or result.removed:
            self._cache.save_listing(collection, result.token,
                                     {href: (etag, "") for href, etag in result.changed.items()},
                                     result.removed, replace=token is None)
        return listing

    def _propfind_listing(self, collection: str) -> dict[str, str]:
        response = self._session.read("PROPFIND", collection, _PROPFIND_ETAGS, {"Depth": "1"},
                                      ok=(207,))
        own = normalize_href(urlsplit(collection).path)
        listing: dict[str, str] = {}
        for member in self._session.multistatus(response, collection):
            if member.is_collection or member.href.rstrip("/") == own.rstrip("/"):
                continue
            if not member.etag:
                log.warning("%s: the server gave no etag; ignored", self._origin + member.href)
                self.listing_complete = False  # so its absence is no dismissal
                continue
            listing[member.href] = member.etag
        return listing

    @_noting_failure
    def get(self, href: str) -> tuple[str, str]:
        url = self._url(href)
        response = self._session.read("GET", url)
        text = body_text(response)
        etag = response.headers.get("ETag") or self._etag_by_propfind(url)
        return text, etag

    @_noting_failure
    def create(self, href: str, item: str) -> str:
        url = self._url(href)
        headers = {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}
        response = self._session.write("PUT", url, item, headers)
        if response.status == HTTPStatus.PRECONDITION_FAILED:
            self._cache.forget_token(self._calendar_url())
            raise PreconditionFailed(f"{public_url(url)}: already exists (412 Precondition Failed)",
                                     status=412)
        if response.status not in (200, 201, 204):
            raise self._session.status_error(url, response)
        return self._written(href, response.headers.get("ETag") or self._etag_by_propfind(url))

    @_noting_failure
    def update(self, href: str, item: str, etag: str) -> str:
        url = self._url(href)
        headers = {"If-Match": etag, "Content-Type": "text/calendar; charset=utf-8"}
        response = self._session.write("PUT", url, item, headers)
        if response.status in (404, 412):
            raise self._stale(url, response)
        if response.status not in (200, 201, 204):
            raise self._session.status_error(url, response)
        return self._written(href, response.headers.get("ETag") or self._etag_by_propfind(url))

    @_noting_failure
    def delete(self, href: str, etag: str) -> None:
        url = self._url(href)
        response = self._session.write("DELETE", url, "", {"If-Match": etag})
        if response.status in (404, 410, 412):
            raise self._stale(url, response)
        if response.status not in (200, 202, 204):
            raise self._session.status_error(url, response)
        self._cache.update_listing(self._calendar_url(), normalize_href(href), None)
        self._cache.forget_token(self._calendar_url())

    def _written(self, href: str, etag: str) -> str:
        self._cache.update_listing(self._calendar_url(), normalize_href(href), etag)
        self._cache.forget_token(self._calendar_url())
        return etag

    def _stale(self, url: str, response: Any) -> PreconditionFailed:
        """A write met a changed or missing object: the cached listing was stale, so the next
        `list()` starts from a full one."""
        self._cache.forget_token(self._calendar_url())
        return PreconditionFailed(
            f"{public_url(url)}: changed or removed since it was read "
            f"({response.status} {response.reason})", status=response.status)
