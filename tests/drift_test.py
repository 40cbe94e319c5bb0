"""Tests for `envsync.drift.compare`: schema vs store, local file vs store, and the offline
schema vs local file check. Findings point at a file and line and never carry a value."""
from __future__ import annotations

import pytest

from envsync.drift import (
    MISSING_FROM_LOCAL,
    MISSING_FROM_SCHEMA,
    MISSING_FROM_STORE,
    VALUE_DIFFERS,
    Finding,
    Side,
    compare,
)

SCHEMA_FILE, LOCAL_FILE = ".env.example", ".env"


def side(name: str, file: str, *keys: str) -> Side:
    """A side whose keys sit on lines 1, 2, 3... in the order given."""
    return Side(name, file, list(keys), {key: n for n, key in enumerate(keys, start=1)})


def schema(*keys: str) -> Side:
    return side(SCHEMA_FILE, SCHEMA_FILE, *keys)


def local(*keys: str) -> Side:
    return side(LOCAL_FILE, LOCAL_FILE, *keys)


def found(findings: list[Finding]) -> set[tuple[str, str, str | None, int | None]]:
    """(kind, key, file, line) of each finding: what a user is told and where to look."""
    return {(f.kind, f.key, f.file, f.line) for f in findings}


@pytest.mark.parametrize("kwargs, expected", [
    pytest.param(dict(schema=schema("A", "B"), local=None, remote_keys=["A", "B"]), set(),
                 id="schema-vs-store-in-agreement"),
    pytest.param(dict(schema=schema("A", "B"), local=None, remote_keys=["B", "C"]), {
        (MISSING_FROM_STORE, "A", SCHEMA_FILE, 1),
        (MISSING_FROM_SCHEMA, "C", SCHEMA_FILE, None),  # no line yet: it belongs in the schema file
    }, id="schema-vs-store-missing-both-ways"),
    pytest.param(dict(schema=schema("A"), local=None, remote_keys=[]), {
        (MISSING_FROM_STORE, "A", SCHEMA_FILE, 1),
    }, id="schema-vs-empty-store"),
    pytest.param(dict(schema=None, local=local("A", "B"), remote_keys=["B", "C"],
                      local_values={"A": "1", "B": "2"}, remote_values={"B": "2", "C": "3"}), {
        (MISSING_FROM_STORE, "A", LOCAL_FILE, 1),
        (MISSING_FROM_LOCAL, "C", LOCAL_FILE, None),
    }, id="local-vs-store-missing-both-ways"),
    pytest.param(dict(schema=None, local=local("A", "B", "C"), remote_keys=["A", "B", "C"],
                      local_values={"A": "1", "B": "2", "C": ""}, remote_values={"A": "1", "B": "two", "C": "x"}), {
        (VALUE_DIFFERS, "B", LOCAL_FILE, 2),
        (VALUE_DIFFERS, "C", LOCAL_FILE, 3),
    }, id="local-vs-store-values-differ"),
    pytest.param(dict(schema=None, local=local("A"), remote_keys=["A"]), set(),
                 id="local-vs-store-without-values-compares-keys-only"),
    pytest.param(dict(schema=schema("A", "B"), local=local("B", "C"), remote_keys=None), {
        (MISSING_FROM_LOCAL, "A", SCHEMA_FILE, 1),
        (MISSING_FROM_SCHEMA, "C", LOCAL_FILE, 2),
    }, id="offline-schema-vs-local"),
    pytest.param(dict(schema=schema("A"), local=local("A"), remote_keys=None), set(),
                 id="offline-in-agreement"),
    pytest.param(dict(schema=schema("A"), local=None, remote_keys=None), set(),
                 id="offline-schema-only-has-nothing-to-compare"),
    pytest.param(dict(schema=schema("A", "S"), local=local("A", "L"), remote_keys=["A", "R"],
                      local_values={"A": "1"}, remote_values={"A": "2"}), {
        (MISSING_FROM_STORE, "S", SCHEMA_FILE, 2),
        (MISSING_FROM_SCHEMA, "R", SCHEMA_FILE, None),
        (MISSING_FROM_STORE, "L", LOCAL_FILE, 2),
        (MISSING_FROM_LOCAL, "R", LOCAL_FILE, None),
        (VALUE_DIFFERS, "A", LOCAL_FILE, 1),
        # online, the schema is compared with the store, not with the local file
    }, id="online-all-three"),
])
def test_compare(kwargs, expected):
    findings = compare("dev", **kwargs)
    assert found(findings) == expected
    assert len(findings) == len(expected)
    assert all(f.target == "dev" for f in findings)


def test_messages_name_the_key_and_the_fix():
    findings = compare("dev", schema=schema("A"), local=None, remote_keys=["C"])
    by_key = {f.key: f.message for f in findings}
    assert by_key["A"].startswith("A is in .env.example but not in the store")
    assert "push it" in by_key["A"]
    assert by_key["C"].startswith("C is in the store but not in .env.example")


def test_messages_name_keys_but_never_values(secret):
    local_values = {"API_KEY": secret("local"), "ONLY_LOCAL": secret("only-local")}
    remote_values = {"API_KEY": secret("remote"), "ONLY_REMOTE": secret("only-remote")}
    findings = compare("prod", schema=schema("API_KEY", "SCHEMA_ONLY"), local=local(*local_values),
                       remote_keys=list(remote_values), local_values=local_values, remote_values=remote_values)
    assert {f.key for f in findings} == {"API_KEY", "ONLY_LOCAL", "ONLY_REMOTE", "SCHEMA_ONLY"}
    for f in findings:
        assert f.key in f.message
        for value in [*local_values.values(), *remote_values.values()]:
            assert value not in repr(f)
