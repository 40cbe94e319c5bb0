"""Tests for `envsync.dotenv_file`: lossless round trips, edits that touch only their own
lines, python-dotenv's value semantics, clear errors that never show values, atomic writes.

The corpus in `tests/corpus/dotenv/` holds one tricky case per file. Every file there must
have an entry in `EXPECTED_VALUES`.
"""
from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import dotenv
import pytest
from dotenv.parser import parse_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from envsync import export
from envsync.dotenv_file import decode, encode_value, load, parse, write
from envsync.errors import ConflictError, InputError

CORPUS = Path(__file__).parent / "corpus" / "dotenv"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.env"))
BOM = "\ufeff"
BLANK_LINES = re.compile(r"(?:[^\S\r\n]*(?:\r\n|\n|\r))*")

FAKE_PEM = (
    "-----BEGIN PRIVATE KEY-----\nFAKEKEYFORTESTSONLYFAKEKEYFORTESTSONLY\n"
    "NOTAREALKEYNOTAREALKEYNOTAREALKEY0000\n-----END PRIVATE KEY-----"
)

EXPECTED_VALUES: dict[str, dict[str, str]] = {
    "simple.env": {"APP_NAME": "envsync", "PORT": "8080", "DEBUG": "false"},
    "crlf.env": {"APP_NAME": "envsync", "PORT": "8080", "DEBUG": "true"},
    "crlf-no-final-newline.env": {"FIRST": "1", "LAST": "2"},
    "crlf-blank-lines.env": {"A": "1", "B": "2"},
    "cr-only-line-endings.env": {"A": "1", "B": "two", "C": "3"},
    "mixed-line-endings.env": {"A": "1", "B": "2", "C": "3", "D": "4"},
    "no-final-newline.env": {"FIRST": "1", "LAST": "no-newline-here"},
    "bom.env": {"APP_ENV": "production", "REGION": "eu-west-1"},
    "bom-crlf.env": {"APP_ENV": "staging", "REGION": "us-east-2"},
    "bom-only.env": {},
    "empty-file.env": {},
    "whitespace-only.env": {},
    "blank-lines-and-comments-only.env": {},
    "leading-blank-lines.env": {"FIRST": "after blanks"},
    "trailing-blank-lines.env": {"LAST": "1"},
    "blank-lines-with-spaces.env": {"A": "1", "B": "2"},
    "export-prefix.env": {"DB_HOST": "localhost", "DB_PORT": "5432", "DB_NAME": "app"},
    "export-mixed.env": {"EXPORTED": "yes", "PLAIN": "no", "INDENTED": "also"},
    "export-as-key.env": {"export": "a key named export", "EXPORTED": "1"},
    "multiline-double-quoted.env": {"GREETING": "Hello,\nmulti-line\nworld", "AFTER": "still parsed"},
    "multiline-single-quoted.env": {"POEM": "roses\nare\nred", "AFTER": "ok"},
    "multiline-crlf.env": {"CERT": "line one\r\nline two", "NEXT": "1"},
    "escapes-in-double-quotes.env": {
        "NEWLINE": "a\nb", "TAB": "a\tb", "QUOTE": 'say "hi"', "BACKSLASH": "C:\\temp",
        "SINGLE": "it's", "UNKNOWN": "keep \\$ and \\x",
    },
    "escaped-backslash-before-closing-quote.env": {"DIR": "C:\\dir\\", "NEXT": "1"},
    # Single quotes decode `\\` and `\'` (and nothing else).
    "escapes-in-single-quotes.env": {"RAW": "a\\nb", "BACKSLASHES": "x\\y"},
    "escapes-not-in-unquoted.env": {"PATTERN": "a\\nb", "WIN_PATH": "C:\\Users\\dev", "TRAILING": "abc\\"},
    "single-quoted-with-escaped-quote.env": {"MESSAGE": "it's fine", "OTHER": "plain"},
    "single-quotes-inside-double.env": {"SENTENCE": "it's here", "DOUBLE_IN_SINGLE": 'say "hi"'},
    "quotes-inside-unquoted.env": {"MIXED": 'it\'s "fine"', "HALF": "a'b"},
    "hash-inside-quotes.env": {"COLOR": "#ff0000", "CHANNEL": "#general", "PHRASE": "a # not a comment"},
    "hash-in-unquoted.env": {"ANCHOR": "page#section", "NOVALUE": "#hashonly"},
    "inline-comment-unquoted.env": {"HOST": "example.com", "PORT": "443", "MANY": "value"},
    "inline-comment-quoted.env": {"NAME": "quoted", "SINGLE": "s", "TIGHT": "tight"},
    "inline-comment-crlf.env": {"HOST": "example.com", "NAME": "q"},
    "empty-values.env": dict.fromkeys(["EMPTY", "EMPTY_DQ", "EMPTY_SQ", "SPACES", "COMMENT_ONLY"], ""),
    "key-without-equals.env": {"BEFORE": "1", "AFTER": "2"},
    "key-without-equals-comment.env": {},
    "key-without-equals-last-line.env": {"A": "1"},
    "duplicate-keys.env": {"API_URL": "https://two.example.com", "OTHER": "x"},
    "whitespace-around-equals.env": {"SPACED": "value", "TABBED": "value2", "LEFT": "x", "RIGHT": "y"},
    "indented-keys.env": {"INDENTED": "1", "TABBED": "2", "DEEP": "3"},
    "dollar-references.env": {
        "BASE": "/srv", "BRACED": "${BASE}/app", "BARE": "$BASE/bin",
        "DEFAULT": "${MISSING:-fallback}", "SINGLE": "${BASE}", "ESCAPED": "\\${BASE}",
    },
    "unicode-values.env": {"GREETING": "Grüße aus Köln", "JAPANESE": "こんにちは", "EMOJI": "🚀 launch", "RTL": "שלום"},
    "unicode-spaces-in-values.env": {"NBSP": "a\u00a0b", "IDEOGRAPHIC": "x\u3000y"},
    "tabs.env": {"TABBED_VALUE": "a\tb", "QUOTED_TAB": "x\ty"},
    "trailing-whitespace.env": {"UNQUOTED": "value", "QUOTED": "value", "TAB": "value"},
    "pem-private-key.env": {
        "PRIVATE_KEY": FAKE_PEM,
        "ONE_LINE_KEY": "-----BEGIN PRIVATE KEY-----\nFAKEKEYBODY\n-----END PRIVATE KEY-----",
    },
    "json-value.env": {
        "CONFIG": '{"feature": true, "limits": [1, 2, 3]}', "ESCAPED_JSON": '{"a": "b"}', "RAW_JSON": '{"x":1}',
    },
    "url-with-query.env": {
        "DATABASE_URL": "postgres://app@db.example.com:5432/app?sslmode=require&application_name=envsync",
        "CALLBACK": "https://example.com/cb?a=1&b=two#frag",
    },
    "value-with-equals.env": {"EQUATION": "a=b=c", "LEADING": "=starts with equals", "PADDED": "dGVzdA=="},
    "quoted-key.env": {"QUOTED_KEY": "value", "NORMAL": "1"},
    "dots-and-dashes-in-keys.env": {"app.name": "envsync", "feature-flag": "on", "_PRIVATE": "1", "lower_case": "ok"},
    "comment-with-equals.env": {"ENABLED": "1"},
    "special-characters.env": {"SYMBOLS": "!@%^&*()[]{}<>?,.;:|~`", "PERCENT": "100%"},
    "long-value.env": {"LONG": "abc123" * 1000, "SHORT": "1"},
}


