"""The embedded default store: a local folder that keeps every version.

bundle layout:  PATH/bundle/00000001.json          one JSON document per version
per-key layout: PATH/keys/KEY/00000001.json        one document per version of each key
                                                    (a deleted key's last version is a tombstone)

A new version is created with an exclusive link (`fsutil.exclusive_write`):
the writer that planned against version N may create N+1 only if nobody did,
which is compare-and-swap on the current version with no lock to leave behind.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from envsync import nesting
from envsync.errors import ApplyError, ConflictError, InputError, StoreError
from envsync.fsutil import exclusive_write, make_private_dir
from envsync.model import Change, Snapshot, VersionInfo
from envsync.stores import resolve_layout
from envsync.stores.base import LayoutWriter, Progress, StoreOptions, applied, bundle_changes, key_changes, no_progress
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

FORMAT = 1


NAME_MAX, PATH_MAX = 255, 4096  # bytes, as Linux and macOS file systems allow (Windows is stricter)


def open_store(uri: StoreURI, target: Target, options: StoreOptions | None = None) -> FileStore:
    uri.require_known_options({"layout"})
    path = Path(os.path.expanduser(uri.location))
    if not path.is_absolute():
        path = target.root / path
    too_long = next((part for part in path.parts if len(os.fsencode(part)) > NAME_MAX), None)
    if too_long is not None or len(os.fsencode(str(path))) > PATH_MAX:
        shown = uri.location if len(uri.location) <= 60 else uri.location[:60] + "…"
        raise InputError(f"target {target.name}: store path {shown!r}: "
                         + ("a name in it is over 255 bytes" if too_long else "over 4,096 bytes")
                         + ", longer than the file system allows")
    for folder in (path, *path.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(f"target {target.name}: store path {uri.location!r}: {folder} is a file, not a folder")
    return FileStore(uri=uri.text, path=path, layout=resolve_layout(uri, target))


class FileStore(LayoutWriter):
    def __init__(self, uri: str, path: Path, layout: str) -> None:
        self.uri = uri
        self.path = path
        self.layout = layout
        self.notes: list[str] = []

    # -- doctor --------------------------------------------------------------

    def identity(self) -> str:
        return f"local user {_author()}"

    def probe_write(self) -> str:
        folder = self.path
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # a store not written yet: its nearest existing folder
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(f"{self.uri}: {folder} is not a folder you may write to")
        return f"{folder} is writable"

    # -- reading -------------------------------------------------------------

    def _read(self, progress: Progress = no_progress) -> Snapshot:
        if self.layout == "bundle":
            latest = _latest(self._bundle_dir())
            if latest is None:
                return Snapshot(values={})
            values = self._document(self._bundle_dir(), latest)["values"]
            return Snapshot(values=values, versions={k: str(latest) for k in values}, revision=str(latest))
        values, versions = {}, {}
        for key in self._keys():
            latest = _latest(self._key_dir(key))
            if latest is not None:
                document = self._document(self._key_dir(key), latest)
                if document["value"] is not None:
                    values[key], versions[key] = document["value"], str(latest)
            progress(1)
        return Snapshot(values=values, versions=versions)

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        found: dict[str, str] = {}
        bundles: dict[str, dict[str, Any] | None] = {}
        for key, version in wanted.items():
            if self.layout == "bundle":
                if version not in bundles:
                    bundles[version] = self._document_or_none(self._bundle_dir(), version)
                document = bundles[version]
                value = document["values"].get(key) if document else None
            else:
                document = self._document_or_none(self._key_dir(key), version)
                value = document["value"] if document else None
            if value is not None:
                found[key] = value
        return found

    # -- writing -------------------------------------------------------------

    def apply(self, changes: Sequence[Change], expected: Snapshot,
              progress: Progress = no_progress) -> Snapshot:
        try:
            return super().apply(changes, expected, progress)
        except OSError as exc:
            raise StoreError(f"{self.uri}: cannot write under {self.path} ({exc.strerror or exc})") from None

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        values = applied(expected.values, changes)
        version = int(expected.revision or 0) + 1
        make_private_dir(self._bundle_dir())
        if not exclusive_write(self._bundle_dir() / _name(version), _encode(self._stamp({"values": values}))):
            raise ConflictError(f"{self.uri}: the store changed since it was read (another push won); run again to re-plan")
        return Snapshot(values=values, versions={k: str(version) for k in values}, revision=str(version))

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        # Check every key first, so a stale snapshot is refused before anything is written;
        # the exclusive create of each new version still catches a writer racing us.
        for change in changes:
            if len(os.fsencode(change.key)) > NAME_MAX:
                raise InputError(f"{change.key[:40]}…: a key over {NAME_MAX} bytes cannot be a folder name in "
                                 "the per-key layout — nothing was pushed; shorten it or use the bundle layout")
        latest = {c.key: self._check_key(c.key, expected.versions.get(c.key)) for c in changes}
        values, versions = dict(expected.values), dict(expected.versions)
        applied: list[str] = []
        for index, change in enumerate(changes):
            try:
                version = self._write_key(change, latest[change.key])
            except (ConflictError, StoreError, OSError) as exc:
                cause = exc if isinstance(exc, (ConflictError, StoreError)) else StoreError(
                    f"{self.uri}: cannot write {change.key} ({exc.strerror or exc})")
                raise ApplyError(cause, applied, [c.key for c in changes[index:]]) from None
            applied.append(change.key)
            if change.is_delete:
                values.pop(change.key, None)
                versions.pop(change.key, None)
            else:
                values[change.key], versions[change.key] = change.value, str(version)  # type: ignore[assignment]
            progress(1)
        return Snapshot(values=values, versions=versions)

    def _check_key(self, key: str, expected_version: str | None) -> int | None:
        """The key's latest version number, if the key is as `expected_version` says."""
        folder = self._key_dir(key)
        latest = _latest(folder)
        current = None
        if latest is not None and self._document(folder, latest)["value"] is not None:
            current = str(latest)
        if current != expected_version:
            raise ConflictError(f"{self.uri}: {key} changed in the store since it was read; run again to re-plan")
        return latest

    def _write_key(self, change: Change, latest: int | None) -> int:
        folder = self._key_dir(change.key)
        version = (latest or 0) + 1
        make_private_dir(folder)
        document = self._stamp({"key": change.key, "value": change.value})
        if not exclusive_write(folder / _name(version), _encode(document)):
            raise ConflictError(f"{self.uri}: {change.key} was written by someone else just now; run again to re-plan")
        return version

    # -- history -------------------------------------------------------------

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        if self.layout == "per-key" and key is not None:
            return self._key_history(key)
        if self.layout == "per-key":
            entries = [info for k in self._keys() for info in self._key_history(k)]
            return sorted(entries, key=lambda i: (i.created is not None, i.created), reverse=True)
        documents = [(v, self._document(self._bundle_dir(), v)) for v in _versions(self._bundle_dir())]
        infos = [VersionInfo(str(v), _when(d), d.get("author"), "added" if i == 0 else "changed", len(d["values"]))
                 for i, (v, d) in enumerate(documents)]
        if key is not None:
            return key_changes([(info, d["values"]) for info, (_, d) in zip(infos, documents)], key)
        if changes:
            return bundle_changes([(info, d["values"]) for info, (_, d) in zip(infos, documents)], self.notes)
        return list(reversed(infos))

    def _key_history(self, key: str) -> list[VersionInfo]:
        entries, existed = [], False
        for version in _versions(self._key_dir(key)):
            document = self._document(self._key_dir(key), version)
            value = document["value"]
            action = "deleted" if value is None else ("changed" if existed else "added")
            existed = value is not None
            entries.append(VersionInfo(str(version), _when(document), document.get("author"), action,
                                       None if value is None else len(value), key=key))
        return list(reversed(entries))

    # -- files ---------------------------------------------------------------

    def _bundle_dir(self) -> Path:
        return self.path / "bundle"

    def _key_dir(self, key: str) -> Path:
        return self.path / "keys" / key

    def _keys(self) -> list[str]:
        folder = self.path / "keys"
        return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []

    def _document(self, folder: Path, version: int | str) -> dict[str, Any]:
        document = self._document_or_none(folder, version)
        if document is None:
            raise StoreError(f"{self.uri}: version {version} under {folder} is missing")
        return document

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        document = self._document_or_none(self._bundle_dir(), version)
        return dict(document["values"]) if document else None

    def _document_or_none(self, folder: Path, version: int | str) -> dict[str, Any] | None:
        if isinstance(version, str) and not (version.isascii() and version.isdigit() and version[0] != "0"):
            return None
        path = folder / _name(int(version))
        try:
            document = nesting.json_loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(f"{self.uri}: cannot read {path} ({exc.__class__.__name__}) — is the store folder intact?") from None
        if not _well_formed(document, self.layout):
            raise StoreError(f"{self.uri}: {path} is not an EnvSync version document — is the store folder intact?")
        return document

    @staticmethod
    def _stamp(document: dict[str, Any]) -> dict[str, Any]:
        return {"envsync": FORMAT, "created": datetime.now(timezone.utc).isoformat(),
                "author": _author(), **document}


def _well_formed(document: Any, layout: str) -> bool:
    if not isinstance(document, dict):
        return False
    if layout == "bundle":
        values = document.get("values")
        return isinstance(values, dict) and all(isinstance(v, str) for v in values.values())
    return "value" in document and (document["value"] is None or isinstance(document["value"], str))


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.suffix == ".json" and path.stem.isdigit():
            found.append(int(path.stem))
    return sorted(found)


def _latest(folder: Path) -> int | None:
    versions = _versions(folder)
    return versions[-1] if versions else None


def _name(version: int) -> str:
    return f"{version:08d}.json"


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def _when(document: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(document["created"])
    except (KeyError, ValueError):
        return None


def _author() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # getpass raises a bare OSError/KeyError when no user is known
        user = "unknown"
    return f"{user}@{socket.gethostname()}"
