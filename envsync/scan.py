"""The leak guard: find the repo's own `.env` values, and known token formats, in
files about to be committed — without ever showing a value.

How a scan works:

1. Collect the values to look for: every value of the repo's local `.env`
   files (the root's `.env*` and each target's `file`, when not committed
   to git), of `--values-from` files and, with `--from-store`, of stores. Values
   too short or too common to be secrets are dropped (`skip_reason`).
2. Turn each value into needles: as written, base64 (standard and URL-safe, at
   each of the three byte alignments, so a value inside a larger base64 blob
   such as `user:password` is found too), URL-encoded and JSON-escaped.
3. Put every needle and every rule keyword (scan_rules) into ONE Aho-Corasick
   automaton and read each file once. Each pattern enters the automaton by a
   short anchor that starts at its rarest character, and a hit is confirmed
   by comparing the whole pattern in place: the automaton stays shallow,
   which roughly doubles pyahocorasick's speed on ordinary source text.
4. Allow what a human allowed: an `envsync: allow` pragma on the line, or an
   entry in the baseline file (file, rule, key and a fingerprint of the line
   with the secret masked — never the value nor a hash of it).

Staged content comes from git's index (`git diff --cached` + `git cat-file
--batch`), not from the working tree. Nothing here prints; `render_*` return
text or JSON-ready data for the CLI.
"""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Sequence
from urllib.parse import quote, quote_plus, urlsplit

from envsync.errors import InputError
from envsync.scan_rules import RULES, Rule

BASELINE_FILE = ".envsync-baseline.json"
BASELINE_VERSION = 1
DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_SIZE = 5 * 1024 * 1024
ENV_FILE_PATTERNS = (".env", ".env.*", "*.env")
ALLOWED_ENV_FILES = (".env.example", ".env.sample", ".env.template")
BINARY_SNIFF = 8000  # git's own heuristic: a NUL in the first 8000 bytes means binary
PRAGMA = re.compile(r"envsync:\s*allow\b")
ENV_VALUE = "env-value"
ENV_FILE = "env-file"


@dataclass(frozen=True)
class Settings:
    """What the user tuned (command-line options or ENVSYNC_SCAN_* variables)."""

    min_length: int = DEFAULT_MIN_LENGTH
    max_size: int = DEFAULT_MAX_SIZE
    allowed_env_files: tuple[str, ...] = ALLOWED_ENV_FILES
    every_value: bool = False  # look for every value >= min_length, even ones that look like words or numbers


def parse_size(text: str) -> int:
    """`5MB`, `512k`, `1g` or a byte count -> bytes (units are powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", text.lower())
    if not found:
        raise InputError(f"--max-size {text!r}: use a size such as 5MB, 512k or 1000000")
    number, unit = found.groups()
    return int(float(number) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit])


# -- which values are worth looking for --------------------------------------------------------------------

_BOOLEANS = {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "undefined", "enabled", "disabled",
             "enable", "disable"}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[._,]\d+)*|\d*\.\d+)(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|k|kb|mb|gb|%)?", re.I)
_VERSION = re.compile(r"v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.]+)?")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "host.docker.internal", "localhost.localdomain"}
_ADDRESS = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?:/\d+)?|localhost(?::\d+)?|\[?[0-9a-f:]*::[0-9a-f:]*\]?(?::\d+)?")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+\.?(?::\d+)?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Words, names, paths, regions, MIME types: lowercase letters (a part may end in <= 2 digits) or short numbers.
_WORDY = re.compile(r"(?:~|\.{1,2})?/?(?:(?:[a-z]+\d{0,2}|\d{1,4})(?:[-_./: ]+|$))+")
_SHOUTY = re.compile(r"[A-Z]+(?:[-_.][A-Z]+)*")
_PLACEHOLDER_FORM = re.compile(r"<[^<>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|%\([^)]*\)s|\*{3,}.*|\.{3,}|.*(?:x{4,}|X{4,}).*")
_PLACEHOLDER_MARKERS = ("changeme", "change-me", "change_me", "placeholder", "redacted", "example", "dummy", "your-",
                        "your_", "yourkey", "yoursecret", "-here", "_here", " here", "replace-me", "replace_me",
                        "replaceme", "insert-", "insert_", "fixme", "not-set", "not_set", "notset")
# Default and demo passwords found in countless compose files and tutorials: searching for them only finds noise.
_COMMON_SECRETS = {"password", "password1", "password12", "password123", "passw0rd", "p@ssw0rd", "p@ssword",
                   "secret", "secret123", "supersecret", "mysecret", "mysecretpassword", "secretpassword",
                   "secretkey", "mysecretkey", "supersecretkey", "admin123", "admin1234", "letmein", "qwerty123",
                   "postgres", "postgres123", "root1234", "s3cr3t", "s3cr3tkey", "test1234", "testtest", "guest123",
                   "minioadmin", "rabbitmq", "development", "production", "staging"}
_SECRETISH_QUERY = re.compile(r"(?i)(?:key|token|secret|sig|signature|password|pass|pwd|auth|credential)")


def skip_reason(value: str, settings: Settings = Settings()) -> str | None:
    """Why `value` is not worth looking for (too short or too common to be a secret), or None."""
    if not value.strip():
        return "empty"
    if len(value) < settings.min_length:
        return "shorter than the floor"
    if settings.every_value:
        return None
    lowered = value.strip().lower()
    if lowered in _BOOLEANS:
        return "boolean"
    if _NUMBER.fullmatch(value) or _VERSION.fullmatch(value):
        return "number"
    if lowered in _LOCAL_HOSTS or _ADDRESS.fullmatch(lowered):
        return "local or IP address"
    if "://" in value:
        return _url_reason(value)
    if _HOST.fullmatch(value):
        return "host name"
    if _EMAIL.fullmatch(value):
        return "email address"
    if _PLACEHOLDER_FORM.fullmatch(value) or any(m in lowered for m in _PLACEHOLDER_MARKERS):
        return "placeholder"
    if re.sub(r"[-_ .]", "", lowered) in _COMMON_SECRETS:
        return "common default password"
    if len(set(value)) < 4:
        return "too few distinct characters"
    if (_WORDY.fullmatch(value) and (len(value) <= 40 or "/" in value)) or (_SHOUTY.fullmatch(value) and len(value) <= 40):
        return "word, name or path"
    return None


def _url_reason(value: str) -> str | None:
    """URLs are skipped unless they carry a credential: a password, a secret-looking query or path part."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return None
    if password or parts.username and len(parts.username) >= 16:
        return None
    if parts.query and _SECRETISH_QUERY.search(parts.query):
        return None
    if any(len(seg) >= 16 and re.search(r"\d", seg) and re.search(r"[A-Za-z]", seg) for seg in parts.path.split("/")):
        return None
    return "URL without credentials"


