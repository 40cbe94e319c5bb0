"""Formats that hand values to a process or a file: the one place values are revealed."""
from __future__ import annotations

import json
import shlex
from typing import Mapping

from envsync.dotenv_file import encode_value
from envsync.errors import InputError

FORMATS = ("dotenv", "json", "shell")


def render(values: Mapping[str, str], fmt: str) -> str:
    keys = sorted(values)
    if fmt == "dotenv":
        return "".join(f"{k}={encode_value(values[k])}\n" for k in keys)
    if fmt == "json":
        return json.dumps({k: values[k] for k in keys}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "shell":
        return "".join(f"export {k}={shlex.quote(values[k])}\n" for k in keys)
    raise InputError(f"unknown export format {fmt!r} — use one of {', '.join(FORMATS)}")


def shell_safe_keys(values: Mapping[str, str]) -> None:
    """Shell and process environments take only NAME-like keys."""
    for key in values:
        if not key.replace("_", "a").isalnum() or key[0].isdigit():
            raise InputError(f"{key}: not a valid environment variable name (only letters, digits and '_')")
