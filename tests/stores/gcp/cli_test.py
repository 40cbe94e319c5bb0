"""End to end through the installed `envsync` executable against the GCP Secret Manager fake
(tests/fakes/gcp_fake.py), both layouts: two developers' project folders share one store.

Each `envsync` run is a child process; its environment is passed explicitly (the project
comes from GOOGLE_CLOUD_PROJECT, the store URI names the fake's endpoint with insecure=true).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync import dotenv_file
from tests.fakes.gcp_fake import PROJECT, FakeSecretManager, subprocess_env

LAYOUTS = ["bundle", "per-key"]


def store_uri(fake: FakeSecretManager, layout: str, prefix: str = "shop/dev") -> str:
    # no project in the URI: it comes from GOOGLE_CLOUD_PROJECT
    return f"gcp-sm:///{prefix}?endpoint={fake.endpoint}&insecure=true&layout={layout}"


def project(root: Path, name: str, uri: str, schema: bool = False) -> Path:
    folder = root / name
    folder.mkdir()
    lines = ["[targets.dev]", 'file = ".env"', f'store = "{uri}"']
    if schema:
        lines.append('schema = ".env.example"')
    (folder / "envsync.toml").write_text("\n".join(lines) + "\n")
    return folder


def values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def versions_at(fake: FakeSecretManager) -> dict[str, list[int]]:
    return {sid: sorted(fake.secret(sid).versions) for sid in fake.secret_ids()}


@pytest.fixture
def envsync(run_envsync):
    """`run_envsync` with the fake's project in the child's environment."""

    def run(*args: str, **kwargs):
        return run_envsync(*args, env=subprocess_env(), **kwargs)

    return run


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_developers_push_pull_sync_and_conflict(envsync, gcp_fake, tmp_path, secret, layout):
    uri = store_uri(gcp_fake, layout)
    alice, bob = project(tmp_path, "alice", uri), project(tmp_path, "bob", uri)
    token, url = secret("token"), secret("url")
    (alice / ".env").write_text(f"# alice\nAPI_TOKEN={token}\nexport DATABASE_URL=\"{url}\"\nspring.mail.host=smtp\n")

    assert envsync("plan", cwd=alice).code == 1
    pushed = envsync("push", "--yes", cwd=alice)
    assert pushed.code == 0, pushed.output
    assert "pushed 3" in pushed.stdout
    expected_ids = (["shop-dev"] if layout == "bundle" else
                    ["shop-dev_API_TOKEN", "shop-dev_DATABASE_URL", "shop-dev_spring-mail-host"])
    assert gcp_fake.secret_ids() == expected_ids
    plan = envsync("plan", "--json", cwd=alice)
    assert plan.code == 0, plan.output
    store = json.loads(plan.stdout)["targets"][0]["store"]
    assert store == {"uri": uri, "layout": layout, "secrets": 1 if layout == "bundle" else 3}

    pulled = envsync("pull", "--yes", cwd=bob)
    assert pulled.code == 0, pulled.output
    assert values(bob) == {"API_TOKEN": token, "DATABASE_URL": url, "spring.mail.host": "smtp"}

    # both sides change different keys: sync carries each side's change to the other
    from_alice, from_bob = secret("from-alice"), secret("from-bob")
    (alice / ".env").write_text(f"API_TOKEN={token}\nDATABASE_URL={url}\nspring.mail.host=smtp\nA={from_alice}\n")
    (bob / ".env").write_text(f"# bob\nAPI_TOKEN={token}\nDATABASE_URL={url}\nB={from_bob}\n")
    assert envsync("sync", "-y", "--prune", cwd=alice).code == 0
    synced = envsync("sync", "-y", "--prune", cwd=bob)
    assert synced.code == 0, synced.output
    both = {"API_TOKEN": token, "DATABASE_URL": url, "A": from_alice, "B": from_bob}
    assert values(bob) == both and (bob / ".env").read_text().startswith("# bob\n")
    assert envsync("sync", "-y", "--prune", cwd=alice).code == 0
    assert values(alice) == both

    # both change the same key: a conflict, exit 1, nothing written anywhere
    (bob / ".env").write_text((bob / ".env").read_text().replace(from_bob, secret("bob-2")))
    assert envsync("push", "-y", cwd=bob).code == 0
    (alice / ".env").write_text((alice / ".env").read_text().replace(from_bob, secret("alice-2")))
    before_env, before_store = (alice / ".env").read_bytes(), versions_at(gcp_fake)
    conflict = envsync("sync", "-y", cwd=alice)
    assert conflict.code == 1, conflict.output
    assert "conflict" in conflict.stdout and "B" in conflict.stdout
    assert (alice / ".env").read_bytes() == before_env and versions_at(gcp_fake) == before_store

    history = envsync("history", "dev", "B", "--json", cwd=bob)
    assert history.code == 0, history.output
    assert [v["action"] for v in json.loads(history.stdout)["versions"]] == ["changed", "added"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_check_export_and_history(envsync, gcp_fake, tmp_path, secret, layout):
    folder = project(tmp_path, "app", store_uri(gcp_fake, layout, "svc"), schema=True)
    (folder / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\nEMPTY=\n")
    api = secret("api")
    (folder / ".env").write_text(f"API_KEY={api}\nDEBUG=false\nEMPTY=\n")
    assert envsync("push", "-y", cwd=folder).code == 0
    clean = envsync("check", cwd=folder)
    assert clean.code == 0, clean.output

    (folder / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\nEMPTY=\nNEW_KEY=\n")
    (folder / ".env").write_text(f"API_KEY={secret('changed')}\nDEBUG=false\nEMPTY=\n")
    drift = envsync("check", "--json", cwd=folder)
    assert drift.code == 1, drift.output
    kinds = {(f["key"], f["kind"]) for f in json.loads(drift.stdout)["findings"]}
    assert kinds == {("API_KEY", "value-differs"), ("NEW_KEY", "missing-from-store")}

    exported = envsync("export", "--format", "json", cwd=folder, reveals=True)
    assert exported.code == 0, exported.output
    assert json.loads(exported.stdout) == {"API_KEY": api, "DEBUG": "false", "EMPTY": ""}

    assert envsync("push", "-y", cwd=folder).code == 0
    whole = envsync("history", "--json", cwd=folder)
    assert whole.code == 0, whole.output
    entries = json.loads(whole.stdout)["versions"]
    assert len(entries) == (2 if layout == "bundle" else 4)  # per-key: one entry per key version
    key = envsync("history", "API_KEY", cwd=folder)
    assert key.code == 0 and "changed" in key.stdout and "added" in key.stdout


def test_store_errors_exit_3_and_bad_uris_exit_2(envsync, gcp_fake, tmp_path):
    folder = project(tmp_path, "app", store_uri(gcp_fake, "per-key", "svc"))
    (folder / ".env").write_text("K=v\n")
    gcp_fake.deny("ListSecrets")
    denied = envsync("push", "-y", cwd=folder)
    assert denied.code == 3
    assert f"GCP denied secretmanager.secrets.list on projects/{PROJECT}" in denied.stderr

    bad = project(tmp_path, "bad", f"gcp-sm://{PROJECT}/svc?endpoint=http://{gcp_fake.endpoint}&insecure=true")
    (bad / ".env").write_text("K=v\n")
    result = envsync("plan", cwd=bad)
    assert result.code == 2 and "must be HOST:PORT" in result.stderr
    assert gcp_fake.secret_ids() == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_destroyed_base_version_is_a_conflict_for_push_pull_and_sync(envsync, gcp_fake, tmp_path, secret, layout):
    """keep_versions=1 destroys the version Alice last synced once Bob pushes his change: her base
    for URL can no longer be read, so no command of hers may guess which side is stale."""
    uri = store_uri(gcp_fake, layout) + "&keep_versions=1"
    alice, bob = project(tmp_path, "alice", uri), project(tmp_path, "bob", uri)
    base, from_bob, from_alice = secret("base"), secret("bob"), secret("alice")
    (alice / ".env").write_text(f"URL={base}\nSAME=1\n")
    assert envsync("push", "--yes", cwd=alice).code == 0
    assert envsync("pull", "--yes", cwd=bob).code == 0
    (bob / ".env").write_text(f"URL={from_bob}\nSAME=1\n")
    assert envsync("push", "--yes", cwd=bob).code == 0
    url_secret = "shop-dev" if layout == "bundle" else "shop-dev_URL"
    assert gcp_fake.secret(url_secret).versions[1].state.name == "DESTROYED"
    (alice / ".env").write_text(f"URL={from_alice}\nSAME=1\n")
    before = (alice / ".env").read_bytes(), versions_at(gcp_fake)

    for command in ("push", "pull", "sync"):
        result = envsync(command, "--yes", cwd=alice)
        assert result.code == 1, f"{command}: {result.output}"
        assert "URL" in result.stdout and "its value at the last sync can no longer be read" in result.stdout
    assert ((alice / ".env").read_bytes(), versions_at(gcp_fake)) == before

    settled = envsync("pull", "--yes", "--on-conflict", "remote", cwd=alice)
    assert settled.code == 0, settled.output
    assert values(alice) == {"URL": from_bob, "SAME": "1"}
    assert envsync("plan", cwd=alice).code == 0
