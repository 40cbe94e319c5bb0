"""An in-test fake of GCP Secret Manager (google.cloud.secretmanager.v1) over real gRPC.

No emulator for Secret Manager exists (TESTING-NOTES.md), so this module serves the
service's wire protocol itself: a `grpc.server` with `grpc.method_handlers_generic_handler`
whose handlers (de)serialise with the client package's own proto-plus message types
(`XRequest.deserialize`, `XResponse.serialize`) — no protoc, no generated stubs. The
official client talks to it through a plaintext channel, exactly as EnvSync does with
`endpoint=HOST:PORT&insecure=true`.

What it does as GCP does (checked against GCP's documentation and observed behaviour):

- secret ids `[A-Za-z0-9_-]{1,255}`; label and annotation rules; names in responses carry
  the project *number*, requests may use the id or the number;
- Create/Get/Update (update_mask required: labels, annotations, version_aliases)/Delete
  secret; an etag given on update or delete must match, else ABORTED; ALREADY_EXISTS,
  NOT_FOUND with GCP's messages;
- ListSecrets sorted by name, filter terms `name:SUBSTRING` (`*` wildcard),
  `labels.KEY=VALUE`, `labels.KEY:*` joined by spaces or AND; paging with
  page_size/page_token (capped at 25,000);
- AddSecretVersion: versions numbered 1, 2, 3… per secret; empty payload and payloads over
  64 KiB are INVALID_ARGUMENT; a `data_crc32c` sent with the payload is checked;
- Access/Get version by number, alias or `latest` (the highest number *whatever its
  state* — accessing a disabled or destroyed latest fails with FAILED_PRECONDITION,
  as on GCP); access returns the payload with its crc32c;
- List versions (newest first, paged), Enable/Disable/Destroy (etag checked; DESTROYED is
  terminal: enable/disable of a destroyed version is FAILED_PRECONDITION).

Test hooks: `require_bearer()` (UNAUTHENTICATED unless a call carries one of the given
OAuth bearer tokens; `bearers` lists those presented), `deny()` (PERMISSION_DENIED in GCP's wording, naming permission and
resource), `fail()` (any status code for the next N calls of a method), `delay()`,
`corrupt()` (wrong crc32c on access), `calls` (a per-method counter) and `reset()`.

Fixtures: `gcp_server` (session: started once on 127.0.0.1 and a free port) and
`gcp_fake` (per test: state wiped, GCP environment variables cleared). Import both into
a test module: `
Run as a script (`python -m tests.fakes.gcp_fake`) it serves from its own process, prints its
port, and answers `calls`, `reset-calls`, `reset` and `latency SECONDS` lines on stdin
(the benchmark uses it).
"""
from __future__ import annotations

import base64
import collections
import fnmatch
import functools
import hashlib
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import grpc
import pytest
from google.cloud.secretmanager_v1.types import resources, service
from google.protobuf import timestamp_pb2

SERVICE = "google.cloud.secretmanager.v1.SecretManagerService"
PROJECT = "envsync-test"
MAX_PAYLOAD = 65_536
MAX_PAGE = 25_000
SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")
LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}\Z")
ANNOTATION_KEY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?\Z")
ENABLED = resources.SecretVersion.State.ENABLED
DISABLED = resources.SecretVersion.State.DISABLED
DESTROYED = resources.SecretVersion.State.DESTROYED
# Variables that would point the Google client libraries somewhere else than a test says.
GCP_VARIABLES = (
    "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_API_USE_CLIENT_CERTIFICATE", "GOOGLE_API_USE_MTLS_ENDPOINT", "GOOGLE_CLOUD_UNIVERSE_DOMAIN",
)

