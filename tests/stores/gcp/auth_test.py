"""envsync/stores/gcp/auth.py: GCP credentials, and the CI's OIDC token traded at a fake
GCP STS (and IAM Credentials, for impersonation) for the access token the GCP fake requires
on every call."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync.errors import InputError
from envsync.stores.gcp import auth
from tests.ci_env import target
from tests.conftest import without_masks
from tests.fakes.gcp_fake import PROJECT
from tests.fakes.oidc_fake import GCP_AUDIENCE, GCP_PROVIDER, GCP_SERVICE_ACCOUNT, GcpStsServer, GitHubOidcServer
from tests.stores.federation import assert_only_masks_hold_values, checks, doctor, project


@pytest.mark.usefixtures("clean_ci_env")
@pytest.mark.parametrize("value", [
    "projects/1/locations/global/workloadIdentityPools/p/providers/q",
    "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
    "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
])
def test_gcp_provider_accepts_its_usual_spellings(tmp_path: Path, value: str) -> None:
    credentials = auth.federated_credentials(target(tmp_path, gcp_workload_identity_provider=value))
    assert credentials.info["audience"] == (
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q")


@pytest.mark.usefixtures("clean_ci_env")
def test_bad_gcp_provider_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="gcp_workload_identity_provider 'my-pool' must be projects/NUMBER"):
        auth.federated_credentials(target(tmp_path, gcp_workload_identity_provider="my-pool"))


# -- end to end ------------------------------------------------------------------------


@pytest.fixture
def gcp_env(gcp_fake, gcp_sts: GcpStsServer, github_oidc: GitHubOidcServer) -> dict[str, str]:
    return {**github_oidc.env(), **gcp_sts.env(), "GOOGLE_CLOUD_PROJECT": PROJECT,
            "ENVSYNC_GCP_WORKLOAD_IDENTITY_PROVIDER": GCP_PROVIDER}


@pytest.mark.parametrize("impersonate", [False, True], ids=["direct", "impersonated"])
def test_github_oidc_to_gcp(gcp_fake, gcp_sts: GcpStsServer, gcp_env, github_oidc: GitHubOidcServer,
                            run_envsync, secret, tmp_path: Path, impersonate: bool) -> None:
    env = dict(gcp_env)
    if impersonate:
        env["ENVSYNC_GCP_SERVICE_ACCOUNT"] = GCP_SERVICE_ACCOUNT
    gcp_fake.require_bearer(gcp_sts.impersonated if impersonate else gcp_sts.federated)
    value = secret()
    folder = project(tmp_path, gcp_fake.uri("ci", "per-key"), f"API_TOKEN={value}\n")
    pushed = run_envsync("push", "--yes", cwd=folder, env=env)
    assert pushed.code == 0, pushed.output
    assert_only_masks_hold_values(pushed, [value])
    assert gcp_fake.secret_ids()  # written through the federated identity
    presented = set(gcp_fake.bearers)
    assert presented and presented <= (gcp_sts.impersonated if impersonate else gcp_sts.federated)
    assert {r["audience"] for r in github_oidc.requests} == {"https:" + GCP_AUDIENCE}


def test_gcp_without_federation_is_unauthenticated(gcp_fake, gcp_sts: GcpStsServer, run_envsync, secret,
                                                   tmp_path: Path) -> None:
    gcp_fake.require_bearer(gcp_sts.federated)
    folder = project(tmp_path, gcp_fake.uri("ci", "per-key"), f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={"GOOGLE_CLOUD_PROJECT": PROJECT})
    assert result.code == 3, result.output


def test_gcp_wrong_audience_is_refused(gcp_fake, gcp_sts: GcpStsServer, gcp_env, run_envsync, secret,
                                       tmp_path: Path) -> None:
    gcp_fake.require_bearer(gcp_sts.federated)
    folder = project(tmp_path, gcp_fake.uri("ci", "per-key"), f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={**gcp_env, "ENVSYNC_AUDIENCE": "wrong"})
    assert result.code == 3, result.output
    assert "does not match the expected audience" in result.stderr
    assert without_masks(result.stderr).count("\n") == 0  # one line


def test_gcp_impersonation_denied(gcp_fake, gcp_sts: GcpStsServer, gcp_env, run_envsync, secret,
                                  tmp_path: Path) -> None:
    folder = project(tmp_path, gcp_fake.uri("ci", "per-key"), f"API_TOKEN={secret()}\n")
    env = {**gcp_env, "ENVSYNC_GCP_SERVICE_ACCOUNT": "other@envsync-test.iam.gserviceaccount.com"}
    result = run_envsync("check", cwd=folder, env=env)
    assert result.code == 3, result.output
    assert "iam.serviceAccounts.getAccessToken" in result.stderr


def test_doctor_on_gcp(gcp_fake, gcp_sts: GcpStsServer, gcp_env, run_envsync, secret, tmp_path: Path) -> None:
    gcp_fake.require_bearer(gcp_sts.impersonated)
    gcp_fake.deny("AddSecretVersion")
    folder = project(tmp_path, gcp_fake.uri("ci", "per-key"), f"API_TOKEN={secret()}\n")
    env = {**gcp_env, "ENVSYNC_GCP_SERVICE_ACCOUNT": GCP_SERVICE_ACCOUNT}
    code, report = doctor(run_envsync, folder, env)
    found = checks(report)
    assert code == 3
    assert found["identity"] == ("ok", f"workload identity {GCP_PROVIDER} as {GCP_SERVICE_ACCOUNT}")
    assert found["read"] == ("ok", "0 keys")
    assert found["write"][0] == "failed" and "secretmanager.versions.add" in found["write"][1]
    assert not gcp_fake.secret_ids()  # the probe wrote nothing


def test_gcp_federated_token_never_goes_in_plaintext_off_this_machine(gcp_env, run_envsync, secret,
                                                                      tmp_path: Path) -> None:
    value = secret()
    folder = project(tmp_path, f"gcp-sm://{PROJECT}/ci?endpoint=secrets.example.com:8085&insecure=true",
                     f"API_TOKEN={value}\n")
    result = run_envsync("check", cwd=folder, env=gcp_env)
    assert_only_masks_hold_values(result, [value])
    assert result.code == 2
    assert "insecure=true would send requests (and the federated access token) in plaintext" in result.stderr
