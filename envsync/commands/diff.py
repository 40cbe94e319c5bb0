"""`envsync diff A B`: drift between two targets' stores — keys only in one, values that differ.

The comparison is pure (`compare`, `findings`); `run` reads both stores, masks every value
on GitHub before anything is printed, renders, and writes the CI reports as `check` does.
No value is ever shown: a differing key is reported by name and masked shape only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from envsync import report
from envsync.config import Config, Target
from envsync.drift import Finding
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, InputError
from envsync.escaping import escape
from envsync.output import CiRun, Output, progress, warn
from envsync.stores import open_store

ONLY_IN_A, ONLY_IN_B, DIFFERENT, EQUAL = "only-in-a", "only-in-b", "different", "equal"
SYMBOLS = {ONLY_IN_A: "<", ONLY_IN_B: ">", DIFFERENT: "~", EQUAL: "="}


@dataclass(frozen=True)
class Entry:
    """One key of either target: where it is, and whether the values agree (None: not compared)."""

    key: str
    status: str
    a: str | None
    b: str | None


@dataclass(frozen=True)
class Side:
    """One target as read: its name, its store, its values (never printed), its fix hint."""

    name: str
    uri: str
    layout: str
    file: str
    values: Mapping[str, str]


def compare(a: Mapping[str, str], b: Mapping[str, str], *, keys_only: bool = False) -> list[Entry]:
    """Every key of either side, sorted; with `keys_only` a differing value counts as equal."""
    entries = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            status = ONLY_IN_A
        elif key not in a:
            status = ONLY_IN_B
        elif keys_only or a[key] == b[key]:
            status = EQUAL
        else:
            status = DIFFERENT
        entries.append(Entry(key, status, a.get(key), b.get(key)))
    return entries


def findings(a: Side, b: Side, entries: list[Entry]) -> list[Finding]:
    """A finding per key that is not equal, saying what to run to fix it (never a value)."""
    target = pair_name(a, b)
    found = []
    for e in entries:
        if e.status == ONLY_IN_A:
            message = (f"{e.key} is in {a.name} but not in {b.name} — run `envsync copy {a.name} {b.name} "
                       f"{e.key}` (or `envsync set {b.name} {e.key}`), or `envsync unset {a.name} {e.key}`")
        elif e.status == ONLY_IN_B:
            message = (f"{e.key} is in {b.name} but not in {a.name} — run `envsync copy {b.name} {a.name} "
                       f"{e.key}` (or `envsync set {a.name} {e.key}`), or `envsync unset {b.name} {e.key}`")
        elif e.status == DIFFERENT:
            message = (f"{e.key} differs between {a.name} and {b.name} — run `envsync copy {a.name} {b.name} "
                       f"{e.key}` (or `envsync set {b.name} {e.key}`); `--keys-only` if the values are "
                       "meant to differ")
        else:
            continue
        found.append(Finding(target, e.key, e.status, None, None, message))
    return found


def pair_name(a: Side, b: Side) -> str:
    return f"{a.name} vs {b.name}"


def summary(entries: list[Entry], a: Side, b: Side) -> str:
    counts = {status: sum(1 for e in entries if e.status == status) for status in SYMBOLS}
    return (f"{counts[ONLY_IN_A]} only in {a.name}, {counts[ONLY_IN_B]} only in {b.name}, "
            f"{counts[DIFFERENT]} different, {counts[EQUAL]} equal")


def text(a: Side, b: Side, entries: list[Entry], found: list[Finding], verbose: bool) -> str:
    """Plain text: one line per key that is not equal (all with `verbose`), masked, then the fixes."""
    lines = [escape(f"{a.name}: {a.uri} ({a.layout})  vs  {b.name}: {b.uri} ({b.layout})")]
    shown = [e for e in entries if verbose or e.status != EQUAL]
    width = max((len(escape(e.key)) for e in shown), default=0)
    for e in shown:
        detail = f"{a.name} {report.mask(e.a)}, {b.name} {report.mask(e.b)}"
        lines.append(f"  {SYMBOLS[e.status]} {escape(e.key):<{width}}  {e.status:<9}  {escape(detail)}")
    if not shown:
        lines.append("  (no drift)")
    lines.append(f"  {escape(summary(entries, a, b))}")
    if found:
        lines += ["", "To fix:"] + [escape(f"  {f.message}") for f in found]
    return "\n".join(lines)


def payload(a: Side, b: Side, entries: list[Entry], found: list[Finding], keys_only: bool) -> dict[str, Any]:
    """The --json document: shapes (present, length) only, never values."""
    return {
        "drift": bool(found),
        "keys_only": keys_only,
        "a": {"target": a.name, "store": a.uri, "layout": a.layout},
        "b": {"target": b.name, "store": b.uri, "layout": b.layout},
        "keys": [{"key": e.key, "status": e.status, "a": report.value_shape(e.a), "b": report.value_shape(e.b)}
                 for e in entries],
        "findings": report.findings_json(found),
    }


def read_side(target: Target, progress) -> tuple[Side, list[str]]:
    """A target's store, read whole; with the store's notes (never values) to warn about."""
    store = open_store(target)
    with progress(f"reading {target.name}") as tick:
        snapshot = store.read(tick)
    return Side(target.name, store.uri, store.layout, target.display_file(), dict(snapshot.values)), list(store.notes)


def run(config: Config, names: tuple[str, str], *, keys_only: bool, verbose: bool, as_json: bool,
        reports) -> int:
    """Read both stores (masking on GitHub), compare, print, write reports; exit 1 on drift."""
    if names[0] == names[1]:
        raise InputError(f"diff compares two different targets, and both are {names[0]!r} — "
                         "e.g. `envsync diff staging prod`")
    first, second = config.select(names)
    out, ci_run = Output(as_json), CiRun("diff", reports)
    (a, notes_a), (b, notes_b) = read_side(first, progress), read_side(second, progress)
    # Both targets' masks before any line of output (SECURITY.md, "What EnvSync defends against" 2).
    ci_run.mask([*a.values.values(), *b.values.values()])
    for message in notes_a + notes_b:
        warn(message)
    entries = compare(a.values, b.values, keys_only=keys_only)
    found = findings(a, b, entries)
    ci_run.add_findings(pair_name(a, b), [e.key for e in entries], found)
    out.show(text(a, b, entries, found, verbose))
    document = payload(a, b, entries, found, keys_only)
    out.emit_json(document)
    ci_run.finish(document)
    return EXIT_DRIFT if found else EXIT_CLEAN