PERMISSIONS = {
    "ListSecrets": "secretmanager.secrets.list",
    "CreateSecret": "secretmanager.secrets.create",
    "GetSecret": "secretmanager.secrets.get",
    "UpdateSecret": "secretmanager.secrets.update",
    "DeleteSecret": "secretmanager.secrets.delete",
    "AddSecretVersion": "secretmanager.versions.add",
    "GetSecretVersion": "secretmanager.versions.get",
    "AccessSecretVersion": "secretmanager.versions.access",
    "ListSecretVersions": "secretmanager.versions.list",
    "EnableSecretVersion": "secretmanager.versions.enable",
    "DisableSecretVersion": "secretmanager.versions.disable",
    "DestroySecretVersion": "secretmanager.versions.destroy",
}


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bit by bit: deliberately not the store's table-driven code."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


class Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Version:
    number: int
    data: bytes
    checksum: int
    created: float
    client_checksum: bool
    state: Any = ENABLED
    destroyed: float | None = None
    etag: str = ""


@dataclass
class Secret:
    project: str
    secret_id: str
    created: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    replication: Any = None
    etag: str = ""
    versions: dict[int, Version] = field(default_factory=dict)
    next_version: int = 1


@dataclass
class Fault:
    method: str
    code: grpc.StatusCode
    message: str
    times: int


