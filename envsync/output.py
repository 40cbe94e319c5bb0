"""Where output goes: stdout (rich on a TTY, plain text, or JSON), warnings and progress on stderr,
the confirmation prompt, and what a run tells the CI it runs in (masks, annotations, reports)."""
from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import click

from envsync import ci_report, drift
from envsync.errors import InputError
from envsync.escaping import escape
from envsync.plan import Plan
from envsync.stores.base import Progress, no_progress

if TYPE_CHECKING:
    from envsync import engine


class Output:
    """Where and how to show things: rich on a TTY, plain text otherwise, JSON on request."""

    def __init__(self, as_json: bool = False) -> None:
        self.as_json = as_json
        self.fancy = sys.stdout.isatty() and not as_json and os.environ.get("TERM") != "dumb"
        self._console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False)
        return self._console

    def show(self, plain: str, rich_factory=None) -> None:
        if self.as_json:
            return
        if self.fancy and rich_factory is not None:
            self.console.print(rich_factory())
        else:
            click.echo(plain)

    def note(self, message: str) -> None:
        if not self.as_json:
            click.echo(message)

    def emit_json(self, payload: Any) -> None:
        if self.as_json:
            click.echo(ci_report.json_text(payload), nl=False)  # the same bytes --report writes


def warn(message: str) -> None:
    click.echo(f"envsync: warning: {escape(message)}", err=True)  # store notes name the store's secrets


@contextlib.contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Progress]:
    """A transient progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, TextColumn

    columns = [SpinnerColumn(), TextColumn(label), BarColumn(), MofNCompleteColumn()]
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)


def confirm(name: str, plan: Plan, question: str | None = None) -> bool:
    """Ask before applying a plan to target `name` (`question`, or how many writes go where);
    refused without a terminal to ask on."""
    if not sys.stdin.isatty():
        raise InputError("not applying without confirmation and there is no terminal to ask on — "
                         "review the plan and re-run with --yes")
    if question is None:
        pushes, pulls = len(plan.remote_changes()), len(plan.local_changes())
        question = f"Apply to {name}: {pushes} to the store, {pulls} to the local file?"
    # Prompts go to stderr so that --json output on stdout stays parseable.
    return click.confirm(question, default=False, err=True)


# -- where values may be printed -------------------------------------------------


def in_ci() -> bool:
    from envsync import ci

    return ci.provider() in (ci.GITHUB, ci.GITLAB)


def on_github() -> bool:
    from envsync import ci  # loads urllib and ssl: only where it is needed

    return ci.provider() == ci.GITHUB


def refuse_a_job_log(hint: str | None = None) -> None:
    """In CI, stdout that is not a file is the job log, kept and shown to everyone with access.
    `hint`: what to do instead, for a command without export's --output and --format."""
    from envsync import ci

    where = ci.provider()
    if where == ci.GITHUB:
        hint = hint or "redirect to a file, use --output FILE or --format github-env, or pass --reveal"
        raise InputError("refusing to print secret values into the job log — the masks may not take effect "
                         f"first; {hint}")
    if where == ci.GITLAB:
        hint = hint or "redirect to a file, use --output FILE (e.g. -f gitlab-dotenv -o deploy.env), or pass --reveal"
        raise InputError("refusing to print secret values into the job log — GitLab has no command to mask "
                         f"them; {hint}")


def stdout_is_a_file() -> bool:
    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):
        return False


# -- CI reporting ----------------------------------------------------------------


@dataclass(frozen=True)
class ReportFiles:
    """The report files a command was asked to write (each optional)."""

    report: Path | None = None
    junit: Path | None = None
    codequality: Path | None = None
    summary: Path | None = None