# -- helpers -------------------------------------------------------------------


def read_corpus(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def binding_spans(text: str, key: str) -> list[tuple[int, int]]:
    """Where each binding of `key` sits in `text` according to python-dotenv: from the start
    of its first line (blank lines before it excluded) to the end of its line ending."""
    offset = 1 if text.startswith(BOM) else 0
    spans = []
    for binding in parse_stream(io.StringIO(text[offset:])):
        original = binding.original.string
        if binding.key == key:
            lead = BLANK_LINES.match(original).group(0)  # type: ignore[union-attr]
            spans.append((offset + len(lead), offset + len(original)))
        offset += len(original)
    return spans


def assert_only_binding_changed(before: str, after: str, key: str) -> None:
    """`after` differs from `before` only inside the binding of `key` that wins."""
    start, end = binding_spans(before, key)[-1]
    suffix = before[end:]
    assert after[:start] == before[:start], "text before the edited binding changed"
    assert after.endswith(suffix), "text after the edited binding changed"
    assert len(after) - len(suffix) >= start


def without_bindings(text: str, key: str) -> str:
    """`text` with every binding of `key` cut out (the blank lines before them stay)."""
    for start, end in reversed(binding_spans(text, key)):
        text = text[:start] + text[end:]
    return text


def reference_values(text: str) -> dict[str, str]:
    """What python-dotenv itself reads, without interpolation; keys with no `=` left out."""
    values = dotenv.dotenv_values(stream=io.StringIO(text), interpolate=False)
    return {k: v for k, v in values.items() if v is not None}


# -- corpus --------------------------------------------------------------------


def test_corpus_is_large_and_fully_described():
    assert len(CORPUS_FILES) >= 45
    assert set(CORPUS_FILES) == set(EXPECTED_VALUES)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_round_trips_byte_for_byte(name):
    text = read_corpus(name)
    assert parse(text, name).render() == text


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_values(name):
    text = read_corpus(name)
    values = parse(text, name).values()
    assert values == EXPECTED_VALUES[name]
    assert values == reference_values(text)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_set_changes_only_that_binding(name):
    text = read_corpus(name)
    old_values = parse(text, name).values()
    for key in parse(text, name).keys():
        document = parse(text, name)
        document.set(key, "new value")
        after = document.render()
        assert_only_binding_changed(text, after, key)
        assert parse(after, name).values() == {**old_values, key: "new value"}, key


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_unset_removes_only_that_key(name):
    text = read_corpus(name)
    old_values = parse(text, name).values()
    for key in parse(text, name).keys():
        document = parse(text, name)
        assert document.unset(key) is True
        after = document.render()
        assert after == without_bindings(text, key), key
        reparsed = parse(after, name)
        assert key not in reparsed.keys()
        assert reparsed.values() == {k: v for k, v in old_values.items() if k != key}


# -- reading -------------------------------------------------------------------


def test_duplicate_key_warns_with_line_and_last_wins():
    document = parse(read_corpus("duplicate-keys.env"), "app/.env")
    assert document.warnings == [
        "app/.env line 3: API_URL is set again (first on line 1); the last one wins"
    ]
    assert document.values()["API_URL"] == "https://two.example.com"
    assert document.line_of("API_URL") == 3
    document.set("API_URL", "https://three.example.com")
    assert document.render().splitlines() == [
        "API_URL=https://one.example.com", "OTHER=x", "API_URL=https://three.example.com",
    ]


def test_key_without_equals_is_a_key_without_value():
    document = parse(read_corpus("key-without-equals.env"), "app/.env")
    assert "LONELY" not in document.values()
    assert document.keys() == ["BEFORE", "LONELY", "AFTER"]
    assert document.line_of("LONELY") == 2
    assert len(document.warnings) == 1
    assert document.warnings[0].startswith("app/.env line 2: no '='")
    document.set("LONELY", "value")
    assert document.render() == "BEFORE=1\nLONELY=value\nAFTER=2\n"


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ("A=1\nB=2\n", "B", 2),
        ("\n\n\nFIRST=1\n", "FIRST", 4),
        ('M="a\nb\nc"\nN=1\n', "N", 4),
        ("A=1\r\nB=2\r\n", "B", 2),
        ("A=1\rB=2\rC=3", "C", 3),
        (BOM + "A=1\nB=2\n", "B", 2),
        ("A=1\n", "MISSING", None),
    ],
)
def test_line_of(text, key, line):
    assert parse(text).line_of(key) == line
    assert parse(text).lines().get(key) == line  # the one-pass form agrees


