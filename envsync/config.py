"""`envsync.toml` (or `[tool.envsync]` in pyproject.toml): named targets, validated."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envsync import nesting
from envsync import stores
from envsync.errors import InputError
from envsync.escaping import UNSAFE
from envsync.model import KEY_PATTERN

CONFIG_FILE = "envsync.toml"
PYPROJECT = "pyproject.toml"
TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
LAYOUTS = ("bundle", "per-key")
TARGET_KEYS = {"file", "store", "schema", "layout", "expand", "description", "auth", "shares_keys_with", "may_lack"}
AUTH_KEYS = {"audience", "id_token_variable"} | stores.auth_keys()  # the ID token's (envsync.ci), each backend's
TOP_KEYS = {"targets", "scan"}
SCAN_KEYS = {"allow_env_files", "skip", "rules", "disable_rules", "gitleaks"}  # the leak guard's committed settings
MAX_CONFIG_BYTES = 1024 * 1024  # a config is a few targets; anything this big is the wrong file
NAME_MAX = 255  # bytes in one path component on the usual file systems
ONE_TARGET = "name the one to use"  # select's hint for a command that works on one target and has no --all


@dataclass(frozen=True)
class Target:
    """One `.env` file bound to one store location."""

    name: str
    file: Path
    store: str
    root: Path
    schema: Path | None = None
    layout: str | None = None
    expand: bool = False
    description: str = ""
    auth: dict[str, str] = field(default_factory=dict)
    # Cross-target expectation (`check` with both targets): this target's store and each of
    # these targets' stores hold the same keys, except the keys a side lists in `may_lack`.
    shares_keys_with: tuple[str, ...] = ()
    may_lack: tuple[str, ...] = ()

    def display_file(self) -> str:
        return _relative(self.file, self.root)

    def display_schema(self) -> str | None:
        return _relative(self.schema, self.root) if self.schema else None


@dataclass(frozen=True)
class Config:
    path: Path
    targets: dict[str, Target]
    scan: dict[str, Any] = field(default_factory=dict)  # [scan]: validated, paths as written

    @property
    def root(self) -> Path:
        return self.path.parent

    def select(self, names: tuple[str, ...] | list[str], all_targets: bool = False,
               hint: str = "name one or more, or pass --all") -> list[Target]:
        """Targets named on the command line; none named and one defined means that one.
        `hint` says what to do when none is named: a command without --all passes its own."""
        if all_targets:
            if names:
                raise InputError("give target names or --all, not both")
            return list(self.targets.values())
        if not names:
            if len(self.targets) == 1:
                return list(self.targets.values())
            raise InputError(
                f"{self.path.name} defines {len(self.targets)} targets "
                f"({', '.join(self.targets)}): {hint}"
            )
        unknown = [n for n in names if n not in self.targets]
        if unknown:
            raise InputError(f"{self.path.name}: no target named {unknown[0]!r}{_suggest(unknown[0], self.targets)}")
        return [self.targets[n] for n in dict.fromkeys(names)]


def find(start: Path) -> Path | None:
    """The nearest envsync.toml, or pyproject.toml with [tool.envsync], at or above `start`."""
    for folder in [start, *start.parents]:
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def load(path: Path | None = None, start: Path | None = None) -> Config:
    """Load and validate a config; with no path, search upwards from `start` (the cwd)."""
    if path is None:
        path = find((start or Path.cwd()).resolve())
        if path is None:
            raise InputError(f"no {CONFIG_FILE} here or in any parent folder — run `envsync init` to create one")
    path = Path(path).resolve()
    data = _read_toml(path)
    if path.name == PYPROJECT:
        tool = data.get("tool", {})
        data = tool.get("envsync") if isinstance(tool, dict) else None
        if data is None:
            raise InputError(f"{path.name}: no [tool.envsync] table")
        if not isinstance(data, dict):
            raise InputError(f"{path.name}: tool.envsync must be a table ([tool.envsync.targets.NAME])")
    return parse(data, path)


def parse(data: dict[str, Any], path: Path) -> Config:
    prefix = "tool.envsync." if path.name == PYPROJECT else ""
    where = f"{path.name}: {prefix}"
    _reject_unknown(data, TOP_KEYS, f"{path.name}: tool.envsync" if prefix else path.name, "")
    targets_table = data.get("targets")
    if not isinstance(targets_table, dict) or not targets_table:
        raise InputError(f"{path.name}: no targets — add a [{prefix}targets.NAME] table with `file` and `store`")
    targets = {}
    for name, table in targets_table.items():
        targets[name] = _parse_target(name, table, path.parent, f"{where}targets.{name}")
    _check_shared_targets(targets, f"{where}targets")
    return Config(path=path, targets=targets, scan=_parse_scan(data.get("scan", {}), f"{where}scan"))


def _parse_scan(table: Any, where: str) -> dict[str, Any]:
    """[scan]: allow_env_files, skip (globs), rules (gitleaks-format rule files), disable_rules (rule ids),
    gitleaks (read .gitleaks.toml)."""
    if not isinstance(table, dict):
        raise InputError(f"{where}: must be a table")
    _reject_unknown(table, SCAN_KEYS, where, "")
    for key in ("allow_env_files", "skip", "rules", "disable_rules"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InputError(f"{where}.{key}: must be a list of non-empty strings")
    if not isinstance(table.get("gitleaks", True), bool):
        raise InputError(f"{where}.gitleaks: must be true or false")
    return dict(table)


def _parse_target(name: str, table: Any, root: Path, where: str) -> Target:
    if not TARGET_NAME.match(name):
        raise InputError(f"{where}: invalid target name — use letters, digits, '_', '.' and '-'")
    if not isinstance(table, dict):
        raise InputError(f"{where}: must be a table with `file` and `store`")
    _reject_unknown(table, TARGET_KEYS, where, "")
    for required in ("file", "store"):
        if required not in table:
            raise InputError(f"{where}: missing `{required}`")
    file = _string(table, "file", where)
    store = _string(table, "store", where)
    if "://" not in store:
        raise InputError(f"{where}.store: {store!r} is not a store URI — e.g. file://.envsync/store/{name}")
    layout = table.get("layout")
    if layout is not None and layout not in LAYOUTS:
        raise InputError(f"{where}.layout: must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    expand = table.get("expand", False)
    if not isinstance(expand, bool):
        raise InputError(f"{where}.expand: must be true or false")
    auth = table.get("auth", {})
    if not isinstance(auth, dict):
        raise InputError(f"{where}.auth: must be a table")
    _reject_unknown(auth, AUTH_KEYS, f"{where}.auth", "")
    schema = _string(table, "schema", where) if "schema" in table else None
    description = table.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{where}.description: must be a string")
    for key, value in (("file", file), ("schema", schema)):
        if value is not None:
            _check_local_path(root, value, f"{where}.{key}")
    shares = _names(table, "shares_keys_with", where)
    may_lack = _names(table, "may_lack", where)
    for key in may_lack:
        if not KEY_PATTERN.match(key):
            raise InputError(f"{where}.may_lack: {key!r} is not a valid .env key name")
    return Target(
        name=name,
        file=(root / file),
        store=store,
        root=root,
        schema=(root / schema) if schema else None,
        layout=layout,
        expand=expand,
        description=description,
        auth={k: str(v) for k, v in auth.items()},
        shares_keys_with=shares,
        may_lack=may_lack,
    )


def _names(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """An optional list of non-empty strings (target names or key names), duplicates dropped."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        example = '["staging"]' if key == "shares_keys_with" else '["DEBUG_TOOLBAR"]'
        raise InputError(f"{where}.{key}: must be a list of non-empty strings, e.g. {key} = {example}")
    return tuple(dict.fromkeys(value))


