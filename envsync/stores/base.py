"""The store protocol every backend implements, and what the backends share."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator, Mapping, Protocol, Sequence

from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.escaping import escape
from envsync.model import KEY_PATTERN, Change, Snapshot, StoreInfo, VersionInfo

# Called with the number of items just done; lets the CLI draw a progress bar.
Progress = Callable[[int], None]


def no_progress(done: int) -> None:
    """The default progress callback: nothing to draw."""


def applied(values: Mapping[str, str], changes: Sequence[Change]) -> dict[str, str]:
    """`values` with `changes` applied: what a whole-snapshot (bundle) write stores."""
    result = dict(values)
    for change in changes:
        if change.value is None:
            result.pop(change.key, None)
        else:
            result[change.key] = change.value
    return result


def without_noops(changes: Sequence[Change], expected: Snapshot) -> list[Change]:
    """Drop changes the store already holds: a re-run writes (and versions) nothing."""
    return [c for c in changes if expected.values.get(c.key) != c.value]


def collect_per_key(expected: Snapshot,
                    results: Iterable[tuple[Change, str | None, EnvSyncError | None]]) -> Snapshot:
    """The snapshot after a per-key batch, from (change, new version, error) per key;
    if any key failed, an ApplyError that names exactly what was and was not applied
    (a conflict, if there was one, is the cause: it is what the user must act on)."""
    values, versions = dict(expected.values), dict(expected.versions)
    applied: list[str] = []
    failed: list[tuple[str, EnvSyncError]] = []
    for change, version, error in results:
        if error is not None:
            failed.append((change.key, error))
            continue
        applied.append(change.key)
        if change.value is None:
            values.pop(change.key, None)
            versions.pop(change.key, None)
        else:
            values[change.key], versions[change.key] = change.value, version  # type: ignore[assignment]
    if failed:
        conflicts = [e for _, e in failed if isinstance(e, ConflictError)]
        raise ApplyError(conflicts[0] if conflicts else failed[0][1], applied, [k for k, _ in failed])
    return Snapshot(values=values, versions=versions)


def _diff(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The keys whose value differs, and how (names only)."""
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes.append((key, "added" if old is None else ("deleted" if new is None else "changed")))
    return tuple(changes)


class Unreadable(StoreError):
    """Content a store served that EnvSync cannot read (not JSON, a bad manifest, a shard
    gone): the call itself worked, unlike an auth or network failure."""


@contextmanager
def unreadable() -> Iterator[None]:
    """Parsing what a store served: its StoreErrors become `Unreadable`, same message."""
    try:
        yield
    except Unreadable:
        raise
    except StoreError as exc:
        raise Unreadable(str(exc)) from None


def bundle_changes(bundle_versions: Sequence[tuple[VersionInfo, Mapping[str, str] | None]],
                   notes: list[str] | None = None) -> list[VersionInfo]:
    """A bundle's versions (oldest first, each with its values, or None where they cannot be read),
    newest first, each saying which keys it changed compared with the version before it. The
    oldest one listed counts as a start only when it is the bundle's first ("added"): before a
    truncated history nothing is known. Names that are not .env keys are left out of the
    changes, as read() leaves them out; how many is added to `notes`."""
    entries: list[VersionInfo] = []
    before: Mapping[str, str] | None = None
    odd: set[str] = set()
    for index, (info, values) in enumerate(bundle_versions):
        if index == 0 and info.action == "added":
            before = {}
        if info.action == "deleted" and values is None:
            values = {}  # a deleted bundle holds nothing
        changes = _diff(before, values) if before is not None and values is not None else None
        if changes is not None:
            odd.update(key for key, _ in changes if not KEY_PATTERN.match(key))
            changes = tuple((key, action) for key, action in changes if KEY_PATTERN.match(key))
        entries.append(replace(info, changes=changes))
        before = values
    if odd and notes is not None:
        notes.append(f"history: {len(odd)} name{'s' if len(odd) != 1 else ''} in older bundle versions "
                     f"{'are' if len(odd) != 1 else 'is'} not a .env key name — left out of the changes listed")
    return list(reversed(entries))


def key_changes(bundle_versions: Sequence[tuple[VersionInfo, Mapping[str, str] | None]],
                key: str) -> list[VersionInfo]:
    """A key's history from a bundle's versions (oldest first, each with its values, or None
    where they cannot be read): the versions where the key was added, changed or deleted,
    newest first."""
    entries, before = [], None
    for info, values in bundle_versions:
        if values is None:
            continue
        after = values.get(key)
        if after != before:
            action = "added" if before is None else ("deleted" if after is None else "changed")
            entries.append(VersionInfo(info.version, info.created, info.author, action,
                                       None if after is None else len(after), key=key))
        before = after
    return list(reversed(entries))


