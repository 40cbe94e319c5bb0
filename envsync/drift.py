"""Drift between the committed schema, the local file and the store. Pure: no I/O.

A finding names the target, the key, and the file and line a fix belongs in;
it never carries a value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

MISSING_FROM_STORE = "missing-from-store"
MISSING_FROM_SCHEMA = "missing-from-schema"
MISSING_FROM_LOCAL = "missing-from-local"
VALUE_DIFFERS = "value-differs"


@dataclass(frozen=True)
class Finding:
    target: str
    key: str
    kind: str
    file: str | None
    line: int | None
    message: str


@dataclass(frozen=True)
class Side:
    """One side of a comparison: its name for messages, its file, its keys and lines."""

    name: str
    file: str | None
    keys: Sequence[str]
    lines: Mapping[str, int]


def compare(target: str, *, schema: Side | None, local: Side | None,
            remote_keys: Sequence[str] | None, local_values: Mapping[str, str] | None = None,
            remote_values: Mapping[str, str] | None = None) -> list[Finding]:
    """Every drift among the sides given; `remote_keys` None means offline."""
    findings: list[Finding] = []
    store = Side("the store", None, remote_keys, {}) if remote_keys is not None else None
    if schema and store:
        findings += _missing(target, schema, store, MISSING_FROM_STORE, f"push it, or remove it from {schema.name}")
        findings += _missing(target, store, schema, MISSING_FROM_SCHEMA, f"add it to {schema.name}, or delete it from the store")
    if schema and local and not store:
        findings += _missing(target, schema, local, MISSING_FROM_LOCAL, f"add it to {local.name}")
        findings += _missing(target, local, schema, MISSING_FROM_SCHEMA, f"add it to {schema.name}")
    if local and store:
        findings += _missing(target, local, store, MISSING_FROM_STORE, "push it")
        findings += _missing(target, store, local, MISSING_FROM_LOCAL, "pull it")
        findings += _differs(target, local, local_values or {}, remote_values or {})
    return findings


def _missing(target: str, present: Side, absent: Side, kind: str, fix: str) -> list[Finding]:
    wanted = set(absent.keys)
    # Point at the line where the key is, or at the file that lacks it.
    return [
        Finding(target, key, kind, present.file or absent.file, present.lines.get(key),
                f"{key} is in {present.name} but not in {absent.name} — {fix}")
        for key in present.keys if key not in wanted
    ]


def _differs(target: str, local: Side, local_values: Mapping[str, str],
             remote_values: Mapping[str, str]) -> list[Finding]:
    return [
        Finding(target, key, VALUE_DIFFERS, local.file, local.lines.get(key),
                f"{key} differs between {local.name} and the store — push, pull or sync it")
        for key in local.keys
        if key in local_values and key in remote_values and local_values[key] != remote_values[key]
    ]


MISSING_SHARED_KEY = "missing-shared-key"


@dataclass(frozen=True)
class Expectation:
    """A target's committed cross-target expectation (`shares_keys_with`, `may_lack`)."""

    target: str
    shares_keys_with: Sequence[str]
    may_lack: Sequence[str]


def shared_keys(expectations: Sequence[Expectation], store_keys: Mapping[str, Sequence[str]],
                config_file: str) -> list[Finding]:
    """Keys one side of a `shares_keys_with` pair holds and the other lacks (and may not lack).

    Both directions are checked: a pair shares its key set. Only pairs whose stores were both
    read (`store_keys`) are compared; a pair declared on both sides is reported once."""
    allowed = {e.target: set(e.may_lack) for e in expectations}
    pairs = {tuple(sorted((e.target, other))) for e in expectations for other in e.shares_keys_with}
    findings: list[Finding] = []
    for a, b in sorted(pairs):
        if a not in store_keys or b not in store_keys:
            continue
        findings += _lacking(b, a, store_keys, allowed, config_file)
        findings += _lacking(a, b, store_keys, allowed, config_file)
    return findings


def _lacking(have: str, lack: str, store_keys: Mapping[str, Sequence[str]],
             allowed: Mapping[str, set[str]], config_file: str) -> list[Finding]:
    present = set(store_keys[lack])
    return [
        Finding(lack, key, MISSING_SHARED_KEY, config_file, None,
                f"{key} is in {have}'s store but not in {lack}'s, and {config_file} says they share keys — "
                f"run `envsync copy {have} {lack} {key}` (or `envsync set {lack} {key}`), or add it to "
                f"targets.{lack}.may_lack")
        for key in store_keys[have] if key not in present and key not in allowed.get(lack, set())
    ]
