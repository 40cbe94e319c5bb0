"""Finding the values and tokens in a file's text: one Aho-Corasick automaton for every needle and
rule keyword, overlap resolution, line numbers, the `envsync: allow` pragma, and each finding's
fingerprint (computed over the line with the secret masked). Pure: no I/O."""
from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, NamedTuple, Sequence

from envsync.escaping import escape
from envsync.scan.rules import RULES, Rule
from envsync.scan.values import Value, encodings

PRAGMA = re.compile(r"envsync:\s*allow\b")
ENV_VALUE = "env-value"
ENV_FILE = "env-file"
ENV_UNPARSED = "env-unparsed"  # a line of a local .env file that is not KEY=value
UNSCANNED = "unscanned"  # a file the scan could not read (allowed only by --allow-unscanned)


# Printable ASCII from rarest to commonest in source code (counted over 20 MB of Python, JS, JSON, YAML
# and Markdown). A pattern enters the automaton by the substring that starts at its rarest character.
_RARITY = "&$Q?JZ9;^%758!6X\\~43Y+<|K2W@BG1jUV/0HMF>z*LD'O`qPCS{}R][#EAINvxwkT=b-()yg,h.:m_fudpc\"loinasrte \t\r\n"
_RANK = str.maketrans({c: chr(0x1000 + i) for i, c in enumerate(_RARITY)})
# The same ranks for ASCII text as a bytes table (C speed): controls and DEL rank rarest (0).
_BYTE_RANK = bytes(_RARITY.index(chr(b)) + 1 if chr(b) in _RARITY else 0 for b in range(128)) + bytes(128)
ANCHOR = 4  # needles (values in their encodings) are >= 6 characters, most 12-60: 4 keeps the trie shallow
KEYWORD_ANCHOR = 8  # rule keywords are few: a longer anchor keeps "_key"-like fragments from matching often


def anchor_of(pattern: str, length: int = ANCHOR) -> tuple[int, str]:
    """(offset, anchor): the `length`-character substring of `pattern` (all of it when shorter) that starts
    at its rarest character. Characters outside the table (controls, non-ASCII) count as rarest."""
    if len(pattern) <= length:
        return 0, pattern
    head = pattern[:len(pattern) - length + 1]
    try:
        window: str | bytes = head.encode("ascii").translate(_BYTE_RANK)
    except UnicodeEncodeError:
        window = head.translate(_RANK)
    offset = window.index(min(window))
    return offset, pattern[offset:offset + length]


class Needle(NamedTuple):
    value: Value
    encoding: str


