"""The bundle payload and its shard manifest (envsync/stores/bundle.py)."""
from __future__ import annotations

import pytest

from envsync.errors import StoreError
from envsync.stores import bundle


def own(index: int) -> str:
    return f"app.shard-{index}"


def test_a_manifest_of_the_bundle_s_own_shards_passes() -> None:
    bundle.check_shards([bundle.Shard(own(0), "6f1c-2a"), bundle.Shard(own(1), "17")], own, "app")


@pytest.mark.parametrize("shards", [
    [bundle.Shard("prod/api", "1")],  # another secret
    [bundle.Shard(own(1), "1"), bundle.Shard(own(0), "1")],  # out of order
    [bundle.Shard(own(0), "../../secrets/prod")],  # a version that is a path
    [bundle.Shard(own(0), 7)],  # not a string
])
def test_a_manifest_naming_anything_else_is_refused(shards) -> None:
    with pytest.raises(StoreError, match="not this bundle's own shard"):
        bundle.check_shards(shards, own, "app")


@pytest.mark.parametrize("text", ['{"A": ' + "[" * 50_000 + "]" * 50_000 + "}", "[" * 50_000])
def test_a_bundle_nested_too_deep_is_a_store_error(text: str) -> None:
    """A store's value is someone else's writing; nesting must not reach the recursion limit."""
    with pytest.raises(StoreError, match="prod/api"):
        bundle.parse(text, "prod/api")
