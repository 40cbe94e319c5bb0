"""End to end through the installed `envsync` executable against moto's server, both layouts.

Two "developers" (project folders alice and bob, each with its own .env and state) share
one AWS store, as a team shares a cloud store. Every secret value comes from the `secret`
fixture, so the leak guard checks every command's output and the state files.
`run_envsync` strips inherited AWS_* variables: each run gets the fake credentials and
empty AWS config files explicitly (`env`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from envsync import dotenv_file
from tests.fakes.aws_server import sm_client, store_uri, subprocess_env


@pytest.fixture(params=["bundle", "per-key"])
def layout(request: pytest.FixtureRequest) -> str:
    return request.param


class Cloud:
    """The moto server for one test: the store URI, the environment of each run, and a
    client to look at the secrets directly."""

    def __init__(self, endpoint: str, tmp_path: Path, layout: str) -> None:
        self.endpoint = endpoint
        self.layout = layout
        self.uri = store_uri(endpoint, "app/prod", layout)
        empty = tmp_path / "aws-empty-config"
        empty.write_text("")
        # only what a run needs: fake static keys, no ~/.aws, no instance metadata
        self.env = {k: v for k, v in subprocess_env(empty).items() if k.startswith("AWS_")}
        self.sm = sm_client(endpoint)

    def names(self, deleted: bool = True) -> list[str]:
        pages = self.sm.get_paginator("list_secrets").paginate(IncludePlannedDeletion=deleted)
        return sorted(s["Name"] for page in pages for s in page["SecretList"])

    def version_counts(self) -> dict[str, int]:
        return {name: len(self.sm.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"])
                for name in self.names()}

    def values(self) -> dict[str, str]:
        if self.layout == "bundle":
            text = self.sm.get_secret_value(SecretId="app/prod", VersionStage="AWSCURRENT")["SecretString"]
            return json.loads(text)
        return {name.rsplit("/", 1)[1]: self.sm.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]
                for name in self.names(deleted=False)}

    def set_remote(self, key: str, value: str) -> None:
        """Another tool (or the console) changes a value behind EnvSync's back."""
        if self.layout == "bundle":
            current = self.values()
            current[key] = value
            self.sm.put_secret_value(SecretId="app/prod", SecretString=json.dumps(current))
        else:
            self.sm.put_secret_value(SecretId=f"app/prod/{key}", SecretString=value)


@pytest.fixture
def cloud(moto_server, tmp_path: Path, layout: str) -> Cloud:
    moto_server.reset()
    return Cloud(moto_server.endpoint, tmp_path, layout)