class Matcher:
    """One Aho-Corasick automaton for every needle of every value and every rule keyword.

    Each pattern is stored under its anchor (see anchor_of) with the anchor's offset in it; a hit
    on the anchor is confirmed by comparing the whole pattern in place."""

    def __init__(self, values: Sequence[Value], rules: Sequence[Rule] = RULES) -> None:
        import ahocorasick_rs  # small compiled extension; imported only when a scan runs

        self.rules = tuple(rules)
        self.searching = tuple(rule for rule in rules if rule.searches)  # the rules with no keywords

        needles: dict[str, list[Needle]] = {}
        for value in values:
            for needle, encoding in encodings(value.value).items():
                needles.setdefault(needle, []).append(Needle(value, encoding))
                if not needle.isascii():  # the UTF-8 bytes as Latin-1 text: binary files and big-file pieces
                    raw = needle.encode("utf-8", "surrogateescape").decode("latin-1")
                    needles.setdefault(raw, []).append(Needle(value, encoding))
        self.longest = max(map(len, needles), default=0)
        self.needle_count = sum(map(len, needles.values()))
        keywords: dict[str, list[Rule]] = {}
        for rule in rules:
            for keyword in rule.keywords:
                keywords.setdefault(keyword, []).append(rule)
        by_anchor: dict[str, list[tuple[str, int, tuple[Needle | Rule, ...]]]] = {}
        for table, length in ((needles, ANCHOR), (keywords, KEYWORD_ANCHOR)):
            for pattern, refs in table.items():
                offset, anchor = anchor_of(pattern, length)
                by_anchor.setdefault(anchor, []).append((pattern, offset, tuple(refs)))
        anchors = list(by_anchor)
        self._entries = [by_anchor[a] for a in anchors]
        # ahocorasick-rs's DFA costs the same per character however many patterns and however deep
        # the text enters the trie: ~7x pyahocorasick's speed on source text with every rule keyword.
        kind = _implementation(ahocorasick_rs, len(anchors))
        self._automaton = ahocorasick_rs.AhoCorasick(anchors, implementation=kind) if anchors else None

    def find(self, text: str) -> Iterator[tuple[int, str, tuple[Needle | Rule, ...]]]:
        """(start, pattern, refs) for every occurrence of every pattern in `text`."""
        if self._automaton is None:
            return
        startswith = text.startswith
        entries_of = self._entries
        for index, anchor_start, _ in self._matches(text):
            for pattern, offset, refs in entries_of[index]:
                start = anchor_start - offset
                if start >= 0 and startswith(pattern, start):
                    yield start, pattern, refs


    def _matches(self, text: str) -> list[tuple[int, int, int]]:
        try:
            return self._automaton.find_matches_as_indexes(text, overlapping=True)  # type: ignore[union-attr]
        except UnicodeEncodeError:
            # Bytes that were not UTF-8, kept as lone surrogates (surrogateescape: redact's input);
            # the Rust automaton takes only encodable text. One code point for one keeps every
            # index, and no value holds a surrogate, so no match is lost or made.
            searchable = _LONE_SURROGATE.sub("\ufffd", text)
            return self._automaton.find_matches_as_indexes(searchable, overlapping=True)  # type: ignore[union-attr]


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# A DFA's tables grow with the pattern count (measured: +45 MB at 59,000 anchors, 20,000 values;
# 5,000 values make ~18,500): past this many, a compact NFA (about half as fast) bounds memory.
DFA_MAX_ANCHORS = 40_000


def _implementation(module: Any, count: int) -> Any:
    return module.Implementation.DFA if count <= DFA_MAX_ANCHORS else module.Implementation.ContiguousNFA


@dataclass
class ScanFinding:
    """What the leak guard reports: a leaked value or token, or a file it refuses (`.env`) or could not
    read — where, which rule, which `.env` key, never the value. Not drift.Finding: a key that
    differs between schema, `.env` and store."""

    file: str
    line: int | None
    column: int | None
    rule: str
    key: str | None = None
    source: str | None = None  # where the key's value came from: `.env`, `store:prod`
    encoding: str | None = None  # literal, base64, base64url, url-encoded, json-escaped
    part: str | None = None  # "password" when only the URL's password was found
    also: str | None = None  # a token rule the same text matches, e.g. "AWS access key ID"
    fingerprint: str = ""
    allowed_by: str | None = None  # "pragma" or "baseline"
    detail: str | None = None  # for env-file findings: what to do

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (self.file, self.line or 0, self.column or 0, self.rule, self.key or "")

    def describe(self) -> str:
        """One line for humans; names the key and the encoding, never the value."""
        if self.rule == ENV_VALUE:
            text = f"value of {self.key} from {self.source}"
            if self.part:
                text += f" (the {self.part} inside it)"
            if self.encoding and self.encoding != "literal":
                text += f", {self.encoding}" + ("-encoded" if self.encoding.startswith("base64") else "")
            if self.also:
                text += f" — also looks like a {self.also}"
            return text
        if self.rule in (ENV_FILE, ENV_UNPARSED, UNSCANNED):
            return self.detail or "a .env file — keep it out of git"
        rule = RULE_BY_ID.get(self.rule)
        if rule is None and self.detail:
            return self.detail  # a rule of the repository's gitleaks configuration
        return f"{rule.name if rule else self.rule} — {rule.help if rule else 'remove it'}"

    def to_json(self) -> dict[str, Any]:
        data = {"file": self.file, "line": self.line, "column": self.column, "rule": self.rule, "key": self.key,
                "source": self.source, "encoding": self.encoding, "message": self.describe(),
                "fingerprint": self.fingerprint}
        if self.allowed_by:
            data["allowed_by"] = self.allowed_by
        return data


