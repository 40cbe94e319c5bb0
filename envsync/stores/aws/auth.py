"""AWS credentials: the boto3 session a store signs its calls with — a profile, the
environment's chain, or, with `aws_role_arn`, keys from STS AssumeRoleWithWebIdentity on
this CI's OIDC token (envsync.ci)."""
from __future__ import annotations

import logging
import os
import re
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import NoRegionError, ProfileNotFound

from envsync import ci, endpoints
from envsync.errors import InputError, StoreError
from envsync.stores.calls import one_line
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d{1,2}\Z|local\Z")  # eu-west-1, us-gov-east-1, eusc-de-east-1
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}\Z")


class _NoBodies(logging.Filter):
    """botocore logs whole request parameters and response bodies at DEBUG, and for Secrets
    Manager and STS those are secret values, keys and the CI's ID token: drop them, whatever
    logging the host application turned on. Other botocore debug output (retries, endpoints)
    stays. Installed here, where every AWS session is made, so STS calls are covered too."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


for _logger in ("botocore.endpoint", "botocore.parsers", "botocore.awsrequest"):
    logging.getLogger(_logger).addFilter(_NoBodies())


def session(uri: StoreURI, target: Target, connections: int) -> tuple[Any, Any]:
    """The boto3 session for a store, and its Secrets Manager client."""
    config = Config(retries={"mode": "adaptive", "max_attempts": 8}, max_pool_connections=connections,
                    connect_timeout=5, read_timeout=30, user_agent_extra="envsync")
    try:
        # botocore reads AWS_DEFAULT_REGION; many CI set-ups export only AWS_REGION.
        region = uri.option("region") or _auth_region(target) or os.environ.get("AWS_REGION") or None
        keys = federated_keys(target, region=region, endpoint=uri.option("endpoint")) or {}
        boto_session = boto3.session.Session(profile_name=uri.option("profile"), region_name=region, **keys)
        client = boto_session.client("secretsmanager", endpoint_url=uri.option("endpoint"), config=config)
        return boto_session, client
    except ProfileNotFound:
        raise InputError(f"store {uri.text!r}: AWS profile {uri.option('profile')!r} is not in your AWS config") from None
    except NoRegionError:
        raise StoreError(f"{uri.text}: no AWS region — add ?region=eu-west-1 (for example) to the store URI, "
                         "or set AWS_REGION or AWS_DEFAULT_REGION") from None


def _auth_region(target: Target) -> str | None:
    """The auth table's aws_region: it names the hosts (sts.REGION..., secretsmanager.REGION...)."""
    region = ci.setting(target, "aws_region")
    if region is not None and not REGION.match(region):
        raise InputError(f"target {target.name}: aws_region {region!r} is not an AWS region name (e.g. eu-west-1) "
                         "— fix aws_region in the auth table or ENVSYNC_AWS_REGION")
    return region


def federated_keys(target: Target, *, region: str | None, endpoint: str | None) -> dict[str, str] | None:
    """Temporary keys from AssumeRoleWithWebIdentity when `aws_role_arn` is set, else None
    (boto3's own chain: profile, SSO, instance role...)."""
    role = ci.setting(target, "aws_role_arn")
    if not role:
        return None
    session_name = ci.setting(target, "aws_role_session_name") or _session_name()
    if not _SESSION_NAME.match(session_name):
        raise InputError(f"target {target.name}: aws_role_session_name {session_name!r} must be 2-64 characters "
                         "of letters, digits and +=,.@_-")
    duration = _duration(target)
    token = ci.id_token(target, AUDIENCE)
    try:
        answer = _sts_client(region, endpoint).assume_role_with_web_identity(
            RoleArn=role, RoleSessionName=session_name, WebIdentityToken=token, DurationSeconds=duration)
    except Exception as exc:  # botocore's ClientError and its connection errors
        raise _sts_error(exc, role) from None
    keys = answer["Credentials"]
    return {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
            "aws_session_token": keys["SessionToken"]}


def _sts_client(region: str | None, endpoint: str | None) -> Any:
    # The call is signed by the ID token, not by keys: an unsigned client needs none.
    config = Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 5},
                    user_agent_extra="envsync")
    session = boto3.session.Session()
    return session.client("sts", region_name=region or session.region_name or "us-east-1",
                          endpoint_url=sts_endpoint(endpoint), config=config)


def sts_endpoint(store_endpoint: str | None) -> str | None:
    """Where STS calls go. A plaintext `endpoint=` is an emulator (moto, LocalStack) that
    serves every service, STS included; an https one is a private endpoint for Secrets
    Manager only, so STS is left to boto3 (regional STS, or AWS_ENDPOINT_URL_STS). The
    token is never sent in plaintext off this machine (the store already refused that)."""
    parts = urllib.parse.urlsplit(store_endpoint or "")
    if parts.scheme == "http" and parts.hostname and endpoints.is_loopback(parts.hostname):
        return store_endpoint
    return None


def _session_name() -> str:
    run = os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID") or str(int(time.time()))
    return f"envsync-{run}"[:64]


def _duration(target: Target) -> int:
    raw = ci.setting(target, "aws_role_duration") or "3600"
    if not raw.isdigit() or not 900 <= int(raw) <= 43200:
        raise InputError(f"target {target.name}: aws_role_duration {raw!r} must be seconds from 900 to 43200")
    return int(raw)


def _sts_error(exc: Exception, role: str) -> StoreError:
    error = getattr(exc, "response", {}).get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "") or str(exc)
    if code == "InvalidIdentityToken":
        return StoreError(f"AWS STS refused the OIDC token ({message}) — the IAM OIDC provider must list the "
                          f"token's audience ({AUDIENCE} unless `audience` is set) and trust its issuer")
    if code == "AccessDenied":
        return StoreError(f"not allowed to assume {role} ({message}) — check the role's trust policy: its `sub` "
                          "condition must match this repository and branch")
    if code == "ExpiredTokenException":
        return StoreError("the OIDC token expired before AWS STS saw it — run the job again")
    detail = one_line(message or exc.__class__.__name__)
    return StoreError(f"AWS STS AssumeRoleWithWebIdentity for {role} failed: {code or 'error'} — {detail}")
