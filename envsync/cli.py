"""The `envsync` command line: parse the arguments and dispatch to `envsync/commands/<name>.py`.

Each command's module is imported inside its callback, so `envsync scan` (the pre-commit hook)
loads the leak guard and nothing of the sync engine. `main` maps every failure to one line and
the exit status README gives at the end of "State": 0 clean, 1 drift or finding, 2 the user's
mistake (`InputError`), 3 a store's (`StoreError`). What is never printed, and what is masked
first, is SECURITY.md's "What EnvSync defends against".
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from envsync import __version__, config as config_module
from envsync.errors import EXIT_CLEAN, EnvSyncError
from envsync.escaping import escape
from envsync.model import EXPORT_FORMATS, Mode, OnConflict
from envsync.stores.base import StoreOptions


# -- shared options ----------------------------------------------------------


def targets_argument(func):
    func = click.option("--all", "all_targets", is_flag=True, help="Every target in the config.")(func)
    return click.argument("targets", nargs=-1, metavar="[TARGET]...")(func)


def json_option(func):
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")(func)


def report_options(func):
    """--report, --junit, --codequality and --summary, handed to the command as one `reports` argument."""

    @functools.wraps(func)
    def command(*args, report_file, junit, codequality, summary, **kwargs):
        from envsync.output import ReportFiles  # here: `envsync scan` loads no report code

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
    from envsync.commands import init as init_command

    return init_command.run(Path.cwd(), name, file, store, force)


# -- plan / push / pull / sync -----------------------------------------------


def sync_options(func):
    func = click.option("--on-conflict", type=click.Choice([c.value for c in OnConflict]), default="fail",
                        show_default=True, callback=lambda ctx, param, value: OnConflict(value),
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
    from envsync.commands import sync

    return sync.run(ctx.obj.get("config"), Mode(mode), targets, all_targets, on_conflict=on_conflict, prune=prune,
                    force=force, verbose=verbose, dry_run=True, yes=False, as_json=as_json, options=StoreOptions(),
                    reports=reports)


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
        from envsync.commands import sync

        return sync.run(ctx.obj.get("config"), mode, targets, all_targets, on_conflict=on_conflict, prune=prune,
                        force=force, verbose=verbose, dry_run=dry_run, yes=yes, as_json=as_json,
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
    from envsync.commands import check as check_command

    return check_command.run(ctx.obj.get("config"), targets, all_targets, offline=offline, as_json=as_json,
                             reports=reports)


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


@cli.command("export")
@click.argument("target", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="dotenv", show_default=True,
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
    from envsync.commands import export

    return export.run(load_config(ctx), target, fmt=fmt, output=output, reveal=reveal, source=source,
                      allow_key=allow_key)


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
    from envsync.commands import run as run_command

    return run_command.run(ctx.obj.get("config"), args, source=source, no_override=no_override,
                           allow_key=allow_key)


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
    from envsync.commands import history as history_command

    return history_command.run(load_config(ctx), args, as_json=as_json)


@cli.command()
@json_option
@click.pass_context
def targets(ctx, as_json) -> int:
    """List the targets; --json gives a CI matrix (`include:` entries)."""
    from envsync.commands import targets as targets_command

    return targets_command.run(load_config(ctx), as_json=as_json)


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
    from envsync.commands import doctor as doctor_command

    return doctor_command.run(load_config(ctx), targets, all_targets, as_json=as_json)


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
@click.option("--disable-rule", multiple=True, metavar="ID", envvar="ENVSYNC_SCAN_DISABLE_RULE",
              help="Turn off a token rule by the id findings show (e.g. public-ip; repeatable). "
                   "A team commits this as [scan] disable_rules in envsync.toml.")
@click.option("--every-value", is_flag=True,
              help="Look for every value of at least --min-length, even ones that look like words, numbers or hosts.")
@click.option("-v", "--verbose", is_flag=True, help="Also list allowed findings, skipped files and skipped values.")
@click.pass_context
def scan_command(ctx, files, staged, all_files, stores, values_from, baseline, update_baseline, fmt, as_json,
                 min_length, max_size, allow_unscanned, allow_env_file, disable_rule, every_value, verbose) -> int:
    """The leak guard: find this repo's .env values and known tokens in files.

    \b
      envsync scan --staged          # what is about to be committed (pre-commit)
      envsync scan --all             # every tracked file
      envsync scan src/ config.yml   # these files or folders
    Values are looked for as written, base64, URL-encoded and JSON-escaped;
    tokens by format (AWS, GitHub, GitLab, Slack, Stripe, Google, npm, PyPI,
    OpenAI, Anthropic, Hugging Face, Twilio, SendGrid and more, private keys,
    JWTs), random strings assigned to secret-looking names or in quotes, and
    public IP addresses (--disable-rule ID turns a rule off). Staged .env and
    store files are refused; a file that cannot be read fails the run. A
    finding names the file, line, rule and key — never the value.
    Allow a line with an `envsync: allow` comment, or record reviewed findings
    with --update-baseline. Exit status 1 on findings, 0 when clean.
    """
    from envsync.commands import scan

    return scan.run(ctx.obj.get("config"), files, staged=staged, all_files=all_files, stores=stores,
                    values_from=values_from, baseline=baseline, update_baseline=update_baseline, fmt=fmt,
                    as_json=as_json, min_length=min_length, max_size=max_size, allow_unscanned=allow_unscanned,
                    allow_env_file=allow_env_file, disable_rule=disable_rule, every_value=every_value, verbose=verbose)


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
