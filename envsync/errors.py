"""The one exception family users see; caught once in the CLI and printed as one line."""
from __future__ import annotations

# Exit codes (README.md, the end of "State"): 0 clean, 1 drift/conflict/finding, 2 usage or
# input, 3 store/auth/network.
EXIT_CLEAN = 0
EXIT_DRIFT = 1
EXIT_INPUT = 2
EXIT_STORE = 3


class EnvSyncError(Exception):
    """A failure the user can act on; `str()` is the whole message."""

    exit_code = EXIT_INPUT


class InputError(EnvSyncError):
    """Bad input: a malformed file, an invalid config, a wrong flag."""

    exit_code = EXIT_INPUT


class StoreError(EnvSyncError):
    """The store, its credentials or the network failed."""

    exit_code = EXIT_STORE


class ConflictError(EnvSyncError):
    """The remote (or the local file) moved since the plan was made."""

    exit_code = EXIT_DRIFT


class ApplyError(EnvSyncError):
    """A batch of changes was only partly applied; says exactly which."""

    def __init__(self, cause: EnvSyncError, applied: list[str], not_applied: list[str]) -> None:
        self.cause = cause
        self.applied = applied
        self.not_applied = not_applied
        self.exit_code = cause.exit_code
        super().__init__(
            f"{cause} (applied to the store: {_keys(applied)}; not applied: {_keys(not_applied)})"
        )


def _keys(keys: list[str]) -> str:
    if not keys:
        return "none"
    shown = ", ".join(keys[:10])
    return shown if len(keys) <= 10 else f"{shown} and {len(keys) - 10} more"
