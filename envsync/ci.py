"""Where the run is (GitHub Actions, GitLab CI, local), the OIDC ID token of that CI,
and the federation of that token into each cloud's credentials — no long-lived keys.

Settings come from the target's `[targets.NAME.auth]` table, each overridden by the
environment variable of the same name in capitals with the `ENVSYNC_` prefix
(`aws_role_arn` -> `ENVSYNC_AWS_ROLE_ARN`); the GitHub Action's inputs set those.

The ID token:
- GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
  `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the JWT is the `value` field.
  The runner only sets those variables for a job with `permissions: id-token: write`.
- GitLab CI: an `id_tokens:` variable (there is no endpoint); its name is
  `id_token_variable`, by default `ENVSYNC_ID_TOKEN`. Any other CI that hands out a JWT
  in a variable works the same way.

Tokens are kept in memory only: never written to disk, never printed. Each cloud gets
the audience it expects unless `audience` says otherwise.
"""
from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Mapping

from envsync.errors import InputError, StoreError

if TYPE_CHECKING:
    from envsync.config import Target

GITHUB, GITLAB, LOCAL = "github", "gitlab", "local"
DEFAULT_TOKEN_VARIABLE = "ENVSYNC_ID_TOKEN"
AWS_AUDIENCE = "sts.amazonaws.com"  # what aws-actions/configure-aws-credentials asks for
AZURE_AUDIENCE = "api://AzureADTokenExchange"  # what Entra's federated credentials expect
GCP_STS_URL = "https://sts.googleapis.com/v1/token"
GCP_IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}\Z")
_ATTEMPTS = 3


def provider(env: Mapping[str, str] | None = None) -> str:
    """github, gitlab or local; ENVSYNC_CI overrides the detection."""
    env = os.environ if env is None else env
    forced = env.get("ENVSYNC_CI", "").strip().lower()
    if forced in (GITHUB, GITLAB, LOCAL):
        return forced
    if env.get("GITHUB_ACTIONS") == "true":
        return GITHUB
    if env.get("GITLAB_CI") == "true":
        return GITLAB
    return LOCAL


def setting(target: Target, key: str) -> str | None:
    """A federation setting: ENVSYNC_<KEY> from the environment, else the target's auth table."""
    for value in (os.environ.get("ENVSYNC_" + key.upper()), target.auth.get(key)):
        if value and value.strip():  # an empty Action input means "not set"
            return value.strip()
    return None


# -- the ID token ---------------------------------------------------------------------

_cache: dict[str, tuple[str, float]] = {}
_cache_lock = threading.Lock()


def id_token(target: Target, audience: str) -> str:
    """This CI's OIDC ID token for `audience` (the target's `audience` setting wins)."""
    audience = setting(target, "audience") or audience
    variable = setting(target, "id_token_variable") or DEFAULT_TOKEN_VARIABLE
    given = os.environ.get(variable, "").strip()
    if given:
        return given
    where = provider()
    if where == GITHUB:
        return _github_token(audience)
    if where == GITLAB:
        raise StoreError(f"no OIDC ID token in ${variable} — give the job `id_tokens: {variable}: aud: {audience}` "
                         "(or name your variable with id_token_variable / ENVSYNC_ID_TOKEN_VARIABLE)")
    raise StoreError(f"federation is configured for target {target.name} but this is not a CI job with an OIDC "
                     f"token — run it in GitHub Actions or GitLab CI, or put a JWT in ${variable}; "
                     "locally, unset the ENVSYNC_* federation settings to use your own credentials")


def _github_token(audience: str) -> str:
    with _cache_lock:
        cached = _cache.get(audience)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
    url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    bearer = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise StoreError("GitHub Actions gave this job no OIDC token — add `permissions: id-token: write` to "
                         "the workflow or job (and `contents: read`)")
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    request = urllib.request.Request(url + separator + urllib.parse.urlencode({"audience": audience}), headers={
        "Authorization": f"Bearer {bearer}", "Accept": "application/json", "User-Agent": "envsync"})
    token = _fetch_value(request)
    with _cache_lock:
        _cache[audience] = (token, _expiry(token))
    return token


