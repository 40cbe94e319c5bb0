"""`envsync unset [TARGET] KEY`: delete one key from a target's store the way `push --prune`
does (plan, confirmation, compare-and-swap, ownership, the store's recovery window unless
--force-delete); from the local file too only with --local. See envsync/commands/set.py."""
from __future__ import annotations

from envsync.config import Config

from envsync.commands.set import Write, parse_key, write


def run(config: Config, args: tuple[str, ...], **flags) -> int:
    target, key, _ = parse_key(config, args, "unset")
    return write(target, Write(key, None, **flags))
