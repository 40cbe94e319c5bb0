"""Orchestration: read both sides, plan, apply, record the new base.

The CLI calls these steps one by one so it can render and confirm in
between; nothing here prints.
"""
from __future__ import annotations

import os
from collections import ChainMap
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv.variables import parse_variables

from envsync import dotenv_file, state
from envsync.config import Target
from envsync.dotenv_file import DotenvDocument
from envsync.errors import ApplyError, EnvSyncError, InputError
from envsync.merge import merge3
from envsync.model import Mode, OnConflict, Snapshot, StoreInfo
from envsync.plan import UNKNOWN, UNWRITABLE, Action, Chooser, Item, Plan, Unknown, make_plan, resolve
from envsync.stores import open_store
from envsync.stores.base import Progress, Store, StoreOptions, no_progress


@dataclass
class Local:
    """The local file as read: its document, its exact bytes (to detect edits
    made while we work) and its values."""

    path: Path
    document: DotenvDocument
    raw: bytes | None  # None: the file does not exist yet
    values: dict[str, str]

    @property
    def exists(self) -> bool:
        return self.raw is not None


@dataclass
class Context:
    """Everything one command knows about one target before it acts."""

    target: Target
    store: Store
    local: Local
    remote: Snapshot
    base_versions: dict[str, str] | None
    base: dict[str, str | Unknown] | None
    warnings: list[str] = field(default_factory=list)
    given: bool = False  # the local side is values given by the caller, not the target's file (see prepare_given)

    def info(self) -> StoreInfo:
        return self.store.info(self.remote)


@dataclass(frozen=True)
class Outcome:
    pushed: int
    pulled: int
    store_info: StoreInfo
    notes: tuple[str, ...] = ()  # what the store had to say while writing (e.g. a secret recovered)


def read_local(target: Target, *, must_exist: bool) -> Local:
    """Parse the target's file; a missing file is empty unless the command needs it."""
    name = target.display_file()
    if not target.file.exists() and not target.file.is_symlink():
        if must_exist:
            raise InputError(f"{name}: file not found — create it, or run `envsync pull {target.name}` first")
        return Local(target.file, DotenvDocument(name=name), None, {})
    raw = dotenv_file.read_bytes(target.file, name)
    document = dotenv_file.parse(dotenv_file.decode(raw, name), name)
    return Local(target.file, document, raw, local_values(document, target))


def local_values(document: DotenvDocument, target: Target) -> dict[str, str]:
    values = document.values()
    return expand_variables(values) if target.expand else values


def expand_variables(values: dict[str, str]) -> dict[str, str]:
    """`${VAR}` expansion as python-dotenv does it (earlier keys, then the environment),
    in linear time: dotenv's own resolve_variables copies the environment per key."""
    resolved: dict[str, str] = {}
    scope = ChainMap(resolved, os.environ)
    for key, value in values.items():
        resolved[key] = "".join(atom.resolve(scope) for atom in parse_variables(value))
    return resolved


def prepare(target: Target, *, must_exist: bool, progress: Progress = no_progress,
            options: StoreOptions | None = None) -> Context:
    """Read the local file, the store and the base of the last sync."""
    local = read_local(target, must_exist=must_exist)
    store, remote = read_store(target, progress=progress, options=options)
    versions = state.base_versions(target.root, target.name, store.uri, store.layout)
    if not local.exists:
        versions = None  # no file at all is a fresh start (a new clone, `rm .env`), not a deletion of every key
    base = read_base(store, remote, versions) if versions is not None else None
    warnings = list(local.document.warnings) + list(store.notes)
    return Context(target, store, local, remote, versions, base, warnings)


def read_store(target: Target, *, progress: Progress = no_progress,
               options: StoreOptions | None = None) -> tuple[Store, Snapshot]:
    """Open the target's store and read its snapshot."""
    store = open_store(target, options)
    return store, store.read(progress)


def prepare_given(target: Target, store: Store, remote: Snapshot, values: dict[str, str], source: str,
                  notes: list[str] | tuple[str, ...] = ()) -> Context:
    """A Context whose local side is `values` from `source` (the schema, the CI's variables)
    instead of the target's file, which is never read nor written.

    It has no base: the values say what the store must hold, so plan it with `force`.
    Applying it writes the store only and records no base in the state file. The state
    is the base of this checkout's file and the store; these values are not that file.
    Left alone, it still names the versions the developer's own file last agreed on, so
    their next `sync` sees this push as a change made in the store (as if a teammate had
    pushed) and pulls it. Recording it would claim their file holds keys it lacks: that
    sync would never pull them, and `sync --prune` would delete them from the store.
    """
    local = Local(target.file, DotenvDocument(name=source), None, dict(values))
    return Context(target, store, local, remote, None, None, [*notes, *store.notes], given=True)


