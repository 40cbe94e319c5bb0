"""envsync/stores/azure/names.py: the reversible mapping of .env keys to Key Vault names."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsync.stores.azure.names import key_to_name, name_to_key

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,40}", fullmatch=True)


@pytest.mark.parametrize("key, name", [
    ("DATABASE_URL", "DATABASE-URL"),
    ("_LEADING", "-LEADING"),
    ("lower_case", "lower-case"),
    ("K", "K"),
    ("dash-key", "0dash-dkey"),
    ("dotted.key_name", "0dotted-pkey--name"),
    ("A-", "0A-d"),
])
def test_key_names_map_to_what_key_vault_allows(key: str, name: str) -> None:
    assert key_to_name(key) == name
    assert name_to_key(name) == key
    assert name_to_key(name.lower()) == key.lower()  # Key Vault may hand names back in another case


@pytest.mark.parametrize("name", ["", "1shard-000", "9lives", "0", "0a-x", "0a-", "0abc", "a--b.c", "0-d-"])
def test_names_envsync_would_not_write_map_to_no_key(name: str) -> None:
    assert name_to_key(name) is None


@settings(max_examples=300, deadline=None)
@given(KEYS, KEYS)
def test_mapping_round_trips_and_collides_only_by_case(a: str, b: str) -> None:
    name = key_to_name(a)
    assert re.fullmatch(r"[0-9A-Za-z-]+", name)
    assert name_to_key(name) == a
    assert (key_to_name(a).lower() == key_to_name(b).lower()) == (a.lower() == b.lower())
