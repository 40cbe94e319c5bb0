"""`envsync doctor`: for each target, who EnvSync runs as, whether it can read the store,
and whether it may write there — without writing anything. Every failure keeps the
store's own one-line explanation (which permission or role is missing)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from envsync import ci
from envsync.config import Target
from envsync.errors import EXIT_CLEAN, EnvSyncError
from envsync.stores import backend_for, open_store

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Check:
    name: str  # identity, read, write
    status: str
    detail: str
    exit_code: int = EXIT_CLEAN


@dataclass(frozen=True)
class Diagnosis:
    target: str
    store: str
    federation: str
    checks: tuple[Check, ...]
    exit_code: int

    @property
    def healthy(self) -> bool:
        return self.exit_code == EXIT_CLEAN

    def as_json(self) -> dict[str, Any]:
        return {"target": self.target, "store": self.store, "federation": self.federation, "healthy": self.healthy,
                "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks]}


def diagnose(target: Target) -> Diagnosis:
    federation = describe_federation(target)
    try:
        store = open_store(target)
    except EnvSyncError as exc:
        checks = (Check("identity", FAILED, str(exc), exc.exit_code), Check("read", SKIPPED, "no store"),
                  Check("write", SKIPPED, "no store"))
        return Diagnosis(target.name, target.store, federation, checks, exc.exit_code)
    identity = _run("identity", store.identity)
    if identity.status == FAILED:  # nothing else can work without a sign-in
        checks = (identity, Check("read", SKIPPED, "not signed in"), Check("write", SKIPPED, "not signed in"))
    else:
        checks = (identity, _run("read", lambda: _read(store)), _run("write", lambda: _write(store)))
    return Diagnosis(target.name, store.uri, federation, checks, _exit_code(checks))


def describe_federation(target: Target) -> str:
    """Which federation the settings ask for, in this run's CI (no call made)."""
    backend = backend_for(target.store)
    if backend is None:
        return "none (ambient credentials)"
    federation = backend.federation(target)
    return f"{ci.provider()} OIDC -> {federation}" if federation else backend.ambient


def _read(store: Any) -> str:
    snapshot = store.read()
    count = len(snapshot.values)
    return f"{count} key{'' if count == 1 else 's'}"


def _write(store: Any) -> str:
    return store.probe_write() + "; nothing written"


def _run(name: str, step: Callable[[], str]) -> Check:
    try:
        return Check(name, OK, step())
    except EnvSyncError as exc:
        return Check(name, FAILED, str(exc), exc.exit_code)


def _exit_code(checks: tuple[Check, ...]) -> int:
    return max(check.exit_code for check in checks)
