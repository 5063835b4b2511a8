"""WebDAV plumbing shared by the CalDAV target and the CardDAV source.

`DavSession` is caldav's authenticated `DAVClient` (Basic straight away, so no unauthenticated
first request; Digest when the server's 401 offers only that), counting every request and
turning every failure into one message that names the URL without credentials and the status,
never a password or a header; reads are retried with a short backoff on connection errors and
5xx answers, writes never are.

`sync_collection` is the RFC 6578 REPORT (Depth 0, sync-level 1, getetag only): the hrefs
changed and removed since a token, following truncated (507) pages. A server that refuses it
raises `SyncRefused`; the callers fall back to a full listing and log that once per process
(`note_refusal`), and a server that does not support it at all is not asked again in this
process, nor for a week in later ones when the caller gives a cache (the state file).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from caldav.davclient import DAVClient
from caldav.lib import error as caldav_error
from lxml import etree

from syncd.dav_failures import (
    body_text,
    connection_reason,
    dav_reason,
    dropped,
    is_connection_error,
    is_timeout,
    not_dav,
    phrase,
    precondition,
)

log = logging.getLogger(__name__)

DAV = "{DAV:}"
CARDDAV = "{urn:ietf:params:xml:ns:carddav}"
XML = {"Content-Type": "application/xml; charset=utf-8"}
_PCHAR_SAFE = "!$&'()*+,;=:@-._~"  # RFC 3986 pchar, kept literal in every href
# Statuses of a refused sync-collection (RFC 6578 §3.2 and what servers send instead).
_TOKEN_REFUSALS = frozenset({403, 409, 412, 418, 507})
_REPORT_REFUSALS = frozenset({400, 403, 405, 409, 412, 415, 418, 422, 501, 507})
MAX_SYNC_PAGES = 50


def normalize_href(href: str) -> str:
    """The path of `href` (which may be a full URL), every segment quoted the same way."""
    path = urlsplit(href).path if "://" in href else href
    return "/".join(quote(unquote(segment), safe=_PCHAR_SAFE) for segment in path.split("/"))


def public_url(url: str) -> str:
    """`url` without any user name or password in it, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_logged: set[tuple[str, ...]] = set()


def log_once(level: int, key: tuple[str, ...], message: str, *args: object) -> None:
    """Log `message` the first time `key` is seen in this process only."""
    if key not in _logged:
        _logged.add(key)
        log.log(level, message, *args)


# -- the session -------------------------------------------------------------------------------

# Builds the caller's exception: (message, status=, retry_after=, connection=) -> Exception.
ErrorFactory = Callable[..., Exception]


class Transient(Exception):
    """A failure worth retrying for a read: a connection error or a 5xx status."""

    def __init__(self, error: Exception):
        self.error = error


class _DigestOffered(Exception):
    """A Basic attempt met a 401 that offers Digest only: the request is sent again."""


class SyncRefused(Exception):
    """The server refused a sync-collection REPORT: an expired or unknown token (`token`), or
    no support for the report at all."""

    def __init__(self, url: str, status: int | None, reason: str, token: bool):
        self.url = public_url(url)
        self.status = status
        self.token = token  # a token was sent and may be what the server refused
        super().__init__(f"{self.url}: sync-collection refused ({f'{status} ' if status else ''}"
                         f"{reason})")


class OnSession:
    """For the classes that talk through a `DavSession` (`self._session`): its request count
    and read retry delays, as their own."""

    _session: DavSession

    @property
    def requests(self) -> int:
        """Every HTTP request sent, discovery included."""
        return self._session.requests

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return self._session.retry_delays

    @retry_delays.setter
    def retry_delays(self, delays: tuple[float, ...]) -> None:
        self._session.retry_delays = delays


