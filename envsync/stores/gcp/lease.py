"""The write lease on a GCP secret: Secret Manager's compare-and-swap.

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
"""
from __future__ import annotations

import secrets as _secrets
import time
from dataclasses import dataclass, field
from typing import Any

from envsync.errors import ConflictError, EnvSyncError, StoreError
from envsync.model import Change
from envsync.stores.calls import Pool
from envsync.stores.gcp.errors import Aborted, Exists, Missing
from envsync.stores.gcp.wire import (
    DELETED_ANNOTATION,
    KEY_ANNOTATION,
    LOCK_ANNOTATION,
    MANAGED_LABEL,
    MANAGED_VALUE,
    PREFIX_ANNOTATION,
)

LOCK_SECONDS = 60


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
class Outcome:
    """What writing under one claim came to."""

    claim: Claim
    version: str | None = None
    error: EnvSyncError | None = None
    deleted: str | None = None
    warnings: list[str] = field(default_factory=list)


class Leases:
    """The lease protocol, for GcpStore (which provides _call, _secret_name, _as_listed,
    _latest_value, _bundle_latest and _note)."""

    uri: str
    project: str
    prefix: str
    layout: str
    _pool: Pool

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
                except Exists:
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
            except (Aborted, Missing):
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
        except Missing:
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

    def _release(self, held: Claim, outcome: Outcome) -> None:
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

        self._pool(undo, claims)

    def _update(self, name: str, etag: str, labels: dict[str, str], annotations: dict[str, str]) -> Any:
        return self._call("UpdateSecret", name, request={
            "secret": {"name": name, "etag": etag, "labels": labels, "annotations": annotations},
            "update_mask": {"paths": ["labels", "annotations"]}})