RULE_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass
class _Hit:
    start: int
    end: int
    rule: str
    needles: list[Needle] = field(default_factory=list)
    also: str | None = None
    token_rule: Rule | None = None


def scan_text(name: str, text: str, matcher: Matcher, own: int | None = None, first_line: int = 1,
              begin: int = 0) -> list[ScanFinding]:
    """Every finding in one file's text (pragma applied, baseline not yet). For a piece of a big file,
    only matches whose keyword or value starts in text[begin:own] count (what comes before `begin` is
    context for rules that read backwards), and its lines start at `first_line`."""
    own = len(text) if own is None else own
    value_hits: dict[tuple[int, int], _Hit] = {}
    token_hits: dict[tuple[str, int, int], _Hit] = {}
    for start, pattern, refs in matcher.find(text):
        if start < begin or start >= own:
            continue
        for ref in refs:
            if isinstance(ref, Needle):
                if ref.value.source == name:
                    continue  # a .env file scanned on purpose does not leak its own values
                hit = value_hits.setdefault((start, start + len(pattern)), _Hit(start, start + len(pattern), ENV_VALUE))
                hit.needles.append(ref)
            else:
                span = ref.match(text, start)
                if span is not None:
                    token_hits.setdefault((ref.id, *span), _Hit(span[0], span[1], ref.id, token_rule=ref))
    for rule in matcher.searching:
        for span in rule.find_all(text, begin, own):
            token_hits.setdefault((rule.id, *span), _Hit(span[0], span[1], rule.id, token_rule=rule))
    hits = _resolve_overlaps([h for h in value_hits.values() if h.needles], list(token_hits.values()))
    return _to_findings(name, text, hits, first_line)


def _resolve_overlaps(values: list[_Hit], tokens: list[_Hit]) -> list[_Hit]:
    """A value found inside a longer value's match is the same leak; a token that is a known value is
    reported once, as the value (it names the key) noting the token type.

    Kept spans neither nest nor overlap a kept token, so their starts and their ends both increase:
    the first kept span a hit overlaps is found by bisecting the ends. (Comparing each hit with every
    kept span was quadratic: a committed file of 16,000 addresses took 4 s.)"""
    values.sort(key=lambda h: (h.start, -h.end))
    kept: list[_Hit] = []
    reach = -1
    for hit in values:
        if hit.end <= reach:
            continue
        kept.append(hit)
        reach = hit.end
    value_starts, value_ends = [h.start for h in kept], [h.end for h in kept]
    token_starts: list[int] = []  # the tokens kept so far, in order
    token_ends: list[int] = []
    result = list(kept)
    # A catch-all rule speaks only where no value and no specific rule does; one that knows the name
    # (secret-assignment) before one that knows only the shape (high-entropy-string, public-ip).
    ordered = sorted(tokens, key=lambda h: (h.token_rule.generic, h.token_rule.searches,  # type: ignore[union-attr]
                                            h.start, h.end, h.rule))
    for _, group in itertools.groupby(ordered, key=lambda h: (h.token_rule.generic, h.token_rule.searches)):  # type: ignore[union-attr]
        fresh: list[_Hit] = []  # this group's kept tokens, by start: only the last can reach a later one
        for token in group:
            rule = token.token_rule
            assert rule is not None
            value = _first_overlap(value_starts, value_ends, token)
            if value is not None:
                if not rule.generic:
                    kept[value].also = kept[value].also or rule.name
            elif _first_overlap(token_starts, token_ends, token) is None and not (fresh and token.start < fresh[-1].end):
                fresh.append(token)
        result += fresh
        spans = sorted([*zip(token_starts, token_ends), *((t.start, t.end) for t in fresh)])
        token_starts, token_ends = [start for start, _ in spans], [end for _, end in spans]
    return sorted(result, key=lambda h: (h.start, h.end, h.rule))


def _first_overlap(starts: list[int], ends: list[int], hit: _Hit) -> int | None:
    """The index of the first span (by start) that `hit` overlaps, where starts and ends both increase."""
    index = bisect.bisect_right(ends, hit.start)
    return index if index < len(starts) and starts[index] < hit.end else None


