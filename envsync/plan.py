"""The pure planner: (local, base, remote) -> a Plan of actions. No I/O.

`base` is what both sides held at the last sync (None when there was no
sync yet). With a base, each side's own changes are known and flow to the
other side. Without one there is no guessing (SECURITY.md, "What EnvSync defends against" 5): a key
on one side only is an addition, and a value that differs is a conflict for
push, pull and sync alike, unless `force` says the command's own side wins.
A base value that can no longer be read (UNKNOWN) is no base; so is a state
that records no version for the key (the last sync left it differing, or both
sides added it since).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Callable, Mapping

from envsync.model import Change, Mode, OnConflict


class Action(str, enum.Enum):
    PUSH_ADD = "push-add"
    PUSH_CHANGE = "push-change"
    PUSH_DELETE = "push-delete"
    PULL_ADD = "pull-add"
    PULL_CHANGE = "pull-change"
    PULL_DELETE = "pull-delete"
    MERGE = "merge"  # a merged value written to both sides
    CONFLICT = "conflict"
    SKIP = "skip"  # a difference this command leaves alone, with the reason
    UNCHANGED = "unchanged"


class Unknown:
    """A base value that cannot be read back (its version is gone)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
CONFLICT_SKIPPED = "conflict left for later"
UNWRITABLE = ("its value cannot be written safely to a .env file (it needs double quotes and holds $(, ${, $[ "
              "or a backquote a shell would run) — use `envsync run` or `envsync export -f json`")
PUSHES = (Action.PUSH_ADD, Action.PUSH_CHANGE, Action.PUSH_DELETE)
PULLS = (Action.PULL_ADD, Action.PULL_CHANGE, Action.PULL_DELETE)
DELETES = (Action.PUSH_DELETE, Action.PULL_DELETE)


@dataclass(frozen=True)
class Item:
    key: str
    action: Action
    local: str | None
    remote: str | None
    base: str | None | Unknown = None
    merged: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Plan:
    mode: Mode
    items: tuple[Item, ...]

    def of(self, *actions: Action) -> list[Item]:
        return [i for i in self.items if i.action in actions]

    @property
    def conflicts(self) -> list[Item]:
        return self.of(Action.CONFLICT)

    @property
    def skipped_conflicts(self) -> list[Item]:
        """Conflicts left for later (`ask`, answered skip): still unresolved."""
        return [i for i in self.of(Action.SKIP) if i.reason == CONFLICT_SKIPPED]

    @property
    def skipped_unwritable(self) -> list[Item]:
        """Store values left out of the local file because no .env form of them is safe: not in sync."""
        return [i for i in self.of(Action.SKIP) if i.reason == UNWRITABLE]

    @property
    def has_changes(self) -> bool:
        return bool(self.remote_changes() or self.local_changes())

    def remote_changes(self) -> list[Change]:
        """What the store must receive (a pull never writes the store)."""
        changes = [Change(i.key, i.local) for i in self.of(*PUSHES)]
        if self.mode is not Mode.PULL:
            changes += [Change(i.key, i.merged) for i in self.of(Action.MERGE) if i.merged != i.remote]
        return changes

    def local_changes(self) -> list[Change]:
        """What the local file must receive (a push never writes the file)."""
        changes = [Change(i.key, i.remote) for i in self.of(*PULLS)]
        if self.mode is not Mode.PUSH:
            changes += [Change(i.key, i.merged) for i in self.of(Action.MERGE) if i.merged != i.local]
        return changes

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.action.value] = counts.get(item.action.value, 0) + 1
        return counts


def make_plan(local: Mapping[str, str], remote: Mapping[str, str],
              base: Mapping[str, str | Unknown] | None, mode: Mode, *, prune: bool = False,
              force: bool = False) -> Plan:
    """Classify every key present on either side.

    `force` ignores the base: push makes the store match the file, pull the file match
    the store (sync, having no side of its own, plans as with no earlier sync)."""
    if force:
        base = None
    items = []
    for key in sorted(set(local) | set(remote)):
        base_value = UNKNOWN if base is None else base.get(key)
        items.append(_classify(key, local.get(key), remote.get(key), base_value, mode, prune,
                               was_synced=base is not None and key in base, force=force))
    return Plan(mode=mode, items=tuple(items))


def _classify(key: str, local: str | None, remote: str | None, base: str | None | Unknown,
              mode: Mode, prune: bool, was_synced: bool, force: bool = False) -> Item:
    item = Item(key, Action.UNCHANGED, local, remote, base)
    if local == remote:
        return item
    if isinstance(base, Unknown):
        return _two_way(item, mode, prune, was_synced, force)
    local_moved, remote_moved = local != base, remote != base
    if local_moved and remote_moved:
        # With no base value, both "moved" from nothing: both hold a value, and none is common.
        reason = _both_moved(local, remote) if base is not None else _no_base(mode, NO_COMMON_BASE)
        return replace(item, action=Action.CONFLICT, reason=reason)
    if local_moved:
        if mode is Mode.PULL:
            return replace(item, action=Action.SKIP, reason="changed locally since the last sync — push to publish it")
        return _toward_remote(item, prune)
    if mode is Mode.PUSH:
        return replace(item, action=Action.SKIP, reason="changed in the store since the last sync — pull to get it")
    return _toward_local(item, prune)


