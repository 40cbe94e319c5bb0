"""A lossless `.env` document on top of python-dotenv's parser.

python-dotenv's `parse_stream` yields one `Binding` per entry, and the
`original.string` of all bindings concatenates back to the file. We keep
those strings, so whatever is not edited is written back byte for byte:
comments, blank lines, order, quoting, `export `, CRLF, a missing final
newline, a UTF-8 BOM. An edit rewrites only the value part of its own
binding and keeps the prefix (`export KEY=`) and the suffix (inline comment,
line ending).
"""
from __future__ import annotations

import importlib
import importlib.util
import io
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from envsync.errors import ConflictError, InputError
from envsync.fsutil import atomic_write
from envsync.model import KEY_PATTERN


def _dotenv_parser() -> ModuleType:
    """python-dotenv's `parser` module, loaded without its package's `__init__`: that imports the
    package's `main` (which EnvSync does not use) and with it `logging`, ~4 ms of a ~100 ms
    pre-commit hook run. Registered under its own name, so a later `import dotenv` shares it."""
    name = "dotenv.parser"
    if name in sys.modules:
        return sys.modules[name]
    package = importlib.util.find_spec("dotenv")  # finds the package without running it
    folders = list(package.submodule_search_locations or ()) if package is not None else []
    path = next((Path(folder, "parser.py") for folder in folders if Path(folder, "parser.py").is_file()), None)
    if path is None:  # not a plain folder of sources (a zip, a frozen build): import it as usual
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


dotenv_parser = _dotenv_parser()

BOM = "\ufeff"
_LEADING_BLANK_LINES = re.compile(r"(?:[^\S\r\n]*(?:\r\n|\n|\r))*")
# Unquoted, these mean the same to every reader EnvSync writes for (python-dotenv, Node's
# dotenv, `node --env-file`, docker compose, bash `set -a; . .env`); any other value is quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./:@%+,=^-]*\Z")
# In double quotes bash still runs these, and an escape (`\\$`) would reach python-dotenv and Node as is.
_SHELL_SUBSTITUTION = re.compile(r"`|\$[({\[]")
_EQUALS_SPACING = re.compile(r"[^\S\r\n]*=[^\S\r\n]*\Z")


@dataclass
class Entry:
    """One binding: `lead` (blank lines before it) + `body` (its own line(s))."""

    lead: str
    body: str
    line: int
    key: str | None = None
    value: str | None = None

    @property
    def text(self) -> str:
        return self.lead + self.body


