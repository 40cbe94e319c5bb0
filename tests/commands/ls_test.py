"""`envsync ls`: keys with version, time and author; never a value nor its length."""
from __future__ import annotations

import json

import pytest

from tests.fakes.aws_server import store_uri
from tests.commands.helpers import aws_env, fill, write_config


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_ls_lists_keys_versions_and_authors_of_a_file_store(run_envsync, tmp_path, secret, layout):
    write_config(tmp_path, {"prod": f"file://.envsync/prod?layout={layout}"})
    fill(run_envsync, tmp_path, "prod", {"B_KEY": secret("b"), "A_KEY": secret("a")})
    fill(run_envsync, tmp_path, "prod", {"B_KEY": secret("b2"), "A_KEY": secret("a2"), "C_KEY": secret("c")})
    result = run_envsync("ls", "prod", "--json", cwd=tmp_path)
    assert result.code == 0, result.output
    document = json.loads(result.stdout)
    assert [k["key"] for k in document["keys"]] == ["A_KEY", "B_KEY", "C_KEY"]
    assert all(k["author"] and k["changed"] for k in document["keys"])
    assert all(set(k) == {"key", "version", "changed", "author", "of"} for k in document["keys"])
    versions = {k["key"]: k["version"] for k in document["keys"]}
    if layout == "bundle":
        assert set(versions.values()) == {"2"} and document["keys"][0]["of"] == "bundle"
    else:
        assert versions == {"A_KEY": "2", "B_KEY": "2", "C_KEY": "1"}
    text = run_envsync("ls", cwd=tmp_path)
    assert text.code == 0 and "A_KEY" in text.stdout and "chars" not in text.stdout


def test_ls_of_an_empty_store(run_envsync, tmp_path):
    write_config(tmp_path, {"prod": "file://.envsync/prod"})
    result = run_envsync("ls", "prod", cwd=tmp_path)
    assert result.code == 0 and "no keys" in result.stdout


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_ls_of_an_aws_store(run_envsync, moto_server, tmp_path, secret, layout):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"prod": store_uri(moto_server.endpoint, "app/prod", layout)})
    fill(run_envsync, tmp_path, "prod", {"ONE": secret("1"), "TWO": secret("2")}, env)
    result = run_envsync("ls", "prod", "--json", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    keys = json.loads(result.stdout)["keys"]
    assert [k["key"] for k in keys] == ["ONE", "TWO"]
    assert all(k["version"] and k["changed"] for k in keys)


@pytest.mark.parametrize("args", [("ls", "b"), ("get", "b", "K"), ("set", "b", "K", "-y"), ("unset", "b", "K", "-y"),
                                  ("diff", "a", "b"), ("copy", "a", "b", "-y"), ("redact", "b")])
def test_a_store_that_cannot_be_read_exits_3_in_one_line(run_envsync, tmp_path, secret, args):
    write_config(tmp_path, {"a": "file://.envsync/a", "b": "file://.envsync/b"})
    fill(run_envsync, tmp_path, "a", {"K": secret()})
    fill(run_envsync, tmp_path, "b", {"K": secret()})
    (tmp_path / ".envsync/b/bundle/00000002.json").write_text("{broken")
    result = run_envsync(*args, cwd=tmp_path, input=secret("in") + "\n", reveals=args[0] == "get")
    assert result.code == 3, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
