"""The version log tag (`envsync-log`): Key Vault keeps no record of deletions and shows no
versions of a deleted secret, so each version EnvSync writes names up to five earlier
versions with their times, and deletions; history is read back from it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cmp_to_key
from typing import TYPE_CHECKING, Mapping

from envsync.model import VersionInfo
from envsync.stores.azure.names import MANAGED_TAG, VERSION_ID

if TYPE_CHECKING:
    from azure.keyvault.secrets import DeletedSecret, SecretProperties

LOG_TAG = "envsync-log"
TAG_LIMIT = 256  # characters in one tag value
DELETED = "(deleted)"  # the version column of a deletion event in history


@dataclass(frozen=True)
class Event:
    kind: str  # "v" a version, "d" a deletion
    version: str
    created: datetime | None


def parse_log(tags: Mapping[str, str] | None) -> tuple[list[Event], bool]:
    """Entries of a version's log tag (newest first) and whether older ones were dropped."""
    text = (tags or {}).get(LOG_TAG, "")
    events, truncated = [], False
    for item in filter(None, text.split(",")):
        if item == "+":
            truncated = True
            break
        ident, _, when = item.partition(":")
        if not when.isdigit():
            continue
        created = datetime.fromtimestamp(int(when), timezone.utc)
        if ident == "deleted":
            events.append(Event("d", DELETED, created))
        elif VERSION_ID.match(ident):
            events.append(Event("v", ident, created))
    return events, truncated


def log_after(previous: SecretProperties | None, deleted_at: datetime | None) -> str | None:
    """The log tag for a version written on top of `previous` (and a deletion, when the
    secret was recovered to be written)."""
    events: list[Event] = []
    truncated = False
    if deleted_at is not None:
        events.append(Event("d", DELETED, deleted_at))
    if previous is not None and previous.version:
        events.append(Event("v", previous.version, previous.created_on))
        earlier, truncated = parse_log(previous.tags)
        events += earlier
    parts: list[str] = []
    for event in events:
        when = int(event.created.timestamp()) if event.created else 0
        item = f"deleted:{when}" if event.kind == "d" else f"{event.version}:{when}"
        if len(",".join(parts + [item, "+"])) > TAG_LIMIT:
            truncated = True
            break
        parts.append(item)
    if truncated:
        parts.append("+")
    return ",".join(parts) or None


def tags_after(previous: SecretProperties | None, ours: Mapping[str, str], log: str | None) -> dict[str, str]:
    """EnvSync's tags for a new version, plus the tags others put on the version it replaces
    (a new version starts with no tags of its own), within Key Vault's 15."""
    tags = dict(ours)
    if log:
        tags[LOG_TAG] = log
    for name, value in ((previous.tags if previous is not None else None) or {}).items():
        if len(tags) >= 15:
            break
        if name != MANAGED_TAG and not name.startswith("envsync-"):
            tags.setdefault(name, value)
    return tags


def ordered(versions: list[SecretProperties]) -> list[SecretProperties]:
    """Oldest first. Key Vault lists versions in no order and times them to the second;
    within a second, a version that names another in its log comes after it."""
    logs = {v.version: {e.version for e in parse_log(v.tags)[0]} for v in versions}

    def compare(a: SecretProperties, b: SecretProperties) -> int:
        ta, tb = epoch(a.created_on), epoch(b.created_on)
        if ta != tb:
            return -1 if ta < tb else 1
        if a.version in logs[b.version]:
            return -1
        if b.version in logs[a.version]:
            return 1
        la, lb = len(logs[a.version]), len(logs[b.version])
        if la != lb:
            return -1 if la < lb else 1
        return -1 if (a.version or "") < (b.version or "") else 1

    return sorted(versions, key=cmp_to_key(compare))


def events_of_versions(versions: list[SecretProperties]) -> list[Event]:
    """Oldest first: each version, and the deletions the logs of later versions record."""
    events: list[Event] = []
    for props in ordered(versions):
        for entry in parse_log(props.tags)[0]:
            if entry.kind != "d":
                break
            events.append(entry)  # the secret was deleted (and recovered) right before this version
        events.append(Event("v", props.version or "", props.created_on))
    return events


def events_of_deleted(deleted: DeletedSecret) -> tuple[list[Event], bool]:
    """Oldest first, for a soft-deleted secret: its log, its last version, its deletion."""
    props = deleted.properties
    earlier, truncated = parse_log(props.tags)
    newest_first = [Event("d", DELETED, deleted.deleted_date), Event("v", props.version or "", props.created_on),
                    *earlier]
    return list(reversed(newest_first)), truncated


def history_entries(events: list[Event], key: str | None, truncated: bool = False) -> list[VersionInfo]:
    """History entries, newest first, for a secret's events (oldest first)."""
    entries: list[VersionInfo] = []
    after_deletion, first = False, True
    for event in events:
        if event.kind == "d":
            if not first:
                entries.append(VersionInfo(DELETED, event.created, None, "deleted", None, key=key))
            after_deletion = True
            continue
        action = "added" if (first and not truncated) or after_deletion else "changed"
        entries.append(VersionInfo(event.version, event.created, None, action, None, key=key))
        after_deletion, first = False, False
    return list(reversed(entries))


def epoch(when: datetime | None) -> float:
    return when.timestamp() if when else 0.0
