"""GCP Secret Manager: `gcp-sm://PROJECT[/PREFIX]?layout=&endpoint=&insecure=&keep_versions=&timeout=`.

PROJECT is a project id or number; leave it empty (`gcp-sm:///PREFIX`) or `-` to take it
from GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT / CLOUDSDK_CORE_PROJECT), else from
Application Default Credentials. PREFIX may hold `/`, which becomes `-` in secret ids.

Layouts
-------
bundle:  one secret, id PREFIX (`myapp/prod` -> `myapp-prod`; `envsync` with no PREFIX),
         holding the target as one JSON object. Past GCP's 64 KiB payload limit the JSON
         is cut into 60,000-byte shards, each a version of the secret `ID--shard-N`
         (`--` never occurs in a per-key id, so a bundle's shards cannot collide with a
         per-key target of the same prefix), and the bundle secret gets a small manifest
         naming each shard's version, written last (envsync.stores.bundle).
per-key: one secret per key, id `PREFIX_KEY` (just `KEY` with no PREFIX). Secret ids allow
         letters, digits, `_` and `-`: `.` (and anything else, which KEY_PATTERN already
         rules out) becomes `-`. The mapping is the identity for ordinary keys, so
         `DATABASE_URL` is the secret `myapp-prod_DATABASE_URL` and an existing secret
         `myapp-prod_db-password` can be adopted as key `db-password`. The original key is
         kept in the annotation `envsync-key` (label values cannot hold uppercase), which
         is how reads undo the mapping; two keys that map to the same id (`a.b`, `a-b`)
         are refused before anything is written. Values are versions; old versions are
         kept (`keep_versions=N` destroys all but the newest N after each write).

Every secret EnvSync creates carries the label `managed-by=envsync` and the annotations
`envsync-layout` and (per-key) `envsync-key` / `envsync-prefix` (so a target never reads
another target's secrets that happen to share a name prefix). A secret without the label
is read, but never written or deleted unless the run passes `--adopt`, which adds the
label. With no PREFIX, per-key lists only labelled secrets (the whole project is not
a target).

Reading
-------
per-key: one ListSecrets (`filter=name:PREFIX_`, 1,000 a page), then AccessSecretVersion
of `latest` for every listed secret on a bounded thread pool (16). Bundle: one access,
plus one per shard. Every payload's crc32c is checked against the one GCP returns, and
every write sends one, so GCP checks it too; a mismatch is a StoreError.

Compare-and-swap
----------------
Secret Manager has no conditional AddSecretVersion: adding a version cannot be made
conditional on the latest one. What it has is an etag on the *secret*, checked by
UpdateSecret and DeleteSecret (ABORTED on mismatch). EnvSync builds a short lease from it:

1. claim: UpdateSecret(etag = the etag just listed) setting the annotation
   `envsync-lock = "<expiry> <random>"` (a new secret is created with the lock already
   on it; CreateSecret's ALREADY_EXISTS is the claim failing). A live lock written by
   another run, or an ABORTED update, is a ConflictError;
2. check, under the claim: the version that is `latest` now must be the one the plan was
   made against (a deleted key: none), else ConflictError;
3. only when every key of the batch is claimed and checked: add the versions;
4. release: UpdateSecret(etag from the claim) removing the lock (recording a deletion).

Two EnvSync runs racing on a secret cannot both pass 1-2: whoever updates second either
gets ABORTED (it listed before the first claim), sees the live lock (it listed after),
or finds `latest` moved (it claimed after the first released). This is why we did not
simply "check latest, then add": that leaves a window in which both writers check and
both add. A writer that does not follow the protocol (gcloud, the console) is caught by
step 2 unless it adds a version in the milliseconds between steps 2 and 3. A crashed run
leaves a lock that expires after 60 s. If any key of a batch is refused, every claim is
rolled back (secrets created by the claim are deleted, labels and annotations restored)
and nothing is written. The bundle layout uses the same protocol on its one secret.

Deleting (per-key)
------------------
GCP deletes a secret at once, with all its versions: there is no recovery window. So a
deleted key is not a deleted secret: EnvSync adds a deletion-marker version and disables
it. Every other reader of `latest` then gets GCP's FAILED_PRECONDITION ("version is
disabled") as for a missing secret; EnvSync reads the key as absent; and the key's
history and older values stay readable (the three-way merge needs them as a base; a
deletion is undone by pushing the key again). `--force-delete` deletes the secret itself,
history and all — GCP's only other kind of deletion — and cannot be undone. History
(ListSecretVersions, by create_time, newest first) shows a disabled version as a deletion
and leaves out destroyed ones; GCP records no author.

Values: GCP refuses an empty payload, so an empty value is stored as one NUL byte (and a
value that starts with NUL gets one more); other values are stored as their UTF-8 bytes.
Limits: 64 KiB per version (a larger per-key value is an InputError, nothing written).

Errors are StoreError (exit 3): PermissionDenied names the permission and the resource;
NotFound, FailedPrecondition (a disabled or destroyed version) and UNAUTHENTICATED are
explained; UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are retried with
backoff for up to `timeout=` seconds (default 60) per call, then reported.

Connection: `endpoint=HOST:PORT&insecure=true` is a plaintext channel with anonymous
credentials (emulators, in-test fakes), on loopback only; `endpoint=HOST:PORT` alone is
TLS with the normal credentials (regional or Private Service Connect endpoints), to a
*.googleapis.com host, loopback, or one ENVSYNC_ALLOW_ENDPOINTS allows (envsync.endpoints).
"""
from __future__ import annotations

import os
import re
import secrets as _secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import grpc
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.cloud import secretmanager_v1
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)

from envsync import ci, endpoints
from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import KEY_PATTERN, Change, Snapshot, StoreInfo, VersionInfo
from envsync.stores import bundle, resolve_layout
from envsync.stores.base import (
    LayoutWriter,
    Progress,
    StoreOptions,
    Unreadable,
    applied,
    bundle_changes,
    collect_per_key,
    no_progress,
    pool_map,
    unreadable,
)
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

