"""Push on merge: the values a CI job gives a store, from the reviewed schema
(`push --from-schema`) and/or the CI's own secret variables (`--from-env PREFIX`).
Pure: the caller reads the schema, the store and the environment.

The schema decides the key set, not the values: a key the store already holds
keeps its live value (a schema default never overwrites it), a new key takes
the schema's default, and a value from the CI's variables wins over both.
Empty strings count as absent: an empty default is a placeholder, and an empty
CI variable is almost always a secret the job was not given.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from envsync.dotenv_file import DotenvDocument
from envsync.errors import InputError
from envsync.model import KEY_PATTERN

ALLOW_MISSING = "--allow-missing"


@dataclass(frozen=True)
class Request:
    """What `push --from-schema / --from-env PREFIX / --allow-missing` asked for."""

    from_schema: bool
    prefix: str | None
    allow_missing: bool = False

    def source(self, schema_name: str | None) -> str:
        """Where the values come from, for the plan's title."""
        parts = [schema_name] if self.from_schema and schema_name else []
        if self.prefix:
            parts.append(f"${self.prefix}*")
        return " + ".join(parts)

    def prune(self, asked: bool) -> bool:
        """The schema is the whole key set, so keys it no longer lists are pruned."""
        return asked or self.from_schema


def make_request(from_schema: bool, prefix: str | None, allow_missing: bool) -> Request | None:
    """The request, or None for an ordinary push from the local file; bad combinations are InputErrors."""
    if prefix is not None and not prefix.strip():
        raise InputError("--from-env needs a PREFIX such as CI_SECRET_ — an empty one would push the whole environment")
    if allow_missing and not from_schema:
        raise InputError(f"{ALLOW_MISSING} goes with --from-schema (it lets schema keys with no value be left out)")
    if not from_schema and prefix is None:
        return None
    return Request(from_schema, prefix, allow_missing)


def schema_defaults(document: DotenvDocument) -> dict[str, str | None]:
    """Every key of the schema, with its default (None for a bare `KEY` line)."""
    values = document.values()
    return {key: values.get(key) for key in document.keys()}


def values_for(request: Request, schema: Mapping[str, str | None] | None, remote: Mapping[str, str],
               env: Mapping[str, str], schema_name: str = ".env.example") -> tuple[dict[str, str], list[str]]:
    """The values the store must hold, and notes for the user (never a value)."""
    if request.from_schema:
        if schema is None:
            raise InputError("--from-schema needs a schema")
        return desired_values(schema, remote, env, request.prefix, request.allow_missing, schema_name)
    assert request.prefix is not None
    return prefixed_values(env, request.prefix)


def desired_values(schema: Mapping[str, str | None], remote: Mapping[str, str], env: Mapping[str, str],
                   prefix: str | None, allow_missing: bool,
                   schema_name: str = ".env.example") -> tuple[dict[str, str], list[str]]:
    """The schema's keys with their values: the CI's variable, else the live value, else the default.

    A key with none of them is an InputError naming every such key, unless
    `allow_missing`, which leaves them out with a note.
    """
    if not schema:
        raise InputError(f"{schema_name} lists no keys — pushing it would delete every key from the store; "
                         "add the keys, or point the target's `schema` at the right file")
    variables, notes = _variables(env, prefix) if prefix else ({}, [])
    values: dict[str, str] = {}
    missing: list[str] = []
    for key, default in schema.items():
        value = _value_for(key, default, remote, variables)
        if value is None:
            missing.append(key)
        else:
            values[key] = value
    notes += [f"${prefix}{key} is set but {key} is not in {schema_name} — ignored (add {key} to the schema)"
              for key in variables if key not in schema]
    if missing and not allow_missing:
        raise InputError(_missing_message(missing, schema_name, prefix))
    notes += [f"{key} has no default in {schema_name} and no value — left out ({ALLOW_MISSING})" for key in missing]
    return values, notes


def _value_for(key: str, default: str | None, remote: Mapping[str, str],
               variables: Mapping[str, str]) -> str | None:
    if key in variables:
        return variables[key]
    if key in remote:
        return remote[key]  # the live value, even an empty one: the schema sets keys, not values
    return default or None


def prefixed_values(env: Mapping[str, str], prefix: str) -> tuple[dict[str, str], list[str]]:
    """Every variable that starts with `prefix`, prefix stripped; the keys must be valid `.env` keys."""
    variables, notes = _variables(env, prefix)
    invalid = sorted(key for key in variables if not KEY_PATTERN.match(key))
    if invalid:
        shown = ", ".join(f"${prefix}{key}" for key in invalid)
        raise InputError(f"{shown}: not a valid key name once {prefix} is removed — keys are letters, digits, "
                         "'_', '.' and '-', and must not start with a digit; rename the variable")
    if not variables:
        raise InputError(f"no non-empty environment variable starts with {prefix} — check the prefix and that "
                         "the CI job passes its secrets to this step")
    return variables, notes


def _variables(env: Mapping[str, str], prefix: str) -> tuple[dict[str, str], list[str]]:
    """Non-empty variables starting with `prefix`, prefix stripped; a note for each empty one."""
    found: dict[str, str] = {}
    notes: list[str] = []
    for name in sorted(env):
        if not name.startswith(prefix):
            continue
        if env[name]:
            found[name[len(prefix):]] = env[name]
        else:
            notes.append(f"${name} is empty — treated as unset (is the secret defined for this job?)")
    return found, notes


def _missing_message(missing: list[str], schema_name: str, prefix: str | None) -> str:
    one = len(missing) == 1
    subject = f"{missing[0]} has" if one else f"{len(missing)} keys ({', '.join(missing)}) have"
    variable = f"${prefix}{missing[0] if one else '<KEY>'}" if prefix else None
    where = f"no value in the store or in {variable}" if variable else "no value in the store"
    pass_value = f"set {variable}" if variable else f"pass {'its' if one else 'their'} value with --from-env PREFIX"
    return (f"{subject} no default in {schema_name} and {where} — give {'it' if one else 'each'} a default "
            f"in {schema_name}, {pass_value}, or pass {ALLOW_MISSING} to leave {'it' if one else 'them'} out")
