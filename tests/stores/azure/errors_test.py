"""envsync/stores/azure/errors.py: what a user reads when Key Vault refuses (the vault and
the role it takes), cannot be reached, or no credential signs in — one line, exit 3."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync.errors import ApplyError, EnvSyncError, StoreError
from tests.fakes.azure_fake import FakeAzure
from tests.stores.azure.key_vault import EMPTY, open_azure, push


def test_403_on_write_names_the_vault_and_the_role(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path)
    azure_fake.assign("Key Vault Secrets User")  # may read, may not write
    assert dict(store.read().values) == {}
    with pytest.raises(EnvSyncError) as caught:
        push(store, {"A": "1"}, EMPTY)
    error = caught.value.cause if isinstance(caught.value, ApplyError) else caught.value
    assert isinstance(error, StoreError) and caught.value.exit_code == 3
    message = str(caught.value)
    assert f"127.0.0.1:{azure_fake.port}" in message
    assert '"Key Vault Secrets Officer"' in message and "403" in message
    assert azure_fake.names() == []


def test_403_on_read_names_the_vault_and_the_role(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.assign("none")
    for layout in ("per-key", "bundle"):
        with pytest.raises(StoreError) as caught:
            open_azure(azure_fake, tmp_path, layout=layout).read()
        assert caught.value.exit_code == 3
        assert f"127.0.0.1:{azure_fake.port}" in str(caught.value)
        assert '"Key Vault Secrets User"' in str(caught.value)


def test_an_unreachable_vault_is_a_store_error(azure_fake: FakeAzure, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = open_azure(azure_fake, tmp_path, uri=f"azure-kv://127.0.0.1:{port}/app?retries=0")
    with pytest.raises(StoreError) as caught:
        store.read()
    assert caught.value.exit_code == 3 and "cannot reach" in str(caught.value)
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_missing_credentials_name_the_vault_and_what_to_set(azure_fake: FakeAzure, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "WorkloadIdentityCredential")  # no CLI, no IMDS probe
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-4000-8000-000000000bad")
    with pytest.raises(StoreError) as caught:
        open_azure(azure_fake, tmp_path).read()
    message = str(caught.value)
    assert caught.value.exit_code == 3
    assert f"127.0.0.1:{azure_fake.port}" in message
    assert "azure_tenant_id" in message and "AZURE_FEDERATED_TOKEN_FILE" in message
