"""envsync/stores/azure/auth.py: Azure credentials, and the CI's OIDC token as a client
assertion at the fake Entra for a Key Vault token."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync.stores.azure import auth
from tests.ci_env import target
from tests.conftest import without_masks
from tests.fakes.azure_fake import CLIENT_ID, TENANT, FakeAzure
from tests.fakes.oidc_fake import AZURE_AUDIENCE, GitHubOidcServer, check_azure_assertion, mint
from tests.stores.azure.key_vault import EMPTY, open_azure, push
from tests.stores.federation import assert_only_masks_hold_values, checks, doctor, project


@pytest.mark.usefixtures("clean_ci_env")
def test_azure_federation_needs_tenant_client_and_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = {"azure_tenant_id": "t", "azure_client_id": "c"}
    assert auth.federated_credential(target(tmp_path, **ids)) is None  # local, no token: ambient credentials
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert auth.federated_credential(target(tmp_path, azure_tenant_id="t")) is None
    assert auth.federated_credential(target(tmp_path, **ids)) is not None


@pytest.mark.usefixtures("clean_ci_env")
def test_azure_on_an_aks_runner_keeps_its_workload_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = {"azure_tenant_id": "t", "azure_client_id": "c"}
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "token"))
    assert auth.federated_credential(target(tmp_path, **ids)) is None  # no CI token offered: the file serves
    monkeypatch.setenv("ENVSYNC_ID_TOKEN", mint("api://AzureADTokenExchange"))
    assert auth.federated_credential(target(tmp_path, **ids)) is not None  # the job's own token wins


@pytest.mark.parametrize("source", ["auth-table", "environment"])
def test_workload_identity_from_the_targets_ids(azure_fake: FakeAzure, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """With the tenant and client ids configured and a federated token file at hand, the store
    uses workload identity for that app (no AZURE_TENANT_ID / AZURE_CLIENT_ID needed)."""
    monkeypatch.delenv("AZURE_TENANT_ID")
    monkeypatch.delenv("AZURE_CLIENT_ID")
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "prod")
    settings = {}
    if source == "auth-table":
        settings = {"azure_tenant_id": TENANT, "azure_client_id": CLIENT_ID}
    else:
        monkeypatch.setenv("ENVSYNC_AZURE_TENANT_ID", TENANT)
        monkeypatch.setenv("ENVSYNC_AZURE_CLIENT_ID", CLIENT_ID)
    store = open_azure(azure_fake, tmp_path, **settings)
    push(store, {"A": "1"}, EMPTY)
    assert azure_fake.token_requests[-1]["kind"] == "assertion"
    assert azure_fake.token_requests[-1]["client_id"] == CLIENT_ID
    assert azure_fake.token_requests[-1]["tenant"] == TENANT


@pytest.mark.parametrize("vault, scope", [
    ("myvault", "https://vault.azure.net/.default"),
    ("myvault.vault.azure.cn", "https://vault.azure.cn/.default"),
    ("myvault.vault.usgovcloudapi.net", "https://vault.usgovcloudapi.net/.default"),
    ("127.0.0.1:8443", "https://vault.azure.net/.default"),
])
def test_doctor_asks_for_a_token_of_the_vaults_cloud(azure_fake: FakeAzure, tmp_path: Path, vault: str,
                                                      scope: str) -> None:
    store = open_azure(azure_fake, tmp_path)
    store.vault = vault
    assert store._token_scope() == scope


# -- end to end ------------------------------------------------------------------------


@pytest.fixture
def azure_env(azure_fake: FakeAzure, github_oidc: GitHubOidcServer, monkeypatch: pytest.MonkeyPatch):
    from tests.fakes.azure_fake import CLIENT_ID, TENANT

    monkeypatch.delenv("AZURE_FEDERATED_TOKEN_FILE")  # no workload identity file: only the CI token
    monkeypatch.delenv("AZURE_CLIENT_ID")
    monkeypatch.delenv("AZURE_TENANT_ID")
    azure_fake.assertion_check = check_azure_assertion
    env = {k: v for k, v in azure_fake.env().items() if not k.startswith(("AZURE_FEDERATED", "AZURE_CLIENT",
                                                                          "AZURE_TENANT"))}
    return {**env, **github_oidc.env(), "ENVSYNC_AZURE_TENANT_ID": TENANT, "ENVSYNC_AZURE_CLIENT_ID": CLIENT_ID}


def test_github_oidc_to_azure(azure_fake: FakeAzure, azure_env, github_oidc: GitHubOidcServer, run_envsync,
                              secret, tmp_path: Path) -> None:
    value = secret()
    folder = project(tmp_path, azure_fake.uri("ci", "per-key", retries="0"), f"API_TOKEN={value}\n")
    pushed = run_envsync("push", "--yes", cwd=folder, env=azure_env)
    assert pushed.code == 0, pushed.output
    assert_only_masks_hold_values(pushed, [value])
    assert {r["kind"] for r in azure_fake.token_requests} == {"assertion"}
    assert {r["audience"] for r in github_oidc.requests} == {AZURE_AUDIENCE}


def test_azure_wrong_audience_is_refused(azure_fake: FakeAzure, azure_env, run_envsync, secret,
                                         tmp_path: Path) -> None:
    folder = project(tmp_path, azure_fake.uri("ci", "per-key", retries="0"), f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={**azure_env, "ENVSYNC_AUDIENCE": "api://wrong"})
    assert result.code == 3, result.output
    assert "AADSTS700212" in result.stderr
    assert without_masks(result.stderr).count("\n") == 0  # one line


def test_doctor_on_azure(azure_fake: FakeAzure, azure_env, run_envsync, secret, tmp_path: Path) -> None:
    azure_fake.assign("Key Vault Secrets User")
    folder = project(tmp_path, azure_fake.uri("ci", "per-key", retries="0"), f"API_TOKEN={secret()}\n")
    code, report = doctor(run_envsync, folder, azure_env)
    found = checks(report)
    assert code == 3
    assert found["identity"] == ("ok", "ClientAssertionCredential (signed in)")
    assert found["read"] == ("ok", "0 keys")
    assert found["write"][0] == "failed" and "Key Vault Secrets Officer" in found["write"][1]
    azure_fake.assign(None)
    code, report = doctor(run_envsync, folder, azure_env)
    assert code == 0, report
    assert not azure_fake.secrets  # the probe wrote nothing
