"""The bundle layout's payload, shared by every cloud store.

A target is one flat JSON object (`{"KEY": "value"}`), the shape other tools
read too (ECS/EKS JSON-key secrets, `terraform`'s jsondecode). When it is
larger than the backend's value limit it is cut into shards, and the main
secret holds a small manifest naming each shard's version instead; the
manifest is written last, so a reader sees the old snapshot or the new one.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Mapping

from envsync import nesting
from envsync.errors import StoreError

MANIFEST_KEY = "@envsync"  # '@' cannot start a .env key, so no target can collide with it
_VERSION_ID = re.compile(r"[A-Za-z0-9-]{1,64}\Z")  # AWS version UUIDs, GCP numbers, Azure hex ids


@dataclass(frozen=True)
class Shard:
    name: str
    version: str


def encode(values: Mapping[str, str]) -> str:
    """Compact, sorted, ASCII-only JSON: byte length equals character length."""
    return json.dumps(dict(sorted(values.items())), separators=(",", ":"), ensure_ascii=True)


def split(payload: str, limit: int) -> list[str]:
    """Cut an ASCII payload into pieces of at most `limit` bytes."""
    return [payload[i:i + limit] for i in range(0, len(payload), limit)] or [""]


def manifest(shards: list[Shard]) -> str:
    return json.dumps({MANIFEST_KEY: {"format": 1, "shards": [{"name": s.name, "version": s.version}
                                                                for s in shards]}},
                      separators=(",", ":"))


def parse(text: str, where: str) -> dict[str, str] | list[Shard]:
    """A bundle's values, or the shards a manifest names."""
    try:
        data = nesting.json_loads(text)
    except ValueError:
        raise StoreError(f"{where} does not hold a JSON object — it was not written by EnvSync; "
                         "use layout=per-key or another name") from None
    if not isinstance(data, dict):
        raise StoreError(f"{where} holds JSON that is not an object — use layout=per-key or another name")
    if MANIFEST_KEY in data:
        try:
            return [Shard(s["name"], s["version"]) for s in data[MANIFEST_KEY]["shards"]]
        except (KeyError, TypeError):
            raise StoreError(f"{where}: malformed EnvSync shard manifest") from None
    return {key: _as_text(key, value, where) for key, value in data.items()}


def check_shards(shards: list[Shard], own_name: Callable[[int], str], where: str) -> None:
    """A manifest is store content: it may name only this bundle's own shard secrets, in order,
    by a plain version id. Otherwise one who can write this store could name any secret the
    reader may read (another target's, prod's) and have its value read, then written back here."""
    for index, shard in enumerate(shards):
        if shard.name != own_name(index) or not isinstance(shard.version, str) or not _VERSION_ID.match(shard.version):
            raise StoreError(f"{where}: the shard manifest names a secret or version that is not this bundle's own "
                             "shard — nothing was read; push the target again from a good copy")


def join(pieces: list[str], where: str) -> dict[str, str]:
    values = parse("".join(pieces), where)
    if isinstance(values, list):
        raise StoreError(f"{where}: a shard holds a manifest")
    return values


def _as_text(key: str, value: object, where: str) -> str:
    # Secrets written by other tools may hold numbers or booleans; .env values are text.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise StoreError(f"{where}: {key} is a nested {type(value).__name__}, not a value — a bundle is a flat JSON object")
