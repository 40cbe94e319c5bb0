"""`.envsync/state.json`: per target, the version ids both sides agreed on at the last sync.

No secret material lives here, not even a hash: just key names and version ids.
The base of a three-way merge is read back from the store's own history.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping

from envsync import nesting
from envsync.errors import InputError
from envsync.fsutil import atomic_write, make_private_dir
from envsync.model import Snapshot

STATE_DIR = ".envsync"
STATE_FILE = "state.json"
FORMAT = 1


def state_path(root: Path) -> Path:
    return root / STATE_DIR / STATE_FILE


def load(root: Path) -> dict:
    path = state_path(root)
    try:
        data = nesting.json_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"envsync": FORMAT, "targets": {}}
    except (OSError, ValueError):
        raise InputError(f"{path}: unreadable state file — delete it to start over (the next sync is then two-way)") from None
    if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
        raise InputError(f"{path}: not an EnvSync state file — delete it to start over")
    return data


def base_versions(root: Path, target: str, store_uri: str, layout: str) -> dict[str, str] | None:
    """Key -> version id at the last sync of this target with this store, or None."""
    entry = load(root)["targets"].get(target)
    if not entry or entry.get("store") != store_uri or entry.get("layout") != layout:
        return None
    versions = entry.get("versions")
    return dict(versions) if isinstance(versions, dict) else None


def next_versions(previous: Mapping[str, str] | None, local_after: Mapping[str, str],
                  remote_after: Snapshot) -> dict[str, str]:
    """The base to record: keys now equal on both sides take the remote's current
    version; keys that still differ keep the base they had, so nothing a command
    skipped is later mistaken for a change."""
    versions: dict[str, str] = {}
    for key in set(local_after) | set(remote_after.values) | set(previous or {}):
        local, remote = local_after.get(key), remote_after.values.get(key)
        if local is not None and local == remote and key in remote_after.versions:
            versions[key] = remote_after.versions[key]
        elif (local is not None or remote is not None) and previous and key in previous:
            versions[key] = previous[key]
    return dict(sorted(versions.items()))


def record(root: Path, target: str, store_uri: str, layout: str, versions: Mapping[str, str]) -> None:
    """Save one target's base; other targets' entries, maybe written meanwhile, are kept."""
    make_private_dir(root / STATE_DIR)
    with _locked(root):
        data = load(root)
        data["targets"][target] = {
            "store": store_uri,
            "layout": layout,
            "synced_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": dict(versions),
        }
        payload = json.dumps(data, indent=2, sort_keys=True) + "\n"
        atomic_write(state_path(root), payload.encode("utf-8"))


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root / STATE_DIR / "state.lock", os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
