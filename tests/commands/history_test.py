"""`envsync history [TARGET] [KEY]`: versions without values; a bundle version names the keys it
changed (names only), in both renderings and --json; per-key entries are one key each; one
argument is a target only when a target has that name."""
from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from envsync.commands.history import split_args
from envsync.config import load
from tests.commands.helpers import fill, write_config, write_dev_config


def test_bundle_versions_name_the_keys_they_changed(run_envsync, tmp_path: Path, secret):
    write_config(tmp_path, {"dev": "file://.envsync/dev"})
    keep, token = secret("keep"), secret("token")
    fill(run_envsync, tmp_path, "dev", {"KEEP": keep, "TOKEN": token, "OLD": secret("old")})
    fill(run_envsync, tmp_path, "dev", {"KEEP": keep, "TOKEN": secret("token2"), "NEW": secret("new")})
    assert run_envsync("unset", "dev", "OLD", "--yes", cwd=tmp_path).code == 0
    result = run_envsync("history", "dev", "--json", cwd=tmp_path)
    assert result.code == 0, result.output
    versions = json.loads(result.stdout)["versions"]
    assert [v["changes"] for v in versions] == [
        [{"key": "OLD", "action": "deleted"}],
        [{"key": "NEW", "action": "added"}, {"key": "TOKEN", "action": "changed"}],
        [{"key": "KEEP", "action": "added"}, {"key": "OLD", "action": "added"},
         {"key": "TOKEN", "action": "added"}]]
    lines = run_envsync("history", "dev", cwd=tmp_path).stdout.splitlines()
    assert "-OLD" in lines[1] and "1 key" in lines[1], lines
    assert "+NEW ~TOKEN" in lines[2] and "2 keys" in lines[2] and "KEEP" not in lines[2], lines


def test_a_long_first_version_names_a_few_keys(run_envsync, tmp_path: Path, secret):
    write_config(tmp_path, {"dev": "file://.envsync/dev"})
    fill(run_envsync, tmp_path, "dev", {f"K{i:02}": secret(f"k{i}") for i in range(10)})
    row = run_envsync("history", "dev", cwd=tmp_path).stdout.splitlines()[1]
    assert "+K00 +K01 +K02 +K03 +K04 +K05 …4 more" in row and "10 keys" in row, row


def test_per_key_entries_are_unchanged(run_envsync, tmp_path: Path, secret):
    write_config(tmp_path, {"dev": "file://.envsync/dev?layout=per-key"})
    fill(run_envsync, tmp_path, "dev", {"A": secret("a")})
    versions = json.loads(run_envsync("history", "dev", "--json", cwd=tmp_path).stdout)["versions"]
    assert [(v["key"], v["action"], v["changes"]) for v in versions] == [("A", "added", None)]


def test_history_lists_versions_without_values(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"K={secret('1')}\n")
    run_envsync("push", "-y")
    (tmp_path / ".env").write_text(f"K={secret('2')}\n")
    run_envsync("push", "-y")
    result = run_envsync("history", "dev", "K", "--json")
    assert result.code == 0
    assert [v["action"] for v in json.loads(result.stdout)["versions"]] == ["changed", "added"]
    assert "added" in run_envsync("history", "K").stdout


def test_split_args_takes_one_word_as_a_target_only_when_one_has_that_name(tmp_path: Path):
    write_config(tmp_path, {"dev": "file://s/dev", "prod": "file://s/prod"})
    config = load(tmp_path / "envsync.toml")
    assert split_args(config, ()) == ((), None)
    assert split_args(config, ("prod",)) == (("prod",), None)
    assert split_args(config, ("API_TOKEN",)) == ((), "API_TOKEN")
    assert split_args(config, ("prod", "API_TOKEN")) == (("prod",), "API_TOKEN")
    with pytest.raises(click.UsageError, match="at most TARGET and KEY"):
        split_args(config, ("prod", "A", "B"))
