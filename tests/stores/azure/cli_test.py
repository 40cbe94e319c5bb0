"""End to end through the installed `envsync` executable against the Azure Key Vault fake
(`tests/fakes/azure_fake.py`), in both layouts.

Two "developers" (two project folders, each with its own .env and state) share one
vault prefix. Each run gets the fake's environment explicitly: a workload identity on
the fake Entra and the fake's CA bundle.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync import dotenv_file
from tests.fakes.azure_fake import FakeAzure


@pytest.fixture(params=["bundle", "per-key"])
def layout(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def team(azure_fake: FakeAzure, tmp_path: Path, layout: str) -> tuple[Path, Path]:  # noqa: F811
    """alice and bob: two project folders whose `dev` target is the same vault prefix."""
    folders = []
    for name in ("alice", "bob"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "envsync.toml").write_text(
            "[targets.dev]\n"
            'file = ".env"\n'
            f'store = "{azure_fake.uri("cli", layout, retries="0")}"\n'
            'schema = ".env.example"\n')
        (folder / ".env.example").write_text("API_TOKEN=\nDATABASE_URL=\nFEATURE_FLAG=off\n")
        folders.append(folder)
    return folders[0], folders[1]


def values_of(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def test_push_plan_pull_sync_check_export_history(run_envsync, team, azure_fake, layout, secret) -> None:
    alice, bob = team
    env = azure_fake.env()

    def run(*args: str, cwd: Path, reveals: bool = False):
        return run_envsync(*args, cwd=cwd, env=env, reveals=reveals)

    token, url = secret("token"), secret("url")
    (alice / ".env").write_text(f"# alice\nAPI_TOKEN={token}\nDATABASE_URL=\"{url}\"\nFEATURE_FLAG=on\n")

    assert run("plan", cwd=alice).code == 1
    pushed = run("push", "--yes", cwd=alice)
    assert pushed.code == 0, pushed.output
    assert "pushed 3" in pushed.stdout
    planned = run("plan", "--json", cwd=alice)
    assert planned.code == 0, planned.output  # in sync
    in_sync = json.loads(planned.stdout)["targets"][0]
    assert in_sync["store"] == {"uri": azure_fake.uri("cli", layout, retries="0"), "layout": layout,
                                "secrets": 1 if layout == "bundle" else 3}
    assert in_sync["summary"]["push"] == in_sync["summary"]["pull"] == 0
    expected_names = ["cli"] if layout == "bundle" else ["cli-API-TOKEN", "cli-DATABASE-URL", "cli-FEATURE-FLAG"]
    assert azure_fake.names() == expected_names

    pulled = run("pull", "--yes", cwd=bob)
    assert pulled.code == 0, pulled.output
    assert values_of(bob) == {"API_TOKEN": token, "DATABASE_URL": url, "FEATURE_FLAG": "on"}

    # two-way sync: each side's change reaches the other
    token2 = secret("token2")
    (alice / ".env").write_text((alice / ".env").read_text().replace(token, token2))
    assert run("sync", "--yes", cwd=alice).code == 0
    (bob / ".env").write_text((bob / ".env").read_text().replace("FEATURE_FLAG=on", "FEATURE_FLAG=beta"))
    synced = run("sync", "--yes", cwd=bob)
    assert synced.code == 0, synced.output
    assert "pushed 1, pulled 1" in synced.stdout
    assert run("sync", "--yes", cwd=alice).code == 0
    assert values_of(alice) == values_of(bob) == {"API_TOKEN": token2, "DATABASE_URL": url, "FEATURE_FLAG": "beta"}

    # both change one key: the second to sync has a conflict and nothing is applied
    ours, theirs = secret("ours"), secret("theirs")
    (alice / ".env").write_text((alice / ".env").read_text().replace(url, ours))
    (bob / ".env").write_text((bob / ".env").read_text().replace(url, theirs))
    assert run("sync", "--yes", cwd=alice).code == 0
    conflicted = run("sync", "--yes", cwd=bob)
    assert conflicted.code == 1, conflicted.output
    assert "conflict" in conflicted.output and "DATABASE_URL" in conflicted.output
    assert values_of(bob)["DATABASE_URL"] == theirs

    # check: in sync -> 0; the schema asks for a key the store lacks -> 1
    assert run("check", cwd=alice).code == 0
    (alice / ".env.example").write_text("API_TOKEN=\nDATABASE_URL=\nFEATURE_FLAG=off\nNEW_KEY=\n")
    drift = run("check", cwd=alice)
    assert drift.code == 1 and "NEW_KEY" in drift.output

    exported = run("export", "--format", "json", cwd=alice, reveals=True)
    assert exported.code == 0, exported.stderr
    assert json.loads(exported.stdout) == {"API_TOKEN": token2, "DATABASE_URL": ours, "FEATURE_FLAG": "beta"}

    history = run("history", "dev", "DATABASE_URL", cwd=alice)
    assert history.code == 0, history.output
    rows = [line for line in history.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 2 and history.stdout.startswith("History of dev DATABASE_URL")
    actions = [word for row in rows for word in row.split() if word in ("added", "changed", "deleted")]
    assert actions == ["changed", "added"], history.stdout


@pytest.mark.parametrize("layout", ["per-key"])
def test_prune_soft_deletes_and_a_readded_key_is_recovered(run_envsync, team, azure_fake) -> None:
    alice, _ = team
    env = azure_fake.env()
    (alice / ".env").write_text("A=1\nB=2\n")
    assert run_envsync("push", "--yes", cwd=alice, env=env).code == 0
    (alice / ".env").write_text("A=1\n")
    pruned = run_envsync("push", "--yes", "--prune", cwd=alice, env=env)
    assert pruned.code == 0, pruned.output
    assert azure_fake.deleted_names() == ["cli-B"] and azure_fake.names() == ["cli-A"]
    (alice / ".env").write_text("A=1\nB=3\n")
    again = run_envsync("push", "--yes", cwd=alice, env=env)
    assert again.code == 0, again.output
    assert azure_fake.deleted_names() == [] and azure_fake.value("cli-B") == "3"
    assert "recovered" in again.stderr and "cli-B" in again.stderr, "the CLI says which deleted name it recovered"


@pytest.mark.parametrize("layout", ["bundle"])
def test_a_store_error_exits_3_and_names_the_vault(run_envsync, team, azure_fake) -> None:
    alice, _ = team
    (alice / ".env").write_text("A=1\n")
    azure_fake.assign("Key Vault Secrets User")
    result = run_envsync("push", "--yes", cwd=alice, env=azure_fake.env())
    assert result.code == 3, result.output
    assert f"127.0.0.1:{azure_fake.port}" in result.stderr and "Key Vault Secrets Officer" in result.stderr


def test_two_keys_for_one_secret_name_exit_2(run_envsync, azure_fake, tmp_path, secret) -> None:
    (tmp_path / "envsync.toml").write_text(
        f'[targets.dev]\nfile = ".env"\nstore = "{azure_fake.uri("cli", "per-key", retries="0")}"\n')
    (tmp_path / ".env").write_text(f"API_KEY={secret('a')}\ndb_url={secret('b')}\nDB_URL={secret('c')}\n")
    result = run_envsync("push", "--yes", env=azure_fake.env())
    assert result.code == 2, result.output
    assert "db_url" in result.stderr and "DB_URL" in result.stderr
    assert azure_fake.names() == []
