"""Text from cards as a terminal shows it (pure).

A card's FN, UID, NOTE or file name can hold anything: an ESC that starts a colour, a cursor
move or an OSC 8 link, a C1 control (a CSI or OSC on its own byte), a line break that forges a
line of output, a bidi override that makes a name read backwards. `shown` writes every such
character as an escape a person can read (`\\x1b`, `\\u202e`, `\\n`), so the sequence it began
is printed as text. JSON output needs none of this: `json.dumps` escapes control characters,
and the bidi ones are data there, not display.
"""

from __future__ import annotations

import re

# C0 controls (line breaks and tab included: they forge lines and break table columns), DEL,
# C1 controls (U+0085 NEL among them), the line and paragraph separators, and the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if char <= "\xff" else f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with every control character, line break and bidi control escaped: one line of
    plain text whatever it held."""
    return _UNSAFE.sub(_escape, text)


def shown_lines(text: str) -> str:
    """`shown`, but for the LFs of a message syncd wrote on several lines on purpose (a list of
    problems): the card text inside it should already be `shown`."""
    return _UNSAFE_BUT_LF.sub(_escape, text)
