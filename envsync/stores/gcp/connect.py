"""GCP Secret Manager: `gcp-sm://PROJECT[/PREFIX]?layout=&endpoint=&insecure=&keep_versions=&timeout=`.

PROJECT is a project id or number; leave it empty (`gcp-sm:///PREFIX`) or `-` to take it
from GOOGLE_CLOUD_PROJECT (or GCLOUD_PROJECT / CLOUDSDK_CORE_PROJECT), else from
Application Default Credentials. PREFIX may hold `/`, which becomes `-` in secret ids.

Connection: `endpoint=HOST:PORT&insecure=true` is a plaintext channel with anonymous
credentials (emulators, in-test fakes), on loopback only; `endpoint=HOST:PORT` alone is
TLS with the normal credentials (regional or Private Service Connect endpoints), to a
*.googleapis.com host, loopback, or one ENVSYNC_ALLOW_ENDPOINTS allows (envsync.endpoints).
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import grpc
from google.cloud import secretmanager_v1
from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
    SecretManagerServiceGrpcTransport,
)

from envsync import endpoints
from envsync.errors import InputError
from envsync.stores import resolve_layout
from envsync.stores.base import StoreOptions
from envsync.stores.gcp import auth
from envsync.stores.gcp.store import DEFAULT_BUNDLE, DEFAULT_TIMEOUT, SHARD_MARK, GcpStore
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

OPTIONS = {"layout", "endpoint", "insecure", "keep_versions", "timeout"}
PROJECT_ID = re.compile(r"(?:[a-z][a-z0-9.:-]{0,60}:)?[a-z][a-z0-9-]{4,28}[a-z0-9]\Z|[0-9]{1,20}\Z")
PREFIX_CHARS = re.compile(r"[A-Za-z0-9_-]+\Z")
ENDPOINT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}\Z")
PROJECT_VARIABLES = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")


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
    federated = auth.federated_credentials(target)
    client, project, credentials = _client(uri, given if given not in ("", "-") else None, endpoint, insecure,
                                           federated)
    name = prefix or DEFAULT_BUNDLE
    if layout == "bundle" and len(name) + len(SHARD_MARK) + 3 > 255:
        raise InputError(f"store {uri.text!r}: PREFIX is too long for a GCP secret id (255 characters)")
    store = GcpStore(uri.text, project, prefix, layout, client, options, keep=keep, timeout=timeout,
                     endpoint=endpoint or "secretmanager.googleapis.com")
    store.who, store.credentials = auth.describe(target, credentials), credentials
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
            channel = grpc.intercept_channel(channel, auth.BearerToken(federated))
        transport = SecretManagerServiceGrpcTransport(channel=channel)
        return secretmanager_v1.SecretManagerServiceClient(transport=transport), project, federated
    credentials, adc_project = (federated, None) if federated is not None else auth.default_credentials()
    project = given or _env_project() or adc_project
    if not project:
        raise InputError(f"store {uri.text!r}: no GCP project — put it in the URI (gcp-sm://PROJECT/...), set "
                         "GOOGLE_CLOUD_PROJECT, or `gcloud config set project PROJECT`")
    options = {"api_endpoint": endpoint} if endpoint else None
    client = secretmanager_v1.SecretManagerServiceClient(credentials=credentials, client_options=options)
    return client, project, credentials
