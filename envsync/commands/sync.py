"""`envsync plan`, `push`, `pull` and `sync`: read every target, plan, show (masked), confirm, apply.

One flow for the four: `plan` is a dry run of any mode. Every target is read (once) and masked
before anything of any target is printed. `push --from-schema / --from-env` takes the values
from the schema and the CI's variables (`schema_push`, pure) instead of the .env file.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from envsync import config as config_module, engine, report, schema_push
from envsync.commands.schema import read_schema
from envsync.config import Target
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, InputError
from envsync.escaping import escape
from envsync.model import Mode, OnConflict
from envsync.output import CiRun, Output, ReportFiles, confirm, progress, warn
from envsync.plan import Item, Plan
from envsync.stores.base import Progress, StoreOptions


def run(config_path: Path | None, mode: Mode, names, all_targets, *, on_conflict, prune, force, verbose, dry_run,
        yes, as_json, options: StoreOptions, from_schema: bool = False, from_env: str | None = None,
        allow_missing: bool = False, reports: ReportFiles = ReportFiles()) -> int:
    """`config_path`: -c's file, loaded once the report paths are known to be writable."""
    out = Output(as_json)
    ci_run = CiRun(f"plan ({mode.value})" if dry_run else mode.value, reports)
    targets = config_module.load(config_path).select(names, all_targets)
    request = schema_push.make_request(from_schema, from_env, allow_missing)
    schemas = _schemas(targets) if request and request.from_schema else {}
    if request:  # the given values are what the store must hold
        prune, force = request.prune(prune), True
    if on_conflict is OnConflict.ASK and not sys.stdin.isatty():
        raise InputError("--on-conflict ask needs a terminal to ask on — use fail, local, remote or merge")
    results, exit_code = [], EXIT_CLEAN
    # Every target is read (once) and masked before anything of any target is printed: on
    # GitHub, a plan printed for the first target must not come before the masks of the next.
    contexts = [_prepare(target, mode, request, schemas, options, ci_run) for target in targets]
    plans: dict[str, Plan] = {}
    if on_conflict is not OnConflict.ASK:  # asking prompts per key: then each target is planned as it is shown
        for context in contexts:
            plans[context.target.name] = _plan(context, mode, prune, force, on_conflict)
            ci_run.mask_merged(plans[context.target.name])
    written: set[str] = set()  # the files and stores this run has changed so far
    for context in contexts:
        target = context.target
        if {_file_of(context), context.store.uri} & written:
            # Another target of this run shares this file or store and has changed it since the
            # first read: read (and mask) again, or its plan would be refused as stale.
            context = _prepare(target, mode, request, schemas, options, ci_run)
            plans.pop(target.name, None)
        for message in context.warnings:
            warn(message)
        plan = plans[target.name] if target.name in plans else _plan(context, mode, prune, force, on_conflict)
        ci_run.mask_merged(plan)
        title = f"{target.name}: {context.local.document.name} <-> {context.store.uri} ({context.store.layout})"
        out.show(report.plan_text(title, plan, verbose), lambda: report.plan_table(title, plan, verbose))
        result = report.plan_json(target.name, context.local.document.name, plan, context.info(), verbose)
        results.append(result)
        ci_run.add_plan(context, plan, result, dry_run)
        if plan.conflicts:
            exit_code = EXIT_DRIFT
            out.note(f"{target.name}: not applied — {len(plan.conflicts)} conflict(s); "
                     "resolve with --on-conflict local|remote|merge|ask, or edit and re-run")
            continue
        if plan.skipped_conflicts or plan.skipped_unwritable:  # left unresolved on purpose: not "in sync"
            exit_code = EXIT_DRIFT
        if dry_run:
            exit_code = max(exit_code, EXIT_DRIFT if plan.has_changes else EXIT_CLEAN)
            _note_skipped(out, target.name, plan)
            continue
        if plan.has_changes and not yes:
            if not confirm(target.name, plan):
                out.note(f"{target.name}: nothing applied")
                exit_code = EXIT_DRIFT
                continue
        total = len(plan.remote_changes()) or None
        with progress(f"applying to {target.name}", total) as tick:
            outcome = engine.apply(context, plan, tick)
        if plan.has_changes:
            written.update((_file_of(context), context.store.uri))
        result["applied"] = {"push": outcome.pushed, "pull": outcome.pulled}
        for message in outcome.notes:
            warn(message)
        if plan.has_changes:
            out.note(f"{target.name}: pushed {outcome.pushed}, pulled {outcome.pulled}")
        _note_skipped(out, target.name, plan)
    payload = {"targets": results}
    out.emit_json(payload)
    ci_run.finish(payload)
    return exit_code


def _file_of(context: engine.Context) -> str:
    return os.path.realpath(context.local.path)


def _prepare(target: Target, mode: Mode, request: schema_push.Request | None,
             schemas: dict[str, dict[str, str | None]], options: StoreOptions, ci_run: CiRun) -> engine.Context:
    """Read one target (file, store, base) and mask every value read."""
    with progress(f"reading {target.name}") as tick:
        context = (engine.prepare(target, must_exist=mode is Mode.PUSH, progress=tick, options=options)
                   if request is None else _prepare_given(target, request, schemas.get(target.name), tick, options))
    ci_run.mask_context(context)
    return context


def _plan(context: engine.Context, mode: Mode, prune: bool, force: bool, on_conflict: OnConflict) -> Plan:
    return engine.plan(context, mode, prune=prune, force=force, on_conflict=on_conflict,
                       choose=_ask if on_conflict is OnConflict.ASK else None)


def _note_skipped(out: Output, name: str, plan: Plan) -> None:
    skipped = len(plan.skipped_conflicts)
    if skipped:
        out.note(f"{name}: {skipped} conflict{'s' if skipped != 1 else ''} skipped — still unresolved; "
                 f"re-run {plan.mode.value} to settle them")


def _schemas(targets: list[Target]) -> dict[str, dict[str, str | None]]:
    """Each target's schema keys and defaults, all read before any store is touched."""
    schemas = {}
    for target in targets:
        if target.schema is None:
            raise InputError(f"target {target.name}: --from-schema needs a schema, and the target has none — "
                             f"set `schema = \".env.example\"` in [targets.{target.name}]")
        schemas[target.name] = schema_push.schema_defaults(read_schema(target))
    return schemas


def _prepare_given(target: Target, request: schema_push.Request, schema: dict[str, str | None] | None,
                   tick: Progress, options: StoreOptions) -> engine.Context:
    """A push whose values come from the schema and/or the CI's variables, never from the .env file."""
    store, remote = engine.read_store(target, progress=tick, options=options)
    schema_name = target.display_schema() or ""
    try:
        values, notes = schema_push.values_for(request, schema, remote.values, os.environ, schema_name)
    except InputError as exc:
        raise InputError(f"target {target.name}: {exc}") from None
    return engine.prepare_given(target, store, remote, values, request.source(schema_name), notes)


def _ask(item: Item) -> str:
    click.echo(f"\n{escape(item.key)}: {escape(item.reason)}", err=True)
    click.echo(f"  local: {report.mask(item.local)}   store: {report.mask(item.remote)}   "
               f"last sync: {report.mask(item.base)}", err=True)
    choice = click.prompt("  keep [l]ocal, [r]emote, try [m]erge, or [s]kip?",
                          type=click.Choice(["l", "r", "m", "s"]), show_choices=False, err=True)
    return {"l": "local", "r": "remote", "m": "merge", "s": "skip"}[choice]
