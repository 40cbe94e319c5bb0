"""The `envsync` command line: parse, call the engine, render, exit with the code of DESIGN.md."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from envsync import __version__, config as config_module, drift, dotenv_file, engine, export as export_module, report
from envsync import schema_push
from envsync import ci_report
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, EnvSyncError, InputError
from envsync.escaping import escape, rich
from envsync.fsutil import atomic_write
from envsync.plan import Item, Mode, Plan
from envsync.stores import EXTRAS, open_store
from envsync.stores.base import Progress, StoreOptions, no_progress

STRATEGIES = ("fail", "ask", "local", "remote", "merge")
GITIGNORE_LINES = [".env*", "!.env.example", "!.env.sample", "!.env.template", ".envsync/"]

# -- output ------------------------------------------------------------------


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


# -- shared options ----------------------------------------------------------


def targets_argument(func):
    func = click.option("--all", "all_targets", is_flag=True, help="Every target in the config.")(func)
    return click.argument("targets", nargs=-1, metavar="[TARGET]...")(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")(func)


@dataclass(frozen=True)
class ReportFiles:
    """The report files a command was asked to write (each optional)."""

    report: Path | None = None
    junit: Path | None = None
    codequality: Path | None = None
    summary: Path | None = None


def report_options(func):
    """--report, --junit, --codequality and --summary, handed to the command as one `reports` argument."""

    @functools.wraps(func)
    def command(*args, report_file, junit, codequality, summary, **kwargs):
        return func(*args, reports=ReportFiles(report_file, junit, codequality, summary), **kwargs)

    file = click.Path(dir_okay=False, path_type=Path)
    command = click.option("--summary", type=file, metavar="FILE",
                           help="Write a Markdown summary (values masked) to FILE. On GitHub it is also appended "
                                "to $GITHUB_STEP_SUMMARY, unasked.")(command)
    command = click.option("--codequality", type=file, metavar="FILE",
                           help="Write a GitLab code-quality report, e.g. `--codequality gl-code-quality.json` "
                                "with `artifacts: reports: codequality: gl-code-quality.json`.")(command)
    command = click.option("--junit", type=file, metavar="FILE",
                           help="Write JUnit XML (a test per key, a failure per finding), e.g. `--junit "
                                "envsync.xml` with `artifacts: reports: junit: envsync.xml`.")(command)
    command = click.option("--report", "report_file", type=file, metavar="FILE",
                           help="Also write the --json document to FILE (mode 0600), e.g. `--report "
                                "envsync.json` for the GitHub Action's `report` output.")(command)
    return command


def load_config(ctx: click.Context) -> config_module.Config:
    return config_module.load(ctx.obj.get("config"))


# -- the group ---------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="envsync")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="ENVSYNC_CONFIG", help="Config file (default: envsync.toml or pyproject.toml, searched upwards).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Keep .env files and secret stores in sync, without copy-paste, drift or leaks.

    \b
    Quick start:
      envsync init              # envsync.toml + .gitignore entries
      envsync push --yes        # publish .env to the store
      envsync plan              # what would change, values masked
      envsync pull              # bring the store's changes into .env
      envsync sync              # both directions, three-way merge

    Exit status: 0 in sync or clean, 1 drift, conflict or finding,
    2 usage or input error, 3 store, auth or network error.
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config_path


@cli.command()
@click.option("--target", "name", default="dev", show_default=True, help="Name of the first target.")
@click.option("--file", "file", default=".env", show_default=True, help="The local .env file.")
@click.option("--store", default=None, help="Store URI (default: file://.envsync/store/TARGET).")
@click.option("--force", is_flag=True, help="Overwrite an existing envsync.toml.")
def init(name: str, file: str, store: str | None, force: bool) -> int:
    """Create envsync.toml and keep .env files and .envsync/ out of git.

    Writes one target binding FILE to STORE, and adds `.env*` (but not
    .env.example/.sample/.template) and `.envsync/` to .gitignore.
    """
    root = Path.cwd()
    target = root / config_module.CONFIG_FILE
    if target.exists() and not force:
        raise InputError(f"{config_module.CONFIG_FILE} already exists — edit it, or pass --force to overwrite it")
    if not config_module.TARGET_NAME.match(name):
        raise InputError(f"--target {name!r}: use letters, digits, '_', '.' and '-'")
    store = store or f"file://.envsync/store/{name}"
    lines = ["# EnvSync targets: each binds a local .env file to a secret store.",
             "# See `envsync --help`; store URIs: file://, aws-sm://, gcp-sm://, azure-kv://", "",
             f"[targets.{name}]", f"file = {json.dumps(file)}", f"store = {json.dumps(store)}"]
    if (root / ".env.example").exists():
        lines.append('schema = ".env.example"')
    atomic_write(target, ("\n".join(lines) + "\n").encode(), mode=0o644)
    added = _ensure_gitignore(root / ".gitignore")
    click.echo(f"Wrote {config_module.CONFIG_FILE} with target {name!r}: {file} <-> {store}")
    if added:
        click.echo(f"Added to .gitignore: {' '.join(added)}")
    click.echo(f"Next: `envsync push {name}` to publish {file}, or `envsync pull {name}` to fetch it.")
    return EXIT_CLEAN


def _ensure_gitignore(path: Path) -> list[str]:
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip() for line in existing.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if missing:
        prefix = existing if not existing or existing.endswith("\n") else existing + "\n"
        block = "# EnvSync: local secrets and sync state stay out of git\n" + "\n".join(missing) + "\n"
        atomic_write(path, (prefix + ("\n" if prefix else "") + block).encode(), mode=0o644)
    return missing


# -- plan / push / pull / sync -----------------------------------------------


def sync_options(func):
    func = click.option("--on-conflict", type=click.Choice(STRATEGIES), default="fail", show_default=True,
                        help="fail: stop; ask: prompt per key; local/remote: that side wins; "
                             "merge: three-way text merge where edits do not overlap.")(func)
    func = click.option("--prune", is_flag=True, help="Propagate deletions (never done without it).")(func)
    func = click.option("--force", is_flag=True,
                        help="Ignore the last sync: push and pull make the other side match, even where it "
                             "changed since (or differs, with no earlier sync).")(func)
    func = click.option("-v", "--verbose", is_flag=True, help="Also list unchanged keys.")(func)
    return func


def apply_options(func):
    func = click.option("-y", "--yes", is_flag=True, help="Apply without asking (for CI).")(func)
    func = click.option("-n", "--dry-run", is_flag=True, help="Show the plan and stop.")(func)
    func = click.option("--force-delete", is_flag=True,
                        help="Delete secrets at once, skipping the store's recovery window.")(func)
    func = click.option("--adopt", is_flag=True,
                        help="Let EnvSync write secrets it did not create (no managed-by=envsync tag).")(func)
    return func


@cli.command("plan")
@targets_argument
@sync_options
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="sync", show_default=True,
              help="Plan a push, a pull or a two-way sync.")
@json_option
@report_options
@click.pass_context
def plan_command(ctx, targets, all_targets, on_conflict, prune, force, verbose, mode, as_json, reports) -> int:
    """Show what push, pull or sync would change. Values are masked.

    \b
    In a CI job, with reports for GitLab:
      envsync plan --all --junit envsync.xml --codequality gl-code-quality.json

    Exit status 0 when in sync, 1 when something would change or conflicts.
    """
    return _sync(ctx, Mode(mode), targets, all_targets, on_conflict=on_conflict, prune=prune, force=force,
                 verbose=verbose, dry_run=True, yes=False, as_json=as_json, options=StoreOptions(), reports=reports)


def push_source_options(func):
    """`push` only: take the values from the schema and/or the CI's variables instead of the file."""
    func = click.option("--allow-missing", is_flag=True,
                        help="With --from-schema: leave out (with a warning) keys that have no value anywhere, "
                             "instead of failing.")(func)
    func = click.option("--from-env", "from_env", metavar="PREFIX",
                        help="Values from the environment variables PREFIX<KEY> (the CI's secrets); "
                             "they win over the store and the schema.")(func)
    func = click.option("--from-schema", is_flag=True,
                        help="Make the store's keys match the target's schema: new keys from --from-env or "
                             "the schema's default, keys no longer listed pruned. The .env file is not read.")(func)
    return func


