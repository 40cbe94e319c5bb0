"""Store registry: URI scheme -> adapter module, imported only when its scheme is used.

Each adapter module exposes `open_store(uri: StoreURI, target: Target, options: StoreOptions) -> Store`.
Adding a backend means adding one module and one line here.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from envsync.errors import InputError
from envsync.stores.base import StoreOptions
from envsync.stores.uri import StoreURI, parse_uri

if TYPE_CHECKING:
    from envsync.config import Target
    from envsync.stores.base import Store

SCHEMES: dict[str, str] = {
    "file": "envsync.stores.file",
    "aws-sm": "envsync.stores.aws",
    "gcp-sm": "envsync.stores.gcp",
    "azure-kv": "envsync.stores.azure",
}
EXTRAS = {"aws-sm": "aws", "gcp-sm": "gcp", "azure-kv": "azure"}


def open_store(target: Target, options: StoreOptions | None = None) -> Store:
    """The store a target points at, with its layout resolved."""
    uri = parse_uri(target.store)
    module_name = SCHEMES.get(uri.scheme)
    if module_name is None:
        raise InputError(
            f"target {target.name}: unknown store scheme {uri.scheme!r} in {target.store!r} — "
            f"supported: {', '.join(s + '://' for s in SCHEMES)}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        extra = EXTRAS.get(uri.scheme, "all")
        raise InputError(
            f"target {target.name}: the {uri.scheme}:// store needs its SDK ({exc.name} is not installed) — "
            f"pip install 'envsync-secrets[{extra}]'"
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