VALUE_LIMIT = 65_536  # bytes in one secret version
SHARD_SIZE = 60_000  # bytes of bundle JSON per shard
LIST_PAGE = 1_000
WORKERS = 16
HISTORY_DEPTH = 100  # newest bundle versions `history TARGET` reads to name their changes (as AWS)
LOCK_SECONDS = 60
DEFAULT_TIMEOUT = 60.0
DEFAULT_BUNDLE = "envsync"
SHARD_MARK = "--shard-"
MANAGED_LABEL = "managed-by"
MANAGED_VALUE = "envsync"
KEY_ANNOTATION = "envsync-key"
PREFIX_ANNOTATION = "envsync-prefix"
LAYOUT_ANNOTATION = "envsync-layout"
LOCK_ANNOTATION = "envsync-lock"
DELETED_ANNOTATION = "envsync-deleted"
BUNDLE_ANNOTATION = "envsync-bundle"
TOMBSTONE = b"\x00envsync:deleted"
OPTIONS = {"layout", "endpoint", "insecure", "keep_versions", "timeout"}
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
PROJECT_ID = re.compile(r"(?:[a-z][a-z0-9.:-]{0,60}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]\Z|[0-9]{1,20}\Z")
PREFIX_CHARS = re.compile(r"[A-Za-z0-9_-]+\Z")
ENDPOINT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}\Z")
VERSION_ID = re.compile(r"[1-9][0-9]{0,18}\Z")
PROJECT_VARIABLES = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")

# What each call needs, for PermissionDenied messages: (IAM permission, a predefined role that has it).
PERMISSIONS = {
    "ListSecrets": ("secretmanager.secrets.list", "roles/secretmanager.viewer"),
    "GetSecret": ("secretmanager.secrets.get", "roles/secretmanager.viewer"),
    "CreateSecret": ("secretmanager.secrets.create", "roles/secretmanager.admin"),
    "UpdateSecret": ("secretmanager.secrets.update", "roles/secretmanager.admin"),
    "DeleteSecret": ("secretmanager.secrets.delete", "roles/secretmanager.admin"),
    "AddSecretVersion": ("secretmanager.versions.add", "roles/secretmanager.secretVersionAdder"),
    "GetSecretVersion": ("secretmanager.versions.get", "roles/secretmanager.viewer"),
    "AccessSecretVersion": ("secretmanager.versions.access", "roles/secretmanager.secretAccessor"),
    "ListSecretVersions": ("secretmanager.versions.list", "roles/secretmanager.viewer"),
    "EnableSecretVersion": ("secretmanager.versions.enable", "roles/secretmanager.secretVersionManager"),
    "DisableSecretVersion": ("secretmanager.versions.disable", "roles/secretmanager.secretVersionManager"),
    "DestroySecretVersion": ("secretmanager.versions.destroy", "roles/secretmanager.secretVersionManager"),
}


# -- opening -------------------------------------------------------------------


def open_store(uri: StoreURI, target: Target, options: StoreOptions) -> GcpStore:
    uri.require_known_options(OPTIONS)
    given, _, rest = uri.location.partition("/")
    prefix = _prefix(rest, uri)
    endpoint = uri.option("endpoint")
    insecure = uri.flag("insecure")
    if endpoint is not None and not ENDPOINT.match(endpoint):
        raise InputError(f"store {uri.text!r}: endpoint={endpoint!r} must be HOST:PORT (gRPC, no scheme), "
                         "e.g. endpoint=localhost:8085")
    if insecure and not endpoint:
        raise InputError(f"store {uri.text!r}: insecure=true needs endpoint=HOST:PORT (it is for emulators)")
    keep = _positive_int(uri, "keep_versions")
    timeout = _timeout(uri)
    layout = resolve_layout(uri, target)
    if given and given != "-" and not PROJECT_ID.match(given):
        raise InputError(f"store {uri.text!r}: {given!r} is not a GCP project id (6-30 lowercase letters, digits "
                         "and '-') or number")
    if endpoint is not None:
        _check_endpoint(uri, endpoint, insecure)
    federated = ci.gcp_credentials(target)
    client, project, credentials = _client(uri, given if given not in ("", "-") else None, endpoint, insecure,
                                           federated)
    name = prefix or DEFAULT_BUNDLE
    if layout == "bundle" and len(name) + len(SHARD_MARK) + 3 > 255:
        raise InputError(f"store {uri.text!r}: PREFIX is too long for a GCP secret id (255 characters)")
    store = GcpStore(uri.text, project, prefix, layout, client, options, keep=keep, timeout=timeout,
                     endpoint=endpoint or "secretmanager.googleapis.com")
    store.who, store.credentials = _describe_credentials(target, credentials), credentials
    return store


def _check_endpoint(uri: StoreURI, endpoint: str, insecure: bool) -> None:
    """Credentials go only to Google's own hosts, loopback or a host the environment allows;
    a plaintext channel only to loopback (its credentials, if any, would travel in clear)."""
    host, _, port = endpoint.rpartition(":")
    if insecure and not endpoints.is_loopback(host):
        raise InputError(f"store {uri.text!r}: insecure=true would send requests (and the federated access token) "
                         f"in plaintext to {host}, which is not this machine — drop insecure=true to use TLS")
    endpoints.check_host(host, int(port), where=f"store {uri.text!r}", setting="endpoint= in the store URI",
                         trusted=lambda name: endpoints.under(name, endpoints.GCP_SUFFIXES), tls=not insecure)


def _describe_credentials(target: Target, credentials: Any | None) -> str:
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