def _make_sync_command(mode: Mode, summary: str, extra_options=None):
    @targets_argument
    @sync_options
    @apply_options
    @json_option
    @report_options  # hands `reports` on through **source
    @click.pass_context
    def command(ctx, targets, all_targets, on_conflict, prune, force, verbose, dry_run, yes, force_delete,
                adopt, as_json, **source) -> int:
        return _sync(ctx, mode, targets, all_targets, on_conflict=on_conflict, prune=prune, force=force,
                     verbose=verbose, dry_run=dry_run, yes=yes, as_json=as_json,
                     options=StoreOptions(force_delete=force_delete, adopt=adopt), **source)

    command.__doc__ = summary
    if extra_options is not None:
        command = extra_options(command)
    return cli.command(mode.value)(command)


_make_sync_command(Mode.PUSH, """Publish local changes to the store.

Keys changed locally since the last sync are written to the store; keys
that changed only in the store are left alone (pull them). Without an
earlier sync, keys only in the file are added, and a key whose value differs
is a conflict (which side is stale cannot be told): settle it with
--on-conflict, or --force to make the store match the file. Deletions need
--prune.

\b
Push on merge, in CI (no .env file needed):
  envsync push --all --yes --from-schema --from-env CI_SECRET_

--from-schema makes each store's key set match the target's schema
(.env.example): a new key gets its --from-env variable ($CI_SECRET_<KEY>
above), else the schema's default; a key the store holds keeps its value
unless that variable is set; a key no longer in the schema is pruned (soft
delete). A key with no value
anywhere fails the push, naming it, unless --allow-missing. --from-env
PREFIX alone pushes every $PREFIX<KEY> variable (deletions need --prune).
""", push_source_options)
_make_sync_command(Mode.PULL, """Bring the store's changes into the local file.

Keys changed in the store since the last sync are written to the file;
keys you changed locally are kept (push them). Without an earlier sync,
keys only in the store are added, and a key whose value differs is a
conflict: settle it with --on-conflict, or --force to make the file match
the store. Deletions need --prune.
""")
_make_sync_command(Mode.SYNC, """Two-way sync: a three-way merge against the last sync.

Each side's changes flow to the other; a key changed on both sides is a
conflict, settled by --on-conflict (fail by default).
""")


def _sync(ctx, mode: Mode, names, all_targets, *, on_conflict, prune, force, verbose, dry_run, yes,
          as_json, options: StoreOptions, from_schema: bool = False, from_env: str | None = None,
          allow_missing: bool = False, reports: ReportFiles = ReportFiles()) -> int:
    out = Output(as_json)
    ci_run = CiRun(f"plan ({mode.value})" if dry_run else mode.value, reports)
    targets = load_config(ctx).select(names, all_targets)
    request = schema_push.make_request(from_schema, from_env, allow_missing)
    schemas = _schemas(targets) if request and request.from_schema else {}
    if request:  # the given values are what the store must hold
        prune, force = request.prune(prune), True
    if on_conflict == "ask" and not sys.stdin.isatty():
        raise InputError("--on-conflict ask needs a terminal to ask on — use fail, local, remote or merge")
    results, exit_code = [], EXIT_CLEAN
    # Every target is read (once) and masked before anything of any target is printed: on
    # GitHub, a plan printed for the first target must not come before the masks of the next.
    contexts = [_prepare(target, mode, request, schemas, options, ci_run) for target in targets]
    plans: dict[str, Plan] = {}
    if on_conflict != "ask":  # asking prompts per key: then each target is planned as it is shown
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
            if not _confirm(target.name, plan):
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