def test_lines_give_the_winning_binding_of_a_duplicate():
    assert parse("A=1\nB=2\nA=3\n").lines() == {"A": 3, "B": 2}


# -- editing -------------------------------------------------------------------

# (source, key, new value, expected render): existing bindings keep their style and
# surroundings; an edit that would change meaning picks a safe encoding instead.
EDIT_CASES = [
    pytest.param("K=old\n", "K", "new", "K=new\n", id="unquoted-stays-unquoted"),
    pytest.param("K='old'\n", "K", "new", "K='new'\n", id="single-quotes-kept"),
    pytest.param('K="old"\n', "K", "new", 'K="new"\n', id="double-quotes-kept"),
    pytest.param("K='old'\n", "K", "it's", 'K="it\'s"\n', id="single-falls-back-to-double"),
    pytest.param("K=old\n", "K", "a # b", "K='a # b'\n", id="unquoted-needs-quotes-for-hash"),
    pytest.param("K=old\n", "K", " padded ", "K=' padded '\n", id="unquoted-needs-quotes-for-spaces"),
    pytest.param("K=old\n", "K", "two\nlines", "K='two\nlines'\n", id="unquoted-needs-quotes-for-newline"),
    pytest.param("K=old\n", "K", "x$(touch pwned)", "K='x$(touch pwned)'\n", id="unquoted-gets-single-quotes"),
    pytest.param('K="old"\n', "K", "a$HOME", "K='a$HOME'\n", id="double-quoted-gets-single-quotes"),
    pytest.param("K=old\n", "K", "it's $HOME", 'K="it\'s $HOME"\n', id="apostrophe-gets-double-quotes"),
    pytest.param('K="a\nb"\nN=1\n', "K", "one", 'K="one"\nN=1\n', id="multiline-becomes-one-line"),
    pytest.param("export K=old\n", "K", "new", "export K=new\n", id="export-kept"),
    pytest.param("  export K='old'\n", "K", "new", "  export K='new'\n", id="indent-and-export-kept"),
    pytest.param("K=old # note\n", "K", "new", "K=new # note\n", id="inline-comment-kept-unquoted"),
    pytest.param('K="old" # note\n', "K", "new", 'K="new" # note\n', id="inline-comment-kept-quoted"),
    pytest.param('K="old"#note\n', "K", "new", 'K="new" #note\n', id="tight-comment-gets-a-blank"),
    pytest.param("K=old\t# note\r\n", "K", "new", "K=new\t# note\r\n", id="inline-comment-and-crlf-kept"),
    pytest.param("K = old\n", "K", "new", "K=new\n", id="spaces-around-equals-dropped"),
    pytest.param("K= old\n", "K", "sh", "K=sh\n", id="space-after-equals-would-run-the-value"),
    pytest.param("K=\n", "K", "new", "K=new\n", id="empty-value"),
    pytest.param("K=old\n", "K", "", "K=\n", id="set-to-empty"),
    pytest.param("K= # note\n", "K", "new", "K=new # note\n", id="empty-value-with-comment"),
    pytest.param("K=old # note\n", "K", "", "K='' # note\n", id="set-to-empty-before-a-comment"),
    pytest.param("K= # note\n", "K", "", "K= # note\n", id="empty-value-with-comment-set-empty"),
    pytest.param("K= old\n", "K", "#x", "K='#x'\n", id="hash-after-space-needs-quotes"),
    pytest.param("K=old\n", "K", "#x", "K='#x'\n", id="hash-first-needs-quotes-for-node"),
    pytest.param("K\n", "K", "new", "K=new\n", id="no-equals"),
    pytest.param("K # note\n", "K", "new", "K=new # note\n", id="no-equals-with-comment"),
    pytest.param("K#note\n", "K", "new", "K=new #note\n", id="no-equals-tight-comment"),
    pytest.param("K#note\n", "K", "", "K='' #note\n", id="no-equals-tight-comment-set-empty"),
    pytest.param("A=1\nK", "K", "new", "A=1\nK=new", id="no-equals-no-final-newline"),
    pytest.param("A=1\nK=old", "K", "new", "A=1\nK=new", id="no-final-newline-stays-so"),
    pytest.param("'K'=old\n", "K", "new", "'K'=new\n", id="quoted-key-kept"),
]