@dataclass(frozen=True)
class StoreOptions:
    """What the user allowed for this run, beyond the changes themselves."""

    force_delete: bool = False  # delete at once instead of after the backend's recovery window
    adopt: bool = False  # take over secrets that EnvSync did not create (no managed-by tag)


def check_key_names(keys: Iterable[str], where: str) -> None:
    """Refuse a store whose key names a local .env file could not hold (exit 3).

    Key names from a store are data: a bundle accepts any JSON key, so a name could hold a
    newline (one exported line becomes two), a GitHub workflow command or terminal escapes.
    They pass the rule local keys pass, or the command stops before printing or writing."""
    bad = [key for key in keys if not isinstance(key, str) or not KEY_PATTERN.match(key)]
    if not bad:
        return
    shown = escape(bad[0])
    shown = shown if len(shown) <= 60 else shown[:60] + "…"
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    raise StoreError(f"{escape(where)}: holds the key name \"{shown}\"{more}, which is not a valid .env key — "
                     "nothing was read or written; rename or remove it in the store (keys are letters, "
                     "digits, '_', '.' and '-', and must not start with a digit)")


class LayoutWriter:
    """What every adapter shares: `read` checks the key names the adapter's `_read` found;
    `apply` drops no-op changes, then hands the batch to the writer of the store's layout
    (`_apply_bundle` or `_apply_per_key`)."""

    layout: str
    uri: str
    rollback_caveat: str | None = None
    _shards = 0  # shard secrets beside a bundle, as the last read or write found them

    def read(self, progress: Progress = no_progress) -> Snapshot:
        snapshot = self._read(progress)
        check_key_names(snapshot.values, self.uri)
        return snapshot

    def _read(self, progress: Progress) -> Snapshot:
        raise NotImplementedError

    def read_at(self, version: str) -> dict[str, str] | None:
        """The whole bundle as it was at one of its versions (None: no such version, or it
        can no longer be read). Its key names pass the rule `read`'s do."""
        if self.layout != "bundle":
            raise InputError(f"{escape(self.uri)}: the per-key layout has no whole-target version — "
                             "give a time instead (each key is taken back to its version at that time)")
        values = self._bundle_at(version)
        if values is not None:
            check_key_names(values, f"{self.uri}@{version}")
        return values

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        raise NotImplementedError

    def apply(self, changes: Sequence[Change], expected: Snapshot,
              progress: Progress = no_progress) -> Snapshot:
        changes = without_noops(changes, expected)
        if not changes:
            return expected
        if self.layout == "bundle":
            return self._apply_bundle(changes, expected)
        return self._apply_per_key(changes, expected, progress)

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        raise NotImplementedError

    def info(self, snapshot: Snapshot) -> StoreInfo:
        """Per-key: a secret per key. Bundle: the bundle and its shards, none before the first push."""
        if self.layout == "per-key":
            return StoreInfo(self.uri, self.layout, len(snapshot.values))
        return StoreInfo(self.uri, self.layout, (1 + self._shards) if snapshot.revision else 0)

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        raise NotImplementedError


class Store(Protocol):
    """A place a target's key/value pairs live, read and written as a whole.

    Implementations raise `envsync.errors.StoreError` (exit 3) for backend,
    auth and network failures, `ConflictError` when a write finds the remote
    moved since `expected` was read, and `ApplyError` when a batch was only
    partly applied.
    """

    uri: str
    layout: str
    notes: list[str]  # things worth telling the user (e.g. secrets ignored); never values
    rollback_caveat: str | None  # what a rollback of this store cannot bring back, if anything

    def read(self, progress: Progress = no_progress) -> Snapshot:
        """The current content, in as few calls as the backend allows."""
        ...

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        """Values of keys at older versions (key -> version id); unreadable ones are left out."""
        ...

    def read_at(self, version: str) -> dict[str, str] | None:
        """Bundle layout: every value as of one of history()'s versions, or None if it cannot be
        read. Per-key layout: InputError (there is no whole-target version)."""
        ...

    def apply(self, changes: Sequence[Change], expected: Snapshot,
              progress: Progress = no_progress) -> Snapshot:
        """Apply `changes` if the store still matches `expected`; return the new snapshot."""
        ...

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        """Versions of one key, or of the whole target when key is None; newest first. With
        `changes`, a whole bundle's versions are each read to name the keys they changed
        (`VersionInfo.changes`; one read per version, so only when asked)."""
        ...

    def info(self, snapshot: Snapshot) -> StoreInfo:
        """Shape and billable secret count of this store."""
        ...

    def identity(self) -> str:
        """Who this store's calls run as (for `envsync doctor`); never a credential."""
        ...

    def probe_write(self) -> str:
        """Raise StoreError if this identity may not write here; write nothing. Returns what
        was probed (and what could not be, without writing)."""
        ...
