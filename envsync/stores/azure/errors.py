"""How Azure Key Vault's errors read: one StoreError line naming the vault, what was being
done and the role or permission it needs; the answers callers act on are their own classes."""
from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from envsync import nesting
from envsync.errors import ConflictError, EnvSyncError, StoreError
from envsync.stores.azure.auth import AUDIENCE

READS = {"read", "list", "history"}
# RBAC data roles and access-policy permissions each kind of call needs
ROLE_FOR = {"read": "Key Vault Secrets User", "list": "Key Vault Secrets User", "history": "Key Vault Secrets User"}
PERMISSION_FOR = {"read": "get", "list": "list", "history": "list", "write": "set", "delete": "delete",
                  "purge": "purge", "recover": "recover", "deleted": "list and get (deleted secrets)"}
DOING = {"read": "reading", "list": "listing", "history": "listing the versions of", "write": "writing",
         "delete": "deleting", "purge": "purging", "recover": "recovering", "deleted": "looking up deleted"}


class Missing(ConflictError):
    """404: where a caller expects it, it is handled; elsewhere the name vanished since the read."""


class SoftDeleted(ConflictError):
    """409 on a write: the name is soft-deleted (someone deleted it since the read)."""


class Disabled(StoreError):
    """403 SecretDisabled."""


def details(exc: HttpResponseError) -> tuple[str, str, str]:
    """(code, inner code, message) of a Key Vault error answer."""
    code = inner = message = ""
    try:
        body = nesting.json_loads(exc.response.text()) if exc.response is not None else {}
        error = body.get("error", {}) if isinstance(body, dict) else {}
        code, message = str(error.get("code", "")), str(error.get("message", ""))
        inner = str((error.get("innererror") or {}).get("code", ""))
    except (ValueError, AttributeError, TypeError):
        pass
    if not message:
        message = first_line(exc)
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    kept = lines[:1] + [line for line in lines[1:] if line.startswith("Action:")]
    return code, inner, " ".join(kept)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    return (text.strip().splitlines() or [exc.__class__.__name__])[0][:300]


def http_error(vault: str, status: int | None, code: str, message: str, kind: str, what: str) -> EnvSyncError:
    """The StoreError of an HTTP error answer to a `kind` of call on `what`."""
    doing = f"{DOING.get(kind, kind)} {what}"
    if status == 403:
        role = ROLE_FOR.get(kind, "Key Vault Secrets Officer")
        need = "reads" if kind in READS else "writes"
        return StoreError(
            f"Azure Key Vault {vault} denied {doing} (403 {code or 'Forbidden'}) — the identity EnvSync "
            f"runs as needs the RBAC role \"{role}\" on the vault for {need} (or, on a vault that uses access "
            f"policies, the secret permission '{PERMISSION_FOR.get(kind, kind)}'). Azure said: {message}")
    if status == 401:
        return StoreError(f"Azure Key Vault {vault} refused the token while {doing} (401) — is the "
                          f"identity in the vault's tenant? Azure said: {message}")
    if status in (408, 429) or (status or 0) >= 500:
        return StoreError(f"Azure Key Vault {vault} kept failing while {doing} ({status} {code}) after "
                          f"retries — run again later. Azure said: {message}")
    return StoreError(f"Azure Key Vault {vault}: {doing} failed ({status} {code}) — {message}")


def auth_error(vault: str, exc: ClientAuthenticationError) -> EnvSyncError:
    """The StoreError of a credential that could not sign in."""
    summary = "; ".join(line.strip() for line in str(exc.message or exc).splitlines()
                        if line.strip() and "troubleshoot" not in line)[:600]
    if "ClientAssertionCredential" in summary:
        return StoreError(
            f"Entra refused this CI job's OIDC token for Key Vault {vault} ({summary}) — the app's federated "
            f"credential must match the token's issuer, subject and audience ({AUDIENCE} unless "
            "`audience` is set)")
    return StoreError(
        f"no usable Azure credential for Key Vault {vault} ({summary}) — sign in with `az login`, or set "
        "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET; in CI set azure_tenant_id and "
        "azure_client_id in the target's auth table (or ENVSYNC_AZURE_TENANT_ID / ENVSYNC_AZURE_CLIENT_ID): "
        "EnvSync then uses the job's OIDC token (on AKS, the AZURE_FEDERATED_TOKEN_FILE)")