@pytest.mark.parametrize(("source", "key", "value", "expected"), EDIT_CASES)
def test_set_existing_binding(source, key, value, expected):
    document = parse(source)
    document.set(key, value)
    assert document.render() == expected
    assert parse(expected).values()[key] == value


# (source, key, value, after, expected render) for keys that are not in the file yet.
NEW_KEY_CASES = [
    pytest.param("A=1\n", "NEW", "v", None, "A=1\nNEW=v\n", id="appended"),
    pytest.param("", "NEW", "v", None, "NEW=v\n", id="empty-file"),
    pytest.param("A=1", "NEW", "v", None, "A=1\nNEW=v\n", id="no-final-newline"),
    pytest.param("A=1\r\nB=2", "NEW", "v", None, "A=1\r\nB=2\r\nNEW=v\r\n", id="crlf-no-final-newline"),
    pytest.param("A=1\r\n", "NEW", "v", None, "A=1\r\nNEW=v\r\n", id="crlf"),
    pytest.param("A=1\r", "NEW", "v", None, "A=1\rNEW=v\r", id="cr-only"),
    pytest.param("# only a comment", "NEW", "v", None, "# only a comment\nNEW=v\n", id="comment-no-newline"),
    pytest.param("A=1\nB=2\n", "NEW", "v", "A", "A=1\nNEW=v\nB=2\n", id="after-anchor"),
    pytest.param("A=1\nB=2", "NEW", "v", "B", "A=1\nB=2\nNEW=v\n", id="after-last-line-without-newline"),
    pytest.param("A=1\nB=2\nA=3\n", "NEW", "v", "A", "A=1\nB=2\nA=3\nNEW=v\n", id="after-duplicate-anchor"),
    pytest.param("A=1\n", "NEW", "v", "MISSING", "A=1\nNEW=v\n", id="missing-anchor-appends"),
    pytest.param("export A=1\n", "NEW", "v", None, "export A=1\nexport NEW=v\n", id="all-exported"),
    pytest.param("export A=1\nB=2\n", "NEW", "v", None, "export A=1\nB=2\nNEW=v\n", id="some-exported"),
    pytest.param("A=1\n", "NEW", "a b # c", None, "A=1\nNEW='a b # c'\n", id="quoted-when-needed"),
    pytest.param("A=1\n", "NEW", "it's", None, 'A=1\nNEW="it\'s"\n', id="double-quoted-when-needed"),
    pytest.param(BOM + "A=1\n", "NEW", "v", None, BOM + "A=1\nNEW=v\n", id="bom"),
]


