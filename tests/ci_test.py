"""envsync/ci.py: where the run is, the settings' precedence, and the OIDC ID token
(GitHub's endpoint through a local fake over HTTP; GitLab's variable)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from envsync import ci
from envsync.errors import InputError, StoreError
from tests.ci_env import target
from tests.fakes.oidc_fake import AWS_AUDIENCE, GitHubOidcServer, mint, verify

pytestmark = pytest.mark.usefixtures("clean_ci_env")


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
