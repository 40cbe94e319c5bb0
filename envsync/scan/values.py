"""Which values are looked for, and as what: the skip rules (values too short or too common to be
secrets), the password inside a URL value, and every encoding a value may appear in (as written, base64
at each byte alignment, URL-encoded, JSON-escaped). Pure: no I/O."""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote, quote_plus, urlsplit

from envsync.scan.settings import Settings
from envsync.scan.words import is_tld, is_word


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
_PARTS = re.compile(r"[-_./: ~]+")
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


def is_boolean_word(value: str) -> bool:
    return value.strip().lower() in _BOOLEANS


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
    if _HOST.fullmatch(value) and is_tld(value.rsplit(":", 1)[0].rstrip(".").rsplit(".", 1)[-1]):
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
        if all(part.isdigit() or is_word(part) for part in _PARTS.split(value) if part):
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


@dataclass(frozen=True)
class Value:
    """One value to look for: its key, where it came from, and which part of the value it is."""

    key: str
    value: str
    source: str
    part: str | None = None  # "password" for the password inside a URL value


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
