"""What EnvSync knows of a backend before its SDK is imported: one declaration each, in the
backend's package `__init__` (which imports no SDK), collected by `envsync.stores`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from envsync.config import Target


def no_federation(target: Target) -> str | None:
    return None


@dataclass(frozen=True)
class Backend:
    scheme: str  # the store URI's scheme: `aws-sm` in aws-sm://...
    module: str  # the adapter module, with `open_store(uri, target, options)`; it imports the SDK
    extra: str | None = None  # the pip extra that installs the SDK (None: nothing to install)
    auth_keys: frozenset[str] = frozenset()  # the keys of `[targets.NAME.auth]` this backend reads
    # Which CI federation a target's settings ask for, for `envsync doctor` (no call made), or None.
    federation: Callable[[Target], str | None] = no_federation
    ambient: str = "none (ambient credentials)"  # what doctor says when there is no federation