def _to_findings(name: str, text: str, hits: list[_Hit], first_line: int = 1) -> list[ScanFinding]:
    findings: dict[tuple[int, str, str | None], ScanFinding] = {}
    lines = _LineIndex(text, first_line)
    spans_by_line: dict[int, list[tuple[int, int]]] = {}
    located = []
    for hit in hits:
        line, line_start, line_end = lines.locate(hit.start)
        spans_by_line.setdefault(line, []).append((hit.start, hit.end))
        located.append((hit, line, line_start, line_end))
    for hit, line, line_start, line_end in located:
        line_text = text[line_start:line_end]
        keys = sorted({n.value.key for n in hit.needles})
        key = ", ".join(keys) if keys else None
        if (line, hit.rule, key) in findings:
            continue
        first = min(hit.needles, key=lambda n: (n.value.key, n.value.source, n.encoding)) if hit.needles else None
        finding = ScanFinding(
            file=name, line=line, column=hit.start - line_start + 1, rule=hit.rule, key=key,
            source=", ".join(sorted({n.value.source for n in hit.needles})) or None,
            encoding=first.encoding if first else None, part=first.value.part if first else None, also=hit.also,
            fingerprint=fingerprint(name, hit.rule, key, mask_line(text, line_start, line_end, spans_by_line[line])),
            allowed_by="pragma" if PRAGMA.search(line_text) else None,
            detail=f"{escape(hit.token_rule.name)} — {escape(hit.token_rule.help)}"
            if hit.token_rule is not None and hit.rule not in RULE_BY_ID else None,
        )
        findings[(line, hit.rule, key)] = finding
    return list(findings.values())


class _LineIndex:
    """Line numbers for increasing offsets in one pass (and correct, if slower, for any offset).
    The current line's bounds are kept: many hits on one long line (a minified file, a list of
    addresses) must not each search back to the line's start."""

    def __init__(self, text: str, first_line: int = 1) -> None:
        self.text = text
        self.first_line = first_line
        self.offset = 0
        self.line = first_line
        self.bounds = (0, -1)  # the current line's [start, end of text before its newline)

    def locate(self, position: int) -> tuple[int, int, int]:
        """(line number, line start, line end without its newline) of `position`."""
        if position < self.offset:
            self.offset, self.line, self.bounds = 0, self.first_line, (0, -1)
        self.line += self.text.count("\n", self.offset, position)
        self.offset = position
        start, newline = self.bounds
        if not start <= position <= newline:
            start = self.text.rfind("\n", 0, position) + 1
            newline = self.text.find("\n", position)
            newline = len(self.text) if newline < 0 else newline
            self.bounds = (start, newline)
        end = newline - 1 if newline > start and self.text[newline - 1] == "\r" else newline
        return self.line, start, end


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_%.\\-]*")


def mask_line(text: str, line_start: int, line_end: int, spans: list[tuple[int, int]]) -> str:
    """The line with every finding on it replaced by `\\0`, each widened to its whole token so that the
    base64 characters around a value (which carry a few of its bits) are masked too."""
    pieces, cursor = [], line_start
    for start, end in sorted(spans):
        start = max(start, cursor)
        while start > line_start and _TOKEN_CHARS.fullmatch(text[start - 1]):
            start -= 1
        found = _TOKEN_CHARS.match(text, end, line_end)
        end = max(end, found.end() if found else end)
        pieces.append(text[cursor:max(cursor, start)])
        pieces.append("\0")
        cursor = max(cursor, end)
    pieces.append(text[cursor:line_end])
    return "".join(pieces).strip()


def fingerprint(file: str, rule: str, key: str | None, context: str) -> str:
    """A stable id for a finding: sha256 of file, rule, key and the masked line — no value goes in."""
    from hashlib import sha256  # ~3 ms of import (OpenSSL): only when something is found

    material = "\0".join(["envsync-baseline-v1", file, rule, key or "", context])
    return sha256(material.encode("utf-8", "surrogateescape")).hexdigest()[:32]
