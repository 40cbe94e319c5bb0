"""Push on merge through the installed `envsync` executable: `push --from-schema` and
`push --from-env PREFIX`, on the file store (both layouts) and on moto's AWS server.

The CI job has a checkout (envsync.toml, .env.example) and secret variables, but no .env.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync import config, dotenv_file
from envsync.model import Change
from envsync.stores import open_store
from tests.stores.aws.cli_test import Cloud

SCHEMA = "# reviewed in a merge request\nDEBUG=false\nDB_PASSWORD=\nAPI_URL=https://api.example.com\n"


@pytest.fixture(params=["bundle", "per-key"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, leak_watch) -> Path:
    """A CI checkout: config and schema, no .env; the store is a folder beside it."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    write_config(folder, f"file://{tmp_path / 'store'}?layout={request.param}")
    (folder / ".env.example").write_text(SCHEMA)
    leak_watch.files.append(folder / ".envsync" / "state.json")
    return folder


def write_config(folder: Path, uri: str, *, schema: bool = True) -> None:
    lines = ["[targets.prod]", 'file = ".env"', f'store = "{uri}"'] + (['schema = ".env.example"'] if schema else [])
    (folder / "envsync.toml").write_text("\n".join(lines) + "\n")


def target(folder: Path) -> config.Target:
    return config.load(folder / "envsync.toml").targets["prod"]


def store_values(folder: Path) -> dict[str, str]:
    return dict(open_store(target(folder)).read().values)


def seed(folder: Path, values: dict[str, str]) -> None:
    """What the store held before this merge (pushed by an earlier job or a developer)."""
    store = open_store(target(folder))
    store.apply([Change(k, v) for k, v in values.items()], store.read())


def store_files(folder: Path) -> dict[str, bytes]:
    root = target(folder).root.parent / "store"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_schema_applied_new_keys_from_defaults_and_env_removed_keys_pruned(run_envsync, repo, secret):
    live, password, old = secret("live-debug"), secret("password"), secret("old")
    seed(repo, {"DEBUG": live, "OLD_TOKEN": old})
    ci = {"CI_SECRET_DB_PASSWORD": password}

    result = run_envsync("push", "--from-schema", "--from-env", "CI_SECRET_", "--yes", cwd=repo, env=ci)
    assert result.code == 0, result.output
    assert "prod: .env.example + $CI_SECRET_* <-> file://" in result.stdout
    assert "push-delete" in result.stdout and "OLD_TOKEN" in result.stdout
    assert store_values(repo) == {"DEBUG": live, "DB_PASSWORD": password, "API_URL": "https://api.example.com"}
    assert not (repo / ".env").exists()
    assert not (repo / ".envsync" / "state.json").exists()
    if "per-key" in target(repo).store:  # the prune is a soft delete: the key's history keeps its versions
        history = open_store(target(repo)).history("OLD_TOKEN")
        assert [h.action for h in history] == ["deleted", "added"]

    before = store_files(repo)
    again = run_envsync("push", "--from-schema", "--from-env", "CI_SECRET_", "--yes", cwd=repo, env=ci)
    assert again.code == 0, again.output
    assert "0 to push" in again.stdout and "pushed" not in again.stdout
    assert store_files(repo) == before


def test_dry_run_prints_the_masked_plan_and_writes_nothing(run_envsync, repo, secret):
    seed(repo, {"OLD_TOKEN": secret("old")})
    before = store_files(repo)
    ci = {"CI_SECRET_DB_PASSWORD": secret("password")}
    result = run_envsync("push", "--from-schema", "--from-env", "CI_SECRET_", "--dry-run", cwd=repo, env=ci)
    assert result.code == 1, result.output
    assert "4 to push" in result.stdout and "push-delete" in result.stdout and "••••" in result.stdout
    assert store_files(repo) == before

    as_json = run_envsync("push", "--from-schema", "--from-env", "CI_SECRET_", "-n", "--json", cwd=repo, env=ci)
    plan = json.loads(as_json.stdout)["targets"][0]
    assert plan["file"] == ".env.example + $CI_SECRET_*" and plan["summary"]["push"] == 4
    assert {i["key"]: i["action"] for i in plan["items"]}["OLD_TOKEN"] == "push-delete"
    assert store_files(repo) == before


def test_a_key_with_no_value_fails_by_name_and_writes_nothing(run_envsync, repo, secret):
    seed(repo, {"OLD_TOKEN": secret("old")})
    before = store_files(repo)
    result = run_envsync("push", "--from-schema", "--from-env", "CI_SECRET_", "--yes", cwd=repo)
    assert result.code == 2, result.output
    assert result.stderr.startswith("envsync: error: target prod: DB_PASSWORD has no default in .env.example")
    assert "$CI_SECRET_DB_PASSWORD" in result.stderr and "--allow-missing" in result.stderr
    assert store_files(repo) == before

    allowed = run_envsync("push", "--from-schema", "--allow-missing", "--yes", cwd=repo)
    assert allowed.code == 0, allowed.output
    assert "DB_PASSWORD has no default in .env.example and no value — left out (--allow-missing)" in allowed.stderr
    assert store_values(repo) == {"DEBUG": "false", "API_URL": "https://api.example.com"}


