"""Text from a store or a config, made safe to show: one place for every renderer.

Store content and config strings are data (SECURITY.md, "What EnvSync defends against" 1): a key name,
an author, a version id or a server's error text must not start a new log line,
issue a GitHub workflow command, move the cursor, restyle a rich table or
reorder what a reader sees. Values never come here: they are never shown.
"""
from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0, DEL, C1; the bidi embeddings, overrides and isolates (and the marks, which
# reorder text as well); the line and paragraph separators some viewers break on.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _replacement(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def escape(text: object) -> str:
    """`text` on one line with its control characters visible: newline as `\\n`,
    other C0/C1/DEL as `\\xNN`, bidi controls and line separators as `\\uNNNN`."""
    return UNSAFE.sub(_replacement, str(text))


def rich(text: object) -> str:
    """`escape`d, and rich markup escaped: a key cannot add `[link=…]` or styles to a table."""
    from rich.markup import escape as markup_escape

    return markup_escape(escape(text))


# GitHub workflow commands (actions/toolkit, command.ts): data and property values.


def workflow_data(text: str) -> str:
    """The message part of `::command::message`: `%`, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A property value (`file=`, `title=`): also `:` and `,`, which end a property."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
