"""How GCP Secret Manager's errors read: one StoreError line naming the permission, the
resource and the fix; the gRPC codes callers act on are their own classes."""
from __future__ import annotations

import re

from google.api_core import exceptions as gexc

from envsync.errors import ConflictError, EnvSyncError, StoreError

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


class Missing(StoreError):
    """NOT_FOUND: the callers that expect it treat it as absence."""


class Exists(ConflictError):
    """ALREADY_EXISTS on create."""


class Aborted(ConflictError):
    """ABORTED: an etag did not match."""


class Unusable(StoreError):
    """FAILED_PRECONDITION: e.g. a disabled or destroyed version; the message explains."""


def precondition_message(message: str, project: str, operation: str, resource: str) -> str:
    match = re.search(r"secrets/([^/\]]+)/versions/(\d+)\] is in (\w+) state", message)
    if match:
        return unusable_message(project, match.group(1), match.group(2), match.group(3))
    return f"GCP refused {operation} on {resource}: {message}"


def unusable_message(project: str, sid: str, version: str, state: str) -> str:
    if state == "DESTROYED":
        return (f"version {version} of the GCP secret {sid} is destroyed: its value is gone — push a new value "
                "(`envsync push`), or add a version of it")
    return (f"version {version} of the GCP secret {sid} is {state.lower()}, so GCP refuses to read it — enable it "
            f"(`gcloud secrets versions enable {version} --secret={sid} --project={project}`) or push a new value")


def transient(exc: Exception) -> bool:
    """Worth retrying: the service is busy or unreachable, not refusing us."""
    if isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.ResourceExhausted)):
        return "metadata from plugin" not in str(exc)  # a credential refresh failure does not heal
    return False


def auth_errors() -> type[Exception] | tuple[type[Exception], ...]:
    try:
        from google.auth.exceptions import GoogleAuthError
    except ImportError:  # pragma: no cover - google-auth comes with the client
        return ()
    return GoogleAuthError


def is_auth_error(exc: Exception) -> bool:
    errors = auth_errors()
    return bool(errors) and isinstance(exc, errors)


def code(exc: Exception) -> str:
    code = getattr(exc, "grpc_status_code", None)
    return getattr(code, "name", None) or type(exc).__name__


def describe(exc: Exception, operation: str, resource: str, *, project: str, endpoint: str,
             timeout: float) -> EnvSyncError:
    """The StoreError an SDK exception becomes."""
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause if isinstance(exc.cause, Exception) else exc
        return StoreError(f"cannot reach GCP Secret Manager at {endpoint} for {operation} on {resource}: "
                          f"{code(cause)} after retrying for {timeout:g} s — check the network, the "
                          "endpoint= and insecure= options, or raise timeout=")
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, gexc.PermissionDenied):
        if "SERVICE_DISABLED" in str(exc) or "has not been used in project" in message:
            return StoreError(f"the Secret Manager API is not enabled in project {project} — "
                              f"`gcloud services enable secretmanager.googleapis.com --project {project}`")
        permission, role = PERMISSIONS.get(operation, ("secretmanager.*", "roles/secretmanager.admin"))
        return StoreError(f"GCP denied {permission} on {resource} — grant it to the identity EnvSync runs as "
                          f"(e.g. {role}); GCP said: {message}")
    if isinstance(exc, gexc.Unauthenticated) or is_auth_error(exc):
        return StoreError(f"GCP rejected the credentials for {operation} ({message}) — run `gcloud auth "
                          "application-default login`, or check the CI's workload identity federation")
    if isinstance(exc, (gexc.ServiceUnavailable, gexc.DeadlineExceeded)):
        if "metadata from plugin" in message:
            return StoreError(f"could not get Google credentials for {operation}: {message}")
        return StoreError(f"cannot reach GCP Secret Manager at {endpoint} for {operation} on {resource}: "
                          f"{code(exc)} — check the network, or the endpoint= and insecure= options")
    if isinstance(exc, gexc.ResourceExhausted):
        return StoreError(f"GCP kept refusing {operation} on {resource} for quota after retries — run again "
                          "later, or raise the Secret Manager quota")
    if isinstance(exc, gexc.InvalidArgument):
        return StoreError(f"GCP refused {operation} on {resource}: {message}")
    return StoreError(f"GCP {operation} on {resource} failed: {code(exc)} — {message}")
