"""The GitLab template's OIDC path through gitlab-ci-local, with no static key anywhere:
the job's `id_tokens:` JWT (gitlab-ci-local creates none, so it is handed in as the
variable the template names) -> AssumeRoleWithWebIdentity on moto enforcing IAM (behind a
proxy that checks the token as AWS STS does) -> Secrets Manager with the role's keys; on
a clean and on a drifted target.

The clean run installs EnvSync the default way (from a local package index): the target's
store is on AWS, so this is the run that installs the `aws` extra's locked SDK."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.ci_kit.conftest import commit_all, no_aws_files
from tests.ci_kit.gitlab_test import MERGE_REQUEST, glci, include, job_exit
from tests.fakes.oidc_fake import AWS_AUDIENCE, GITLAB_ISSUER, ROLE, federated_aws, mint

SUBJECT = "project_path:acme/app:ref_type:branch:ref:main"


@pytest.fixture(scope="module")
def iam_sts() -> Iterator[str]:
    with federated_aws() as proxy:
        yield proxy.endpoint


@pytest.mark.parametrize("schema, drifted", [("API_KEY=\n", False), ("API_KEY=\nNEW_FLAG=on\n", True)],
                         ids=["clean", "drifted"])
def test_check_job_federates_to_aws_with_the_id_token(iam_sts, project_copy, tmp_path: Path, run_envsync, secret,
                                                      leak_watch, installed_venv, released, schema: str,
                                                      drifted: bool):
    aws_env = no_aws_files(tmp_path)
    token = mint(AWS_AUDIENCE, issuer=GITLAB_ISSUER, subject=SUBJECT)
    repo = tmp_path / "app"
    repo.mkdir()
    name = f"ci/glci-{'drifted' if drifted else 'clean'}-{secret('n')[-6:]}"
    (repo / "envsync.toml").write_text(f'[targets.prod]\nfile = ".env.prod"\n'
                                       f'store = "aws-sm://{name}?endpoint={iam_sts}"\nschema = "prod.env.example"\n')
    value = secret("aws")
    (repo / ".env.prod").write_text(f"API_KEY={value}\n")
    pushed = run_envsync("push", "prod", "--yes", cwd=repo, env={
        **aws_env, "GITLAB_CI": "true", "ENVSYNC_ID_TOKEN": token, "ENVSYNC_AWS_ROLE_ARN": ROLE,
        "AWS_REGION": "us-east-1"})
    assert pushed.code == 0, pushed.output
    (repo / ".env.prod").unlink()  # CI has the schema only
    shutil.rmtree(repo / ".envsync", ignore_errors=True)
    (repo / "prod.env.example").write_text(schema)
    (repo / "templates").mkdir()
    shutil.copy2(project_copy / "templates" / "envsync.yml", repo / "templates" / "envsync.yml")
    (repo / ".gitlab-ci.yml").write_text(include(project_copy, package=None, targets="prod", **{
        "aws-role-arn": ROLE, "aws-region": "us-east-1"}))
    commit_all(repo)

    install = {"ENVSYNC_VENV": installed_venv} if drifted else released
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={
        **MERGE_REQUEST, **aws_env, **install, "ENVSYNC_ID_TOKEN": token, "GITLAB_CI": "true"})
    output = proc.stdout + proc.stderr
    assert token not in output and value not in output
    assert ("Installing the cloud SDKs these targets use: aws" in output) is not drifted, output
    if drifted:
        assert job_exit(proc, "envsync-check") == 1 and "FAIL" in output, output
        assert "NEW_FLAG is in prod.env.example but not in the store" in output, output  # drift, not an error
    else:
        assert proc.returncode == 0 and "PASS" in output, output
        # The control: without the job's ID token nothing gets in, and the log says what to add
        # (GitLab sets GITLAB_CI=true in every job; gitlab-ci-local does not).
        proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={
            **MERGE_REQUEST, **aws_env, "ENVSYNC_VENV": installed_venv, "GITLAB_CI": "true"})
        output = proc.stdout + proc.stderr
        assert job_exit(proc, "envsync-check") == 3 and "no OIDC ID token in $ENVSYNC_ID_TOKEN" in output, output