def _fetch_value(request: urllib.request.Request) -> str:
    for attempt in range(_ATTEMPTS):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                payload = json.loads(response.read())
            token = payload.get("value") if isinstance(payload, dict) else None
            if not isinstance(token, str) or token.count(".") != 2:
                raise StoreError("GitHub's OIDC token endpoint answered without a token — run the job again")
            return token
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == _ATTEMPTS - 1:
                raise StoreError(f"GitHub's OIDC token endpoint refused the request (HTTP {exc.code}) — check "
                                 "`permissions: id-token: write`; a pull request from a fork gets no token") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt == _ATTEMPTS - 1:
                reason = getattr(exc, "reason", None) or exc.__class__.__name__
                raise StoreError(f"cannot reach GitHub's OIDC token endpoint ({reason}) — run the job again") from None
        time.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


def _expiry(token: str) -> float:
    """The token's `exp` claim (read, not verified: only to know when to ask again)."""
    try:
        claims = token.split(".")[1]
        return float(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"])
    except (ValueError, KeyError, IndexError, TypeError):
        return time.time() + 120


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


# -- AWS --------------------------------------------------------------------------------


def aws_credentials(target: Target, *, region: str | None, endpoint: str | None) -> dict[str, str] | None:
    """Temporary keys from AssumeRoleWithWebIdentity when `aws_role_arn` is set, else None
    (boto3's own chain: profile, SSO, instance role...)."""
    role = setting(target, "aws_role_arn")
    if not role:
        return None
    session_name = setting(target, "aws_role_session_name") or _session_name()
    if not _SESSION_NAME.match(session_name):
        raise InputError(f"target {target.name}: aws_role_session_name {session_name!r} must be 2-64 characters "
                         "of letters, digits and +=,.@_-")
    duration = _duration(target)
    token = id_token(target, AWS_AUDIENCE)
    try:
        answer = _sts_client(region, endpoint).assume_role_with_web_identity(
            RoleArn=role, RoleSessionName=session_name, WebIdentityToken=token, DurationSeconds=duration)
    except Exception as exc:  # botocore's ClientError and its connection errors
        raise _aws_error(exc, role) from None
    keys = answer["Credentials"]
    return {"aws_access_key_id": keys["AccessKeyId"], "aws_secret_access_key": keys["SecretAccessKey"],
            "aws_session_token": keys["SessionToken"]}


def _sts_client(region: str | None, endpoint: str | None) -> Any:
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    # The call is signed by the ID token, not by keys: an unsigned client needs none.
    config = Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 5},
                    user_agent_extra="envsync")
    session = boto3.session.Session()
    return session.client("sts", region_name=region or session.region_name or "us-east-1",
                          endpoint_url=sts_endpoint(endpoint), config=config)


def sts_endpoint(store_endpoint: str | None) -> str | None:
    """Where STS calls go. A plaintext `endpoint=` is an emulator (moto, LocalStack) that
    serves every service, STS included; an https one is a private endpoint for Secrets
    Manager only, so STS is left to boto3 (regional STS, or AWS_ENDPOINT_URL_STS)."""
    if store_endpoint and urllib.parse.urlsplit(store_endpoint).scheme == "http":
        return store_endpoint
    return None


def _session_name() -> str:
    run = os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID") or str(int(time.time()))
    return f"envsync-{run}"[:64]


def _duration(target: Target) -> int:
    raw = setting(target, "aws_role_duration") or "3600"
    if not raw.isdigit() or not 900 <= int(raw) <= 43200:
        raise InputError(f"target {target.name}: aws_role_duration {raw!r} must be seconds from 900 to 43200")
    return int(raw)


