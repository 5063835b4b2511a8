"""Any RFC 4791 (CalDAV) server, through the caldav library.

caldav finds the principal and the calendar (and creates the calendar when it is missing); the
object requests themselves are sent through the client's authenticated `request` method, because
caldav's own `add_todo` sends no `If-None-Match: *` (see FIELD-NOTES.md). Steady state costs one
PROPFIND per `list()`, one request per `get`/`create`/`update`/`delete`.

Hrefs are absolute paths on the server, normalised (each segment unquoted and quoted again the
same way) so that `href_for` and `list` agree whatever quoting the server uses. Messages name
the URL without credentials and never contain the password.
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from typing import Any, Mapping
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import caldav
from caldav.lib import error as caldav_error
from lxml import etree

from syncd.errors import PreconditionFailed, TargetError
from syncd.targets.local import safe_name

log = logging.getLogger(__name__)

COMPONENTS = {"todo": "VTODO", "event": "VEVENT"}
_DAV = "{DAV:}"
_PROPFIND_ETAGS = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getetag/></d:prop></d:propfind>'
)
_PROPFIND_ETAG = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>'
)
_PCHAR_SAFE = "!$&'()*+,;=:@-._~"  # RFC 3986 pchar, kept literal in every href


def normalize_href(href: str) -> str:
    """The path of `href` (which may be a full URL), every segment quoted the same way."""
    path = urlsplit(href).path if "://" in href else href
    return "/".join(quote(unquote(segment), safe=_PCHAR_SAFE) for segment in path.split("/"))


def _public_url(url: str) -> str:
    """`url` without any user name or password in it, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return slug or safe_name(name)[:16]


class _Transient(Exception):
    """A failure worth retrying for a read: a connection error or a 5xx status."""

    def __init__(self, error: TargetError):
        self.error = error


