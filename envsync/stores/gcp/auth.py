"""GCP credentials: Application Default Credentials, or, with
`gcp_workload_identity_provider`, an `external_account` that trades this CI's OIDC token
(envsync.ci) at Google's STS (and impersonates `gcp_service_account` when set); and the
bearer header for a plaintext channel."""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import grpc

from envsync import ci, endpoints
from envsync.errors import InputError, StoreError

if TYPE_CHECKING:
    from envsync.config import Target

STS_URL = "https://sts.googleapis.com/v1/token"
IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def federated_credentials(target: Target) -> Any | None:
    """`external_account` credentials for the workload identity provider when one is set
    (with service-account impersonation if `gcp_service_account` is set), else None."""
    provider_name = ci.setting(target, "gcp_workload_identity_provider")
    if not provider_name:
        return None
    provider_name = _provider(target, provider_name)
    ci.given_token(target)  # a bad token variable stops here, not inside the first gRPC call
    token_url = _url("ENVSYNC_GCP_TOKEN_URL", STS_URL)
    from google.auth import identity_pool

    service_account = ci.setting(target, "gcp_service_account")
    impersonation = None
    if service_account:
        base = _url("ENVSYNC_GCP_IAM_CREDENTIALS_URL", IAM_CREDENTIALS_URL).rstrip("/")
        impersonation = f"{base}/v1/projects/-/serviceAccounts/{service_account}:generateAccessToken"
    # The token's audience: google-github-actions/auth's default, which is also the
    # provider's default allowed audience.
    token_audience = "https://iam.googleapis.com/" + provider_name
    return identity_pool.Credentials(
        audience="//iam.googleapis.com/" + provider_name,
        subject_token_type="urn:ietf:params:oauth:token-type:jwt",
        token_url=token_url,
        subject_token_supplier=_TokenSupplier(target, token_audience),
        service_account_impersonation_url=impersonation,
        scopes=[SCOPE],
    )


def _url(variable: str, default: str) -> str:
    """A token-exchange URL override: the ID token goes there, so Google's hosts, loopback or
    an allowance only, like any endpoint."""
    url = os.environ.get(variable, "").strip() or default
    endpoints.check_url(url, where=variable, setting=variable,
                        trusted=lambda host: endpoints.under(host, endpoints.GCP_SUFFIXES))
    return url


def _provider(target: Target, value: str) -> str:
    name = value.removeprefix("https:").removeprefix("//iam.googleapis.com/")
    if not re.fullmatch(r"projects/[^/]+/locations/global/workloadIdentityPools/[^/]+/providers/[^/]+", name):
        raise InputError(f"target {target.name}: gcp_workload_identity_provider {value!r} must be "
                         "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER")
    return name


class _TokenSupplier:
    """google-auth's SubjectTokenSupplier shape: the ID token, straight from memory."""

    def __init__(self, target: Target, audience: str) -> None:
        self._target = target
        self._audience = audience

    def get_subject_token(self, context: Any, request: Any) -> str:
        return ci.id_token(self._target, self._audience)


def default_credentials() -> tuple[Any, str | None]:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return google.auth.default(scopes=[SCOPE])
    except DefaultCredentialsError:
        raise StoreError("no Google credentials found — run `gcloud auth application-default login`, or set "
                         "GOOGLE_APPLICATION_CREDENTIALS (a service-account or workload-identity-federation "
                         "JSON file); in CI set gcp_workload_identity_provider") from None


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Credentials on a plaintext channel (an emulator or a local proxy): gRPC attaches call
    credentials only to TLS channels, so add the `authorization` header here; google-auth
    refreshes the token when it is due."""

    def __init__(self, credentials: Any) -> None:
        from google.auth.transport.requests import Request

        self._credentials = credentials
        self._request = Request()

    def intercept_unary_unary(self, continuation, client_call_details, request):
        headers: dict[str, str] = {}
        self._credentials.before_request(self._request, "POST", "", headers)
        metadata = list(client_call_details.metadata or []) + [(k.lower(), v) for k, v in headers.items()]
        return continuation(client_call_details._replace(metadata=metadata), request)


def describe(target: Target, credentials: Any | None) -> str:
    if credentials is None:
        return "anonymous (plaintext emulator endpoint)"
    if ci.setting(target, "gcp_workload_identity_provider"):
        account = ci.setting(target, "gcp_service_account")
        provider = ci.setting(target, "gcp_workload_identity_provider")
        return f"workload identity {provider}" + (f" as {account}" if account else " (direct access)")
    account = getattr(credentials, "service_account_email", None)
    if account and account != "default":
        return f"service account {account}"
    return f"application default credentials ({type(credentials).__module__.rsplit('.', 1)[-1]})"