def _prefix(raw: str, uri: StoreURI) -> str:
    prefix = "-".join(part for part in raw.split("/") if part)
    if prefix and (not PREFIX_CHARS.match(prefix) or len(prefix) > 200):
        raise InputError(f"store {uri.text!r}: PREFIX {raw!r} may use letters, digits, '_', '-' and '/' "
                         "(up to 200 characters); GCP secret ids allow nothing else")
    return prefix


def _positive_int(uri: StoreURI, name: str) -> int | None:
    raw = uri.option(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"store {uri.text!r}: {name}={raw!r} must be a whole number of at least 1")
    return int(raw)


def _timeout(uri: StoreURI) -> float:
    raw = uri.option("timeout")
    if raw is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 600:
        raise InputError(f"store {uri.text!r}: timeout={raw!r} must be seconds, more than 0 and at most 600")
    return seconds


def _env_project() -> str | None:
    return next((os.environ[v] for v in PROJECT_VARIABLES if os.environ.get(v)), None)


def _client(uri: StoreURI, given: str | None, endpoint: str | None, insecure: bool,
            federated: Any | None) -> tuple[Any, str, Any | None]:
    if insecure:
        project = given or _env_project()
        if not project:
            raise InputError(f"store {uri.text!r}: no GCP project — put it in the URI (gcp-sm://PROJECT/...) "
                             "or set GOOGLE_CLOUD_PROJECT")
        channel = grpc.insecure_channel(endpoint, options=[("grpc.max_receive_message_length", 32 * 1024 * 1024)])
        if federated is not None:  # open_store allowed plaintext on loopback only
            channel = grpc.intercept_channel(channel, _BearerToken(federated))
        transport = SecretManagerServiceGrpcTransport(channel=channel)
        return secretmanager_v1.SecretManagerServiceClient(transport=transport), project, federated
    credentials, adc_project = (federated, None) if federated is not None else _default_credentials()
    project = given or _env_project() or adc_project
    if not project:
        raise InputError(f"store {uri.text!r}: no GCP project — put it in the URI (gcp-sm://PROJECT/...), set "
                         "GOOGLE_CLOUD_PROJECT, or `gcloud config set project PROJECT`")
    options = {"api_endpoint": endpoint} if endpoint else None
    client = secretmanager_v1.SecretManagerServiceClient(credentials=credentials, client_options=options)
    return client, project, credentials


def _default_credentials() -> tuple[Any, str | None]:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        return google.auth.default(scopes=[CLOUD_PLATFORM])
    except DefaultCredentialsError:
        raise StoreError("no Google credentials found — run `gcloud auth application-default login`, or set "
                         "GOOGLE_APPLICATION_CREDENTIALS (a service-account or workload-identity-federation "
                         "JSON file); in CI set gcp_workload_identity_provider") from None


class _BearerToken(grpc.UnaryUnaryClientInterceptor):
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


# -- values on the wire -----------------------------------------------------------


def encode_value(value: str) -> bytes:
    """A value's payload: its UTF-8 bytes; an empty value (GCP refuses an empty payload)
    is one NUL byte, and a value starting with NUL gets one more NUL in front."""
    data = value.encode("utf-8")
    return b"\x00" + data if not data or data[:1] == b"\x00" else data


def decode_value(data: bytes) -> str | None:
    """The value of a payload; None for EnvSync's deletion marker; UnicodeDecodeError for binary."""
    if data == TOMBSTONE:
        return None
    if data[:1] == b"\x00" and (len(data) == 1 or data[1:2] == b"\x00"):
        data = data[1:]
    return data.decode("utf-8")


def _crc32c_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum Secret Manager uses for payloads."""
    try:
        import google_crc32c  # the C implementation, when installed

        return int(google_crc32c.value(data))
    except ImportError:
        pass
    crc, table = 0xFFFFFFFF, _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# -- the store ----------------------------------------------------------------------


@dataclass
class Listed:
    """One secret as ListSecrets/GetSecret shows it."""

    name: str
    secret_id: str
    etag: str
    labels: dict[str, str]
    annotations: dict[str, str]
    key: str = ""

    @property
    def managed(self) -> bool:
        return self.labels.get(MANAGED_LABEL) == MANAGED_VALUE

    def lock_until(self) -> float | None:
        """When another run's write lock on this secret expires, if it is still live."""
        raw = self.annotations.get(LOCK_ANNOTATION, "")
        try:
            until = float(raw.split()[0])
        except (IndexError, ValueError):
            return None
        return until if until > time.time() else None


@dataclass
class Claim:
    """A secret this run holds the write lock of."""

    change: Change | None
    secret_id: str
    name: str
    etag: str
    labels: dict[str, str]
    annotations: dict[str, str]
    original: tuple[dict[str, str], dict[str, str]] | None  # None: created by the claim
    released: bool = False
    current: str | None = None


@dataclass
class _Outcome:
    claim: Claim
    version: str | None = None
    error: EnvSyncError | None = None
    deleted: str | None = None
    warnings: list[str] = field(default_factory=list)