@dataclass
class DotenvDocument:
    """A parsed `.env` file that renders back to its exact bytes until edited.

    Edits stay linear in the file's size however many keys they touch (issue 16):
    `unset` empties a binding in place instead of deleting it from the list, and a
    key set `after=` another is held next to its anchor; `entries` applies both
    in one pass the next time it is read.
    """

    name: str
    _entries: list[Entry] = field(default_factory=list)
    bom: bool = False
    warnings: list[str] = field(default_factory=list)
    # Built on the first edit, then kept up to date by each edit: key -> its bindings in file
    # order (the last one wins), how many bindings there are and how many lack `export `.
    _index: dict[str, list[Entry]] | None = field(default=None, init=False, repr=False, compare=False)
    _bound: int = field(default=0, init=False, repr=False, compare=False)
    _plain: int = field(default=0, init=False, repr=False, compare=False)
    _newline_found: str | None = field(default=None, init=False, repr=False, compare=False)
    # Pending structure: id(anchor) -> entries set after it (newest last), and how many
    # entries were emptied with nothing left to render.
    _followers: dict[int, list[Entry]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _removed: int = field(default=0, init=False, repr=False, compare=False)

    @property
    def entries(self) -> list[Entry]:
        """Every entry in file order, as the text renders."""
        if self._followers or self._removed:
            self._settle()
        return self._entries

    # -- reading -------------------------------------------------------------

    def values(self) -> dict[str, str]:
        """Key -> value for every key that has a value; a later duplicate wins."""
        return {e.key: e.value for e in self.entries if e.key is not None and e.value is not None}

    def keys(self) -> list[str]:
        """Every key in order of first appearance, including keys with no `=`."""
        return list(dict.fromkeys(e.key for e in self.entries if e.key is not None))

    def line_of(self, key: str) -> int | None:
        """The line of the binding that wins for `key`, or None."""
        bindings = self._bindings().get(key)
        return bindings[-1].line if bindings else None

    def lines(self) -> dict[str, int]:
        """Key -> the line of its winning binding, for every key (one pass: use it for many keys)."""
        return {e.key: e.line for e in self.entries if e.key is not None}

    def render(self) -> str:
        return (BOM if self.bom else "") + "".join(e.text for e in self.entries)

    # -- editing -------------------------------------------------------------

    def set(self, key: str, value: str, *, after: str | None = None) -> None:
        """Set `key`; an existing binding keeps its place and style, a new one goes
        at the end (or right after the key `after`)."""
        _check_key(self.name, key)
        bindings = self._bindings().get(key)
        if bindings:
            entry = bindings[-1]
            if entry.value == value:
                return  # an unchanged value keeps its line's bytes
            was_plain = not _is_exported(entry)
            entry.body = _rewrite_value(entry.body, value, key)
            entry.value = value
            self._plain += (not _is_exported(entry)) - was_plain
            return
        self._insert(Entry(lead="", body="", line=0, key=key, value=value), after)

    def unset(self, key: str) -> bool:
        """Remove every binding of `key` (blank lines before it stay); False if absent."""
        bindings = self._bindings().pop(key, None)
        if not bindings:
            return False
        for entry in bindings:
            self._bound -= 1
            self._plain -= not _is_exported(entry)
            # Emptied in place, not deleted from the list: finding it there costs a scan.
            entry.body, entry.key, entry.value = "", None, None
            self._removed += not entry.lead
        return True

    def _insert(self, entry: Entry, after: str | None) -> None:
        newline = self._newline()
        index = self._bindings()  # the counters below are kept with it
        prefix = "export " if self._bound and not self._plain else ""
        entry.body = f"{prefix}{entry.key}={encode_value(entry.value or '', key=entry.key or '')}{newline}"
        anchors = index.get(after) if after is not None else None
        if anchors:
            previous: Entry | None = anchors[-1]
            # Newest last here; `_settle` puts the newest right after the anchor, as a list insert would.
            self._followers.setdefault(id(previous), []).append(entry)
        else:
            previous = self._last()
            self._entries.append(entry)
        if previous is not None and previous.text and not previous.text.endswith(("\n", "\r")):
            previous.body += newline
        index[entry.key] = [entry]  # type: ignore[index]
        self._bound += 1
        self._plain += not prefix

    def _last(self) -> Entry | None:
        """The entry the text ends with; emptied entries at the end are dropped on the way."""
        while self._entries and _is_empty(self._entries[-1]) and id(self._entries[-1]) not in self._followers:
            self._entries.pop()
            self._removed -= 1
        # An entry with followers ends the text with its last follower, which ends with a newline.
        return self._entries[-1] if self._entries else None

    def _settle(self) -> None:
        """Apply the pending structure in one pass: followers after their anchors, no emptied entries."""
        settled: list[Entry] = []
        stack = list(reversed(self._entries))
        while stack:
            entry = stack.pop()
            if not _is_empty(entry):
                settled.append(entry)
            stack.extend(self._followers.pop(id(entry), ()))
        self._entries, self._removed = settled, 0

    def _bindings(self) -> dict[str, list[Entry]]:
        if self._index is None:
            self._index = {}
            for entry in self.entries:
                if entry.key is not None:
                    self._index.setdefault(entry.key, []).append(entry)
            bound = [e for e in self.entries if e.key is not None]
            self._bound, self._plain = len(bound), sum(not _is_exported(e) for e in bound)
        return self._index

    def _newline(self) -> str:
        # The file's first line ending, found once without rendering it all; an insert copies it.
        if self._newline_found is None:
            self._newline_found = "\n"
            for entry in self.entries:
                match = re.search(r"\r\n|\n|\r", entry.text)
                if match:
                    self._newline_found = match.group(0)
                    break
        return self._newline_found


def _is_exported(entry: Entry) -> bool:
    return bool(re.match(r"export[^\S\r\n]", entry.body.lstrip()))


def _is_empty(entry: Entry) -> bool:
    """An entry a removal left with nothing to render."""
    return entry.key is None and not entry.lead and not entry.body


# -- parsing -----------------------------------------------------------------


def parse(text: str, name: str = ".env") -> DotenvDocument:
    """Parse `.env` text; a line python-dotenv cannot read is an InputError naming it."""
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    if text.startswith(BOM):
        # python-dotenv drops one more BOM itself, so this one could not be written back.
        raise InputError(f"{name} line 1: two byte-order marks at the start — remove one")
    document = DotenvDocument(name=name, bom=bom)
    first_seen: dict[str, int] = {}
    for binding in dotenv_parser.parse_stream(io.StringIO(text)):
        original = binding.original.string
        lead = _LEADING_BLANK_LINES.match(original).group(0)  # type: ignore[union-attr]
        line = binding.original.line + len(re.findall(r"\r\n|\n|\r", lead))
        if binding.error:
            raise InputError(f"{name} line {line}: {_describe_error(original[len(lead):])}")
        entry = Entry(lead=lead, body=original[len(lead):], line=line,
                      key=binding.key, value=binding.value)
        if entry.key is not None:
            _check_key(name, entry.key, line)
            _note_duplicate(document, first_seen, entry)
            if entry.value is None:
                document.warnings.append(
                    f"{name} line {line}: no '=' on this line; the key has no value and is not synced"
                )
        document.entries.append(entry)
    return document


def load(path: Path, name: str | None = None) -> DotenvDocument:
    """Read and parse a `.env` file; missing, unreadable or binary files are InputErrors."""
    name = name or str(path)
    return parse(decode(read_bytes(path, name), name), name)


def read_bytes(path: Path, name: str) -> bytes:
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{name}: is a directory, not a .env file")
        if not stat.S_ISREG(mode):
            # a FIFO would block the read forever, a device (/dev/zero) would never end
            raise InputError(f"{name}: not a regular file (a pipe, socket or device) — point the target at a .env file")
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied — check the file's owner and mode") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None


def decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        line = _line_at(data, data.index(b"\x00"))
        raise InputError(f"{name} line {line}: NUL byte — this looks like a binary file, not a .env file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        raise InputError(f"{name} line {line}: not valid UTF-8 — save the file as UTF-8") from None


def _line_at(data: bytes, offset: int) -> int:
    """The line of byte `offset`, counting CRLF, LF and lone CR the way the parser does."""
    return len(re.findall(rb"\r\n|\n|\r", data[:offset])) + 1


def write(document: DotenvDocument, path: Path, *, expected: bytes | None = None) -> None:
    """Write atomically; with `expected`, refuse if the file changed since it was read.
    A symlinked `.env` stays a symlink: the file it points at is the one rewritten."""
    path = Path(os.path.realpath(path))
    if expected is not None:
        try:
            current = path.read_bytes()
        except FileNotFoundError:
            current = b""
        if current != expected:
            raise ConflictError(f"{document.name}: changed on disk while EnvSync was working; run again")
    _check_writable(path, document.name)
    try:
        atomic_write(path, document.render().encode("utf-8"))
    except PermissionError:
        raise InputError(f"{document.name}: cannot write (permission denied) — check the file's and its "
                         "folder's owner and mode; the file was not changed") from None
    except OSError as exc:
        raise InputError(f"{document.name}: cannot write ({exc.strerror or exc}); the file was not changed") from None


def _check_writable(path: Path, name: str) -> None:
    """A read-only `.env` is not replaced: the atomic rename needs only the folder to be
    writable, so without this check a `chmod a-w .env` would be silently overridden."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{name}: cannot write ({exc.strerror or exc}); the file was not changed") from None
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise InputError(f"{name}: the file is read-only (mode {stat.S_IMODE(mode):04o}) — make it writable "
                         "(chmod u+w) to pull into it; the file was not changed")


# -- values ------------------------------------------------------------------


def encode_value(value: str, style: str = "", *, key: str = "value") -> str:
    """The source text for `value` that python-dotenv, Node's dotenv, `node --env-file`,
    compose and bash read back as `value` where one form can do it, and that runs nothing in
    a shell (SECURITY.md, "What EnvSync defends against" 4). `style` ('', "'" or '"') is kept
    for a value that needs no quoting. A value only double quotes can carry that holds a shell
    substitution is an InputError naming `key`: no form is safe for bash and readable by
    python-dotenv."""
    if _PLAIN.match(value):
        return f"{style}{value}{style}" if style in ("'", '"') else value
    if _single_quotable(value):
        return f"'{value}'"
    if _SHELL_SUBSTITUTION.search(value):
        raise InputError(
            f"{key}: the value needs double quotes in a .env file (it holds a single quote, a carriage return "
            "or a backslash python-dotenv would decode), and there bash would run its $(, ${, $[ or backquote "
            "— nothing was written; use `envsync run` or `export --format json` or `shell`, or change the value"
        )
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
    return f'"{escaped}"'


def _single_quotable(value: str) -> bool:
    # Between single quotes python-dotenv decodes `\\` (and a final `\` would escape the closing
    # quote); Node's dotenv and python-dotenv's own file reader turn a raw CR into a newline.
    return "'" not in value and "\r" not in value and "\\\\" not in value and not value.endswith("\\")


def _rewrite_value(body: str, value: str, key: str = "value") -> str:
    head, old, tail = _split_value(body)
    style = old[:1] if old[:1] in ("'", '"') else ""
    if head.rstrip().endswith("="):
        head = _EQUALS_SPACING.sub("=", head)  # bash runs the value of `KEY= value` as a command
    else:
        head += "="  # `KEY` or `KEY # note` becomes `KEY=value # note`
    encoded = encode_value(value, style, key=key)
    if tail.startswith("#"):
        tail = " " + tail  # bash and compose read a `#` right after the value as part of it
    if encoded == "" and tail.lstrip().startswith("#"):
        encoded = "''"  # python-dotenv reads `KEY= # note` as empty; a reader that trims first may not
    return head + encoded + tail


def _split_value(body: str) -> tuple[str, str, str]:
    """Split a binding into (everything before the value, the value's source, the rest)."""
    reader = dotenv_parser.Reader(io.StringIO(body))
    reader.read_regex(dotenv_parser._multiline_whitespace)
    reader.read_regex(dotenv_parser._export)
    dotenv_parser.parse_key(reader)
    end_of_key = reader.position.chars
    reader.read_regex(dotenv_parser._whitespace)
    if reader.peek(1) != "=":
        return body[:end_of_key], "", body[end_of_key:]
    (equal_sign,) = reader.read_regex(dotenv_parser._equal_sign)
    start = reader.position.chars
    if len(equal_sign) > 1 and reader.peek(1) == "#":
        end = start  # `KEY= # note`: python-dotenv reads an empty value and a comment
    elif reader.peek(1) in ("'", '"'):
        dotenv_parser.parse_value(reader)
        end = reader.position.chars
    else:
        end = start + len(dotenv_parser.parse_unquoted_value(reader))
    return body[:start], body[start:end], body[end:]


def _check_key(name: str, key: str, line: int | None = None) -> None:
    if not KEY_PATTERN.match(key):
        # A line read from the file is named by its number only: what looks like its key may be
        # a pasted token or `KEY:value` (SECURITY.md, "What EnvSync defends against" 2).
        where = f"{name} line {line}: invalid key name" if line else f"{name}: invalid key name {key!r}"
        raise InputError(
            f"{where} — keys are letters, digits, '_', '.' and '-', and must not start with a digit"
        )


def _note_duplicate(document: DotenvDocument, first_seen: dict[str, int], entry: Entry) -> None:
    assert entry.key is not None
    if entry.key in first_seen:
        document.warnings.append(
            f"{document.name} line {entry.line}: {entry.key} is set again "
            f"(first on line {first_seen[entry.key]}); the last one wins"
        )
    else:
        first_seen[entry.key] = entry.line


def _describe_error(body: str) -> str:
    stripped = body.lstrip()
    if stripped.startswith(("'", '"')) or re.match(r"[^=]*=\s*['\"]", stripped):
        return "unterminated quoted value — close the quote or escape it with a backslash"
    if stripped.startswith("="):
        return "missing key name before '='"
    return "cannot parse this line — expected KEY=value, a comment or a blank line"
