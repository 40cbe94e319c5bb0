"""envsync/stores/azure/connect.py: what an azure-kv:// URI may say, and the vault URL it means."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync.config import Target
from envsync.errors import InputError
from envsync.stores import open_store
from tests.fakes.azure_fake import FakeAzure


def open_uri(tmp_path: Path, uri: str):
    return open_store(Target(name="t", file=tmp_path / ".env", store=uri, root=tmp_path))


def test_a_bare_vault_name_means_the_public_cloud(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_uri(tmp_path, "azure-kv://my-vault/myapp?layout=per-key")
    assert store.vault_url == "https://my-vault.vault.azure.net"
    assert (store.prefix, store.layout, store.bundle_name) == ("myapp", "per-key", "myapp")
    store = open_uri(tmp_path, "azure-kv://my-vault.vault.azure.cn")
    assert store.vault_url == "https://my-vault.vault.azure.cn" and store.layout == "bundle"
    assert store.bundle_name == "envsync"


@pytest.mark.parametrize("uri, words", [
    ("azure-kv://x/app", "vault name"),
    ("azure-kv://my_vault/app", "vault name"),
    ("azure-kv://myvault/my_app", "prefix"),
    ("azure-kv://myvault/a/b", "prefix"),
    ("azure-kv://myvault?region=x", "unknown option"),
    ("azure-kv://myvault?retries=many", "retries"),
    ("azure-kv://myvault?layout=flat", "layout"),
    ("azure-kv://localhost:99999/app", "port 99999"),
    ("azure-kv://localhost:0/app", "port 0"),
])
def test_bad_uris_are_input_errors(azure_fake: FakeAzure, tmp_path: Path, uri: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        open_uri(tmp_path, uri)