@pytest.mark.parametrize(("source", "key", "value", "after", "expected"), NEW_KEY_CASES)
def test_set_new_key(source, key, value, after, expected):
    document = parse(source)
    document.set(key, value, after=after)
    assert document.render() == expected


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("crlf.env", "DEBUG=true\r\nNEW=v\r\n"),
        ("crlf-no-final-newline.env", "LAST=2\r\nNEW=v\r\n"),
        ("cr-only-line-endings.env", "C=3\rNEW=v\r"),
        ("no-final-newline.env", "LAST=no-newline-here\nNEW=v\n"),
        ("key-without-equals-last-line.env", "LONELY_AT_END\nNEW=v\n"),
        ("export-prefix.env", "export\tDB_NAME=app\nexport NEW=v\n"),
        ("bom-only.env", BOM + "NEW=v\n"),
    ],
)
def test_new_key_in_corpus_file(name, suffix):
    text = read_corpus(name)
    document = parse(text, name)
    document.set("NEW", "v")
    after = document.render()
    assert after.endswith(suffix)
    assert after.startswith(text.rstrip("\r\n"))


def test_set_rejects_invalid_key():
    with pytest.raises(InputError, match="invalid key name"):
        parse("").set("1BAD", "x")


def test_unset_missing_key_is_false_and_keeps_text():
    document = parse("A=1\n")
    assert document.unset("B") is False
    assert document.render() == "A=1\n"


def test_unset_keeps_blank_lines_before_the_binding():
    document = parse("A=1\n\nB=2\nC=3\n")
    document.unset("B")
    assert document.render() == "A=1\n\nC=3\n"


# What EnvSync writes for a value (SECURITY.md, "What EnvSync defends against" 4;
# tests/dotenv_readers_test.py reads these back with the real readers): unquoted only when
# every reader agrees, single quotes when they can carry the value, double quotes with
# escapes otherwise.
@pytest.mark.parametrize(
    ("value", "style", "expected"),
    [
        ("plain", "", "plain"),
        ("", "", ""),
        ("b64+/==", "", "b64+/=="),
        ("x", "'", "'x'"),
        ("x", '"', '"x"'),
        ("", "'", "''"),
        ("a b", "", "'a b'"),
        ("#x", "", "'#x'"),
        ("a #b", '"', "'a #b'"),
        ("x$(touch pwned)y", "", "'x$(touch pwned)y'"),
        ("${HOME}", '"', "'${HOME}'"),
        ("`id`", "", "'`id`'"),
        ('say "hi"', '"', "'say \"hi\"'"),
        ("a;b&c|d<e>f", "", "'a;b&c|d<e>f'"),
        ("~/x", "", "'~/x'"),
        ("café", "", "'café'"),
        ("two\nlines", "", "'two\nlines'"),
        ("back\\slash", "'", "'back\\slash'"),
        ("'q", "", "\"'q\""),
        ("it's", "'", '"it\'s"'),
        ("it's $HOME", "", '"it\'s $HOME"'),
        ("a\\\\b", "", '"a\\\\\\\\b"'),
        ("ends\\", "", '"ends\\\\"'),
        ("cr\rlf\n", '"', '"cr\\rlf\n"'),
        ("it's \"x\"", "", '"it\'s \\"x\\""'),
    ],
)
def test_encode_value(value, style, expected):
    assert encode_value(value, style) == expected
    assert parse(f"K={expected}\n").values() == {"K": value}


