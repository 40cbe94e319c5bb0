"""Azure Key Vault: the store of an `azure-kv://` target (opened by `connect.py`).

Layouts:

- bundle: one secret named PREFIX (`envsync` without a prefix) holding the target as a
  JSON object. Past 24,000 bytes (Key Vault takes 25 KB a value) it is cut into
  shards `PREFIX-1shard-000`, ... written first, then the main secret gets a small
  manifest naming each shard's version, so a reader sees the old snapshot or the new.
- per-key: one secret `PREFIX-NAME` per key. Key Vault names allow only letters,
  digits and `-`, and compare case-insensitively, so a key maps reversibly:
  a key of letters, digits and `_` maps `_` -> `-` (`DATABASE_URL` -> `DATABASE-URL`);
  a key with `-` or `.` gets a leading `0` (no key starts with a digit) and `-` becomes
  an escape: `_` -> `--`, `-` -> `-d`, `.` -> `-p` (`my-app.url` -> `0my-dapp-purl`).
  Names starting with another digit are EnvSync's own (shards). The original key is
  also kept in the tag `envsync-key`. Two keys that map to one name (they differ only
  in case, or one's name is taken by another target) are refused before anything is
  written (InputError, naming both). Names are at most 127 characters.

Every secret EnvSync writes carries `managed-by=envsync` (and `envsync-prefix`, so
targets sharing a vault keep apart); one without it is never overwritten or deleted
unless the run allows adopting (`--adopt`).

Compare-and-swap. Key Vault has no conditional write (no ETag or If-Match on
secrets), so EnvSync re-reads and compares: before writing anything it checks every
key it will change (per-key) or the bundle secret against the version id the plan
was made against, refusing the whole batch if one moved, and it checks each one
again right before its own write (for a sharded bundle: right before the manifest,
after the shards). The window that remains is that last round trip: a writer whose
new version lands between the final check and our write is not detected, and our
write becomes the current version on top of it. Its value is not lost — it stays in
the secret's version history (`envsync history`) — but it is no longer current. A
per-key batch is not atomic: a failure part-way is reported as an ApplyError naming
what was and was not applied.

Soft delete. Deleting a key soft-deletes its secret (and purges it too with
`--force-delete`, where the vault's purge protection allows). A soft-deleted name
cannot be reused until recovered or purged, so pushing such a key recovers the secret
(its old versions come back into its history) and writes the new value on top, or,
with `--force-delete`, purges it and creates it anew; `notes` says which. Key Vault
keeps no record of deletions in a secret's versions and shows no versions of a
deleted secret, so each version EnvSync writes carries a short log of what came
before it (tag `envsync-log`: up to five earlier version ids with their times, and
deletions); `history()` reads it for the deletion events and for keys that are
soft-deleted now. The values of a soft-deleted key's versions cannot be read until it
is recovered, so `read_versions` leaves them out (a merge base read from them is
"unknown").

Credentials come from `auth.py`: the CI's OIDC token as a client assertion, workload
identity, or DefaultAzureCredential.

Reads list with `list_properties_of_secrets` (25 a page) and get the values on a
bounded thread pool.
"""
from __future__ import annotations

import secrets
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.keyvault.secrets import SecretClient

from envsync import ci
from envsync.errors import ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import KEY_PATTERN, Change, Snapshot, VersionInfo
from envsync.stores import bundle
from envsync.stores.azure import auth
from envsync.stores.azure.errors import (
    DOING,
    Disabled,
    Missing,
    SoftDeleted,
    auth_error,
    details,
    first_line,
    http_error,
)
from envsync.stores.azure.names import (
    KEY_TAG,
    LAYOUT_TAG,
    MANAGED_TAG,
    MANAGED_VALUE,
    NAME_LIMIT,
    PREFIX_TAG,
    VERSION_ID,
    key_to_name,
    name_to_key,
)
from envsync.stores.azure.versionlog import (
    Event,
    epoch,
    events_of_deleted,
    events_of_versions,
    history_entries,
    log_after,
    tags_after,
)
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
from envsync.stores.calls import bounded_pool

if TYPE_CHECKING:
    from azure.keyvault.secrets import DeletedSecret, SecretProperties