def _two_way(item: Item, mode: Mode, prune: bool, was_synced: bool, force: bool) -> Item:
    """No readable base for this key: no earlier sync, or its value then is gone from the store.

    A key on one side only is an addition (or, for a one-way command, a deletion that
    needs --prune), and a value that differs is a conflict in every mode: which side
    is stale cannot be told, so push and pull must not guess (a stale .env would
    replace the team's values). `force` lets a one-way command make the other side
    match. Sync, which moves both ways, also calls a synced key that one side lacks
    a conflict, since the lack may be a deletion."""
    one_sided = item.local is None or item.remote is None
    if mode is Mode.PUSH and (force or one_sided):
        return _toward_remote(item, prune)
    if mode is Mode.PULL and (force or one_sided):
        return _toward_local(item, prune)
    if mode is not Mode.SYNC:
        why = BASE_GONE if was_synced else NO_EARLIER_SYNC
        return replace(item, action=Action.CONFLICT, reason=_no_base(mode, why))
    if one_sided and not was_synced:
        return _toward_remote(item, prune) if item.remote is None else _toward_local(item, prune)
    if was_synced and item.remote is None:
        return replace(item, action=Action.CONFLICT,
                       reason="deleted from the store since the last sync, and its old value can no longer "
                              "be read there to tell whether you changed it: --on-conflict remote drops it "
                              "here, --on-conflict local pushes it back")
    if was_synced:
        return replace(item, action=Action.CONFLICT, reason=BASE_GONE)
    return replace(item, action=Action.CONFLICT, reason=NO_EARLIER_SYNC)


NO_EARLIER_SYNC = "differs, and there is no earlier sync to tell which side changed"
NO_COMMON_BASE = "differs, and there is no common base to tell which side changed"
BASE_GONE = "its value at the last sync can no longer be read from the store, so which side changed it cannot be told"


def _no_base(mode: Mode, why: str) -> str:
    """Why a value that differs is a conflict; for push and pull, also the way out."""
    if mode is Mode.SYNC:
        return why
    matched = "the store match the file" if mode is Mode.PUSH else "the file match the store"
    return f"{why} — --on-conflict local|remote picks a side, --force makes {matched}"


def _toward_remote(item: Item, prune: bool) -> Item:
    if item.local is None:
        if not prune:
            return replace(item, action=Action.SKIP, reason="not in the local file — pass --prune to delete it from the store")
        return replace(item, action=Action.PUSH_DELETE)
    return replace(item, action=Action.PUSH_ADD if item.remote is None else Action.PUSH_CHANGE)


def _toward_local(item: Item, prune: bool) -> Item:
    if item.remote is None:
        if not prune:
            return replace(item, action=Action.SKIP, reason="not in the store — pass --prune to delete it from the local file")
        return replace(item, action=Action.PULL_DELETE)
    return replace(item, action=Action.PULL_ADD if item.local is None else Action.PULL_CHANGE)


def _both_moved(local: str | None, remote: str | None) -> str:
    if local is None:
        return "deleted locally but changed in the store since the last sync"
    if remote is None:
        return "changed locally but deleted from the store since the last sync"
    return "changed on both sides since the last sync"


# -- conflict resolution -------------------------------------------------------

Merger = Callable[[str, str, str], "str | None"]
Chooser = Callable[[Item], str]  # returns local | remote | merge | skip


def resolve(plan: Plan, strategy: OnConflict, *, prune: bool, merger: Merger,
            choose: Chooser | None = None) -> Plan:
    """Turn conflicts into actions by `strategy`; what cannot be resolved stays a conflict."""
    if strategy is OnConflict.FAIL or not plan.conflicts:
        return plan
    items = []
    for item in plan.items:
        if item.action is Action.CONFLICT:
            pick = choose(item) if strategy is OnConflict.ASK and choose else strategy
            item = _resolve_one(item, pick, prune, merger, plan.mode)
        items.append(item)
    return Plan(mode=plan.mode, items=tuple(items))


def _resolve_one(item: Item, pick: str, prune: bool, merger: Merger, mode: Mode) -> Item:
    # A one-way command never writes the other side: keeping that side's own value is a skip.
    if pick == OnConflict.LOCAL and mode is Mode.PULL:
        return replace(item, action=Action.SKIP, reason="kept the local value (pull never writes the store)")
    if pick == OnConflict.REMOTE and mode is Mode.PUSH:
        return replace(item, action=Action.SKIP, reason="kept the store's value (push never writes the local file)")
    if pick == OnConflict.LOCAL:
        return _toward_remote(item, prune)
    if pick == OnConflict.REMOTE:
        return _toward_local(item, prune)
    if pick == OnConflict.MERGE:
        if item.local is None or item.remote is None or not isinstance(item.base, str):
            return replace(item, reason=item.reason + "; no merge: one side deleted it or there is no base")
        merged = merger(item.base, item.local, item.remote)
        if merged is None:
            return replace(item, reason=item.reason + "; the edits overlap and cannot be merged")
        return replace(item, action=Action.MERGE, merged=merged, reason="merged edits from both sides")
    if pick == "skip":
        return replace(item, action=Action.SKIP, reason=CONFLICT_SKIPPED)
    return item
