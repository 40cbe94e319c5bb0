"""`envsync get`: one value, only where it may go (a file or a pipe, never a terminal or a CI log
without --reveal)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.helpers import fill, write_config
from tests.fakes.gcp_fake import subprocess_env
from tests.tty_test import run_in_terminal


@pytest.fixture(params=["bundle", "per-key"])
def project(request, tmp_path: Path, run_envsync, secret):
    write_config(tmp_path, {"prod": f"file://.envsync/prod?layout={request.param}"})
    values = {"TOKEN": secret("token"), "MULTI": secret("line1") + "\n" + secret("line2")}
    fill(run_envsync, tmp_path, "prod", {"TOKEN": values["TOKEN"], "MULTI": '"' + values["MULTI"] + '"'})
    return tmp_path, values


def test_get_prints_the_value_to_a_pipe(run_envsync, project):
    folder, values = project
    result = run_envsync("get", "prod", "TOKEN", cwd=folder, reveals=True)
    assert result.code == 0, result.stderr
    assert result.stdout == values["TOKEN"] + "\n"
    raw = run_envsync("get", "TOKEN", "-n", cwd=folder, reveals=True)  # the only target
    assert raw.stdout == values["TOKEN"]
    multi = run_envsync("get", "prod", "MULTI", "-n", cwd=folder, reveals=True)
    assert multi.stdout == values["MULTI"]


def test_get_refuses_a_terminal_without_reveal(project, leak_watch):
    folder, values = project
    code, screen = run_in_terminal(["get", "prod", "TOKEN"], folder)
    leak_watch.outputs.append(("terminal", screen))
    assert code == 2 and "refusing to print a secret value to a terminal" in screen
    code, screen = run_in_terminal(["get", "prod", "TOKEN", "--reveal"], folder)
    assert code == 0 and values["TOKEN"] in screen


@pytest.mark.parametrize("ci", [{"GITHUB_ACTIONS": "true"}, {"GITLAB_CI": "true"}])
def test_get_refuses_a_ci_job_log(run_envsync, project, ci):
    folder, _ = project
    result = run_envsync("get", "prod", "TOKEN", cwd=folder, env=ci)
    assert result.code == 2 and "job log" in result.stderr
    assert "--output" not in result.stderr and "--format" not in result.stderr  # options get does not have
    assert "--reveal" in result.stderr
    assert result.stdout == ""


def test_on_github_into_a_file_the_value_is_masked_first(project, tmp_path, run_envsync, leak_watch):
    import subprocess

    from tests.conftest import ENVSYNC

    folder, values = project
    out = tmp_path / "token.txt"
    with out.open("w") as handle:  # stdout a file: allowed in CI
        proc = subprocess.run([ENVSYNC, "get", "prod", "TOKEN"], cwd=folder, stdout=handle,
                              stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin",
                                                                      "GITHUB_ACTIONS": "true"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"::add-mask::{values['TOKEN']}"]
    assert out.read_text() == values["TOKEN"] + "\n"


def test_missing_key_and_bad_key_exit_2_without_a_value(run_envsync, project):
    folder, _ = project
    missing = run_envsync("get", "prod", "NOPE", cwd=folder)
    assert missing.code == 2 and "NOPE: not in the store of target prod" in missing.stderr
    bad = run_envsync("get", "prod", "1=2", cwd=folder)
    assert bad.code == 2 and "not a valid key" in bad.stderr
    assert run_envsync("get", cwd=folder).code == 2


def test_get_from_gcp_secret_manager(run_envsync, gcp_fake, tmp_path, secret):
    env = subprocess_env()
    write_config(tmp_path, {"dev": f"gcp-sm:///shop/dev?endpoint={gcp_fake.endpoint}&insecure=true&layout=per-key"})
    token = secret("token")
    fill(run_envsync, tmp_path, "dev", {"TOKEN": token}, env)
    result = run_envsync("get", "dev", "TOKEN", cwd=tmp_path, env=env, reveals=True)
    assert result.code == 0 and result.stdout == token + "\n", result.stderr


def test_with_two_targets_and_none_named_the_hint_does_not_offer_all(run_envsync, tmp_path):
    write_config(tmp_path, {"dev": "file://.envsync/dev", "prod": "file://.envsync/prod"})
    for args in (["get", "TOKEN"], ["ls"], ["rollback", "--to", "1"]):
        result = run_envsync(*args, cwd=tmp_path)
        assert result.code == 2, result.output
        assert "(dev, prod)" in result.stderr and "--all" not in result.stderr, result.stderr


def test_get_help_says_command_substitution_in_ci_needs_reveal(run_envsync, tmp_path):
    result = run_envsync("get", "--help", cwd=tmp_path)
    assert result.code == 0
    assert "$(envsync get …)` inside CI needs --reveal" in " ".join(result.stdout.split())
