"""Reading one vCard value (pure): escapes, quoted-printable, CHARSET, dates and names.

Charsets, as exporters use them: a file that is valid UTF-8 is text already. A file that is not
(a Shift_JIS phone export, a windows-1252 Outlook card) reaches the reader with the bytes that
are not UTF-8 kept as lone surrogates (`surrogateescape`), so that each value can be decoded
from its own bytes in its own CHARSET, 8-bit or quoted-printable, before its escapes are read
(a Shift_JIS character whose second byte is 0x5C is not a backslash escape). Bytes that are
not UTF-8 in a value without CHARSET are read as Latin-1, with one warning per file. Only the
text encodings real exporters write are honoured (`TEXT_CHARSETS`); any other CHARSET
(UTF-7, rot13, a name Python does not know) is one warning and the value is read as UTF-8,
unreadable bytes replaced.
"""

from __future__ import annotations

import codecs
import datetime as dt
import logging
import re
import sys
from functools import lru_cache
from typing import TYPE_CHECKING

from syncd.model import PartialDate

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}
_QP_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"  # 1980-04-15
    r"|([0-9]{4})([0-9]{2})([0-9]{2})"  # 19800415
    r"|--([0-9]{2})-?([0-9]{2})"  # --0415, --04-15
)
# A byte that was not UTF-8, kept as a lone surrogate by `surrogateescape`.
_UNDECODED = re.compile("[\udc80-\udcff]")
_CHARSET_PARAM = re.compile(r';[ \t]*CHARSET[ \t]*=[ \t]*"?([^;:,"]*)', re.IGNORECASE)
_TO_LATIN1 = {0xDC80 + byte: 0x80 + byte for byte in range(128)}

# Python codec names (`codecs.lookup(...).name`) of the text encodings exporters write, and the
# codec each is read with: the superset that phones and Windows actually write under that name.
TEXT_CHARSETS = {
    "utf-8": "utf-8", "ascii": "utf-8",
    **{f"iso8859-{n}": f"iso8859-{n}" for n in (*range(1, 12), *range(13, 17))},
    **{f"cp125{n}": f"cp125{n}" for n in range(9)},
    "shift_jis": "cp932", "cp932": "cp932", "euc_jp": "euc_jp",
    "gb2312": "gb18030", "gbk": "gb18030", "gb18030": "gb18030",
    "big5": "cp950", "cp950": "cp950", "big5hkscs": "big5hkscs",
    "koi8-r": "koi8-r", "koi8-u": "koi8-u",
}


