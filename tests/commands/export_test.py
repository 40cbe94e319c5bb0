"""`envsync export`: the formats and the 0600 output file, the variables a store may not set,
and in a CI job github-env, gitlab-dotenv, and the refusal of a terminal or the job log."""
from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from envsync import dotenv_file
from tests.ci_report_test import parse_github_env
from tests.commands.helpers import GITLAB, LOCAL, MASK, github, masks_on_stderr, write_dev_config
from tests.conftest import ENVSYNC, without_masks
from tests.tty_test import run_in_terminal


def test_export_formats_and_output_file(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret("v")
    (tmp_path / ".env").write_text(f"A={value}\nB=\"it's\"\n")
    assert run_envsync("push", "-y").code == 0
    dotenv = run_envsync("export", reveals=True)
    assert dotenv.code == 0 and f"A={value}" in dotenv.stdout
    as_json = json.loads(run_envsync("export", "--format", "json", reveals=True).stdout)
    assert as_json["A"] == value
    shell = run_envsync("export", "-f", "shell", reveals=True)
    assert f"export A={value}" in shell.stdout

    out = tmp_path / "out.env"
    written = run_envsync("export", "--output", str(out))
    assert written.code == 0 and value not in written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert dotenv_file.load(out).values()["A"] == value


@pytest.mark.parametrize("fmt", ["dotenv", "json", "gitlab-dotenv"])
def test_export_output_is_0600_whatever_was_there(run_envsync, tmp_path, secret, fmt):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret("v")
    (tmp_path / ".env").write_text(f"A={value}\n")
    assert run_envsync("push", "-y").code == 0
    out = tmp_path / "out.env"
    out.write_text("OLD=1\n")
    os.chmod(out, 0o644)
    written = run_envsync("export", "-f", fmt, "--output", str(out))
    assert written.code == 0, written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert value in out.read_text()


@pytest.mark.parametrize("key, args", [
    ("LD_PRELOAD", ("run", "--", "true")),
    ("BASH_ENV", ("export", "-f", "shell")),
    ("ENVSYNC_ALLOW_ENDPOINTS", ("export", "-f", "github-env", "--output", "github.env")),
    ("NODE_OPTIONS", ("export", "-f", "gitlab-dotenv", "--output", "deploy.env")),
    ("AWS_ENDPOINT_URL_STS", ("export", "-f", "github-env", "--output", "github.env")),
])
def test_a_store_cannot_set_control_variables(run_envsync, team, key, args):
    """A teammate who can write the store must not choose what runs (LD_PRELOAD, BASH_ENV,
    NODE_OPTIONS in a CI job's later steps) or where credentials go (ENVSYNC_*, endpoints)."""
    folder = team[0]
    (folder / ".env").write_text(f"{key}=/nonexistent/control\nAPP_MODE=dev\n")  # ld.so names it on stderr
    assert run_envsync("push", "--yes", cwd=folder).code == 0
    refused = run_envsync(*args, cwd=folder, reveals=True)
    assert refused.code == 2 and f"{key}: would set a variable" in refused.stderr, refused.output
    assert f"--allow-key {key}" in refused.stderr
    assert not (folder / "github.env").exists() and not (folder / "deploy.env").exists()
    allowed = run_envsync(*args[:1], "--allow-key", key, *args[1:], cwd=folder, reveals=True)
    assert allowed.code == 0, allowed.output


def test_export_github_env_masks_and_appends(run_envsync, tmp_path, secret, leak_watch):
    write_dev_config(tmp_path, tmp_path / "store")
    one, two = secret("one"), secret("two")
    values = {"PLAIN": secret("plain"), "CERT": f"{one}\n{two}", "FLAG": "on"}
    (tmp_path / ".env").write_text(f'PLAIN={values["PLAIN"]}\nCERT="{one}\n{two}"\nFLAG=on\n')
    run_envsync("push", "-y", env=LOCAL)
    github_env = tmp_path / "github-env"
    github_env.write_text("EARLIER=1\n")
    result = run_envsync("export", "-f", "github-env", env=github(tmp_path, GITHUB_ENV=str(github_env)))
    assert result.code == 0, result.output
    masked = masks_on_stderr(leak_watch, result)
    assert set(masked) == {values["PLAIN"], f"{one}%0A{two}", one, two}  # "on" is too short to mask
    assert result.stdout == ""
    assert "Appended 3 values to $GITHUB_ENV" in result.stderr
    text = github_env.read_text()
    assert text.startswith("EARLIER=1\n")
    assert parse_github_env(text[len("EARLIER=1\n"):]) == values

    to_file = run_envsync("export", "-f", "github-env", "-o", "env.out", env=LOCAL)
    assert to_file.code == 0 and MASK not in to_file.output
    assert parse_github_env((tmp_path / "env.out").read_text()) == values
    assert stat.S_IMODE((tmp_path / "env.out").stat().st_mode) == 0o600


def test_export_github_env_needs_somewhere_to_go(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"A={secret()}\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("export", "-f", "github-env", env=LOCAL)
    assert result.code == 2 and "$GITHUB_ENV" in result.stderr and "--output FILE" in result.stderr


def test_export_gitlab_dotenv(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"TOKEN={value}\nMODE=ci\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("export", "-f", "gitlab-dotenv", "-o", "deploy.env", env=GITLAB)
    assert result.code == 0, result.output
    assert (tmp_path / "deploy.env").read_text() == f"MODE=ci\nTOKEN={value}\n"
    assert stat.S_IMODE((tmp_path / "deploy.env").stat().st_mode) == 0o600

    (tmp_path / ".env").write_text(f'TOKEN={value}\nCERT="{secret("a")}\n{secret("b")}"\n')
    run_envsync("push", "-y", env=LOCAL)
    refused = run_envsync("export", "-f", "gitlab-dotenv", "-o", "deploy2.env", env=GITLAB)
    assert refused.code == 2 and "CERT" in refused.stderr and "several lines" in refused.stderr
    assert not (tmp_path / "deploy2.env").exists()


def test_export_gitlab_dotenv_refuses_a_terminal(tmp_path, secret, run_envsync, leak_watch):
    write_dev_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"TOKEN={secret()}\n")
    run_envsync("push", "-y", env=LOCAL)
    code, screen = run_in_terminal(["export", "-f", "gitlab-dotenv"], tmp_path, extra_env=LOCAL)
    leak_watch.check("terminal", screen)
    assert code == 2 and "refusing to print secret values to a terminal" in screen


def test_export_to_stdout_on_github(run_envsync, tmp_path, secret, leak_watch):
    """Into the job log only with --reveal (the masks on stderr may be read after the values
    on stdout); to a file or with --reveal, stdout is the document and the masks go first."""
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"A={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    refused = run_envsync("export", "-f", "json", env=github(tmp_path))
    assert refused.code == 2 and "into the job log" in refused.stderr
    result = run_envsync("export", "-f", "json", "--reveal", env=github(tmp_path), reveals=True)
    assert json.loads(result.stdout) == {"A": value}
    assert masks_on_stderr(leak_watch, result) == [value]


@pytest.mark.parametrize("where", ["github", "gitlab"])
def test_export_refuses_the_job_log_but_not_a_file(run_envsync, tmp_path, secret, leak_watch, where):
    """On GitLab as on GitHub: stdout that is not a regular file is the job log."""
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"A={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    env = github(tmp_path) if where == "github" else GITLAB
    for fmt in ("dotenv", "json", "gitlab-dotenv"):
        refused = run_envsync("export", "-f", fmt, env=env)
        assert refused.code == 2 and "into the job log" in refused.stderr, refused.output
        assert refused.stdout == "" and "--output FILE" in refused.stderr
    revealed = run_envsync("export", "--reveal", env=env, reveals=True)
    assert revealed.code == 0 and f"A={value}" in revealed.stdout

    # `envsync export > file`: stdout is a regular file, which is allowed.
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "GITHUB_", "GITLAB_", "CI_"))}
    redirected = tmp_path / "deploy.env"
    with redirected.open("w") as stdout:
        proc = subprocess.run([ENVSYNC, "export", "-f", "gitlab-dotenv"], cwd=tmp_path, stdout=stdout,
                              stderr=subprocess.PIPE, text=True, env={**full_env, **env}, timeout=60)
    leak_watch.outputs.append(("stderr of export > file", without_masks(proc.stderr)))
    assert proc.returncode == 0, proc.stderr
    assert redirected.read_text() == f"A={value}\n"