def _prepare(target: config_module.Target, mode: Mode, request: schema_push.Request | None,
             schemas: dict[str, dict[str, str | None]], options: StoreOptions, ci_run: CiRun) -> engine.Context:
    """Read one target (file, store, base) and mask every value read."""
    with progress(f"reading {target.name}") as tick:
        context = (engine.prepare(target, must_exist=mode is Mode.PUSH, progress=tick, options=options)
                   if request is None else _prepare_given(target, request, schemas.get(target.name), tick, options))
    ci_run.mask_context(context)
    return context


def _plan(context: engine.Context, mode: Mode, prune: bool, force: bool, on_conflict: str) -> Plan:
    return engine.plan(context, mode, prune=prune, force=force, on_conflict=on_conflict,
                       choose=_ask if on_conflict == "ask" else None)


def _note_skipped(out: Output, name: str, plan: Plan) -> None:
    skipped = len(plan.skipped_conflicts)
    if skipped:
        out.note(f"{name}: {skipped} conflict{'s' if skipped != 1 else ''} skipped — still unresolved; "
                 f"re-run {plan.mode.value} to settle them")


def _schemas(targets: list[config_module.Target]) -> dict[str, dict[str, str | None]]:
    """Each target's schema keys and defaults, all read before any store is touched."""
    schemas = {}
    for target in targets:
        if target.schema is None:
            raise InputError(f"target {target.name}: --from-schema needs a schema, and the target has none — "
                             f"set `schema = \".env.example\"` in [targets.{target.name}]")
        schemas[target.name] = schema_push.schema_defaults(_schema_document(target))
    return schemas


def _prepare_given(target: config_module.Target, request: schema_push.Request,
                   schema: dict[str, str | None] | None, tick: Progress, options: StoreOptions) -> engine.Context:
    """A push whose values come from the schema and/or the CI's variables, never from the .env file."""
    store, remote = engine.read_store(target, progress=tick, options=options)
    schema_name = target.display_schema() or ""
    try:
        values, notes = schema_push.values_for(request, schema, remote.values, os.environ, schema_name)
    except InputError as exc:
        raise InputError(f"target {target.name}: {exc}") from None
    return engine.prepare_given(target, store, remote, values, request.source(schema_name), notes)


def _confirm(name: str, plan: Plan) -> bool:
    if not sys.stdin.isatty():
        raise InputError("not applying without confirmation and there is no terminal to ask on — "
                         "review the plan and re-run with --yes")
    pushes, pulls = len(plan.remote_changes()), len(plan.local_changes())
    # Prompts go to stderr so that --json output on stdout stays parseable.
    return click.confirm(f"Apply to {name}: {pushes} to the store, {pulls} to the local file?", default=False,
                         err=True)


def _ask(item: Item) -> str:
    click.echo(f"\n{escape(item.key)}: {escape(item.reason)}", err=True)
    click.echo(f"  local: {report.mask(item.local)}   store: {report.mask(item.remote)}   "
               f"last sync: {report.mask(item.base)}", err=True)
    choice = click.prompt("  keep [l]ocal, [r]emote, try [m]erge, or [s]kip?",
                          type=click.Choice(["l", "r", "m", "s"]), show_choices=False, err=True)
    return {"l": "local", "r": "remote", "m": "merge", "s": "skip"}[choice]


# -- check -------------------------------------------------------------------


@cli.command()
@targets_argument
@click.option("--offline", is_flag=True, help="Compare the local file with the schema only; no store call.")
@json_option
@report_options
@click.pass_context
def check(ctx, targets, all_targets, offline, as_json, reports) -> int:
    """Detect drift: schema vs store, local file vs store (keys and values).

    The schema (e.g. .env.example) lists the keys a target must have. A
    target with `shares_keys_with = ["staging"]` (and optionally
    `may_lack = ["DEBUG_TOOLBAR"]`) must hold the same keys as staging's
    store; checked when both targets are (e.g. --all). With --offline, the
    local file is compared with the schema only. Values are never printed.
    Exit status 1 on any drift.

    \b
    In CI (on GitHub, annotations and the step summary come unasked):
      envsync check --all --report envsync.json --junit envsync.xml
    """
    out = Output(as_json)
    ci_run = CiRun("check", reports)
    config = load_config(ctx)
    # Every target is read and masked before anything is printed (see _sync).
    reads = [_read_for_check(target, offline, ci_run) for target in config.select(targets, all_targets)]
    findings: list[drift.Finding] = []
    for read in reads:
        findings += _check_target(read, offline, ci_run)
    if not offline:
        findings += _check_shared_keys(config, reads, ci_run)
    if findings:
        out.show(report.findings_text(findings), lambda: report.findings_table(findings, "Drift"))
        out.note(f"{len(findings)} drift finding(s)")
    else:
        out.note("No drift.")
    payload = {"drift": bool(findings), "findings": report.findings_json(findings)}
    out.emit_json(payload)
    ci_run.finish(payload)
    return EXIT_DRIFT if findings else EXIT_CLEAN


@dataclass(frozen=True)
class _CheckRead:
    """What `check` read for one target: the schema, the local file, the store (None: offline)."""

    target: config_module.Target
    schema: drift.Side | None
    local: engine.Local
    remote_values: dict[str, str] | None
    warnings: list[str]


