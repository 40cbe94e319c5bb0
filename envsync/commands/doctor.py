"""`envsync doctor [TARGET]...`: each target's access — who am I, can I read, may I write — as
`envsync.doctor` diagnoses it, rendered as a table, plain text or --json."""
from __future__ import annotations

from envsync import doctor as diagnose_module
from envsync.config import Config
from envsync.escaping import escape, rich
from envsync.output import Output, progress


def run(config: Config, names, all_targets, *, as_json: bool) -> int:
    """Every target when none is named; exit status the worst of the diagnoses'."""
    chosen = config.select(names, all_targets or not names)
    out = Output(as_json)
    diagnoses = []
    for target in chosen:
        with progress(f"checking {target.name}"):
            diagnosis = diagnose_module.diagnose(target)
        diagnoses.append(diagnosis)
        out.show(text(diagnosis), lambda d=diagnosis: table(d))
    out.emit_json({"healthy": all(d.healthy for d in diagnoses), "targets": [d.as_json() for d in diagnoses]})
    return max(d.exit_code for d in diagnoses)


def table(diagnosis):
    from rich.table import Table

    styles = {"ok": "green", "failed": "bold red", "skipped": "dim"}
    grid = Table(title=rich(f"{diagnosis.target}: {diagnosis.store}"),
                 caption=rich(f"federation: {diagnosis.federation}"), title_justify="left", caption_justify="left")
    for column in ("check", "status", "detail"):
        grid.add_column(column, overflow="fold")
    for check in diagnosis.checks:
        grid.add_row(rich(check.name), f"[{styles[check.status]}]{check.status}[/]", rich(check.detail))
    return grid


def text(diagnosis) -> str:
    marks = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}
    lines = [escape(f"{diagnosis.target}: {diagnosis.store}"), escape(f"  federation: {diagnosis.federation}")]
    lines += [escape(f"  {check.name:<9} {marks[check.status]:<8} {check.detail}") for check in diagnosis.checks]
    return "\n".join(lines)
