"""GCP Secret Manager (`gcp-sm://`): opened in `connect.py` (the URI, the project, the
channel), the store in `store.py`, its credentials (and the CI's OIDC federation into
them) in `auth.py`, payloads, labels and crc32c in `wire.py`, the etag lease that makes
writes compare-and-swap in `lease.py`, error messages in `errors.py`.

This module is what EnvSync knows of the backend before the Google SDK is imported."""
from __future__ import annotations

from typing import TYPE_CHECKING

from envsync.stores.backend import Backend

if TYPE_CHECKING:
    from envsync.config import Target


def _federation(target: Target) -> str | None:
    from envsync import ci  # loads urllib and ssl: only where it is needed

    return "GCP workload identity federation" if ci.setting(target, "gcp_workload_identity_provider") else None


BACKEND = Backend(
    scheme="gcp-sm",
    module="envsync.stores.gcp.connect",
    extra="gcp",
    auth_keys=frozenset({"gcp_workload_identity_provider", "gcp_service_account"}),
    federation=_federation,
)
