"""Deep nesting is refused before json or tomllib recurse (envsync/nesting.py)."""
from __future__ import annotations

import json

import pytest

from envsync import nesting

LIMIT = nesting.MAX_DEPTH


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_parses() -> None:
    assert not nesting.depth_exceeds(nested(LIMIT))
    assert nesting.json_loads(nested(LIMIT)) is not None
    assert nesting.toml_loads(f"a = {nested(LIMIT)}")["a"]


@pytest.mark.parametrize("text", [
    nested(LIMIT + 1),
    '{"a":' * (LIMIT + 1) + "1" + "}" * (LIMIT + 1),
    "x = " + "{y = " * (LIMIT + 1) + "1" + "}" * (LIMIT + 1),
    "[" * 200_000,  # unclosed: the parser would recurse before it found the missing brackets
    f'a = ["""x"""", {nested(2000)}, "z"]',  # a multi-line string may end in four or five quotes
    f"a = ['''x'''', {nested(2000)}, 'z']",
    'a = "x\\"\n' + nested(2000),  # an unterminated string ends with its line, not later
])
def test_nesting_beyond_the_limit_is_caught(text: str) -> None:
    assert nesting.depth_exceeds(text)


@pytest.mark.parametrize("text", [
    json.dumps({"a": "[" * 500, "b": "{" * 500}),  # inside JSON strings
    f"a = '{'[' * 500}'\nb = \"\"\"\n{'{' * 500}\n\\\"\"\" still a string\n\"\"\"\n",  # TOML strings
    "# " + "[" * 500 + "\na = 1\n",  # a TOML comment
    "[" * 60 + "]" * 60 + "[" * 60 + "]" * 60,  # many brackets, never deep
])
def test_brackets_in_strings_comments_or_siblings_do_not_count(text: str) -> None:
    assert not nesting.depth_exceeds(text)


def test_too_deep_is_the_parsers_own_error_type() -> None:
    """So every caller's handling of malformed text covers it, with no RecursionError."""
    with pytest.raises(json.JSONDecodeError, match="nested deeper than 100 levels"):
        nesting.json_loads(nested(50_000).encode())
    with pytest.raises(nesting.TOMLDecodeError, match="nested deeper than 100 levels"):
        nesting.toml_loads("a = " + nested(50_000))
    with pytest.raises(ValueError):
        nesting.json_loads(b'"\xff"')  # bytes are UTF-8


@pytest.mark.parametrize("quote", ['"""', "'''"])
def test_a_config_hiding_its_depth_behind_closing_quotes_gets_the_parsers_error(quote: str) -> None:
    plain = quote[0]
    text = f"a = [{quote}x{quote}{plain}, {nested(2000)}, {plain}z{plain}]"
    with pytest.raises(nesting.TOMLDecodeError, match="nested deeper"):
        nesting.toml_loads(text)
