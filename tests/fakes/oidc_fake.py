"""Local fakes of the OIDC side of CI federation, for the CI kit's end-to-end tests.

- `mint` / `verify`: ID tokens as JWTs (HS256 with a test key, so the fakes that consume
  them can check signature, issuer, audience and expiry as the real token exchanges do).
- `GitHubOidcServer`: GitHub Actions' token endpoint. The runner gives a job that has
  `permissions: id-token: write` two variables, `ACTIONS_ID_TOKEN_REQUEST_URL` (a URL that
  already carries a query string) and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the job sends
  `GET $URL&audience=AUD` with `Authorization: Bearer $TOKEN` and gets `{"value": jwt}`.
  A wrong request token gets 401, as on GitHub.
- `GcpStsServer`: Google's Security Token Service (`POST /v1/token`, RFC 8693 token
  exchange as google-auth's `external_account` credentials send it) and the IAM
  Credentials API's `generateAccessToken` (service-account impersonation). The STS checks
  that the subject token's audience is the workload identity provider's resource name.
- `check_web_identity`: the check AWS STS makes of `AssumeRoleWithWebIdentity` (moto makes
  none), for `AwsErrorProxy(check=...)` in tests/fakes/aws_server.py.
- `federated_aws`: moto enforcing IAM with a CI role (and a read-only one) behind a proxy
  that makes `check_web_identity`'s checks.
- `check_azure_assertion`: the check Entra makes of a federated client assertion, for the
  Azure fake's `assertion_check` hook.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

KEY = b"envsync-test-oidc-signing-key"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.example.com"
AWS_AUDIENCE = "sts.amazonaws.com"
AZURE_AUDIENCE = "api://AzureADTokenExchange"
GCP_PROVIDER = "projects/123456789/locations/global/workloadIdentityPools/ci/providers/github"
GCP_AUDIENCE = "//iam.googleapis.com/" + GCP_PROVIDER
GCP_SERVICE_ACCOUNT = "envsync-ci@envsync-test.iam.gserviceaccount.com"
SUBJECT = "repo:acme/app:ref:refs/heads/main"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(audience: str, issuer: str = GITHUB_ISSUER, subject: str = SUBJECT, ttl: int = 300) -> str:
    now = int(time.time())
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test"}).encode())
    claims = _b64(json.dumps({"iss": issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now,
                              "exp": now + ttl, "jti": secrets.token_hex(8)}).encode())
    signature = hmac.new(KEY, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signature)}"


def verify(token: str, audience: str, issuers: tuple[str, ...] = (GITHUB_ISSUER, GITLAB_ISSUER)) -> str | None:
    """None when the token is good for `audience`, else why not (in the exchange's words)."""
    try:
        header, claims, signature = token.split(".")
        expected = hmac.new(KEY, f"{header}.{claims}".encode(), hashlib.sha256).digest()
        payload = json.loads(_unb64(claims))
        good_signature = hmac.compare_digest(_unb64(signature), expected)
    except (ValueError, UnicodeDecodeError):
        return "the token is not a JWT"
    if not good_signature:
        return "the token's signature does not verify"
    if payload.get("iss") not in issuers:
        return f"unknown issuer {payload.get('iss')!r}"
    if payload.get("aud") != audience:
        return f"incorrect token audience {payload.get('aud')!r}"
    if payload.get("exp", 0) < time.time():
        return "the token has expired"
    return None


class _JsonServer:
    """A threading HTTP server on 127.0.0.1 whose handler is `self.handle(method, path, headers, body)`."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = owner.handle(self.command, self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815 - http.server's naming

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        self.requests: list[dict[str, str]] = []

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class GitHubOidcServer(_JsonServer):
    def __init__(self) -> None:
        super().__init__()
        self.request_token = "ghs-request-" + secrets.token_hex(8)

    def env(self) -> dict[str, str]:
        """What the runner gives a job with `permissions: id-token: write`."""
        return {"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/_apis/token?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token}

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        url = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.requests.append({"method": method, "path": url.path, "audience": query.get("audience", "")})
        if method != "GET" or url.path != "/_apis/token":
            return 404, {"message": "Not Found"}
        if headers.get("Authorization", "") != f"Bearer {self.request_token}":
            return 401, {"message": "Bad credentials"}
        return 200, {"count": 1, "value": mint(query.get("audience") or "https://github.com/acme")}


class GcpStsServer(_JsonServer):
    """Google's STS and IAM Credentials, as far as `external_account` credentials use them."""

    def __init__(self, audience: str = GCP_AUDIENCE) -> None:
        super().__init__()
        self.audience = audience
        self.federated: set[str] = set()  # tokens the STS issued
        self.impersonated: set[str] = set()  # tokens generateAccessToken issued

    def env(self) -> dict[str, str]:
        return {"ENVSYNC_GCP_TOKEN_URL": f"{self.url}/v1/token",
                "ENVSYNC_GCP_IAM_CREDENTIALS_URL": self.url}

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        self.requests.append({"method": method, "path": path})
        if method == "POST" and path == "/v1/token":
            return self._exchange({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        if method == "POST" and path.endswith(":generateAccessToken"):
            return self._impersonate(path, headers.get("Authorization", ""))
        return 404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}}

    def _exchange(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type is invalid"}
        if form.get("audience") != self.audience:
            return 400, {"error": "invalid_target", "error_description":
                         "The target service indicated by the \"audience\" parameters is invalid."}
        # The provider's default allowed audience: its resource name as an https URL.
        problem = verify(form.get("subject_token", ""), "https:" + self.audience)
        if problem:
            return 400, {"error": "invalid_grant", "error_description": f"The audience in ID Token [{problem}]"
                         " does not match the expected audience." if "audience" in problem else problem}
        token = "ya29.fed-" + secrets.token_hex(12)
        self.federated.add(token)
        return 200, {"access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                     "token_type": "Bearer", "expires_in": 3600}

    def _impersonate(self, path: str, authorization: str) -> tuple[int, Any]:
        if authorization.removeprefix("Bearer ") not in self.federated:
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                   "status": "UNAUTHENTICATED"}}
        if f"/serviceAccounts/{GCP_SERVICE_ACCOUNT}:" not in path:
            return 403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                   "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                                   "(or it may not exist)."}}
        token = "ya29.sa-" + secrets.token_hex(12)
        self.impersonated.add(token)
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return 200, {"accessToken": token, "expireTime": expiry}


def check_web_identity(body: bytes) -> tuple[str, str] | None:
    """What AWS STS says of an AssumeRoleWithWebIdentity request: None when the token is
    good for the `sts.amazonaws.com` audience, else (error code, message)."""
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if form.get("Action") != "AssumeRoleWithWebIdentity":
        return None
    problem = verify(form.get("WebIdentityToken", ""), AWS_AUDIENCE)
    if problem is None:
        return None
    if "audience" in problem:
        return "InvalidIdentityToken", "Incorrect token audience"
    return "InvalidIdentityToken", f"Couldn't verify the web identity token: {problem}"


ROLE = "arn:aws:iam::123456789012:role/envsync-ci"
READER_ROLE = "arn:aws:iam::123456789012:role/envsync-reader"
_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}}]}
_POLICIES = {
    "envsync-ci": ["secretsmanager:*"],
    "envsync-reader": ["secretsmanager:ListSecrets", "secretsmanager:BatchGetSecretValue",
                       "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
}


@contextlib.contextmanager
def federated_aws() -> Iterator[Any]:
    """moto enforcing IAM after its set-up calls (the roles ROLE, which may do anything with
    secrets, and READER_ROLE, which may only read), behind an `AwsErrorProxy` that checks
    AssumeRoleWithWebIdentity tokens as AWS STS does (moto does not). Yields the proxy."""
    import boto3

    from tests.fakes.aws_server import AwsErrorProxy, IamMotoServer

    server = IamMotoServer(free_requests=2 * len(_POLICIES))
    proxy = None
    try:
        iam = boto3.client("iam", region_name="us-east-1", endpoint_url=server.endpoint,
                           aws_access_key_id="setup", aws_secret_access_key="setup")
        for role, actions in _POLICIES.items():
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(_TRUST))
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
            iam.put_role_policy(RoleName=role, PolicyName="secrets", PolicyDocument=json.dumps(policy))
        proxy = AwsErrorProxy(server.endpoint, check=check_web_identity)
        yield proxy
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