class FakeSecretManager:
    """The fake service: state, hooks, and a gRPC server on 127.0.0.1."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._secrets: dict[tuple[str, str], Secret] = {}
        self._numbers: dict[str, str] = {}  # project number -> id, for every project named by id
        self._etags = 0
        self._clock = 0.0
        self.calls: collections.Counter[str] = collections.Counter()
        self.log: list[tuple[str, str]] = []  # (method, resource name) in the order served
        self.peak: collections.Counter[str] = collections.Counter()  # most calls of a method in flight at once
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._denied: list[tuple[str, str]] = []
        self._bearer_tokens: set[str] | None = None
        self.bearers: list[str] = []  # bearer tokens presented, in order
        self._faults: list[Fault] = []
        self._delays: dict[str, float] = {}
        self.latency = 0.0  # seconds added to every call, outside the state lock (a network round trip)
        self._corrupt: set[str] = set()
        self._server: grpc.Server | None = None
        self.port = 0

    # -- lifecycle and hooks ---------------------------------------------------

    def start(self) -> "FakeSecretManager":
        handlers = {method: grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler), request_deserializer=request.deserialize,
            response_serializer=response.serialize if response else (lambda _: b""))
            for method, (handler, request, response) in self._methods().items()}
        self._server = grpc.server(ThreadPoolExecutor(max_workers=32, thread_name_prefix="gcp-fake"))
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=None)
            self._server = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget every secret, hook and count."""
        with self._lock:
            self._secrets.clear()
            self._denied.clear()
            self._bearer_tokens = None
            self.bearers.clear()
            self._faults.clear()
            self._delays.clear()
            self._corrupt.clear()
            self.calls.clear()
            self.log.clear()
            self.peak.clear()
            self.latency = 0.0

    def deny(self, method: str, resource: str = "") -> None:
        """PERMISSION_DENIED for `method` on every resource whose name contains `resource`."""
        with self._lock:
            self._denied.append((method, resource))

    def fail(self, method: str, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, times: int = 1,
             message: str = "The service is currently unavailable.") -> None:
        """Answer the next `times` calls of `method` with `code` (times=-1: every call)."""
        with self._lock:
            self._faults.append(Fault(method, code, message, times))

    def delay(self, method: str, seconds: float) -> None:
        with self._lock:
            self._delays[method] = seconds

    def corrupt(self, secret_id: str) -> None:
        """Access of this secret's versions returns a payload whose crc32c does not match."""
        with self._lock:
            self._corrupt.add(secret_id)

    def total_calls(self) -> int:
        return sum(self.calls.values())

    def uri(self, prefix: str = "", layout: str | None = None, project: str = PROJECT, **options: str) -> str:
        """A store URI on this fake (plaintext channel, anonymous credentials)."""
        query = {"endpoint": self.endpoint, "insecure": "true"}
        if layout:
            query["layout"] = layout
        query.update(options)
        location = f"{project}/{prefix}" if prefix else project
        return f"gcp-sm://{location}?" + "&".join(f"{k}={v}" for k, v in query.items())

    def client(self):
        """The official client on this fake, to look behind a store's back."""
        from google.cloud import secretmanager_v1
        from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
            SecretManagerServiceGrpcTransport,
        )

        transport = SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(self.endpoint))
        return secretmanager_v1.SecretManagerServiceClient(transport=transport)

    # -- direct set-up and inspection (no RPC, not counted) ----------------------------

    def put(self, secret_id: str, *values: bytes, labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None, project: str = PROJECT) -> Secret:
        """Create a secret with versions as another tool would have (set-up for large tests)."""
        with self._lock:
            self._project(project)
            secret = Secret(project, secret_id, self._now(), dict(labels or {}), dict(annotations or {}),
                            etag=self._etag())
            for data in values:
                secret.versions[secret.next_version] = Version(secret.next_version, data, crc32c(data), self._now(),
                                                               True, etag=self._etag())
                secret.next_version += 1
            self._secrets[(project, secret_id)] = secret
            return secret

    def secret_ids(self, project: str = PROJECT) -> list[str]:
        with self._lock:
            return sorted(s.secret_id for (p, _), s in self._secrets.items() if p == project)

    def secret(self, secret_id: str, project: str = PROJECT) -> Secret | None:
        with self._lock:
            return self._secrets.get((project, secret_id))

    # -- plumbing --------------------------------------------------------------------

    @staticmethod
    @functools.lru_cache(maxsize=None)
    def project_number(project: str) -> str:
        if project.isdigit():
            return project
        return str(100_000_000_000 + int(hashlib.sha256(project.encode()).hexdigest()[:8], 16))

    def _project(self, value: str) -> str:
        """Requests may name a project by id or number; state is kept by id."""
        if not value.isdigit():
            self._numbers.setdefault(self.project_number(value), value)
            return value
        return self._numbers.get(value, value)

    def _now(self) -> float:
        with self._lock:  # strictly increasing, so history order is total
            self._clock = max(time.time(), self._clock + 1e-6)
            return self._clock

    def _etag(self) -> str:
        with self._lock:
            self._etags += 1
            return f'"{self._etags:016x}"'

    def _wrap(self, method: str, handler: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def call(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:
                self.calls[method] += 1
                self.log.append((method, getattr(request, "name", "") or getattr(request, "parent", "")))
                self._in_flight[method] += 1
                self.peak[method] = max(self.peak[method], self._in_flight[method])
                delay = self._delays.get(method, 0.0) + self.latency
                fault = next((f for f in self._faults if f.method == method and f.times != 0), None)
                if fault is not None and fault.times > 0:
                    fault.times -= 1
            try:
                if delay:
                    time.sleep(delay)
                if fault is not None:
                    context.abort(fault.code, fault.message)
                self._authenticate(context)
                self._authorize(method, request)
                with self._lock:
                    return handler(request)
            except Abort as exc:
                context.abort(exc.code, exc.message)
            finally:
                with self._lock:
                    self._in_flight[method] -= 1

        return call

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        """With `require_bearer` set, every call must carry one of those bearer tokens."""
        metadata = dict(context.invocation_metadata() or ())
        presented = metadata.get("authorization", "")
        with self._lock:
            if presented:
                self.bearers.append(presented.removeprefix("Bearer "))
            wanted = self._bearer_tokens
        if wanted is not None and presented.removeprefix("Bearer ") not in wanted:
            raise Abort(grpc.StatusCode.UNAUTHENTICATED,
                        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                        "or other valid authentication credential.")

    def require_bearer(self, tokens: set[str] | None) -> None:
        """Accept only calls with one of these bearer tokens (a live set: tokens added later count)."""
        with self._lock:
            self._bearer_tokens = tokens

    def _authorize(self, method: str, request: Any) -> None:
        resource = self._resource(method, request)
        with self._lock:
            denied = any(m == method and r in resource for m, r in self._denied)
        if denied:
            raise Abort(grpc.StatusCode.PERMISSION_DENIED,
                        f"Permission '{PERMISSIONS[method]}' denied for resource '{resource}' (or it may not exist).")

    @staticmethod
    def _resource(method: str, request: Any) -> str:
        if method in ("ListSecrets", "CreateSecret"):
            return request.parent if method == "ListSecrets" else f"{request.parent}/secrets/{request.secret_id}"
        if method == "UpdateSecret":
            return request.secret.name
        if method in ("AddSecretVersion", "ListSecretVersions"):
            return request.parent
        return request.name

    def _methods(self) -> dict[str, tuple[Callable[[Any], Any], Any, Any]]:
        return {
            "ListSecrets": (self.list_secrets, service.ListSecretsRequest, service.ListSecretsResponse),
            "CreateSecret": (self.create_secret, service.CreateSecretRequest, resources.Secret),
            "GetSecret": (self.get_secret, service.GetSecretRequest, resources.Secret),
            "UpdateSecret": (self.update_secret, service.UpdateSecretRequest, resources.Secret),
            "DeleteSecret": (self.delete_secret, service.DeleteSecretRequest, None),
            "AddSecretVersion": (self.add_secret_version, service.AddSecretVersionRequest, resources.SecretVersion),
            "GetSecretVersion": (self.get_secret_version, service.GetSecretVersionRequest, resources.SecretVersion),
            "AccessSecretVersion": (self.access_secret_version, service.AccessSecretVersionRequest,
                                    service.AccessSecretVersionResponse),
            "ListSecretVersions": (self.list_secret_versions, service.ListSecretVersionsRequest,
                                   service.ListSecretVersionsResponse),
            "EnableSecretVersion": (lambda r: self._set_state(r, ENABLED), service.EnableSecretVersionRequest,
                                    resources.SecretVersion),
            "DisableSecretVersion": (lambda r: self._set_state(r, DISABLED), service.DisableSecretVersionRequest,
                                     resources.SecretVersion),
            "DestroySecretVersion": (self.destroy_secret_version, service.DestroySecretVersionRequest,
                                     resources.SecretVersion),
        }

    # -- names and messages --------------------------------------------------------

    def _parent(self, parent: str) -> str:
        match = re.fullmatch(r"projects/([^/]+)", parent)
        if not match:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid resource field value in the request: {parent!r}")
        return self._project(match.group(1))

    def _secret_key(self, name: str) -> tuple[str, str]:
        match = re.fullmatch(r"projects/([^/]+)/secrets/([^/]+)", name)
        if not match:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid resource field value in the request: {name!r}")
        return self._project(match.group(1)), match.group(2)

    def _lookup(self, name: str) -> Secret:
        key = self._secret_key(name)
        secret = self._secrets.get(key)
        if secret is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Secret [{self._name(*key)}] not found.")
        return secret

    def _name(self, project: str, secret_id: str) -> str:
        return f"projects/{self.project_number(project)}/secrets/{secret_id}"

    def _version(self, name: str) -> tuple[Secret, Version]:
        match = re.fullmatch(r"(projects/[^/]+/secrets/[^/]+)/versions/([^/]+)", name)
        if not match:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid resource field value in the request: {name!r}")
        key = self._secret_key(match.group(1))
        secret = self._secrets.get(key)
        wanted = match.group(2)
        if secret is None or (wanted == "latest" and not secret.versions):
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Secret [{self._name(*key)}] not found or has no versions.")
        if wanted == "latest":
            number = max(secret.versions)
        elif wanted in secret.aliases:
            number = secret.aliases[wanted]
        elif re.fullmatch(r"[1-9][0-9]{0,18}", wanted):
            number = int(wanted)
        else:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{self._name(*key)}/versions/{wanted}] not found.")
        version = secret.versions.get(number)
        if version is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Secret Version [{self._name(*key)}/versions/{number}] not found.")
        return secret, version

    def _secret_message(self, secret: Secret) -> resources.Secret:
        return resources.Secret(
            name=self._name(secret.project, secret.secret_id), replication=secret.replication,
            create_time=_timestamp(secret.created), labels=secret.labels, annotations=secret.annotations,
            version_aliases=secret.aliases, etag=secret.etag)

    def _version_message(self, secret: Secret, version: Version) -> resources.SecretVersion:
        message = resources.SecretVersion(
            name=f"{self._name(secret.project, secret.secret_id)}/versions/{version.number}",
            create_time=_timestamp(version.created), state=version.state, etag=version.etag,
            client_specified_payload_checksum=version.client_checksum)
        if version.destroyed is not None:
            message.destroy_time = _timestamp(version.destroyed)
        return message

    @staticmethod
    def _check_labels(labels: dict[str, str]) -> None:
        if len(labels) > 64:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "No more than 64 labels can be assigned to a given resource.")
        for key, value in labels.items():
            if not LABEL_KEY.match(key) or not LABEL_VALUE.match(value):
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT,
                            f"Invalid label: {key!r}={value!r} — label keys and values are lowercase letters, "
                            "digits, '_' and '-', at most 63 characters.")

    @staticmethod
    def _check_annotations(annotations: dict[str, str]) -> None:
        size = 0
        for key, value in annotations.items():
            if not ANNOTATION_KEY.match(key):
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid annotation key: {key!r}")
            size += len(key.encode()) + len(value.encode())
        if size >= 16_384:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "The total size of annotations must be less than 16KiB.")

    # -- secrets ----------------------------------------------------------------------

    def create_secret(self, request: Any) -> resources.Secret:
        project = self._parent(request.parent)
        if not SECRET_ID.match(request.secret_id):
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT,
                        f"Invalid secret_id {request.secret_id!r}: up to 255 letters, digits, '_' and '-'.")
        if (project, request.secret_id) in self._secrets:
            raise Abort(grpc.StatusCode.ALREADY_EXISTS,
                        f"Secret [{self._name(project, request.secret_id)}] already exists.")
        labels, annotations = dict(request.secret.labels), dict(request.secret.annotations)
        self._check_labels(labels)
        self._check_annotations(annotations)
        secret = Secret(project, request.secret_id, self._now(), labels, annotations,
                        dict(request.secret.version_aliases), request.secret.replication, self._etag())
        self._secrets[(project, request.secret_id)] = secret
        return self._secret_message(secret)

    def get_secret(self, request: Any) -> resources.Secret:
        return self._secret_message(self._lookup(request.name))

    def update_secret(self, request: Any) -> resources.Secret:
        secret = self._lookup(request.secret.name)
        paths = list(request.update_mask.paths)
        if not paths:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "update_mask is required.")
        if request.secret.etag and request.secret.etag != secret.etag:
            raise Abort(grpc.StatusCode.ABORTED,
                        f"The etag provided ({request.secret.etag}) does not match the etag of the "
                        f"Secret [{self._name(secret.project, secret.secret_id)}] ({secret.etag}).")
        changes: dict[str, Any] = {}
        for path in paths:
            if path == "labels":
                changes["labels"] = dict(request.secret.labels)
                self._check_labels(changes["labels"])
            elif path == "annotations":
                changes["annotations"] = dict(request.secret.annotations)
                self._check_annotations(changes["annotations"])
            elif path == "version_aliases":
                changes["aliases"] = dict(request.secret.version_aliases)
            else:
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"update_mask path {path!r} is not supported here.")
        for name, value in changes.items():
            setattr(secret, name, value)
        secret.etag = self._etag()
        return self._secret_message(secret)

    def delete_secret(self, request: Any) -> None:
        secret = self._lookup(request.name)
        if request.etag and request.etag != secret.etag:
            raise Abort(grpc.StatusCode.ABORTED,
                        f"The etag provided ({request.etag}) does not match the etag of the "
                        f"Secret [{self._name(secret.project, secret.secret_id)}] ({secret.etag}).")
        del self._secrets[(secret.project, secret.secret_id)]

    def list_secrets(self, request: Any) -> service.ListSecretsResponse:
        project = self._parent(request.parent)
        match = _secret_filter(request.filter)
        found = sorted((s for (p, _), s in self._secrets.items() if p == project and match(s)),
                       key=lambda s: s.secret_id)
        page, token = _page(found, request.page_size, request.page_token, lambda s: s.secret_id)
        return service.ListSecretsResponse(secrets=[self._secret_message(s) for s in page],
                                           next_page_token=token, total_size=len(found))

    # -- versions ---------------------------------------------------------------------

    def add_secret_version(self, request: Any) -> resources.SecretVersion:
        secret = self._lookup(request.parent)
        data = request.payload.data
        if not data:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "Secret Payload cannot be empty.")
        if len(data) > MAX_PAYLOAD:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT,
                        f"Secret payload is {len(data)} bytes; the limit is {MAX_PAYLOAD} bytes (64 KiB).")
        checksum = crc32c(data)
        given = "data_crc32c" in request.payload
        if given and request.payload.data_crc32c != checksum:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT,
                        "The checksum of the payload does not match the data_crc32c provided; the payload "
                        "may have been corrupted in transit.")
        version = Version(secret.next_version, data, checksum, self._now(), given, etag=self._etag())
        secret.versions[version.number] = version
        secret.next_version += 1
        return self._version_message(secret, version)

    def get_secret_version(self, request: Any) -> resources.SecretVersion:
        return self._version_message(*self._version(request.name))

    def access_secret_version(self, request: Any) -> service.AccessSecretVersionResponse:
        secret, version = self._version(request.name)
        name = f"{self._name(secret.project, secret.secret_id)}/versions/{version.number}"
        if version.state != ENABLED:
            raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                        f"Secret Version [{name}] is in {version.state.name} state.")
        checksum = version.checksum ^ 0x5A5A if secret.secret_id in self._corrupt else version.checksum
        return service.AccessSecretVersionResponse(
            name=name, payload=resources.SecretPayload(data=version.data, data_crc32c=checksum))

    def list_secret_versions(self, request: Any) -> service.ListSecretVersionsResponse:
        secret = self._lookup(request.parent)
        wanted = _state_filter(request.filter)
        found = sorted((v for v in secret.versions.values() if wanted(v)), key=lambda v: -v.number)
        page, token = _page(found, request.page_size, request.page_token, lambda v: f"{v.number:020d}",
                            descending=True)
        return service.ListSecretVersionsResponse(versions=[self._version_message(secret, v) for v in page],
                                                  next_page_token=token, total_size=len(found))

    def _set_state(self, request: Any, state: Any) -> resources.SecretVersion:
        secret, version = self._version(request.name)
        self._check_version_etag(request.etag, secret, version)
        if version.state == DESTROYED:
            raise Abort(grpc.StatusCode.FAILED_PRECONDITION,
                        f"Secret Version [{self._name(secret.project, secret.secret_id)}/versions/"
                        f"{version.number}] is in DESTROYED state.")
        version.state = state
        version.etag = self._etag()
        return self._version_message(secret, version)

    def destroy_secret_version(self, request: Any) -> resources.SecretVersion:
        secret, version = self._version(request.name)
        self._check_version_etag(request.etag, secret, version)
        if version.state != DESTROYED:
            version.state, version.data, version.destroyed = DESTROYED, b"", self._now()
            version.etag = self._etag()
        return self._version_message(secret, version)

    def _check_version_etag(self, etag: str, secret: Secret, version: Version) -> None:
        if etag and etag != version.etag:
            raise Abort(grpc.StatusCode.ABORTED,
                        f"The etag provided ({etag}) does not match the etag of the Secret Version "
                        f"[{self._name(secret.project, secret.secret_id)}/versions/{version.number}].")


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(round(seconds * 1e6)) * 1000)
    return stamp