def _read_for_check(target: config_module.Target, offline: bool, ci_run: CiRun) -> _CheckRead:
    schema = _schema_side(target)
    if offline and schema is None:
        raise InputError(f"target {target.name}: --offline compares with a schema, and the target has none — "
                         "set `schema = \".env.example\"`")
    local = engine.read_local(target, must_exist=False)
    ci_run.mask(local.values.values())
    warnings = list(local.document.warnings)
    remote_values = None
    if not offline:
        store = open_store(target)
        with progress(f"reading {target.name}") as tick:
            remote_values = dict(store.read(tick).values)
        ci_run.mask(remote_values.values())
        warnings += store.notes
    return _CheckRead(target, schema, local, remote_values, warnings)


def _check_target(read: _CheckRead, offline: bool, ci_run: CiRun) -> list[drift.Finding]:
    target, schema, local, remote_values = read.target, read.schema, read.local, read.remote_values
    for message in read.warnings:
        warn(message)
    local_side = None
    if local.exists:
        keys = local.document.keys() if offline else list(local.values)
        known = local.document.lines()
        lines = {k: known.get(k) or 0 for k in keys}
        local_side = drift.Side(target.display_file(), target.display_file(), keys, lines)
    found = drift.compare(target.name, schema=schema, local=local_side,
                          remote_keys=list(remote_values) if remote_values is not None else None,
                          local_values=local.values, remote_values=remote_values)
    checked = [*(schema.keys if schema else ()), *(local_side.keys if local_side else ()), *(remote_values or ())]
    ci_run.add_findings(target.name, checked, found)
    return found


def _check_shared_keys(config: config_module.Config, reads: list[_CheckRead], ci_run: CiRun) -> list[drift.Finding]:
    """The committed cross-target expectations (`shares_keys_with`) between the stores just read."""
    read_keys = {r.target.name: sorted(r.remote_values or {}) for r in reads}
    for read in reads:
        skipped = [o for o in read.target.shares_keys_with if o not in read_keys]
        if skipped:
            warn(f"{read.target.name} shares keys with {', '.join(skipped)}, not checked in this run — "
                 "name both targets, or pass --all, to compare their keys")
    expectations = [drift.Expectation(t.name, t.shares_keys_with, t.may_lack) for t in config.targets.values()]
    found = drift.shared_keys(expectations, read_keys, _relative_config(config))
    for name in read_keys:
        ci_run.add_findings(name, [], [f for f in found if f.target == name])
    return found


def _relative_config(config: config_module.Config) -> str:
    try:
        return str(config.path.relative_to(Path.cwd()))
    except ValueError:
        return config.path.name


def _schema_side(target: config_module.Target) -> drift.Side | None:
    if target.schema is None:
        return None
    name = target.display_schema() or str(target.schema)
    document = _schema_document(target)
    keys = document.keys()
    known = document.lines()
    return drift.Side(name, name, keys, {k: known.get(k) or 0 for k in keys})


def _schema_document(target: config_module.Target) -> dotenv_file.DotenvDocument:
    assert target.schema is not None
    name = target.display_schema() or str(target.schema)
    if not target.schema.exists():
        raise InputError(f"{name}: schema file not found (targets.{target.name}.schema)")
    return dotenv_file.load(target.schema, name)


# -- diff --------------------------------------------------------------------


@cli.command("diff")
@click.argument("targets", nargs=2, metavar="A B")
@click.option("--keys-only", is_flag=True, help="Compare key sets only: for targets whose values are meant "
              "to differ (staging and prod).")
@click.option("-v", "--verbose", is_flag=True, help="Also list the keys that are equal.")
@json_option
@report_options
@click.pass_context
def diff_command(ctx, targets, keys_only, verbose, as_json, reports) -> int:
    """Drift between two targets: keys only in A, only in B, values that differ.

    \b
      envsync diff staging prod               # keys and values (values never shown)
      envsync diff staging prod --keys-only   # values meant to differ: keys only
      envsync diff staging prod --junit envsync.xml --codequality gl-code-quality.json

    Reads both stores (any two: file, AWS, GCP, Azure, either layout) and
    compares them without printing a value: a differing value shows as
    masked (length only). Each finding says what to run to fix it. Exit
    status 0 when they agree, 1 on drift, 2 input, 3 store error.
    """
    from envsync.commands import diff

    return diff.run(load_config(ctx), targets, keys_only=keys_only, verbose=verbose, as_json=as_json,
                    reports=reports)


# -- get / ls / set / unset ----------------------------------------------------


@cli.command("get")
@click.argument("args", nargs=-1, metavar="[TARGET] KEY")
@click.option("--reveal", is_flag=True, help="Allow printing the value to a terminal (or a CI job's log).")
@click.option("-n", "--no-newline", is_flag=True, help="Do not end the output with a newline.")
@click.pass_context
def get_command(ctx, args, reveal, no_newline) -> int:
    """Print one value from the target's store, for a script or a pipe.

    \b
      DATABASE_URL="$(envsync get prod DATABASE_URL)"
      envsync get prod TLS_KEY -n > tls.key
    Like export, it refuses to print to a terminal unless --reveal, and in a
    GitHub or GitLab job refuses the job log (stdout must be a file), so
    `$(envsync get …)` inside CI needs --reveal. On GitHub the value is
    masked first. Exit status 2 if the key is not there.
    """
    from envsync.commands import get

    return get.run(load_config(ctx), args, reveal=reveal, newline=not no_newline)


@cli.command("ls")
@click.argument("target", required=False)
@json_option
@click.pass_context
def ls_command(ctx, target, as_json) -> int:
    """List the keys of the target's store: version, last change, author. No values.

    \b
      envsync ls prod
      envsync ls prod --json | jq -r '.keys[].key'
    In the per-key layout each key's own last version; in the bundle layout
    the bundle's last write (a key's own changes: `envsync history TARGET KEY`).
    """
    from envsync.commands import ls

    return ls.run(load_config(ctx), target, as_json=as_json)


