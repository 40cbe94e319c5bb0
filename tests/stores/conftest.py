"""Store backends for the provider contract suite (`contract.py`).

Every backend is one fixture named `<kind>_backend` that returns a `Backend`: a way to get
the URI of a fresh, empty store for a layout, plus what the backend cannot hold. The
contract suite runs once per entry of `STORE_KINDS` × layout. To add a backend:

1. write a fixture `<kind>_backend` here (start its emulator or fake in a session-scoped
   fixture, reset or pick a unique prefix per call, set its environment with `monkeypatch`);
2. add `"<kind>"` to `STORE_KINDS`;
3. list the contract tests it does not pass yet in `KNOWN_GAPS` (contract_test.py).

Stores are always opened the way the CLI opens them: `open_store(Target(...))` from a
store URI, so URI parsing and layout resolution run too.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import pytest

pytest.register_assert_rewrite("tests.stores.contract")

from envsync.config import Target  # noqa: E402
from envsync.stores import open_store  # noqa: E402
from envsync.stores.base import Store  # noqa: E402

STORE_KINDS = ["file", "aws", "gcp", "azure"]
LAYOUTS = ["bundle", "per-key"]


@dataclass(frozen=True)
class Backend:
    """One kind of store as the contract suite sees it."""

    kind: str
    # layout -> URI of a store that is empty and that no other test uses
    fresh_uri: Callable[[str], str]
    # layout -> largest value (UTF-8 bytes) one key can hold; a layout not listed has no limit
    value_limit: Mapping[str, int] = field(default_factory=dict)

    def can_hold(self, layout: str, value: str) -> bool:
        limit = self.value_limit.get(layout)
        return limit is None or len(value.encode("utf-8")) <= limit


class StoreMaker:
    """`make_store(layout)` opens a fresh, empty store; `reopen(store)` opens a second client
    of the same store (another process or machine would do the same)."""

    def __init__(self, backend: Backend, root: Path) -> None:
        self.backend = backend
        self.root = root
        self._targets: dict[int, Target] = {}

    def target(self, layout: str) -> Target:
        return Target(name="contract", file=self.root / ".env", store=self.backend.fresh_uri(layout),
                      root=self.root)

    def __call__(self, layout: str) -> Store:
        target = self.target(layout)
        store = open_store(target)
        assert store.layout == layout, f"{target.store} opened with layout {store.layout}, not {layout}"
        self._targets[id(store)] = target
        return store

    def reopen(self, store: Store) -> Store:
        other = open_store(self._targets[id(store)])
        self._targets[id(other)] = self._targets[id(store)]
        return other


# -- backends -----------------------------------------------------------------


@pytest.fixture
def file_backend(tmp_path: Path) -> Backend:
    """The embedded folder store. Bundle stores get a relative URI (resolved against the
    target's root), per-key stores an absolute one, so both URI forms are exercised."""
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        n = next(counter)
        if layout == "bundle":
            return f"file://stores/bundle-{n}"
        return f"file://{tmp_path}/project/stores/{layout}-{n}?layout={layout}"

    return Backend(kind="file", fresh_uri=fresh_uri)


@pytest.fixture
def aws_backend(moto_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Backend:
    """AWS Secrets Manager on moto's server (one per session, wiped here), reached over HTTP
    by the real boto3 SDK through the URI's `endpoint=`; fake static credentials, no region
    in the environment (the URI names it). Bundles shard past 60 kB, so they hold any size;
    one per-key secret holds at most 64 KiB."""
    from tests.fakes.aws_server import isolate_aws_env, share_botocore_loader, store_uri

    moto_server.reset()
    isolate_aws_env(monkeypatch, tmp_path)
    share_botocore_loader(monkeypatch)
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        return store_uri(moto_server.endpoint, f"contract/{layout}-{next(counter)}", layout)

    return Backend(kind="aws", fresh_uri=fresh_uri, value_limit={"per-key": 64 * 1024})


@pytest.fixture
def gcp_backend(gcp_fake) -> Backend:
    """GCP Secret Manager on the in-test gRPC fake (one per session, wiped here), through the
    real google-cloud-secret-manager client. One per-key version holds at most 64 KiB;
    bundles shard past it, so they hold any size."""
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        return gcp_fake.uri(f"contract/{layout}-{next(counter)}", layout)

    return Backend(kind="gcp", fresh_uri=fresh_uri, value_limit={"per-key": 64 * 1024})


@pytest.fixture
def azure_backend(azure_fake) -> Backend:
    """Azure Key Vault on the in-test HTTPS fake (one per session, wiped here), through the
    real SDK over TLS; a fresh prefix per store, so stores of one test share the vault as
    targets would. One per-key secret holds 25,000 bytes; bundles shard, so they hold any size."""
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        return azure_fake.uri(f"ct{next(counter)}-{layout}", layout, retries="0")

    return Backend(kind="azure", fresh_uri=fresh_uri, value_limit={"per-key": 25_000})


# -- what the contract suite uses --------------------------------------------


@pytest.fixture(params=STORE_KINDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture(params=LAYOUTS)
def layout(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(backend: Backend, tmp_path: Path) -> StoreMaker:
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    return StoreMaker(backend, root)


@pytest.fixture
def store(make_store: StoreMaker, layout: str) -> Store:
    """A fresh, empty store of the backend and layout under test."""
    return make_store(layout)
