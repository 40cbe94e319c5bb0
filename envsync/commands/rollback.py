"""`envsync rollback [TARGET] --to VERSION|TIME`: put a store back the way it was, as a new version.

History is never rewritten: the old content is read from the store's own history and written
the way `push` writes (a masked plan, confirmation or --yes, --dry-run, compare-and-swap
against the store as read, the ownership rule and recovery window). Bundle layout: VERSION is
one of `envsync history TARGET`'s versions (a TIME picks the last version at that time), read
whole with `Store.read_at`. Per-key layout: only a TIME, and each key goes back to its own
version at that time (absent then: deleted now). Anything that cannot be read back stops the
command before it writes. The local file is not touched: `pull` brings the change in.
"""
from __future__ import annotations

from datetime import datetime, timezone

from envsync import engine
from envsync.commands.store_write import show_and_apply
from envsync.config import ONE_TARGET, Config
from envsync.errors import InputError, StoreError
from envsync.escaping import escape
from envsync.model import Mode, VersionInfo
from envsync.output import CiRun, progress, warn
from envsync.stores.base import Store, StoreOptions

TIME_EXAMPLE = "2026-12-01T09:30Z"


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 date or time (`Z` allowed); without a zone it is UTC. None if it is not one."""
    try:
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def bundle_version(entries: list[VersionInfo], to: str) -> str:
    """The bundle version `to` names, or the last one created at or before the time `to`."""
    if any(e.version == to for e in entries):
        return to
    when = parse_time(to)
    if when is None:
        raise InputError(f"--to {escape(to)}: not a version in the history (see `envsync history`) nor a time "
                         f"(e.g. {TIME_EXAMPLE})")
    before = [e for e in entries if e.created is not None and e.created <= when]
    if not before:
        raise InputError(f"--to {escape(to)}: the store's history starts after that time — nothing to roll back to")
    if before[0].action == "deleted":
        raise InputError(f"--to {escape(to)}: the bundle was deleted at that time — pick a version")
    return before[0].version


def per_key_versions(entries: list[VersionInfo], current: list[str], to: str) -> dict[str, str]:
    """Each key's version at the time `to` (keys absent then are left out)."""
    when = parse_time(to)
    if when is None:
        raise InputError(f"--to {escape(to)}: a per-key target has no whole-target version — give a time "
                         f"(e.g. {TIME_EXAMPLE}); each key goes back to its own version at that time")
    by_key: dict[str, list[VersionInfo]] = {}
    for entry in entries:  # newest first
        by_key.setdefault(entry.key or "", []).append(entry)
    unplaced = sorted(k for k, own in by_key.items() if any(e.created is None for e in own))
    unknown = sorted(k for k in current if k not in by_key)
    if unplaced or unknown:
        raise StoreError(f"{(unplaced + unknown)[0]}: its history does not say when each version was written — "
                         "cannot tell its value at that time; nothing was changed")
    wanted = {}
    for key, own in by_key.items():
        at = next((e for e in own if e.created is not None and e.created <= when), None)
        if at is not None and at.action != "deleted":
            wanted[key] = at.version
    return wanted


def values_then(store: Store, current: list[str], to: str) -> tuple[str, dict[str, str]]:
    """What the store held at `to`, and how to name it; StoreError if any of it cannot be read."""
    entries = store.history()
    if store.layout == "bundle":
        version = bundle_version(entries, to)
        values = store.read_at(version)
        if values is None:
            raise StoreError(f"version {escape(version)} can no longer be read from {escape(store.uri)} — "
                             "nothing was changed; pick a later version (`envsync history`)")
        return f"version {escape(version)}", values
    wanted = per_key_versions(entries, current, to)
    values = store.read_versions(wanted)
    lost = sorted(set(wanted) - set(values))
    if lost:
        raise StoreError(f"{lost[0]}: its version {escape(wanted[lost[0]])} can no longer be read"
                         f"{f' (and {len(lost) - 1} more keys)' if len(lost) > 1 else ''} — nothing was changed")
    return f"its state at {escape(to)}", values


def run(config: Config, name: str | None, to: str, *, dry_run: bool, yes: bool, as_json: bool,
        options: StoreOptions) -> int:
    target = config.select((name,) if name else (), hint=ONE_TARGET)[0]
    ci_run = CiRun("rollback")
    with progress(f"reading {target.name}") as tick:
        store, remote = engine.read_store(target, progress=tick, options=options)
    label, wanted = values_then(store, list(remote.values), to)
    ci_run.mask([*remote.values.values(), *wanted.values()])  # both, before any output
    if store.rollback_caveat:
        warn(store.rollback_caveat)
    context = engine.prepare_given(target, store, remote, wanted, f"{target.name}'s {label}")
    for message in context.warnings:
        warn(message)
    plan = engine.plan(context, Mode.PUSH, prune=True, force=True)
    title = f"rollback {target.name} to {label}: {store.uri} ({store.layout})"
    return show_and_apply(
        context, plan, title, dry_run=dry_run, yes=yes, as_json=as_json,
        applied=lambda n: f"{target.name}: rolled back to {label} as a new version ({n} change(s)); "
                          f"`envsync pull {target.name}` brings it into {target.display_file()}",
        unchanged=f"{target.name}: already as it was at {label}")