def _aws_error(exc: Exception, role: str) -> StoreError:
    error = getattr(exc, "response", {}).get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "") or str(exc)
    if code == "InvalidIdentityToken":
        return StoreError(f"AWS STS refused the OIDC token ({message}) — the IAM OIDC provider must list the "
                          f"token's audience ({AWS_AUDIENCE} unless `audience` is set) and trust its issuer")
    if code == "AccessDenied":
        return StoreError(f"not allowed to assume {role} ({message}) — check the role's trust policy: its `sub` "
                          "condition must match this repository and branch")
    if code == "ExpiredTokenException":
        return StoreError("the OIDC token expired before AWS STS saw it — run the job again")
    detail = " ".join((message or exc.__class__.__name__).split())[:300]
    return StoreError(f"AWS STS AssumeRoleWithWebIdentity for {role} failed: {code or 'error'} — {detail}")


# -- GCP --------------------------------------------------------------------------------


def gcp_credentials(target: Target) -> Any | None:
    """`external_account` credentials for the workload identity provider when one is set
    (with service-account impersonation if `gcp_service_account` is set), else None."""
    provider_name = setting(target, "gcp_workload_identity_provider")
    if not provider_name:
        return None
    provider_name = _gcp_provider(target, provider_name)
    from google.auth import identity_pool

    service_account = setting(target, "gcp_service_account")
    impersonation = None
    if service_account:
        base = os.environ.get("ENVSYNC_GCP_IAM_CREDENTIALS_URL", GCP_IAM_CREDENTIALS_URL).rstrip("/")
        impersonation = f"{base}/v1/projects/-/serviceAccounts/{service_account}:generateAccessToken"
    # The token's audience: google-github-actions/auth's default, which is also the
    # provider's default allowed audience.
    token_audience = "https://iam.googleapis.com/" + provider_name
    return identity_pool.Credentials(
        audience="//iam.googleapis.com/" + provider_name,
        subject_token_type="urn:ietf:params:oauth:token-type:jwt",
        token_url=os.environ.get("ENVSYNC_GCP_TOKEN_URL", GCP_STS_URL),
        subject_token_supplier=_GcpTokenSupplier(target, token_audience),
        service_account_impersonation_url=impersonation,
        scopes=[GCP_SCOPE],
    )


def _gcp_provider(target: Target, value: str) -> str:
    name = value.removeprefix("https:").removeprefix("//iam.googleapis.com/")
    if not re.fullmatch(r"projects/[^/]+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+", name):
        raise InputError(f"target {target.name}: gcp_workload_identity_provider {value!r} must be "
                         "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER")
    return name


class _GcpTokenSupplier:
    """google-auth's SubjectTokenSupplier shape: the ID token, straight from memory."""

    def __init__(self, target: Target, audience: str) -> None:
        self._target = target
        self._audience = audience

    def get_subject_token(self, context: Any, request: Any) -> str:
        return id_token(self._target, self._audience)


# -- Azure ------------------------------------------------------------------------------


def azure_credential(target: Target) -> Any | None:
    """A ClientAssertionCredential on this CI's ID token when the target names the tenant
    and the app (client) id and the run has an ID token to offer, else None."""
    tenant = setting(target, "azure_tenant_id")
    client_id = setting(target, "azure_client_id")
    if not (tenant and client_id and has_id_token(target)):
        return None
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and not _token_at_hand(target):
        return None  # a runner on AKS with workload identity: its token file serves
    from azure.identity import ClientAssertionCredential

    return ClientAssertionCredential(tenant, client_id, lambda: id_token(target, AZURE_AUDIENCE))


def _token_at_hand(target: Target) -> bool:
    variable = setting(target, "id_token_variable") or DEFAULT_TOKEN_VARIABLE
    return bool(os.environ.get(variable, "").strip() or os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"))


def has_id_token(target: Target) -> bool:
    """Whether this run offers an ID token (GitHub and GitLab jobs always count: if the
    token is missing there, the error should say how to get it)."""
    variable = setting(target, "id_token_variable") or DEFAULT_TOKEN_VARIABLE
    return bool(os.environ.get(variable, "").strip()) or provider() in (GITHUB, GITLAB)