def _page(items: list[Any], size: int, token: str, sort_key: Callable[[Any], str],
          descending: bool = False) -> tuple[list[Any], str]:
    size = min(size or MAX_PAGE, MAX_PAGE)
    if token:
        try:
            after = base64.urlsafe_b64decode(token.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "Invalid page_token.") from None
        items = [i for i in items if (sort_key(i) < after if descending else sort_key(i) > after)]
    page = items[:size]
    more = len(items) > size
    return page, (base64.urlsafe_b64encode(sort_key(page[-1]).encode()).decode() if more else "")


def _secret_filter(text: str) -> Callable[[Secret], bool]:
    """The part of GCP's list filter language EnvSync and these tests use."""
    terms: list[Callable[[Secret], bool]] = []
    for token in text.split():
        if token == "AND":
            continue
        if token in ("OR", "NOT") or token.startswith("-"):
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Unsupported filter operator in {text!r} (fake).")
        name = re.fullmatch(r"name:(.+)", token)
        label = re.fullmatch(r"labels\.([a-z][a-z0-9_-]*)([:=])(.*)", token)
        if name:
            pattern = "*" + name.group(1).strip('"') + "*"
            terms.append(lambda s, p=pattern: fnmatch.fnmatchcase(s.secret_id, p))
        elif label:
            key, op, value = label.group(1), label.group(2), label.group(3).strip('"')
            if op == "=":
                terms.append(lambda s, k=key, v=value: s.labels.get(k) == v)
            elif value == "*":
                terms.append(lambda s, k=key: k in s.labels)
            else:
                terms.append(lambda s, k=key, v=value: v in s.labels.get(k, "\0"))
        else:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid filter: {text!r}")
    return lambda secret: all(term(secret) for term in terms)


