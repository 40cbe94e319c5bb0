"""An in-test HTTPS fake of the Azure Key Vault data plane and of Entra ID's token endpoint.

No Key Vault emulator installs here (Lowkey Vault is Java/Docker only), so this module
serves the REST API the real `azure-keyvault-secrets` SDK speaks, over TLS with a
`trustme` CA, on 127.0.0.1 and a free port. It follows the service where EnvSync
depends on it:

- challenge auth: a request without a valid bearer token gets 401 and
  `WWW-Authenticate: Bearer authorization="<authority>/<tenant>", resource="https://vault.azure.net"`;
  tokens come from `POST /{tenant}/oauth2/v2.0/token` (client secret or client
  assertion, as azure-identity sends them) on the same server (`AZURE_AUTHORITY_HOST`);
- `PUT /secrets/{name}` (new version; names `^[0-9a-zA-Z-]{1,127}$`, case-insensitive;
  values up to 25 KiB; at most 15 tags, values up to 256 characters), `GET
  /secrets/{name}[/{version}]`, `PATCH /secrets/{name}/{version}` (attributes, tags,
  content type of that version), `GET /secrets` and `GET /secrets/{name}/versions`
  (25 a page, absolute `nextLink`; versions in no particular order, as the service
  gives no order), `DELETE /secrets/{name}` (soft delete), `GET /deletedsecrets[/{name}]`,
  `DELETE /deletedsecrets/{name}` (purge, 204; 403 under purge protection), `POST
  /deletedsecrets/{name}/recover`;
- a soft-deleted name answers 409 to `PUT` until recovered or purged; a disabled version
  answers 403 to `GET`; times are whole Unix seconds, as the service sends them;
- RBAC: `assign(role)` limits the caller to a built-in role's data actions, answering
  403 `ForbiddenByRbac` otherwise.

Every request is counted (`calls`, by operation), `latency` adds a round trip to each
data-plane request, and the fake records the largest number of value reads it served at
once (`max_parallel_gets`).

Fixtures: `azure_fake_server` (one per session) and `azure_fake` (wiped per test, with
the environment of a workload identity pointed at the fake Entra).
"""
from __future__ import annotations

import collections
import json
import re
import secrets as _secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

TENANT = "7e5a1f00-0000-4000-8000-00000000e5e5"
CLIENT_ID = "c11e0700-0000-4000-8000-0000000c11e7"
CLIENT_SECRET = "fake-client-secret-for-tests"
# A CI job's OIDC token as a workload would find it in AZURE_FEDERATED_TOKEN_FILE (not checked).
FEDERATED_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZXBvOmV4YW1wbGUvYXBwIn0."
PAGE = 25
VALUE_LIMIT = 25 * 1024
NAME = re.compile(r"[0-9a-zA-Z-]{1,127}\Z")
RETENTION_DAYS = 90

# Built-in roles -> the data actions (short names) they allow.
ROLES = {
    "Key Vault Secrets Officer": {"get", "list", "set", "update", "delete", "purge", "recover", "getDeleted",
                                  "listDeleted"},
    "Key Vault Secrets User": {"get", "list"},
    "Key Vault Reader": {"list", "listDeleted"},
    "none": set(),
}
ACTIONS = {
    "get": "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    "list": "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    "set": "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    "update": "Microsoft.KeyVault/vaults/secrets/update/action",
    "delete": "Microsoft.KeyVault/vaults/secrets/delete",
    "purge": "Microsoft.KeyVault/vaults/deletedSecrets/delete",
    "recover": "Microsoft.KeyVault/vaults/deletedSecrets/recover/action",
    "getDeleted": "Microsoft.KeyVault/vaults/deletedSecrets/readMetadata/action",
    "listDeleted": "Microsoft.KeyVault/vaults/deletedSecrets/readMetadata/action",
}
# Variables that would point azure-identity or the SDK somewhere the test did not say.
AZURE_VARIABLES = (
    "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_REGIONAL_AUTHORITY_NAME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET",
    "IMDS_ENDPOINT", "ENVSYNC_AZURE_TENANT_ID", "ENVSYNC_AZURE_CLIENT_ID", "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE", "CURL_CA_BUNDLE", "AZURE_CONFIG_DIR",
)


@dataclass
class Version:
    id: str
    value: str
    content_type: str | None
    tags: dict[str, str]
    enabled: bool
    created: int
    updated: int