VALUE_LIMIT = 25_000  # bytes in one secret value ("25k bytes")
SHARD_LIMIT = 24_000  # a bundle shard, with room to spare
PAGE = 25  # Key Vault's largest page
HISTORY_DEPTH = 100  # newest bundle versions `history TARGET` reads to name their changes (as AWS)
WORKERS = 8  # concurrent requests; within requests' pool of 10 connections per host
DEFAULT_BUNDLE = "envsync"
_pool = bounded_pool(WORKERS)


@dataclass
class _Listed:
    """One secret of the vault as the listing shows it, seen from this target."""

    name: str
    key: str | None  # None: not one of this target's keys
    owner: str  # "ours" | "foreign" (another target's or a bundle's) | "unmapped" | "certificate"
    managed: bool
    enabled: bool
    tags: dict[str, str]


@dataclass
class _Plan:
    change: Change
    name: str
    version: str | None  # the current version id the write is planned against
    revive: DeletedSecret | None = None  # a soft-deleted secret of that name to recover or purge first


class AzureStore(LayoutWriter):
    def __init__(self, uri: str, vault: str, vault_url: str, prefix: str, layout: str, client: SecretClient,
                 options: StoreOptions) -> None:
        self.uri = uri
        self.vault = vault
        self.vault_url = vault_url
        self.prefix = prefix
        self.layout = layout
        self.client = client
        self.options = options
        self.notes: list[str] = []
        self.bundle_name = prefix or DEFAULT_BUNDLE
        self._shards = 0
        self.credential: Any = None  # what the client signs in with (for `doctor`)

    # -- doctor ----------------------------------------------------------------

    def identity(self) -> str:
        try:
            token = self.credential.get_token(self._token_scope()).token
        except ClientAuthenticationError as exc:
            raise auth_error(self.vault, exc) from None
        kind = type(self.credential).__name__
        claims = ci.claims(token)
        if not claims:
            return f"{kind} (signed in)"
        who = claims.get("upn") or claims.get("unique_name") or claims.get("appid") or claims.get("azp") or "?"
        return f"{kind}: {who} (object {claims.get('oid', '?')}, tenant {claims.get('tid', '?')})"

    def _token_scope(self) -> str:
        return auth.vault_scope(self.vault)

    def probe_write(self) -> str:
        """Update the properties of a name that does not exist: Key Vault checks the data action
        before it looks the secret up, so "not found" means writes are allowed (the roles that
        may update may also set) and nothing is written. A name starting with a digit is one
        no .env key maps to (see name_to_key), and the random part makes it new."""
        probe = "-".join(filter(None, [self.prefix, "9doctor", secrets.token_hex(8)]))
        try:
            self._call("write", probe, self.client.update_secret_properties, probe, enabled=True)
        except Missing:
            return "secrets/update allowed (set and delete cannot be probed without writing)"
        raise StoreError(f"{probe} unexpectedly exists in Key Vault {self.vault} — delete it")

    # -- reading -------------------------------------------------------------

    def _read(self, progress: Progress = no_progress) -> Snapshot:
        if self.layout == "bundle":
            return self._read_bundle()

        def fetch(item: _Listed) -> Any:
            try:
                secret = self._call("read", item.name, self.client.get_secret, item.name)
            except (Missing, Disabled):  # deleted or disabled since the listing
                secret = None
            progress(1)
            return secret

        # The gets start while later pages of the listing are still on their way.
        chosen: dict[str, _Listed] = {}
        futures: list[tuple[_Listed, Future[Any]]] = []
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            def take(item: _Listed) -> None:
                if self._readable(item, chosen):
                    futures.append((item, pool.submit(fetch, item)))

            try:
                self._scan(take)
                fetched = [(item, future.result()) for item, future in futures]
            except BaseException:
                for _, future in futures:
                    future.cancel()
                raise
        values, versions = {}, {}
        for item, secret in fetched:
            if secret is not None and item.key is not None:
                values[item.key] = secret.value or ""
                versions[item.key] = secret.properties.version or ""
        return Snapshot(values=values, versions=versions)

    def _readable(self, item: _Listed, chosen: dict[str, _Listed]) -> bool:
        """Whether a listed secret is one of this target's keys to read; notes say why not."""
        if item.owner == "unmapped":
            self._note(f"{item.name}: ignored — its name does not map back to a .env key")
        elif item.owner == "certificate":
            self._note(f"{item.name}: ignored — it backs a Key Vault certificate")
        elif item.owner == "ours" and item.key is not None:
            if not item.enabled:
                self._note(f"{item.name} ({item.key}): ignored — the secret is disabled in the vault")
            elif item.key in chosen:
                self._note(f"{item.name}: ignored — {item.key} is already read from {chosen[item.key].name}")
            else:
                chosen[item.key] = item
                return True
        return False

    def _read_bundle(self) -> Snapshot:
        name = self.bundle_name
        try:
            secret = self._call("read", name, self.client.get_secret, name)
        except Missing:
            self._shards = 0
            return Snapshot(values={})
        except Disabled:
            raise StoreError(f"{name} is disabled in Key Vault {self.vault} — enable it (in the portal, or "
                             f"`az keyvault secret set-attributes --name {name} --enabled true`)") from None
        version = secret.properties.version or ""
        values, self._shards = self._bundle_values(secret.value or "", name)
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _shard_name(self, index: int) -> str:
        return f"{self.bundle_name}-1shard-{index:03d}"

    def _bundle_values(self, text: str, where: str) -> tuple[dict[str, str], int]:
        """A bundle's values (its shards read where it is a manifest) and its shard count."""
        with unreadable():
            parsed = bundle.parse(text, where)
            if isinstance(parsed, dict):
                return parsed, 0
            bundle.check_shards(parsed, self._shard_name, where)

        def piece(shard: bundle.Shard) -> str:
            try:
                return self._call("read", shard.name, self.client.get_secret, shard.name, shard.version).value or ""
            except (Missing, Disabled):
                raise Unreadable(f"{where}: shard {shard.name} version {shard.version} is gone — the bundle "
                                 "cannot be read; push it again from a good copy") from None

        pieces = _pool(piece, parsed)
        with unreadable():
            return bundle.join(pieces, where), len(parsed)

    def read_versions(self, wanted: Mapping[str, str]) -> dict[str, str]:
        if self.layout == "bundle":
            ids = sorted(set(wanted.values()))
            documents = dict(zip(ids, _pool(self._bundle_at, ids)))
            return {key: documents[v][key] for key, v in wanted.items()  # type: ignore[index]
                    if documents[v] is not None and key in documents[v]}  # type: ignore[operator]
        pairs = [(k, v) for k, v in wanted.items() if VERSION_ID.match(v) and KEY_PATTERN.match(k)]
        values = _pool(lambda pair: self._value_at(self._name(pair[0], strict=False), pair[1]), pairs)
        return {key: value for (key, _), value in zip(pairs, values) if value is not None}

    def _bundle_at(self, version: str) -> dict[str, str] | None:
        if not VERSION_ID.match(version):
            return None
        text = self._value_at(self.bundle_name, version)
        if text is None:
            return None
        try:
            return self._bundle_values(text, f"{self.bundle_name}@{version}")[0]
        except Unreadable:  # an auth or network failure is raised, not taken for a version gone
            return None

    def _value_at(self, name: str | None, version: str) -> str | None:
        if name is None:
            return None
        try:
            return self._call("read", name, self.client.get_secret, name, version).value or ""
        except (Missing, Disabled):
            return None

    # -- writing -------------------------------------------------------------

    def _apply_bundle(self, changes: Sequence[Change], expected: Snapshot) -> Snapshot:
        values = applied(expected.values, changes)
        name = self.bundle_name
        current = self._current(name)
        self._compare(current, expected.revision, f"{self.uri}: the bundle secret {name} changed since it was "
                                                  "read (another push won); run again to re-plan")
        deleted = None
        if current is not None:
            self._check_managed(name, current.tags)
        else:
            deleted = self._deleted(name)
            if deleted is not None:
                self._check_managed(name, deleted.properties.tags, soft_deleted=True)
        payload, shard_count = bundle.encode(values), 0
        if len(payload) > SHARD_LIMIT:
            shards = self._write_shards(payload)  # all shards first...
            payload, shard_count = bundle.manifest(shards), len(shards)
            current = self._current(name)  # ...checked again right before the manifest
            self._compare(current, expected.revision, f"{self.uri}: the bundle secret {name} changed while the "
                                                      "shards were written (another push won); run again to re-plan")
        previous, deleted_at = current, None
        if deleted is not None:
            previous, deleted_at = self._revive(name, "the bundle", deleted)
        tags = {MANAGED_TAG: MANAGED_VALUE, LAYOUT_TAG: "bundle"}
        version = self._set(name, payload, tags, previous, deleted_at, "the bundle", content_type="application/json",
                            revived=deleted is not None)
        self._shards = shard_count
        return Snapshot(values=values, versions={k: version for k in values}, revision=version)

    def _write_shards(self, payload: str) -> list[bundle.Shard]:
        pieces = bundle.split(payload, SHARD_LIMIT)
        names = [self._shard_name(i) for i in range(len(pieces))]

        def write(pair: tuple[str, str]) -> bundle.Shard:
            name, piece = pair
            current = self._current(name)
            if current is not None:
                self._check_managed(name, current.tags)
            tags = {MANAGED_TAG: MANAGED_VALUE, LAYOUT_TAG: "shard"}
            return bundle.Shard(name, self._set(name, piece, tags, None, None, "a bundle shard",
                                                content_type="text/plain"))

        return _pool(write, list(zip(names, pieces)))

    def _apply_per_key(self, changes: Sequence[Change], expected: Snapshot, progress: Progress) -> Snapshot:
        # Everything that can be refused is refused before the first write.
        for change in changes:
            if change.value is not None and len(change.value.encode("utf-8")) > VALUE_LIMIT:
                raise InputError(f"{change.key}: the value is {len(change.value.encode('utf-8')):,} bytes, over Key "
                                 f"Vault's 25 KB limit for one secret — nothing was pushed (the bundle layout "
                                 f"shards large targets)")
        names = {c.key: self._name(c.key) for c in changes}
        listed = self._scan()
        self._refuse_collisions(changes, names, listed)
        live = {item.name.lower(): item for item in listed}
        creates = [c for c in changes if not c.is_delete and names[c.key].lower() not in live]
        gone = self._scan_deleted() if creates else {}
        present = [c for c in changes if names[c.key].lower() in live]
        currents = dict(zip([c.key for c in present], _pool(lambda c: self._current(names[c.key]), present)))
        plans: list[_Plan] = []
        for change in changes:
            name, want = names[change.key], expected.versions.get(change.key)
            current = currents.get(change.key)
            self._compare(current, want, f"{self.uri}: {change.key} changed in the store since it was read; "
                                         "run again to re-plan")
            if current is not None:
                self._check_managed(name, current.tags)
                plans.append(_Plan(change, name, current.version))
            elif not change.is_delete:  # deleting a key that is already gone is done
                deleted = gone.get(name.lower())
                if deleted is not None:
                    self._check_managed(name, deleted.properties.tags, soft_deleted=True)
                plans.append(_Plan(change, name, None, deleted))

        def write(plan: _Plan) -> tuple[Change, str | None, EnvSyncError | None]:
            try:
                version = self._write_key(plan)
                progress(1)
                return plan.change, version, None
            except EnvSyncError as exc:
                return plan.change, None, exc

        planned = {plan.change.key for plan in plans}
        already_gone = [(c, None, None) for c in changes if c.is_delete and c.key not in planned]
        return collect_per_key(expected, already_gone + _pool(write, plans))

    def _refuse_collisions(self, changes: Sequence[Change], names: Mapping[str, str],
                           listed: list[_Listed]) -> None:
        """Two keys, one name: refused before anything is written, naming both."""
        owners: dict[str, tuple[str, str]] = {}  # lower-case name -> (key, where it comes from)
        for item in listed:
            if item.owner == "ours" and item.key is not None:
                owners.setdefault(item.name.lower(), (item.key, f"the existing secret {item.name}"))
            elif item.owner == "foreign":
                other = item.tags.get(KEY_TAG) or item.tags.get(LAYOUT_TAG) or "?"
                where = item.tags.get(PREFIX_TAG)
                owners.setdefault(item.name.lower(), (other, f"the secret {item.name} of another EnvSync target"
                                                             + (f" (prefix {where})" if where else "")))
        for change in changes:
            name = names[change.key]
            other = owners.get(name.lower())
            if other is not None and other[0] != change.key:
                raise InputError(
                    f"{change.key} and {other[0]} both map to the Key Vault secret name {name} ({other[1]}) — "
                    "Key Vault names are case-insensitive and allow only letters, digits and '-'; rename one of "
                    "the keys. Nothing was pushed")
            owners[name.lower()] = (change.key, "in this push")

    def _write_key(self, plan: _Plan) -> str | None:
        change = plan.change
        current = self._current(plan.name)  # right before writing: the window left is this round trip
        self._compare(current, plan.version, f"{self.uri}: {change.key} changed in the store just now "
                                             "(another push is running?); run again to re-plan")
        if change.is_delete:
            self._delete(plan.name, change.key)
            return None
        previous, deleted_at = current, None
        if plan.revive is not None:
            previous, deleted_at = self._revive(plan.name, change.key, plan.revive)
        tags = {MANAGED_TAG: MANAGED_VALUE, KEY_TAG: change.key}
        if self.prefix:
            tags[PREFIX_TAG] = self.prefix
        return self._set(plan.name, change.value or "", tags, previous, deleted_at, change.key,
                         revived=plan.revive is not None)

    def _set(self, name: str, value: str, tags: dict[str, str], previous: SecretProperties | None,
             deleted_at: datetime | None, what: str, content_type: str | None = None,
             revived: bool = False) -> str:
        """Write a new version; a name that turns out soft-deleted is revived first (unless it
        was just revived: then Key Vault is still finishing, and the write is retried)."""
        deadline = time.monotonic() + 60
        delay = 0.25
        while True:
            full = tags_after(previous, tags, log_after(previous, deleted_at))
            if content_type is None and previous is not None:
                content_type = previous.content_type  # e.g. one set in the portal
            try:
                secret = self._call("write", name, self.client.set_secret, name, value, tags=full,
                                    content_type=content_type)
                return secret.properties.version or ""
            except SoftDeleted:
                if not revived:
                    deleted = self._deleted(name)
                    if deleted is not None:
                        self._check_managed(name, deleted.properties.tags, soft_deleted=True)
                        previous, deleted_at = self._revive(name, what, deleted)
                    revived = True
                    continue
                if time.monotonic() > deadline:  # a purge or recovery Key Vault has not finished
                    raise StoreError(f"{name} in Key Vault {self.vault} is still being recovered or purged after "
                                     "60 s; run again in a minute") from None
                time.sleep(delay)
                delay = min(delay * 2, 4)

    def _revive(self, name: str, what: str, deleted: DeletedSecret) -> tuple[SecretProperties | None,
                                                                             datetime | None]:
        """Make a soft-deleted name usable: purge with --force-delete where allowed, else recover.
        Returns what the next version is written on top of (for its log)."""
        purgeable = "Purgeable" in (deleted.properties.recovery_level or "")
        if self.options.force_delete and purgeable:
            self._call("purge", name, self.client.purge_deleted_secret, name)
            self._note(f"{name} ({what}): the name was soft-deleted — purged it (--force-delete) and created "
                       "the secret anew")
            return None, None
        self._call("recover", name, self.client.begin_recover_deleted_secret, name)
        recovered = _wait_for(lambda: self._current(name), 60)
        if recovered is None:
            raise StoreError(f"{name} in Key Vault {self.vault}: recovery did not finish within 60 s; run again")
        why = ("; purge protection is on, so --force-delete could not purge it" if self.options.force_delete
               else "")
        self._note(f"{name} ({what}): the name was soft-deleted — recovered the secret to reuse it and wrote the "
                   f"new value on top (its old versions stay in its history){why}")
        return recovered, deleted.deleted_date

    def _delete(self, name: str, key: str) -> None:
        try:
            poller = self._call("delete", name, self.client.begin_delete_secret, name)
        except Missing:
            return
        deleted = poller.result()  # what the DELETE answered; does not wait
        if not self.options.force_delete or deleted.recovery_id is None:
            return  # a soft delete (or a vault without soft delete, where it is already gone)
        if "Purgeable" not in (deleted.properties.recovery_level or ""):
            when = deleted.scheduled_purge_date.date().isoformat() if deleted.scheduled_purge_date else "later"
            self._note(f"{name} ({key}): purge protection is on, so it stays soft-deleted (recoverable) until "
                       f"{when}; --force-delete could not purge it")
            return
        if _wait_for(lambda: self._deleted(name), 60) is None:
            raise StoreError(f"{name} in Key Vault {self.vault}: deletion did not finish within 60 s, so it was "
                             "not purged; run again")
        self._call("purge", name, self.client.purge_deleted_secret, name)
        self._note(f"{name} ({key}): deleted and purged (--force-delete)")

    def _current(self, name: str) -> SecretProperties | None:
        """The current version's properties, or None when the secret does not exist (or is soft-deleted)."""
        try:
            return self._call("read", name, self.client.get_secret, name).properties
        except Missing:
            return None
        except Disabled:
            raise StoreError(f"{name} is disabled in Key Vault {self.vault}, so EnvSync cannot check it before "
                             "writing — enable it or delete it, then run again") from None

    def _deleted(self, name: str) -> DeletedSecret | None:
        try:
            return self._call("deleted", name, self.client.get_deleted_secret, name)
        except Missing:
            return None

    def _compare(self, current: SecretProperties | None, expected: str | None, message: str) -> None:
        if (current.version if current is not None else None) != expected:
            raise ConflictError(message)

    def _check_managed(self, name: str, tags: Mapping[str, str] | None, soft_deleted: bool = False) -> None:
        if (tags or {}).get(MANAGED_TAG) == MANAGED_VALUE or self.options.adopt:
            return
        state = "soft-deleted secret" if soft_deleted else "secret"
        raise StoreError(f"{name} in Key Vault {self.vault} is a {state} EnvSync did not create (no "
                         f"{MANAGED_TAG}={MANAGED_VALUE} tag) — EnvSync does not overwrite or delete it; pass "
                         "--adopt to let EnvSync manage it")

    # -- listing ----------------------------------------------------------------

    def _scan(self, each: Callable[[_Listed], None] | None = None) -> list[_Listed]:
        """The vault's secrets under this target's name prefix, each classified (and handed
        to `each` as soon as its page arrives)."""
        def run() -> list[_Listed]:
            found = []
            for props in self.client.list_properties_of_secrets(max_page_size=PAGE):
                item = self._classify(props)
                if item is not None:
                    found.append(item)
                    if each is not None:
                        each(item)
            return found

        return self._call("list", "the secrets", run)

    def _scan_deleted(self) -> dict[str, DeletedSecret]:
        found = self._collect("deleted", "secrets", lambda: self.client.list_deleted_secrets(max_page_size=PAGE))
        return {d.name.lower(): d for d in found
                if d.name and (item := self._classify(d.properties)) is not None and item.owner == "ours"}

    def _classify(self, props: SecretProperties) -> _Listed | None:
        name = props.name or ""
        part = name
        if self.prefix:
            if not name.lower().startswith(self.prefix.lower() + "-"):
                return None
            part = name[len(self.prefix) + 1:]
        tags = dict(props.tags or {})
        managed = tags.get(MANAGED_TAG) == MANAGED_VALUE
        enabled = props.enabled is not False
        if props.managed:
            return _Listed(name, None, "certificate", managed, enabled, tags)
        if managed and (tags.get(LAYOUT_TAG) in ("bundle", "shard")
                        or tags.get(PREFIX_TAG, "").lower() != self.prefix.lower()):
            return _Listed(name, None, "foreign", managed, enabled, tags)
        key = name_to_key(part)
        tagged = tags.get(KEY_TAG) if managed else None
        if tagged is not None and KEY_PATTERN.match(tagged) and key_to_name(tagged).lower() == part.lower():
            key = tagged  # the exact case of the key
        if key is None:
            return _Listed(name, None, "unmapped", managed, enabled, tags)
        return _Listed(name, key, "ours", managed, enabled, tags)

    def _collect(self, kind: str, what: str, pages: Callable[[], Iterable[Any]]) -> list[Any]:
        def run() -> list[Any]:
            return list(pages())
        return self._call(kind, what, run)

    # -- history and shape ---------------------------------------------------

    def history(self, key: str | None = None, changes: bool = False) -> list[VersionInfo]:
        if self.layout == "bundle":
            events, truncated = self._events(self.bundle_name)
            if key is None and changes:
                return self._bundle_version_history(events, truncated)
            if key is None:
                return history_entries(events, None, truncated)
            return self._bundle_key_history(events, key)
        if key is not None:
            name = self._name(key, strict=False)
            return self._key_history(key, name) if name else []
        keys = {item.key: item.name for item in self._scan() if item.owner == "ours" and item.key}
        for deleted in self._scan_deleted().values():
            item = self._classify(deleted.properties)
            if item is not None and item.key and item.key not in keys:
                keys[item.key] = item.name
        histories = _pool(lambda pair: self._key_history(*pair), sorted(keys.items()))
        entries = [entry for history in histories for entry in history]
        # stable: within one key, equal times keep their newest-first order
        return sorted(entries, key=lambda e: epoch(e.created), reverse=True)

    def _key_history(self, key: str, name: str) -> list[VersionInfo]:
        events, truncated = self._events(name)
        return history_entries(events, key, truncated)

    def _events(self, name: str) -> tuple[list[Event], bool]:
        try:
            versions = self._collect("history", name, lambda: self.client.list_properties_of_secret_versions(
                name, max_page_size=PAGE))
        except Missing:
            deleted = self._deleted(name)
            return events_of_deleted(deleted) if deleted is not None else ([], False)
        return events_of_versions(versions), False

    def _bundle_version_history(self, events: list[Event], truncated: bool) -> list[VersionInfo]:
        """Each bundle version with the keys it changed (a deletion: every key it held)."""
        # history_entries lists every event but a deletion before the first version it knows of.
        listed = [e for i, e in enumerate(events) if e.kind == "v" or any(x.kind == "v" for x in events[:i])]
        ids = [e.version for e in listed if e.kind == "v"][-HISTORY_DEPTH:]  # older ones show no changes
        documents = dict(zip(ids, _pool(self._bundle_at, ids)))
        infos = list(reversed(history_entries(events, None, truncated)))  # oldest first, one per listed event
        return bundle_changes([(info, None if e.kind == "d" else documents.get(e.version))
                               for info, e in zip(infos, listed)], self.notes)

    def _bundle_key_history(self, events: list[Event], key: str) -> list[VersionInfo]:
        ids = [e.version for e in events if e.kind == "v"]
        documents = dict(zip(ids, _pool(self._bundle_at, ids)))
        entries: list[VersionInfo] = []
        before: dict[str, str] | None = None
        for event in events:
            after = {} if event.kind == "d" else documents.get(event.version)
            if after is None:
                continue  # a version that cannot be read (disabled, or not a bundle)
            old, new = (before or {}).get(key), after.get(key)
            if old != new:
                action = "added" if old is None else ("deleted" if new is None else "changed")
                entries.append(VersionInfo(event.version, event.created, None, action,
                                           None if new is None else len(new)))
            before = after
        return list(reversed(entries))

    # -- plumbing ------------------------------------------------------------

    def _name(self, key: str, strict: bool = True) -> str | None:
        """The secret name of a key; an impossible one is an InputError (or None when not strict)."""
        if not KEY_PATTERN.match(key):
            if strict:
                raise InputError(f"{key!r} is not a .env key name")
            return None
        name = f"{self.prefix}-{key_to_name(key)}" if self.prefix else key_to_name(key)
        if len(name) > NAME_LIMIT:
            if strict:
                raise InputError(f"{key}: its Key Vault secret name would be {len(name)} characters, over the "
                                 f"{NAME_LIMIT} allowed — shorten the key or the prefix. Nothing was pushed")
            return None
        return name

    def _note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def _call(self, kind: str, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ResourceNotFoundError:
            raise Missing(f"{what} is not in Key Vault {self.vault} (deleted meanwhile?) — run again to re-plan") from None
        except ClientAuthenticationError as exc:
            raise auth_error(self.vault, exc) from None
        except HttpResponseError as exc:
            code, inner, message = details(exc)
            if exc.status_code == 409 and kind == "write":
                raise SoftDeleted(f"{what} is soft-deleted in Key Vault {self.vault} — run again to recover it") from None
            if exc.status_code == 403 and inner == "SecretDisabled":
                raise Disabled(f"{what} is disabled in Key Vault {self.vault} — enable it, or delete it") from None
            raise http_error(self.vault, exc.status_code, code, message, kind, what) from None
        except (ServiceRequestError, ServiceResponseError) as exc:
            raise StoreError(f"cannot reach Azure Key Vault {self.vault} at {self.vault_url} ({first_line(exc)}) — "
                             "check the vault name and the network; for a private endpoint or a proxy that "
                             "re-signs TLS, point REQUESTS_CA_BUNDLE at its CA") from None
        except AzureError as exc:
            raise StoreError(f"Azure Key Vault {self.vault}: {DOING.get(kind, kind)} {what} failed: "
                             f"{exc.__class__.__name__} — {first_line(exc)}") from None



def _wait_for(probe: Callable[[], Any], seconds: float) -> Any:
    """Poll until `probe` returns something (Key Vault's deletes and recoveries finish a moment later)."""
    deadline, delay = time.monotonic() + seconds, 0.25
    while True:
        found = probe()
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(delay)
        delay = min(delay * 2, 2)
