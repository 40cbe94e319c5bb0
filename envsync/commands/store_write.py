"""Writing given values to one target's store the way `push` does, for the commands that
compute what a store must hold (`set`, `unset`, `copy`, `rollback`): show the masked plan, then
--dry-run, confirmation or --yes, apply (compare-and-swap), the local file where the command
edited it (`set`/`unset --local`, after the store), and the `--json` document."""
from __future__ import annotations

from typing import Callable

from envsync import dotenv_file, engine, report
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, EnvSyncError
from envsync.output import Output, confirm, progress, warn
from envsync.plan import Plan


def show_and_apply(context: engine.Context, plan: Plan, title: str, *, dry_run: bool, yes: bool, as_json: bool,
                   applied: Callable[[int], str], unchanged: str | None = None, question: str | None = None,
                   local: engine.Local | None = None, single_key: bool = False) -> int:
    """Exit status 0 when applied or nothing to do, 1 for a dry run with changes or a refusal.

    `applied(n)` is the closing line after n writes to the store; `unchanged`, the line when
    nothing changes; `question`, the confirmation (by default, how many writes go where).
    `local` is the target's file holding the command's edit: a change of its own, written
    after the store. `single_key` (set/unset): the apply step runs, and `applied` is in
    --json, also when nothing changes; its progress line counts no total.
    """
    target = context.target
    out = Output(as_json)
    out.show(report.plan_text(title, plan), lambda: report.plan_table(title, plan))
    result = report.plan_json(target.name, context.local.document.name, plan, context.info())
    changes = plan.has_changes or local is not None
    status = EXIT_CLEAN
    if dry_run:
        status = EXIT_DRIFT if changes else EXIT_CLEAN
    elif changes and not yes and not confirm(target.name, plan, question):
        out.note(f"{target.name}: nothing applied")
        status = EXIT_DRIFT
    else:
        if changes or single_key:
            result["applied"] = _apply(context, plan, local, counted=not single_key)
        closing = applied(result["applied"]["push"]) if changes else unchanged
        if closing:
            out.note(closing)
    out.emit_json({"targets": [result]})
    return status


def _apply(context: engine.Context, plan: Plan, local: engine.Local | None, *, counted: bool) -> dict[str, int]:
    """Write the store, then the edited local file; what was written, for --json."""
    name = context.target.name
    with progress(f"applying to {name}", len(plan.remote_changes()) if counted else None) as tick:
        outcome = engine.apply(context, plan, tick)
    for message in outcome.notes:
        warn(message)
    written = {"push": outcome.pushed, "pull": 0}
    if local is not None:
        _write_local(local, name, store_written=bool(outcome.pushed))
        written["local"] = 1
    return written


def _write_local(local: engine.Local, name: str, *, store_written: bool) -> None:
    """Write the edited file, refusing if it changed on disk since it was read."""
    try:
        dotenv_file.write(local.document, local.path, expected=local.raw or b"")
    except EnvSyncError as exc:
        done = " (the store was updated)" if store_written else ""
        raise type(exc)(f"{exc}{done}; run `envsync pull {name}` to bring it into the file") from None