def check_azure_assertion(assertion: str) -> str | None:
    """Entra's check of a federated credential: None, or the AADSTS error description."""
    problem = verify(assertion, AZURE_AUDIENCE)
    if problem is None:
        return None
    if "audience" in problem:
        return ("AADSTS700212: No matching federated identity record found for presented assertion "
                f"audience. ({problem})")
    return f"AADSTS700211: No matching federated identity record found for presented assertion. ({problem})"


# -- fixtures ---------------------------------------------------------------------------


def _session_server(factory: Callable[[], _JsonServer]) -> Iterator[_JsonServer]:
    server = factory()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def github_oidc_server() -> Iterator[GitHubOidcServer]:
    yield from _session_server(GitHubOidcServer)  # type: ignore[misc]


@pytest.fixture
def github_oidc(github_oidc_server: GitHubOidcServer) -> GitHubOidcServer:
    github_oidc_server.requests.clear()
    return github_oidc_server


@pytest.fixture(scope="session")
def gcp_sts_server() -> Iterator[GcpStsServer]:
    yield from _session_server(GcpStsServer)  # type: ignore[misc]


@pytest.fixture
def gcp_sts(gcp_sts_server: GcpStsServer) -> GcpStsServer:
    gcp_sts_server.requests.clear()
    gcp_sts_server.federated.clear()
    gcp_sts_server.impersonated.clear()
    return gcp_sts_server
