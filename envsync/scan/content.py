"""Turning a file's bytes into text the matcher can read, whatever the file is: UTF-8, UTF-16
(PowerShell scripts, .reg exports), Latin-1, binary — and files too big to hold at once, read in
pieces that overlap by the longest match. Nothing is skipped for its encoding or its size.

Latin-1 maps every byte to one character, so binary content and pieces cut at any byte are searched
"as bytes": ASCII values match as they are, and the matcher also holds each non-ASCII needle's
UTF-8 bytes read as Latin-1. Pure: the caller passes the bytes or an iterator of chunks."""
from __future__ import annotations

from typing import Iterable, Iterator

BINARY_SNIFF = 8000  # git's own heuristic: a NUL in the first 8000 bytes means binary


def sniff(head: bytes) -> str:
    """The encoding to read a file as, from its first bytes: utf-8, utf-16-le/-be, or latin-1
    for anything with NUL bytes that is not UTF-16 (binary)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:BINARY_SNIFF]
    if b"\0" not in sample:
        return "utf-8"
    odd, even = sample[1::2], sample[0::2]
    if len(odd) >= 2 and odd.count(0) * 10 >= len(odd) * 9 and even.count(0) * 10 < len(even):
        return "utf-16-le"
    if len(even) >= 2 and even.count(0) * 10 >= len(even) * 9 and odd.count(0) * 10 < len(odd):
        return "utf-16-be"
    return "binary"


def decode(data: bytes) -> tuple[str, str]:
    """(text, how it was read): utf-8, utf-16[-le/-be], latin-1 (not valid UTF-8), or binary
    (NUL bytes; read as Latin-1, i.e. searched as bytes)."""
    kind = sniff(data)
    if kind.startswith("utf-16"):
        try:
            return data.decode(kind), kind
        except UnicodeDecodeError:
            kind = "binary"
    if kind == "utf-8":
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            return data.decode("latin-1"), "latin-1"
    return data.decode("latin-1"), "binary"


def pieces(chunks: Iterable[bytes], size: int, overlap: int,
           lead: int = 0) -> Iterator[tuple[str, int, int, int, str]]:
    """(text, begin, own, first line, how read) for each piece of a big file: `text` is up to `lead`
    characters before the piece (for rules that match backwards from their keyword), the piece, and up
    to `overlap` characters of the next one; a match belongs to this piece when it starts in
    text[begin:own] (so nothing is found twice) and `first_line` is the line number of text[0]."""
    stream = _rechunk(chunks)
    buffer = b""
    kind: str | None = None
    start = 0  # bytes of `buffer` before the current piece: its lead
    line = 1
    for block in stream:
        buffer += block
        if kind is None:
            kind = sniff(buffer[:BINARY_SNIFF])
            if kind == "utf-16":
                kind = "utf-16-le" if buffer.startswith(b"\xff\xfe") else "utf-16-be"
            width = 2 if kind.startswith("utf-16") else 1
            # At least one whole character per piece: a size of 0 would never move through the buffer.
            size, overlap, lead = max(width, size - size % width), overlap * width, lead * width
        while len(buffer) >= start + size + overlap:
            text, begin, own = _piece(buffer[:start + size + overlap], start, start + size, kind)
            yield text, begin, own, line, _label(kind)
            drop = start + size - min(lead, start + size)
            line += _newlines(buffer[:drop], kind)
            buffer, start = buffer[drop:], start + size - drop
    if len(buffer) > start or kind is None:
        kind = kind or "utf-8"
        text, begin, own = _piece(buffer, start, len(buffer), kind)
        yield text, begin, own, line, _label(kind)


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if chunk:
            yield chunk


def _piece(data: bytes, begin_bytes: int, own_bytes: int, kind: str) -> tuple[str, int, int]:
    """The piece's text, and where its own part begins and ends in it (in characters)."""
    if kind.startswith("utf-16"):
        parts = [data[:begin_bytes], data[begin_bytes:own_bytes], data[own_bytes:]]
        lead, own, rest = (part.decode(kind, "replace") for part in parts)
        return lead + own + rest, len(lead), len(lead) + len(own)
    return data.decode("latin-1"), begin_bytes, own_bytes


def _newlines(data: bytes, kind: str) -> int:
    return data.decode(kind, "replace").count("\n") if kind.startswith("utf-16") else data.count(b"\n")


def _label(kind: str) -> str:
    return kind if kind.startswith("utf-16") else "pieces"
