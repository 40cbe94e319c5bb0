"""Azure Key Vault (`azure-kv://`): opened in `connect.py` (the URI, the vault host, the
client), the store in `store.py`, its credentials (and the CI's OIDC federation into them)
in `auth.py`, secret names and tags in `names.py`, the version log tag that records
deletions in `versionlog.py`, error messages in `errors.py`.

This module is what EnvSync knows of the backend before the Azure SDK is imported."""
from __future__ import annotations

from typing import TYPE_CHECKING

from envsync.errors import EnvSyncError
from envsync.stores.backend import Backend

if TYPE_CHECKING:
    from envsync.config import Target


def _federation(target: Target) -> str | None:
    from envsync import ci  # loads urllib and ssl: only where it is needed

    client_id = ci.setting(target, "azure_client_id")
    if ci.setting(target, "azure_tenant_id") and client_id and _offers_token(target):
        return f"Azure app {client_id}"
    return None


def _offers_token(target: Target) -> bool:
    from envsync import ci

    try:
        return ci.has_id_token(target)
    except EnvSyncError:  # a token that is refused (not a JWT): opening the store says why
        return True


BACKEND = Backend(
    scheme="azure-kv",
    module="envsync.stores.azure.connect",
    extra="azure",
    auth_keys=frozenset({"azure_tenant_id", "azure_client_id"}),
    federation=_federation,
)
