"""Rendering: plans, drift findings and history as rich tables on a TTY, plain
text otherwise, or JSON. Values are always masked; no hash of a value is shown.
Names, authors and messages come from stores and configs: every one is escaped
(`envsync.escaping`) — in tables also as rich markup."""
from __future__ import annotations

import os
import sys
from typing import Any, Iterable

from envsync.drift import Finding
from envsync.escaping import escape, rich
from envsync.model import StoreInfo, VersionInfo
from envsync.plan import Action, Item, Plan, Unknown

SYMBOLS = {
    Action.PUSH_ADD: "+", Action.PUSH_CHANGE: "~", Action.PUSH_DELETE: "-",
    Action.PULL_ADD: "+", Action.PULL_CHANGE: "~", Action.PULL_DELETE: "-",
    Action.MERGE: "*", Action.CONFLICT: "!", Action.SKIP: "?", Action.UNCHANGED: "=",
}
STYLES = {
    Action.PUSH_ADD: "green", Action.PUSH_CHANGE: "yellow", Action.PUSH_DELETE: "red",
    Action.PULL_ADD: "green", Action.PULL_CHANGE: "yellow", Action.PULL_DELETE: "red",
    Action.MERGE: "cyan", Action.CONFLICT: "bold red", Action.SKIP: "dim", Action.UNCHANGED: "dim",
}


def bullet() -> str:
    encoding = (getattr(sys.stdout, "encoding", None) or "ascii").lower()
    return "••••" if "utf" in encoding else "****"


def mask(value: str | None | Unknown) -> str:
    """A value as the user may see it: never the text, only that it is there and its length."""
    if value is None:
        return "(absent)"
    if isinstance(value, Unknown):
        return "(unknown)"
    if value == "":
        return "(empty)"
    return f"{bullet()} ({len(value)} char{'' if len(value) == 1 else 's'})"


def value_shape(value: str | None) -> dict[str, Any]:
    return {"present": value is not None, "length": None if value is None else len(value)}


# -- plans ---------------------------------------------------------------------


def plan_summary(plan: Plan) -> str:
    pushes = len(plan.remote_changes())
    pulls = len(plan.local_changes())
    counts = plan.counts()
    parts = [f"{pushes} to push", f"{pulls} to pull"]
    for action, label in ((Action.CONFLICT, "conflict"), (Action.SKIP, "skipped"), (Action.UNCHANGED, "unchanged")):
        n = counts.get(action.value, 0)
        if n:
            parts.append(f"{n} {label}" + ("s" if label == "conflict" and n != 1 else ""))
    return ", ".join(parts)


def plan_items(plan: Plan, verbose: bool = False) -> list[Item]:
    return [i for i in plan.items if verbose or i.action is not Action.UNCHANGED]


def plan_text(title: str, plan: Plan, verbose: bool = False) -> str:
    lines = [escape(title)]
    items = plan_items(plan, verbose)
    width = max((len(escape(i.key)) for i in items), default=0)
    for item in items:
        detail = escape(_detail(item))
        lines.append(f"  {SYMBOLS[item.action]} {escape(item.key):<{width}}  {item.action.value:<11}  {detail}".rstrip())
    if not items:
        lines.append("  (in sync)")
    lines.append(f"  {plan_summary(plan)}")
    return "\n".join(lines)


def plan_table(title: str, plan: Plan, verbose: bool = False):
    from rich.table import Table

    table = Table(title=rich(title), title_justify="left", show_edge=False, pad_edge=False)
    for column in ("", "Key", "Action", "Local", "Store", "Note"):
        table.add_column(column, no_wrap=column in ("Key", "Action"))
    for item in plan_items(plan, verbose):
        style = STYLES[item.action]
        table.add_row(SYMBOLS[item.action], rich(item.key), f"[{style}]{item.action.value}[/]",
                      mask(item.local), mask(item.remote), rich(item.reason))
    table.caption = plan_summary(plan) if plan_items(plan, verbose) else f"in sync — {plan_summary(plan)}"
    table.caption_justify = "left"
    return table


def _detail(item: Item) -> str:
    if item.action in (Action.PUSH_ADD, Action.PUSH_CHANGE):
        return f"{mask(item.remote)} -> {mask(item.local)}" if item.remote is not None else mask(item.local)
    if item.action in (Action.PULL_ADD, Action.PULL_CHANGE):
        return f"{mask(item.local)} -> {mask(item.remote)}" if item.local is not None else mask(item.remote)
    if item.action is Action.MERGE:
        return f"{item.reason}: {mask(item.merged)}"
    return item.reason