class DavSession:
    retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0)  # reads only; writes are never retried

    def __init__(self, url: str, username: str | None, password: str | None, *, verify: bool,
                 timeout: float, error: ErrorFactory, service: str = "CalDAV") -> None:
        self.url = public_url(url)  # never the credentials a URL may carry
        self.service = service  # for messages: "CalDAV" or "CardDAV"
        self.error = error
        self.timeout = timeout
        self.requests = 0  # every HTTP request sent
        session = self

        class _CountingClient(DAVClient):
            def request(self, *args: Any, **kwargs: Any) -> Any:
                session.requests += 1
                try:
                    return super().request(*args, **kwargs)
                except _DigestOffered:  # once per process: Digest from now on
                    session.requests += 1
                    return super().request(*args, **kwargs)

            def _raise_authorization_error(self, url: str, response: Any) -> Any:
                # Basic goes first (no unauthenticated request, and Radicale delays every 401
                # by about a second); a server whose 401 offers Digest only (Baikal's default,
                # sabre/dav's Digest backend) gets Digest instead, asked for by its challenge.
                offered = self.extract_auth_types(response.headers.get("WWW-Authenticate", ""))
                if (response.status_code == HTTPStatus.UNAUTHORIZED and self.auth_type == "basic"
                        and "digest" in offered and "basic" not in offered):
                    log.debug("%s offers Digest authentication only: using it", session.url)
                    self.auth_type, self.auth = "digest", None
                    self.build_auth_object(["digest"])
                    raise _DigestOffered
                return super()._raise_authorization_error(url, response)

        # Credentials written in the URL are handed over apart from it, so that caldav never
        # holds (and logs, at DEBUG) a URL with a password in it.
        parts = urlsplit(url)
        username = username or (unquote(parts.username) if parts.username else None)
        password = password or (unquote(parts.password) if parts.password else None)
        self.client = _CountingClient(
            url=self.url,
            username=username,
            password=password,
            # Basic straight away: no unauthenticated first request (FIELD-NOTES).
            auth_type="basic" if username else None,
            ssl_verify_cert=verify,
            timeout=timeout,  # type: ignore[arg-type]
            enable_rfc6764=False,
        )

    def send(self, method: str, url: str, body: str = "",
             headers: Mapping[str, str] | None = None) -> Any:
        """One request; a failure to get any answer raises the caller's error (or Transient)."""
        where = public_url(url)
        try:
            return self.client.request(url, method, body, dict(headers or {}))
        except caldav_error.AuthorizationError as error:
            preconditions = getattr(error, "preconditions", None) or ()
            if {f"{DAV}valid-sync-token", f"{DAV}supported-report"} & set(preconditions):
                refused_token = f"{DAV}valid-sync-token" in preconditions
                raise SyncRefused(url, 403, "Forbidden", refused_token) from error
            raise self.auth_error(where, error) from error
        except caldav_error.RateLimitError as error:
            status = error.status or 429
            wait = error.retry_after_seconds
            reason = ("rate limited by the server" if status == HTTPStatus.TOO_MANY_REQUESTS
                      else phrase(status))
            failure = self.error(
                f"{where}: {status} {reason}" + (f" (retry after {wait:g} s)" if wait else ""),
                status=status, retry_after=wait)
            if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                raise Transient(failure) from error
            raise failure from error
        except caldav_error.DAVError as error:
            raise self.error(f"{where}: {dav_reason(error)}",
                             status=getattr(error, "status", None)) from error
        except etree.XMLSyntaxError as error:
            raise self.error(f"{where}: the server sent malformed XML ({error})") from error
        except OSError as error:
            if is_timeout(error):  # not retried at once: each retry would wait as long
                what = ("cannot connect within" if is_connection_error(error, timeouts=True)
                        else "no answer within")
                raise self.error(f"{where}: {what} {self.timeout:g} s (the timeout); the server "
                                 "is stalled or overloaded", connection=True) from error
            what = "the connection was dropped before an answer" if dropped(error) else \
                "cannot connect"
            failure = self.error(f"{where}: {what}: {connection_reason(error)}", connection=True)
            if is_connection_error(error):  # not a timeout: worth an immediate retry
                raise Transient(failure) from error
            raise failure from error

    def auth_error(self, where: str, error: Any) -> Exception:
        status = getattr(error, "status", None) or 401
        unauthorized = status == HTTPStatus.UNAUTHORIZED
        reason = getattr(error, "reason", "") or ("Unauthorized" if unauthorized else "Forbidden")
        if reason == "None given":
            reason = HTTPStatus(status).phrase
        if unauthorized:
            return self.error(f"{where}: {status} {reason}: authentication failed; "
                              "check the user name and password", status=status)
        said = precondition(getattr(error, "body", None))
        return self.error(f"{where}: {status} {reason}: {said or 'permission denied'}",
                          status=status)

    def write(self, method: str, url: str, body: str = "",
              headers: Mapping[str, str] | None = None) -> Any:
        try:
            return self.send(method, url, body, headers)
        except Transient as transient:
            raise transient.error from transient.__cause__

    def read(self, method: str, url: str, body: str = "",
             headers: Mapping[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> Any:
        """A read, retried on connection errors and 5xx answers (those not in `ok`) with a short
        backoff; not when the server asked for a longer wait (a 503 with Retry-After): that is
        the daemon's backoff to honour."""
        for delay in (*self.retry_delays, None):
            try:
                response = self.send(method, url, body, headers)
                failing = response.status >= HTTPStatus.INTERNAL_SERVER_ERROR
                if failing and response.status not in ok and delay is not None:
                    raise Transient(self.status_error(url, response))
            except Transient as transient:
                asked = getattr(transient.error, "retry_after", None) or 0.0
                if delay is None or asked > delay:
                    raise transient.error from transient.__cause__
                log.warning("%s; retrying in %.1f s", transient.error, delay)
                time.sleep(delay)
                continue
            if response.status not in ok:
                raise self.status_error(url, response, ok)
            return response
        raise AssertionError("unreachable")

    def status_error(self, url: str, response: Any, expected: tuple[int, ...] = ()) -> Exception:
        reason = response.reason or ""
        message = f"{public_url(url)}: {response.status} {reason}".rstrip()
        if HTTPStatus.OK <= response.status < HTTPStatus.MULTIPLE_CHOICES and expected:
            # A success, but not the one a DAV server gives: a web page, a login portal, ...
            message += (f" instead of {expected[0]} {phrase(expected[0])}: "
                        + not_dav(response, self.service))
        elif said := precondition(body_text(response)):
            message += f": {said}"
        return self.error(message, status=response.status)

    def multistatus(self, response: Any, url: str) -> list[Member]:
        """The members of a 207 answer; anything else is the caller's error naming the URL."""
        tree = response.tree
        if tree is None or tree.tag != f"{DAV}multistatus":
            raise self.error(f"{public_url(url)}: {response.status} {phrase(response.status)}: "
                             + not_dav(response, self.service), status=response.status)
        return members(tree)


# -- multistatus -------------------------------------------------------------------------------


@dataclass
class Member:
    """One `<response>` of a multistatus."""

    href: str  # normalised path
    status: int  # of the response, or 200 when it has a 200 propstat
    etag: str = ""
    props: dict[str, Any] = field(default_factory=dict)  # tag -> element, from 200 propstats

    @property
    def is_collection(self) -> bool:
        resourcetype = self.props.get(f"{DAV}resourcetype")
        return resourcetype is not None and len(resourcetype) > 0

    def text(self, tag: str) -> str:
        element = self.props.get(tag)
        return (element.text or "") if element is not None else ""


def _status_code(text: str | None) -> int:
    match = re.search(r"\s(\d{3})(\s|$)", f" {text or ''} ")
    return int(match.group(1)) if match else 0


def members(tree: Any) -> list[Member]:
    found = []
    for element in tree.iterchildren(f"{DAV}response"):
        href = (element.findtext(f"{DAV}href") or "").strip()
        if not href:
            continue
        member = Member(normalize_href(href), _status_code(element.findtext(f"{DAV}status")))
        for propstat in element.iterchildren(f"{DAV}propstat"):
            if _status_code(propstat.findtext(f"{DAV}status")) != HTTPStatus.OK:
                continue
            member.status = 200
            prop = propstat.find(f"{DAV}prop")
            for child in prop if prop is not None else ():
                member.props[child.tag] = child
        member.etag = member.text(f"{DAV}getetag").strip()
        found.append(member)
    return found


# -- sync-collection ---------------------------------------------------------------------------


@dataclass
class SyncResult:
    token: str
    changed: dict[str, str]  # href -> etag
    removed: set[str]


def sync_body(token: str | None) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:">'
            f"<d:sync-token>{escape(token or '')}</d:sync-token><d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/></d:prop></d:sync-collection>")


def sync_collection(session: DavSession, url: str, token: str | None,
                    cache: Any = None) -> SyncResult:
    """What changed in the collection at `url` since `token` (everything when None), in one
    REPORT unless the server truncates its answer. With `cache` (a `ListingCache`), a server
    found without the report is remembered for `REPROBE` days, so that a one-shot `syncd sync`
    sends it only its fallback listing."""
    if url in _unsupported:
        raise SyncRefused(url, None, "not supported, found earlier", False)
    key = f"no sync-collection {public_url(url)}"
    found = cache.discovered(key) if cache is not None else None
    if found and _days_since(found) < REPROBE:
        _unsupported.add(url)
        raise SyncRefused(url, None, f"not supported, found on {found}", False)
    try:
        return _sync_collection(session, url, token)
    except SyncRefused as refusal:
        if cache is not None and not refusal.token and refusal.status is not None:
            cache.remember_discovered(key, dt.date.today().isoformat())
        raise


REPROBE = 7  # days


def _days_since(day: str) -> int:
    try:
        return (dt.date.today() - dt.date.fromisoformat(day)).days
    except ValueError:
        return REPROBE


def _sync_collection(session: DavSession, url: str, token: str | None) -> SyncResult:
    own = normalize_href(urlsplit(url).path).rstrip("/")
    changed: dict[str, str] = {}
    removed: set[str] = set()
    current = token
    for _ in range(MAX_SYNC_PAGES):
        response = session.read("REPORT", url, sync_body(current), {"Depth": "0", **XML},
                                ok=(207, *_REPORT_REFUSALS))
        if response.status != HTTPStatus.MULTI_STATUS:
            refused = bool(current) and response.status in _TOKEN_REFUSALS
            raise SyncRefused(url, response.status, response.reason or "", refused)
        found = session.multistatus(response, url)
        new = (response.tree.findtext(f"{DAV}sync-token") or "").strip()
        if not new:
            raise SyncRefused(url, 207, "no sync-token in the answer", False)
        truncated = False
        for member in found:
            if member.href.rstrip("/") == own:
                truncated = truncated or member.status == HTTPStatus.INSUFFICIENT_STORAGE
                continue
            if member.href.endswith("/"):
                continue  # a member collection
            if member.status == HTTPStatus.NOT_FOUND and not member.etag:
                changed.pop(member.href, None)
                removed.add(member.href)
            elif member.etag:
                changed[member.href] = member.etag
                removed.discard(member.href)
            else:
                log.warning("%s: the server gave no etag; ignored", session.url + member.href)
        if not truncated:
            return SyncResult(new, changed, removed)
        if new == current:
            raise SyncRefused(url, 507, "truncated without a new sync-token", bool(token))
        current = new
    raise SyncRefused(url, 507, f"still truncated after {MAX_SYNC_PAGES} pages", bool(token))


_unsupported: set[str] = set()


def note_refusal(refusal: SyncRefused, fallback: str) -> None:
    """Log a refused sync-collection once per process and collection; a server without the
    report is not asked again in this process."""
    if refusal.token:
        log_once(logging.WARNING, ("token", refusal.url),
                 "%s: the server refused the sync token (%s); %s, and start again from a full "
                 "listing next time", refusal.url, refusal.status, fallback)
    else:
        _unsupported.add(refusal.url)
        # Said once, when found; a refusal remembered from an earlier run is only noted.
        log_once(logging.DEBUG if refusal.status is None else logging.WARNING,
                 ("unsupported", refusal.url),
                 "%s; the server does not support incremental reads: %s in every cycle",
                 refusal, fallback)