def _state_filter(text: str) -> Callable[[Version], bool]:
    if not text.strip():
        return lambda version: True
    match = re.fullmatch(r"\s*state:(ENABLED|DISABLED|DESTROYED)\s*", text)
    if not match:
        raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid filter: {text!r}")
    state = resources.SecretVersion.State[match.group(1)]
    return lambda version: version.state == state


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gcp_server() -> Iterator[FakeSecretManager]:
    """One fake Secret Manager for the whole session, on 127.0.0.1 and a free port."""
    fake = FakeSecretManager().start()
    yield fake
    fake.stop()


@pytest.fixture
def gcp_fake(gcp_server: FakeSecretManager, monkeypatch: pytest.MonkeyPatch) -> FakeSecretManager:
    """The session's fake, wiped; no GCP project or credentials from the developer's shell."""
    gcp_server.reset()
    for name in GCP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return gcp_server


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment additions for an `envsync` child process on the fake (the `gcp_fake`
    fixture has already removed GCP_VARIABLES from this process's environment)."""
    return {"GOOGLE_CLOUD_PROJECT": PROJECT, **extra}


def _serve() -> None:
    fake = FakeSecretManager().start()
    print(fake.port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "calls":
            print(json.dumps(dict(fake.calls)), flush=True)
        elif command == "reset-calls":
            with fake._lock:
                fake.calls.clear()
            print("{}", flush=True)
        elif command == "reset":
            fake.reset()
            print("{}", flush=True)
        elif command.startswith("latency "):
            fake.latency = float(command.split()[1])
            print("{}", flush=True)
    fake.stop()


if __name__ == "__main__":
    _serve()