def refused(value: str) -> bool:
    """The values no form carries safely: double quotes only (a `'`, a CR, a `\\\\` or a final
    backslash), and a shell substitution bash would run there."""
    double_only = "'" in value or "\r" in value or "\\\\" in value or value.endswith("\\")
    return double_only and re.search(r"`|\$[({\[]", value) is not None


@pytest.mark.parametrize("value", ["it's $(touch pwned)", "'`id`", "${HOME}'", "'$[1]", "a\rb`c`", "\\\\$(x)",
                                   "$(x)\\"])
def test_a_value_no_quoting_keeps_from_bash_is_refused_and_nothing_changes(value):
    assert refused(value)
    text = "A=1\nK=old # note\n"
    for key in ("K", "NEW"):
        document = parse(text)
        with pytest.raises(InputError) as caught:
            document.set(key, value)
        message = str(caught.value)
        assert message.startswith(f"{key}: ") and "\n" not in message
        assert value not in message
        assert document.render() == text
        assert document.values() == {"A": "1", "K": "old"}
    with pytest.raises(InputError, match=r"^K: "):
        export.render({"A": "1", "K": value}, "dotenv")


def test_an_unchanged_value_keeps_its_line_byte_for_byte():
    text = "A=x$y\nB = it's\nC='z'#c\nD= sh\n"
    document = parse(text)
    for key, value in document.values().items():
        document.set(key, value)
    assert document.render() == text


# -- files ---------------------------------------------------------------------


def test_bom_kept_on_write(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(read_corpus("bom-crlf.env").encode("utf-8"))
    document = load(path)
    document.set("REGION", "ap-south-1")
    document.set("NEW", "v")
    write(document, path)
    assert path.read_bytes() == b"\xef\xbb\xbfAPP_ENV=staging\r\nREGION=ap-south-1\r\nNEW=v\r\n"


def test_write_new_file_is_private_and_leaves_no_temp_files(tmp_path, secret):
    path = tmp_path / ".env"
    value = secret("new")
    document = parse("", str(path))
    document.set("TOKEN", value)
    write(document, path, expected=b"")
    assert path.read_bytes() == f"TOKEN={value}\n".encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == [".env"]


def test_write_keeps_mode_of_existing_file(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\n")
    path.chmod(0o644)
    original = path.read_bytes()
    document = load(path)
    document.set("A", "2")
    write(document, path, expected=original)
    assert path.read_bytes() == b"A=2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(tmp_path) == [".env"]


def test_write_refuses_when_file_changed(tmp_path, secret):
    path = tmp_path / ".env"
    first, theirs, ours = secret("first"), secret("theirs"), secret("ours")
    path.write_bytes(f"A={first}\n".encode())
    original = path.read_bytes()
    document = load(path, ".env")
    document.set("A", ours)
    path.write_bytes(f"A={theirs}\n".encode())  # someone else edits the file meanwhile
    with pytest.raises(ConflictError) as caught:
        write(document, path, expected=original)
    message = str(caught.value)
    assert message.startswith(".env: changed on disk")
    assert all(v not in message for v in (first, theirs, ours))
    assert path.read_bytes() == f"A={theirs}\n".encode()
    assert os.listdir(tmp_path) == [".env"]


def test_write_refuses_when_expected_file_appeared(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"B=1\n")
    with pytest.raises(ConflictError):
        write(parse("A=1\n"), path, expected=b"")
    assert path.read_bytes() == b"B=1\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.mkdir(), "is a directory"),
    ],
)
def test_load_unreadable(tmp_path, make, message):
    path = tmp_path / ".env"
    make(path)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: {message}")


