"""`envsync run [TARGET] -- COMMAND`: run COMMAND with the target's values in its environment
(masked first on GitHub); its exit status is passed on."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click

from envsync import config as config_module, export as export_module
from envsync.commands.export import read_values
from envsync.errors import InputError
from envsync.output import CiRun, in_ci


def split_args(args: tuple[str, ...]) -> tuple[str | None, list[str]]:
    """[TARGET] -- COMMAND [ARG]...: the target (None: the only one) and the command line."""
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


def environment(base: dict[str, str], values: dict[str, str], no_override: bool) -> dict[str, str]:
    """`base` with the target's values set (kept where `no_override` and already set)."""
    env = dict(base)
    for key, value in values.items():
        if not (no_override and key in env):
            env[key] = value
    return env


def run(config_path: Path | None, args: tuple[str, ...], *, source: str, no_override: bool,
        allow_key: tuple[str, ...]) -> int:
    """`config_path`: -c's file, loaded once the command line is known to be usable."""
    name, command = split_args(args)
    values = read_values(config_module.load(config_path), name, source)
    export_module.shell_safe_keys(values)
    export_module.check_control_variables(values, allow_key, whole_job=in_ci())
    CiRun("run").mask(values.values())
    try:
        return subprocess.call(command, env=environment(dict(os.environ), values, no_override))
    except FileNotFoundError:
        raise InputError(f"{command[0]}: command not found") from None
    except PermissionError:
        raise InputError(f"{command[0]}: permission denied") from None
