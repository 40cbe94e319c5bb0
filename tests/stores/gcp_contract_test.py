"""The provider contract (`contract.py`) against the GCP Secret Manager store, both layouts,
through the real google-cloud-secret-manager client over a real socket to the in-test gRPC
fake (tests/fakes/gcp_fake.py). Test ids read `test_name[bundle]` / `test_name[per-key]`.

The module-level `backend` fixture overrides the parametrized one of tests/stores/conftest.py
for this module only; `layout` still comes from there.
"""
from __future__ import annotations

import itertools

import pytest

from tests.fakes.gcp_fake import FakeSecretManager
from tests.stores.conftest import Backend
from tests.stores.contract import StoreContract


@pytest.fixture
def backend(gcp_fake: FakeSecretManager) -> Backend:  # noqa: F811 - the fixture, used by name
    """A fresh PREFIX per store on the wiped fake; one per-key version holds at most 64 KiB,
    bundles shard past it so they hold any size."""
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        return gcp_fake.uri(f"contract/{layout}-{next(counter)}", layout)

    return Backend(kind="gcp", fresh_uri=fresh_uri, value_limit={"per-key": 64 * 1024})


class TestGcpStoreContract(StoreContract):
    """Every contract test, for `gcp-sm://` in the bundle and per-key layouts."""
