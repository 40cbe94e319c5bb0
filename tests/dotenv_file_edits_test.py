"""Runs of edits on a DotenvDocument render exactly what the plain list algorithm renders.

The document keeps its edits linear (issue 16) with removals emptied in place and
keys set `after=` another held by their anchor; this compares it, over random runs of
set / set-after / unset, with the obvious algorithm that edits the list directly (the
one it replaced, with the line ending taken once from the file as read).
"""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from envsync import dotenv_file
from envsync.dotenv_file import Entry, encode_value


class ListDocument:
    """The reference: every edit scans and edits the entry list."""

    def __init__(self, text: str) -> None:
        parsed = dotenv_file.parse(text)
        self.bom = parsed.bom
        self.entries = [Entry(e.lead, e.body, e.line, e.key, e.value) for e in parsed.entries]
        self.newline: str | None = None

    def set(self, key: str, value: str, after: str | None) -> None:
        bindings = [e for e in self.entries if e.key == key]
        if bindings:
            if bindings[-1].value != value:
                bindings[-1].body = dotenv_file._rewrite_value(bindings[-1].body, value, key)
                bindings[-1].value = value
            return
        if self.newline is None:
            found = re.search(r"\r\n|\n|\r", "".join(e.text for e in self.entries))
            self.newline = found.group(0) if found else "\n"
        bodies = [e.body.lstrip() for e in self.entries if e.key is not None]
        exported = bool(bodies) and all(re.match(r"export[^\S\r\n]", b) for b in bodies)
        entry = Entry("", f"{'export ' if exported else ''}{key}={encode_value(value, key=key)}{self.newline}", 0, key, value)
        anchors = [i for i, e in enumerate(self.entries) if after is not None and e.key == after]
        position = anchors[-1] + 1 if anchors else len(self.entries)
        if position > 0:
            previous = self.entries[position - 1]
            if previous.text and not previous.text.endswith(("\n", "\r")):
                previous.body += self.newline
        self.entries.insert(position, entry)

    def unset(self, key: str) -> bool:
        found = False
        for index in reversed(range(len(self.entries))):
            entry = self.entries[index]
            if entry.key == key:
                found = True
                if entry.lead:
                    self.entries[index] = Entry(entry.lead, "", entry.line)
                else:
                    del self.entries[index]
        return found

    def render(self) -> str:
        return ("\ufeff" if self.bom else "") + "".join(e.text for e in self.entries)


FILES = [
    "",
    "A=1\nB=2\nC=3\n",
    "A=1\nB=2",
    "\n\nA=1\n\nB=2\n\n\nC=3\n\n",
    "# header\n\nexport A=1\nexport B='two'\n",
    "export A=1\nB=2\nexport C=3\n",
    "A=1\r\nB=\"x\"\r\n# note\r\nC=3",
    "A=1\rB=2\rC=3",
    "\ufeffA=1 # inline\nB= #empty\nC='single'\n\n\n",
    "A=\"multi\nline\"\nB=2\nB=dup\nA=again\n",
    "LONELY\nA=1\nLONELY\n",
    "# only a comment",
]
KEYS = st.sampled_from(["A", "B", "C", "LONELY", "N1", "N2", "N3"])
VALUES = st.sampled_from(["v", "", "a b", "x#y", "'q'", "multi\nline"])
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, VALUES, st.none()),
        st.tuples(st.just("set"), KEYS, VALUES, KEYS),
        st.tuples(st.just("unset"), KEYS, st.none(), st.none()),
        st.tuples(st.just("read"), KEYS, st.none(), st.none()),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FILES), OPERATIONS)
def test_runs_of_edits_render_as_the_list_algorithm(text: str, operations) -> None:
    document, reference = dotenv_file.parse(text), ListDocument(text)
    for op, key, value, after in operations:
        if op == "set":
            document.set(key, value, after=after)
            reference.set(key, value, after)
        elif op == "unset":
            assert document.unset(key) == reference.unset(key)
        else:  # reading in the middle of a run settles the pending edits; the run goes on from there
            assert document.render() == reference.render()
            assert document.line_of(key) == next((e.line for e in reversed(reference.entries) if e.key == key), None)
    assert document.render() == reference.render()
    assert [(e.lead, e.body, e.key, e.value) for e in document.entries] == \
        [(e.lead, e.body, e.key, e.value) for e in reference.entries]
    assert document.values() == dotenv_file.parse(document.render()).values()


def test_keys_set_after_one_anchor_come_newest_first_and_chain():
    document = dotenv_file.parse("A=1\nB=2\n")
    document.set("N1", "1", after="A")
    document.set("N2", "2", after="A")
    document.set("N3", "3", after="N1")
    assert document.render() == "A=1\nN2=2\nN1=1\nN3=3\nB=2\n"


def test_keys_set_after_a_removed_anchor_stay_where_it_was():
    document = dotenv_file.parse("A=1\nB=2\n")
    document.set("N1", "1", after="A")
    document.unset("A")
    document.set("N2", "2")
    assert document.render() == "N1=1\nB=2\nN2=2\n"


def test_removing_the_last_keys_then_adding_keeps_one_line_ending():
    document = dotenv_file.parse("A=1\nB=2\nC=3")
    document.unset("C")
    document.unset("B")
    document.set("N", "v")
    assert document.render() == "A=1\nN=v\n"
