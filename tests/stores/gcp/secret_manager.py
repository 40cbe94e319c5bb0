"""The GCP store tests' helpers: open a store on the fake, apply changes."""
from __future__ import annotations

from pathlib import Path

from envsync.config import Target
from envsync.model import Change, Snapshot
from envsync.stores import open_store
from envsync.stores.base import StoreOptions

EMPTY = Snapshot(values={})
LAYOUTS = ["bundle", "per-key"]


def open_at(tmp_path: Path, uri: str, **options: bool):
    target = Target(name="dev", file=tmp_path / ".env", store=uri, root=tmp_path)
    return open_store(target, StoreOptions(**options))


def apply(store, changes: dict[str, str | None], expected: Snapshot) -> Snapshot:
    return store.apply([Change(k, v) for k, v in changes.items()], expected)