# -- errors --------------------------------------------------------------------

# (text with VALUE standing for a secret, line the error names, words in the message)
PARSE_ERRORS = [
    pytest.param('A=1\nB="VALUE\nC=2\n', 2, "unterminated", id="unterminated-double-quote"),
    pytest.param("A=1\n\nB='VALUE\n", 3, "unterminated", id="unterminated-single-quote"),
    pytest.param('A="VALUE\nB="x"\n', 1, "unterminated", id="unterminated-swallows-next-quote"),
    pytest.param("A=1\n=VALUE\n", 2, "missing key name", id="no-key"),
    pytest.param("A=1\n\n   \n  =VALUE\n", 4, "missing key name", id="no-key-after-blank-lines"),
    pytest.param("A=1\nB=2\n1ABC=VALUE\n", 3, "invalid key name", id="key-starts-with-digit"),
    pytest.param("'a b'=VALUE\n", 1, "invalid key name", id="key-with-space"),
    # what parses as a key may be a secret: the line is named, its text is not shown
    pytest.param("A=1\nDB_PASSWORD:VALUE\n", 2, "invalid key name", id="colon-instead-of-equals"),
    pytest.param("A=1\n\nVALUE/+x\n", 3, "invalid key name", id="pasted-token-line"),
    pytest.param("A=1\nVALUE+/x==\n", 2, "invalid key name", id="pasted-base64-line"),
    pytest.param("'VALUE x'=1\n", 1, "invalid key name", id="quoted-key-holding-a-token"),
    pytest.param("A=1\r\nB=\"VALUE\r\n", 2, "unterminated", id="crlf"),
    pytest.param("A=1\rB=2\r=VALUE\r", 3, "missing key name", id="cr-only"),
    pytest.param('A="x\ny\nz"\n=VALUE\n', 4, "missing key name", id="after-multiline-value"),
    pytest.param(BOM + "A=1\n=VALUE\n", 2, "missing key name", id="after-bom"),
    pytest.param("A=1\nB VALUE\n", 2, "cannot parse", id="space-instead-of-equals"),
    pytest.param(BOM + BOM + "A=VALUE\n", 1, "byte-order mark", id="two-boms"),
]


@pytest.mark.parametrize(("template", "line", "words"), PARSE_ERRORS)
def test_parse_errors_name_file_and_line_not_value(template, line, words, secret):
    value = secret("bad")
    with pytest.raises(InputError) as caught:
        parse(template.replace("VALUE", value), "conf/app.env")
    message = str(caught.value)
    assert message.startswith(f"conf/app.env line {line}: ")
    assert words in message
    assert value not in message


# (bytes with VALUE standing for a secret, line the error names, words in the message)
DECODE_ERRORS = [
    pytest.param(b"A=1\nB=VALUE\x00\n", 2, "NUL byte", id="nul"),
    pytest.param(b"\x00A=VALUE\n", 1, "NUL byte", id="nul-first-byte"),
    pytest.param(b"A=1\rB=2\rC=VALUE\x00\r", 3, "NUL byte", id="nul-cr-only"),
    pytest.param(b"A=1\nB=2\nC=VALUE\xe9\n", 3, "not valid UTF-8", id="latin-1"),
    pytest.param(b"A=1\r\nB=VALUE\xff\r\n", 2, "not valid UTF-8", id="invalid-byte-crlf"),
    pytest.param(b"A=1\rB=VALUE\xc3\r", 2, "not valid UTF-8", id="truncated-sequence-cr-only"),
]


@pytest.mark.parametrize(("template", "line", "words"), DECODE_ERRORS)
def test_decode_errors_name_file_and_line_not_value(template, line, words, secret, tmp_path):
    value = secret("bin")
    data = template.replace(b"VALUE", value.encode())
    path = tmp_path / "app.env"
    path.write_bytes(data)
    for call, name in ((lambda: decode(data, "app.env"), "app.env"), (lambda: load(path), str(path))):
        with pytest.raises(InputError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(f"{name} line {line}: ")
        assert words in message
        assert value not in message


# -- properties ----------------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
WRITABLE = TEXT.filter(lambda value: not refused(value))
LINE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00\r\n"), max_size=20)
KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,8}", fullmatch=True).filter(lambda k: k != "export")
INDENT = st.sampled_from(["", " ", "\t"])
SPACING = st.sampled_from(["", " ", "\t "])
STYLES = st.sampled_from(["", "'", '"'])


