"""JSON and TOML parsing that refuses deep nesting before the parser recurses into it.

json and tomllib recurse once per nested array or table and stop at the interpreter's recursion
limit. Reaching that limit is not a clean failure: whatever else runs at that depth (a finalizer
the garbage collector calls) fails too, and Python prints its traceback to stderr. Text written
by others (a store's value, a committed config, a token in a scanned file) is therefore counted
first: nested deeper than MAX_DEPTH, it is refused with the parser's own error type, which every
caller already handles.
"""
from __future__ import annotations

import json
import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
MAX_DEPTH = 100  # far beyond any config or value; tomllib itself gives out near 330

# Strings and comments are skipped, so a bracket inside them does not count. This is TOML's
# syntax (a multi-line string may end in up to five quotes); JSON's strings are TOML basic strings
# and JSON has no comments. An unterminated string ends where the parsers give up on it too — a
# basic or literal one at its line's end, a multi-line one at the text's — so no character is
# read again and again however many quotes a line holds.
_TOKEN = re.compile(
    r'"""(?:[^\\]|\\[\s\S])*?(?:""""{0,2}|\Z)'
    r"|'''[\s\S]*?(?:''''{0,2}|\Z)"
    r'|"(?:[^"\\\n]|\\.)*"?'
    r"|'[^'\n]*'?"
    r"|#[^\n]*"
    r"|[][{}]")


def depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays, objects or tables in `text` nest deeper than `limit`."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _TOKEN.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth = max(depth - 1, 0)
    return False


def json_loads(text: str | bytes) -> Any:
    """json.loads; bytes must be UTF-8. Too deep raises json.JSONDecodeError (a ValueError)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if depth_exceeds(text):
        raise json.JSONDecodeError(f"arrays or objects nested deeper than {MAX_DEPTH} levels", text, 0)
    return json.loads(text)


def toml_loads(text: str) -> dict[str, Any]:
    """tomllib.loads. Too deep raises TOMLDecodeError."""
    if depth_exceeds(text):
        message = f"arrays or tables nested deeper than {MAX_DEPTH} levels"
        if TOMLDecodeError.__init__ is ValueError.__init__:  # tomllib before 3.14, tomli before 2.1
            raise TOMLDecodeError(message)
        raise TOMLDecodeError(message, text, 0)  # later ones take the document and a position
    return tomllib.loads(text)