def plan_json(target: str, file: str, plan: Plan, info: StoreInfo, verbose: bool = False) -> dict[str, Any]:
    return {
        "target": target,
        "file": file,
        "store": {"uri": info.uri, "layout": info.layout, "secrets": info.secrets},
        "mode": plan.mode.value,
        "summary": {"push": len(plan.remote_changes()), "pull": len(plan.local_changes()), **plan.counts()},
        "items": [
            {"key": i.key, "action": i.action.value, "local": value_shape(i.local),
             "store": value_shape(i.remote), "reason": i.reason or None}
            for i in plan_items(plan, verbose)
        ],
    }


# -- drift ---------------------------------------------------------------------


def findings_text(findings: Iterable[Finding]) -> str:
    lines = []
    for f in findings:
        where = f"{f.file}:{f.line}: " if f.file and f.line else (f"{f.file}: " if f.file else "")
        lines.append(escape(f"{where}[{f.target}] {f.kind}: {f.message}"))
    return "\n".join(lines)


def findings_table(findings: list[Finding], title: str):
    from rich.table import Table

    table = Table(title=rich(title), title_justify="left", show_edge=False, pad_edge=False)
    for column in ("Target", "Key", "Drift", "Where", "Fix"):
        table.add_column(column)
    for f in findings:
        where = f"{f.file}:{f.line}" if f.file and f.line else (f.file or "store")
        table.add_row(rich(f.target), rich(f.key), f"[yellow]{rich(f.kind)}[/]", rich(where),
                      rich(f.message.split(" — ", 1)[-1]))
    return table


def findings_json(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [{"target": f.target, "key": f.key, "kind": f.kind, "file": f.file, "line": f.line,
             "message": f.message} for f in findings]


# -- history -------------------------------------------------------------------


HISTORY_COLUMNS = ("Version", "Key", "When", "By", "Change", "Size / Changed")
CHANGE_SYMBOLS = {"added": "+", "changed": "~", "deleted": "-"}
MAX_KEYS_SHOWN = 6  # a first version adds every key: the row names a few, --json all of them


def history_rows(entries: list[VersionInfo], key: str | None) -> list[tuple[str, ...]]:
    """One row per version: (version, key, when, by, change, size). A bundle version's row
    names the keys it changed (+added ~changed -deleted) where the store could tell, and
    its last cell counts them ("2 keys changed") instead of the bundle's size."""
    rows = []
    for e in entries:
        when = e.created.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if e.created else "?"
        per_value = key is not None or e.key is not None
        size = "" if e.length is None else (f"{e.length} chars" if per_value else f"{e.length} keys")
        subject = e.key or key or "(all)"
        if e.changes is not None and not per_value:
            count = len(e.changes)
            subject, size = changed_keys(e.changes), f"{count} key{'s' if count != 1 else ''} changed"
        rows.append((e.version, subject, when, e.author or "", e.action, size))
    return rows


def changed_keys(changes: tuple[tuple[str, str], ...]) -> str:
    """`+NEW ~TOKEN -OLD`, the first few, then how many more."""
    shown = " ".join(f"{CHANGE_SYMBOLS.get(action, '?')}{key}" for key, action in changes[:MAX_KEYS_SHOWN])
    more = len(changes) - MAX_KEYS_SHOWN
    return (shown + (f" …{more} more" if more > 0 else "")) or "(no change)"


def history_text(subject: str, rows: list[tuple[str, ...]]) -> str:
    if not rows:
        return f"No history for {escape(subject)}."
    rows = [tuple(escape(cell) for cell in row) for row in rows]
    width = max(len(r[1]) for r in rows)
    lines = [f"{v:>8}  {k:<{width}}  {when}  {action:<8} {size:<16} {by}".rstrip()
             for v, k, when, by, action, size in rows]
    return f"History of {escape(subject)}:\n" + "\n".join(lines)


def history_table(subject: str, rows: list[tuple[str, ...]]):
    from rich.table import Table

    table = Table(title=f"History of {rich(subject)}", title_justify="left", show_edge=False, pad_edge=False)
    for column in HISTORY_COLUMNS:
        table.add_column(column)
    for row in rows:
        table.add_row(*(rich(cell) for cell in row))
    return table


def history_json(entries: list[VersionInfo]) -> list[dict[str, Any]]:
    """`length`: a value's size in characters (per-key) or the bundle's key count at that
    version, null if unknown; `changes`: the keys that version added, changed or deleted
    (bundle layout), null where the store could not tell."""
    return [{"version": e.version, "key": e.key, "created": e.created.isoformat() if e.created else None,
             "author": e.author, "action": e.action, "length": e.length,
             "changes": None if e.changes is None else [{"key": k, "action": a} for k, a in e.changes]}
            for e in entries]


def use_color() -> bool:
    return "NO_COLOR" not in os.environ