def url_password(value: str) -> str | None:
    """The password inside a URL value (`postgres://app:PASSWORD@db/app`), if it has one."""
    if "://" not in value:
        return None
    try:
        return urlsplit(value).password
    except ValueError:
        return None


# -- encodings ----------------------------------------------------------------------------------------------


_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
_JSON_SAFE = re.compile(r"[ !#-.0-\[\]-~]*")  # printable ASCII but `"`, `/` and `\`


def encodings(value: str) -> dict[str, str]:
    """Every needle for `value` -> the encoding it represents; a needle shared by two encodings keeps the first."""
    needles = {value: "literal"}
    data = value.encode("utf-8", "surrogateescape")
    for needle in base64_needles(data):
        needles.setdefault(needle, "base64")
        if "+" in needle or "/" in needle:
            needles.setdefault(needle.replace("+", "-").replace("/", "_"), "base64url")
    if not _URL_SAFE.fullmatch(value):
        for needle in (quote(value, safe=""), quote(value, safe="/"), quote_plus(value), quote_plus(value, safe="/")):
            needles.setdefault(needle, "url-encoded")
            needles.setdefault(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), needle), "url-encoded")
    if not _JSON_SAFE.fullmatch(value):
        for escaped in (json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]):
            needles.setdefault(escaped, "json-escaped")
            needles.setdefault(escaped.replace("/", "\\/"), "json-escaped")
    return needles


