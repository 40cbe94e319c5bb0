"""The action's OIDC path end to end through act, with no static key anywhere: the
`aws-role-arn` input -> envsync asks a local fake of GitHub's token endpoint for an ID token
(audience sts.amazonaws.com) -> AssumeRoleWithWebIdentity on moto enforcing IAM (behind a
proxy that checks the token as AWS STS does) -> Secrets Manager with the role's keys.

The action builds its own venv here (no ENVSYNC_VENV): the selected target is on AWS, so
this is also the run that installs the `aws` extra's SDK.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.ci_kit.conftest import no_aws_files
from tests.ci_kit.action_test import messages, run_act, write_workflow
from tests.fakes.oidc_fake import AWS_AUDIENCE, ROLE, GitHubOidcServer, federated_aws

@pytest.fixture(scope="module")
def iam_sts() -> Iterator[str]:
    with federated_aws() as proxy:
        yield proxy.endpoint


def test_action_federates_to_aws_with_the_github_id_token(iam_sts, github_oidc: GitHubOidcServer, project_copy,
                                                          tmp_path: Path, run_envsync, secret, leak_watch,
                                                          pip_cache):
    aws_env = no_aws_files(tmp_path)
    repo = tmp_path / "app"
    repo.mkdir()
    # No region in the URI: it comes from the action's aws-region input.
    (repo / "envsync.toml").write_text(f'[targets.prod]\nfile = ".env.prod"\n'
                                       f'store = "aws-sm://ci/act-oidc?endpoint={iam_sts}"\n'
                                       'schema = "prod.env.example"\n')
    (repo / "prod.env.example").write_text("API_KEY=\nDEBUG=false\n")
    value = secret("aws")
    (repo / ".env.prod").write_text(f"API_KEY={value}\nDEBUG=false\n")
    pushed = run_envsync("push", "prod", "--yes", cwd=repo, reveals=True, env={
        **aws_env, **github_oidc.env(), "ENVSYNC_AWS_ROLE_ARN": ROLE, "AWS_REGION": "us-east-1"})
    assert pushed.code == 0, pushed.output
    (repo / ".env.prod").unlink()
    shutil.rmtree(repo / ".envsync", ignore_errors=True)
    github_oidc.requests.clear()

    shutil.copytree(project_copy, repo / "envsync-action")
    write_workflow(repo, {"targets": "prod", "aws-role-arn": ROLE, "aws-region": "us-east-1"})
    oidc = {k: v for k, v in github_oidc.env().items() if k.startswith("ACTIONS_")}
    run = run_act(repo, tmp_path, leak_watch, env={**aws_env, **oidc, "PIP_CACHE_DIR": str(pip_cache)})
    log = messages(run)
    assert run.code == 0 and run.job_result == "success", log
    assert run.result["drift"] == "false", log
    assert "Installing the cloud SDKs these targets use: aws" in run.log, log
    assert {r["audience"] for r in github_oidc.requests} == {AWS_AUDIENCE}, log
    assert value in run.masks and value not in run.log
