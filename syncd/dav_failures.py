"""What a failed DAV request or a wrong answer means, as words for one message (pure, but for
the exception types of the HTTP library it inspects)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from caldav.lib.http_sync import requests as http
from lxml import etree

DAV = "{DAV:}"

# What a server's DAV:error precondition (RFC 4918 §16, RFC 4791 §5.3.2.1, RFC 6352) means here.
PRECONDITIONS = {
    "unique-scheduling-object-resource": "an object with this UID is already in another "
                                         "calendar of this account",
    "no-uid-conflict": "an object with this UID is already in the calendar, or in another "
                       "calendar of this account",
    "supported-calendar-component": "the calendar does not accept this kind of object "
                                    "(VTODO or VEVENT: see calendar.component)",
    "supported-calendar-data": "the server does not accept this kind of calendar data",
    "valid-calendar-data": "the server finds the object invalid iCalendar",
    "valid-calendar-object-resource": "the server refuses it as a calendar object",
    "calendar-collection-location-ok": "a calendar cannot be created here",
    "valid-address-data": "the server finds the card invalid",
    "max-resource-size": "the object is larger than the server accepts",
    "need-privileges": "permission denied",
    "valid-sync-token": "the sync token is no longer valid",
    "supported-report": "the server does not support this report",
}


def body_text(response: Any) -> str:
    """An answer's body: the bytes as sent (CRLF kept) decoded, else caldav's text of them."""
    raw = getattr(response, "_raw_body", None)
    if isinstance(raw, bytes) and raw:
        return raw.decode("utf-8", errors="replace")
    text = getattr(response, "raw", "")
    return text if isinstance(text, str) else ""


def precondition(body: bytes | str | None) -> str:
    """What the DAV:error precondition in a failure's body says, with the href it names (the
    object in the way); "" when the body has none."""
    if not body:
        return ""
    try:
        tree = etree.fromstring(body.encode() if isinstance(body, str) else body,
                                etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return ""
    if tree.tag != f"{DAV}error" or not len(tree):
        return ""
    said = []
    for element in tree:
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name == "responsedescription":  # Cyrus puts its prose here; not a precondition
            continue
        text = PRECONDITIONS.get(name, f"the server's precondition {name} failed")
        href = (element.findtext(f".//{DAV}href") or "").strip()
        said.append(f"{text} ({name}{f', {href}' if href else ''})")
    return "; ".join(said)


def not_dav(response: Any, service: str) -> str:
    """Why an answer is not the WebDAV one that was due, for a message."""
    text = body_text(response)
    head = text[:512].lower()
    kind = (response.headers.get("Content-Type") or "").lower()
    if not text.strip():
        return f"an empty answer where a WebDAV multistatus was due; is this the {service} URL?"
    if "html" in kind or "<html" in head or "<!doctype html" in head:
        return f"an HTML page, not a WebDAV multistatus: is this the {service} URL?"
    return f"not a WebDAV multistatus; is this the {service} URL?"


def dav_reason(error: Any) -> str:
    status = getattr(error, "status", None)
    reason = getattr(error, "reason", None)
    if not reason or reason == "no reason":
        try:
            reason = HTTPStatus(status).phrase if status else type(error).__name__
        except ValueError:
            reason = type(error).__name__
    return f"{status} {reason}" if status else str(reason)


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def is_timeout(error: OSError) -> bool:
    return isinstance(error, (TimeoutError, getattr(http.exceptions, "Timeout", TimeoutError)))


def is_connection_error(error: OSError, timeouts: bool = False) -> bool:
    """A failure to connect; a connect timeout only with `timeouts`."""
    if not timeouts and is_timeout(error):
        return False
    if isinstance(error, http.exceptions.SSLError):  # a bad certificate stays bad: no retry
        return False
    return isinstance(error, http.exceptions.ConnectionError)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and what caused it, outermost first (each once, however the chain loops)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def dropped(error: BaseException) -> bool:
    """The server took the connection and then closed or reset it without an answer."""
    return any(isinstance(cause, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))
               for cause in _causes(error))


def connection_reason(error: BaseException) -> str:
    """The innermost cause of a connection failure, e.g. 'Connection refused'."""
    reason = ""
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.strerror:
            reason = cause.strerror
    if not reason:
        text = str(error)
        match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        reason = match.group(1) if match else (text or type(error).__name__)
    return reason
