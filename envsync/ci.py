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
the audience it expects unless `audience` says otherwise. A token must be JWT-shaped
before it is sent anywhere, and goes only to the hosts envsync.endpoints accepts.
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

from envsync import endpoints
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
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
_CI_OWN_PREFIXES = ("CI_", "GITHUB_", "ACTIONS_", "RUNNER_")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+\Z")
# A real token's header is a few hundred bytes, its claims a few KiB; anything far larger is
# not a token, and decoding it could exhaust the stack (deeply nested JSON).
_MAX_HEADER = 8 * 1024
_MAX_CLAIMS = 64 * 1024
_MAX_SIGNATURE = 8 * 1024


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
    variable = token_variable(target)
    given = given_token(target)
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


def token_variable(target: Target) -> str:
    """The variable that holds the ID token. Any name an `id_tokens:` entry can have, but not
    a CI's own variables: those hold the runner's credentials, never a token for a cloud."""
    variable = setting(target, "id_token_variable") or DEFAULT_TOKEN_VARIABLE
    if not _VARIABLE_NAME.match(variable) or variable.upper().startswith(_CI_OWN_PREFIXES):
        raise InputError(f"target {target.name}: id_token_variable {variable!r} must name the variable of an "
                         "`id_tokens:` entry (letters, digits and _), not one of the CI's own "
                         f"({', '.join(p + '*' for p in _CI_OWN_PREFIXES)}) — fix id_token_variable in the "
                         "auth table or ENVSYNC_ID_TOKEN_VARIABLE")
    return variable


def given_token(target: Target) -> str | None:
    """The ID token in the variable, if any — refused unless it is shaped like a JWT, so a
    config naming some other variable (an API key, a password) cannot send its value."""
    variable = token_variable(target)
    given = os.environ.get(variable, "").strip()
    if given and not looks_like_jwt(given):
        raise InputError(f"target {target.name}: ${variable} does not hold a JWT (three base64url parts, a JSON "
                         "header with `alg`) and only an OIDC ID token is ever sent — point id_token_variable "
                         "(or ENVSYNC_ID_TOKEN_VARIABLE) at the job's `id_tokens:` variable")
    return given or None


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts whose header and claims decode to JSON objects, the header with `alg`."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_BASE64URL.match(part) for part in parts):
        return False
    if len(parts[0]) > _MAX_HEADER or len(parts[1]) > _MAX_CLAIMS or len(parts[2]) > _MAX_SIGNATURE:
        return False
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except (ValueError, RecursionError):  # bad padding, not UTF-8, not JSON; JSON nested too deep
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str) and isinstance(claims, dict)


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
            if not isinstance(token, str) or not looks_like_jwt(token):
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
    given_token(target)  # a bad token variable stops here, not inside the first gRPC call
    token_url = _gcp_url("ENVSYNC_GCP_TOKEN_URL", GCP_STS_URL)
    from google.auth import identity_pool

    service_account = setting(target, "gcp_service_account")
    impersonation = None
    if service_account:
        base = _gcp_url("ENVSYNC_GCP_IAM_CREDENTIALS_URL", GCP_IAM_CREDENTIALS_URL).rstrip("/")
        impersonation = f"{base}/v1/projects/-/serviceAccounts/{service_account}:generateAccessToken"
    # The token's audience: google-github-actions/auth's default, which is also the
    # provider's default allowed audience.
    token_audience = "https://iam.googleapis.com/" + provider_name
    return identity_pool.Credentials(
        audience="//iam.googleapis.com/" + provider_name,
        subject_token_type="urn:ietf:params:oauth:token-type:jwt",
        token_url=token_url,
        subject_token_supplier=_GcpTokenSupplier(target, token_audience),
        service_account_impersonation_url=impersonation,
        scopes=[GCP_SCOPE],
    )


def _gcp_url(variable: str, default: str) -> str:
    """A token-exchange URL override: the ID token goes there, so Google's hosts, loopback or
    an allowance only, like any endpoint."""
    url = os.environ.get(variable, "").strip() or default
    endpoints.check_url(url, where=variable, setting=variable,
                        trusted=lambda host: endpoints.under(host, endpoints.GCP_SUFFIXES))
    return url


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
    if not (tenant and client_id and has_id_token(target)):  # has_id_token refuses a non-JWT token
        return None
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and not _token_at_hand(target):
        return None  # a runner on AKS with workload identity: its token file serves
    from azure.identity import ClientAssertionCredential

    return ClientAssertionCredential(tenant, client_id, lambda: id_token(target, AZURE_AUDIENCE))


def _token_at_hand(target: Target) -> bool:
    return bool(given_token(target) or os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"))


def has_id_token(target: Target) -> bool:
    """Whether this run offers an ID token (GitHub and GitLab jobs always count: if the
    token is missing there, the error should say how to get it)."""
    return bool(given_token(target)) or provider() in (GITHUB, GITLAB)