class CalDAVTarget:
    retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0)  # reads only; writes are never retried

    def __init__(
        self,
        url: str,
        calendar: str | None,
        username: str | None,
        password: str | None,
        verify: bool = True,
        timeout: float = 30.0,
        component: str = "todo",
    ) -> None:
        if component not in COMPONENTS:
            raise TargetError(f"calendar component must be one of {sorted(COMPONENTS)}")
        if not re.match(r"https?://[^/]", url or ""):
            raise TargetError(f"{_public_url(url or '')!r}: not an http:// or https:// URL")
        self.url = _public_url(url)  # never the credentials a URL may carry
        self.calendar_name = calendar
        self.component = component
        self.requests = 0  # every HTTP request sent, discovery included
        self.description = self.url + (f" ({calendar})" if calendar else "")
        owner = self

        class _CountingClient(caldav.DAVClient):  # type: ignore[misc]
            def request(self, *args: Any, **kwargs: Any) -> Any:
                owner.requests += 1
                return super().request(*args, **kwargs)

        self._client = _CountingClient(
            url=url,
            username=username,
            password=password,
            # Basic straight away: no unauthenticated first request (FIELD-NOTES).
            auth_type="basic" if username or urlsplit(url).username else None,
            ssl_verify_cert=verify,
            timeout=timeout,  # type: ignore[arg-type]
            enable_rfc6764=False,
        )
        self._collection: str | None = None  # absolute URL of the calendar collection
        self._origin = ""  # scheme://host[:port], joined with an href to make a URL

    # -- setup ---------------------------------------------------------------------------------

    def _calendar_url(self) -> str:
        if self._collection is None:
            collection = str(self._client.url) if self.calendar_name is None else self._find()
            if not collection.endswith("/"):
                collection += "/"
            parts = urlsplit(collection)
            self._origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
            self._collection = collection
            self.description = _public_url(collection)
        return self._collection

    def _find(self) -> str:
        """The calendar named `self.calendar_name`, created if the principal has none."""
        name = self.calendar_name
        assert name is not None
        where = _public_url(self.url)
        try:
            principal = self._client.get_principal()
            calendars = principal.get_calendars()
            for calendar in calendars:
                if calendar.get_display_name() == name:
                    log.debug("calendar %r found at %s", name, calendar.url)
                    return str(calendar.url)
            # The collection syncd made earlier, renamed since in a calendar app: keep using it.
            cal_id = f"syncd-{_slug(name)}"
            for calendar in calendars:
                if str(calendar.url).rstrip("/").endswith("/" + cal_id):
                    log.info("calendar %r not found by name; using %s, which syncd created",
                             name, _public_url(str(calendar.url)))
                    return str(calendar.url)
            kind = COMPONENTS[self.component]
            try:
                calendar = principal.make_calendar(
                    name=name, cal_id=cal_id, supported_calendar_component_set=[kind])
            except caldav_error.DAVError as error:
                if isinstance(error, caldav_error.AuthorizationError):
                    raise
                raise TargetError(
                    f"{where}: cannot create the calendar {name!r} at {cal_id}/ "
                    f"({_dav_reason(error)}); create it yourself or name an existing one"
                ) from error
            log.info("created calendar %r at %s", name, _public_url(str(calendar.url)))
            return str(calendar.url)
        except caldav_error.AuthorizationError as error:
            raise self._auth_error(where, error) from error
        except caldav_error.DAVError as error:
            raise TargetError(f"{where}: {_dav_reason(error)}") from error
        except etree.XMLSyntaxError as error:
            raise TargetError(f"{where}: the server sent malformed XML ({error})") from error
        except OSError as error:
            raise TargetError(f"{where}: cannot connect: {_connection_reason(error)}") from error

    # -- HTTP ----------------------------------------------------------------------------------

    def _url(self, href: str) -> str:
        self._calendar_url()
        return self._origin + normalize_href(href)

    def _send(self, method: str, url: str, body: str = "",
              headers: Mapping[str, str] | None = None) -> Any:
        """One request; a failure to get any answer becomes a TargetError (or _Transient)."""
        where = _public_url(url)
        try:
            return self._client.request(url, method, body, dict(headers or {}))
        except caldav_error.AuthorizationError as error:
            raise self._auth_error(where, error) from error
        except caldav_error.RateLimitError as error:
            failure = TargetError(f"{where}: {error.status or 429} rate limited by the server")
            raise (_Transient(failure) if (error.status or 429) >= 500 else failure) from error
        except caldav_error.DAVError as error:
            raise TargetError(f"{where}: {_dav_reason(error)}") from error
        except etree.XMLSyntaxError as error:
            raise TargetError(f"{where}: the server sent malformed XML ({error})") from error
        except OSError as error:
            failure = TargetError(f"{where}: cannot connect: {_connection_reason(error)}")
            if _is_connection_error(error):
                raise _Transient(failure) from error
            raise failure from error

    def _auth_error(self, where: str, error: Any) -> TargetError:
        status = getattr(error, "status", None) or 401
        reason = getattr(error, "reason", "") or ("Unauthorized" if status == 401 else "Forbidden")
        if status == 401:
            return TargetError(f"{where}: {status} {reason}: authentication failed; "
                               "check the user name and password")
        return TargetError(f"{where}: {status} {reason}: permission denied")

    def _write(self, method: str, url: str, body: str = "",
               headers: Mapping[str, str] | None = None) -> Any:
        try:
            return self._send(method, url, body, headers)
        except _Transient as transient:
            raise transient.error from transient.__cause__

    def _read(self, method: str, url: str, body: str = "",
              headers: Mapping[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        """A read, retried on connection errors and 5xx answers with a short backoff."""
        for delay in (*self.retry_delays, None):
            try:
                response = self._send(method, url, body, headers)
                if response.status >= 500 and delay is not None:
                    raise _Transient(_status_error(url, response))
            except _Transient as transient:
                if delay is None:
                    raise transient.error from transient.__cause__
                log.warning("%s; retrying in %.1f s", transient.error, delay)
                time.sleep(delay)
                continue
            if response.status not in ok:
                raise _status_error(url, response)
            return response
        raise AssertionError("unreachable")

    def _etag_by_propfind(self, url: str) -> str:
        response = self._read("PROPFIND", url, _PROPFIND_ETAG, {"Depth": "0"}, ok=(207,))
        for _, etag, _ in _responses(response, url):
            if etag:
                return etag
        raise TargetError(f"{_public_url(url)}: the server gave no etag")

    # -- the Target contract -------------------------------------------------------------------

    def href_for(self, uid: str) -> str:
        return normalize_href(urlsplit(self._calendar_url()).path + quote(safe_name(uid), safe="")
                              + ".ics")

    def list(self) -> dict[str, str]:
        collection = self._calendar_url()
        response = self._read("PROPFIND", collection, _PROPFIND_ETAGS, {"Depth": "1"}, ok=(207,))
        own = normalize_href(urlsplit(collection).path)
        listing: dict[str, str] = {}
        for href, etag, is_collection in _responses(response, collection):
            if is_collection or href.rstrip("/") == own.rstrip("/"):
                continue
            if not etag:
                log.warning("%s: the server gave no etag; ignored", self._origin + href)
                continue
            listing[href] = etag
        return listing

    def get(self, href: str) -> tuple[str, str]:
        url = self._url(href)
        response = self._read("GET", url)
        text = _body_text(response)
        etag = response.headers.get("ETag") or self._etag_by_propfind(url)
        return text, etag

    def create(self, href: str, item: str) -> str:
        url = self._url(href)
        headers = {"If-None-Match": "*", "Content-Type": "text/calendar; charset=utf-8"}
        response = self._write("PUT", url, item, headers)
        if response.status == 412:
            raise PreconditionFailed(f"{_public_url(url)}: already exists (412 Precondition Failed)")
        if response.status not in (200, 201, 204):
            raise _status_error(url, response)
        return response.headers.get("ETag") or self._etag_by_propfind(url)

    def update(self, href: str, item: str, etag: str) -> str:
        url = self._url(href)
        headers = {"If-Match": etag, "Content-Type": "text/calendar; charset=utf-8"}
        response = self._write("PUT", url, item, headers)
        if response.status in (404, 412):
            raise PreconditionFailed(
                f"{_public_url(url)}: changed or removed since it was read "
                f"({response.status} {response.reason})")
        if response.status not in (200, 201, 204):
            raise _status_error(url, response)
        return response.headers.get("ETag") or self._etag_by_propfind(url)

    def delete(self, href: str, etag: str) -> None:
        url = self._url(href)
        response = self._write("DELETE", url, "", {"If-Match": etag})
        if response.status in (404, 410, 412):
            raise PreconditionFailed(
                f"{_public_url(url)}: changed or removed since it was read "
                f"({response.status} {response.reason})")
        if response.status not in (200, 202, 204):
            raise _status_error(url, response)


# -- helpers -----------------------------------------------------------------------------------


def _status_error(url: str, response: Any) -> TargetError:
    return TargetError(f"{_public_url(url)}: {response.status} {response.reason or ''}".rstrip())


def _dav_reason(error: Any) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None)
    if not reason or reason == "no reason":
        try:
            reason = HTTPStatus(status).phrase if status else type(error).__name__
        except ValueError:
            reason = type(error).__name__
    return f"{status} {reason}" if status else str(reason)


def _is_connection_error(error: OSError) -> bool:
    from caldav.lib.http_sync import requests as http

    read_timeout = getattr(http.exceptions, "ReadTimeout", ())
    return isinstance(error, http.exceptions.ConnectionError) and not isinstance(
        error, read_timeout)


def _connection_reason(error: BaseException) -> str:
    """The innermost cause of a connection failure, e.g. 'Connection refused'."""
    seen: set[int] = set()
    current: BaseException | None = error
    reason = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            reason = current.strerror
        current = current.__cause__ or current.__context__
    if not reason:
        text = str(error)
        match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        reason = match.group(1) if match else (text or type(error).__name__)
    return reason


def _body_text(response: Any) -> str:
    raw = getattr(response, "_raw_body", None)  # the bytes as sent, CRLF kept
    if isinstance(raw, bytes) and raw:
        return raw.decode("utf-8", errors="replace")
    return response.raw  # type: ignore[no-any-return]


def _responses(response: Any, url: str) -> list[tuple[str, str, bool]]:
    """(normalised href, etag, is a collection) of every resource in a 207 Multi-Status."""
    tree = response.tree
    if tree is None or tree.tag != f"{_DAV}multistatus":
        raise TargetError(f"{_public_url(url)}: the server did not answer with a multistatus")
    found = []
    for element in tree.iter(f"{_DAV}response"):
        href = element.findtext(f"{_DAV}href")
        if not href:
            continue
        etag, is_collection = "", False
        for propstat in element.iter(f"{_DAV}propstat"):
            status = propstat.findtext(f"{_DAV}status") or ""
            if " 200 " not in f"{status} ":
                continue
            etag = (propstat.findtext(f"{_DAV}prop/{_DAV}getetag") or "").strip() or etag
            resourcetype = propstat.find(f"{_DAV}prop/{_DAV}resourcetype")
            if resourcetype is not None and len(resourcetype):
                is_collection = True
        found.append((normalize_href(href.strip()), etag, is_collection))
    return found
