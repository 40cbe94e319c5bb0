"""The AWS store tests' view of moto's server: open stores on it, look at it behind their
back with a plain boto3 client, watch a client's calls."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from envsync.config import Target
from envsync.errors import StoreError
from envsync.model import Change, Snapshot
from envsync.stores import open_store
from envsync.stores.base import StoreOptions
from tests.fakes.aws_server import sm_client, store_uri

EMPTY = Snapshot(values={})
ROOT = Path(__file__).resolve().parents[3]


class Aws:
    """The emulator as one test sees it: open stores on it, look at it directly."""

    def __init__(self, endpoint: str, root: Path) -> None:
        self.endpoint = endpoint
        self.root = root
        self.sm = sm_client(endpoint)

    def uri(self, name: str, layout: str | None = None, **options: str) -> str:
        return store_uri(self.endpoint, name, layout, **options)

    def open(self, name: str = "app/prod", layout: str | None = None, *, options: StoreOptions | None = None,
             uri: str | None = None, **uri_options: str):
        target = Target(name="t", file=self.root / ".env", store=uri or self.uri(name, layout, **uri_options),
                        root=self.root)
        return open_store(target, options)

    def versions(self, secret_id: str) -> list[dict[str, Any]]:
        return self.sm.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=True)["Versions"]

    def current(self, secret_id: str) -> str:
        return self.sm.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")["SecretString"]

    def tags(self, secret_id: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.sm.describe_secret(SecretId=secret_id).get("Tags", [])}

    def names(self, prefix: str = "", deleted: bool = True) -> list[str]:
        pages = self.sm.get_paginator("list_secrets").paginate(IncludePlannedDeletion=deleted)
        return sorted(s["Name"] for page in pages for s in page["SecretList"] if s["Name"].startswith(prefix))


class CallLog:
    """Every API call a client makes, with its parameters (botocore event hooks)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.names: list[str] = []
        self._lock = threading.Lock()
        client.meta.events.register("before-parameter-build.secrets-manager", self._params)
        client.meta.events.register("before-call.secrets-manager", self._call)

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append((model.name, dict(params)))

    def _call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.names.append(model.name)

    def count(self, operation: str) -> int:
        return self.names.count(operation)

    def params(self, operation: str) -> list[dict[str, Any]]:
        return [p for name, p in self.calls if name == operation]


def one_line_store_error(exc: BaseException, leak_watch) -> str:
    message = str(exc)
    leak_watch.outputs.append(("store error", message))
    assert isinstance(exc, StoreError), f"{type(exc).__name__}: {message}"
    assert exc.exit_code == 3
    assert "\n" not in message, f"not one line: {message!r}"
    return message


def apply(store, changes: dict[str, str | None], expected: Snapshot) -> Snapshot:
    return store.apply([Change(k, v) for k, v in changes.items()], expected)
