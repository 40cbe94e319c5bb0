"""`envsync schema [TARGET]`: write or update the committed example (`.env.example`) from `.env`.

Keys and comments in the file's order, no values: `KEY=`. A value becomes the example's default
only where its line is marked with a trailing `# envsync: default` comment (`LOG_LEVEL=info  #
envsync: default`): the line is copied as written, marker included, so the next update keeps it.
Comments are copied except any that could carry a secret: a commented-out assignment with a
value (`# API_KEY=sk-…`) or a comment holding one of the file's values. Those are left out,
named by line.

An existing example is updated, not rewritten: its lines stay as they are (its own comments
and defaults), keys new in `.env` are appended with their comments in `.env`'s order, and keys
it has that `.env` lacks are named and kept (the schema is reviewed; removing a key is a human's
call). Pure but for `run`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import click

from envsync import dotenv_file
from envsync.config import ONE_TARGET, Target
from envsync.dotenv_file import DotenvDocument, Entry
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, InputError
from envsync.fsutil import atomic_write
from envsync.output import warn

EXAMPLE = ".env.example"
DEFAULT_MARKER = re.compile(r"\s#\s*envsync:\s*default\s*\Z")
# An assignment anywhere in a comment (`# old: API_KEY=sk-…`): dropped even when it is prose
# (`# set MODE=fast`), as telling them apart is a guess a leak should not hang on.
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\s*=\s*\S")
MIN_VALUE_IN_COMMENT = 6  # a shorter value (`1`, `true`) would match ordinary words


@dataclass
class Result:
    text: str
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # in the example, not in .env
    left_out: list[int] = field(default_factory=list)  # .env lines of comments not copied


def is_default(entry: Entry) -> bool:
    return DEFAULT_MARKER.search(entry.body.rstrip("\r\n")) is not None


def example_line(entry: Entry) -> str:
    """The example's line for a binding: as written when marked a default, else `KEY=`."""
    if is_default(entry):
        return entry.body if entry.body.endswith(("\n", "\r")) else entry.body + "\n"
    export = "export " if entry.body.lstrip().startswith("export ") else ""
    bare = entry.value is None  # a `KEY` line with no `=`
    return f"{export}{entry.key}\n" if bare else f"{export}{entry.key}=\n"


def _unsafe(comment: str, values: list[str]) -> bool:
    return bool(ASSIGNMENT.search(comment)) or any(v in comment for v in values)


def secret_parts(document: DotenvDocument) -> list[str]:
    """The file's values long enough to look for, and the password inside a URL value."""
    from envsync.scan.values import url_password

    parts = []
    for value in document.values().values():
        parts += [value, url_password(value) or ""]
    return [p for p in parts if len(p) >= MIN_VALUE_IN_COMMENT]


def blocks(document: DotenvDocument) -> list[tuple[str, list[Entry]]]:
    """(key, its comment and blank entries before it + its binding), in file order; a trailing
    comment block has key ""."""
    found, pending = [], []
    for entry in document.entries:
        pending.append(entry)
        if entry.key is not None:
            found.append((entry.key, pending))
            pending = []
    if pending:
        found.append(("", pending))
    return found


def render(env: DotenvDocument, existing: DotenvDocument | None) -> Result:
    values = secret_parts(env)
    have = set(existing.keys()) if existing is not None else set()
    result = Result(existing.render() if existing is not None else "")
    seen: set[str] = set()
    parts = []
    for key, entries in blocks(env):
        if key in seen or (key and key in have) or (not key and existing is not None):
            continue  # a duplicate binding, a key the example has, or trailing comments of an update
        seen.add(key)
        for entry in entries:
            if entry.key is not None:
                parts.append(entry.lead + example_line(entry))
                result.added.append(entry.key)
            elif entry.body.lstrip().startswith("#") and _unsafe(entry.body, values):
                parts.append(entry.lead)
                result.left_out.append(entry.line)
            else:
                parts.append(entry.text)
    if existing is not None:
        result.kept = [k for k in existing.keys() if k not in set(env.keys())]
        if parts and result.text and not result.text.endswith(("\n", "\r")):
            result.text += "\n"
    result.text += "".join(parts)
    return result


def read_schema(target: Target) -> DotenvDocument:
    """The target's schema file (`check` compares with it, `push --from-schema` takes its keys)."""
    assert target.schema is not None
    name = target.display_schema() or str(target.schema)
    if not target.schema.exists():
        raise InputError(f"{name}: schema file not found (targets.{target.name}.schema)")
    return dotenv_file.load(target.schema, name)


def run(config, name: str | None, *, check: bool) -> int:
    target = config.select((name,) if name else (), hint=ONE_TARGET)[0]
    path = target.schema or target.file.parent / EXAMPLE
    shown = target.display_schema() or (str(path.relative_to(target.root)) if path.is_relative_to(target.root)
                                        else str(path))
    if not target.file.exists():
        raise InputError(f"{target.display_file()}: file not found — the example is made from it")
    env = dotenv_file.load(target.file, target.display_file())
    existing = dotenv_file.load(path, shown) if path.exists() else None
    result = render(env, existing)
    for line in result.left_out:
        warn(f"{target.display_file()} line {line}: a comment that may hold a value was left out of {shown}")
    for key in result.kept:
        warn(f"{key} is in {shown} but not in {target.display_file()} — kept; remove it by hand if it is gone")
    current = existing.render() if existing is not None else None
    if result.text == current:
        click.echo(f"{shown} is up to date with {target.display_file()}")
        return EXIT_CLEAN
    if check:
        click.echo(f"{shown} is out of date: {', '.join(result.added) or 'new file'} — run `envsync schema "
                   f"{target.name}`")
        return EXIT_DRIFT
    atomic_write(path, result.text.encode("utf-8"), mode=0o644)  # committed: readable like any source file
    click.echo(f"Wrote {shown}: {len(result.added)} key(s) added" + ("" if target.schema else
               f" — set `schema = \"{EXAMPLE}\"` in [targets.{target.name}] so `check` uses it"))
    return EXIT_CLEAN