def single_key_options(func):
    func = click.option("--local", is_flag=True, help="Also write the target's local file (by default only the "
                        "store: the next pull or sync brings the change in).")(func)
    func = click.option("--adopt", is_flag=True,
                        help="Let EnvSync write a secret it did not create (no managed-by=envsync tag).")(func)
    func = click.option("-y", "--yes", is_flag=True, help="Apply without asking (for CI).")(func)
    func = click.option("-n", "--dry-run", is_flag=True, help="Show the plan and stop.")(func)
    return json_option(func)


@cli.command("set")
@click.argument("args", nargs=-1, metavar="[TARGET] KEY")
@single_key_options
@click.option("--allow-empty", is_flag=True, help="Accept an empty value from stdin or the prompt.")
@click.pass_context
def set_command(ctx, args, local, adopt, yes, dry_run, as_json, allow_empty) -> int:
    """Write one key to the target's store, as push would (masked plan, compare-and-swap).

    \b
      envsync set prod API_TOKEN                      # prompts, without echo
      vault read -field=token secret/x | envsync set prod API_TOKEN --yes
    The value is read from stdin (one trailing newline dropped) or a prompt,
    never from the command line, where shell history and the process list
    would keep it (KEY=VALUE still works, with a warning). Only the store is
    written unless --local; a secret EnvSync did not create needs --adopt.
    """
    from envsync.commands import set as set_module

    return set_module.run_set(load_config(ctx), args, allow_empty, local=local, dry_run=dry_run, yes=yes,
                              as_json=as_json, options=StoreOptions(adopt=adopt))


@cli.command("unset")
@click.argument("args", nargs=-1, metavar="[TARGET] KEY")
@single_key_options
@click.option("--force-delete", is_flag=True, help="Delete at once, skipping the store's recovery window.")
@click.pass_context
def unset_command(ctx, args, local, adopt, yes, dry_run, as_json, force_delete) -> int:
    """Delete one key from the target's store, as push --prune would.

    \b
      envsync unset prod OLD_FLAG --yes
      envsync unset dev OLD_FLAG --local     # from .env too
    Only the store is changed unless --local. Deleting a key that is not
    there changes nothing and exits 0.
    """
    from envsync.commands import unset

    return unset.run(load_config(ctx), args, local=local, dry_run=dry_run, yes=yes, as_json=as_json,
                     options=StoreOptions(adopt=adopt, force_delete=force_delete))


# -- redact --------------------------------------------------------------------


@cli.command("redact")
@targets_argument
@click.option("--from", "source", type=click.Choice(["store", "local"]), default="store", show_default=True,
              help="Take the values from the store or the local file.")
@click.option("--min-length", type=click.IntRange(1), default=6, show_default=True,
              help="Values shorter than this are left alone (and booleans always): `on` or `8080` would "
                   "rewrite half a log.")
@click.pass_context
def redact_command(ctx, targets, all_targets, source, min_length) -> int:
    """Copy stdin to stdout with the targets' values replaced by [REDACTED:KEY].

    \b
      ./deploy.sh 2>&1 | envsync redact prod staging
      envsync redact --all < build.log > build.redacted.log
    Each value is found as written and base64, base64url, URL-encoded and
    JSON-escaped, as `envsync scan` finds them. Streaming: each line is written
    as soon as no value can still run through it (a value with a newline in
    it is redacted across lines, holding back at most its length).
    """
    from envsync.commands import redact

    return redact.run(load_config(ctx), targets, all_targets, source=source, min_length=min_length,
                      stdin=sys.stdin.buffer, stdout=sys.stdout.buffer)


# -- schema --------------------------------------------------------------------


@cli.command("schema")
@click.argument("target", required=False)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the example lacks keys of the file "
              "(for pre-commit or CI).")
@click.pass_context
def schema_command(ctx, target, check) -> int:
    """Write or update the committed example (.env.example) from the target's file.

    \b
      envsync schema            # .env -> .env.example (or the target's schema)
      envsync schema --check    # exit 1 when .env has keys the example lacks
    Keys and comments, in order, no values (`KEY=`). A value is kept as the
    default only on a line marked `# envsync: default`, e.g.
    `LOG_LEVEL=info  # envsync: default`. Comments that could hold a value
    (a commented-out `KEY=value`, or one of the file's values) are left out.
    An existing example keeps its lines; new keys are appended.
    """
    from envsync.commands import schema

    return schema.run(load_config(ctx), target, check=check)


# -- copy ----------------------------------------------------------------------


@cli.command("copy")
@click.argument("args", nargs=-1, metavar="A B [KEY]...")
@click.option("--prune", is_flag=True, help="Also remove the keys B has and A lacks (only without KEYs).")
@click.option("-n", "--dry-run", is_flag=True, help="Show the plan and stop.")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking (for CI).")
@click.option("--adopt", is_flag=True, help="Let EnvSync write secrets of B it did not create.")
@click.option("--force-delete", is_flag=True, help="With --prune: delete at once, skipping B's recovery window.")
@json_option
@click.pass_context
def copy_command(ctx, args, prune, dry_run, yes, adopt, force_delete, as_json) -> int:
    """Promote values from A's store to B's, as push would write them.

    \b
      envsync copy staging prod API_URL FEATURE_X   # these keys
      envsync copy staging prod --dry-run           # every key of staging, planned
      envsync copy staging prod --prune --yes       # prod becomes staging
    A masked plan, then a write to B with B's rules (compare-and-swap,
    managed-by ownership). Local files are not touched: `envsync pull B`
    brings the change in. Exit 1 on --dry-run with changes, or when not
    confirmed.
    """
    from envsync.commands import copy

    return copy.run(load_config(ctx), args, prune=prune, dry_run=dry_run, yes=yes, as_json=as_json,
                    options=StoreOptions(adopt=adopt, force_delete=force_delete))


# -- rollback ------------------------------------------------------------------


