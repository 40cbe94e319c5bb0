"""envsync/ci.py: where the run is, the settings' precedence, and the OIDC ID token
(GitHub's endpoint through a local fake over HTTP; GitLab's variable)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from envsync import ci
from envsync.config import Target
from envsync.errors import InputError, StoreError
from tests.fakes.oidc_fake import AWS_AUDIENCE, GitHubOidcServer, mint, verify

CI_VARIABLES = ("ENVSYNC_CI", "AZURE_FEDERATED_TOKEN_FILE", "GITHUB_ACTIONS", "GITLAB_CI", "ACTIONS_ID_TOKEN_REQUEST_URL",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ENVSYNC_ID_TOKEN", "ENVSYNC_AUDIENCE", "ENVSYNC_ID_TOKEN_VARIABLE",
                "ENVSYNC_AWS_ROLE_ARN", "ENVSYNC_AWS_ROLE_DURATION", "ENVSYNC_AWS_ROLE_SESSION_NAME",
                "ENVSYNC_GCP_WORKLOAD_IDENTITY_PROVIDER", "GITHUB_RUN_ID", "CI_JOB_ID", "ENVSYNC_ALLOW_ENDPOINTS",
                "ENVSYNC_GCP_TOKEN_URL", "ENVSYNC_GCP_IAM_CREDENTIALS_URL")


@pytest.fixture(autouse=True)
def clean_ci_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    ci.clear_cache()


def target(tmp_path: Path, **auth: str) -> Target:
    return Target(name="prod", file=tmp_path / ".env", store="file://s", root=tmp_path, auth=auth)


@pytest.mark.parametrize("env, expected", [
    ({}, "local"),
    ({"GITHUB_ACTIONS": "true"}, "github"),
    ({"GITLAB_CI": "true"}, "gitlab"),
    ({"GITHUB_ACTIONS": "true", "ENVSYNC_CI": "local"}, "local"),
    ({"ENVSYNC_CI": "GitLab"}, "gitlab"),
    ({"ENVSYNC_CI": "jenkins", "GITLAB_CI": "true"}, "gitlab"),  # an unknown override is ignored
])
def test_provider(env: dict[str, str], expected: str) -> None:
    assert ci.provider(env) == expected


def test_environment_overrides_the_auth_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = target(tmp_path, aws_role_arn="arn:aws:iam::1:role/from-config")
    assert ci.setting(t, "aws_role_arn") == "arn:aws:iam::1:role/from-config"
    monkeypatch.setenv("ENVSYNC_AWS_ROLE_ARN", "arn:aws:iam::1:role/from-env")
    assert ci.setting(t, "aws_role_arn") == "arn:aws:iam::1:role/from-env"
    monkeypatch.setenv("ENVSYNC_AWS_ROLE_ARN", "  ")  # an empty Action input means "not set"
    assert ci.setting(t, "aws_role_arn") == "arn:aws:iam::1:role/from-config"
    assert ci.setting(t, "gcp_service_account") is None


def test_github_token_asks_for_the_audience_with_the_request_token(github_oidc: GitHubOidcServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in github_oidc.env().items():
        monkeypatch.setenv(name, value)
    token = ci.id_token(target(tmp_path), AWS_AUDIENCE)
    assert verify(token, AWS_AUDIENCE) is None
    assert github_oidc.requests[-1] == {"method": "GET", "path": "/_apis/token", "audience": AWS_AUDIENCE}
    assert ci.id_token(target(tmp_path), AWS_AUDIENCE) == token  # cached until near its expiry
    assert len(github_oidc.requests) == 1


def test_the_audience_setting_wins(github_oidc: GitHubOidcServer, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in github_oidc.env().items():
        monkeypatch.setenv(name, value)
    token = ci.id_token(target(tmp_path, audience="https://custom.example"), AWS_AUDIENCE)
    assert verify(token, "https://custom.example") is None


def test_github_without_id_token_permission_says_what_to_add(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(StoreError, match=r"permissions: id-token: write"):
        ci.id_token(target(tmp_path), AWS_AUDIENCE)


def test_github_refusal_is_one_line_with_the_status(github_oidc: GitHubOidcServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in github_oidc.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong")
    with pytest.raises(StoreError, match=r"refused the request \(HTTP 401\)") as caught:
        ci.id_token(target(tmp_path), AWS_AUDIENCE)
    assert "\n" not in str(caught.value)


def test_unreachable_github_endpoint_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ci.time, "sleep", lambda _: None)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:9/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "x")
    with pytest.raises(StoreError, match="cannot reach GitHub's OIDC token endpoint"):
        ci.id_token(target(tmp_path), AWS_AUDIENCE)


def test_gitlab_token_comes_from_the_id_tokens_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    with pytest.raises(StoreError, match=r"id_tokens: ENVSYNC_ID_TOKEN: aud: sts.amazonaws.com"):
        ci.id_token(target(tmp_path), AWS_AUDIENCE)
    first, second = mint(AWS_AUDIENCE), mint(AWS_AUDIENCE)
    monkeypatch.setenv("ENVSYNC_ID_TOKEN", first)
    assert ci.id_token(target(tmp_path), AWS_AUDIENCE) == first
    monkeypatch.setenv("AWS_JWT", second)
    assert ci.id_token(target(tmp_path, id_token_variable="AWS_JWT"), AWS_AUDIENCE) == second


def test_federation_outside_ci_explains_itself(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a CI job with an OIDC token"):
        ci.id_token(target(tmp_path), AWS_AUDIENCE)


def test_no_role_means_ambient_aws_credentials(tmp_path: Path) -> None:
    assert ci.aws_credentials(target(tmp_path), region="us-east-1", endpoint=None) is None


@pytest.mark.parametrize("auth, message", [
    ({"aws_role_duration": "60"}, "aws_role_duration '60' must be seconds from 900 to 43200"),
    ({"aws_role_session_name": "has space"}, "aws_role_session_name 'has space' must be"),
])
def test_bad_aws_settings_are_input_errors(tmp_path: Path, auth: dict[str, str], message: str) -> None:
    t = target(tmp_path, aws_role_arn="arn:aws:iam::123456789012:role/ci", **auth)
    with pytest.raises(InputError, match=message):
        ci.aws_credentials(t, region="us-east-1", endpoint=None)


def test_session_name_names_the_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    assert ci._session_name() == "envsync-4242"


@pytest.mark.parametrize("value", [
    "projects/1/locations/global/workloadIdentityPools/p/providers/q",
    "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
    "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
])
def test_gcp_provider_accepts_its_usual_spellings(tmp_path: Path, value: str) -> None:
    credentials = ci.gcp_credentials(target(tmp_path, gcp_workload_identity_provider=value))
    assert credentials.info["audience"] == (
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q")


def test_bad_gcp_provider_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="gcp_workload_identity_provider 'my-pool' must be projects/NUMBER"):
        ci.gcp_credentials(target(tmp_path, gcp_workload_identity_provider="my-pool"))


def test_azure_federation_needs_tenant_client_and_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = {"azure_tenant_id": "t", "azure_client_id": "c"}
    assert ci.azure_credential(target(tmp_path, **ids)) is None  # local, no token: ambient credentials
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert ci.azure_credential(target(tmp_path, azure_tenant_id="t")) is None
    assert ci.azure_credential(target(tmp_path, **ids)) is not None


@pytest.mark.parametrize("endpoint, expected", [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),  # an emulator serves STS too
    ("https://vpce-1a2b.secretsmanager.eu-west-1.vpce.amazonaws.com", None),  # a private endpoint: SM only
    (None, None),
])
def test_sts_goes_to_an_emulator_but_not_to_a_private_secrets_manager_endpoint(endpoint, expected) -> None:
    assert ci.sts_endpoint(endpoint) == expected


def test_azure_on_an_aks_runner_keeps_its_workload_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = {"azure_tenant_id": "t", "azure_client_id": "c"}
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "token"))
    assert ci.azure_credential(target(tmp_path, **ids)) is None  # no CI token offered: the file serves
    monkeypatch.setenv("ENVSYNC_ID_TOKEN", mint("api://AzureADTokenExchange"))
    assert ci.azure_credential(target(tmp_path, **ids)) is not None  # the job's own token wins


def test_a_token_that_is_not_a_jwt_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITLAB_CI", "true")
    for shape in ("a.b.c", "secret-api-key", mint(AWS_AUDIENCE).rsplit(".", 1)[0], "e30.e30.sig", "%%%.e30.sig"):
        monkeypatch.setenv("ENVSYNC_ID_TOKEN", shape)
        with pytest.raises(InputError, match=r"\$ENVSYNC_ID_TOKEN does not hold a JWT"):
            ci.id_token(target(tmp_path), AWS_AUDIENCE)
    assert ci.looks_like_jwt(mint(AWS_AUDIENCE))


def test_an_oversized_or_deeply_nested_token_is_not_a_jwt() -> None:
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    claims = part('{"sub": "x"}')
    nested = part("[" * 3000 + "]" * 3000)  # under the header cap, deep enough to exhaust the stack
    assert not ci.looks_like_jwt(f"{nested}.{claims}.sig")
    assert not ci.looks_like_jwt(f"{claims}.{nested}.sig")
    huge = part(json.dumps({"alg": "RS256", "pad": "a" * 9000}))
    assert not ci.looks_like_jwt(f"{huge}.{claims}.sig")
    assert not ci.looks_like_jwt(f"{part('[1]')}.{claims}.sig")  # a header that is not an object


def test_github_s_answer_must_be_a_jwt(github_oidc: GitHubOidcServer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes import oidc_fake

    for name, value in github_oidc.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(oidc_fake, "mint", lambda *args, **kwargs: "a.b.c")  # the fake answers a non-token
    with pytest.raises(StoreError, match="answered without a token"):
        ci.id_token(target(tmp_path), AWS_AUDIENCE)
