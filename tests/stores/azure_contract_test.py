"""The provider contract (`contract.py`) against the Azure Key Vault store, both layouts,
through the real SDK over TLS to the in-test fake (`tests/fakes/azure_fake.py`).

The module-level `backend` fixture overrides the one in conftest.py, so the suite runs
here as `test_name[<layout>]` (plus the scenario where there is one).

`KNOWN_GAPS` lists contract tests the Key Vault store cannot pass, each with the reason;
they run as strict xfails, so a fix turns them into failures until the entry goes.
"""
from __future__ import annotations

import itertools

import pytest

from tests.fakes.azure_fake import FakeAzure
from tests.stores.conftest import Backend
from tests.stores.contract import StoreContract

# (test, layouts, reason)
KNOWN_GAPS: list[tuple[str, tuple[str, ...], str]] = [
    ("test_read_versions_returns_old_values", ("per-key",),
     "Key Vault serves no version of a soft-deleted secret (GET answers 404 until it is recovered), "
     "so the old values of a deleted key cannot be read back as a merge base"),
]


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    params = getattr(request.node, "callspec", None)
    params = params.params if params else {}
    for test, layouts, reason in KNOWN_GAPS:
        if request.node.originalname == test and params.get("layout") in layouts:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture
def backend(azure_fake: FakeAzure) -> Backend:  # noqa: F811 - the fixture imported above
    """Key Vault on the fake: a fresh prefix per store (`ct1-bundle`, `ct2-per-key`, ...), so
    stores of one test share the vault as targets would. One per-key secret holds 25,000
    bytes; bundles shard, so they hold any size."""
    counter = itertools.count(1)

    def fresh_uri(layout: str) -> str:
        return azure_fake.uri(f"ct{next(counter)}-{layout}", layout, retries="0")

    return Backend(kind="azure", fresh_uri=fresh_uri, value_limit={"per-key": 25_000})


class TestAzureStoreContract(StoreContract):
    """Every contract test, both layouts (fixture `layout` from conftest.py)."""
