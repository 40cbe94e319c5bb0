"""Tests for `envsync.merge.merge3`: the three-way merge of one value.

`merge3(base, local, remote)` returns the value carrying both sides' edits, or None when
the edits overlap. Edits closer together than diff-match-patch's patch margin (4 chars of
context) count as overlapping: each side's patch needs the other's edited text as context.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsync.merge import merge3

URL = "postgres://app:secret@db.internal:5432/orders?sslmode=require"
JSON = '{"user": "app", "pool": 5, "comment": "left alone by both sides", "timeout": 30}'
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "FAKEKEYLINEONEFORTESTSONLYFAKEKEYLINEONE\n"
    "FAKEKEYMIDDLELINEFORTESTSONLYFAKEMIDDLE0\n"
    "FAKEKEYLASTLINEFORTESTSONLYFAKEKEYLASTLN\n"
    "-----END PRIVATE KEY-----\n"
)


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the base"
    return text.replace(old, new)


def case(case_id, base, local, remote, expected):
    return pytest.param(base, local, remote, expected, id=case_id)


CASES = [
    # trivial shapes: no diffing needed
    case("identical-sides", URL, edit(URL, "5432", "6432"), edit(URL, "5432", "6432"), edit(URL, "5432", "6432")),
    case("all-equal", URL, URL, URL, URL),
    case("local-unchanged", URL, URL, edit(URL, "orders", "sales"), edit(URL, "orders", "sales")),
    case("remote-unchanged", URL, edit(URL, "orders", "sales"), URL, edit(URL, "orders", "sales")),
    # disjoint edits at both ends
    case("url-user-and-query", URL, edit(URL, "app:", "admin:"), edit(URL, "require", "verify-full"),
         "postgres://admin:secret@db.internal:5432/orders?sslmode=verify-full"),
    case("url-scheme-and-port", URL, edit(URL, "postgres://", "postgresql://"), edit(URL, "5432", "6432"),
         "postgresql://app:secret@db.internal:6432/orders?sslmode=require"),
    case("json-first-and-last-field", JSON, edit(JSON, '"app"', '"admin"'), edit(JSON, "30", "60"),
         '{"user": "admin", "pool": 5, "comment": "left alone by both sides", "timeout": 60}'),
    case("json-insert-field-at-each-end", JSON, edit(JSON, "{", '{"region": "eu", '), edit(JSON, "30}", "30, \"ssl\": true}"),
         '{"region": "eu", "user": "app", "pool": 5, "comment": "left alone by both sides", "timeout": 30, "ssl": true}'),
    case("pem-first-and-last-line", PEM, edit(PEM, "LINEONEFOR", "LINE1FOR"), edit(PEM, "LASTLINEFOR", "LASTFOR"),
         PEM.replace("LINEONEFOR", "LINE1FOR").replace("LASTLINEFOR", "LASTFOR")),
    case("pem-lines-added-at-each-end", PEM, "# comment\n" + PEM, PEM + "# trailer\n", "# comment\n" + PEM + "# trailer\n"),
    # overlapping edits are refused
    case("same-span-edited-differently", URL, edit(URL, "5432", "6432"), edit(URL, "5432", "7432"), None),
    case("whole-value-replaced", "v1", "v2", "v3", None),
    case("both-append-at-the-end", URL, URL + "&a=1", URL + "&b=2", None),
    case("both-prepend", URL, "x" + URL, "y" + URL, None),
    case("one-side-extends-the-others-edit", URL, edit(URL, "5432", "6432"), edit(URL, "5432", "6432/x"), None),
    case("delete-vs-edit-inside", URL, edit(URL, "?sslmode=require", ""), edit(URL, "require", "disable"), None),
    case("pem-same-line", PEM, edit(PEM, "MIDDLELINE", "MIDLINE"), edit(PEM, "MIDDLELINE", "CENTRELINE"), None),
    # edits a few characters apart: refused below the 4-char patch margin, merged from 4 on
    case("gap-0-adjacent", "abcdefghij", "aXcdefghij", "abYdefghij", None),
    case("gap-2", "abcdefghij", "aXcdefghij", "abcdYfghij", None),
    case("gap-3", "abcdefghij", "aXcdefghij", "abcdeYghij", None),
    case("gap-4", "abcdefghij", "aXcdefghij", "abcdefYhij", "aXcdefYhij"),
    case("gap-6", "abcdefghij", "aXcdefghij", "abcdefghYj", "aXcdefghYj"),
    case("host-and-port-close", "host=a port=1", "host=b port=1", "host=a port=2", "host=b port=2"),
    # unicode: code points, not bytes
    case("unicode-accents", "héllo wörld — ünïcode ✓ ok", "Héllo wörld — ünïcode ✓ ok", "héllo wörld — ünïcode ✓ OK",
         "Héllo wörld — ünïcode ✓ OK"),
    case("unicode-emoji-at-both-ends", "😀 middle of the value 😀", "😁 middle of the value 😀",
         "😀 middle of the value 🎉", "😁 middle of the value 🎉"),
    case("unicode-same-emoji-edited", "a😀b", "a😁b", "a🎉b", None),
    # empty strings
    case("empty-base-one-side-adds", "", "x", "", "x"),
    case("empty-base-both-add-differently", "", "x", "y", None),
    case("empty-base-both-add-the-same", "", "x", "x", "x"),
    case("emptied-on-one-side", "x", "", "x", ""),
    case("emptied-vs-edited", "abc", "", "abd", None),
    case("all-empty", "", "", "", ""),
]


@pytest.mark.parametrize("base, local, remote, expected", CASES)
def test_merge3_table(base, local, remote, expected):
    assert merge3(base, local, remote) == expected
    assert merge3(base, remote, local) == expected  # merging is symmetric


def test_matching_is_exact_not_fuzzy():
    """A patch is never applied at a guessed place: when the other side changed the context
    the patch was made against, the merge is refused rather than approximated."""
    base = "alpha-bravo-charlie-delta-echo"
    local = base.replace("charlie", "CHARLIE")
    remote = base.replace("bravo-charlie-delta", "bravo-charly-delta")
    assert merge3(base, local, remote) is None


# -- properties --------------------------------------------------------------------

texts = st.text(st.sampled_from("ab\n é😀"), max_size=10)
MIDDLE = "-MIDDLE-0123456789-"  # long, and built from characters the edits never use


@settings(max_examples=200, deadline=None)
@given(base=texts, local=texts, remote=texts)
def test_merge3_is_symmetric(base, local, remote):
    assert merge3(base, local, remote) == merge3(base, remote, local)


@settings(max_examples=200, deadline=None)
@given(base=texts, changed=texts)
def test_one_sided_and_identical_edits_win(base, changed):
    assert merge3(base, changed, base) == changed
    assert merge3(base, base, changed) == changed
    assert merge3(base, changed, changed) == changed


@settings(max_examples=200, deadline=None)
@given(head=st.text("abc", max_size=12), new_head=st.text("abc", max_size=12),
       tail=st.text("xyz", max_size=12), new_tail=st.text("xyz", max_size=12))
def test_edits_separated_by_untouched_text_both_land(head, new_head, tail, new_tail):
    """Local edits only the part before a long untouched middle, remote only the part after:
    the merge must be exactly both edits, whatever they are (insertions, deletions, rewrites)."""
    base = head + MIDDLE + tail
    merged = merge3(base, new_head + MIDDLE + tail, head + MIDDLE + new_tail)
    assert merged == new_head + MIDDLE + new_tail


@settings(max_examples=200, deadline=None)
@given(base=texts, local=texts, remote=texts)
def test_a_merge_result_keeps_what_both_sides_kept(base, local, remote):
    """When both sides kept the base's first (or last) character, so does any merge."""
    merged = merge3(base, local, remote)
    if merged is None or not base:
        return
    if local[:1] == remote[:1] == base[:1]:
        assert merged[:1] == base[:1]
    if local[-1:] == remote[-1:] == base[-1:]:
        assert merged[-1:] == base[-1:]


@pytest.mark.parametrize("base, local, remote", [
    ("postgres://db:5432/app?pool=5", "postgres://db:6432/app?pool=5", "postgres://db:5432/app?pool=9"),
    ("line one\nline two\nline three\nline four\n", "line 1\nline two\nline three\nline four\n",
     "line one\nline two\nline three\nline 4\n"),
])
def test_rerunning_an_interrupted_merge_converges(base, local, remote):
    """If a merge wrote one side only, merging that side with the other again gives the same value."""
    merged = merge3(base, local, remote)
    assert merged is not None
    assert merge3(base, local, merged) == merged
    assert merge3(base, merged, remote) == merged
