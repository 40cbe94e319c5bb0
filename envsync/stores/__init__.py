"""Store registry: one declaration per backend (`envsync.stores.backend.Backend`); a
backend's adapter module, and with it its SDK, is imported only when its scheme is used.

Each adapter module exposes `open_store(uri: StoreURI, target: Target, options: StoreOptions) -> Store`.
Adding a backend means adding its package (or module) and one line in BACKENDS.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from envsync.errors import InputError
from envsync.stores import aws, azure, gcp
from envsync.stores.backend import Backend
from envsync.stores.base import StoreOptions
from envsync.stores.uri import StoreURI, parse_uri

if TYPE_CHECKING:
    from envsync.config import Target
    from envsync.stores.base import Store

FILE = Backend(scheme="file", module="envsync.stores.file", ambient="none (local files)")
BACKENDS: tuple[Backend, ...] = (FILE, aws.BACKEND, gcp.BACKEND, azure.BACKEND)
SCHEMES: dict[str, Backend] = {backend.scheme: backend for backend in BACKENDS}
EXTRAS: dict[str, str] = {backend.scheme: backend.extra for backend in BACKENDS if backend.extra}


def backend_for(store: str) -> Backend | None:
    """The backend of a store URI (by its scheme, in any case, as `parse_uri` reads it), or
    None for an unknown scheme."""
    return SCHEMES.get(store.partition("://")[0].lower())


def extra_for(store: str) -> str | None:
    """The pip extra a store URI needs (`aws` for aws-sm://...); None for the file store or
    an unknown scheme."""
    backend = backend_for(store)
    return backend.extra if backend else None


def auth_keys() -> frozenset[str]:
    """Every backend's keys of `[targets.NAME.auth]`."""
    return frozenset().union(*(backend.auth_keys for backend in BACKENDS))


def open_store(target: Target, options: StoreOptions | None = None) -> Store:
    """The store a target points at, with its layout resolved."""
    uri = parse_uri(target.store)
    backend = backend_for(target.store)
    if backend is None:
        raise InputError(
            f"target {target.name}: unknown store scheme {uri.scheme!r} in {target.store!r} — "
            f"supported: {', '.join(s + '://' for s in SCHEMES)}"
        )
    try:
        module = importlib.import_module(backend.module)
    except ImportError as exc:
        raise InputError(
            f"target {target.name}: the {uri.scheme}:// store needs its SDK ({exc.name} is not installed) — "
            f"pip install 'envsync-secrets[{backend.extra or 'all'}]'"
        ) from None
    return module.open_store(uri, target, options or StoreOptions())


def resolve_layout(uri: StoreURI, target: Target) -> str:
    """The layout from the target or the URI (they must agree); bundle by default."""
    from_uri = uri.option("layout")
    if from_uri is not None and from_uri not in ("bundle", "per-key"):
        raise InputError(f"target {target.name}: layout={from_uri!r} in the store URI must be bundle or per-key")
    if target.layout and from_uri and target.layout != from_uri:
        raise InputError(
            f"target {target.name}: layout {target.layout!r} disagrees with layout={from_uri} in the store URI — keep one"
        )
    return target.layout or from_uri or "bundle"
