"""`envsync copy A B [KEY…]`: promote values between stores, written as push writes them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.aws_server import sm_client, store_uri
from tests.commands.helpers import aws_env, fill, write_config


def values_of(run_envsync, folder: Path, name: str, env=None) -> dict[str, str]:
    result = run_envsync("export", name, "-f", "json", cwd=folder, env=env, reveals=True)
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(params=["bundle", "per-key"])
def project(request, tmp_path: Path, run_envsync, secret):
    layout = request.param
    write_config(tmp_path, {"staging": f"file://.envsync/staging?layout={layout}",
                            "prod": f"file://.envsync/prod?layout={layout}"})
    staging = {"URL": secret("url-new"), "NEW": secret("new"), "SAME": "same-value"}
    prod = {"URL": secret("url-old"), "OLD": secret("old"), "SAME": "same-value"}
    fill(run_envsync, tmp_path, "staging", staging)
    fill(run_envsync, tmp_path, "prod", prod)
    return tmp_path, staging, prod


def test_copy_named_keys(run_envsync, project):
    folder, staging, prod = project
    before = (folder / ".env.prod").read_text()
    result = run_envsync("copy", "staging", "prod", "URL", "--yes", cwd=folder)
    assert result.code == 0, result.output
    assert "push-change" in result.stdout and "copied 1 change(s)" in result.stdout
    assert values_of(run_envsync, folder, "prod") == {**prod, "URL": staging["URL"]}
    assert (folder / ".env.prod").read_text() == before  # local files untouched


def test_copy_everything_and_prune(run_envsync, project):
    folder, staging, prod = project
    dry = run_envsync("copy", "staging", "prod", "--prune", "--dry-run", "--json", cwd=folder)
    assert dry.code == 1
    actions = {i["key"]: i["action"] for i in json.loads(dry.stdout)["targets"][0]["items"]}
    assert actions == {"NEW": "push-add", "OLD": "push-delete", "URL": "push-change"}
    assert values_of(run_envsync, folder, "prod") == prod
    assert run_envsync("copy", "staging", "prod", "--prune", "-y", cwd=folder).code == 0
    assert values_of(run_envsync, folder, "prod") == staging
    assert run_envsync("diff", "staging", "prod", cwd=folder).code == 0


def test_copy_input_errors_exit_2_and_write_nothing(run_envsync, project):
    folder, _, prod = project
    assert run_envsync("copy", "staging", "prod", "MISSING", "-y", cwd=folder).code == 2
    assert run_envsync("copy", "staging", "prod", "URL", "--prune", cwd=folder).code == 2
    assert run_envsync("copy", "prod", "prod", cwd=folder).code == 2
    assert run_envsync("copy", "staging", cwd=folder).code == 2
    unconfirmed = run_envsync("copy", "staging", "prod", cwd=folder)  # no terminal, no --yes
    assert unconfirmed.code == 2 and "--yes" in unconfirmed.stderr
    assert values_of(run_envsync, folder, "prod") == prod


def test_copy_from_a_file_store_to_aws(run_envsync, moto_server, tmp_path, secret):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"staging": "file://.envsync/staging",
                            "prod": store_uri(moto_server.endpoint, "app/prod", "per-key")})
    staging = {"A": secret("a"), "B": secret("b")}
    fill(run_envsync, tmp_path, "staging", staging, env)
    fill(run_envsync, tmp_path, "prod", {"A": secret("old")}, env)
    result = run_envsync("copy", "staging", "prod", "-y", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    assert values_of(run_envsync, tmp_path, "prod", env) == staging


def test_prune_from_an_empty_source_store_is_refused(run_envsync, project):
    folder, _, prod = project
    config = folder / "envsync.toml"
    config.write_text(config.read_text() + '[targets.typo]\nfile = ".env.typo"\nstore = "file://.envsync/typo"\n')
    refused = run_envsync("copy", "typo", "prod", "--prune", "-y", cwd=folder)
    assert refused.code == 2, refused.output
    assert "typo" in refused.stderr and "no keys" in refused.stderr
    assert values_of(run_envsync, folder, "prod") == prod
    warned = run_envsync("copy", "typo", "prod", "-y", cwd=folder)
    assert warned.code == 0, warned.output
    assert "no keys" in warned.stderr
    assert values_of(run_envsync, folder, "prod") == prod


def test_the_source_store_notes_are_warned_by_copy_get_and_redact(run_envsync, moto_server, tmp_path, secret):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"staging": store_uri(moto_server.endpoint, "app/staging", "per-key"),
                            "prod": "file://.envsync/prod"})
    fill(run_envsync, tmp_path, "staging", {"A": secret("a")}, env)
    sm_client(moto_server.endpoint).create_secret(Name="app/staging/not a key!", SecretString="other tool")
    note = "not a valid .env key name"
    copied = run_envsync("copy", "staging", "prod", "-y", cwd=tmp_path, env=env)
    assert copied.code == 0, copied.output
    assert note in copied.stderr
    got = run_envsync("get", "staging", "A", cwd=tmp_path, env=env, reveals=True)
    assert got.code == 0, got.output
    assert note in got.stderr
    redacted = run_envsync("redact", "staging", cwd=tmp_path, env=env, input="nothing secret here\n")
    assert redacted.code == 0, redacted.output
    assert note in redacted.stderr
