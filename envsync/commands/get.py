"""`envsync get [TARGET] KEY`: one value from a target's store, for a script or a pipe.

Like `export`, it reveals a value, so it refuses a terminal without --reveal and, in a
GitHub or GitLab job, a stdout that is not a file (the job log); on GitHub the value is
masked before it is written anywhere.
"""
from __future__ import annotations

import sys

import click

from envsync.config import ONE_TARGET, Config
from envsync.errors import EXIT_CLEAN, InputError
from envsync.escaping import escape
from envsync.model import KEY_PATTERN
from envsync.output import CiRun, progress, refuse_a_job_log, stdout_is_a_file, warn
from envsync.stores import open_store


def split_args(args: tuple[str, ...], command: str) -> tuple[str | None, str]:
    """[TARGET] KEY: with one argument, the KEY of the only target (config.select says if there are
    more). The key is the caller's to check (`set` first cuts a `=VALUE` off it)."""
    if len(args) not in (1, 2):
        raise click.UsageError(f"{command} takes [TARGET] KEY")
    return (args[0], args[1]) if len(args) == 2 else (None, args[0])


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise InputError(f"\"{escape(key)}\" is not a valid key — letters, digits, '_', '.' and '-', "
                         "not starting with a digit")


def run(config: Config, args: tuple[str, ...], *, reveal: bool, newline: bool) -> int:
    name, key = split_args(args, "get")
    check_key(key)
    target = config.select((name,) if name else (), hint=ONE_TARGET)[0]
    # Refused before the store is read: nothing is fetched that cannot be shown.
    if sys.stdout.isatty() and not reveal:
        raise InputError("refusing to print a secret value to a terminal — redirect the output, "
                         "use it in $(...), or pass --reveal")
    if not reveal and not stdout_is_a_file():
        refuse_a_job_log("redirect to a file, or pass --reveal (`$(envsync get …)` in a job needs it: "
                         "stdout is then a pipe)")
    with progress(f"reading {target.name}") as tick:
        store = open_store(target)
        values = store.read(tick).values
    if key not in values:
        raise InputError(f"{key}: not in the store of target {target.name} ({len(values)} keys) — "
                         f"see `envsync ls {target.name}`")
    value = values[key]
    CiRun("get").mask([value])
    for message in store.notes:
        warn(message)
    click.echo(value, nl=newline)
    return EXIT_CLEAN
