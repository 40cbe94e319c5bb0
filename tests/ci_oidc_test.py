"""OIDC federation end to end, no static keys anywhere: the real `envsync` gets an ID token
from a local fake of GitHub's endpoint (or GitLab's `id_tokens:` variable) and trades it
- with AWS STS (moto, enforcing IAM, behind a proxy that checks the token as STS does)
  for a role's keys, then uses Secrets Manager with them;
- with a fake GCP STS (and IAM Credentials, for impersonation) for an access token the
  GCP fake requires on every call;
- with the fake Entra (client assertion) for a Key Vault token.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from tests.fakes.aws_server import AwsErrorProxy, store_uri
from tests.conftest import MASK, without_masks
from tests.fakes.azure_fake import FakeAzure
from tests.fakes.gcp_fake import PROJECT
from tests.fakes.oidc_fake import (
    AWS_AUDIENCE,
    AZURE_AUDIENCE,
    GCP_AUDIENCE,
    GCP_PROVIDER,
    GCP_SERVICE_ACCOUNT,
    GITLAB_ISSUER,
    GcpStsServer,
    READER_ROLE,
    ROLE,
    GitHubOidcServer,
    check_azure_assertion,
    federated_aws,
    mint,
)


def project(tmp_path: Path, store: str, text: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "envsync.toml").write_text(f'[targets.ci]\nfile = ".env"\nstore = "{store}"\n')
    (folder / ".env").write_text(text)
    return folder


def assert_only_masks_hold_values(result, values) -> None:
    """On GitHub, `::add-mask::VALUE` lines (on stderr) carry values by design; nothing else
    may, and every value read was masked."""
    assert not any(v in without_masks(result.output) for v in values), "a value outside an ::add-mask:: line"
    assert set(values) <= {line.removeprefix(MASK) for line in result.stderr.splitlines()}


# -- AWS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iam_sts() -> Iterator[AwsErrorProxy]:
    with federated_aws() as proxy:
        yield proxy


@pytest.fixture
def aws_project(iam_sts: AwsErrorProxy, tmp_path: Path, request: pytest.FixtureRequest):
    def make(text: str, layout: str = "per-key") -> Path:
        name = f"ci/{request.node.name.replace('[', '-').replace(']', '')}"[:100]
        return project(tmp_path, store_uri(iam_sts.endpoint, name, layout), text)

    empty = tmp_path / "aws-empty"
    empty.write_text("")
    # No keys at all: only what the role gives.
    env = {"AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
           "AWS_EC2_METADATA_DISABLED": "true", "ENVSYNC_AWS_ROLE_ARN": ROLE}
    return make, env


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_github_oidc_to_aws_push_and_check(aws_project, github_oidc: GitHubOidcServer, run_envsync, secret,
                                           layout: str) -> None:
    make, env = aws_project
    token, url = secret("token"), secret("url")
    folder = make(f"API_TOKEN={token}\nDATABASE_URL={url}\n", layout)
    env = {**env, **github_oidc.env(), "GITHUB_RUN_ID": "77"}
    pushed = run_envsync("push", "--yes", cwd=folder, env=env)
    assert pushed.code == 0, pushed.output
    assert_only_masks_hold_values(pushed, [token, url])
    checked = run_envsync("check", cwd=folder, env=env)
    assert checked.code == 0, checked.output
    assert {r["audience"] for r in github_oidc.requests} == {AWS_AUDIENCE}


def test_static_keys_are_refused_by_the_same_server(aws_project, run_envsync, secret) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    env = {k: v for k, v in env.items() if k != "ENVSYNC_AWS_ROLE_ARN"}
    result = run_envsync("check", cwd=folder, env={**env, "AWS_ACCESS_KEY_ID": "AKIATESTING",
                                                   "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.code == 3, result.output  # the control: without the role nothing gets in


def test_gitlab_id_token_variable_to_aws(aws_project, run_envsync, secret) -> None:
    make, env = aws_project
    token = secret("token")
    folder = make(f"API_TOKEN={token}\n")
    jwt = mint(AWS_AUDIENCE, issuer=GITLAB_ISSUER, subject="project_path:acme/app:ref_type:branch:ref:main")
    pushed = run_envsync("push", "--yes", cwd=folder, env={**env, "GITLAB_CI": "true", "ENVSYNC_ID_TOKEN": jwt})
    assert pushed.code == 0, pushed.output
    assert jwt not in pushed.output


def test_wrong_audience_is_refused_by_sts(aws_project, github_oidc: GitHubOidcServer, run_envsync, secret) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={**env, **github_oidc.env(), "ENVSYNC_AUDIENCE": "wrong"})
    assert result.code == 3
    assert "AWS STS refused the OIDC token (Incorrect token audience)" in result.stderr
    assert without_masks(result.stderr).count("\n") == 0  # one line


def test_github_job_without_id_token_permission(aws_project, run_envsync, secret) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={**env, "GITHUB_ACTIONS": "true"})
    assert result.code == 3
    assert "permissions: id-token: write" in result.stderr


def test_gitlab_job_without_id_tokens(aws_project, run_envsync, secret) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    result = run_envsync("check", cwd=folder, env={**env, "GITLAB_CI": "true"})
    assert result.code == 3
    assert "id_tokens: ENVSYNC_ID_TOKEN: aud: sts.amazonaws.com" in result.stderr


# -- GCP --------------------------------------------------------------------------------


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


# -- Azure ------------------------------------------------------------------------------


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


# -- doctor: who am I, can I read, may I write -----------------------------------------------


def doctor(run_envsync, folder: Path, env: dict[str, str]) -> tuple[int, dict]:
    result = run_envsync("doctor", "--json", cwd=folder, env=env)
    return result.code, json.loads(result.stdout)["targets"][0]


def checks(report: dict) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["status"], c["detail"]) for c in report["checks"]}


@pytest.mark.parametrize("role, writable", [(ROLE, True), (READER_ROLE, False)], ids=["writer", "reader"])
def test_doctor_on_aws_names_the_role_and_the_missing_permission(aws_project, github_oidc: GitHubOidcServer,
                                                                 run_envsync, secret, role: str,
                                                                 writable: bool) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    code, report = doctor(run_envsync, folder, {**env, **github_oidc.env(), "ENVSYNC_AWS_ROLE_ARN": role})
    found = checks(report)
    assert report["federation"] == f"github OIDC -> AWS role {role}"
    assert found["identity"] == ("ok", f"arn:aws:sts::123456789012:assumed-role/{role.rsplit('/', 1)[1]}/"
                                       "envsync-" + found["identity"][1].rsplit("envsync-", 1)[1])
    assert found["read"] == ("ok", "0 keys")
    if writable:
        assert code == 0 and found["write"][0] == "ok"
    else:
        assert code == 3
        assert found["write"][0] == "failed" and "secretsmanager:PutSecretValue" in found["write"][1]


def test_doctor_when_the_token_is_refused(aws_project, github_oidc: GitHubOidcServer, run_envsync, secret) -> None:
    make, env = aws_project
    folder = make(f"API_TOKEN={secret()}\n")
    code, report = doctor(run_envsync, folder, {**env, **github_oidc.env(), "ENVSYNC_AUDIENCE": "wrong"})
    assert code == 3
    found = checks(report)
    assert found["identity"][0] == "failed" and "Incorrect token audience" in found["identity"][1]
    assert found["read"][0] == found["write"][0] == "skipped"


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


def test_gcp_federated_token_never_goes_in_plaintext_off_this_machine(gcp_env, run_envsync, secret,
                                                                      tmp_path: Path) -> None:
    value = secret()
    folder = project(tmp_path, f"gcp-sm://{PROJECT}/ci?endpoint=secrets.example.com:8085&insecure=true",
                     f"API_TOKEN={value}\n")
    result = run_envsync("check", cwd=folder, env=gcp_env)
    assert_only_masks_hold_values(result, [value])
    assert result.code == 2
    assert "insecure=true would send requests (and the federated access token) in plaintext" in result.stderr
