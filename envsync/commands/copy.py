"""`envsync copy A B [KEY…]`: promote values from target A's store to target B's (staging → prod).

B is written the way `push` writes it: a masked plan, confirmation or --yes, --dry-run,
compare-and-swap against B as read, B's ownership rule (--adopt) and recovery window
(--force-delete). Without KEYs every key of A is copied; --prune (only then) also removes
the keys B has and A lacks. Neither target's local file is touched: the next `pull` of B
brings the change in. Values are read, compared and written; never shown.
"""
from __future__ import annotations

import click

from envsync import engine
from envsync.commands.store_write import show_and_apply
from envsync.config import Config
from envsync.errors import InputError
from envsync.model import Mode
from envsync.output import CiRun, progress, warn
from envsync.stores.base import StoreOptions


def wanted_values(source: dict[str, str], destination: dict[str, str], keys: tuple[str, ...],
                  prune: bool) -> dict[str, str]:
    """What B must hold: its own values, with A's for `keys` (all of A's when none), less the keys
    A lacks when pruning."""
    missing = [k for k in keys if k not in source]
    if missing:
        raise InputError(f"{missing[0]}: not in the source store{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}"
                         " — see `envsync diff`")
    chosen = keys or tuple(source)
    wanted = {k: v for k, v in destination.items() if not (prune and k not in source)}
    wanted.update({k: source[k] for k in chosen})
    return wanted


def run(config: Config, names: tuple[str, ...], *, prune: bool, dry_run: bool, yes: bool, as_json: bool,
        options: StoreOptions) -> int:
    if len(names) < 2:
        raise click.UsageError("copy takes A B [KEY]... — e.g. envsync copy staging prod API_URL")
    (a_name, b_name), keys = names[:2], tuple(dict.fromkeys(names[2:]))
    if a_name == b_name:
        raise InputError(f"copy needs two different targets, and both are {a_name!r}")
    if prune and keys:
        raise click.UsageError("--prune removes every key of B that A lacks: give no KEYs with it")
    source, destination = config.select((a_name, b_name))
    ci_run = CiRun("copy")
    with progress(f"reading {source.name}") as tick:
        a_store, a_snapshot = engine.read_store(source, progress=tick)
        a_values = dict(a_snapshot.values)
    if not a_values and prune:  # a typo'd prefix reads as empty: pruning would empty B
        raise InputError(f"{source.name}: its store {a_store.uri} holds no keys — refusing to --prune "
                         f"every key of {destination.name}")
    with progress(f"reading {destination.name}") as tick:
        store, remote = engine.read_store(destination, progress=tick, options=options)
    ci_run.mask([*a_values.values(), *remote.values.values()])  # both, before any output
    for message in a_store.notes:
        warn(message)
    if not a_values:
        warn(f"{source.name}: its store {a_store.uri} holds no keys — nothing to copy")
    wanted = wanted_values(a_values, dict(remote.values), keys, prune)
    context = engine.prepare_given(destination, store, remote, wanted, f"{source.name}'s store")
    for message in context.warnings:
        warn(message)
    plan = engine.plan(context, Mode.PUSH, prune=prune, force=True)
    title = f"copy {source.name} -> {destination.name}: {store.uri} ({store.layout})"
    return show_and_apply(
        context, plan, title, dry_run=dry_run, yes=yes, as_json=as_json,
        applied=lambda n: f"{destination.name}: copied {n} change(s) from {source.name}; "
                          f"`envsync pull {destination.name}` brings them into {destination.display_file()}")
