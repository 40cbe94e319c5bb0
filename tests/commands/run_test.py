"""`envsync run`: the target's values in the child's environment, its exit status passed on,
masks first on GitHub, and the variables that steer a CI job refused there."""
from __future__ import annotations

import sys

import click
import pytest

from envsync.commands.run import environment, split_args
from tests.commands.helpers import LOCAL, github, masks_on_stderr, write_dev_config


def test_run_passes_values_and_exit_code(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret("v")
    (tmp_path / ".env").write_text(f"MY_SECRET={value}\n")
    run_envsync("push", "-y")
    probe = 'import os, sys; sys.exit(0 if os.environ["MY_SECRET"] == sys.argv[1] else 9)'
    assert run_envsync("run", "--", sys.executable, "-c", probe, value).code == 0
    assert run_envsync("run", "dev", "--", sys.executable, "-c", "raise SystemExit(7)").code == 7
    missing = run_envsync("run", "--", "no-such-command-xyz")
    assert missing.code == 2 and "command not found" in missing.stderr


def test_a_process_of_your_own_takes_its_usual_settings_but_not_in_ci(run_envsync, team):
    """NODE_OPTIONS, a local emulator's AWS_ENDPOINT_URL or a GITHUB_TOKEN in a developer's
    .env are ordinary; in a CI job the same keys would steer the job's later tools and tokens."""
    folder = team[0]
    (folder / ".env").write_text("NODE_OPTIONS=--max-old-space-size=4096\nAWS_ENDPOINT_URL=http://localhost:4566\n"
                                 "GITHUB_TOKEN=dev-token-for-scripts\n")
    assert run_envsync("push", "--yes", cwd=folder).code == 0
    assert run_envsync("run", "--", "true", cwd=folder).code == 0
    in_ci = run_envsync("run", "--", "true", cwd=folder, env={"GITLAB_CI": "true"})
    assert in_ci.code == 2 and "AWS_ENDPOINT_URL: would set a variable" in in_ci.stderr, in_ci.output


def test_run_masks_before_the_command_starts(run_envsync, tmp_path, secret, leak_watch):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"MY_SECRET={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("run", "--", sys.executable, "-c", "print('child output')", env=github(tmp_path))
    assert result.code == 0
    assert result.stdout.splitlines() == ["child output"]  # the child's stdout is its own
    assert masks_on_stderr(leak_watch, result) == [value]
    quiet = run_envsync("run", "--", sys.executable, "-c", "print('child output')", env=LOCAL)
    assert quiet.stdout == "child output\n"


@pytest.mark.parametrize("args, expected", [
    (("--", "npm", "start"), (None, ["npm", "start"])),
    (("prod", "--", "./manage.py", "--", "x"), ("prod", ["./manage.py", "--", "x"])),
    (("npm", "start"), (None, ["npm", "start"])),
])
def test_split_args(args, expected):
    assert split_args(args) == expected


@pytest.mark.parametrize("args, message", [
    (("a", "b", "--", "true"), "at most one TARGET"),
    (("prod", "--"), "no command to run"),
    ((), "no command to run"),
])
def test_split_args_refuses(args, message):
    with pytest.raises(click.UsageError, match=message):
        split_args(args)


def test_environment_overrides_unless_told_not_to():
    base = {"KEEP": "mine", "PATH": "/bin"}
    assert environment(base, {"KEEP": "theirs", "NEW": "1"}, no_override=False) == {
        "KEEP": "theirs", "PATH": "/bin", "NEW": "1"}
    assert environment(base, {"KEEP": "theirs", "NEW": "1"}, no_override=True) == {
        "KEEP": "mine", "PATH": "/bin", "NEW": "1"}
    assert base == {"KEEP": "mine", "PATH": "/bin"}
