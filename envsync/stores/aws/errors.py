"""How AWS Secrets Manager's errors read: one StoreError line naming the action, the secret
and the fix; the few codes callers act on are their own classes."""
from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from envsync.errors import ConflictError, EnvSyncError, StoreError
from envsync.stores.calls import one_line


class Missing(StoreError):
    """ResourceNotFoundException: callers that expect it handle it; elsewhere it is exit 3."""


class Exists(ConflictError):
    """ResourceExistsException: someone created the secret (or that version) first."""


class StageMoved(ConflictError):
    """AWSCURRENT is no longer on the version the plan was made against."""


class InvalidRequest(StoreError):
    """GetSecretValue refused for the secret's state (e.g. scheduled for deletion)."""


def error_from(code: str, message: str, operation: str, secret_id: str) -> EnvSyncError:
    action = f"secretsmanager:{operation}"
    message = one_line(message)
    if code in ("AccessDeniedException", "AccessDenied", "403"):
        return StoreError(f"AWS denied {action} on {secret_id} — grant that action to the identity EnvSync "
                          f"runs as ({message})")
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException",
                "InvalidSignatureException"):
        return StoreError(f"AWS rejected the credentials ({code}) — refresh them (`aws sso login`, "
                          "a new OIDC token) and run again")
    if code in ("ThrottlingException", "TooManyRequestsException", "LimitExceededException"):
        return StoreError(f"AWS kept throttling {action} on {secret_id} after retries — run again later")
    if code == "InvalidRequestException" and "deletion" in message.lower():
        return StoreError(f"{secret_id} is scheduled for deletion — restore it with "
                          f"`aws secretsmanager restore-secret --secret-id {secret_id}` and run again")
    if code in ("DecryptionFailure", "KMSAccessDeniedException", "KMSDisabledException"):
        return StoreError(f"AWS could not use the KMS key of {secret_id} ({code}) — grant kms:Decrypt/"
                          f"kms:GenerateDataKey on it ({message})")
    return StoreError(f"AWS {action} on {secret_id} failed: {code or 'error'} — {message}")


def translate(exc: Exception, operation: str, secret_id: str) -> EnvSyncError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return error_from(error.get("Code", ""), error.get("Message", ""), operation, secret_id)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return StoreError("no AWS credentials found — set AWS_PROFILE or run `aws sso login`; in CI, "
                          "configure OIDC (aws_role_arn in the target's auth table)")
    if isinstance(exc, NoRegionError):
        return StoreError("no AWS region — add ?region=… to the store URI, or set AWS_REGION or AWS_DEFAULT_REGION")
    if isinstance(exc, EndpointConnectionError):
        return StoreError(f"cannot reach AWS Secrets Manager ({exc}) — check the network or the endpoint= option")
    return StoreError(f"AWS {operation} on {secret_id} failed: {exc.__class__.__name__} — {one_line(str(exc))}")
