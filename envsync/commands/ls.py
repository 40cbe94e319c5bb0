"""`envsync ls [TARGET]`: the keys of a target's store with version, last change and author
where the store records them. Never a value, nor its length.

Per-key layout: each key's own newest version (one history listing per key, as `history`).
Bundle layout: every key lives in the one bundle, so the version, time and author shown are
the bundle's last write (one listing); a key's own changes are `envsync history TARGET KEY`,
which reads back the bundle's versions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from envsync.config import ONE_TARGET, Config
from envsync.errors import EXIT_CLEAN
from envsync.escaping import escape
from envsync.model import VersionInfo
from envsync.output import CiRun, Output, progress, warn
from envsync.stores import open_store


@dataclass(frozen=True)
class Row:
    key: str
    version: str | None
    changed: datetime | None
    author: str | None


def rows(keys: Sequence[str], versions: Mapping[str, str], history: Sequence[VersionInfo],
         layout: str) -> list[Row]:
    """One row per key of the snapshot; `history` is the store's newest-first listing of the target."""
    if layout == "bundle":
        last = history[0] if history else None
        return [Row(k, versions.get(k) or (last.version if last else None),
                    last.created if last else None, last.author if last else None) for k in sorted(keys)]
    newest: dict[str, VersionInfo] = {}
    for entry in history:
        if entry.key is not None and entry.key not in newest:
            newest[entry.key] = entry
    found = [(k, newest.get(k)) for k in sorted(keys)]
    return [Row(k, versions.get(k) or (e.version if e else None), e.created if e else None,
                e.author if e else None) for k, e in found]


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "?"


def text(title: str, found: list[Row], layout: str) -> str:
    if not found:
        return f"{escape(title)}: no keys"
    cells = [(escape(r.key), escape(r.version or "?"), when(r.changed), escape(r.author or "")) for r in found]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = [escape(title)]
    lines += [f"  {k:<{widths[0]}}  {v:<{widths[1]}}  {w:<{widths[2]}}  {a}".rstrip() for k, v, w, a in cells]
    if layout == "bundle":
        lines.append("  (bundle layout: version, time and author of the bundle's last write; a key's own "
                     "changes: envsync history TARGET KEY)")
    return "\n".join(lines)


def payload(target: str, uri: str, layout: str, found: list[Row]) -> dict[str, Any]:
    return {"target": target, "store": uri, "layout": layout,
            "keys": [{"key": r.key, "version": r.version, "changed": r.changed.isoformat() if r.changed else None,
                      "author": r.author, "of": "bundle" if layout == "bundle" else "key"} for r in found]}


def run(config: Config, name: str | None, *, as_json: bool) -> int:
    target = config.select((name,) if name else (), hint=ONE_TARGET)[0]
    store = open_store(target)
    with progress(f"reading {target.name}") as tick:
        snapshot = store.read(tick)
    CiRun("ls").mask(snapshot.values.values())  # read, though never shown: the rest of the job's log
    history = store.history(None) if snapshot.values else []
    for message in store.notes:
        warn(message)
    found = rows(list(snapshot.values), snapshot.versions, history, store.layout)
    out = Output(as_json)
    out.show(text(f"{target.name}: {store.uri} ({store.layout})", found, store.layout))
    out.emit_json(payload(target.name, store.uri, store.layout, found))
    return EXIT_CLEAN