@st.composite
def binding_lines(draw):
    """One `KEY=value` line (no line ending) and the key and value it binds."""
    key, value = draw(KEYS), draw(WRITABLE)
    encoded = encode_value(value, draw(STYLES))
    after_equals = "" if encoded.startswith("#") else draw(SPACING)  # `K= #x` is an empty value
    comment = draw(st.sampled_from(["", " #"]))
    comment += draw(LINE_TEXT) if comment else ""
    export = draw(st.sampled_from(["", "export ", "export\t"]))
    line = f"{draw(INDENT)}{export}{key}{draw(SPACING)}={after_equals}{encoded}{comment}"
    return line, key, value


@st.composite
def documents(draw):
    """Text of a generated `.env` file and the values python-dotenv should read from it."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines, values = [], {}
    for kind in draw(st.lists(st.sampled_from(["binding", "binding", "comment", "blank", "bare"]), max_size=8)):
        if kind == "binding":
            line, key, value = draw(binding_lines())
            values[key] = value
        elif kind == "comment":
            line = f"{draw(INDENT)}#{draw(LINE_TEXT)}"
        elif kind == "bare":
            line = f"{draw(INDENT)}{draw(KEYS)}{draw(st.sampled_from(['', ' # bare']))}"
        else:
            line = draw(st.sampled_from(["", " ", "\t"]))
        lines.append(line)
    text = newline.join(lines) + (newline if lines and draw(st.booleans()) else "")
    return draw(st.sampled_from(["", BOM])) + text, values


@PROPERTY_SETTINGS
@given(documents())
def test_property_generated_documents_round_trip(document):
    text, values = document
    parsed = parse(text)
    assert parsed.render() == text
    assert parsed.values() == values


# Starting lines for K, between two fixed neighbours; None means K is new.
STARTS = [
    "K=old\n", "K='old'\n", 'K="old"\n', "export K=old # note\n", "  K = 'old' # note\r\n",
    "K= old\n", "K\n", "K #note\n", None,
]


@pytest.mark.parametrize("start", STARTS)
@PROPERTY_SETTINGS
@given(value=WRITABLE)
def test_property_set_reads_back_exactly(start, value):
    before, after = "BEFORE=1\n", "AFTER='2'\n"
    text = before + (start or "") + after
    document = parse(text)
    document.set("K", value)
    rendered = document.render()
    assert parse(rendered).values() == {"BEFORE": "1", "K": value, "AFTER": "2"}
    if start is None:
        assert rendered.startswith(text)
    else:
        assert rendered.startswith(before) and rendered.endswith(after)


@PROPERTY_SETTINGS
@given(document=documents(), value=WRITABLE, data=st.data())
def test_property_one_edit_changes_only_its_own_lines(document, value, data):
    text, values = document
    keys = parse(text).keys()
    key = data.draw(st.sampled_from(keys) if keys else KEYS, label="key")
    edited = parse(text)
    edited.set(key, value)
    rendered = edited.render()
    if key in keys:
        assert_only_binding_changed(text, rendered, key)
    else:
        assert rendered.startswith(text.rstrip("\r\n"))
    assert parse(rendered).values() == {**values, key: value}

    removed = parse(text)
    removed.unset(key)
    assert removed.render() == without_bindings(text, key)
    assert parse(removed.render()).values() == {k: v for k, v in values.items() if k != key}


def test_the_parser_is_python_dotenvs_own_and_the_package_shares_it():
    """dotenv_file loads python-dotenv's parser without the package's __init__ (a hook run does not
    need `logging`); an `import dotenv` after it must find and use that same module."""
    import subprocess
    import sys

    probe = ("import sys, io; import envsync.dotenv_file as f; before = 'dotenv' in sys.modules; "
             "import dotenv; from dotenv import parser; "
             "print(before, parser is f.dotenv_parser, dotenv.main.parse_stream is parser.parse_stream, "
             "dict(dotenv.dotenv_values(stream=io.StringIO('A=1\\nB=\"two words\"\\n'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False True True {'A': '1', 'B': 'two words'}"
