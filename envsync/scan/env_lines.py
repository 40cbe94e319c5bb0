"""Reading a local .env file for its values, line by line, the way the leak guard needs it.

`dotenv_file.load` refuses a whole file for one bad line — right for sync, wrong for the guard:
one unclosed quote would take every value of the file out of the search. Here a line python-dotenv
cannot read, or whose key is not a key (a token pasted on a line of its own), is a *bad line*: its
text is still looked for (it is most likely a secret in the wrong place) and the caller reports
the line — by number, never by text. Pure: no I/O.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from envsync.dotenv_file import BOM, dotenv_parser
from envsync.model import KEY_PATTERN

_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*=\s*['\"]?(.*?)['\"]?\s*\Z", re.S)
_LEAD = re.compile(r"(?:[^\S\r\n]*(?:\r\n|\n|\r))*")


@dataclass
class BadLine:
    line: int
    key: str | None  # the key when the line starts like `KEY=` (an unclosed quote), else None
    text: str  # what to look for: the value part, or the whole line; never shown


@dataclass
class EnvLines:
    pairs: dict[str, str] = field(default_factory=dict)
    bad: list[BadLine] = field(default_factory=list)


def read_env_lines(text: str) -> EnvLines:
    """Key -> value of every readable line (the last one wins), and the lines that are not readable."""
    if text.startswith(BOM):
        text = text[1:]
    result = EnvLines()
    for binding in dotenv_parser.parse_stream(io.StringIO(text)):
        original = binding.original.string
        lead = _LEAD.match(original).group(0)  # type: ignore[union-attr]
        line = binding.original.line + len(re.findall(r"\r\n|\n|\r", lead))
        body = original[len(lead):].strip()
        if binding.error or (binding.key is not None and not KEY_PATTERN.match(binding.key)):
            result.bad.append(_bad_line(line, body))
        elif binding.key is not None and binding.value is not None:
            result.pairs[binding.key] = binding.value
    return result


def _bad_line(line: int, body: str) -> BadLine:
    found = _ASSIGNMENT.match(body)
    if found and found.group(2):
        return BadLine(line, found.group(1), found.group(2))
    return BadLine(line, None, body)