@dataclass
class Secret:
    name: str  # as first created; lookups are case-insensitive
    versions: dict[str, Version] = field(default_factory=dict)
    current: str = ""
    deleted_date: int | None = None
    scheduled_purge: int | None = None


class HttpError(Exception):
    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner


class FakeAzure:
    """The fake vault + Entra, on https://127.0.0.1:PORT."""

    def __init__(self, folder: Path) -> None:
        import trustme

        self.ca = trustme.CA()
        cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_path = folder / "fake-azure-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_path))
        self.token_file = folder / "federated-token.jwt"
        self.token_file.write_text(FEDERATED_TOKEN)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._lock = threading.RLock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-azure", daemon=True)
        self._thread.start()
        self.reset()

    # -- test controls ---------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.secrets: dict[str, Secret] = {}
            self.deleted: dict[str, Secret] = {}
            self.tokens: set[str] = set()
            self.calls: collections.Counter[str] = collections.Counter()
            self.token_requests: list[dict[str, str]] = []
            # Entra's check of a federated client assertion: None to accept any, or a
            # function giving the AADSTS error description (tests/fakes/oidc_fake.check_azure_assertion).
            self.assertion_check: Callable[[str], str | None] | None = None
            self.role: str | None = None  # None: every data action allowed
            self.purge_protection = False
            self.latency = 0.0  # seconds added to each data-plane request (a round trip)
            self.in_flight_gets = 0
            self.max_parallel_gets = 0
            # What the 401 challenge names as the token's resource (a hostile vault names another).
            self.challenge_resource = "https://vault.azure.net"

    def assign(self, role: str | None) -> None:
        """Limit the caller to one built-in role's data actions (None: anything)."""
        if role is not None and role not in ROLES:
            raise ValueError(role)
        self.role = role

    def vault_calls(self) -> int:
        """Data-plane requests, the token-less challenge requests included."""
        return sum(n for op, n in self.calls.items() if op != "token")

    def names(self) -> list[str]:
        with self._lock:
            return sorted(s.name for s in self.secrets.values())

    def deleted_names(self) -> list[str]:
        with self._lock:
            return sorted(s.name for s in self.deleted.values())

    def secret(self, name: str) -> Secret | None:
        return self.secrets.get(name.lower())

    def value(self, name: str) -> str | None:
        with self._lock:
            found = self.secrets.get(name.lower())
            return found.versions[found.current].value if found else None

    def tags(self, name: str) -> dict[str, str]:
        with self._lock:
            found = self.secrets.get(name.lower()) or self.deleted.get(name.lower())
            return dict(found.versions[found.current].tags) if found else {}

    def put(self, name: str, value: str, tags: dict[str, str] | None = None, enabled: bool = True) -> str:
        """Write a secret behind the store's back (another tool, the portal)."""
        with self._lock:
            return self._set(name, value, None, dict(tags or {}), enabled).id

    def env(self) -> dict[str, str]:
        """The environment a client needs: a workload identity (federated token file) on the fake
        Entra, and the fake's CA as the bundle.

        DefaultAzureCredential's WorkloadIdentityCredential picks these variables up and sends a
        client assertion to `$AZURE_AUTHORITY_HOST/{tenant}/oauth2/v2.0/token`. (The client-secret
        route, EnvironmentCredential, goes through MSAL, which first asks login.microsoftonline.com
        for instance discovery when the authority is not a known Azure host: no use offline.)"""
        return {
            "AZURE_AUTHORITY_HOST": self.url,
            "AZURE_TENANT_ID": TENANT,
            "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_FEDERATED_TOKEN_FILE": str(self.token_file),
            "REQUESTS_CA_BUNDLE": str(self.ca_path),
            "SSL_CERT_FILE": str(self.ca_path),
        }

    def uri(self, prefix: str = "", layout: str | None = None, **options: str) -> str:
        query = dict(options)
        if layout:
            query["layout"] = layout
        tail = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return f"azure-kv://127.0.0.1:{self.port}" + (f"/{prefix}" if prefix else "") + tail

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- dispatch ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        path = [p for p in parts.path.split("/")]
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        segments = path[1:]
        if method == "POST" and len(segments) == 4 and segments[1:] == ["oauth2", "v2.0", "token"]:
            self.calls["token"] += 1
            return self._token(segments[0], body)
        operation = _operation(method, segments)
        if operation is None:
            return _json(404, {"error": {"code": "NotFound", "message": f"no route {method} {parts.path}"}})
        if "api-version" not in query:
            return _json(400, {"error": {"code": "BadParameter", "message": "api-version is required"}})
        token = headers.get("Authorization", "")
        if not token.startswith("Bearer ") or token[7:] not in self.tokens:
            self.calls["challenge"] += 1
            return 401, {"WWW-Authenticate": f'Bearer authorization="{self.url}/{TENANT}", '
                                              f'resource="{self.challenge_resource}"'}, b""
        self.calls[operation] += 1
        action = operation.split(" ")[0]
        if self.role is not None and action not in ROLES[self.role]:
            return _json(403, {"error": {
                "code": "Forbidden",
                "message": ("Caller is not authorized to perform action on resource.\r\n"
                            "If role assignments, deny assignments or role definitions were changed recently, "
                            "please observe propagation time.\r\n"
                            f"Caller: appid={CLIENT_ID};iss=https://sts.windows.net/{TENANT}/\r\n"
                            f"Action: '{ACTIONS[action]}'\r\n"
                            "Resource: '/subscriptions/0000/resourcegroups/rg/providers/microsoft.keyvault/vaults/fake'"
                            "\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'"),
                "innererror": {"code": "ForbiddenByRbac"}}})
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return _json(400, {"error": {"code": "BadParameter", "message": "invalid JSON"}})
        reading = action == "get"
        if reading:
            with self._lock:
                self.in_flight_gets += 1
                self.max_parallel_gets = max(self.max_parallel_gets, self.in_flight_gets)
        try:
            if self.latency:
                time.sleep(self.latency)  # a network round trip; requests are served in parallel
            with self._lock:
                return self._route(action, segments, query, payload)
        except HttpError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.inner:
                error["innererror"] = {"code": exc.inner}
            return _json(exc.status, {"error": error})
        finally:
            if reading:
                with self._lock:
                    self.in_flight_gets -= 1

    def _route(self, action: str, s: list[str], query: dict[str, str],
               payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if action == "get":
            return _json(200, self._bundle(self._live(s[1]), s[2] if len(s) == 3 else "", value=True))
        if action == "set":
            return _json(200, self._put(s[1], payload))
        if action == "update":
            secret = self._live(s[1])
            version = self._version(secret, s[2] if len(s) > 2 else "")
            if "contentType" in payload:
                version.content_type = payload["contentType"]
            if "tags" in payload:
                version.tags = _check_tags(payload["tags"])
            if "enabled" in payload.get("attributes", {}):
                version.enabled = bool(payload["attributes"]["enabled"])
            version.updated = _now()
            return _json(200, self._bundle(secret, version.id, value=False))
        if action == "list" and s == ["secrets"]:
            items = [self._item(x) for x in sorted(self.secrets.values(), key=lambda x: x.name.lower())]
            return _json(200, self._page(items, "/secrets", query))
        if action == "list":  # versions
            secret = self._live(s[1])
            items = [self._item(secret, v) for v in sorted(secret.versions)]  # no chronological order
            return _json(200, self._page(items, f"/secrets/{secret.name}/versions", query))
        if action == "delete":
            secret = self._live(s[1])
            del self.secrets[secret.name.lower()]
            secret.deleted_date = _now()
            secret.scheduled_purge = secret.deleted_date + RETENTION_DAYS * 86400
            self.deleted[secret.name.lower()] = secret
            return _json(200, self._deleted_bundle(secret))
        if action == "listDeleted":
            items = [self._deleted_item(x) for x in sorted(self.deleted.values(), key=lambda x: x.name.lower())]
            return _json(200, self._page(items, "/deletedsecrets", query))
        if action == "getDeleted":
            return _json(200, self._deleted_bundle(self._gone(s[1])))
        if action == "purge":
            secret = self._gone(s[1])
            if self.purge_protection:
                raise HttpError(403, "Forbidden",
                                f"Operation \"purge\" is not allowed because purge protection is enabled for this "
                                f"vault. Key Vault service will automatically purge it after the retention period "
                                f"has passed.\r\nVault: fake;location=westeurope", "PurgeProtectionEnabled")
            del self.deleted[secret.name.lower()]
            return 204, {}, b""
        if action == "recover":
            secret = self._gone(s[1])
            del self.deleted[secret.name.lower()]
            secret.deleted_date = secret.scheduled_purge = None
            self.secrets[secret.name.lower()] = secret
            return _json(200, self._bundle(secret, "", value=False))
        raise HttpError(404, "NotFound", "no such operation")

    # -- secrets -----------------------------------------------------------------------

    def _put(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        if not NAME.match(name):
            raise HttpError(400, "BadParameter",
                            "The request URI contains an invalid name: " + name)
        value = payload.get("value")
        if not isinstance(value, str):
            raise HttpError(400, "BadParameter", "Property 'value' is required")
        if len(value.encode("utf-8")) > VALUE_LIMIT:
            raise HttpError(400, "BadParameter", "Secret value is too large: the limit is 25 KB")
        if name.lower() in self.deleted:
            raise HttpError(409, "Conflict",
                            f"Secret {name} is currently in a deleted but recoverable state, and its name cannot "
                            "be reused; in this state, the secret can only be recovered or purged.",
                            "ObjectIsDeletedButRecoverable")
        attributes = payload.get("attributes") or {}
        version = self._set(name, value, payload.get("contentType"), _check_tags(payload.get("tags") or {}),
                            attributes.get("enabled", True))
        return self._bundle(self.secrets[name.lower()], version.id, value=True)

    def _set(self, name: str, value: str, content_type: str | None, tags: dict[str, str],
             enabled: bool) -> Version:
        secret = self.secrets.setdefault(name.lower(), Secret(name))
        now = _now()
        version = Version(uuid.uuid4().hex, value, content_type, tags, enabled, now, now)
        secret.versions[version.id] = version
        secret.current = version.id
        return version

    def _live(self, name: str) -> Secret:
        found = self.secrets.get(name.lower())
        if found is None:
            raise HttpError(404, "SecretNotFound",
                            f"A secret with (name/id) {name} was not found in this key vault. If you recently "
                            "deleted this secret you may be able to recover it using the correct recovery command.")
        return found

    def _gone(self, name: str) -> Secret:
        found = self.deleted.get(name.lower())
        if found is None:
            raise HttpError(404, "SecretNotFound", f"Deleted Secret not found: {name}")
        return found

    def _version(self, secret: Secret, version: str) -> Version:
        found = secret.versions.get(version or secret.current)
        if found is None:
            raise HttpError(404, "SecretNotFound",
                            f"A secret with (name/id) {secret.name}/{version} was not found in this key vault.")
        return found

    def _attributes(self, version: Version) -> dict[str, Any]:
        return {"enabled": version.enabled, "created": version.created, "updated": version.updated,
                "recoveryLevel": "Recoverable" if self.purge_protection else "Recoverable+Purgeable",
                "recoverableDays": RETENTION_DAYS}

    def _bundle(self, secret: Secret, version_id: str, *, value: bool) -> dict[str, Any]:
        version = self._version(secret, version_id)
        if value and not version.enabled:
            raise HttpError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
        body: dict[str, Any] = {"id": f"{self.url}/secrets/{secret.name}/{version.id}",
                                "attributes": self._attributes(version), "tags": dict(version.tags)}
        if version.content_type is not None:
            body["contentType"] = version.content_type
        if value:
            body["value"] = version.value
        return body

    def _item(self, secret: Secret, version_id: str | None = None) -> dict[str, Any]:
        version = secret.versions[version_id or secret.current]
        item: dict[str, Any] = {
            "id": f"{self.url}/secrets/{secret.name}" + (f"/{version.id}" if version_id else ""),
            "attributes": self._attributes(version), "tags": dict(version.tags)}
        if version.content_type is not None:
            item["contentType"] = version.content_type
        return item

    def _deleted_bundle(self, secret: Secret) -> dict[str, Any]:
        body = self._bundle(secret, "", value=False)
        body.update(recoveryId=f"{self.url}/deletedsecrets/{secret.name}", deletedDate=secret.deleted_date,
                    scheduledPurgeDate=secret.scheduled_purge)
        return body

    def _deleted_item(self, secret: Secret) -> dict[str, Any]:
        item = self._item(secret)
        item.update(recoveryId=f"{self.url}/deletedsecrets/{secret.name}", deletedDate=secret.deleted_date,
                    scheduledPurgeDate=secret.scheduled_purge)
        return item

    def _page(self, items: list[dict[str, Any]], path: str, query: dict[str, str]) -> dict[str, Any]:
        size = min(int(query.get("maxresults") or PAGE), PAGE)
        start = int(query.get("$skiptoken") or 0)
        end = start + size
        next_link = (f"{self.url}{path}?api-version={query['api-version']}&$skiptoken={end}&maxresults={size}"
                     if end < len(items) else None)
        return {"value": items[start:end], "nextLink": next_link}

    # -- Entra ---------------------------------------------------------------------------

    def _token(self, tenant: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
        with self._lock:
            self.token_requests.append({"tenant": tenant, "grant_type": form.get("grant_type", ""),
                                        "client_id": form.get("client_id", ""), "scope": form.get("scope", ""),
                                        "kind": "assertion" if "client_assertion" in form else "secret"})
        if tenant != TENANT:
            return _json(400, {"error": "invalid_request",
                               "error_description": f"AADSTS90002: Tenant '{tenant}' not found."})
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return _json(400, {"error": "unauthorized_client",
                               "error_description": "AADSTS700016: Application not found in the directory."})
        if "client_assertion" in form:
            if not form["client_assertion"].strip():
                return _json(401, {"error": "invalid_client", "error_description": "AADSTS50027: empty assertion"})
            problem = self.assertion_check(form["client_assertion"]) if self.assertion_check else None
            if problem:
                return _json(400, {"error": "invalid_client", "error_description": problem})
        elif form.get("client_secret") != CLIENT_SECRET:
            return _json(401, {"error": "invalid_client",
                               "error_description": "AADSTS7000215: Invalid client secret provided."})
        token = "fake-" + _secrets.token_hex(16)
        with self._lock:
            self.tokens.add(token)
        return _json(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                           "access_token": token})


def _operation(method: str, s: list[str]) -> str | None:
    """`action route` for a data-plane request, or None if it is not one."""
    if s and s[0] == "secrets":
        if len(s) == 1 and method == "GET":
            return "list /secrets"
        if len(s) == 2 and method == "PUT":
            return "set /secrets/{name}"
        if len(s) == 2 and method == "DELETE":
            return "delete /secrets/{name}"
        if len(s) in (2, 3) and method == "GET" and (len(s) == 2 or s[2] != "versions"):
            return "get /secrets/{name}/{version}"
        if len(s) == 3 and s[2] == "versions" and method == "GET":
            return "list /secrets/{name}/versions"
        if len(s) in (2, 3) and method == "PATCH":
            return "update /secrets/{name}/{version}"
    if s and s[0] == "deletedsecrets":
        if len(s) == 1 and method == "GET":
            return "listDeleted /deletedsecrets"
        if len(s) == 2 and method == "GET":
            return "getDeleted /deletedsecrets/{name}"
        if len(s) == 2 and method == "DELETE":
            return "purge /deletedsecrets/{name}"
        if len(s) == 3 and s[2] == "recover" and method == "POST":
            return "recover /deletedsecrets/{name}/recover"
    return None


def _check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict) or len(tags) > 15:
        raise HttpError(400, "BadParameter", "A secret can have at most 15 tags")
    for name, value in tags.items():
        if not isinstance(value, str) or len(name) > 512 or len(value) > 256:
            raise HttpError(400, "BadParameter", f"Tag {name!r}: names are at most 512 characters, values 256")
    return dict(tags)


def _now() -> int:
    return int(time.time())


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    fake: FakeAzure

    def get_request(self):  # type: ignore[no-untyped-def]
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass  # a client that hangs up (or fails the TLS handshake) is not the test's business


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, payload = self.server.fake.handle(self.command, self.path, self.headers, body)
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(payload)}",
                 "x-ms-keyvault-service-version: 1.9.0.0", "x-ms-request-id: " + str(uuid.uuid4())]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        # one write for headers and body: no Nagle/delayed-ACK stall between them
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        self.wfile.flush()

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def azure_fake_server(tmp_path_factory: pytest.TempPathFactory):
    """One fake vault + Entra for the session; tests use `azure_fake`, which wipes it."""
    fake = FakeAzure(tmp_path_factory.mktemp("fake-azure"))
    yield fake
    fake.stop()


@pytest.fixture
def azure_fake(azure_fake_server: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """The fake, empty, and this process's environment pointed at it: a workload identity
    (DefaultAzureCredential's WorkloadIdentityCredential) on the fake Entra, its CA as the bundle."""
    azure_fake_server.reset()
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in azure_fake_server.env().items():
        monkeypatch.setenv(name, value)
    return azure_fake_server
