"""Azure Key Vault: `azure-kv://VAULT[/PREFIX]?layout=bundle|per-key&retries=N`.

Where: a bare VAULT name means `https://VAULT.vault.azure.net`; a host with a dot or
a port (`myvault.vault.azure.cn`, `myvault.privatelink.vaultcore.azure.net`) is used as
is, over https, if it is an Azure cloud's vault host, loopback, or allowed by
ENVSYNC_ALLOW_ENDPOINTS (envsync.endpoints). Tokens are only ever asked for the vault
cloud's Key Vault scope, whatever the 401 challenge names (the SDK's own check of the
challenge stays on for the clouds' vault hosts); the CA bundle comes from
`REQUESTS_CA_BUNDLE`. `retries=N` sets the SDK's retry budget per call
(default: the SDK's own, 10 with exponential backoff); tests pass `retries=0` so an
injected failure costs no backoff.
"""
from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from azure.keyvault.secrets import SecretClient

from envsync import endpoints
from envsync.errors import InputError
from envsync.stores import resolve_layout
from envsync.stores.azure import auth
from envsync.stores.azure.store import AzureStore
from envsync.stores.base import StoreOptions
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

OPTIONS = {"layout", "retries"}
VAULT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]\Z")
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?\Z")
PREFIX = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\Z")


def open_store(uri: StoreURI, target: Target, options: StoreOptions) -> AzureStore:
    uri.require_known_options(OPTIONS)
    host, _, prefix = uri.location.partition("/")
    prefix = prefix.strip("/")
    if not HOST.match(host):
        raise InputError(f"store {uri.text!r}: {host!r} is not a vault name or host — "
                         "e.g. azure-kv://myvault/myapp or azure-kv://myvault.vault.azure.net/myapp")
    if "." in host or ":" in host:
        vault_url = f"https://{host}"
    elif VAULT_NAME.match(host):
        vault_url = f"https://{host}.vault.azure.net"
    else:
        raise InputError(f"store {uri.text!r}: {host!r} is not a valid vault name — 3 to 24 letters, digits "
                         "and '-', starting with a letter")
    if prefix and not PREFIX.match(prefix):
        raise InputError(f"store {uri.text!r}: prefix {prefix!r} — Key Vault names take only letters, digits "
                         "and '-' (e.g. myapp-prod)")
    if len(prefix) > 100:
        raise InputError(f"store {uri.text!r}: the prefix is over 100 characters; Key Vault names end at 127")
    retries = uri.option("retries")
    if retries is not None and not (retries.isdigit() and int(retries) <= 20):
        raise InputError(f"store {uri.text!r}: retries={retries!r} must be a number from 0 to 20")
    hostname, _, port = vault_url.removeprefix("https://").partition(":")
    if port and not 1 <= int(port) <= 65535:  # HOST allows only digits here
        raise InputError(f"store {uri.text!r}: port {port} — a port is a number from 1 to 65535")
    endpoints.check_host(hostname, int(port) if port else None, where=f"store {uri.text!r}",
                         setting="the vault host in the store URI",
                         trusted=lambda name: endpoints.under(name, endpoints.AZURE_VAULT_SUFFIXES), tls=True)
    auth.check_authority()
    # The SDK's own check (the challenge's resource must be a parent domain of the vault's)
    # cannot pass for a private-link name, a loopback fake or an allowed proxy; for those the
    # token's scope is pinned by _VaultScopeOnly instead, so the server never picks it.
    kwargs: dict[str, Any] = {"verify_challenge_resource": hostname.lower().endswith(auth.AZURE_VAULT_DOMAINS),
                              "connection_timeout": 10, "read_timeout": 60}
    if retries is not None:
        kwargs["retry_total"] = int(retries)
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    if ca_bundle:
        kwargs["connection_verify"] = ca_bundle
    credential = auth.credential(target)
    client = SecretClient(vault_url, auth.VaultScopeOnly(credential, auth.vault_scope(host)), **kwargs)
    store = AzureStore(uri.text, host, vault_url, prefix, resolve_layout(uri, target), client, options)
    store.credential = credential
    return store