def _check_report_path(path: Path | None) -> None:
    """Refuse a report path that cannot be written before any store is touched."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    try:
        usable = not path.is_dir() and folder.is_dir() and os.access(folder, os.W_OK)
    except OSError as exc:  # e.g. a name too long for the file system
        raise InputError(f"{path}: cannot write a report there ({exc.strerror or exc})") from None
    if not usable:
        raise InputError(f"{path}: cannot write a report there (no such folder, or not writable)")


class CiRun:
    """What one command tells the CI it runs in: masks and annotations as it goes (GitHub),
    and at the end the report files asked for and the GitHub step summary.

    Masking rule: on GitHub, every value a command reads (local file, store, the last
    sync's base, a merged value) is masked before anything else is printed for its
    target. These commands never print a value themselves; the masks protect the rest
    of the job (a later `echo`, a crash dump, `set -x`). Workflow commands go to
    stderr, which the runner parses for them just as it does stdout (actions/runner's
    ScriptHandler gives each stream an OutputManager): stdout stays the command's own,
    so `--json | jq`, `plan > plan.txt` and `run -- cmd > out` never get a value in them.
    """

    def __init__(self, command: str, reports: ReportFiles = ReportFiles()) -> None:
        self.command, self.reports = command, reports
        self.github = on_github()
        self.annotated = 0
        for path in (reports.report, reports.junit, reports.codequality, reports.summary):
            _check_report_path(path)
        self.masked: set[str] = set()
        self.findings: list[drift.Finding] = []
        self.checked: dict[str, list[str]] = {}  # target -> keys looked at (JUnit test cases)
        self.sections: list[tuple[str, Plan, dict[str, Any], bool]] = []

    def mask(self, values: Iterable[str]) -> None:
        if not self.github:
            return
        fresh = [v for v in values if v not in self.masked]
        self.masked.update(fresh)
        for line in ci_report.add_mask_lines(fresh):
            click.echo(line, err=True)

    def mask_context(self, context: engine.Context) -> None:
        base = [v for v in (context.base or {}).values() if isinstance(v, str)]
        self.mask([*context.local.values.values(), *context.remote.values.values(), *base])

    def mask_merged(self, plan: Plan) -> None:
        """Values a plan made (three-way merges): not read from anywhere, so masked apart."""
        self.mask(i.merged for i in plan.items if i.merged)

    def add_findings(self, target: str, keys: Iterable[str], findings: list[drift.Finding]) -> None:
        self.checked.setdefault(target, []).extend(keys)
        self.findings += findings
        if self.github:
            lines = ci_report.annotations(findings)
            for line in lines[:max(0, ci_report.MAX_ANNOTATIONS - self.annotated)]:
                click.echo(line, err=True)
            self.annotated += len(lines)

    def add_plan(self, context: engine.Context, plan: Plan, result: dict[str, Any], dry_run: bool) -> None:
        """One target's plan; `result` is its JSON entry, read again at the end for what was applied."""
        self.mask_merged(plan)
        document = context.local.document
        known = document.lines()
        lines = {i.key: known.get(i.key) for i in plan.items}
        name = context.target.name
        # Values given by the CI (push --from-schema / --from-env) have no file of their own:
        # point annotations at the schema, or at no file.
        file = (context.target.display_schema() or None) if context.given else document.name
        self.add_findings(name, [i.key for i in plan.items],
                          ci_report.plan_findings(name, file, plan, lines, dry_run=dry_run))
        self.sections.append((name, plan, result, dry_run))

    def finish(self, payload: Any) -> None:
        """Write the reports asked for, and on GitHub append the job summary. A report that
        cannot be written is a warning: what was applied stays applied, and the exit
        status says how the command went."""
        if self.github and self.annotated > ci_report.MAX_ANNOTATIONS:
            click.echo(f"::warning title=envsync::{self.annotated - ci_report.MAX_ANNOTATIONS} more findings are "
                       "not annotated: see the job summary or --report", err=True)
        try:
            self._write_reports(payload)
        except InputError as exc:  # the writers' own error, naming the file and the reason
            warn(f"{exc}; the command itself completed")
        except OSError as exc:
            warn(f"could not write a report ({exc.filename}: {exc.strerror}); the command itself completed")

    def _write_reports(self, payload: Any) -> None:
        files = self.reports
        if files.report:
            ci_report.write_private(files.report, ci_report.json_text(payload))
        if files.junit:
            ci_report.write_private(files.junit, ci_report.junit_xml(self.checked, self.findings,
                                                                      f"envsync {self.command}"))
        if files.codequality:
            issues = ci_report.codequality(self.findings)
            ci_report.write_private(files.codequality, json.dumps(issues, indent=2) + "\n")
        step_summary = os.environ.get("GITHUB_STEP_SUMMARY") if self.github else None
        if files.summary or step_summary:
            markdown = self.markdown()
            if files.summary and not (step_summary and Path(step_summary).resolve() == files.summary.resolve()):
                ci_report.write_private(files.summary, markdown)
            if step_summary:
                ci_report.append(Path(step_summary), markdown)

    def markdown(self) -> str:
        if self.command in ("check", "diff"):
            return ci_report.check_markdown(list(self.checked), self.findings, self.command)
        sections = [ci_report.PlanSection(name, plan, result.get("applied"), dry_run)
                    for name, plan, result, dry_run in self.sections]
        return ci_report.plan_markdown(self.command, sections)

