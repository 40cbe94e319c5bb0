"""`envsync set [TARGET] KEY`: write one key to a target's store, the way `push` writes.

The value comes from stdin, or from a prompt without echo on a terminal — never from argv,
where shell history and the process list keep it (`KEY=VALUE` is accepted, with a warning).
The write is push's: a plan (masked), confirmation or --yes, --dry-run, compare-and-swap
against the snapshot just read, and the managed-by=envsync ownership rule (--adopt).
The store is written; the local file only with --local. Without it the next `pull` or
`sync` brings the change into the file like a teammate's push (no sync state is recorded).
`unset` (envsync/commands/unset.py) is the same path with a deletion.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import click

from envsync import engine
from envsync.config import ONE_TARGET, Config, Target
from envsync.errors import InputError
from envsync.model import Change, Mode
from envsync.output import CiRun, progress, warn
from envsync.stores.base import StoreOptions, applied

from envsync.commands.get import check_key, split_args
from envsync.commands.store_write import show_and_apply


@dataclass(frozen=True)
class Write:
    """What set/unset was asked to do to one key."""

    key: str
    value: str | None  # None: delete
    local: bool
    dry_run: bool
    yes: bool
    as_json: bool
    options: StoreOptions


def parse_key(config: Config, args: tuple[str, ...], command: str) -> tuple[Target, str, str | None]:
    """[TARGET] KEY[=VALUE]: the target, the key, and a value given on the command line (warned about)."""
    name, key = split_args(args, command)
    given = None
    if "=" in key and command == "set":
        key, given = key.split("=", 1)
    check_key(key)
    return config.select((name,) if name else (), hint=ONE_TARGET)[0], key, given


def read_value(key: str, allow_empty: bool = False) -> str:
    """The value from stdin (one trailing newline dropped, as `echo` adds one), or a no-echo prompt.
    Empty is refused unless allowed: an upstream command that failed in a pipe leaves stdin empty."""
    if sys.stdin.isatty():
        value = click.prompt(f"Value for {key}", hide_input=True, confirmation_prompt=True, err=True,
                             default="", show_default=False)
    else:
        value = _strip_newline(_stdin_text(key))
    if value == "" and not allow_empty:
        raise InputError(f"{key}: the value is empty (did the command feeding stdin fail?) — "
                         "pass --allow-empty to store an empty value")
    return value


def _stdin_text(key: str) -> str:
    """stdin decoded strictly: the text layer's error handler may not be strict."""
    raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{key}: the value on stdin is not UTF-8 text") from None


def _strip_newline(text: str) -> str:
    return text[:-2] if text.endswith("\r\n") else (text[:-1] if text.endswith("\n") else text)


def run_set(config: Config, args: tuple[str, ...], allow_empty: bool = False, **flags) -> int:
    target, key, given = parse_key(config, args, "set")
    if given is not None:
        warn("a value given as KEY=VALUE stays in your shell history and the process list — "
             f"prefer `envsync set {target.name} {key}` with the value on stdin or at the prompt")
        value = given
    else:
        value = read_value(key, allow_empty)
    return write(target, Write(key, value, **flags))


def write(target: Target, request: Write) -> int:
    """Plan the one change against the store as read; show it masked, confirm and apply it
    through the flow `copy` and `rollback` share (store_write)."""
    verb = "set" if request.value is not None else "unset"
    ci_run = CiRun(verb)
    local = engine.read_local(target, must_exist=False) if request.local else None
    if local is not None:
        ci_run.mask(local.values.values())
        if request.value is not None:  # refused here, before the store changes, if .env cannot hold it
            local.document.set(request.key, request.value)
        else:
            local.document.unset(request.key)
    with progress(f"reading {target.name}") as tick:
        store, remote = engine.read_store(target, progress=tick, options=request.options)
    wanted = applied(remote.values, [Change(request.key, request.value)])
    context = engine.prepare_given(target, store, remote, wanted, f"envsync {verb} {request.key}")
    ci_run.mask_context(context)
    for message in context.warnings:
        warn(message)
    plan = engine.plan(context, Mode.PUSH, prune=True, force=True)
    edited = local if local is not None and local.document.render().encode() != (local.raw or b"") else None
    also = f" and {target.display_file()}" if edited else ""
    return show_and_apply(
        context, plan, f"{target.name}: {verb} {request.key} in {store.uri} ({store.layout})",
        dry_run=request.dry_run, yes=request.yes, as_json=request.as_json, local=edited, single_key=True,
        question=f"{verb.capitalize()} {request.key} in {target.name}'s store{also}?",
        applied=lambda _: f"{target.name}: {request.key} {verb} in the store{also}",
        unchanged=f"{target.name}: nothing to change")
