"""`envsync init`: write envsync.toml with one target, and keep .env files and .envsync/ out of git.

The texts are pure (`config_text`, `gitignore_text`); `run` checks the arguments and writes both files.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from envsync import config as config_module
from envsync.errors import EXIT_CLEAN, InputError
from envsync.fsutil import atomic_write

GITIGNORE_LINES = [".env*", "!.env.example", "!.env.sample", "!.env.template", ".envsync/"]


def config_text(name: str, file: str, store: str, schema: bool) -> str:
    """envsync.toml with the one target `name`; `schema`: a .env.example is there to check against."""
    lines = ["# EnvSync targets: each binds a local .env file to a secret store.",
             "# See `envsync --help`; store URIs: file://, aws-sm://, gcp-sm://, azure-kv://", "",
             f"[targets.{name}]", f"file = {json.dumps(file)}", f"store = {json.dumps(store)}"]
    if schema:
        lines.append('schema = ".env.example"')
    return "\n".join(lines) + "\n"


def gitignore_text(existing: str) -> tuple[str, list[str]]:
    """.gitignore with EnvSync's lines added, and the lines that were missing (none: unchanged)."""
    present = {line.strip() for line in existing.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if not missing:
        return existing, []
    prefix = existing if not existing or existing.endswith("\n") else existing + "\n"
    block = "# EnvSync: local secrets and sync state stay out of git\n" + "\n".join(missing) + "\n"
    return prefix + ("\n" if prefix else "") + block, missing


def run(root: Path, name: str, file: str, store: str | None, force: bool) -> int:
    target = root / config_module.CONFIG_FILE
    if target.exists() and not force:
        raise InputError(f"{config_module.CONFIG_FILE} already exists — edit it, or pass --force to overwrite it")
    if not config_module.TARGET_NAME.match(name):
        raise InputError(f"--target {name!r}: use letters, digits, '_', '.' and '-'")
    store = store or f"file://.envsync/store/{name}"
    atomic_write(target, config_text(name, file, store, (root / ".env.example").exists()).encode(), mode=0o644)
    added = _ensure_gitignore(root / ".gitignore")
    click.echo(f"Wrote {config_module.CONFIG_FILE} with target {name!r}: {file} <-> {store}")
    if added:
        click.echo(f"Added to .gitignore: {' '.join(added)}")
    click.echo(f"Next: `envsync push {name}` to publish {file}, or `envsync pull {name}` to fetch it.")
    return EXIT_CLEAN


def _ensure_gitignore(path: Path) -> list[str]:
    text, added = gitignore_text(path.read_text(encoding="utf-8") if path.exists() else "")
    if added:
        atomic_write(path, text.encode(), mode=0o644)
    return added
