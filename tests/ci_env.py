"""A clean CI environment for tests of envsync.ci and of each backend's federation: none of
the variables that say where the run is or hold a token, and no cached token."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync import ci
from envsync.config import Target

CI_VARIABLES = ("ENVSYNC_CI", "AZURE_FEDERATED_TOKEN_FILE", "GITHUB_ACTIONS", "GITLAB_CI", "ACTIONS_ID_TOKEN_REQUEST_URL",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ENVSYNC_ID_TOKEN", "ENVSYNC_AUDIENCE", "ENVSYNC_ID_TOKEN_VARIABLE",
                "ENVSYNC_AWS_ROLE_ARN", "ENVSYNC_AWS_ROLE_DURATION", "ENVSYNC_AWS_ROLE_SESSION_NAME",
                "ENVSYNC_GCP_WORKLOAD_IDENTITY_PROVIDER", "GITHUB_RUN_ID", "CI_JOB_ID", "ENVSYNC_ALLOW_ENDPOINTS",
                "ENVSYNC_GCP_TOKEN_URL", "ENVSYNC_GCP_IAM_CREDENTIALS_URL")


@pytest.fixture
def clean_ci_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    ci.clear_cache()


def target(tmp_path: Path, **auth: str) -> Target:
    """A target with these auth settings."""
    return Target(name="prod", file=tmp_path / ".env", store="file://s", root=tmp_path, auth=auth)
