"""The Azure store tests' helpers: open a store on the fake the way the CLI does, push values."""
from __future__ import annotations

from pathlib import Path

from envsync.config import Target
from envsync.model import Change, Snapshot
from envsync.stores import open_store
from envsync.stores.base import StoreOptions
from tests.fakes.azure_fake import FakeAzure

EMPTY = Snapshot(values={})


def open_azure(fake: FakeAzure, root: Path, prefix: str = "app", layout: str = "per-key",
               options: StoreOptions | None = None, uri: str | None = None, **auth: str):
    target = Target(name="t", file=root / ".env", store=uri or fake.uri(prefix, layout, retries="0"), root=root,
                    auth=auth)
    return open_store(target, options)


def push(store, values: dict[str, str | None], expected: Snapshot | None = None) -> Snapshot:
    expected = store.read() if expected is None else expected
    return store.apply([Change(k, v) for k, v in values.items()], expected)