def _check_shared_targets(targets: dict[str, Target], where: str) -> None:
    """Every `shares_keys_with` names another target of this config."""
    for target in targets.values():
        for other in target.shares_keys_with:
            if other == target.name:
                raise InputError(f"{where}.{target.name}.shares_keys_with: names the target itself")
            if other not in targets:
                raise InputError(f"{where}.{target.name}.shares_keys_with: no target named {other!r}"
                                 f"{_suggest(other, targets)}")


def _string(table: dict[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}.{key}: must be a non-empty string")
    if UNSAFE.search(value):  # paths are shown as written: no control, bidi or line-separator characters
        raise InputError(f"{where}.{key}: contains a control character (NUL, newline, tab, a bidi control, "
                         "a line separator…) — remove it")
    return value


def _check_local_path(root: Path, value: str, where: str) -> None:
    """A file the target reads and writes: each name short enough for the file system, and
    no symlink on the way that leads out of the project folder (a committed `.env` symlink
    must not make a push upload, or a pull overwrite, a file elsewhere). A path written
    outside the folder in the config itself (`../shared/.env`) is the config's own choice."""
    for part in Path(value).parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise InputError(f"{where}: the name {part[:40]!r}… is over {NAME_MAX} bytes — too long for a file name")
    lexical = Path(os.path.normpath(root / value))
    if not _within(lexical, root):
        return
    try:
        real = lexical.resolve()
    except (OSError, RuntimeError):
        return  # a symlink loop: reading it fails with its own clear error
    if not _within(real, root.resolve()):
        raise InputError(
            f"{where}: {value} leads through a symlink to {real}, outside the project folder {root} — "
            f"refusing to read or write through it; if that file is meant, write its path in {where.rsplit('.', 1)[-1]!r}"
        )


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _reject_unknown(table: dict[str, Any], allowed: set[str], where: str, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(f"{where}: unknown key {prefix}{key!r}{_suggest(key, allowed)}")


def _suggest(word: str, choices: Any) -> str:
    import difflib  # only on an error: ~1 ms of every start-up otherwise, the pre-commit hook's too

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise InputError(f"{path.name}: over {MAX_CONFIG_BYTES // 1024 // 1024} MiB — too large for a config file; "
                             "is this the right file?")
        return nesting.toml_loads(data.decode("utf-8"))
    except nesting.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: invalid TOML — {exc}") from None
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"{path.name} line {line}: not valid UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read ({exc.strerror})") from None


def _has_tool_table(path: Path) -> bool:
    try:
        tool = _read_toml(path).get("tool", {})
        return isinstance(tool, dict) and "envsync" in tool
    except InputError:
        return False


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