def _as_latin1(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("syncd-latin-1", _as_latin1)


@lru_cache(maxsize=64)
def text_codec(charset: str) -> str | None:
    """The codec a CHARSET parameter is read with; None when it is not a text encoding
    exporters write."""
    try:
        name = codecs.lookup(charset.strip()).name
    except (LookupError, ValueError):
        return None
    return TEXT_CHARSETS.get(name)


def unescape(value: str) -> str:
    r"""RFC 6350 §3.4: `\n` `\N` newline, `\,` `\;` `\\`; any other escaped char is kept."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split at `separator` unless it is escaped; the parts keep their escapes."""
    if "\\" not in value:
        return value.split(separator)
    parts: list[str] = []
    start = 0
    index = 0
    length = len(value)
    while index < length:
        char = value[index]
        if char == "\\":
            index += 2
            continue
        if char == separator:
            parts.append(value[start:index])
            start = index + 1
        index += 1
    parts.append(value[start:])
    return parts


def _decode_bytes(data: bytes, codec: str) -> str:
    """`data` in `codec`; else UTF-8; else `codec` with the bytes it cannot read as Latin-1."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(codec, "syncd-latin-1")


def decode_value(value: str, params: Mapping[str, tuple[str, ...]]) -> str:
    """The value with quoted-printable and CHARSET undone; escapes still in place."""
    charsets = params.get("CHARSET")
    encodings = params.get("ENCODING")
    qp = bool(encodings) and encodings is not None and encodings[0].upper() == "QUOTED-PRINTABLE"
    if not qp and (charsets is None or value.isascii()):
        return value
    codec = text_codec(charsets[0]) if charsets else "utf-8"
    if not qp:
        try:
            value.encode("utf-8")
            return value  # every byte was UTF-8 (or the text came decoded): text already
        except UnicodeEncodeError:
            pass
    data = value.encode("utf-8", "surrogateescape")
    if qp:
        data = _QP_BYTE.sub(lambda m: bytes.fromhex(m.group(1).decode()), data)
    # Without a codec: warned when the property was read.
    text = data.decode("utf-8", "replace") if codec is None else _decode_bytes(data, codec)
    return text.replace("\r\n", "\n") if qp else text


def charset_problem(params: Mapping[str, tuple[str, ...]]) -> str | None:
    """What is wrong with the CHARSET of a property, or None."""
    charsets = params.get("CHARSET")
    if not charsets or text_codec(charsets[0]) is not None:
        return None
    return f"CHARSET {charsets[0]!r} is not a text encoding syncd reads; read as UTF-8"


def _labelled(head: str) -> bool:
    """Whether a content line's name and parameters give a CHARSET other than UTF-8 (whose
    value `decode_value` decodes from its bytes)."""
    match = _CHARSET_PARAM.search(head)
    return match is not None and text_codec(match.group(1)) != "utf-8"


def _head(text: str, start: int, end: int) -> str:
    """The name and parameters of the logical line that the physical line `start:end` is
    part of: across folds, and across quoted-printable soft breaks of a QP property only."""
    head = start
    while head > 0 and text[head] in " \t":
        head = text.rfind("\n", 0, head - 1) + 1
    folded = head
    while head > 0 and text[head - 2 : head] == "=\n":
        head = text.rfind("\n", 0, head - 1) + 1
        while head > 0 and text[head] in " \t":
            head = text.rfind("\n", 0, head - 1) + 1
    colon = text.find(":", head, end)
    found = text[head : colon if colon >= 0 else end]
    if head != folded and "QUOTED-PRINTABLE" not in found.upper():
        colon = text.find(":", folded, end)
        found = text[folded : colon if colon >= 0 else end]
    return found


try:
    _ONE_BYTE_OVERHEAD = sys.getsizeof("\xe9") - 1  # of a str stored one byte a character
except TypeError:
    _ONE_BYTE_OVERHEAD = -1


def _may_hold_surrogates(text: str) -> bool:
    """False when `text` surely holds no lone surrogate: it is ASCII, or (CPython, PEP 393)
    stored one byte a character, so every character is below U+0100. Both answers are
    immediate, where looking at the characters costs 2.5 ms a MB, as much as reading 30 cards."""
    if text.isascii():
        return False
    try:
        return sys.getsizeof(text) - len(text) != _ONE_BYTE_OVERHEAD
    except TypeError:  # an interpreter without getsizeof for str
        return True


def read_undecoded(text: str, source: str) -> str:
    """`text` (newlines normalised) with the bytes that were not UTF-8 read as Latin-1, with
    one warning, except in the lines of a property labelled with another CHARSET, which keep
    them for `decode_value`."""
    if not _may_hold_surrogates(text):
        return text
    try:
        text.encode("utf-8")
        return text  # no byte that was not UTF-8
    except UnicodeEncodeError:
        pass
    parts: list[str] = []
    done = 0
    warned = False
    match = _UNDECODED.search(text)
    while match is not None:
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if not _labelled(_head(text, start, end)):
            if not warned:
                warned = True
                line = text.count("\n", 0, start) + 1
                log.warning("%s:%d: not valid UTF-8; those bytes are read as Latin-1", source, line)
            parts += [text[done:start], text[start:end].translate(_TO_LATIN1)]
            done = end
        match = _UNDECODED.search(text, end)
    parts.append(text[done:])
    return "".join(parts)


def parse_date(value: str, params: Mapping[str, tuple[str, ...]], what: str, where: str,
               ) -> PartialDate | None:
    """A BDAY / ANNIVERSARY value (unescaped) to a `PartialDate`; None for empty or VALUE=text
    values (silently) and for anything that is not a calendar date (with a warning naming
    `what` at `where`)."""
    value = value.strip()
    value_type = params.get("VALUE", (None,))[0]
    if not value or (value_type is not None and value_type.lower() == "text"):
        return None
    match = _DATE.fullmatch(value.partition("T")[0])
    if match is None:
        log.warning("%s: %s %r is not a date; ignored", where, what, value)
        return None
    groups = match.groups()
    if groups[0] is not None:
        year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
    elif groups[3] is not None:
        year, month, day = int(groups[3]), int(groups[4]), int(groups[5])
    else:
        year, month, day = None, int(groups[6]), int(groups[7])
    omit = params.get("X-APPLE-OMIT-YEAR", (None,))[0]
    if year is not None and omit is not None and omit.strip() == f"{year:04d}":
        year = None
    try:
        dt.date(2000 if year is None else year, month, day)  # 2000 is leap: --0229 is valid
    except ValueError:
        log.warning("%s: %s %r is not a valid date; ignored", where, what, value)
        return None
    return PartialDate(month, day, year)


def name_from_n(decoded: str) -> str:
    """N is `Family;Given;Additional;Prefix;Suffix`, each a comma list, any of them maybe
    missing: `Prefix Given Additional Family Suffix`, with the parts present."""
    parts = split_unescaped(decoded, ";")
    order = (3, 1, 2, 0, 4)  # prefix, given, additional, family, suffix
    words = [
        " ".join(w for w in (unescape(v).strip() for v in split_unescaped(parts[i], ",")) if w)
        for i in order if i < len(parts)
    ]
    return " ".join(word for word in words if word)


def pref(params: Mapping[str, tuple[str, ...]]) -> int:
    """The PREF of a property (1 is most preferred; vCard 3's TYPE=pref counts as 1); 101 when
    none is given."""
    value = params.get("PREF")
    if value:
        try:
            return int(value[0])
        except ValueError:
            return 101
    for kind in params.get("TYPE", ()):
        if kind.lower() == "pref":
            return 1
    return 101
