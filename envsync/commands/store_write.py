"""Writing given values to one target's store the way `push` does, for the commands that
compute what a store must hold (`copy`, `rollback`): show the masked plan, then --dry-run,
confirmation or --yes, apply (compare-and-swap), and the `--json` document."""
from __future__ import annotations

from typing import Callable

from envsync import engine, report
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT
from envsync.output import Output, confirm, progress, warn
from envsync.plan import Plan


def show_and_apply(context: engine.Context, plan: Plan, title: str, *, dry_run: bool, yes: bool, as_json: bool,
                   applied: Callable[[int], str], unchanged: str | None = None) -> int:
    """Exit status 0 when applied or nothing to do, 1 for a dry run with changes or a refusal.
    `applied(n)` is the closing line after n writes; `unchanged`, the line when there are none."""
    target = context.target
    out = Output(as_json)
    out.show(report.plan_text(title, plan), lambda: report.plan_table(title, plan))
    result = report.plan_json(target.name, context.local.document.name, plan, context.info())
    status = EXIT_CLEAN
    if dry_run:
        status = EXIT_DRIFT if plan.has_changes else EXIT_CLEAN
    elif plan.has_changes and not yes and not confirm(target.name, plan):
        out.note(f"{target.name}: nothing applied")
        status = EXIT_DRIFT
    elif plan.has_changes:
        with progress(f"applying to {target.name}", len(plan.remote_changes())) as tick:
            outcome = engine.apply(context, plan, tick)
        for message in outcome.notes:
            warn(message)
        result["applied"] = {"push": outcome.pushed, "pull": 0}
        out.note(applied(outcome.pushed))
    elif unchanged:
        out.note(unchanged)
    out.emit_json({"targets": [result]})
    return status
