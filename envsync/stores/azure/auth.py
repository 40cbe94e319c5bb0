"""Azure credentials: this CI's OIDC token as a client assertion when the target names
the tenant and the app (envsync.ci), workload identity on AKS, else DefaultAzureCredential;
and the guard that gives tokens out for the vault's own scope only."""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from envsync import ci, endpoints
from envsync.errors import StoreError

if TYPE_CHECKING:
    from envsync.config import Target

AUDIENCE = "api://AzureADTokenExchange"  # what Entra's federated credentials expect
# Vault hosts of the Azure clouds: the challenge's resource is checked against these.
AZURE_VAULT_DOMAINS = (".vault.azure.net", ".vault.azure.cn", ".vault.usgovcloudapi.net",
                       ".vault.microsoftazure.de", ".managedhsm.azure.net", ".managedhsm.azure.cn",
                       ".managedhsm.usgovcloudapi.net")


def check_authority() -> None:
    """AZURE_AUTHORITY_HOST receives the client assertion (the CI's ID token): Entra's own
    hosts, loopback or an allowance only, as for any endpoint."""
    authority = os.environ.get("AZURE_AUTHORITY_HOST", "").strip()
    if authority:
        url = authority if "://" in authority else "https://" + authority  # azure-identity's default scheme
        endpoints.check_url(url, where="AZURE_AUTHORITY_HOST", setting="AZURE_AUTHORITY_HOST",
                            trusted=lambda host: host in endpoints.AZURE_AUTHORITY_HOSTS)


def vault_scope(vault: str) -> str:
    """The data-plane scope of a vault host's cloud (public, China, US Gov, Germany, Managed
    HSM); a private-link name is its cloud's; anything else (loopback, a proxy) public."""
    host = vault.split(":")[0].lower().replace(".privatelink.vaultcore.", ".vault.")
    domain = next((d for d in AZURE_VAULT_DOMAINS if host.endswith(d)), ".vault.azure.net")
    return f"https://{domain[1:]}/.default"


class VaultScopeOnly:
    """A credential that gives out tokens for one Key Vault scope only. The scope otherwise
    comes from the server's 401 challenge: a host that asked for another resource's scope
    (management.azure.com, graph) would receive a token usable there."""

    def __init__(self, credential: Any, scope: str) -> None:
        self._credential = credential
        self._scope = scope

    def _check(self, scopes: tuple[str, ...]) -> None:
        if any(_scope_resource(s) != _scope_resource(self._scope) for s in scopes):
            raise StoreError(f"the Key Vault server asked for a token for {', '.join(map(repr, scopes))[:200]}, not "
                             f"for {self._scope} — refused; check the vault host in the store URI")

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self._check(scopes)
        return self._credential.get_token(*scopes, **kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        self._check(scopes)
        return self._credential.get_token_info(*scopes, options=options)

    def close(self) -> None:
        getattr(self._credential, "close", lambda: None)()


def _scope_resource(scope: str) -> str:
    return scope.lower().removesuffix("/.default").rstrip("/")


def credential(target: Target) -> Any:
    """This CI's OIDC token when the target names the app and the run has one; else workload
    identity when a federated token file is at hand (AKS); else DefaultAzureCredential,
    steered by whatever ids the target gives."""
    from azure.identity import DefaultAzureCredential, WorkloadIdentityCredential

    # azure-identity logs each failed attempt at WARNING; with no logging set up, Python
    # would print those to stderr beside EnvSync's own one-line error.
    logging.getLogger("azure.identity").addHandler(logging.NullHandler())
    federated = federated_credential(target)
    if federated is not None:
        return federated
    tenant = ci.setting(target, "azure_tenant_id")
    client_id = ci.setting(target, "azure_client_id")
    token_file = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
    if tenant and client_id and token_file:
        return WorkloadIdentityCredential(tenant_id=tenant, client_id=client_id, token_file_path=token_file)
    kwargs: dict[str, str] = {}
    if client_id:
        kwargs.update(managed_identity_client_id=client_id, workload_identity_client_id=client_id)
    if tenant:
        kwargs.update(workload_identity_tenant_id=tenant, shared_cache_tenant_id=tenant,
                      visual_studio_code_tenant_id=tenant)
    return DefaultAzureCredential(**kwargs)


def federated_credential(target: Target) -> Any | None:
    """A ClientAssertionCredential on this CI's ID token when the target names the tenant
    and the app (client) id and the run has an ID token to offer, else None."""
    tenant = ci.setting(target, "azure_tenant_id")
    client_id = ci.setting(target, "azure_client_id")
    if not (tenant and client_id and ci.has_id_token(target)):  # has_id_token refuses a non-JWT token
        return None
    if os.environ.get("AZURE_FEDERATED_TOKEN_FILE") and not _token_at_hand(target):
        return None  # a runner on AKS with workload identity: its token file serves
    from azure.identity import ClientAssertionCredential

    return ClientAssertionCredential(tenant, client_id, lambda: ci.id_token(target, AUDIENCE))


def _token_at_hand(target: Target) -> bool:
    return bool(ci.given_token(target) or os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"))
