"""`envsync export [TARGET]`: hand a target's values to another tool or a CI job — the one
command made to reveal values, so it refuses a terminal (without --reveal) and a CI job's log,
and on GitHub masks every value before it goes anywhere. The formats are `envsync.export`'s."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from envsync import ci_report, engine, export as export_module
from envsync.config import Config
from envsync.errors import EXIT_CLEAN, InputError
from envsync.fsutil import atomic_write
from envsync.output import CiRun, in_ci, progress, refuse_a_job_log, stdout_is_a_file, warn
from envsync.stores import open_store


def read_values(config: Config, name: str | None, source: str) -> dict[str, str]:
    """One target's values from its store or (`source == "local"`) its file; `run` takes them too."""
    target = config.select((name,) if name else ())[0]
    if source == "local":
        local = engine.read_local(target, must_exist=True)
        return local.values
    with progress(f"reading {target.name}") as tick:
        values = dict(open_store(target).read(tick).values)
    if not values:
        warn(f"target {target.name}: the store has no values yet — push first, or use --from local")
    return values


def run(config: Config, name: str | None, *, fmt: str, output: Path | None, reveal: bool, source: str,
        allow_key: tuple[str, ...]) -> int:
    values = read_values(config, name, source)
    if fmt not in ("dotenv", "json"):  # the others set environment variables: names only
        export_module.shell_safe_keys(values)
        export_module.check_control_variables(values, allow_key, whole_job=fmt != "shell" or in_ci())
    text = export_module.render(values, fmt)
    if fmt == export_module.GITHUB_ENV:
        return append_github_env(values, text, output)
    if output is None and sys.stdout.isatty() and not reveal:
        raise InputError("refusing to print secret values to a terminal — redirect the output, "
                         "use --output FILE, or pass --reveal")
    if output is None and not reveal and not stdout_is_a_file():
        refuse_a_job_log()
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


def append_github_env(values: dict[str, str], text: str, output: Path | None) -> int:
    """Mask, then append to $GITHUB_ENV (the runner's file: appended to, never replaced)."""
    destination = output or os.environ.get("GITHUB_ENV")
    if not destination:
        raise InputError("--format github-env appends to $GITHUB_ENV, which is not set (not in a GitHub Actions "
                         "step?) — pass --output FILE, or use --format dotenv")
    CiRun("export").mask(values.values())
    ci_report.append(Path(destination), text)
    click.echo(f"Appended {len(values)} values to {output or '$GITHUB_ENV'}", err=True)
    return EXIT_CLEAN