def test_a_developers_file_and_state_are_left_alone_and_their_next_sync_pulls_the_change(run_envsync, repo,
                                                                                         secret, leak_watch):
    mine, old = secret("mine"), secret("old")
    (repo / ".env").write_text(f"DEBUG=true\nDB_PASSWORD={mine}\nAPI_URL=https://api.example.com\nOLD_TOKEN={old}\n")
    assert run_envsync("push", "--yes", cwd=repo).code == 0
    env_before = (repo / ".env").read_bytes()
    state_before = (repo / ".envsync" / "state.json").read_bytes()

    (repo / ".env.example").write_text(SCHEMA + "NEW_FLAG=on\n")
    result = run_envsync("push", "--from-schema", "--yes", cwd=repo)
    assert result.code == 0, result.output
    assert (repo / ".env").read_bytes() == env_before
    assert (repo / ".envsync" / "state.json").read_bytes() == state_before

    # The schema push is a change made in the store, as a teammate's push would be.
    synced = run_envsync("sync", "--prune", "--yes", cwd=repo)
    assert synced.code == 0, synced.output
    assert "pull-add" in synced.stdout and "pull-delete" in synced.stdout
    assert dotenv_file.load(repo / ".env").values() == {
        "DEBUG": "true", "DB_PASSWORD": mine, "API_URL": "https://api.example.com", "NEW_FLAG": "on"}
    assert store_values(repo) == dotenv_file.load(repo / ".env").values()


def test_from_env_alone_pushes_the_variables_and_never_reads_the_file(run_envsync, repo, secret):
    keep, token = secret("keep"), secret("token")
    seed(repo, {"KEEP": keep})
    (repo / ".env").write_text('BROKEN="unterminated\n')  # a push from the file would stop here
    ci = {"CI_SECRET_API_TOKEN": token, "CI_SECRET_DEBUG": "false"}

    result = run_envsync("push", "--from-env", "CI_SECRET_", "--yes", cwd=repo, env=ci)
    assert result.code == 0, result.output
    assert "prod: $CI_SECRET_* <-> " in result.stdout and "skip" in result.stdout
    assert store_values(repo) == {"KEEP": keep, "API_TOKEN": token, "DEBUG": "false"}

    pruned = run_envsync("push", "--from-env", "CI_SECRET_", "--prune", "--yes", cwd=repo, env=ci)
    assert pruned.code == 0, pruned.output
    assert store_values(repo) == {"API_TOKEN": token, "DEBUG": "false"}
    assert (repo / ".env").read_text() == 'BROKEN="unterminated\n'


def test_from_env_refuses_a_bad_variable_name_and_a_prefix_with_no_variables(run_envsync, repo, secret):
    bad = run_envsync("push", "--from-env", "CI_SECRET_", "--yes", cwd=repo, env={"CI_SECRET_9LIVES": secret()})
    assert bad.code == 2 and "$CI_SECRET_9LIVES: not a valid key name" in bad.stderr
    typo = run_envsync("push", "--from-env", "CI_SECRTE_", "--prune", "--yes", cwd=repo,
                       env={"CI_SECRET_A": secret()})
    assert typo.code == 2 and "no non-empty environment variable starts with CI_SECRTE_" in typo.stderr
    assert store_files(repo) == {}


@pytest.mark.parametrize("args, message", [
    (("push", "--from-schema", "--yes"), "target prod: --from-schema needs a schema, and the target has none"),
    (("push", "--allow-missing", "--yes"), "--allow-missing goes with --from-schema"),
    (("push", "--from-env", "", "--yes"), "--from-env needs a PREFIX"),
    (("pull", "--from-schema"), "No such option '--from-schema'"),
])
def test_usage_errors_exit_2(run_envsync, tmp_path, args, message):
    write_config(tmp_path, f"file://{tmp_path / 'store'}", schema=False)
    result = run_envsync(*args)
    assert result.code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "store").exists()


def test_without_a_terminal_it_asks_for_yes(run_envsync, repo):
    result = run_envsync("push", "--from-schema", "--allow-missing", cwd=repo)
    assert result.code == 2 and "--yes" in result.stderr
    assert store_files(repo) == {}


# -- AWS (moto's server) -------------------------------------------------------------------


def test_aws_prune_soft_deletes_managed_secrets_only(run_envsync, moto_server, tmp_path: Path, secret):
    moto_server.reset()
    cloud = Cloud(moto_server.endpoint, tmp_path, "per-key")
    write_config(tmp_path, cloud.uri)
    (tmp_path / ".env.example").write_text("DEBUG=false\nOLD_FLAG=1\n")

    def push(*extra: str):
        return run_envsync("push", "--from-schema", "--yes", *extra, env=cloud.env)

    assert push().code == 0
    (tmp_path / ".env.example").write_text("DEBUG=false\n")
    result = push()
    assert result.code == 0, result.output
    assert cloud.values() == {"DEBUG": "false"}
    old = cloud.sm.describe_secret(SecretId="app/prod/OLD_FLAG")
    assert old.get("DeletedDate") is not None  # pending deletion: restorable within the recovery window

    theirs = secret("theirs")
    cloud.sm.create_secret(Name="app/prod/LEGACY", SecretString=theirs)  # not EnvSync's: no managed-by tag
    refused = push()
    assert refused.code == 3, refused.output
    assert "app/prod/LEGACY was not created by EnvSync" in refused.stderr and "--adopt" in refused.stderr
    assert cloud.values() == {"DEBUG": "false", "LEGACY": theirs}
    assert "DeletedDate" not in cloud.sm.describe_secret(SecretId="app/prod/LEGACY")
