"""The shared vocabulary: what a `.env` key is, what a store holds and how it changes,
which way a command moves values, and how it settles a conflict. Data only, no I/O."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
# `envsync export --format`: here so that the CLI can offer them without importing the exporters.
EXPORT_FORMATS = ("dotenv", "json", "shell", "github-env", "gitlab-dotenv")


class Mode(str, enum.Enum):
    PUSH = "push"
    PULL = "pull"
    SYNC = "sync"


class OnConflict(str, enum.Enum):
    """`--on-conflict`: what a conflict becomes (in the order `--help` lists them)."""

    FAIL = "fail"
    ASK = "ask"
    LOCAL = "local"
    REMOTE = "remote"
    MERGE = "merge"


@dataclass(frozen=True)
class Snapshot:
    """The store's content at one moment.

    `versions[key]` is the id of the version that holds the key's current value
    (in the bundle layout, the bundle's version). `revision` is the store-wide
    compare-and-swap token where the layout has one (bundle), else None.
    """

    values: Mapping[str, str]
    versions: Mapping[str, str] = field(default_factory=dict)
    revision: str | None = None


@dataclass(frozen=True)
class Change:
    """Set `key` to `value`, or delete it when `value` is None."""

    key: str
    value: str | None

    @property
    def is_delete(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a key's (or the bundle's) history; never carries the value."""

    version: str
    created: datetime | None
    author: str | None = None
    action: str = "changed"  # added | changed | deleted
    length: int | None = None
    key: str | None = None  # set when one listing covers several keys (per-key layout)
    # A bundle version's own changes, (key, added|changed|deleted) sorted by key; None where
    # they are not known (a per-key entry, or a version or its predecessor that cannot be read).
    changes: tuple[tuple[str, str], ...] | None = None


@dataclass(frozen=True)
class StoreInfo:
    """What `plan --json` reports about cost and shape."""

    uri: str
    layout: str
    secrets: int
