"""envsync/stores/aws/auth.py: AWS credentials, and the CI's OIDC token traded at STS
(AssumeRoleWithWebIdentity) for a role's keys — end to end against moto enforcing IAM, behind
a proxy that checks the token as STS does; no static keys anywhere."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from envsync.errors import InputError
from envsync.stores.aws import auth
from tests.ci_env import target
from tests.conftest import without_masks
from tests.fakes.aws_server import AwsErrorProxy, store_uri
from tests.fakes.oidc_fake import (
    AWS_AUDIENCE,
    GITLAB_ISSUER,
    READER_ROLE,
    ROLE,
    GitHubOidcServer,
    federated_aws,
    mint,
)
from tests.stores.federation import assert_only_masks_hold_values, checks, doctor, project


@pytest.mark.usefixtures("clean_ci_env")
def test_no_role_means_ambient_aws_credentials(tmp_path: Path) -> None:
    assert auth.federated_keys(target(tmp_path), region="us-east-1", endpoint=None) is None


@pytest.mark.usefixtures("clean_ci_env")
@pytest.mark.parametrize("settings, message", [
    ({"aws_role_duration": "60"}, "aws_role_duration '60' must be seconds from 900 to 43200"),
    ({"aws_role_session_name": "has space"}, "aws_role_session_name 'has space' must be"),
])
def test_bad_aws_settings_are_input_errors(tmp_path: Path, settings: dict[str, str], message: str) -> None:
    t = target(tmp_path, aws_role_arn="arn:aws:iam::123456789012:role/ci", **settings)
    with pytest.raises(InputError, match=message):
        auth.federated_keys(t, region="us-east-1", endpoint=None)


@pytest.mark.usefixtures("clean_ci_env")
def test_session_name_names_the_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    assert auth._session_name() == "envsync-4242"


@pytest.mark.usefixtures("clean_ci_env")
@pytest.mark.parametrize("endpoint, expected", [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),  # an emulator serves STS too
    ("https://vpce-1a2b.secretsmanager.eu-west-1.vpce.amazonaws.com", None),  # a private endpoint: SM only
    (None, None),
])
def test_sts_goes_to_an_emulator_but_not_to_a_private_secrets_manager_endpoint(endpoint, expected) -> None:
    assert auth.sts_endpoint(endpoint) == expected


# -- end to end ------------------------------------------------------------------------


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


def test_the_debug_body_filter_comes_with_the_credentials_code():
    """STS's request carries the CI's ID token and its answer the keys: the filter that keeps
    botocore's DEBUG bodies out of any log is installed by auth.py itself, not by whatever
    else happens to be imported with it."""
    import subprocess
    import sys

    probe = ("import logging, envsync.stores.aws.auth, sys; "
             "names = ('botocore.endpoint', 'botocore.parsers', 'botocore.awsrequest'); "
             "sys.exit(0 if all(any(type(f).__name__ == '_NoBodies' for f in logging.getLogger(n).filters) "
             "for n in names) else 1)")
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0
