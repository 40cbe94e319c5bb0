"""`envsync rollback`: the store put back from its own history as a NEW version, written the
way push writes (masked plan, --dry-run, --yes). File stores in both layouts and AWS (moto);
every value comes from `secret`, so each run's output is checked for leaks."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.commands.helpers import aws_env, fill, write_config
from tests.fakes.aws_server import store_uri


def history(run_envsync, folder: Path, env=None) -> list[dict]:
    result = run_envsync("history", "dev", "--json", cwd=folder, env=env)
    assert result.code == 0, result.output
    return json.loads(result.stdout)["versions"]


def store_values(run_envsync, folder: Path, env=None) -> dict[str, str]:
    result = run_envsync("export", "dev", "-f", "json", cwd=folder, env=env, reveals=True)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def aws_dev(moto_server, folder: Path, layout: str) -> dict[str, str]:
    """Target dev on an empty moto store, `app/dev` in `layout`; the AWS_* environment to run with."""
    env = aws_env(moto_server, folder)
    write_config(folder, {"dev": store_uri(moto_server.endpoint, "app/dev", layout)})
    return env

@pytest.fixture
def bundle(tmp_path: Path, run_envsync, secret):
    """Three bundle versions: {A, B} → A changed, C added → B deleted. Now: {A: a2, C}."""
    write_config(tmp_path, {"dev": "file://.envsync/dev"})
    values = {"a1": secret("a1"), "a2": secret("a2"), "b": secret("b"), "c": secret("c")}
    fill(run_envsync, tmp_path, "dev", {"A": values["a1"], "B": values["b"]})
    fill(run_envsync, tmp_path, "dev", {"A": values["a2"], "B": values["b"], "C": values["c"]})
    assert run_envsync("unset", "dev", "B", "--yes", cwd=tmp_path).code == 0
    return tmp_path, values


def test_dry_run_shows_a_masked_plan_and_writes_nothing(run_envsync, bundle):
    folder, _ = bundle
    first = history(run_envsync, folder)[-1]["version"]
    result = run_envsync("rollback", "dev", "--to", first, "--dry-run", cwd=folder)
    assert result.code == 1, result.output
    assert f"rollback dev to version {first}" in result.stdout
    planned = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()[1:] if len(line.split()) > 1}
    assert planned.get("A") == "~" and planned.get("B") == "+" and planned.get("C") == "-", result.stdout
    assert len(history(run_envsync, folder)) == 3


def test_rollback_to_a_version_is_written_as_a_new_version(run_envsync, bundle):
    folder, values = bundle
    first = history(run_envsync, folder)[-1]["version"]
    result = run_envsync("rollback", "dev", "--to", first, "--yes", cwd=folder)
    assert result.code == 0, result.output
    assert "rolled back to version" in result.output and "envsync pull dev" in result.output
    assert store_values(run_envsync, folder) == {"A": values["a1"], "B": values["b"]}
    versions = history(run_envsync, folder)
    assert len(versions) == 4  # history kept, one version added
    assert versions[0]["changes"] == [{"key": "A", "action": "changed"}, {"key": "B", "action": "added"},
                                      {"key": "C", "action": "deleted"}]
    again = run_envsync("rollback", "dev", "--to", first, "--yes", cwd=folder)
    assert again.code == 0 and "already as it was" in again.output
    assert len(history(run_envsync, folder)) == 4


def test_rollback_to_a_time_takes_the_last_version_then(run_envsync, bundle):
    folder, values = bundle
    second = history(run_envsync, folder)[1]
    result = run_envsync("rollback", "dev", "--to", second["created"], "--yes", cwd=folder)
    assert result.code == 0, result.output
    assert f"version {second['version']}" in result.output
    assert store_values(run_envsync, folder) == {"A": values["a2"], "B": values["b"], "C": values["c"]}


def test_per_key_goes_back_key_by_key_at_a_time(run_envsync, tmp_path, secret):
    write_config(tmp_path, {"dev": "file://.envsync/dev?layout=per-key"})
    a1, a2, c = secret("a1"), secret("a2"), secret("c")
    fill(run_envsync, tmp_path, "dev", {"A": a1})
    then = history(run_envsync, tmp_path)[0]["created"]
    time.sleep(0.05)
    fill(run_envsync, tmp_path, "dev", {"A": a2, "C": c})
    refused = run_envsync("rollback", "dev", "--to", history(run_envsync, tmp_path)[-1]["version"], cwd=tmp_path)
    assert refused.code == 2 and "per-key target has no whole-target version" in refused.stderr
    result = run_envsync("rollback", "dev", "--to", then, "--yes", cwd=tmp_path)
    assert result.code == 0, result.output
    assert "warning" not in result.stderr  # a file store's history keeps deleted keys
    assert store_values(run_envsync, tmp_path) == {"A": a1}


def test_input_errors_exit_2_in_one_line(run_envsync, bundle):
    folder, _ = bundle
    for to, message in (("no-such-version", "not a version in the history"),
                        ("1999-01-01", "history starts after that time")):
        result = run_envsync("rollback", "dev", "--to", to, "--yes", cwd=folder)
        assert result.code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert run_envsync("rollback", "dev", cwd=folder).code == 2  # --to is required


def test_an_unreadable_version_stops_before_writing(run_envsync, bundle):
    folder, _ = bundle
    first = history(run_envsync, folder)[-1]["version"]
    (folder / ".envsync/dev/bundle" / f"{int(first):08}.json").write_text("{broken")
    result = run_envsync("rollback", "dev", "--to", first, "--yes", cwd=folder)
    assert result.code in (2, 3), result.output
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_help_has_an_example(run_envsync, tmp_path):
    result = run_envsync("rollback", "--help", cwd=tmp_path)
    assert result.code == 0 and "envsync rollback prod --to 41 --dry-run" in result.stdout


def test_aws_bundle(run_envsync, moto_server, tmp_path, secret):
    env = aws_dev(moto_server, tmp_path, "bundle")
    a1, a2 = secret("a1"), secret("a2")
    fill(run_envsync, tmp_path, "dev", {"A": a1}, env)
    fill(run_envsync, tmp_path, "dev", {"A": a2, "N": secret("n")}, env)
    first = history(run_envsync, tmp_path, env)[-1]["version"]
    result = run_envsync("rollback", "dev", "--to", first, "--yes", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    assert store_values(run_envsync, tmp_path, env) == {"A": a1}
    assert len(history(run_envsync, tmp_path, env)) == 3


def test_gcp_per_key_at_a_time(run_envsync, gcp_fake, tmp_path, secret):
    from tests.fakes.gcp_fake import subprocess_env as gcp_env

    env = gcp_env()
    write_config(tmp_path, {"dev": f"gcp-sm:///shop/dev?endpoint={gcp_fake.endpoint}&insecure=true&layout=per-key"})
    a1, a2, c = secret("a1"), secret("a2"), secret("c")
    fill(run_envsync, tmp_path, "dev", {"A": a1}, env)
    then = history(run_envsync, tmp_path, env)[0]["created"]
    time.sleep(1.1)  # the fake's version times may be whole seconds
    fill(run_envsync, tmp_path, "dev", {"A": a2, "C": c}, env)
    result = run_envsync("rollback", "dev", "--to", then, "--yes", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    assert store_values(run_envsync, tmp_path, env) == {"A": a1}
    assert [v["action"] for v in history(run_envsync, tmp_path, env) if v["key"] == "A"][:1] == ["changed"]


def test_a_version_label_from_the_store_is_escaped(run_envsync, moto_server, tmp_path, secret):
    from tests.fakes.aws_server import sm_client

    env = aws_dev(moto_server, tmp_path, "bundle")
    fill(run_envsync, tmp_path, "dev", {"A": secret("a1")}, env)
    client = sm_client(moto_server.endpoint)
    current = client.get_secret_value(SecretId="app/dev")["SecretString"]
    hostile = "\x1b]0;pwned\x07" + "0" * 32  # a terminal escape in a version id another writer chose
    client.put_secret_value(SecretId="app/dev", SecretString=current, ClientRequestToken=hostile)
    fill(run_envsync, tmp_path, "dev", {"A": secret("a2")}, env)
    for _ in range(2):  # applied, then nothing left to change
        result = run_envsync("rollback", "dev", "--to", hostile, "--yes", cwd=tmp_path, env=env)
        assert result.code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output, repr(result.output)
        assert "version \\x1b]0;pwned\\x07" in result.stdout, repr(result.output)


def test_aws_per_key_says_what_it_cannot_restore(run_envsync, moto_server, tmp_path, secret):
    """The store says what a rollback cannot bring back (AWS per-key: a key in its recovery window)."""
    env = aws_dev(moto_server, tmp_path, "per-key")
    fill(run_envsync, tmp_path, "dev", {"A": secret("a1")}, env)
    then = history(run_envsync, tmp_path, env)[0]["created"]  # the store's clock: its own time of the write
    result = run_envsync("rollback", "dev", "--to", then, "--dry-run", cwd=tmp_path, env=env)
    assert result.code == 0, result.output
    assert "a key deleted since then is not restored — `aws secretsmanager restore-secret`" in result.stderr
