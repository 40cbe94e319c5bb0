"""`envsync redact [TARGET…]`: copy stdin to stdout with every value of the targets replaced by
`[REDACTED:KEY]` — as written and in the encodings the leak guard looks for (base64, base64url,
URL-encoded, JSON-escaped), found by its Aho-Corasick matcher in one pass.

Streaming, in bounded memory: input is read a line (at most CHUNK characters) at a time, and a
piece is written out as soon as no value can still be running through it. A line ending in a
newline goes out at once unless some value holds a newline itself (a PEM key); then up to that
value's length is held back, so a value spanning lines is redacted too. A piece cut at CHUNK
characters holds back the longest value's length. Memory: CHUNK plus the longest value.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator, Mapping

from envsync import engine
from envsync.errors import EXIT_CLEAN
from envsync.output import CiRun, progress, warn
from envsync.scan.matcher import Matcher
from envsync.scan.values import Value, is_boolean_word, url_password
from envsync.stores import open_store

CHUNK = 1 << 16
DEFAULT_MIN_LENGTH = 6


@dataclass
class Span:
    start: int
    end: int
    key: str


def needles_of(values: Mapping[str, str], min_length: int) -> list[Value]:
    """The values worth redacting: long enough, and not a boolean word (redacting `true` would
    rewrite every log line that says it)."""
    wanted = []
    for key, value in values.items():
        if len(value) >= min_length and not is_boolean_word(value):
            wanted.append(Value(key, value, "store"))
        password = url_password(value)  # logged alone too: a driver's error message, a URL rebuilt
        if password and password != value and len(password) >= min_length and not is_boolean_word(password):
            wanted.append(Value(key, password, "store", part="password"))
    return wanted


class Redactor:
    """Feed pieces of text; take back what can be written, with the values replaced."""

    def __init__(self, values: list[Value]) -> None:
        self.matcher = Matcher(values, rules=())
        self.longest = self.matcher.longest
        patterns = [v.value for v in values]  # only a literal value holds a raw newline
        self.longest_multiline = max((len(p) for p in patterns if "\n" in p or "\r" in p), default=0)
        self.window = ""  # text not yet written
        self.offset = 0  # stream position of window[0]
        self.pieces: list[int] = []  # stream end of each piece still in the window
        self.spans: list[Span] = []  # found, not yet fully written (stream positions)

    def feed(self, text: str) -> str:
        self.window += text
        self.pieces.append(self.offset + len(self.window))
        self._search()
        return self._flush(final=False)

    def close(self) -> str:
        return self._flush(final=True)

    def _search(self) -> None:
        for start, pattern, refs in self.matcher.find(self.window):
            key = refs[0].value.key
            self._add(Span(self.offset + start, self.offset + start + len(pattern), key))

    def _add(self, new: Span) -> None:
        for span in self.spans:
            if new.start < span.end and span.start < new.end:  # overlapping: one span, the longer's key
                if new.end - new.start > span.end - span.start:
                    span.key = new.key
                span.start, span.end = min(span.start, new.start), max(span.end, new.end)
                return
        self.spans.append(new)
        self.spans.sort(key=lambda s: s.start)

    def _ready(self, end: int) -> bool:
        """Whether no value still to come can run through the piece that ends at `end`."""
        window_end = self.offset + len(self.window)
        ends_line = end > self.offset and self.window[end - self.offset - 1] in "\n\r"
        reach = self.longest_multiline if ends_line else self.longest
        return reach == 0 or window_end >= end - 1 + reach

    def _flush(self, final: bool) -> str:
        out = []
        while self.pieces and (final or self._ready(self.pieces[0])):
            end = self.pieces.pop(0)
            out.append(self._render(end))
        return "".join(out)

    def _render(self, end: int) -> str:
        """The window up to stream position `end`, redacted; it leaves the window."""
        parts, position = [], self.offset
        for span in self.spans:
            if span.start >= end or span.end <= position:
                continue
            if span.start >= position:
                parts.append(self.window[position - self.offset:span.start - self.offset])
                parts.append(f"[REDACTED:{span.key}]")
            position = min(span.end, end)
        parts.append(self.window[position - self.offset:end - self.offset])
        self.window = self.window[end - self.offset:]
        self.offset = end
        self.spans = [s for s in self.spans if s.end > end]
        return "".join(parts)


def pieces(stream: BinaryIO) -> Iterator[str]:
    """Lines of `stream` (at most CHUNK bytes each), decoded as UTF-8; other bytes pass through
    unchanged (surrogate escapes)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    while True:
        data = stream.readline(CHUNK)
        if not data:
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            return
        text = decoder.decode(data)
        if text:
            yield text


def redact(stream: BinaryIO, sink: BinaryIO, values: list[Value]) -> None:
    redactor = Redactor(values)
    for text in pieces(stream):
        _write(sink, redactor.feed(text))
    _write(sink, redactor.close())


def _write(sink: BinaryIO, text: str) -> None:
    if text:
        sink.write(text.encode("utf-8", "surrogateescape"))
        sink.flush()  # a live log stays live


def read_values(targets: Iterable, source: str, notes: list[str] | None = None) -> dict[str, str]:
    """key -> value over the targets (a key in two targets with two values: both are redacted);
    the stores' notes are added to `notes`, to warn about once the values are masked."""
    found: dict[str, str] = {}
    extra = 0
    for target in targets:
        if source == "local":
            values = engine.read_local(target, must_exist=True).values
        else:
            with progress(f"reading {target.name}") as tick:
                store = open_store(target)
                values = store.read(tick).values
            if notes is not None:
                notes.extend(store.notes)
        for key, value in values.items():
            if key in found and found[key] != value:
                extra += 1
                found[f"{key}\0{extra}"] = value  # a second value of the key; the label drops the suffix
            else:
                found[key] = value
    return found


def run(config, names: tuple[str, ...], all_targets: bool, *, source: str, min_length: int, stdin: BinaryIO,
        stdout: BinaryIO) -> int:
    targets = config.select(names, all_targets)
    notes: list[str] = []
    values = read_values(targets, source, notes)
    CiRun("redact").mask(values.values())
    for message in notes:
        warn(message)
    wanted = [Value(v.key.split("\0")[0], v.value, v.source) for v in needles_of(values, min_length)]
    if not wanted:
        warn("no values to redact (none at least --min-length long): input is copied as is")
    redact(stdin, stdout, wanted)
    return EXIT_CLEAN
