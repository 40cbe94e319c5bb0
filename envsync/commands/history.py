"""`envsync history [TARGET] [KEY]`: a target's (or one key's) versions — when, by whom, what kind
of change. Key names and value lengths only, never a value."""
from __future__ import annotations

import click

from envsync import report
from envsync.config import Config
from envsync.errors import EXIT_CLEAN
from envsync.output import Output, warn
from envsync.stores import open_store


def split_args(config: Config, args: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """[TARGET] [KEY]: one argument is the target when a target has that name, else the key."""
    if len(args) > 2:
        raise click.UsageError("history takes at most TARGET and KEY")
    if len(args) == 2:
        return (args[0],), args[1]
    if len(args) == 1 and args[0] in config.targets:
        return (args[0],), None
    return (), (args[0] if args else None)


def run(config: Config, args: tuple[str, ...], *, as_json: bool) -> int:
    names, key = split_args(config, args)
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