class GcpStore(LayoutWriter):
    def __init__(self, uri: str, project: str, prefix: str, layout: str, client: Any, options: StoreOptions,
                 *, keep: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 endpoint: str = "secretmanager.googleapis.com") -> None:
        self.uri = uri
        self.project = project
        self.prefix = prefix
        self.layout = layout
        self.client = client
        self.options = options
        self.keep = keep
        self.timeout = timeout
        self.endpoint = endpoint
        self.who = ""  # who the calls run as (for `doctor`)
        self.credentials: Any | None = None
        self.notes: list[str] = []
        self.bundle_id = prefix or DEFAULT_BUNDLE
        self._shards = 0
        self._notes_lock = threading.Lock()
        self._retry = gretry.Retry(predicate=_transient, initial=0.1, maximum=2.0, multiplier=2.0, timeout=timeout)

    # -- doctor ----------------------------------------------------------------

    def identity(self) -> str:
        if self.credentials is not None:
            from google.auth.transport.requests import Request

            try:
                self.credentials.refresh(Request())  # proves the sign-in (token exchange) works
            except _auth_errors() as exc:
                raise self._error(exc, "sign-in", self.project) from None
        return self.who

    def probe_write(self) -> str:
        """AddSecretVersion to a secret that does not exist: GCP checks the permission first,
        so "not found" means writes are allowed and nothing is written."""
        parent = f"projects/{self.project}/secrets/{self.prefix or 'envsync'}-doctor-{_secrets.token_hex(8)}"
        try:
            self._call("AddSecretVersion", parent, {"parent": parent, "payload": {"data": b"probe"}})
        except _Missing:
            return "secretmanager.versions.add allowed (secrets.create cannot be probed without writing)"
        raise StoreError(f"{parent} unexpectedly exists (a version was added to it) — delete it")

    # -- reading -------------------------------------------------------------

    def _read(self, progress: Progress = no_progress) -> Snapshot:
        if self.layout == "bundle":
            return self._read_bundle()
        listed = self._list()

        def fetch(secret: Listed) -> tuple[Listed, tuple[str, str] | None]:
            found = self._latest_value(secret, reading=True)
            progress(1)
            return secret, found

        values, versions = {}, {}
        for secret, found in _pool(fetch, listed):
            if found is not None:
                values[secret.key], versions[secret.key] = found
        return Snapshot(values=values, versions=versions)

    def _read_bundle(self) -> Snapshot:
        try:
            response = self._call("AccessSecretVersion", self._version_name(self.bundle_id, "latest"))
        except _Missing:
            self._shards = 0
            return Snapshot(values={})
        version = _number(response.name)
        values, self._shards = self._bundle_values(response, self.bundle_id)
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _bundle_values(self, response: Any, where: str) -> tuple[dict[str, str], int]:
        """A bundle version's values and how many shards hold them."""
        with unreadable():
            parsed = bundle.parse(self._text(response, where), where)
            if isinstance(parsed, dict):
                return parsed, 0
            bundle.check_shards(parsed, lambda index: self._shard_id(index + 1), where)
        names = [self._version_name(shard.name, shard.version) for shard in parsed]
        responses = _pool(lambda name: self._call("AccessSecretVersion", name), names)
        with unreadable():
            return bundle.join([self._text(r, name) for r, name in zip(responses, names)], where), len(parsed)

    def _text(self, response: Any, where: str) -> str:
        data = self._verified(response, where)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(f"{where} holds binary data, not an EnvSync bundle — use another PREFIX") from None

    def _verified(self, response: Any, where: str) -> bytes:
        data = bytes(response.payload.data)
        if "data_crc32c" in response.payload and crc32c(data) != response.payload.data_crc32c:
            raise StoreError(f"the payload of {response.name or where} failed its crc32c check (corrupted in "
                             "transit or storage); nothing was used — run again, and if it persists, add a new "
                             "version of that secret")
        return data

    def _latest_value(self, secret: Listed, reading: bool = False) -> tuple[str, str] | None:
        """(value, version) of a per-key secret's latest version; None when the key is absent
        (no versions, EnvSync's deletion marker, or a disabled/destroyed latest version)."""
        try:
            response = self._call("AccessSecretVersion", f"{secret.name}/versions/latest")
        except _Missing:
            return None
        except _Unusable:
            if reading and DELETED_ANNOTATION not in secret.annotations:
                self._note(f"{secret.secret_id}: its latest version is disabled or destroyed — {secret.key} "
                           "is treated as absent (enable the version, or push a new value)")
            return None
        data = self._verified(response, secret.secret_id)
        try:
            value = decode_value(data)
        except UnicodeDecodeError:
            if reading:
                self._note(f"{secret.secret_id}: ignored — its payload is binary, not text")
            return None
        return None if value is None else (value, _number(response.name))

    def _list(self) -> list[Listed]:
        """The per-key secrets of this target, keys resolved; notes for what is skipped."""
        parent = f"projects/{self.project}"
        query = f"name:{self.prefix}_" if self.prefix else f"labels.{MANAGED_LABEL}={MANAGED_VALUE}"
        found: list[Listed] = []
        seen: dict[str, str] = {}
        pages = self._call("ListSecrets", parent, request={"parent": parent, "filter": query, "page_size": LIST_PAGE})
        try:
            for secret in pages:
                listed = self._listed(secret)
                if listed is None:
                    continue
                if listed.key in seen:
                    self._note(f"{listed.secret_id}: ignored — {seen[listed.key]} already holds {listed.key}")
                    continue
                seen[listed.key] = listed.secret_id
                found.append(listed)
        except (gexc.GoogleAPIError, _auth_errors()) as exc:  # later pages are fetched while iterating
            raise self._error(exc, "ListSecrets", parent) from None
        return found

    def _listed(self, secret: Any) -> Listed | None:
        listed = self._as_listed(secret)
        sid = listed.secret_id
        head = f"{self.prefix}_" if self.prefix else ""
        if not sid.startswith(head) or listed.annotations.get(LAYOUT_ANNOTATION) in ("bundle", "shard"):
            return None  # only contains the prefix, or is a bundle's secret
        if listed.managed and listed.annotations.get(PREFIX_ANNOTATION, self.prefix) != self.prefix:
            return None  # another target's secret whose id happens to start with our prefix
        key = listed.annotations.get(KEY_ANNOTATION) or sid[len(head):]
        if not KEY_PATTERN.match(key):
            self._note(f"{sid}: ignored — {key!r} is not a valid .env key name")
            return None
        if self._secret_id(key, check=False) != sid:
            self._note(f"{sid}: ignored — its {KEY_ANNOTATION} annotation ({key!r}) does not match its id")
            return None
        listed.key = key
        return listed

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        wanted = {k: v for k, v in wanted.items() if isinstance(v, str) and VERSION_ID.match(v)}
        if self.layout == "bundle":
            versions = sorted(set(wanted.values()))
            documents = dict(zip(versions, _pool(self._bundle_at, versions)))
            return {k: documents[v][k] for k, v in wanted.items()  # type: ignore[index]
                    if documents[v] is not None and k in documents[v]}  # type: ignore[operator]

        def fetch(pair: tuple[str, str]) -> str | None:
            key, version = pair
            try:
                response = self._call("AccessSecretVersion", self._version_name(self._secret_id(key), version))
                return decode_value(self._verified(response, key))
            except (StoreError, InputError, UnicodeDecodeError):
                return None

        pairs = list(wanted.items())
        return {key: value for (key, _), value in zip(pairs, _pool(fetch, pairs)) if value is not None}

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        if not VERSION_ID.match(version):  # no such version: GCP would refuse the name as invalid
            return None
        try:
            response = self._call("AccessSecretVersion", self._version_name(self.bundle_id, version))
            return self._bundle_values(response, f"{self.bundle_id}@{version}")[0]
        except (_Missing, _Unusable, Unreadable):  # gone, disabled, destroyed, or not readable; not auth/network
            return None

    # -- writing -------------------------------------------------------------

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        ids = self._check_batch(changes)
        listed = {s.secret_id: s for s in self._list()}
        for change in changes:
            secret = listed.get(ids[change.key])
            if secret is None:
                continue
            if secret.key != change.key:
                raise InputError(f"{change.key} maps to the GCP secret {secret.secret_id}, which already holds "
                                 f"{secret.key} ('.' becomes '-' in secret ids) — rename one of the two keys")
            self._check_managed(secret, change.key)

        def claim(change: Change) -> tuple[Claim | None, EnvSyncError | None]:
            sid = ids[change.key]
            return self._claim(sid, listed.get(sid), expected.versions.get(change.key), change,
                               self._per_key_annotations(change.key))

        claims, errors = [], []
        for held, error in _pool(claim, changes):
            if held is not None:
                claims.append(held)
            if error is not None:
                errors.append(error)
        if errors:
            self._rollback(claims)
            cause = next((e for e in errors if isinstance(e, ConflictError)), errors[0])
            raise ApplyError(cause, [], [c.key for c in changes])

        def write(held: Claim) -> _Outcome:
            outcome = self._write_key(held)
            progress(1)
            return outcome

        results = []
        for outcome in _pool(write, claims):
            for warning in outcome.warnings:
                self._note(warning)
            results.append((outcome.claim.change, outcome.version, outcome.error))
        return collect_per_key(expected, results)

    def _check_batch(self, changes: Sequence[Change]) -> dict[str, str]:
        """Secret ids of the changed keys; refuses, before any call, what cannot be written."""
        ids: dict[str, str] = {}
        owners: dict[str, str] = {}
        for change in changes:
            if change.value is not None and len(encode_value(change.value)) > VALUE_LIMIT:
                raise InputError(f"{change.key}: the value is over GCP's 64 KiB limit for one secret version — "
                                 "nothing was pushed (the bundle layout splits large targets)")
            sid = self._secret_id(change.key)
            if sid in owners and owners[sid] != change.key:
                raise InputError(f"{owners[sid]} and {change.key} both map to the GCP secret id {sid} "
                                 "('.' becomes '-') — rename one of them; nothing was pushed")
            ids[change.key], owners[sid] = sid, change.key
        return ids

    def _check_managed(self, secret: Listed, what: str) -> None:
        if not secret.managed and not self.options.adopt:
            raise StoreError(f"{secret.secret_id} was not created by EnvSync (no {MANAGED_LABEL}={MANAGED_VALUE} "
                             f"label), so {what} is not written — pass --adopt to let EnvSync manage it")

    def _per_key_annotations(self, key: str) -> dict[str, str]:
        return {KEY_ANNOTATION: key, PREFIX_ANNOTATION: self.prefix, LAYOUT_ANNOTATION: "per-key"}

    def _claim(self, sid: str, listed: Listed | None, expected: str | None, change: Change | None,
               annotations: dict[str, str]) -> tuple[Claim | None, EnvSyncError | None]:
        """Take the write lock of one secret and check it is still at `expected` (module docstring)."""
        what = change.key if change else sid
        lock = f"{int(time.time()) + LOCK_SECONDS} {_secrets.token_hex(8)}"
        try:
            if listed is None:
                if expected is not None:
                    return None, ConflictError(f"{self.uri}: {what} was deleted from the store since it was read; "
                                               "run again to re-plan")
                labels = {MANAGED_LABEL: MANAGED_VALUE}
                marked = {**annotations, LOCK_ANNOTATION: lock}
                try:
                    created = self._call("CreateSecret", self._secret_name(sid), request={
                        "parent": f"projects/{self.project}", "secret_id": sid,
                        "secret": {"replication": {"automatic": {}}, "labels": labels, "annotations": marked}})
                except _Exists:
                    return None, self._exists_error(sid, what)
                return Claim(change, sid, self._secret_name(sid), created.etag, labels, marked, None), None
            until = listed.lock_until()
            if until is not None:
                return None, ConflictError(
                    f"{self.uri}: another EnvSync run is writing {what} right now (its lock on {sid} expires at "
                    f"{time.strftime('%H:%M:%S', time.localtime(until))}); run again after it")
            labels = {**listed.labels, MANAGED_LABEL: MANAGED_VALUE}
            marked = {**listed.annotations, **annotations, LOCK_ANNOTATION: lock}
            try:
                updated = self._update(listed.name, listed.etag, labels, marked)
            except (_Aborted, _Missing):
                return None, ConflictError(f"{self.uri}: {what} changed in the store since it was read (another "
                                           "EnvSync run?); run again to re-plan")
            held = Claim(change, sid, listed.name, updated.etag, labels, marked,
                         (dict(listed.labels), dict(listed.annotations)))
        except EnvSyncError as exc:
            return None, exc
        try:
            if change is None:
                held.current = self._bundle_latest()
            else:
                found = self._latest_value(listed)
                held.current = found[1] if found else None
        except EnvSyncError as exc:
            return held, exc
        if held.current != expected:
            return held, ConflictError(f"{self.uri}: {what} changed in the store since it was read; "
                                       "run again to re-plan")
        return held, None

    def _exists_error(self, sid: str, what: str) -> EnvSyncError:
        try:
            secret = self._as_listed(self._call("GetSecret", self._secret_name(sid)))
        except _Missing:
            return ConflictError(f"{self.uri}: {sid} appeared and vanished while {what} was written; run again")
        owner = secret.annotations.get(PREFIX_ANNOTATION)
        if secret.managed and owner is not None and owner != self.prefix and self.layout == "per-key":
            return StoreError(f"the GCP secret id {sid} (for {what}) is already used by another EnvSync target "
                              f"(prefix {owner!r}, key {secret.annotations.get(KEY_ANNOTATION)!r}) — give one of "
                              "the targets a PREFIX that is not a prefix of the other's")
        if secret.managed:
            return ConflictError(f"{self.uri}: {what} was created by someone else since it was read; "
                                 "run again to re-plan")
        hint = ("with no PREFIX, EnvSync only sees secrets labelled managed-by=envsync — label it "
                f"(`gcloud secrets update {sid} --update-labels={MANAGED_LABEL}={MANAGED_VALUE}`) to adopt it"
                if self.layout == "per-key" else "pass --adopt to let EnvSync manage it")
        return StoreError(f"{sid} already exists and was not created by EnvSync; {hint}")

    def _write_key(self, held: Claim) -> _Outcome:
        outcome = _Outcome(held)
        change = held.change
        assert change is not None
        try:
            if change.is_delete and self.options.force_delete:
                self._call("DeleteSecret", held.name, request={"name": held.name, "etag": held.etag})
                held.released = True
                return outcome
            if change.is_delete:
                version = self._add(held.name, TOMBSTONE)
                outcome.deleted = _number(version.name)
                try:
                    self._call("DisableSecretVersion", version.name, request={"name": version.name,
                                                                               "etag": version.etag})
                except EnvSyncError as exc:
                    outcome.warnings.append(f"{held.secret_id}: {change.key} is deleted for EnvSync, but its "
                                            f"deletion marker could not be disabled for other readers ({exc})")
            else:
                outcome.version = _number(self._add(held.name, encode_value(change.value or "")).name)
            outcome.warnings += self._prune(held.name)
        except EnvSyncError as exc:
            outcome.error = exc
        finally:
            self._release(held, outcome)
        return outcome

    def _add(self, name: str, data: bytes) -> Any:
        return self._call("AddSecretVersion", name, request={
            "parent": name, "payload": {"data": data, "data_crc32c": crc32c(data)}})

    def _release(self, held: Claim, outcome: _Outcome) -> None:
        if held.released:
            return
        annotations = {k: v for k, v in held.annotations.items() if k != LOCK_ANNOTATION}
        if outcome.error is None and outcome.deleted is not None:
            annotations[DELETED_ANNOTATION] = outcome.deleted
        elif outcome.error is None:
            annotations.pop(DELETED_ANNOTATION, None)
        try:
            self._update(held.name, held.etag, held.labels, annotations)
            held.released = True
        except EnvSyncError:
            outcome.warnings.append(f"{held.secret_id}: could not remove EnvSync's write lock; it expires by "
                                    f"itself within {LOCK_SECONDS} s")

    def _rollback(self, claims: list[Claim]) -> None:
        """Undo claims of a refused batch: nothing of it is written."""

        def undo(held: Claim) -> None:
            try:
                if held.original is None:
                    self._call("DeleteSecret", held.name, request={"name": held.name, "etag": held.etag})
                else:
                    self._update(held.name, held.etag, *held.original)
                held.released = True
            except EnvSyncError:
                self._note(f"{held.secret_id}: could not undo EnvSync's write lock; it expires by itself within "
                           f"{LOCK_SECONDS} s")

        _pool(undo, claims)

    def _update(self, name: str, etag: str, labels: dict[str, str], annotations: dict[str, str]) -> Any:
        return self._call("UpdateSecret", name, request={
            "secret": {"name": name, "etag": etag, "labels": labels, "annotations": annotations},
            "update_mask": {"paths": ["labels", "annotations"]}})

    def _prune(self, name: str) -> list[str]:
        """keep_versions=N: destroy all but the newest N versions of a secret just written."""
        if not self.keep:
            return []
        try:
            versions = [v for v in self._versions(name) if v.state.name != "DESTROYED"]
            for version in sorted(versions, key=lambda v: -int(_number(v.name)))[self.keep:]:
                self._call("DestroySecretVersion", version.name, request={"name": version.name, "etag": version.etag})
        except EnvSyncError as exc:
            return [f"{name.rsplit('/', 1)[-1]}: older versions were not destroyed (keep_versions) — {exc}"]
        return []

    # -- the bundle --------------------------------------------------------------

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        values = applied(expected.values, changes)
        try:
            main: Listed | None = self._as_listed(self._call("GetSecret", self._secret_name(self.bundle_id)))
        except _Missing:
            main = None
        if main is not None:
            self._check_managed(main, "the bundle")
        annotations = {LAYOUT_ANNOTATION: "bundle"}
        held, error = self._claim(self.bundle_id, main, expected.revision, None, annotations)
        if error is not None:
            if held is not None:
                self._rollback([held])
            raise error
        assert held is not None
        outcome = _Outcome(held)
        written: list[bundle.Shard] = []
        try:
            payload, shards = bundle.encode(values), 0
            if len(payload) > VALUE_LIMIT:
                written = self._write_shards(payload)  # every shard first...
                payload, shards = bundle.manifest(written), len(written)
            # ...then the bundle secret names them: readers see the old snapshot or the new one
            outcome.version = _number(self._add(held.name, payload.encode("ascii")).name)
        except EnvSyncError as exc:
            outcome.error = exc
            if held.original is None:
                self._rollback([held])
            raise
        finally:
            self._release(held, outcome)
            for warning in outcome.warnings:
                self._note(warning)
        # Old versions go only now that the new manifest is live: pruning a shard earlier
        # could destroy the versions the current manifest names.
        for name in [held.name, *(self._secret_name(shard.name) for shard in written)]:
            for warning in self._prune(name):
                self._note(warning)
        self._shards = shards
        version = outcome.version
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)  # type: ignore[misc]

    def _bundle_latest(self) -> str | None:
        try:
            version = self._call("GetSecretVersion", self._version_name(self.bundle_id, "latest"))
        except _Missing:
            return None
        if version.state.name != "ENABLED":
            raise _Unusable(_unusable_message(self.project, self.bundle_id, _number(version.name),
                                              version.state.name))
        return _number(version.name)

    def _shard_id(self, number: int) -> str:
        """The secret holding the bundle's shard `number` (from 1)."""
        return f"{self.bundle_id}{SHARD_MARK}{number}"

    def _write_shards(self, payload: str) -> list[bundle.Shard]:
        pieces = bundle.split(payload, SHARD_SIZE)

        def write(item: tuple[int, str]) -> bundle.Shard:
            index, piece = item
            sid = self._shard_id(index)
            name = self._secret_name(sid)
            try:
                shard = self._as_listed(self._call("GetSecret", name))
                self._check_managed(shard, "a shard of the bundle")
                if not shard.managed:
                    self._update(shard.name, shard.etag, {**shard.labels, MANAGED_LABEL: MANAGED_VALUE},
                                 shard.annotations)
            except _Missing:
                try:
                    self._call("CreateSecret", name, request={
                        "parent": f"projects/{self.project}", "secret_id": sid,
                        "secret": {"replication": {"automatic": {}}, "labels": {MANAGED_LABEL: MANAGED_VALUE},
                                   "annotations": {LAYOUT_ANNOTATION: "shard", BUNDLE_ANNOTATION: self.bundle_id}}})
                except _Exists:
                    pass  # another writer's shard secret; we hold the bundle's lock, so adding is safe
            version = self._add(name, piece.encode("ascii"))
            return bundle.Shard(sid, _number(version.name))

        return _pool(write, list(enumerate(pieces, 1)))

    # -- history and shape ---------------------------------------------------

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        if self.layout == "bundle":
            return self._bundle_history(key, changes)
        if key is not None:
            try:
                return self._key_history(self._secret_name(self._secret_id(key)), key)
            except InputError:
                return []
        listed = self._list()
        entries = [e for found in _pool(lambda s: self._key_history(s.name, s.key), listed) for e in found]
        return sorted(entries, key=lambda e: (e.created is not None, e.created), reverse=True)

    def _key_history(self, name: str, key: str) -> list[VersionInfo]:
        try:
            versions = sorted(self._versions(name), key=lambda v: int(_number(v.name)))
        except _Missing:
            return []
        entries, existed = [], False
        for version in versions:
            state = version.state.name
            if state == "DESTROYED":
                existed = True  # pruned: it held something, but what is gone
                continue
            action = "deleted" if state == "DISABLED" else ("changed" if existed else "added")
            existed = state != "DISABLED"
            entries.append(VersionInfo(_number(version.name), _when(version), None, action, None, key=key))
        return list(reversed(entries))

    def _bundle_history(self, key: str | None, changes: bool) -> list[VersionInfo]:
        try:
            versions = sorted(self._versions(self._secret_name(self.bundle_id)), key=lambda v: int(_number(v.name)))
        except _Missing:
            return []
        if key is None:
            listed = [(i, v) for i, v in enumerate(versions) if v.state.name != "DESTROYED"]
            if not changes:
                return [VersionInfo(_number(v.name), _when(v), None, "changed" if i else "added", None)
                        for i, v in reversed(listed)]
            recent = listed[-HISTORY_DEPTH:]  # each read costs a call per shard: older ones show no changes
            documents = [None] * (len(listed) - len(recent)) + _pool(
                lambda pair: self._bundle_at(_number(pair[1].name)) if pair[1].state.name == "ENABLED" else None,
                recent)
            return bundle_changes([(VersionInfo(_number(v.name), _when(v), None, "changed" if i else "added", None),
                                    document) for (i, v), document in zip(listed, documents)], self.notes)
        readable = [v for v in versions if v.state.name == "ENABLED"]
        documents = _pool(lambda v: self._bundle_at(_number(v.name)), readable)
        entries, previous = [], None
        for version, document in zip(readable, documents):
            if document is None:
                continue
            before, after = (previous or {}).get(key), document.get(key)
            previous = document
            if before == after:
                continue
            action = "added" if before is None else ("deleted" if after is None else "changed")
            entries.append(VersionInfo(_number(version.name), _when(version), None, action,
                                       None if after is None else len(after)))
        return list(reversed(entries))

    def _versions(self, name: str) -> list[Any]:
        pages = self._call("ListSecretVersions", name, request={"parent": name, "page_size": LIST_PAGE})
        try:
            return list(pages)
        except (gexc.GoogleAPIError, _auth_errors()) as exc:
            raise self._error(exc, "ListSecretVersions", name) from None

    def info(self, snapshot: Snapshot) -> StoreInfo:
        if self.layout == "per-key":
            return StoreInfo(self.uri, self.layout, len(snapshot.values))
        return StoreInfo(self.uri, self.layout, (1 + self._shards) if snapshot.revision else 0)

    # -- plumbing ------------------------------------------------------------

    def _secret_id(self, key: str, check: bool = True) -> str:
        body = re.sub(r"[^A-Za-z0-9_-]", "-", key)
        sid = f"{self.prefix}_{body}" if self.prefix else body
        if check and len(sid) > 255:
            raise InputError(f"{key}: its GCP secret id would be {len(sid)} characters (the limit is 255) — "
                             "shorten the key or the store's PREFIX")
        return sid

    def _as_listed(self, secret: Any) -> Listed:
        # GCP answers with the project number; calls and messages use the project as the URI names it.
        sid = secret.name.rsplit("/", 1)[-1]
        return Listed(self._secret_name(sid), sid, secret.etag, dict(secret.labels), dict(secret.annotations))

    def _secret_name(self, sid: str) -> str:
        return f"projects/{self.project}/secrets/{sid}"

    def _version_name(self, sid: str, version: str) -> str:
        return f"{self._secret_name(sid)}/versions/{version}"

    def _note(self, message: str) -> None:
        with self._notes_lock:
            if message not in self.notes:
                self.notes.append(message)

    def _call(self, operation: str, resource: str, request: Mapping[str, Any] | None = None) -> Any:
        method = getattr(self.client, _snake(operation))
        try:
            return method(request=request if request is not None else {"name": resource},
                          retry=self._retry, timeout=self.timeout)
        except gexc.NotFound as exc:
            raise _Missing(f"GCP: {resource} not found ({exc.message})") from None
        except gexc.AlreadyExists:
            raise _Exists(f"{self.uri}: {resource} already exists") from None
        except gexc.Aborted:
            raise _Aborted(f"{self.uri}: {resource} changed since it was read (etag mismatch); "
                           "run again to re-plan") from None
        except gexc.FailedPrecondition as exc:
            raise _Unusable(_precondition_message(exc.message, self.project, operation, resource)) from None
        except (gexc.GoogleAPIError, _auth_errors()) as exc:
            raise self._error(exc, operation, resource) from None

    def _error(self, exc: Exception, operation: str, resource: str) -> EnvSyncError:
        if isinstance(exc, gexc.RetryError):
            cause = exc.cause if isinstance(exc.cause, Exception) else exc
            return StoreError(f"cannot reach GCP Secret Manager at {self.endpoint} for {operation} on {resource}: "
                              f"{_code(cause)} after retrying for {self.timeout:g} s — check the network, the "
                              "endpoint= and insecure= options, or raise timeout=")
        message = getattr(exc, "message", None) or str(exc)
        if isinstance(exc, gexc.PermissionDenied):
            if "SERVICE_DISABLED" in str(exc) or "has not been used in project" in message:
                return StoreError(f"the Secret Manager API is not enabled in project {self.project} — "
                                  f"`gcloud services enable secretmanager.googleapis.com --project {self.project}`")
            permission, role = PERMISSIONS.get(operation, ("secretmanager.*", "roles/secretmanager.admin"))
            return StoreError(f"GCP denied {permission} on {resource} — grant it to the identity EnvSync runs as "
                              f"(e.g. {role}); GCP said: {message}")
        if isinstance(exc, gexc.Unauthenticated) or _is_auth_error(exc):
            return StoreError(f"GCP rejected the credentials for {operation} ({message}) — run `gcloud auth "
                              "application-default login`, or check the CI's workload identity federation")
        if isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded)):
            if "metadata from plugin" in message:
                return StoreError(f"could not get Google credentials for {operation}: {message}")
            return StoreError(f"cannot reach GCP Secret Manager at {self.endpoint} for {operation} on {resource}: "
                              f"{_code(exc)} — check the network, or the endpoint= and insecure= options")
        if isinstance(exc, gexc.ResourceExhausted):
            return StoreError(f"GCP kept refusing {operation} on {resource} for quota after retries — run again "
                              "later, or raise the Secret Manager quota")
        if isinstance(exc, gexc.InvalidArgument):
            return StoreError(f"GCP refused {operation} on {resource}: {message}")
        return StoreError(f"GCP {operation} on {resource} failed: {_code(exc)} — {message}")


