"""AWS Secrets Manager: the store of an `aws-sm://` target (opened by `connect.py`).

bundle:  one secret NAME holding the target as a JSON object (sharded past 64 KiB).
per-key: one secret PREFIX/KEY per key, tagged managed-by=envsync and envsync-key=KEY.

Reads use ListSecrets (100 a page) and BatchGetSecretValue (20 a call) on a
bounded thread pool. Every change to an existing secret is compare-and-swap:
the new value is written under a private staging label, then AWSCURRENT is
moved to it with RemoveFromVersionId = the version the plan was made
against, which AWS refuses if someone else moved it first. A delete is
compared right before it is made (AWS has no conditional delete). Each write
has a random idempotency token, which botocore reuses on its retries; a
re-run adds no version because unchanged keys are not written at all.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from envsync.errors import ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import KEY_PATTERN, Change, Snapshot, VersionInfo
from envsync.stores import bundle
from envsync.stores.aws import auth
from envsync.stores.aws.errors import Exists, InvalidRequest, Missing, StageMoved, error_from, translate
from envsync.stores.base import (
    LayoutWriter,
    Progress,
    StoreOptions,
    Unreadable,
    applied,
    bundle_changes,
    collect_per_key,
    key_changes,
    no_progress,
    unreadable,
)
from envsync.stores.calls import bounded_pool, snake

VALUE_LIMIT = 65_536  # bytes in one SecretString
SHARD_LIMIT = 60_000  # leaves room below the limit
LIST_PAGE = 100
BATCH_GET = 20
WORKERS = 8
HISTORY_DEPTH = 100  # bundle versions read to tell when one key changed (AWS keeps ~100)
PENDING_STAGE = "ENVSYNC_PENDING"  # our own label: never disturbs a rotation's AWSPENDING
MANAGED_TAG = {"Key": "managed-by", "Value": "envsync"}
KEY_TAG = "envsync-key"
NAME_LIMIT = 512  # characters in a secret name
_pool = bounded_pool(WORKERS)


@dataclass
class Listed:
    """One secret as ListSecrets shows it."""

    name: str
    arn: str
    key: str
    current: str | None
    managed: bool
    deleted: bool
    stages: dict[str, list[str]] = field(default_factory=dict)


class AwsStore(LayoutWriter):
    def __init__(self, uri: str, name: str, layout: str, client: Any, options: StoreOptions,
                 recovery_days: int) -> None:
        self.uri = uri
        self.name = name
        self.layout = layout
        self.client = client
        self.options = options
        self.recovery_days = recovery_days
        self.notes: list[str] = []
        self._shards = 0
        self.session: Any = None  # the boto3 session the client came from (for `doctor`)
        self.endpoint: str | None = None

    @property
    def rollback_caveat(self) -> str | None:
        if self.layout != "per-key":
            return None
        return ("AWS keeps no history of a per-key secret while it waits out its recovery window: a key deleted "
                "since then is not restored — `aws secretsmanager restore-secret` brings it back")

    # -- doctor ----------------------------------------------------------------

    def identity(self) -> str:
        sts = self.session.client("sts", endpoint_url=auth.sts_endpoint(self.endpoint),
                                  config=Config(user_agent_extra="envsync"))
        try:
            return sts.get_caller_identity()["Arn"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "GetCallerIdentity", "your identity") from None

    def probe_write(self) -> str:
        """PutSecretValue on a name that does not exist: AWS authorises the call before it looks
        the secret up, so "not found" means writes are allowed and nothing is written."""
        probe = f"{self.name}/envsync-doctor-{uuid.uuid4().hex[:12]}"
        try:
            self._call("PutSecretValue", probe, SecretId=probe, SecretString="probe",
                       ClientRequestToken=str(uuid.uuid4()))
        except Missing:
            return "secretsmanager:PutSecretValue allowed (CreateSecret and tagging cannot be probed without writing)"
        raise StoreError(f"{probe} unexpectedly exists — delete it")  # pragma: no cover - a random name

    # -- reading -------------------------------------------------------------

    def _read(self, progress: Progress = no_progress) -> Snapshot:
        if self.layout == "bundle":
            return self._read_bundle()
        listed = [s for s in self._list(include_deleted=False) if s.current]
        found = self._batch_get(listed, progress)
        return Snapshot(values={k: v for k, (v, _) in found.items()},
                        versions={k: vid for k, (_, vid) in found.items()})

    def _read_bundle(self) -> Snapshot:
        try:
            response = self._call("GetSecretValue", self.name, SecretId=self.name, VersionStage="AWSCURRENT")
        except Missing:
            return Snapshot(values={})
        except InvalidRequest as refused:
            described = self._describe(self.name)
            if described is not None and described.get("DeletedDate"):
                raise StoreError(f"{self.name} is scheduled for deletion — restore it with "
                                 f"`aws secretsmanager restore-secret --secret-id {self.name}` and run again") from None
            raise refused from None
        version = response["VersionId"]
        values, self._shards = self._bundle_values(response, self.name)
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _bundle_values(self, response: Mapping[str, Any], where: str) -> tuple[dict[str, str], int]:
        """A bundle version's values, and how many shards hold them."""
        with unreadable():
            parsed = bundle.parse(_text(response, where), where)
            if isinstance(parsed, dict):
                return parsed, 0
            bundle.check_shards(parsed, self._shard_name, where)
        responses = _pool(lambda shard: self._call(
            "GetSecretValue", shard.name, SecretId=shard.name, VersionId=shard.version), parsed)
        with unreadable():
            pieces = [_text(response, shard.name) for response, shard in zip(responses, parsed)]
            return bundle.join(pieces, where), len(parsed)

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        """The bundle's values at an older version, or None if AWS no longer serves it (or
        it cannot be read); an auth or network failure is raised, not taken for that."""
        if not 32 <= len(version) <= 64:  # no such id: botocore would refuse the call
            return None
        try:
            response = self._call("GetSecretValue", self.name, SecretId=self.name, VersionId=version)
            return self._bundle_values(response, f"{self.name}@{version}")[0]
        except (Missing, InvalidRequest, Unreadable):
            return None

    def _list(self, include_deleted: bool) -> list[Listed]:
        prefix = self.name + "/"
        found: list[Listed] = []
        pages = self.client.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [prefix]}], IncludePlannedDeletion=include_deleted,
            PaginationConfig={"PageSize": LIST_PAGE})
        try:
            for page in pages:
                for entry in page.get("SecretList", []):
                    listed = self._listed(entry, prefix)
                    if listed is not None:
                        found.append(listed)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "ListSecrets", prefix + "*") from None
        return found

    def _listed(self, entry: Mapping[str, Any], prefix: str) -> Listed | None:
        name = entry["Name"]
        if not name.startswith(prefix):  # AWS's name filter is case-insensitive
            return None
        tags = {t["Key"]: t.get("Value", "") for t in entry.get("Tags", [])}
        key = name[len(prefix):]
        if "/" in key:
            return None  # belongs to a deeper prefix: another target's, never ours to read or prune
        if tags.get("envsync-layout") in ("bundle", "shard") or tags.get(KEY_TAG, key) != key:
            return None  # another target's bundle or shard that happens to sit under our prefix
        if not KEY_PATTERN.match(key):
            self.notes.append(f"{name}: ignored — {key!r} is not a valid .env key name")
            return None
        stages = entry.get("SecretVersionsToStages", {})
        current = next((v for v, s in stages.items() if "AWSCURRENT" in s), None)
        return Listed(name, entry["ARN"], key, current, tags.get("managed-by") == "envsync",
                      entry.get("DeletedDate") is not None, stages)

    def _batch_get(self, listed: list[Listed], progress: Progress) -> dict[str, tuple[str, str]]:
        by_arn = {s.arn: s for s in listed}
        arns = list(by_arn)
        batches = [arns[i:i + BATCH_GET] for i in range(0, len(arns), BATCH_GET)]

        def fetch(arns: list[str]) -> list[tuple[str, str, str]]:
            rows = self._batch_call(arns)
            progress(len(arns))
            return rows

        found: dict[str, tuple[str, str]] = {}
        for rows in _pool(fetch, batches):
            for arn, value, version in rows:
                found[by_arn[arn].key] = (value, version)
        # A secret that moved between the list and the batch (or an emulator that answers
        # batches with a stale version) is read again by its AWSCURRENT stage.
        stale = [s for s in listed if s.key in found and found[s.key][1] != s.current]
        for secret, response in zip(stale, _pool(self._get_current, stale)):
            if response is None:
                found.pop(secret.key, None)
            else:
                found[secret.key] = (_from_aws(_text(response, secret.name)), response["VersionId"])
        return found

    def _batch_call(self, arns: list[str]) -> list[tuple[str, str, str]]:
        rows, token = [], None
        while True:
            kwargs: dict[str, Any] = {"SecretIdList": arns}
            if token:
                kwargs["NextToken"] = token
            response = self._call("BatchGetSecretValue", arns[0], **kwargs)
            for error in response.get("Errors", []):
                if error.get("ErrorCode") != "ResourceNotFoundException":
                    raise error_from(error.get("ErrorCode", ""), error.get("Message", ""),
                                      "BatchGetSecretValue", error.get("SecretId", "?"))
            for secret in response.get("SecretValues", []):
                if "SecretString" not in secret:
                    self.notes.append(f"{secret['Name']}: ignored — a binary secret, not text")
                    continue
                rows.append((secret["ARN"], _from_aws(secret["SecretString"]), secret["VersionId"]))
            token = response.get("NextToken")
            if not token:
                return rows

    def _get_current(self, secret: Listed) -> Mapping[str, Any] | None:
        try:
            return self._call("GetSecretValue", secret.name, SecretId=secret.arn, VersionStage="AWSCURRENT")
        except Missing:
            return None

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        if self.layout == "bundle":
            return self._bundle_versions(wanted)
        pairs = list(wanted.items())
        values = _pool(lambda pair: self._value_at(self._secret_name(pair[0]), pair[1]), pairs)
        return {key: value for (key, _), value in zip(pairs, values) if value is not None}

    def _bundle_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        versions = sorted(set(wanted.values()))
        documents = dict(zip(versions, _pool(self._bundle_at, versions)))
        return {key: documents[v][key] for key, v in wanted.items()  # type: ignore[index]
                if documents[v] is not None and key in documents[v]}  # type: ignore[operator]

    def _value_at(self, secret_id: str, version: str) -> str | None:
        try:
            response = self._call("GetSecretValue", secret_id, SecretId=secret_id, VersionId=version)
        except (Missing, StoreError):
            return None
        text = response.get("SecretString")
        return None if text is None else _from_aws(text)

    # -- writing -------------------------------------------------------------

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        values = applied(expected.values, changes)
        described = self._describe(self.name)
        current = _current(described) if described else None
        if current != expected.revision:
            raise ConflictError(f"{self.uri}: the secret changed since it was read (another push won); run again to re-plan")
        if described is not None:
            self._check_writable(self.name, described)
        payload, shards = bundle.encode(values), []
        if len(payload) > SHARD_LIMIT:
            shards = self._write_shards(payload)  # all shards first...
            payload = bundle.manifest([shard for shard, _ in shards])
        # ...then the manifest, so readers see the old snapshot or the new one
        version = self._put(self.name, payload, expected.revision,
                            tags=[MANAGED_TAG, {"Key": "envsync-layout", "Value": "bundle"}])
        self._promote_shards(shards)
        # The version just replaced is every other checkout's merge base, and AWS serves no
        # value of a deleted secret: its shards stay until the next write replaces it too.
        self._remove_shards_from(max(len(shards), self._shards))
        self._shards = len(shards)
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _shard_name(self, index: int) -> str:
        return f"{self.name}.envsync-shard-{index:03d}"

    def _write_shards(self, payload: str) -> list[tuple[bundle.Shard, str | None]]:
        """Write each piece as a new shard version under our pending label; AWSCURRENT is
        moved only once the manifest naming them is in place (`_promote_shards`), so a
        killed push never strips the labels off the versions the live manifest names."""
        pieces = bundle.split(payload, SHARD_LIMIT)

        def write(pair: tuple[int, str]) -> tuple[bundle.Shard, str | None]:
            name, piece = self._shard_name(pair[0]), pair[1]
            described = self._describe(name)
            if described is not None and described.get("DeletedDate") and _managed(described):
                self._call("RestoreSecret", name, SecretId=name)  # a shard a smaller bundle gave up
            elif described is not None:
                self._check_writable(name, described)
            token = _token()
            if described is None:
                self._create(name, piece, token, [MANAGED_TAG, {"Key": "envsync-layout", "Value": "shard"}])
                return bundle.Shard(name, token), None
            self._call("PutSecretValue", name, SecretId=name, SecretString=piece, ClientRequestToken=token,
                       VersionStages=[PENDING_STAGE])
            return bundle.Shard(name, token), _current(described)

        return _pool(write, list(enumerate(pieces)))

    def _promote_shards(self, shards: list[tuple[bundle.Shard, str | None]]) -> None:
        def promote(pair: tuple[bundle.Shard, str | None]) -> None:
            shard, previous = pair
            if previous is not None and previous != shard.version:
                try:
                    self._call("UpdateSecretVersionStage", shard.name, SecretId=shard.name, VersionStage="AWSCURRENT",
                               MoveToVersionId=shard.version, RemoveFromVersionId=previous)
                except (StageMoved, EnvSyncError):
                    self.notes.append(f"{shard.name}: could not move AWSCURRENT to the version in use (harmless)")

        _pool(promote, shards)

    def _remove_shards_from(self, first_unused: int) -> None:
        """Delete shard secrets neither the new bundle nor the one it replaced uses (they would
        still be billed)."""
        index = first_unused
        while (described := self._describe(self._shard_name(index))) is not None:
            if not described.get("DeletedDate"):
                try:
                    self._delete(self._shard_name(index), self._shard_name(index))
                except EnvSyncError as exc:
                    self.notes.append(f"{self._shard_name(index)}: no longer used, but could not be deleted ({exc})")
            index += 1

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        for change in changes:
            if change.value is not None and len(_to_aws(change.value).encode("utf-8")) > VALUE_LIMIT:
                raise InputError(f"{change.key}: the value is over AWS's 64 KiB limit for one secret — "
                                 "nothing was pushed; use the bundle layout or shorten it")
            if len(self._secret_name(change.key)) > NAME_LIMIT:
                raise InputError(f"{change.key}: its secret name would be {len(self._secret_name(change.key))} "
                                 f"characters, over AWS's {NAME_LIMIT} — nothing was pushed; shorten the key or "
                                 "the prefix, or use the bundle layout")
        listed = {s.key: s for s in self._list(include_deleted=True)}
        for change in changes:
            self._precheck(change, listed.get(change.key), expected.versions.get(change.key))

        def write(change: Change) -> tuple[Change, str | None, EnvSyncError | None]:
            try:
                version = self._write_key(change, listed.get(change.key), expected.versions.get(change.key))
                progress(1)
                return change, version, None
            except EnvSyncError as exc:
                return change, None, exc

        return collect_per_key(expected, _pool(write, list(changes)))

    def _precheck(self, change: Change, listed: Listed | None, expected: str | None) -> None:
        """Refuse before any write: a stale plan, a secret pending deletion, or one we do not manage."""
        if listed is not None and listed.deleted:
            if change.is_delete:
                return  # already on its way out: nothing to do
            if expected is not None:
                raise ConflictError(f"{self.uri}: {change.key} was deleted from the store since it was read; "
                                    "run again to re-plan")
            if listed.managed or self.options.adopt:
                return  # our own pruned secret: it is restored and written (see _write_key)
            raise StoreError(
                f"{listed.name} is scheduled for deletion and was not created by EnvSync — restore it with "
                f"`aws secretsmanager restore-secret --secret-id {listed.name}`, or pass --adopt"
            )
        current = listed.current if listed else None
        if current != expected:
            raise ConflictError(f"{self.uri}: {change.key} changed in the store since it was read; run again to re-plan")
        if listed is not None and not listed.managed and not self.options.adopt:
            raise StoreError(f"{listed.name} was not created by EnvSync (no managed-by=envsync tag) — "
                             "pass --adopt to let EnvSync manage it")

    def _write_key(self, change: Change, listed: Listed | None, expected: str | None) -> str | None:
        name = self._secret_name(change.key)
        if change.is_delete:
            if listed is not None and not listed.deleted:
                # AWS has no conditional delete: compare right before it (one round trip of window).
                described = self._describe(listed.arn)
                if described is not None and _current(described) != expected:
                    raise ConflictError(f"{self.uri}: {change.key} changed in the store since it was read; "
                                        "run again to re-plan")
                self._delete(listed.arn, name)
            return None
        value = _to_aws(change.value or "")
        tags = [MANAGED_TAG, {"Key": KEY_TAG, "Value": change.key}]
        if listed is None:
            return self._create(name, value, _token(), tags)
        if listed.deleted:
            self._call("RestoreSecret", name, SecretId=listed.arn)
            self.notes.append(f"{name}: restored from its recovery window to write {change.key} again")
            expected = listed.current
        if not listed.managed:
            self._call("TagResource", name, SecretId=listed.arn, Tags=tags)
        return self._swap(listed.arn, name, value, expected)

    def _put(self, name: str, value: str, expected: str | None, tags: list[dict[str, str]]) -> str:
        """Create the secret, or compare-and-swap a new version onto the expected one."""
        if expected is None:
            return self._create(name, value, _token(), tags)
        return self._swap(name, name, value, expected)

    def _create(self, name: str, value: str, token: str, tags: list[dict[str, str]]) -> str:
        try:
            response = self._call("CreateSecret", name, Name=name, SecretString=value,
                                  ClientRequestToken=token, Tags=tags)
        except Exists:
            raise ConflictError(f"{self.uri}: {name} was created by someone else since it was read; run again to re-plan") from None
        return response["VersionId"]

    def _swap(self, secret_id: str, name: str, value: str, expected: str | None) -> str:
        token = _token()
        try:
            self._call("PutSecretValue", name, SecretId=secret_id, SecretString=value,
                       ClientRequestToken=token, VersionStages=[PENDING_STAGE])
        except (Exists, Missing):
            raise ConflictError(f"{self.uri}: {name} changed or was deleted since it was read; "
                                "run again to re-plan") from None
        try:
            self._call("UpdateSecretVersionStage", name, SecretId=secret_id, VersionStage="AWSCURRENT",
                       MoveToVersionId=token, RemoveFromVersionId=expected)
        except StageMoved:
            # If the answer to our first attempt was lost, botocore's retry is refused because
            # AWSCURRENT already moved — to our own version. That is success, not a conflict.
            described = self._describe(secret_id)
            if described is None or _current(described) != token:
                raise ConflictError(f"{self.uri}: {name} changed since it was read (another push won); "
                                    "run again to re-plan") from None
        return token

    def _delete(self, secret_id: str, name: str) -> None:
        kwargs: dict[str, Any] = {"SecretId": secret_id}
        if self.options.force_delete:
            kwargs["ForceDeleteWithoutRecovery"] = True
        else:
            kwargs["RecoveryWindowInDays"] = self.recovery_days
        try:
            self._call("DeleteSecret", name, **kwargs)
        except Missing:
            pass

    def _describe(self, secret_id: str) -> Mapping[str, Any] | None:
        try:
            return self._call("DescribeSecret", secret_id, SecretId=secret_id)
        except Missing:
            return None

    def _check_writable(self, name: str, described: Mapping[str, Any]) -> None:
        if described.get("DeletedDate"):
            raise StoreError(f"{name} is scheduled for deletion — restore it with "
                             f"`aws secretsmanager restore-secret --secret-id {name}` and run again")
        if not _managed(described):
            if not self.options.adopt:
                raise StoreError(f"{name} was not created by EnvSync (no managed-by=envsync tag) — "
                                 "pass --adopt to let EnvSync manage it")
            self._call("TagResource", name, SecretId=name, Tags=[MANAGED_TAG])

    # -- history and shape ---------------------------------------------------

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        if self.layout == "bundle":
            versions = self._versions_of(self.name, None)
            if key is None and not changes:
                return versions
            recent = list(reversed(versions[:HISTORY_DEPTH]))  # oldest first
            read = list(zip(recent, _pool(lambda v: self._bundle_at(v.version), recent)))
            if key is None:
                return bundle_changes(read, self.notes) + versions[HISTORY_DEPTH:]
            return key_changes(read, key)
        keys = [key] if key else sorted(s.key for s in self._list(include_deleted=False))
        per_key = _pool(lambda k: self._versions_of(self._secret_name(k), k), keys)
        entries = [e for versions in per_key for e in versions]
        return sorted(entries, key=lambda e: (e.created is not None, e.created), reverse=True)

    def _versions_of(self, secret_id: str, key: str | None) -> list[VersionInfo]:
        versions: list[Mapping[str, Any]] = []
        kwargs: dict[str, Any] = {"SecretId": secret_id, "IncludeDeprecated": True, "MaxResults": 100}
        while True:  # botocore has no paginator for ListSecretVersionIds
            try:
                page = self._call("ListSecretVersionIds", secret_id, **kwargs)
            except Missing:
                return []
            versions += page.get("Versions", [])
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        versions.sort(key=lambda v: v.get("CreatedDate") or 0)
        entries = [VersionInfo(v["VersionId"], v.get("CreatedDate"), None,
                               "added" if i == 0 else "changed", None, key=key)
                   for i, v in enumerate(versions)]
        return list(reversed(entries))

    # -- plumbing ------------------------------------------------------------

    def _secret_name(self, key: str) -> str:
        return f"{self.name}/{key}"

    def _call(self, operation: str, secret_id: str, **kwargs: Any) -> Any:
        method = getattr(self.client, snake(operation))
        try:
            return method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code == "ResourceNotFoundException":
                raise Missing(f"{secret_id} does not exist in AWS Secrets Manager (deleted meanwhile?) — "
                               "run again to re-plan") from None
            if code == "ResourceExistsException":
                raise Exists(f"{secret_id} was created by someone else meanwhile — run again to re-plan") from None
            if operation == "UpdateSecretVersionStage" and code == "InvalidParameterException":
                raise StageMoved(f"{secret_id} changed since it was read (another push won) — "
                                  "run again to re-plan") from None
            if operation == "GetSecretValue" and code == "InvalidRequestException":
                raise InvalidRequest(str(error_from(code, message, operation, secret_id))) from None
            raise error_from(code, message, operation, secret_id) from None
        except BotoCoreError as exc:
            raise translate(exc, operation, secret_id) from None


def _token() -> str:
    """A fresh idempotency token for one write. botocore resends the same request (and so
    the same token) on its retries, so a retried write adds no version. It is random on
    purpose: AWS shows it as the version id to anyone who may list secrets, so anything
    derived from the value would let them test guesses of it offline."""
    return str(uuid.uuid4())


def _managed(described: Mapping[str, Any]) -> bool:
    return any(t["Key"] == "managed-by" and t.get("Value") == "envsync" for t in described.get("Tags", []))


def _current(described: Mapping[str, Any]) -> str | None:
    stages = described.get("VersionIdsToStages", {})
    return next((v for v, s in stages.items() if "AWSCURRENT" in s), None)


def _text(response: Mapping[str, Any], where: str) -> str:
    if "SecretString" not in response:
        raise StoreError(f"{where} is a binary secret; EnvSync syncs text values")
    return response["SecretString"]



# AWS refuses an empty SecretString. A .env value never holds NUL (the reader refuses it),
# so a lone NUL stands for the empty value in the per-key layout.
EMPTY_VALUE = "\0"


def _to_aws(value: str) -> str:
    return value or EMPTY_VALUE


def _from_aws(text: str) -> str:
    return "" if text == EMPTY_VALUE else text