@cli.command("rollback")
@click.argument("target", required=False)
@click.option("--to", "to", required=True, metavar="VERSION|TIME",
              help="A version from `envsync history TARGET` (bundle layout), or an ISO 8601 time (UTC unless "
                   "it says otherwise).")
@click.option("-n", "--dry-run", is_flag=True, help="Show the plan and stop.")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking (for CI).")
@click.option("--adopt", is_flag=True, help="Let EnvSync write secrets it did not create.")
@click.option("--force-delete", is_flag=True, help="Delete at once keys that did not exist then, skipping the "
              "store's recovery window.")
@json_option
@click.pass_context
def rollback_command(ctx, target, to, dry_run, yes, adopt, force_delete, as_json) -> int:
    """Put the target's store back as it was, written as a new version.

    \b
      envsync history prod                              # pick a version
      envsync rollback prod --to 41 --dry-run           # bundle: that version
      envsync rollback prod --to 2026-12-01T09:30Z --yes  # any layout: that time
    History is never rewritten: the old content is read from the store's
    own history and written as push writes (masked plan, compare-and-swap,
    --adopt). Per-key targets take a time: each key goes back to its own
    version then. The local file is untouched: `envsync pull` brings it in.
    """
    from envsync.commands import rollback

    return rollback.run(load_config(ctx), target, to, dry_run=dry_run, yes=yes, as_json=as_json,
                        options=StoreOptions(adopt=adopt, force_delete=force_delete))


# -- export / run ------------------------------------------------------------


def allow_key_option(func):
    return click.option("--allow-key", multiple=True, metavar="KEY",
                        help="Let the target set this variable although it controls what runs (LD_*, "
                             "BASH_ENV, PATH, ENVSYNC_*; in a CI job or for github-env and gitlab-dotenv also "
                             "GITHUB_*, AWS_ENDPOINT_URL*, CA bundles, NODE_OPTIONS, PYTHONPATH, …). Repeatable.")(func)


def source_option(func):
    return click.option("--from", "source", type=click.Choice(["store", "local"]), default="store",
                        show_default=True, help="Take values from the store or the local file.")(func)


def _values(ctx, name: str | None, source: str) -> dict[str, str]:
    target = load_config(ctx).select((name,) if name else ())[0]
    if source == "local":
        local = engine.read_local(target, must_exist=True)
        return local.values
    with progress(f"reading {target.name}") as tick:
        values = dict(open_store(target).read(tick).values)
    if not values:
        warn(f"target {target.name}: the store has no values yet — push first, or use --from local")
    return values


@cli.command("export")
@click.argument("target", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(export_module.FORMATS), default="dotenv", show_default=True,
              help="github-env: append to $GITHUB_ENV for later steps; gitlab-dotenv: for `artifacts: reports: "
                   "dotenv:` (see below).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (mode 0600, atomically) instead of stdout; github-env appends to it "
                   "instead of $GITHUB_ENV.")
@click.option("--reveal", is_flag=True, help="Allow printing values to a terminal.")
@source_option
@allow_key_option
@click.pass_context
def export_command(ctx, target, fmt, output, reveal, source, allow_key) -> int:
    """Hand a target's values to another tool or a CI job.

    \b
      envsync export prod -f json -o secrets.json
      envsync export prod -f github-env                  # GitHub: later steps of the job get them
      envsync export prod -f gitlab-dotenv -o deploy.env # GitLab: later jobs get them

    This is the one command that reveals values, so it refuses to print them
    to a terminal unless --reveal is given; redirect it or use --output. In a
    GitHub or GitLab job it refuses the job log the same way: stdout must be
    a file. On GitHub every value is masked (`::add-mask::`) before it goes
    anywhere.

    github-env appends `KEY<<DELIMITER` blocks (multi-line values too) to
    $GITHUB_ENV, or to --output FILE; it never prints a value.

    gitlab-dotenv writes `KEY=value` lines. GitLab's dotenv report cannot carry
    a multi-line value (such a key is refused, by name), and GitLab has no
    runtime mask command: declare those variables masked in the project's CI/CD
    settings, or keep the file a short-lived artifact (`expire_in: 1 hour`).
    """
    values = _values(ctx, target, source)
    if fmt not in ("dotenv", "json"):  # the others set environment variables: names only
        export_module.shell_safe_keys(values)
        export_module.check_control_variables(values, allow_key, whole_job=fmt != "shell" or _in_ci())
    text = export_module.render(values, fmt)
    if fmt == export_module.GITHUB_ENV:
        return _append_github_env(values, text, output)
    if output is None and sys.stdout.isatty() and not reveal:
        raise InputError("refusing to print secret values to a terminal — redirect the output, "
                         "use --output FILE, or pass --reveal")
    if output is None and not reveal and not _stdout_is_a_file():
        _refuse_a_job_log()
    CiRun("export").mask(values.values())
    if output:
        try:
            atomic_write(output, text.encode("utf-8"), force_mode=True)  # 0600, whatever was there
        except OSError as exc:
            raise InputError(f"{output}: cannot write ({exc.strerror})") from None
        click.echo(f"Wrote {len(values)} values to {output}", err=True)
        return EXIT_CLEAN
    click.echo(text, nl=False)
    return EXIT_CLEAN


def _in_ci() -> bool:
    from envsync import ci

    return ci.provider() in (ci.GITHUB, ci.GITLAB)


def _on_github() -> bool:
    from envsync import ci  # loads urllib and ssl: only where it is needed

    return ci.provider() == ci.GITHUB


def _refuse_a_job_log(hint: str | None = None) -> None:
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


