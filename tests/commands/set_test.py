"""`envsync set` / `unset`: one key written the way push writes it — masked plan, --dry-run,
confirmation or --yes, ownership — the store only unless --local."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.aws_server import sm_client, store_uri
from tests.commands.helpers import aws_env, fill, write_config


def store_values(run_envsync, folder: Path, name: str, env=None) -> dict[str, str]:
    result = run_envsync("export", name, "-f", "json", cwd=folder, env=env, reveals=True)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(params=["bundle", "per-key"])
def project(request, tmp_path: Path, run_envsync, secret):
    write_config(tmp_path, {"prod": f"file://.envsync/prod?layout={request.param}"})
    old = secret("old")
    fill(run_envsync, tmp_path, "prod", {"TOKEN": old, "KEEP": "kept-value"})
    return tmp_path, old


def test_set_takes_the_value_from_stdin_and_writes_only_the_store(run_envsync, project, secret):
    folder, old = project
    before = (folder / ".env.prod").read_text()
    new = secret("new")
    result = run_envsync("set", "prod", "TOKEN", "--yes", cwd=folder, input=new + "\n")
    assert result.code == 0, result.output
    assert "push-change" in result.stdout and "TOKEN set in the store" in result.stdout
    assert store_values(run_envsync, folder, "prod") == {"TOKEN": new, "KEEP": "kept-value"}
    assert (folder / ".env.prod").read_text() == before
    # the next pull brings it into the file, as a teammate's push
    pulled = run_envsync("pull", "prod", "--yes", cwd=folder)
    assert pulled.code == 0, pulled.output
    assert f"TOKEN={new}" in (folder / ".env.prod").read_text()


def test_set_with_local_writes_the_file_too(run_envsync, project, secret):
    folder, _ = project
    new = secret("new")
    result = run_envsync("set", "prod", "ADDED", "--yes", "--local", cwd=folder, input=new)
    assert result.code == 0, result.output
    assert store_values(run_envsync, folder, "prod")["ADDED"] == new
    assert f"ADDED={new}" in (folder / ".env.prod").read_text()
    assert run_envsync("plan", "prod", cwd=folder).code == 0  # file and store agree


def test_key_equals_value_works_with_a_warning(run_envsync, project, secret):
    folder, _ = project
    new = secret("argv")
    result = run_envsync("set", "prod", f"TOKEN={new}", "-y", cwd=folder)
    assert result.code == 0, result.output
    assert "shell history" in result.stderr


def test_dry_run_and_no_confirmation_write_nothing(run_envsync, project, secret):
    folder, old = project
    dry = run_envsync("set", "prod", "TOKEN", "--dry-run", cwd=folder, input=secret("x"))
    assert dry.code == 1 and "push-change" in dry.stdout
    unconfirmed = run_envsync("set", "prod", "TOKEN", cwd=folder, input=secret("y"))
    assert unconfirmed.code == 2 and "--yes" in unconfirmed.stderr
    assert store_values(run_envsync, folder, "prod")["TOKEN"] == old
    same = run_envsync("set", "prod", "TOKEN", "-y", cwd=folder, input=old)
    assert same.code == 0 and "nothing to change" in same.stdout


def test_unset_deletes_from_the_store_and_with_local_from_the_file(run_envsync, project):
    folder, _ = project
    result = run_envsync("unset", "prod", "TOKEN", "-y", cwd=folder)
    assert result.code == 0, result.output
    assert "push-delete" in result.stdout
    assert store_values(run_envsync, folder, "prod") == {"KEEP": "kept-value"}
    assert "TOKEN=" in (folder / ".env.prod").read_text()
    again = run_envsync("unset", "prod", "TOKEN", "-y", "--local", cwd=folder)
    assert again.code == 0 and "TOKEN" not in (folder / ".env.prod").read_text()
    absent = run_envsync("unset", "prod", "NOPE", "-y", cwd=folder)
    assert absent.code == 0 and "nothing to change" in absent.stdout


def test_bad_input_exits_2(run_envsync, project, secret):
    folder, _ = project
    assert run_envsync("set", "prod", "9BAD", "-y", cwd=folder, input=secret()).code == 2
    assert run_envsync("set", "prod", "A", "B", "C", cwd=folder).code == 2
    assert run_envsync("unset", "nosuch", "A", cwd=folder).code == 2


def test_set_refuses_an_aws_secret_envsync_did_not_create_without_adopt(run_envsync, moto_server, tmp_path,
                                                                       secret):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"prod": store_uri(moto_server.endpoint, "app/prod", "per-key")})
    fill(run_envsync, tmp_path, "prod", {"OURS": secret("ours")}, env)
    sm_client(moto_server.endpoint).create_secret(Name="app/prod/FOREIGN", SecretString=secret("foreign"))
    refused = run_envsync("set", "prod", "FOREIGN", "-y", cwd=tmp_path, env=env, input=secret("new"))
    assert refused.code != 0 and "--adopt" in refused.stderr, refused.output
    new = secret("adopted")
    adopted = run_envsync("set", "prod", "FOREIGN", "-y", "--adopt", cwd=tmp_path, env=env, input=new)
    assert adopted.code == 0, adopted.output
    assert store_values(run_envsync, tmp_path, "prod", env)["FOREIGN"] == new


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_set_and_unset_on_azure_key_vault(run_envsync, azure_fake, tmp_path, secret, layout):  # noqa: F811
    env = azure_fake.env()
    write_config(tmp_path, {"prod": azure_fake.uri("cmd", layout, retries="0")})
    fill(run_envsync, tmp_path, "prod", {"A": secret("a")}, env)
    new = secret("b")
    assert run_envsync("set", "prod", "B", "-y", cwd=tmp_path, env=env, input=new).code == 0
    assert store_values(run_envsync, tmp_path, "prod", env)["B"] == new
    assert run_envsync("unset", "prod", "A", "-y", "--force-delete", cwd=tmp_path, env=env).code == 0
    assert store_values(run_envsync, tmp_path, "prod", env) == {"B": new}


def test_on_a_terminal_the_value_is_prompted_without_echo_then_confirmed(project, secret, leak_watch,
                                                                        run_envsync):
    from tests.tty_test import run_in_terminal

    folder, _ = project
    new = secret("typed")
    code, screen = run_in_terminal(["set", "prod", "TOKEN"], folder, answers=[
        ("Value for TOKEN", new), ("Repeat for confirmation", new), ("Set TOKEN in prod's store?", "y")])
    leak_watch.outputs.append(("terminal", screen))  # no echo: the typed value is not on the screen
    assert code == 0, screen
    assert store_values(run_envsync, folder, "prod")["TOKEN"] == new


def test_empty_stdin_is_refused_unless_allow_empty(run_envsync, project):
    folder, old = project
    refused = run_envsync("set", "prod", "TOKEN", "--yes", cwd=folder, input="")
    assert refused.code == 2, refused.output
    assert "TOKEN" in refused.stderr and "--allow-empty" in refused.stderr
    assert store_values(run_envsync, folder, "prod")["TOKEN"] == old
    allowed = run_envsync("set", "prod", "TOKEN", "--yes", "--allow-empty", cwd=folder, input="\n")
    assert allowed.code == 0, allowed.output
    assert store_values(run_envsync, folder, "prod")["TOKEN"] == ""


def test_non_utf8_stdin_is_an_input_error_before_the_store_is_read(project):
    import os
    import subprocess

    from tests.conftest import ENVSYNC

    folder, _ = project
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "GITHUB_", "GITLAB_", "CI_"))}
    proc = subprocess.run([ENVSYNC, "set", "prod", "TOKEN", "--yes"], cwd=folder, env=env,
                          input=b"caf\xe9\n", capture_output=True)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "TOKEN: the value on stdin is not UTF-8 text" in stderr
    assert "Traceback" not in stderr and proc.stdout == b""  # no plan printed


def test_json_says_what_was_written(run_envsync, project, secret):
    folder, old = project
    dry = run_envsync("set", "prod", "ADDED", "--dry-run", "--json", "--local", cwd=folder, input=secret("dry"))
    assert dry.code == 1 and "applied" not in json.loads(dry.stdout)["targets"][0], dry.output
    added = run_envsync("set", "prod", "ADDED", "-y", "--json", "--local", cwd=folder, input=secret("added"))
    assert added.code == 0, added.output
    assert json.loads(added.stdout)["targets"][0]["applied"] == {"push": 1, "pull": 0, "local": 1}
    same = run_envsync("set", "prod", "TOKEN", "-y", "--json", cwd=folder, input=old)
    assert same.code == 0, same.output
    assert json.loads(same.stdout)["targets"][0]["applied"] == {"push": 0, "pull": 0}  # set always says so


def test_local_writes_the_file_when_only_the_file_differs(run_envsync, project, secret):
    folder, _ = project
    new = secret("new")
    assert run_envsync("set", "prod", "TOKEN", "-y", cwd=folder, input=new).code == 0  # the store only
    dry = run_envsync("set", "prod", "TOKEN", "--dry-run", "--local", cwd=folder, input=new)
    assert dry.code == 1, dry.output  # the file is a change of its own
    refused = run_envsync("set", "prod", "TOKEN", "--local", cwd=folder, input=new)
    assert refused.code == 2 and "--yes" in refused.stderr, refused.output
    result = run_envsync("set", "prod", "TOKEN", "-y", "--local", cwd=folder, input=new)
    assert result.code == 0, result.output
    assert "prod: TOKEN set in the store and .env.prod" in result.stdout
    assert f"TOKEN={new}" in (folder / ".env.prod").read_text()


def test_a_local_file_that_cannot_be_written_says_the_store_was(run_envsync, project, secret):
    folder, _ = project
    (folder / ".env.prod").chmod(0o444)
    new = secret("new")
    result = run_envsync("set", "prod", "TOKEN", "-y", "--local", cwd=folder, input=new)
    assert result.code == 2, result.output
    assert result.stderr.endswith("(the store was updated); run `envsync pull prod` to bring it into the file\n")
    assert store_values(run_envsync, folder, "prod")["TOKEN"] == new
    assert f"TOKEN={new}" not in (folder / ".env.prod").read_text()