def base64_needles(data: bytes, urlsafe: bool = False) -> list[str]:
    """The base64 text of `data` at each of the three byte alignments it can have inside a larger blob,
    trimmed to the characters that depend on `data` alone."""
    found = []
    for offset, pad in enumerate((b"", b"\0", b"\0\0")):
        encoded = base64.b64encode(pad + data).decode("ascii")
        needle = encoded[(8 * offset + 5) // 6:(8 * (offset + len(data))) // 6]
        if urlsafe:
            needle = needle.replace("+", "-").replace("/", "_")
        if len(needle) >= 6:
            found.append(needle)
    return found


# -- the automaton ------------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class Value:
    """One value to look for: its key, where it came from, and which part of the value it is."""

    key: str
    value: str
    source: str
    part: str | None = None  # "password" for the password inside a URL value


class Needle(NamedTuple):
    value: Value
    encoding: str


class Matcher:
    """One Aho-Corasick automaton for every needle of every value and every rule keyword.

    Each pattern is stored under its anchor (see anchor_of) with the anchor's offset in it; a hit
    on the anchor is confirmed by comparing the whole pattern in place."""

    def __init__(self, values: Sequence[Value], rules: Sequence[Rule] = RULES) -> None:
        import ahocorasick  # small C extension; imported only when a scan runs

        needles: dict[str, list[Needle]] = {}
        for value in values:
            for needle, encoding in encodings(value.value).items():
                needles.setdefault(needle, []).append(Needle(value, encoding))
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
        self._automaton = ahocorasick.Automaton()
        for anchor, entries in by_anchor.items():
            self._automaton.add_word(anchor, (len(anchor), entries))
        if by_anchor:
            self._automaton.make_automaton()
        self._empty = not by_anchor

    def find(self, text: str) -> Iterator[tuple[int, str, tuple[Needle | Rule, ...]]]:
        """(start, pattern, refs) for every occurrence of every pattern in `text`."""
        if self._empty:
            return
        startswith = text.startswith
        for end, (length, entries) in self._automaton.iter(text):
            anchor_start = end - length + 1
            for pattern, offset, refs in entries:
                start = anchor_start - offset
                if start >= 0 and startswith(pattern, start):
                    yield start, pattern, refs


# -- findings -----------------------------------------------------------------------------------------------


@dataclass
class Finding:
    """One leak: where, which rule, which `.env` key — never the value."""

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
        if self.rule == ENV_FILE:
            return self.detail or "a .env file — keep it out of git"
        rule = RULE_BY_ID.get(self.rule)
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


def scan_text(name: str, text: str, matcher: Matcher) -> list[Finding]:
    """Every finding in one file's text (pragma applied, baseline not yet)."""
    value_hits: dict[tuple[int, int], _Hit] = {}
    token_hits: dict[tuple[str, int, int], _Hit] = {}
    for start, pattern, refs in matcher.find(text):
        for ref in refs:
            if isinstance(ref, Needle):
                if ref.value.source == name:
                    continue  # a .env file scanned on purpose does not leak its own values
                hit = value_hits.setdefault((start, start + len(pattern)), _Hit(start, start + len(pattern), ENV_VALUE))
                hit.needles.append(ref)
            else:
                span = ref.match(text, start)
                if span is not None:
                    token_hits.setdefault((ref.id, *span), _Hit(span[0], span[1], ref.id))
    hits = _resolve_overlaps([h for h in value_hits.values() if h.needles], list(token_hits.values()))
    return _to_findings(name, text, hits)


def _resolve_overlaps(values: list[_Hit], tokens: list[_Hit]) -> list[_Hit]:
    """A value found inside a longer value's match is the same leak; a token that is a known value is
    reported once, as the value (it names the key) noting the token type."""
    values.sort(key=lambda h: (h.start, -h.end))
    kept: list[_Hit] = []
    reach = -1
    for hit in values:
        if hit.end <= reach:
            continue
        kept.append(hit)
        reach = hit.end
    result = list(kept)
    kept_spans = sorted((h.start, h.end, h) for h in kept)
    for token in sorted(tokens, key=lambda h: (h.start, h.end, h.rule)):
        overlapping = [h for s, e, h in kept_spans if s < token.end and token.start < e]
        if overlapping:
            overlapping[0].also = overlapping[0].also or RULE_BY_ID[token.rule].name
        else:
            result.append(token)
    return sorted(result, key=lambda h: (h.start, h.end, h.rule))


def _to_findings(name: str, text: str, hits: list[_Hit]) -> list[Finding]:
    findings: dict[tuple[int, str, str | None], Finding] = {}
    lines = _LineIndex(text)
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
        finding = Finding(
            file=name, line=line, column=hit.start - line_start + 1, rule=hit.rule, key=key,
            source=", ".join(sorted({n.value.source for n in hit.needles})) or None,
            encoding=first.encoding if first else None, part=first.value.part if first else None, also=hit.also,
            fingerprint=fingerprint(name, hit.rule, key, _masked(text, line_start, line_end, spans_by_line[line])),
            allowed_by="pragma" if PRAGMA.search(line_text) else None,
        )
        findings[(line, hit.rule, key)] = finding
    return list(findings.values())


class _LineIndex:
    """Line numbers for increasing offsets in one pass (and correct, if slower, for any offset)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def locate(self, position: int) -> tuple[int, int, int]:
        """(line number, line start, line end without its newline) of `position`."""
        if position < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, position)
        self.offset = position
        start = self.text.rfind("\n", 0, position) + 1
        end = self.text.find("\n", position)
        end = len(self.text) if end < 0 else end
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return self.line, start, end


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_%.\\-]*")


def _masked(text: str, line_start: int, line_end: int, spans: list[tuple[int, int]]) -> str:
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
    material = "\0".join(["envsync-baseline-v1", file, rule, key or "", context])
    return hashlib.sha256(material.encode("utf-8", "surrogateescape")).hexdigest()[:32]


# -- files ----------------------------------------------------------------------------------------------------


@dataclass
class Blob:
    """A file to scan: its display name (repo-relative, '/'-separated) and content, or why it was skipped."""

    name: str
    data: bytes | None = None
    skipped: str | None = None


def is_env_file(name: str, settings: Settings) -> bool:
    """A `.env`-like file that must not be committed (templates such as `.env.example` are allowed)."""
    base = name.rsplit("/", 1)[-1].lower()  # `.ENV` is a .env file too (case-insensitive file systems)
    if not any(fnmatch.fnmatchcase(base, p) for p in ENV_FILE_PATTERNS):
        return False
    return not any(fnmatch.fnmatchcase(name.lower() if "/" in p else base, p.lower()) for p in settings.allowed_env_files)


def is_template(name: str, settings: Settings) -> bool:
    """An allowed `.env`-like file such as `.env.example`: committed on purpose, values public."""
    base = name.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(base, p) for p in ENV_FILE_PATTERNS) and not is_env_file(name, settings)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 when valid, else Latin-1 — every byte maps to one character, so ASCII
    values (most secrets) and Latin-1 values still match."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _classify(blob: Blob, settings: Settings, size: int | None = None) -> Blob:
    size = len(blob.data) if blob.data is not None else size
    if size is not None and size > settings.max_size:
        return Blob(blob.name, None, f"larger than {format_size(settings.max_size)} ({format_size(size)})")
    if blob.data is not None and b"\0" in blob.data[:BINARY_SNIFF]:
        return Blob(blob.name, None, "binary (NUL bytes)")
    return blob


def format_size(size: int) -> str:
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class Git:
    """The few git plumbing calls the guard needs, run in one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def toplevel(start: Path) -> Path | None:
        try:
            proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True)
        except FileNotFoundError:
            return None
        if proc.returncode != 0:
            return None
        return Path(os.fsdecode(proc.stdout.strip()))

    def run(self, *args: str, input: bytes | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        try:
            proc = subprocess.run(["git", *args], cwd=self.root, input=input, capture_output=True)
        except FileNotFoundError:
            raise InputError("git is not installed or not on PATH — the leak guard needs it for --staged and --all") from None
        if proc.returncode not in ok:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise InputError(f"git {args[0]} failed: {message[-1] if message else f'exit {proc.returncode}'}")
        return proc.stdout

    def staged(self) -> list[tuple[str, str]]:
        """(path, blob id) of every file added, copied, modified or renamed in the index."""
        out = self.run("diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev", "--diff-filter=ACMR",
                       "--no-ext-diff", "--no-textconv")
        fields = out.split(b"\0")
        staged = []
        for meta, path in zip(fields[0::2], fields[1::2]):
            parts = meta.decode("ascii", "replace").lstrip(":").split()
            if len(parts) >= 4 and parts[1] in ("100644", "100755", "120000"):
                staged.append((os.fsdecode(path), parts[3]))
        return staged

    def tracked(self, paths: Sequence[str] = ()) -> list[str]:
        out = self.run("ls-files", "-z", "--", *paths)
        return [os.fsdecode(p) for p in out.split(b"\0") if p]

    def ignored(self, paths: Sequence[str]) -> set[str]:
        """The paths that .gitignore (or info/exclude, or the global excludes) cover, tracked or not."""
        if not paths:
            return set()
        out = self.run("check-ignore", "--no-index", "-z", "--stdin", ok=(0, 1),
                       input=b"".join(os.fsencode(p) + b"\0" for p in paths))
        return {os.fsdecode(p) for p in out.split(b"\0") if p}

    def read_objects(self, names: Sequence[str], max_size: int) -> dict[str, bytes | int | None]:
        """Object name -> its bytes, its size when larger than `max_size`, or None when missing.

        Two `git cat-file` calls in all: sizes first, then the contents worth reading."""
        if not names:
            return {}
        wanted = [n for n in names if "\n" not in n]
        checked = self.run("cat-file", "--batch-check", input="".join(n + "\n" for n in wanted).encode())
        result: dict[str, bytes | int | None] = {}
        to_read: list[tuple[str, str]] = []
        for name, line in zip(wanted, checked.decode("utf-8", "replace").splitlines()):
            parts = line.split()
            if len(parts) != 3 or parts[1] != "blob":
                result[name] = None
            elif int(parts[2]) > max_size:
                result[name] = int(parts[2])
            else:
                to_read.append((name, parts[0]))
        if to_read:
            out = self.run("cat-file", "--batch", input="".join(oid + "\n" for _, oid in to_read).encode())
            cursor = 0
            for name, _ in to_read:
                header_end = out.index(b"\n", cursor)
                size = int(out[cursor:header_end].split()[2])
                result[name] = out[header_end + 1:header_end + 1 + size]
                cursor = header_end + 1 + size + 1
        return result


def staged_blobs(staged: Sequence[tuple[str, str]], objects: Mapping[str, bytes | int | None],
                 settings: Settings) -> list[Blob]:
    """The staged files as Blobs, from (path, blob id) pairs and the objects read for them."""
    blobs = []
    for path, oid in staged:
        content = objects.get(oid)
        if isinstance(content, int):
            blobs.append(_classify(Blob(path), settings, size=content))
        elif content is None:
            blobs.append(Blob(path, None, "not readable from the index"))
        else:
            blobs.append(_classify(Blob(path, content), settings))
    return blobs


def disk_blob(path: Path, name: str, settings: Settings) -> Blob:
    """A working-tree file as a Blob: one lstat, then a read unless it is too large or not a file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return Blob(name, None, "missing from the working tree")
    except OSError as exc:
        return Blob(name, None, f"unreadable ({exc.strerror})")
    if not stat.S_ISREG(info.st_mode):
        return Blob(name, None, "not a regular file")
    if info.st_size > settings.max_size:
        return _classify(Blob(name), settings, size=info.st_size)
    try:
        with open(path, "rb") as handle:
            return _classify(Blob(name, handle.read()), settings)
    except PermissionError:
        return Blob(name, None, "permission denied")
    except OSError as exc:
        return Blob(name, None, f"unreadable ({exc.strerror})")


def given_blobs(paths: Sequence[Path], root: Path, settings: Settings) -> list[Blob]:
    """The files named on the command line; a folder means every file under it (but .git)."""
    blobs = []
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d != ".git")
                for file in sorted(files):
                    full = Path(folder) / file
                    blobs.append(disk_blob(full, display_name(full, root), settings))
        else:
            blobs.append(disk_blob(path, display_name(path, root), settings))
    return blobs


def display_name(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


# -- where the values come from -------------------------------------------------------------------------------


@dataclass
class Values:
    """The values to look for and, for -v and --json, what was left out and why (key names only)."""

    searched: list[Value] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason -> keys
    sources: list[str] = field(default_factory=list)

    def add(self, key: str, value: str, source: str, settings: Settings, defaults: Mapping[str, str]) -> None:
        reason = skip_reason(value, settings)
        if reason is None and defaults.get(key) == value:
            reason = "committed default (same key and value in a committed template)"
        if reason is not None:
            self.skipped.setdefault(reason, []).append(key)
            return
        self.searched.append(Value(key, value, source))
        password = url_password(value)
        if password and password != value and skip_reason(password, settings) is None:
            self.searched.append(Value(key, password, source, part="password"))

    def summary(self) -> dict[str, Any]:
        return {"sources": self.sources, "searched": len({(v.key, v.source) for v in self.searched}),
                "skipped": {reason: sorted(set(keys)) for reason, keys in sorted(self.skipped.items())}}


# -- baseline -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaselineEntry:
    file: str
    line: int | None
    rule: str
    key: str | None
    fingerprint: str

    @property
    def identity(self) -> tuple[str, str, str | None, str]:
        return (self.file, self.rule, self.key, self.fingerprint)


BASELINE_ABOUT = ("Findings of `envsync scan` reviewed as not secret. An entry matches by file, rule, key and "
                  "fingerprint; `line` is a hint for reviewers. The fingerprint is sha256 over the file, rule, key "
                  "and the line's text with the finding masked: no value, and no hash of one, is stored. "
                  "Update with `envsync scan --all --update-baseline` and review the diff.")


def load_baseline(path: Path) -> list[BaselineEntry]:
    if not path.exists():
        return []
    fix = f"fix it, or delete it and run `envsync scan --all --update-baseline`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not valid JSON ({exc}) — {fix}") from None
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(data.get("findings"), list):
        raise InputError(f"{path.name}: not an envsync baseline (version {BASELINE_VERSION} with a findings list) — {fix}")
    entries = []
    for index, item in enumerate(data["findings"]):
        try:
            entry = BaselineEntry(file=item["file"], line=item.get("line"), rule=item["rule"], key=item.get("key"),
                                  fingerprint=item["fingerprint"])
        except (KeyError, TypeError, AttributeError):
            raise InputError(f"{path.name}: findings[{index}] needs file, rule and fingerprint — {fix}") from None
        if not all(isinstance(v, str) for v in (entry.file, entry.rule, entry.fingerprint)) or \
                not isinstance(entry.key, (str, type(None))) or not isinstance(entry.line, (int, type(None))):
            raise InputError(f"{path.name}: findings[{index}] has a field of the wrong type — {fix}")
        entries.append(entry)
    return entries


def render_baseline(entries: Iterable[BaselineEntry]) -> str:
    """Stable, sorted, diff-friendly JSON: one entry per finding, keys in a fixed order."""
    unique = {e.identity: e for e in entries}
    ordered = sorted(unique.values(), key=lambda e: (e.file, e.line or 0, e.rule, e.key or "", e.fingerprint))
    document = {
        "version": BASELINE_VERSION,
        "about": BASELINE_ABOUT,
        "findings": [{"file": e.file, "line": e.line, "rule": e.rule, "key": e.key, "fingerprint": e.fingerprint}
                     for e in ordered],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def entry_for(finding: Finding) -> BaselineEntry:
    return BaselineEntry(finding.file, finding.line, finding.rule, finding.key, finding.fingerprint)


# -- a whole run ----------------------------------------------------------------------------------------------


@dataclass
class Request:
    files: Sequence[Path] = ()
    staged: bool = False
    all_files: bool = False
    config_path: Path | None = None
    stores: Sequence[str] = ()
    values_from: Sequence[Path] = ()
    baseline: Path | None = None
    update_baseline: bool = False
    settings: Settings = Settings()
    cwd: Path | None = None


@dataclass
class Result:
    mode: str
    findings: list[Finding] = field(default_factory=list)  # to fix: neither pragma nor baseline allows them
    allowed: list[Finding] = field(default_factory=list)
    skipped: list[Blob] = field(default_factory=list)
    scanned: int = 0
    notes: list[str] = field(default_factory=list)  # per-file remarks for -v (e.g. read as Latin-1)
    warnings: list[str] = field(default_factory=list)
    values: Values = field(default_factory=Values)
    needles: int = 0
    baseline_path: str | None = None
    baseline_written: int | None = None

    @property
    def files_with_findings(self) -> int:
        return len({f.file for f in self.findings})


def run(request: Request) -> Result:
    """Scan what the request names; the caller renders the result and picks the exit code.

    Git is asked as little as possible (it is most of a pre-commit run's cost): the repo root, the
    staged list, one `cat-file --batch-check` + one `--batch` for every object needed (staged blobs,
    the .env files and templates as committed at HEAD) and one `check-ignore`."""
    settings = request.settings
    cwd = (request.cwd or Path.cwd()).resolve()
    root = Git.toplevel(cwd)
    if (request.staged or request.all_files) and root is None:
        raise InputError(f"{cwd}: not inside a git repository — --staged and --all read git's index; "
                         "name FILES to scan instead")
    git = Git(root) if root is not None else None
    base = root or cwd
    mode = "staged" if request.staged else "all" if request.all_files else "files"
    result = Result(mode=mode)
    config = _load_config(request.config_path, cwd)
    targets = list(config.targets.values()) if config is not None else []

    sources = _local_sources(base, targets, settings)
    templates = _template_names(base, targets, settings)
    staged = git.staged() if git is not None and request.staged else []
    tracked_all = set(git.tracked()) if git is not None and request.all_files else None
    objects: Mapping[str, bytes | int | None] = {}
    if git is not None:
        inside = [n for n in sources if not Path(n).is_absolute()]
        names = sorted({oid for _, oid in staged}) + [f"HEAD:{n}" for n in sorted(set(inside) | set(templates))]
        objects = git.read_objects(names, settings.max_size)
    for name in [n for n in sources if objects.get(f"HEAD:{n}") is not None]:
        del sources[name]  # committed: its values are public (or leaked already, and --all reports the file)

    if request.staged:
        blobs = staged_blobs(staged, objects, settings)
    elif request.all_files:
        blobs = [disk_blob(base / name, name, settings) for name in sorted(tracked_all or ())]
    else:
        blobs = given_blobs([cwd / p for p in request.files], base, settings)
    baseline_path = (cwd / request.baseline) if request.baseline else base / BASELINE_FILE
    result.baseline_path = display_name(baseline_path, base)
    blobs = [b for b in blobs if b.name != result.baseline_path]
    env_files = {b.name for b in blobs if is_env_file(b.name, settings)}

    local_sources = [n for n in sources if not Path(n).is_absolute()]
    ignored = git.ignored(sorted(env_files | set(local_sources))) if git is not None else set()
    for name in local_sources:
        if name not in ignored and git is not None:
            hint = "`.env*` and `!.env.example` (envsync init does)" if name.startswith(".env") else f"`{name}`"
            result.warnings.append(f"{name} is not covered by .gitignore — add {hint} so `git add .` cannot stage it")

    defaults = _committed_defaults(templates, objects)
    result.values = _collect_values(request, config, sources, defaults, settings, result)
    baseline = load_baseline(baseline_path)
    allowed_ids = {e.identity for e in baseline}
    matcher = Matcher(result.values.searched)
    result.needles = matcher.needle_count

    raw: list[Finding] = []
    for blob in blobs:
        if blob.name in env_files:
            finding = _env_file_finding(blob.name, mode, blob.name in ignored or git is None)
            raw.append(finding)
            if entry_for(finding).identity not in allowed_ids:
                continue  # a refused file is one finding; its lines are not reported one by one
        if blob.data is None:
            result.skipped.append(blob)
            continue
        text, encoding = decode(blob.data)
        if encoding != "utf-8":
            result.notes.append(f"{blob.name}: not valid UTF-8; scanned as {encoding}")
        result.scanned += 1
        raw.extend(scan_text(blob.name, text, matcher))

    for finding in sorted(raw, key=lambda f: f.sort_key):
        if finding.allowed_by is None and entry_for(finding).identity in allowed_ids:
            finding.allowed_by = "baseline"
        (result.allowed if finding.allowed_by else result.findings).append(finding)
    if request.update_baseline:
        _update_baseline(result, baseline, baseline_path, {b.name for b in blobs}, base, tracked_all)
    return result


def _update_baseline(result: Result, baseline: list[BaselineEntry], path: Path, scanned: set[str], base: Path,
                     tracked: set[str] | None) -> None:
    """Replace the entries of the files scanned by this run's findings; keep the others while their file exists."""
    from envsync.fsutil import atomic_write

    keep = [e for e in baseline if e.file not in scanned and (base / e.file).exists()
            and (tracked is None or e.file in tracked)]
    new = [entry_for(f) for f in result.findings + result.allowed if f.allowed_by != "pragma"]
    text = render_baseline(keep + new)
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise InputError(f"{result.baseline_path}: cannot write ({exc.strerror})") from None
    result.baseline_written = text.count('"fingerprint":')
    for finding in result.findings:
        finding.allowed_by = "baseline"
    result.allowed = sorted(result.allowed + result.findings, key=lambda f: f.sort_key)
    result.findings = []


def _env_file_finding(name: str, mode: str, ignored: bool) -> Finding:
    if mode == "staged":
        detail = f"a .env file is staged — unstage it: git rm --cached -- {name}"
    elif mode == "all":
        detail = f"a .env file is tracked by git — untrack it (git rm --cached -- {name}) and rotate its values"
    else:
        detail = "a .env file — keep it out of git"
    if not ignored:
        pattern = ".env*` and `!.env.example" if name.rsplit("/", 1)[-1].startswith(".env") else "*.env"
        detail += f"; .gitignore does not cover it: add `{pattern}`"
    return Finding(file=name, line=None, column=None, rule=ENV_FILE, fingerprint=fingerprint(name, ENV_FILE, None, ""),
                   detail=detail)


def _load_config(config_path: Path | None, cwd: Path):
    from envsync import config as config_module

    if config_path is not None:
        return config_module.load(config_path)
    found = config_module.find(cwd)
    return config_module.load(found) if found is not None else None


def _local_sources(base: Path, targets: Sequence[Any], settings: Settings) -> dict[str, Path]:
    """Display name -> path of the local .env files whose values are looked for: the root's .env-like
    files and every target's `file` (the caller drops the ones git tracks)."""
    sources: dict[str, Path] = {}
    with os.scandir(base) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if is_env_file(entry.name, settings) and entry.is_file():
                sources[entry.name] = Path(entry.path)
    for target in targets:
        if target.file.is_file():
            sources.setdefault(display_name(target.file, base), target.file)
    return sources


def _template_names(base: Path, targets: Sequence[Any], settings: Settings) -> list[str]:
    with os.scandir(base) as entries:
        names = {e.name for e in entries if is_template(e.name, settings)}
    names |= {display_name(t.schema, base) for t in targets if t.schema is not None}
    return sorted(n for n in names if not Path(n).is_absolute())


def _committed_defaults(templates: Sequence[str], objects: Mapping[str, bytes | int | None]) -> dict[str, str]:
    """Key -> value of the templates (.env.example, schemas) as committed at HEAD: public on purpose.
    HEAD, not the index or the working tree — a secret pasted into a template now must not excuse itself."""
    from envsync import dotenv_file

    defaults: dict[str, str] = {}
    for name in templates:
        data = objects.get(f"HEAD:{name}")
        if isinstance(data, bytes):
            try:
                defaults.update(dotenv_file.parse(data.decode("utf-8"), name).values())
            except (InputError, UnicodeDecodeError):
                continue
    return defaults


def _collect_values(request: Request, config, sources: Mapping[str, Path], defaults: Mapping[str, str],
                    settings: Settings, result: Result) -> Values:
    """Every value worth looking for, from the local .env files, --values-from files and stores."""
    from envsync import dotenv_file

    files = dict(sources)
    for path in request.values_from:
        full = (request.cwd or Path.cwd()) / path
        if not full.is_file():
            raise InputError(f"--values-from {path}: file not found")
        files[path.as_posix()] = full
    expand = {t.file.resolve() for t in (config.targets.values() if config is not None else ()) if t.expand}
    values = Values()
    for name, path in files.items():
        try:
            document = dotenv_file.load(path, name)
        except InputError as exc:
            result.warnings.append(f"{exc} — its values are not looked for")
            continue
        pairs = document.values()
        values.sources.append(name)
        for key, value in pairs.items():
            values.add(key, value, name, settings, defaults)
        if path.resolve() in expand:
            from envsync.engine import expand_variables

            for key, value in expand_variables(pairs).items():
                if value != pairs[key]:
                    values.add(key, value, name, settings, defaults)
    for store_name in request.stores:
        if config is None:
            raise InputError(f"--from-store {store_name}: no envsync.toml here or above — the store comes from a target")
        from envsync.stores import open_store

        target = config.select((store_name,))[0]
        label = f"store:{target.name}"
        values.sources.append(label)
        for key, value in open_store(target).read().values.items():
            values.add(key, value, label, settings, defaults)
    return values


# -- rendering (returns text or data; the CLI prints) -------------------------------------------------------


FIX_HINT = ("take the value out (and rotate it if it was pushed anywhere); if it is not a secret, add "
            "`envsync: allow` to its line, or run `envsync scan --all --update-baseline` and commit "
            f"{BASELINE_FILE}")


def render_text(result: Result, verbose: bool = False) -> str:
    lines = []
    for f in result.findings:
        where = f"{f.file}:{f.line}:{f.column}" if f.line else f.file
        lines.append(f"{where}: {f.rule}: {f.describe()}")
    if verbose:
        for f in result.allowed:
            where = f"{f.file}:{f.line}" if f.line else f.file
            key = f" {f.key}" if f.key else ""
            lines.append(f"allowed ({f.allowed_by}): {where}: {f.rule}{key}")
        for blob in result.skipped:
            lines.append(f"skipped: {blob.name}: {blob.skipped}")
        lines.extend(f"note: {note}" for note in result.notes)
        summary = result.values.summary()
        lines.append(f"values: {summary['searched']} searched ({result.needles} needles) from "
                     f"{', '.join(summary['sources']) or 'no .env file'}")
        for reason, keys in summary["skipped"].items():
            lines.append(f"values skipped as {reason}: {', '.join(keys)}")
    files = f"{result.scanned} file{'s' if result.scanned != 1 else ''}"
    if result.baseline_written is not None:
        lines.append(f"Wrote {result.baseline_path}: {result.baseline_written} entr"
                     f"{'y' if result.baseline_written == 1 else 'ies'} — review it, then commit it.")
    elif result.findings:
        n = len(result.findings)
        lines.append(f"envsync scan: {n} finding{'s' if n != 1 else ''} in {result.files_with_findings} "
                     f"file{'s' if result.files_with_findings != 1 else ''} (values are never shown). Fix: {FIX_HINT}.")
    else:
        allowed = f", {len(result.allowed)} allowed" if result.allowed else ""
        lines.append(f"envsync scan: no secrets in {files}{allowed}.")
    if result.skipped and not verbose:
        lines.append(f"{len(result.skipped)} file(s) skipped (binary or larger than the size limit); -v lists them.")
    return "\n".join(lines)


def render_json(result: Result) -> dict[str, Any]:
    return {
        "clean": not result.findings,
        "mode": result.mode,
        "findings": [f.to_json() for f in result.findings],
        "allowed": [f.to_json() for f in result.allowed],
        "skipped": [{"file": b.name, "reason": b.skipped} for b in result.skipped],
        "scanned": result.scanned,
        "notes": result.notes,
        "values": {**result.values.summary(), "needles": result.needles},
        "warnings": result.warnings,
        "baseline": {"path": result.baseline_path, "written": result.baseline_written},
    }


def _rule_catalogue() -> list[tuple[str, str, str]]:
    """(id, name, help) of every rule a finding can carry."""
    return [(ENV_VALUE, "value from a local .env file or store",
             "Remove the value; rotate it if it was ever pushed. EnvSync matched it as written, base64, "
             "URL-encoded or JSON-escaped."),
            (ENV_FILE, ".env file in git", "Keep .env files out of git: git rm --cached, and add .env* to .gitignore.")
            ] + [(r.id, r.name, r.help[0].upper() + r.help[1:] + ".") for r in RULES]


def render_sarif(result: Result, version: str) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning reads it; allowed findings are included as suppressed."""
    catalogue = _rule_catalogue()
    index = {rule_id: i for i, (rule_id, _, _) in enumerate(catalogue)}
    rules = [{
        "id": rule_id, "name": "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", name) if w),
        "shortDescription": {"text": name}, "fullDescription": {"text": f"{name}: {help_text}"},
        "help": {"text": help_text}, "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "secret"], "precision": "high", "security-severity": "9.0"},
    } for rule_id, name, help_text in catalogue]
    results = []
    for f in result.findings + result.allowed:
        entry: dict[str, Any] = {
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": "error",
            "message": {"text": f.describe()},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(f.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line or 1, **({"startColumn": f.column} if f.column else {})},
            }}],
            "partialFingerprints": {"envsyncFingerprint/v1": f.fingerprint},
        }
        if f.allowed_by:
            entry["suppressions"] = [{"kind": "inSource" if f.allowed_by == "pragma" else "external",
                                      "justification": f"allowed by {'the envsync: allow pragma' if f.allowed_by == 'pragma' else BASELINE_FILE}"}]
        results.append(entry)
    notifications = [{"level": "note", "message": {"text": f"skipped {b.name}: {b.skipped}"},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(b.name), "uriBaseId": "%SRCROOT%"}}}]}
                     for b in result.skipped]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "envsync", "version": version, "semanticVersion": version,
                                "informationUri": "https://github.com/envsync/envsync", "rules": rules}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: Result) -> str:
    """GitHub Actions workflow commands: one `::error` annotation per finding, then a summary line."""
    lines = []
    for f in result.findings:
        props = [f"file={_escape_property(f.file)}"]
        if f.line:
            props += [f"line={f.line}", f"col={f.column}"]
        props.append(f"title={_escape_property('envsync ' + f.rule)}")
        lines.append(f"::error {','.join(props)}::{_escape_data(f.describe())}")
    for blob in result.skipped:
        lines.append(f"::notice file={_escape_property(blob.name)}::{_escape_data('envsync skipped this file: ' + (blob.skipped or ''))}")
    n = len(result.findings)
    lines.append(f"envsync scan: {n} finding{'s' if n != 1 else ''}" + (f" — {FIX_HINT}" if n else ""))
    return "\n".join(lines)


def render_gitlab(result: Result) -> list[dict[str, Any]]:
    """GitLab code-quality report entries (fingerprints unique per entry, as GitLab requires)."""
    seen: dict[str, int] = {}
    issues = []
    for f in result.findings:
        seen[f.fingerprint] = seen.get(f.fingerprint, 0) + 1
        unique = hashlib.sha256(f"{f.fingerprint}:{seen[f.fingerprint]}".encode()).hexdigest()[:32]
        issues.append({
            "type": "issue", "check_name": f.rule, "description": f"{f.rule}: {f.describe()}",
            "categories": ["Security"], "severity": "critical", "fingerprint": unique,
            "location": {"path": f.file, "lines": {"begin": f.line or 1}},
        })
    return issues
