"""GCP Secret Manager: the store of a `gcp-sm://` target (opened by `connect.py`).

Layouts
-------
bundle:  one secret, id PREFIX (`myapp/prod` -> `myapp-prod`; `envsync` with no PREFIX),
         holding the target as one JSON object. Past GCP's 64 KiB payload limit the JSON
         is cut into 60,000-byte shards, each a version of the secret `ID--shard-N`
         (`--` never occurs in a per-key id, so a bundle's shards cannot collide with a
         per-key target of the same prefix), and the bundle secret gets a small manifest
         naming each shard's version, written last (envsync.stores.bundle).
per-key: one secret per key, id `PREFIX_KEY` (just `KEY` with no PREFIX). Secret ids allow
         letters, digits, `_` and `-`: `.` (and anything else, which KEY_PATTERN already
         rules out) becomes `-`. The mapping is the identity for ordinary keys, so
         `DATABASE_URL` is the secret `myapp-prod_DATABASE_URL` and an existing secret
         `myapp-prod_db-password` can be adopted as key `db-password`. The original key is
         kept in the annotation `envsync-key` (label values cannot hold uppercase), which
         is how reads undo the mapping; two keys that map to the same id (`a.b`, `a-b`)
         are refused before anything is written. Values are versions; old versions are
         kept (`keep_versions=N` destroys all but the newest N after each write).

Every secret EnvSync creates carries the label `managed-by=envsync` and the annotations
`envsync-layout` and (per-key) `envsync-key` / `envsync-prefix` (so a target never reads
another target's secrets that happen to share a name prefix). A secret without the label
is read, but never written or deleted unless the run passes `--adopt`, which adds the
label. With no PREFIX, per-key lists only labelled secrets (the whole project is not
a target).

Reading
-------
per-key: one ListSecrets (`filter=name:PREFIX_`, 1,000 a page), then AccessSecretVersion
of `latest` for every listed secret on a bounded thread pool (16). Bundle: one access,
plus one per shard. Every payload's crc32c is checked against the one GCP returns, and
every write sends one, so GCP checks it too; a mismatch is a StoreError.

Compare-and-swap: an etag lease on each secret written (`lease.py`).

Deleting (per-key)
------------------
GCP deletes a secret at once, with all its versions: there is no recovery window. So a
deleted key is not a deleted secret: EnvSync adds a deletion-marker version and disables
it. Every other reader of `latest` then gets GCP's FAILED_PRECONDITION ("version is
disabled") as for a missing secret; EnvSync reads the key as absent; and the key's
history and older values stay readable (the three-way merge needs them as a base; a
deletion is undone by pushing the key again). `--force-delete` deletes the secret itself,
history and all — GCP's only other kind of deletion — and cannot be undone. History
(ListSecretVersions, by create_time, newest first) shows a disabled version as a deletion
and leaves out destroyed ones; GCP records no author.

Values: GCP refuses an empty payload, so an empty value is stored as one NUL byte (and a
value that starts with NUL gets one more); other values are stored as their UTF-8 bytes.
Limits: 64 KiB per version (a larger per-key value is an InputError, nothing written).

Errors are StoreError (exit 3): PermissionDenied names the permission and the resource;
NotFound, FailedPrecondition (a disabled or destroyed version) and UNAUTHENTICATED are
explained; UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are retried with
backoff for up to `timeout=` seconds (default 60) per call, then reported.

"""
from __future__ import annotations

import re
import secrets as _secrets
import threading
from typing import Any, Mapping, Sequence

from google.api_core import exceptions as gexc
from google.api_core import retry as gretry

from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import KEY_PATTERN, Change, Snapshot, VersionInfo
from envsync.stores import bundle
from envsync.stores.base import (
    LayoutWriter,
    Progress,
    StoreOptions,
    Unreadable,
    applied,
    bundle_changes,
    collect_per_key,
    no_progress,
    unreadable,
)
from envsync.stores.calls import bounded_pool, snake
from envsync.stores.gcp import errors
from envsync.stores.gcp.errors import (
    Aborted,
    Exists,
    Missing,
    Unusable,
    auth_errors,
    precondition_message,
    transient,
    unusable_message,
)
from envsync.stores.gcp.lease import Claim, Leases, Listed, Outcome
from envsync.stores.gcp.wire import (
    BUNDLE_ANNOTATION,
    DELETED_ANNOTATION,
    KEY_ANNOTATION,
    LAYOUT_ANNOTATION,
    MANAGED_LABEL,
    MANAGED_VALUE,
    PREFIX_ANNOTATION,
    TOMBSTONE,
    VERSION_ID,
    crc32c,
    decode_value,
    encode_value,
    created,
    number,
)