def write_config(folder: Path, uri: str, *, schema: str | None = None) -> None:
    lines = ["[targets.prod]", 'file = ".env"', f'store = "{uri}"']
    if schema:
        lines.append(f'schema = "{schema}"')
    (folder / "envsync.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def team(cloud: Cloud, tmp_path: Path, leak_watch) -> tuple[Path, Path]:
    folders = []
    for name in ("alice", "bob"):
        folder = tmp_path / name
        folder.mkdir()
        write_config(folder, cloud.uri)
        leak_watch.files.append(folder / ".envsync" / "state.json")
        folders.append(folder)
    return folders[0], folders[1]


@pytest.fixture
def envsync(run_envsync, cloud: Cloud):
    """`envsync(*args, cwd=...)` with the emulator's environment."""

    def run(*args: str, cwd: Path, reveals: bool = False, env: dict[str, str] | None = None):
        return run_envsync(*args, cwd=cwd, env={**cloud.env, **(env or {})}, reveals=reveals)

    return run


def env_values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def plan_json(envsync, folder: Path) -> dict:
    result = envsync("plan", "--json", cwd=folder)
    assert result.code in (0, 1), result.output
    return json.loads(result.stdout)["targets"][0]


# -- push / plan / pull ----------------------------------------------------------------------


def test_push_plan_pull(envsync, team, cloud: Cloud, secret) -> None:
    alice, bob = team
    token, url = secret("token"), secret("url")
    (alice / ".env").write_text(f"# alice\nAPI_TOKEN={token}\nexport DATABASE_URL=\"{url}\"\n")

    before = envsync("plan", "--json", cwd=alice)
    assert before.code == 1, before.output
    assert json.loads(before.stdout)["targets"][0]["store"]["secrets"] == 0
    pushed = envsync("push", "--yes", cwd=alice)
    assert pushed.code == 0, pushed.output
    assert "pushed 2" in pushed.stdout
    assert cloud.values() == {"API_TOKEN": token, "DATABASE_URL": url}
    after = envsync("plan", "--json", cwd=alice)
    assert after.code == 0, "not in sync right after a push: " + after.output
    store = json.loads(after.stdout)["targets"][0]["store"]
    assert store["layout"] == cloud.layout
    assert store["secrets"] == (1 if cloud.layout == "bundle" else 2)

    pulled = envsync("pull", "--yes", cwd=bob)
    assert pulled.code == 0, pulled.output
    assert env_values(bob) == {"API_TOKEN": token, "DATABASE_URL": url}


def test_sync_exchanges_changes_and_stops_on_conflict(envsync, team, cloud: Cloud, secret) -> None:
    alice, bob = team
    shared, a, b = secret("shared"), secret("a"), secret("b")
    (alice / ".env").write_text(f"SHARED={shared}\n")
    assert envsync("push", "-y", cwd=alice).code == 0
    assert envsync("pull", "-y", cwd=bob).code == 0

    (alice / ".env").write_text(f"SHARED={shared}\nFROM_ALICE={a}\n")
    (bob / ".env").write_text(f"# bob's notes\nSHARED={shared}\nFROM_BOB={b}\n")
    assert envsync("sync", "-y", cwd=alice).code == 0
    result = envsync("sync", "-y", cwd=bob)
    assert result.code == 0, result.output
    assert env_values(bob) == {"SHARED": shared, "FROM_ALICE": a, "FROM_BOB": b}
    assert (bob / ".env").read_text().startswith("# bob's notes\n")
    assert envsync("sync", "-y", cwd=alice).code == 0
    assert env_values(alice) == env_values(bob) == cloud.values()

    # both change SHARED: bob first, then alice's sync is a conflict and changes nothing
    by_alice, by_bob = secret("by-alice"), secret("by-bob")
    (bob / ".env").write_text((bob / ".env").read_text().replace(shared, by_bob))
    assert envsync("sync", "-y", cwd=bob).code == 0
    (alice / ".env").write_text((alice / ".env").read_text().replace(shared, by_alice))
    before_env, before_store = (alice / ".env").read_bytes(), cloud.version_counts()
    conflict = envsync("sync", "-y", cwd=alice)
    assert conflict.code == 1, conflict.output
    assert "conflict" in conflict.stdout and "SHARED" in conflict.stdout
    assert (alice / ".env").read_bytes() == before_env
    assert cloud.version_counts() == before_store
    assert cloud.values()["SHARED"] == by_bob


# -- check, export, run, history ----------------------------------------------------------------


def test_check_reports_drift(envsync, tmp_path: Path, cloud: Cloud, secret, leak_watch) -> None:
    write_config(tmp_path, cloud.uri, schema=".env.example")
    leak_watch.files.append(tmp_path / ".envsync" / "state.json")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\nNEW_KEY=\n")
    (tmp_path / ".env").write_text(f"API_KEY={secret('api')}\nDEBUG=false\n")
    assert envsync("push", "-y", cwd=tmp_path).code == 0
    schema_only = envsync("check", cwd=tmp_path)
    assert schema_only.code == 1 and "NEW_KEY" in schema_only.stdout  # in the schema, not in the store

    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\n")
    cloud.set_remote("API_KEY", secret("rotated"))  # rotated in the console
    result = envsync("check", "--json", cwd=tmp_path)
    assert result.code == 1, result.output
    kinds = {(f["key"], f["kind"]) for f in json.loads(result.stdout)["findings"]}
    assert kinds == {("API_KEY", "value-differs")}


def test_history_export_and_run(envsync, tmp_path: Path, cloud: Cloud, secret) -> None:
    write_config(tmp_path, cloud.uri)
    value, other = secret("v"), secret("o")
    (tmp_path / ".env").write_text(f"MY_SECRET={secret('old')}\nOTHER=\"{other}\"\n")
    assert envsync("push", "-y", cwd=tmp_path).code == 0
    (tmp_path / ".env").write_text(f"MY_SECRET={value}\nOTHER=\"{other}\"\n")
    assert envsync("push", "-y", cwd=tmp_path).code == 0

    history = envsync("history", "prod", "MY_SECRET", "--json", cwd=tmp_path)
    assert history.code == 0, history.output
    versions = json.loads(history.stdout)["versions"]
    assert [v["action"] for v in versions] == ["changed", "added"]
    assert all(v["version"] for v in versions)

    (tmp_path / ".env").unlink()  # values now come from the store only
    exported = envsync("export", "--format", "json", cwd=tmp_path, reveals=True)
    assert exported.code == 0, exported.stderr
    assert json.loads(exported.stdout) == {"MY_SECRET": value, "OTHER": other}
    probe = 'import os, sys; sys.exit(0 if os.environ["MY_SECRET"] == sys.argv[1] else 9)'
    assert envsync("run", "--", sys.executable, "-c", probe, value, cwd=tmp_path).code == 0


# -- shape and cost: plan --json store.secrets ---------------------------------------------------


@pytest.mark.parametrize("layout", ["bundle"], indirect=True)
def test_sharded_bundle_through_the_cli(envsync, tmp_path: Path, cloud: Cloud, secret) -> None:
    write_config(tmp_path, cloud.uri)
    tag = secret("big")
    values = {f"BIG_{i:03d}": f"{tag}-{i}-" + "x" * 2000 for i in range(100)}  # ~200 kB
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    assert envsync("push", "-y", cwd=tmp_path).code == 0
    shards = [n for n in cloud.names() if ".envsync-shard-" in n]
    assert len(shards) == 4
    assert plan_json(envsync, tmp_path)["store"]["secrets"] == 5
    other = tmp_path / "other"
    other.mkdir()
    write_config(other, cloud.uri)
    assert envsync("pull", "-y", cwd=other).code == 0
    assert env_values(other) == values


# -- prune, --force-delete, --adopt ----------------------------------------------------------------


def test_prune_soft_deletes_and_force_delete_deletes(envsync, tmp_path: Path, cloud: Cloud, secret) -> None:
    write_config(tmp_path, cloud.uri)
    keep, gone, also = secret("keep"), secret("gone"), secret("also")
    (tmp_path / ".env").write_text(f"KEEP={keep}\nGONE={gone}\nALSO={also}\n")
    assert envsync("push", "-y", cwd=tmp_path).code == 0

    (tmp_path / ".env").write_text(f"KEEP={keep}\nALSO={also}\n")
    assert envsync("push", "-y", "--prune", cwd=tmp_path).code == 0
    assert cloud.values() == {"KEEP": keep, "ALSO": also}
    if cloud.layout == "per-key":
        assert cloud.sm.describe_secret(SecretId="app/prod/GONE").get("DeletedDate") is not None

    (tmp_path / ".env").write_text(f"KEEP={keep}\n")
    result = envsync("push", "-y", "--prune", "--force-delete", "--json", cwd=tmp_path)
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["targets"][0]["applied"] == {"push": 1, "pull": 0}
    assert cloud.values() == {"KEEP": keep}
    if cloud.layout == "per-key":
        assert cloud.names() == ["app/prod/GONE", "app/prod/KEEP"]  # ALSO: gone at once; GONE: recoverable
    else:
        assert cloud.names() == ["app/prod"]


def test_adopt(envsync, tmp_path: Path, cloud: Cloud, secret) -> None:
    theirs, ours = secret("theirs"), secret("ours")
    if cloud.layout == "bundle":
        cloud.sm.create_secret(Name="app/prod", SecretString=json.dumps({"API_KEY": theirs}))
        managed = "app/prod"
    else:
        cloud.sm.create_secret(Name="app/prod/API_KEY", SecretString=theirs)
        managed = "app/prod/API_KEY"
    write_config(tmp_path, cloud.uri)
    (tmp_path / ".env").write_text(f"API_KEY={ours}\n")

    # No earlier sync and a differing value: a conflict before anything else (trust rule 4).
    conflict = envsync("push", "-y", cwd=tmp_path)
    assert conflict.code == 1 and "no earlier sync" in conflict.stdout, conflict.output
    assert cloud.values() == {"API_KEY": theirs}

    refused = envsync("push", "-y", "--force", cwd=tmp_path)
    assert refused.code == 3, refused.output
    assert "--adopt" in refused.stderr and managed in refused.stderr
    assert len([line for line in refused.stderr.splitlines() if line.startswith("envsync: error:")]) == 1
    assert cloud.values() == {"API_KEY": theirs}

    adopted = envsync("push", "-y", "--force", "--adopt", cwd=tmp_path)
    assert adopted.code == 0, adopted.output
    assert cloud.values() == {"API_KEY": ours}
    tags = {t["Key"]: t["Value"] for t in cloud.sm.describe_secret(SecretId=managed)["Tags"]}
    assert tags["managed-by"] == "envsync"


# -- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["per-key"], indirect=True)
def test_store_errors_exit_3_with_one_line(envsync, tmp_path: Path, cloud: Cloud, secret) -> None:
    write_config(tmp_path, cloud.uri)
    (tmp_path / ".env").write_text(f"K={secret('k')}\n")
    no_keys = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""}
    result = envsync("push", "-y", cwd=tmp_path, env=no_keys)
    assert result.code == 3, result.output
    assert result.stderr.startswith("envsync: error: no AWS credentials") and result.stderr.count("\n") == 1

    write_config(tmp_path, store_uri(cloud.endpoint, "app/prod", "per-key", region=None))
    result = envsync("plan", cwd=tmp_path)
    assert result.code == 3 and "no AWS region" in result.stderr and result.stderr.count("\n") == 1
    result = envsync("plan", cwd=tmp_path, env={"AWS_REGION": "us-east-1"})
    assert result.code == 1, result.output  # the region from the environment: works, K to push