class _Missing(StoreError):
    """NOT_FOUND: the callers that expect it treat it as absence."""


class _Exists(ConflictError):
    """ALREADY_EXISTS on create."""


class _Aborted(ConflictError):
    """ABORTED: an etag did not match."""


class _Unusable(StoreError):
    """FAILED_PRECONDITION: e.g. a disabled or destroyed version; the message explains."""


def _precondition_message(message: str, project: str, operation: str, resource: str) -> str:
    match = re.search(r"secrets/([^/\]]+)/versions/(\d+)\] is in (\w+) state", message)
    if match:
        return _unusable_message(project, match.group(1), match.group(2), match.group(3))
    return f"GCP refused {operation} on {resource}: {message}"


def _unusable_message(project: str, sid: str, version: str, state: str) -> str:
    if state == "DESTROYED":
        return (f"version {version} of the GCP secret {sid} is destroyed: its value is gone — push a new value "
                "(`envsync push`), or add a version of it")
    return (f"version {version} of the GCP secret {sid} is {state.lower()}, so GCP refuses to read it — enable it "
            f"(`gcloud secrets versions enable {version} --secret={sid} --project={project}`) or push a new value")


def _transient(exc: Exception) -> bool:
    """Worth retrying: the service is busy or unreachable, not refusing us."""
    if isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.ResourceExhausted)):
        return "metadata from plugin" not in str(exc)  # a credential refresh failure does not heal
    return False


def _auth_errors() -> type[Exception] | tuple[type[Exception], ...]:
    try:
        from google.auth.exceptions import GoogleAuthError
    except ImportError:  # pragma: no cover - google-auth comes with the client
        return ()
    return GoogleAuthError


def _is_auth_error(exc: Exception) -> bool:
    errors = _auth_errors()
    return bool(errors) and isinstance(exc, errors)


def _code(exc: Exception) -> str:
    code = getattr(exc, "grpc_status_code", None)
    return getattr(code, "name", None) or type(exc).__name__




def _number(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _when(version: Any) -> Any:
    created = version.create_time
    return created if created else None



def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _pool(func: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    return pool_map(func, items, WORKERS)