def _stdout_is_a_file() -> bool:
    try:
        return stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def _append_github_env(values: dict[str, str], text: str, output: Path | None) -> int:
    """Mask, then append to $GITHUB_ENV (the runner's file: appended to, never replaced)."""
    destination = output or os.environ.get("GITHUB_ENV")
    if not destination:
        raise InputError("--format github-env appends to $GITHUB_ENV, which is not set (not in a GitHub Actions "
                         "step?) — pass --output FILE, or use --format dotenv")
    CiRun("export").mask(values.values())
    ci_report.append(Path(destination), text)
    click.echo(f"Appended {len(values)} values to {output or '$GITHUB_ENV'}", err=True)
    return EXIT_CLEAN


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@source_option
@click.option("--no-override", is_flag=True, help="Keep variables already set in the environment.")
@allow_key_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[TARGET] -- COMMAND [ARG]...")
@click.pass_context
def run(ctx, source, no_override, allow_key, args) -> int:
    """Run COMMAND with the target's values in its environment.

    \b
      envsync run -- npm start
      envsync run prod -- ./manage.py migrate
    The command's exit status is passed on. On GitHub, each value is
    masked (`::add-mask::`) before COMMAND starts.
    """
    name, command = _split_run_args(args)
    values = _values(ctx, name, source)
    export_module.shell_safe_keys(values)
    export_module.check_control_variables(values, allow_key, whole_job=_in_ci())
    CiRun("run").mask(values.values())
    env = dict(os.environ)
    for key, value in values.items():
        if not (no_override and key in env):
            env[key] = value
    try:
        return subprocess.call(command, env=env)
    except FileNotFoundError:
        raise InputError(f"{command[0]}: command not found") from None
    except PermissionError:
        raise InputError(f"{command[0]}: permission denied") from None


def _split_run_args(args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    if "--" in args:
        index = args.index("--")
        before, command = list(args[:index]), list(args[index + 1:])
        if len(before) > 1:
            raise click.UsageError("run takes at most one TARGET before --")
        name = before[0] if before else None
    else:
        name, command = None, list(args)
    if not command:
        raise click.UsageError("no command to run — e.g. envsync run -- npm start")
    return name, command


# -- history / targets -------------------------------------------------------


@cli.command()
@click.argument("args", nargs=-1, metavar="[TARGET] [KEY]")
@json_option
@click.pass_context
def history(ctx, args, as_json) -> int:
    """Versions of a target (or of one key): when, by whom, what kind of change.

    \b
      envsync history prod              # each version; a bundle version: the keys it changed
      envsync history prod API_TOKEN    # one key's versions
      envsync history prod --json | jq '.versions[0].changes'
    Key names and value lengths only, never a value. A version whose
    keys cannot be read (disabled, or past the store's history) shows no keys.
    """
    config = load_config(ctx)
    if len(args) > 2:
        raise click.UsageError("history takes at most TARGET and KEY")
    if len(args) == 2:
        names, key = (args[0],), args[1]
    elif len(args) == 1 and args[0] in config.targets:
        names, key = (args[0],), None
    else:
        names, key = (), (args[0] if args else None)
    target = config.select(names)[0]
    store = open_store(target)
    entries = store.history(key, changes=key is None)
    for message in store.notes:  # e.g. names an old version holds that are not .env keys
        warn(message)
    out = Output(as_json)
    rows = report.history_rows(entries, key)
    subject = f"{target.name}" + (f" {key}" if key else "")
    out.show(report.history_text(subject, rows), lambda: report.history_table(subject, rows))
    out.emit_json({"target": target.name, "key": key, "versions": report.history_json(entries)})
    return EXIT_CLEAN


@cli.command()
@json_option
@click.pass_context
def targets(ctx, as_json) -> int:
    """List the targets; --json gives a CI matrix (`include:` entries)."""
    config = load_config(ctx)
    rows = [{"target": t.name, "file": t.display_file(), "store": t.store,
             "scheme": t.store.partition("://")[0], "schema": t.display_schema(),
             "extra": EXTRAS.get(t.store.partition("://")[0])} for t in config.targets.values()]
    out = Output(as_json)
    out.show("\n".join("\t".join(escape(r[column]) for column in ("target", "file", "store")) for r in rows))
    out.emit_json(rows)
    return EXIT_CLEAN


@cli.command()
@targets_argument
@json_option
@click.pass_context
def doctor(ctx, targets, all_targets, as_json) -> int:
    """Check each target's access: who am I, can I read, may I write.

    Signs in the way push and pull would (OIDC federation in CI, your own
    credentials locally), reads the store, and probes write permission
    without writing anything. Missing permissions are named. With no target
    given, every target is checked. Exit status 2 for a configuration error,
    3 if a store or sign-in check fails.

    \b
    Example:  envsync doctor prod --json
    """
    from envsync import doctor as doctor_module

    config = load_config(ctx)
    chosen = config.select(targets, all_targets or not targets)
    out = Output(as_json)
    diagnoses = []
    for target in chosen:
        with progress(f"checking {target.name}"):
            diagnosis = doctor_module.diagnose(target)
        diagnoses.append(diagnosis)
        out.show(_doctor_text(diagnosis), lambda d=diagnosis: _doctor_table(d))
    out.emit_json({"healthy": all(d.healthy for d in diagnoses), "targets": [d.as_json() for d in diagnoses]})
    return max(d.exit_code for d in diagnoses)


def _doctor_table(diagnosis):
    from rich.table import Table

    styles = {"ok": "green", "failed": "bold red", "skipped": "dim"}
    table = Table(title=rich(f"{diagnosis.target}: {diagnosis.store}"),
                  caption=rich(f"federation: {diagnosis.federation}"), title_justify="left", caption_justify="left")
    for column in ("check", "status", "detail"):
        table.add_column(column, overflow="fold")
    for check in diagnosis.checks:
        table.add_row(rich(check.name), f"[{styles[check.status]}]{check.status}[/]", rich(check.detail))
    return table


def _doctor_text(diagnosis) -> str:
    marks = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}
    lines = [escape(f"{diagnosis.target}: {diagnosis.store}"), escape(f"  federation: {diagnosis.federation}")]
    lines += [escape(f"  {check.name:<9} {marks[check.status]:<8} {check.detail}") for check in diagnosis.checks]
    return "\n".join(lines)