def read_base(store: Store, remote: Snapshot, versions: dict[str, str]) -> dict[str, str | Unknown]:
    """Values at the last sync: the current value where the version has not moved,
    else read back from the store's history (UNKNOWN if that version is gone)."""
    base: dict[str, str | Unknown] = {}
    older: dict[str, str] = {}
    for key, version in versions.items():
        if remote.versions.get(key) == version:
            base[key] = remote.values[key]
        else:
            older[key] = version
    found = store.read_versions(older) if older else {}
    for key in older:
        base[key] = found.get(key, UNKNOWN)
    return base


def plan(context: Context, mode: Mode, *, prune: bool = False, force: bool = False,
         on_conflict: OnConflict = OnConflict.FAIL, choose: Chooser | None = None) -> Plan:
    """The plan for one target, conflicts resolved by `on_conflict` where they can be."""
    raw = make_plan(context.local.values, context.remote.values, context.base, mode, prune=prune, force=force)
    return skip_unwritable(resolve(raw, on_conflict, prune=prune, merger=merge3, choose=choose))


def skip_unwritable(plan: Plan) -> Plan:
    """A value bound for the local file that has no safe .env form becomes a skip, so that one
    value does not block every other key of the pull or sync (nor shows as an ordinary pull)."""
    items = tuple(replace(item, action=Action.SKIP, reason=UNWRITABLE) if not _writable(item, plan.mode) else item
                  for item in plan.items)
    return Plan(mode=plan.mode, items=items)


def _writable(item: Item, mode: Mode) -> bool:
    if item.action in (Action.PULL_ADD, Action.PULL_CHANGE):
        value = item.remote
    elif item.action is Action.MERGE and mode is not Mode.PUSH and item.merged != item.local:
        value = item.merged
    else:
        return True
    try:
        dotenv_file.encode_value(value or "", key=item.key)
    except InputError:
        return False
    return True


def apply(context: Context, plan: Plan, progress: Progress = no_progress) -> Outcome:
    """Write the store first, then the local file, then the new base.

    Each step is atomic on its own; if a later one fails, the state still
    names the old base, so the next run sees the difference and converges.
    """
    remote_changes, local_changes = plan.remote_changes(), plan.local_changes()
    if context.given and local_changes:
        raise ValueError("a plan for given values must not write the local file (plan it as a push)")
    notes_before = len(context.store.notes)
    document = context.local.document
    # Edit the document first: a value EnvSync refuses to write (dotenv_file.encode_value)
    # must stop the run before the store changes.
    for change in local_changes:
        if change.value is None:
            document.unset(change.key)
        else:
            document.set(change.key, change.value)
    remote = context.remote
    if remote_changes:
        try:
            remote = context.store.apply(remote_changes, context.remote, progress)
        except ApplyError:
            raise
        except EnvSyncError as exc:
            raise ApplyError(exc, [], [c.key for c in remote_changes]) from None
    if context.given:  # no file to write, no base to record (see prepare_given)
        return Outcome(len(remote_changes), 0, context.store.info(remote), tuple(context.store.notes[notes_before:]))
    if local_changes:
        try:
            dotenv_file.write(document, context.local.path, expected=context.local.raw or b"")
        except EnvSyncError as exc:
            if remote_changes:
                raise type(exc)(f"{exc} (the store was updated; run `envsync pull {context.target.name}` to finish)") from None
            raise
    local_after = local_values(document, context.target)
    versions = state.next_versions(context.base_versions, local_after, remote)
    try:
        state.record(context.target.root, context.target.name, context.store.uri, context.store.layout, versions)
    except OSError as exc:
        raise InputError(f"{state.state_path(context.target.root)}: cannot record this sync ({exc.strerror or exc}); "
                         "the store and the file were updated, so the next run sees them in agreement "
                         "or re-plans the difference") from None
    return Outcome(len(remote_changes), len(local_changes), context.store.info(remote),
                   tuple(context.store.notes[notes_before:]))
