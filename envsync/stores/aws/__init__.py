"""AWS Secrets Manager (`aws-sm://`): opened in `connect.py` (the URI, the client), the store
in `store.py`, its credentials (and the CI's OIDC federation into them) in `auth.py`, its
error messages in `errors.py`.

This module is what EnvSync knows of the backend before boto3 is imported."""
from __future__ import annotations

from typing import TYPE_CHECKING

from envsync.stores.backend import Backend

if TYPE_CHECKING:
    from envsync.config import Target


def _federation(target: Target) -> str | None:
    from envsync import ci  # loads urllib and ssl: only where it is needed

    role = ci.setting(target, "aws_role_arn")
    return f"AWS role {role}" if role else None


BACKEND = Backend(
    scheme="aws-sm",
    module="envsync.stores.aws.connect",
    extra="aws",
    auth_keys=frozenset({"aws_role_arn", "aws_role_session_name", "aws_role_duration", "aws_region"}),
    federation=_federation,
)
