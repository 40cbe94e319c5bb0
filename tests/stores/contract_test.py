"""Runs the provider contract (`contract.py`) against every backend in `conftest.STORE_KINDS`,
in both layouts: test ids read `test_name[<kind>-<layout>]`.

`KNOWN_GAPS` lists contract tests a backend does not pass yet, each with the reason; they
run as strict xfails, so fixing the store turns them into failures until the entry goes.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.stores.contract import StoreContract


@dataclass(frozen=True)
class Gap:
    kind: str
    layouts: tuple[str, ...]
    test: str
    reason: str
    scenario: str | None = None


KNOWN_GAPS: list[Gap] = []


@pytest.fixture(autouse=True)
def _known_gaps(request: pytest.FixtureRequest) -> None:
    params = getattr(request.node, "callspec", None)
    params = params.params if params else {}
    for gap in KNOWN_GAPS:
        if (gap.kind == params.get("backend") and params.get("layout") in gap.layouts
                and request.node.originalname == gap.test
                and gap.scenario in (None, params.get("scenario"))):
            request.applymarker(pytest.mark.xfail(strict=True, reason=gap.reason))


class TestStoreContract(StoreContract):
    """Every backend × layout (fixtures `backend` and `layout` from conftest.py)."""
