"""`envsync.escaping`: store and config text made safe to show."""
from __future__ import annotations

import pytest

from envsync.escaping import escape, rich, workflow_data, workflow_property


@pytest.mark.parametrize("text, shown", [
    ("PLAIN_KEY.name-1", "PLAIN_KEY.name-1"),
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x00\x07\x1b[2J\x7f", "\\x00\\x07\\x1b[2J\\x7f"),
    ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL and the one-byte CSI
    ("a\u202eb\u2066c\u2069\u200f\u061c", "a\\u202eb\\u2066c\\u2069\\u200f\\u061c"),
    ("line\u2028sep\u2029", "line\\u2028sep\\u2029"),
    ("clé 秘密 🔑", "clé 秘密 🔑"),  # printable unicode is left as it is
])
def test_escape(text, shown):
    assert escape(text) == shown


def test_escape_takes_any_object():
    assert escape(ValueError("a\nb")) == "a\\nb"


def test_rich_escapes_markup_too():
    assert rich("[link=https://x]k[/link]\n") == "\\[link=https://x]k\\[/link]\\n"


def test_workflow_escaping():
    assert workflow_data("50%\r\n: ,") == "50%25%0D%0A: ,"
    assert workflow_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
