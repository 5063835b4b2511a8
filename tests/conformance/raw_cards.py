"""What a vCard file holds, read without syncd's reader: the text values the conformance suite
requires syncd to keep (FN, EMAIL, NOTE, CATEGORIES), per top-level card.

Deliberately simpler than the reader, so that it checks it rather than repeats it: lines are
split at CR CR LF, CR LF, CR or LF; a line starting with a space or tab continues the previous
one, and so does any line after a quoted-printable line ending in `=`; a card nested in a card
(a vCard 2.1 AGENT) belongs to its parent and its own values are not asked for; a value is
quoted-printable-decoded when its ENCODING says so, then decoded in its CHARSET (or UTF-8,
else Latin-1) by Python's codec of that name, then `\\n` `\\,` `\\;` `\\\\` are unescaped
(a CATEGORIES value is first cut at its unescaped commas).
Comparison ignores whitespace and backslashes (see `same_text`), so that folding, trimming and
the escapes of other vCard versions do not count as lost text; a missing word does.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

_LINE_END = re.compile(rb"\r\r\n|\r\n|\r|\n")
_KEYWORD = re.compile(rb"(?i)^(?:[A-Za-z0-9-]+\.)?(BEGIN|END):VCARD[ \t]*$")
_QP = re.compile(rb"=([0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"\\([nN,;\\])")
_NOISE = re.compile(r"[\s\\]+")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
TEXT_PROPERTIES = ("FN", "EMAIL", "NOTE", "CATEGORIES")


@dataclass
class RawCard:
    line: int  # of its BEGIN:VCARD
    closed: bool = False
    values: dict[str, list[str]] = field(default_factory=lambda: {n: [] for n in TEXT_PROPERTIES})
    kind: str = ""
    no_colon: list[int] = field(default_factory=list)  # lines that are no content line

    @property
    def is_group(self) -> bool:
        return self.kind.strip().lower() == "group"


def _logical_lines(data: bytes) -> list[tuple[int, bytes]]:
    found: list[tuple[int, bytes]] = []
    for number, line in enumerate(_LINE_END.split(data), 1):
        if found:
            previous = found[-1][1]
            head = previous.split(b":", 1)[0].upper()
            if b"QUOTED-PRINTABLE" in head and previous.endswith(b"="):
                found[-1] = (found[-1][0], previous[:-1] + line)
                continue
            if line[:1] in (b" ", b"\t"):
                found[-1] = (found[-1][0], previous + line[1:])
                continue
        found.append((number, line))
    return found


def _params(head: bytes) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in head.split(b";")[1:]:
        key, equals, value = part.decode("ascii", "replace").partition("=")
        if equals:
            params[key.strip().upper()] = value.strip().strip('"')
        elif key.strip().upper() == "QUOTED-PRINTABLE":
            params["ENCODING"] = "QUOTED-PRINTABLE"
    return params


def _decode(value: bytes, params: dict[str, str]) -> str:
    if params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
        value = _QP.sub(lambda m: bytes.fromhex(m.group(1).decode()), value)
    charset = params.get("CHARSET", "utf-8")
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        text = value.decode(charset)
    except UnicodeDecodeError:
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
    return text


def unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def read_raw(path: Path) -> tuple[list[RawCard], int]:
    """The top-level cards of a file, and how many non-blank lines lie outside any card."""
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    cards: list[RawCard] = []
    outside = 0
    depth = 0
    for number, line in _logical_lines(data):
        keyword = _KEYWORD.match(line.strip(b" \t\x00"))
        if keyword:
            if keyword.group(1).upper() == b"BEGIN":
                depth += 1
                if depth == 1:
                    cards.append(RawCard(number))
            elif depth:
                depth -= 1
                if depth == 0:
                    cards[-1].closed = True
            continue
        if depth == 0:
            outside += bool(line.strip())
            continue
        if depth > 1:
            continue
        head, colon, value = line.partition(b":")
        if not colon:
            if line.strip():
                cards[-1].no_colon.append(number)
            continue
        name = head.split(b";", 1)[0].rpartition(b".")[2].decode("ascii", "replace").upper()
        if name == "CATEGORIES":  # a list: cut at the commas that are not escaped
            items = _UNESCAPED_COMMA.split(_decode(value, _params(head)))
            cards[-1].values[name] += [unescape(item) for item in items if item.strip()]
        elif name in TEXT_PROPERTIES:
            cards[-1].values[name].append(unescape(_decode(value, _params(head))))
        elif name in ("KIND", "X-ADDRESSBOOKSERVER-KIND"):
            cards[-1].kind = value.decode("ascii", "replace")
    return cards, outside


def same_text(text: str) -> str:
    """`text` as compared: without whitespace and backslashes."""
    return _NOISE.sub("", text)