# -- scan (the leak guard) -----------------------------------------------------


@cli.command("scan")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--staged", is_flag=True, help="Scan what is staged for commit (git's index, not the working tree); "
              "with FILES (the pre-commit hook), those files: as staged when they are, else as on disk.")
@click.option("--all", "all_files", is_flag=True, help="Scan every file tracked by git (working-tree content).")
@click.option("--from-store", "stores", multiple=True, metavar="TARGET",
              help="Also look for the values in TARGET's store (reads the store; repeatable).")
@click.option("--values-from", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Also look for the values of this .env file (repeatable).")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Baseline of reviewed findings (default: .envsync-baseline.json at the repo root).")
@click.option("--update-baseline", is_flag=True, help="Record the current findings in the baseline and exit 0.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "sarif", "github", "gitlab"]),
              default="text", show_default=True, help="sarif: GitHub code scanning; github: workflow "
              "annotations; gitlab: code-quality report.")
@json_option
@click.option("--min-length", type=click.IntRange(1), default=8, show_default=True, envvar="ENVSYNC_SCAN_MIN_LENGTH",
              help="Values shorter than this are not looked for.")
@click.option("--max-size", default="5MB", show_default=True, envvar="ENVSYNC_SCAN_MAX_SIZE",
              help="Larger files are scanned in pieces of this size.")
@click.option("--allow-unscanned", is_flag=True, envvar="ENVSYNC_SCAN_ALLOW_UNSCANNED",
              help="Let the run pass when a file cannot be read (it is still listed); by default it fails.")
@click.option("--allow-env-file", multiple=True, metavar="GLOB", envvar="ENVSYNC_SCAN_ALLOW_ENV_FILE",
              help="Another .env-like file that may be committed (a name, or a path glob with '/'; repeatable). "
                   "Always allowed: .env.example, .env.sample, .env.template.")
@click.option("--every-value", is_flag=True,
              help="Look for every value of at least --min-length, even ones that look like words, numbers or hosts.")
@click.option("-v", "--verbose", is_flag=True, help="Also list allowed findings, skipped files and skipped values.")
@click.pass_context
def scan_command(ctx, files, staged, all_files, stores, values_from, baseline, update_baseline, fmt, as_json,
                 min_length, max_size, allow_unscanned, allow_env_file, every_value, verbose) -> int:
    """The leak guard: find this repo's .env values and known tokens in files.

    \b
      envsync scan --staged          # what is about to be committed (pre-commit)
      envsync scan --all             # every tracked file
      envsync scan src/ config.yml   # these files or folders
    Values are looked for as written, base64, URL-encoded and JSON-escaped;
    tokens by format (AWS, GitHub, GitLab, Slack, Stripe, Google, npm, PyPI,
    OpenAI, Anthropic, Hugging Face, Twilio, SendGrid and more, private keys,
    JWTs) and random strings assigned to secret-looking names. Staged .env and
    store files are refused; a file that cannot be read fails the run. A finding names the file, line, rule and key — never the value.
    Allow a line with an `envsync: allow` comment, or record reviewed findings
    with --update-baseline. Exit status 1 on findings, 0 when clean.
    """
    from envsync import scan as leak_guard

    if as_json and fmt not in ("text", "json"):
        raise click.UsageError("--json and --format are two ways to pick the output; give one")
    fmt = "json" if as_json else fmt
    if sum(bool(x) for x in (files and not staged, staged, all_files)) != 1:
        raise click.UsageError("say what to scan: FILES, --staged or --all (one of them; the hook passes --staged FILES)")
    settings = leak_guard.Settings(
        min_length=min_length, max_size=leak_guard.parse_size(str(max_size)),
        allowed_env_files=leak_guard.ALLOWED_ENV_FILES + tuple(p for arg in allow_env_file for p in arg.split()),
        every_value=every_value, allow_unscanned=allow_unscanned,
    )
    request = leak_guard.Request(files=files, staged=staged, all_files=all_files, config_path=ctx.obj.get("config"),
                                 stores=stores, values_from=values_from, baseline=baseline,
                                 update_baseline=update_baseline, settings=settings)
    result = leak_guard.run(request)
    for message in result.warnings:
        warn(message)
    if fmt == "text":
        click.echo(leak_guard.render_text(result, verbose))
    elif fmt == "json":
        click.echo(json.dumps(leak_guard.render_json(result), indent=2))
    elif fmt == "sarif":
        click.echo(json.dumps(leak_guard.render_sarif(result, __version__), indent=2))
    elif fmt == "github":
        click.echo(leak_guard.render_github(result))
    else:
        click.echo(json.dumps(leak_guard.render_gitlab(result), indent=2))
    return EXIT_DRIFT if result.findings else EXIT_CLEAN


# -- CI reporting ----------------------------------------------------------------


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
        self.github = _on_github()
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


# -- entry point -------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user-facing failures become one line on stderr and an exit code."""
    try:
        result = cli.main(args=argv, prog_name="envsync", standalone_mode=False)
    except EnvSyncError as exc:
        click.echo(f"envsync: error: {escape(exc)}", err=True)  # one line, whatever a store's error text holds
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("\nAborted; nothing more applied.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:  # a bug: say so without echoing data that might hold a value
        if os.environ.get("ENVSYNC_DEBUG"):
            raise
        click.echo(f"envsync: internal error ({exc.__class__.__name__}) — please report it; "
                   "set ENVSYNC_DEBUG=1 for the traceback", err=True)
        return 3
    return result if isinstance(result, int) else EXIT_CLEAN