VALUE_LIMIT = 65_536  # bytes in one secret version
SHARD_SIZE = 60_000  # bytes of bundle JSON per shard
LIST_PAGE = 1_000
WORKERS = 16
HISTORY_DEPTH = 100  # newest bundle versions `history TARGET` reads to name their changes (as AWS)
DEFAULT_TIMEOUT = 60.0
DEFAULT_BUNDLE = "envsync"
SHARD_MARK = "--shard-"


class GcpStore(Leases, LayoutWriter):
    _pool = staticmethod(bounded_pool(WORKERS))

    def __init__(self, uri: str, project: str, prefix: str, layout: str, client: Any, options: StoreOptions,
                 *, keep: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 endpoint: str = "secretmanager.googleapis.com") -> None:
        self.uri = uri
        self.project = project
        self.prefix = prefix
        self.layout = layout
        self.client = client
        self.options = options
        self.keep = keep
        self.timeout = timeout
        self.endpoint = endpoint
        self.who = ""  # who the calls run as (for `doctor`)
        self.credentials: Any | None = None
        self.notes: list[str] = []
        self.bundle_id = prefix or DEFAULT_BUNDLE
        self._shards = 0
        self._notes_lock = threading.Lock()
        self._retry = gretry.Retry(predicate=transient, initial=0.1, maximum=2.0, multiplier=2.0, timeout=timeout)

    # -- doctor ----------------------------------------------------------------

    def identity(self) -> str:
        if self.credentials is not None:
            from google.auth.transport.requests import Request

            try:
                self.credentials.refresh(Request())  # proves the sign-in (token exchange) works
            except auth_errors() as exc:
                raise self._error(exc, "sign-in", self.project) from None
        return self.who

    def probe_write(self) -> str:
        """AddSecretVersion to a secret that does not exist: GCP checks the permission first,
        so "not found" means writes are allowed and nothing is written."""
        parent = f"projects/{self.project}/secrets/{self.prefix or 'envsync'}-doctor-{_secrets.token_hex(8)}"
        try:
            self._call("AddSecretVersion", parent, {"parent": parent, "payload": {"data": b"probe"}})
        except Missing:
            return "secretmanager.versions.add allowed (secrets.create cannot be probed without writing)"
        raise StoreError(f"{parent} unexpectedly exists (a version was added to it) — delete it")

    # -- reading -------------------------------------------------------------

    def _read(self, progress: Progress = no_progress) -> Snapshot:
        if self.layout == "bundle":
            return self._read_bundle()
        listed = self._list()

        def fetch(secret: Listed) -> tuple[Listed, tuple[str, str] | None]:
            found = self._latest_value(secret, reading=True)
            progress(1)
            return secret, found

        values, versions = {}, {}
        for secret, found in self._pool(fetch, listed):
            if found is not None:
                values[secret.key], versions[secret.key] = found
        return Snapshot(values=values, versions=versions)

    def _read_bundle(self) -> Snapshot:
        try:
            response = self._call("AccessSecretVersion", self._version_name(self.bundle_id, "latest"))
        except Missing:
            self._shards = 0
            return Snapshot(values={})
        version = number(response.name)
        values, self._shards = self._bundle_values(response, self.bundle_id)
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _bundle_values(self, response: Any, where: str) -> tuple[dict[str, str], int]:
        """A bundle version's values and how many shards hold them."""
        with unreadable():
            parsed = bundle.parse(self._text(response, where), where)
            if isinstance(parsed, dict):
                return parsed, 0
            bundle.check_shards(parsed, lambda index: self._shard_id(index + 1), where)
        names = [self._version_name(shard.name, shard.version) for shard in parsed]
        responses = self._pool(lambda name: self._call("AccessSecretVersion", name), names)
        with unreadable():
            return bundle.join([self._text(r, name) for r, name in zip(responses, names)], where), len(parsed)

    def _text(self, response: Any, where: str) -> str:
        data = self._verified(response, where)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(f"{where} holds binary data, not an EnvSync bundle — use another PREFIX") from None

    def _verified(self, response: Any, where: str) -> bytes:
        data = bytes(response.payload.data)
        if "data_crc32c" in response.payload and crc32c(data) != response.payload.data_crc32c:
            raise StoreError(f"the payload of {response.name or where} failed its crc32c check (corrupted in "
                             "transit or storage); nothing was used — run again, and if it persists, add a new "
                             "version of that secret")
        return data

    def _latest_value(self, secret: Listed, reading: bool = False) -> tuple[str, str] | None:
        """(value, version) of a per-key secret's latest version; None when the key is absent
        (no versions, EnvSync's deletion marker, or a disabled/destroyed latest version)."""
        try:
            response = self._call("AccessSecretVersion", f"{secret.name}/versions/latest")
        except Missing:
            return None
        except Unusable:
            if reading and DELETED_ANNOTATION not in secret.annotations:
                self._note(f"{secret.secret_id}: its latest version is disabled or destroyed — {secret.key} "
                           "is treated as absent (enable the version, or push a new value)")
            return None
        data = self._verified(response, secret.secret_id)
        try:
            value = decode_value(data)
        except UnicodeDecodeError:
            if reading:
                self._note(f"{secret.secret_id}: ignored — its payload is binary, not text")
            return None
        return None if value is None else (value, number(response.name))

    def _list(self) -> list[Listed]:
        """The per-key secrets of this target, keys resolved; notes for what is skipped."""
        parent = f"projects/{self.project}"
        query = f"name:{self.prefix}_" if self.prefix else f"labels.{MANAGED_LABEL}={MANAGED_VALUE}"
        found: list[Listed] = []
        seen: dict[str, str] = {}
        pages = self._call("ListSecrets", parent, request={"parent": parent, "filter": query, "page_size": LIST_PAGE})
        try:
            for secret in pages:
                listed = self._listed(secret)
                if listed is None:
                    continue
                if listed.key in seen:
                    self._note(f"{listed.secret_id}: ignored — {seen[listed.key]} already holds {listed.key}")
                    continue
                seen[listed.key] = listed.secret_id
                found.append(listed)
        except (gexc.GoogleAPIError, auth_errors()) as exc:  # later pages are fetched while iterating
            raise self._error(exc, "ListSecrets", parent) from None
        return found

    def _listed(self, secret: Any) -> Listed | None:
        listed = self._as_listed(secret)
        sid = listed.secret_id
        head = f"{self.prefix}_" if self.prefix else ""
        if not sid.startswith(head) or listed.annotations.get(LAYOUT_ANNOTATION) in ("bundle", "shard"):
            return None  # only contains the prefix, or is a bundle's secret
        if listed.managed and listed.annotations.get(PREFIX_ANNOTATION, self.prefix) != self.prefix:
            return None  # another target's secret whose id happens to start with our prefix
        key = listed.annotations.get(KEY_ANNOTATION) or sid[len(head):]
        if not KEY_PATTERN.match(key):
            self._note(f"{sid}: ignored — {key!r} is not a valid .env key name")
            return None
        if self._secret_id(key, check=False) != sid:
            self._note(f"{sid}: ignored — its {KEY_ANNOTATION} annotation ({key!r}) does not match its id")
            return None
        listed.key = key
        return listed

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        wanted = {k: v for k, v in wanted.items() if isinstance(v, str) and VERSION_ID.match(v)}
        if self.layout == "bundle":
            versions = sorted(set(wanted.values()))
            documents = dict(zip(versions, self._pool(self._bundle_at, versions)))
            return {k: documents[v][k] for k, v in wanted.items()  # type: ignore[index]
                    if documents[v] is not None and k in documents[v]}  # type: ignore[operator]

        def fetch(pair: tuple[str, str]) -> str | None:
            key, version = pair
            try:
                response = self._call("AccessSecretVersion", self._version_name(self._secret_id(key), version))
                return decode_value(self._verified(response, key))
            except (StoreError, InputError, UnicodeDecodeError):
                return None

        pairs = list(wanted.items())
        return {key: value for (key, _), value in zip(pairs, self._pool(fetch, pairs)) if value is not None}

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        if not VERSION_ID.match(version):  # no such version: GCP would refuse the name as invalid
            return None
        try:
            response = self._call("AccessSecretVersion", self._version_name(self.bundle_id, version))
            return self._bundle_values(response, f"{self.bundle_id}@{version}")[0]
        except (Missing, Unusable, Unreadable):  # gone, disabled, destroyed, or not readable; not auth/network
            return None

    # -- writing -------------------------------------------------------------

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        ids = self._check_batch(changes)
        listed = {s.secret_id: s for s in self._list()}
        for change in changes:
            secret = listed.get(ids[change.key])
            if secret is None:
                continue
            if secret.key != change.key:
                raise InputError(f"{change.key} maps to the GCP secret {secret.secret_id}, which already holds "
                                 f"{secret.key} ('.' becomes '-' in secret ids) — rename one of the two keys")
            self._check_managed(secret, change.key)

        def claim(change: Change) -> tuple[Claim | None, EnvSyncError | None]:
            sid = ids[change.key]
            return self._claim(sid, listed.get(sid), expected.versions.get(change.key), change,
                               self._per_key_annotations(change.key))

        claims, errors = [], []
        for held, error in self._pool(claim, changes):
            if held is not None:
                claims.append(held)
            if error is not None:
                errors.append(error)
        if errors:
            self._rollback(claims)
            cause = next((e for e in errors if isinstance(e, ConflictError)), errors[0])
            raise ApplyError(cause, [], [c.key for c in changes])

        def write(held: Claim) -> Outcome:
            outcome = self._write_key(held)
            progress(1)
            return outcome

        results = []
        for outcome in self._pool(write, claims):
            for warning in outcome.warnings:
                self._note(warning)
            results.append((outcome.claim.change, outcome.version, outcome.error))
        return collect_per_key(expected, results)

    def _check_batch(self, changes: Sequence[Change]) -> dict[str, str]:
        """Secret ids of the changed keys; refuses, before any call, what cannot be written."""
        ids: dict[str, str] = {}
        owners: dict[str, str] = {}
        for change in changes:
            if change.value is not None and len(encode_value(change.value)) > VALUE_LIMIT:
                raise InputError(f"{change.key}: the value is over GCP's 64 KiB limit for one secret version — "
                                 "nothing was pushed (the bundle layout splits large targets)")
            sid = self._secret_id(change.key)
            if sid in owners and owners[sid] != change.key:
                raise InputError(f"{owners[sid]} and {change.key} both map to the GCP secret id {sid} "
                                 "('.' becomes '-') — rename one of them; nothing was pushed")
            ids[change.key], owners[sid] = sid, change.key
        return ids

    def _check_managed(self, secret: Listed, what: str) -> None:
        if not secret.managed and not self.options.adopt:
            raise StoreError(f"{secret.secret_id} was not created by EnvSync (no {MANAGED_LABEL}={MANAGED_VALUE} "
                             f"label), so {what} is not written — pass --adopt to let EnvSync manage it")

    def _per_key_annotations(self, key: str) -> dict[str, str]:
        return {KEY_ANNOTATION: key, PREFIX_ANNOTATION: self.prefix, LAYOUT_ANNOTATION: "per-key"}

    def _write_key(self, held: Claim) -> Outcome:
        outcome = Outcome(held)
        change = held.change
        assert change is not None
        try:
            if change.is_delete and self.options.force_delete:
                self._call("DeleteSecret", held.name, request={"name": held.name, "etag": held.etag})
                held.released = True
                return outcome
            if change.is_delete:
                version = self._add(held.name, TOMBSTONE)
                outcome.deleted = number(version.name)
                try:
                    self._call("DisableSecretVersion", version.name, request={"name": version.name,
                                                                               "etag": version.etag})
                except EnvSyncError as exc:
                    outcome.warnings.append(f"{held.secret_id}: {change.key} is deleted for EnvSync, but its "
                                            f"deletion marker could not be disabled for other readers ({exc})")
            else:
                outcome.version = number(self._add(held.name, encode_value(change.value or "")).name)
            outcome.warnings += self._prune(held.name)
        except EnvSyncError as exc:
            outcome.error = exc
        finally:
            self._release(held, outcome)
        return outcome

    def _add(self, name: str, data: bytes) -> Any:
        return self._call("AddSecretVersion", name, request={
            "parent": name, "payload": {"data": data, "data_crc32c": crc32c(data)}})

    def _prune(self, name: str) -> list[str]:
        """keep_versions=N: destroy all but the newest N versions of a secret just written."""
        if not self.keep:
            return []
        try:
            versions = [v for v in self._versions(name) if v.state.name != "DESTROYED"]
            for version in sorted(versions, key=lambda v: -int(number(v.name)))[self.keep:]:
                self._call("DestroySecretVersion", version.name, request={"name": version.name, "etag": version.etag})
        except EnvSyncError as exc:
            return [f"{name.rsplit('/', 1)[-1]}: older versions were not destroyed (keep_versions) — {exc}"]
        return []

    # -- the bundle --------------------------------------------------------------

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        values = applied(expected.values, changes)
        try:
            main: Listed | None = self._as_listed(self._call("GetSecret", self._secret_name(self.bundle_id)))
        except Missing:
            main = None
        if main is not None:
            self._check_managed(main, "the bundle")
        annotations = {LAYOUT_ANNOTATION: "bundle"}
        held, error = self._claim(self.bundle_id, main, expected.revision, None, annotations)
        if error is not None:
            if held is not None:
                self._rollback([held])
            raise error
        assert held is not None
        outcome = Outcome(held)
        written: list[bundle.Shard] = []
        try:
            payload, shards = bundle.encode(values), 0
            if len(payload) > VALUE_LIMIT:
                written = self._write_shards(payload)  # every shard first...
                payload, shards = bundle.manifest(written), len(written)
            # ...then the bundle secret names them: readers see the old snapshot or the new one
            outcome.version = number(self._add(held.name, payload.encode("ascii")).name)
        except EnvSyncError as exc:
            outcome.error = exc
            if held.original is None:
                self._rollback([held])
            raise
        finally:
            self._release(held, outcome)
            for warning in outcome.warnings:
                self._note(warning)
        # Old versions go only now that the new manifest is live: pruning a shard earlier
        # could destroy the versions the current manifest names.
        for name in [held.name, *(self._secret_name(shard.name) for shard in written)]:
            for warning in self._prune(name):
                self._note(warning)
        self._shards = shards
        version = outcome.version
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)  # type: ignore[misc]

    def _bundle_latest(self) -> str | None:
        try:
            version = self._call("GetSecretVersion", self._version_name(self.bundle_id, "latest"))
        except Missing:
            return None
        if version.state.name != "ENABLED":
            raise Unusable(unusable_message(self.project, self.bundle_id, number(version.name),
                                              version.state.name))
        return number(version.name)

    def _shard_id(self, number: int) -> str:
        """The secret holding the bundle's shard `number` (from 1)."""
        return f"{self.bundle_id}{SHARD_MARK}{number}"

    def _write_shards(self, payload: str) -> list[bundle.Shard]:
        pieces = bundle.split(payload, SHARD_SIZE)

        def write(item: tuple[int, str]) -> bundle.Shard:
            index, piece = item
            sid = self._shard_id(index)
            name = self._secret_name(sid)
            try:
                shard = self._as_listed(self._call("GetSecret", name))
                self._check_managed(shard, "a shard of the bundle")
                if not shard.managed:
                    self._update(shard.name, shard.etag, {**shard.labels, MANAGED_LABEL: MANAGED_VALUE},
                                 shard.annotations)
            except Missing:
                try:
                    self._call("CreateSecret", name, request={
                        "parent": f"projects/{self.project}", "secret_id": sid,
                        "secret": {"replication": {"automatic": {}}, "labels": {MANAGED_LABEL: MANAGED_VALUE},
                                   "annotations": {LAYOUT_ANNOTATION: "shard", BUNDLE_ANNOTATION: self.bundle_id}}})
                except Exists:
                    pass  # another writer's shard secret; we hold the bundle's lock, so adding is safe
            version = self._add(name, piece.encode("ascii"))
            return bundle.Shard(sid, number(version.name))

        return self._pool(write, list(enumerate(pieces, 1)))

    # -- history and shape ---------------------------------------------------

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        if self.layout == "bundle":
            return self._bundle_history(key, changes)
        if key is not None:
            try:
                return self._key_history(self._secret_name(self._secret_id(key)), key)
            except InputError:
                return []
        listed = self._list()
        entries = [e for found in self._pool(lambda s: self._key_history(s.name, s.key), listed) for e in found]
        return sorted(entries, key=lambda e: (e.created is not None, e.created), reverse=True)

    def _key_history(self, name: str, key: str) -> list[VersionInfo]:
        try:
            versions = sorted(self._versions(name), key=lambda v: int(number(v.name)))
        except Missing:
            return []
        entries, existed = [], False
        for version in versions:
            state = version.state.name
            if state == "DESTROYED":
                existed = True  # pruned: it held something, but what is gone
                continue
            action = "deleted" if state == "DISABLED" else ("changed" if existed else "added")
            existed = state != "DISABLED"
            entries.append(VersionInfo(number(version.name), created(version), None, action, None, key=key))
        return list(reversed(entries))

    def _bundle_history(self, key: str | None, changes: bool) -> list[VersionInfo]:
        try:
            versions = sorted(self._versions(self._secret_name(self.bundle_id)), key=lambda v: int(number(v.name)))
        except Missing:
            return []
        if key is None:
            listed = [(i, v) for i, v in enumerate(versions) if v.state.name != "DESTROYED"]
            if not changes:
                return [VersionInfo(number(v.name), created(v), None, "changed" if i else "added", None)
                        for i, v in reversed(listed)]
            recent = listed[-HISTORY_DEPTH:]  # each read costs a call per shard: older ones show no changes
            documents = [None] * (len(listed) - len(recent)) + self._pool(
                lambda pair: self._bundle_at(number(pair[1].name)) if pair[1].state.name == "ENABLED" else None,
                recent)
            return bundle_changes([(VersionInfo(number(v.name), created(v), None, "changed" if i else "added", None),
                                    document) for (i, v), document in zip(listed, documents)], self.notes)
        readable = [v for v in versions if v.state.name == "ENABLED"]
        documents = self._pool(lambda v: self._bundle_at(number(v.name)), readable)
        entries, previous = [], None
        for version, document in zip(readable, documents):
            if document is None:
                continue
            before, after = (previous or {}).get(key), document.get(key)
            previous = document
            if before == after:
                continue
            action = "added" if before is None else ("deleted" if after is None else "changed")
            entries.append(VersionInfo(number(version.name), created(version), None, action,
                                       None if after is None else len(after)))
        return list(reversed(entries))

    def _versions(self, name: str) -> list[Any]:
        pages = self._call("ListSecretVersions", name, request={"parent": name, "page_size": LIST_PAGE})
        try:
            return list(pages)
        except (gexc.GoogleAPIError, auth_errors()) as exc:
            raise self._error(exc, "ListSecretVersions", name) from None

    # -- plumbing ------------------------------------------------------------

    def _secret_id(self, key: str, check: bool = True) -> str:
        body = re.sub(r"[^A-Za-z0-9_-]", "-", key)
        sid = f"{self.prefix}_{body}" if self.prefix else body
        if check and len(sid) > 255:
            raise InputError(f"{key}: its GCP secret id would be {len(sid)} characters (the limit is 255) — "
                             "shorten the key or the store's PREFIX")
        return sid

    def _as_listed(self, secret: Any) -> Listed:
        # GCP answers with the project number; calls and messages use the project as the URI names it.
        sid = secret.name.rsplit("/", 1)[-1]
        return Listed(self._secret_name(sid), sid, secret.etag, dict(secret.labels), dict(secret.annotations))

    def _secret_name(self, sid: str) -> str:
        return f"projects/{self.project}/secrets/{sid}"

    def _version_name(self, sid: str, version: str) -> str:
        return f"{self._secret_name(sid)}/versions/{version}"

    def _note(self, message: str) -> None:
        with self._notes_lock:
            if message not in self.notes:
                self.notes.append(message)

    def _call(self, operation: str, resource: str, request: Mapping[str, Any] | None = None) -> Any:
        method = getattr(self.client, snake(operation))
        try:
            return method(request=request if request is not None else {"name": resource},
                          retry=self._retry, timeout=self.timeout)
        except gexc.NotFound as exc:
            raise Missing(f"GCP: {resource} not found ({exc.message})") from None
        except gexc.AlreadyExists:
            raise Exists(f"{self.uri}: {resource} already exists") from None
        except gexc.Aborted:
            raise Aborted(f"{self.uri}: {resource} changed since it was read (etag mismatch); "
                           "run again to re-plan") from None
        except gexc.FailedPrecondition as exc:
            raise Unusable(precondition_message(exc.message, self.project, operation, resource)) from None
        except (gexc.GoogleAPIError, auth_errors()) as exc:
            raise self._error(exc, operation, resource) from None

    def _error(self, exc: Exception, operation: str, resource: str) -> EnvSyncError:
        return errors.describe(exc, operation, resource, project=self.project, endpoint=self.endpoint,
                               timeout=self.timeout)
