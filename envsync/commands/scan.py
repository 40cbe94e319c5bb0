"""`envsync scan`: the leak guard's command — what to scan, the settings, the output format.
The guard itself (rules, the one pass, the sources, the renderers) is `envsync.scan`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from envsync import __version__, scan as leak_guard
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT


def run(config_path: Path | None, files: tuple[Path, ...], *, staged: bool, all_files: bool, stores: tuple[str, ...],
        values_from: tuple[Path, ...], baseline: Path | None, update_baseline: bool, fmt: str, as_json: bool,
        min_length: int, max_size: str, allow_unscanned: bool, allow_env_file: tuple[str, ...],
        disable_rule: tuple[str, ...], every_value: bool, verbose: bool) -> int:
    """Exit status 1 on findings, 0 when clean."""
    if as_json and fmt not in ("text", "json"):
        raise click.UsageError("--json and --format are two ways to pick the output; give one")
    fmt = "json" if as_json else fmt
    if sum(bool(x) for x in (files and not staged, staged, all_files)) != 1:
        raise click.UsageError("say what to scan: FILES, --staged or --all (one of them; the hook passes --staged FILES)")
    if not all(arg.split() for arg in disable_rule):
        raise click.UsageError("--disable-rule: give a rule id, e.g. --disable-rule public-ip")
    settings = leak_guard.Settings(
        min_length=min_length, max_size=leak_guard.parse_size(str(max_size)),
        allowed_env_files=leak_guard.ALLOWED_ENV_FILES + _each_word(allow_env_file),
        every_value=every_value, allow_unscanned=allow_unscanned, disabled_rules=_each_word(disable_rule),
    )
    request = leak_guard.Request(files=files, staged=staged, all_files=all_files, config_path=config_path,
                                 stores=stores, values_from=values_from, baseline=baseline,
                                 update_baseline=update_baseline, settings=settings)
    result = leak_guard.run(request)
    if result.warnings:
        from envsync.output import warn  # here: a clean hook run loads no output or report code

        for message in result.warnings:
            warn(message)
    click.echo(render(result, fmt, verbose))
    return EXIT_DRIFT if result.findings else EXIT_CLEAN


def _each_word(args: tuple[str, ...]) -> tuple[str, ...]:
    """A repeatable option's values, each split on blanks (its ENVSYNC_SCAN_* variable holds several)."""
    return tuple(word for arg in args for word in arg.split())


def render(result: leak_guard.Result, fmt: str, verbose: bool) -> str:
    if fmt == "text":
        return leak_guard.render_text(result, verbose)
    if fmt == "json":
        return json.dumps(leak_guard.render_json(result), indent=2)
    if fmt == "sarif":
        return json.dumps(leak_guard.render_sarif(result, __version__), indent=2)
    if fmt == "github":
        return leak_guard.render_github(result)
    return json.dumps(leak_guard.render_gitlab(result), indent=2)
