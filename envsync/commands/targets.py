"""`envsync targets`: the config's targets, one a line; --json gives a CI matrix (`include:` entries)."""
from __future__ import annotations

from typing import Any

from envsync.config import Config
from envsync.errors import EXIT_CLEAN
from envsync.escaping import escape
from envsync.output import Output
from envsync.stores import extra_for


def rows(config: Config) -> list[dict[str, Any]]:
    return [{"target": t.name, "file": t.display_file(), "store": t.store,
             "scheme": t.store.partition("://")[0], "schema": t.display_schema(), "extra": extra_for(t.store)}
            for t in config.targets.values()]


def run(config: Config, *, as_json: bool) -> int:
    listed = rows(config)
    out = Output(as_json)
    out.show("\n".join("\t".join(escape(r[column]) for column in ("target", "file", "store")) for r in listed))
    out.emit_json(listed)
    return EXIT_CLEAN
