"""`envsync plan`, `push`, `pull` and `sync` end to end on the file store.

Two "developers" (two project folders, each with its own .env and state) share one store
folder, which is how a team shares a cloud store. In a CI job: masks, annotations, reports.
"""
from __future__ import annotations

import json
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.commands.helpers import LOCAL, env_values, github, masks_on_stderr, store_versions, write_dev_config


def test_push_plan_pull_round_trip(run_envsync, team, secret):
    alice, bob = team
    token, url = secret("token"), secret("url")
    (alice / ".env").write_text(f"# alice's env\nAPI_TOKEN={token}\nexport DATABASE_URL=\"{url}\"\n")

    assert run_envsync("plan", cwd=alice).code == 1
    pushed = run_envsync("push", "--yes", cwd=alice)
    assert pushed.code == 0, pushed.output
    assert "pushed 2" in pushed.stdout
    assert run_envsync("plan", cwd=alice).code == 0

    pulled = run_envsync("pull", "--yes", cwd=bob)
    assert pulled.code == 0, pulled.output
    assert env_values(bob) == {"API_TOKEN": token, "DATABASE_URL": url}
    assert stat.S_IMODE((bob / ".env").stat().st_mode) == 0o600


def test_sync_exchanges_both_sides_changes(run_envsync, team, secret):
    alice, bob = team
    a, b, shared = secret("a"), secret("b"), secret("shared")
    (alice / ".env").write_text(f"SHARED={shared}\n")
    run_envsync("push", "-y", cwd=alice)
    run_envsync("pull", "-y", cwd=bob)

    (alice / ".env").write_text(f"SHARED={shared}\nFROM_ALICE={a}\n")
    (bob / ".env").write_text(f"# bob keeps his comments\nSHARED={shared}\nFROM_BOB={b}\n")
    assert run_envsync("sync", "-y", cwd=alice).code == 0
    result = run_envsync("sync", "-y", cwd=bob)
    assert result.code == 0, result.output
    assert env_values(bob) == {"SHARED": shared, "FROM_ALICE": a, "FROM_BOB": b}
    assert (bob / ".env").read_text().startswith("# bob keeps his comments\n")
    assert run_envsync("sync", "-y", cwd=alice).code == 0
    assert env_values(alice) == env_values(bob)


def test_push_leaves_store_side_changes_for_pull(run_envsync, team, secret):
    alice, bob = team
    first, changed = secret("first"), secret("changed")
    (alice / ".env").write_text(f"KEY={first}\nOTHER=1\n")
    run_envsync("push", "-y", cwd=alice)
    run_envsync("pull", "-y", cwd=bob)
    (bob / ".env").write_text(f"KEY={changed}\nOTHER=1\n")
    run_envsync("push", "-y", cwd=bob)

    (alice / ".env").write_text(f"KEY={first}\nOTHER=2\n")
    result = run_envsync("push", "-y", cwd=alice)
    assert result.code == 0, result.output
    assert "changed in the store since the last sync" in result.stdout
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice) == {"KEY": changed, "OTHER": "2"}


def _stale_checkout(run_envsync, team, secret) -> tuple[Path, Path, dict[str, str]]:
    """Alice published; Bob, with no sync state, holds a stale value, a key of his own, and
    lacks one of hers: no base tells which side is stale (SECURITY.md, "What EnvSync defends against" 5)."""
    alice, bob = team
    values = {name: secret(name) for name in ("team", "stale", "mine", "hers")}
    (alice / ".env").write_text(f"TOKEN={values['team']}\nHERS={values['hers']}\nSAME=1\n")
    assert run_envsync("push", "-y", cwd=alice).code == 0
    (bob / ".env").write_text(f"TOKEN={values['stale']}\nMINE={values['mine']}\nSAME=1\n")
    return alice, bob, values


def test_first_push_without_state_refuses_to_overwrite_a_differing_value(run_envsync, team, secret, tmp_path):
    alice, bob, values = _stale_checkout(run_envsync, team, secret)
    store = tmp_path / "shared-store"
    before = store_versions(store)

    result = run_envsync("push", "--yes", cwd=bob)
    assert result.code == 1, result.output
    assert "TOKEN" in result.stdout and "no earlier sync" in result.stdout and "--force" in result.stdout
    assert "1 conflict" in result.stdout
    assert store_versions(store) == before
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice)["TOKEN"] == values["team"]

    kept = run_envsync("push", "--yes", "--on-conflict", "remote", cwd=bob)
    assert kept.code == 0, kept.output
    assert "pushed 1" in kept.stdout  # MINE, a key on one side only, is no conflict
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice)["TOKEN"] == values["team"] and env_values(alice)["MINE"] == values["mine"]

    forced = run_envsync("push", "--yes", "--force", cwd=bob)
    assert forced.code == 0, forced.output
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice)["TOKEN"] == values["stale"]


def test_first_push_on_conflict_local_publishes_the_file(run_envsync, team, secret):
    alice, bob, values = _stale_checkout(run_envsync, team, secret)
    result = run_envsync("push", "--yes", "--on-conflict", "local", cwd=bob)
    assert result.code == 0, result.output
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice)["TOKEN"] == values["stale"]
    assert run_envsync("plan", "--mode", "push", cwd=bob).code == 0  # the agreed values are now the base


def test_first_pull_without_state_refuses_to_overwrite_a_differing_value(run_envsync, team, secret):
    _, bob, values = _stale_checkout(run_envsync, team, secret)
    before = (bob / ".env").read_bytes()

    result = run_envsync("pull", "--yes", cwd=bob)
    assert result.code == 1, result.output
    assert "TOKEN" in result.stdout and "no earlier sync" in result.stdout
    assert (bob / ".env").read_bytes() == before
    assert run_envsync("plan", "--mode", "pull", cwd=bob).code == 1

    merged = run_envsync("pull", "--yes", "--on-conflict", "merge", cwd=bob)
    assert merged.code == 1 and "no merge" in merged.stdout  # no base to merge against
    assert (bob / ".env").read_bytes() == before

    kept = run_envsync("pull", "--yes", "--on-conflict", "local", cwd=bob)
    assert kept.code == 0, kept.output
    assert env_values(bob) == {"TOKEN": values["stale"], "MINE": values["mine"], "SAME": "1",
                               "HERS": values["hers"]}

    forced = run_envsync("pull", "--yes", "--force", cwd=bob)
    assert forced.code == 0, forced.output
    assert env_values(bob)["TOKEN"] == values["team"] and env_values(bob)["MINE"] == values["mine"]


def _conflict_setup(run_envsync, team, base: str, alice_value: str, bob_value: str):
    alice, bob = team
    (alice / ".env").write_text(f"URL={base}\n")
    run_envsync("push", "-y", cwd=alice)
    run_envsync("pull", "-y", cwd=bob)
    (bob / ".env").write_text(f"URL={bob_value}\n")
    run_envsync("push", "-y", cwd=bob)
    (alice / ".env").write_text(f"URL={alice_value}\n")
    return alice, bob


def test_conflict_fails_and_changes_nothing(run_envsync, team, secret, tmp_path):
    alice, _ = _conflict_setup(run_envsync, team, secret("base"), secret("alice"), secret("bob"))
    before_env = (alice / ".env").read_bytes()
    before_store = store_versions(tmp_path / "shared-store")
    result = run_envsync("sync", "-y", cwd=alice)
    assert result.code == 1
    assert "conflict" in result.stdout and "URL" in result.stdout
    assert (alice / ".env").read_bytes() == before_env
    assert store_versions(tmp_path / "shared-store") == before_store


@pytest.mark.parametrize("strategy, winner", [("local", "alice"), ("remote", "bob")])
def test_conflict_strategies_pick_a_side(run_envsync, team, secret, strategy, winner):
    values = {"alice": secret("alice"), "bob": secret("bob")}
    alice, bob = _conflict_setup(run_envsync, team, secret("base"), values["alice"], values["bob"])
    result = run_envsync("sync", "-y", "--on-conflict", strategy, cwd=alice)
    assert result.code == 0, result.output
    assert env_values(alice)["URL"] == values[winner]
    assert run_envsync("pull", "-y", cwd=bob).code == 0
    assert env_values(bob)["URL"] == values[winner]


def test_conflict_merge_combines_disjoint_edits(run_envsync, team):
    base = "postgres://app@db.internal:5432/app?sslmode=require&pool=5"
    alice_edit = base.replace("5432", "6432")
    bob_edit = base.replace("pool=5", "pool=20")
    alice, bob = _conflict_setup(run_envsync, team, base, alice_edit, bob_edit)
    result = run_envsync("sync", "-y", "--on-conflict", "merge", cwd=alice)
    assert result.code == 0, result.output
    merged = "postgres://app@db.internal:6432/app?sslmode=require&pool=20"
    assert env_values(alice)["URL"] == merged
    run_envsync("pull", "-y", cwd=bob)
    assert env_values(bob)["URL"] == merged


def test_conflict_merge_refuses_overlapping_edits(run_envsync, team):
    alice, _ = _conflict_setup(run_envsync, team, "port-5432-end", "port-6432-end", "port-7432-end")
    result = run_envsync("sync", "-y", "--on-conflict", "merge", cwd=alice)
    assert result.code == 1
    assert "cannot be merged" in result.stdout


def test_ask_needs_a_terminal(run_envsync, team):
    alice, _ = _conflict_setup(run_envsync, team, "b", "a", "c")
    result = run_envsync("sync", "--on-conflict", "ask", cwd=alice)
    assert result.code == 2 and "needs a terminal" in result.stderr


def test_deletions_need_prune(run_envsync, team, secret):
    alice, bob = team
    keep, gone = secret("keep"), secret("gone")
    (alice / ".env").write_text(f"KEEP={keep}\nGONE={gone}\n")
    run_envsync("push", "-y", cwd=alice)
    run_envsync("pull", "-y", cwd=bob)
    (alice / ".env").write_text(f"KEEP={keep}\n")

    result = run_envsync("push", "-y", cwd=alice)
    assert result.code == 0 and "--prune" in result.stdout
    run_envsync("pull", "-y", cwd=bob)
    assert "GONE" in env_values(bob)

    assert run_envsync("push", "-y", "--prune", cwd=alice).code == 0
    run_envsync("pull", "-y", "--prune", cwd=bob)
    assert env_values(bob) == {"KEEP": keep}


def test_dry_run_and_missing_yes_apply_nothing(run_envsync, team, secret, tmp_path):
    alice, _ = team
    (alice / ".env").write_text(f"K={secret()}\n")
    dry = run_envsync("push", "--dry-run", cwd=alice)
    assert dry.code == 1 and "push-add" in dry.stdout
    no_yes = run_envsync("push", cwd=alice)
    assert no_yes.code == 2 and "--yes" in no_yes.stderr
    assert not (tmp_path / "shared-store").exists()


def test_pull_keeps_file_layout_and_mode(run_envsync, team, secret):
    alice, bob = team
    a = secret("a")
    (alice / ".env").write_text(f"A={a}\nB=2\n")
    run_envsync("push", "-y", cwd=alice)
    original = "# bob's notes\r\nexport B=old  # inline\r\n\r\nLOCAL=x"
    (bob / ".env").write_text(original, newline="")
    os.chmod(bob / ".env", 0o640)
    assert run_envsync("pull", "-y", "--force", cwd=bob).code == 0
    text = (bob / ".env").read_bytes().decode()
    assert text.startswith("# bob's notes\r\nexport B=2  # inline\r\n\r\nLOCAL=x\r\n")
    assert stat.S_IMODE((bob / ".env").stat().st_mode) == 0o640


def test_warnings_name_lines_not_values(run_envsync, tmp_path, secret):
    write_dev_config(tmp_path, tmp_path / "store")
    value = secret("dup")
    (tmp_path / ".env").write_text(f"A=1\nA={value}\nBARE\n")
    result = run_envsync("push", "-y")
    assert result.code == 0
    assert ".env line 2: A is set again (first on line 1)" in result.stderr
    assert ".env line 3: no '='" in result.stderr


def test_pull_recreates_a_deleted_env_file(run_envsync, team, secret):
    """No file at all is a fresh start, not the deletion of every key."""
    alice, _ = team
    value = secret("v")
    (alice / ".env").write_text(f"A={value}\n")
    run_envsync("push", "-y", cwd=alice)
    (alice / ".env").unlink()
    assert run_envsync("pull", "-y", cwd=alice).code == 0
    assert env_values(alice) == {"A": value}


@pytest.mark.parametrize("command", ["pull", "sync"])
def test_all_targets_sharing_one_file_each_get_their_keys(run_envsync, secret, tmp_path, command):
    """Every target is read before any is applied (masks first); one that shares a file with a
    target applied before it in the same run is read again, not refused as changed on disk."""
    values = {"a": secret("a"), "b": secret("b")}
    publisher = tmp_path / "publisher"
    publisher.mkdir()
    (publisher / "envsync.toml").write_text('[targets.a]\nfile = ".env.a"\nstore = "file://../sa"\n'
                                            '[targets.b]\nfile = ".env.b"\nstore = "file://../sb"\n')
    (publisher / ".env.a").write_text(f"A={values['a']}\n")
    (publisher / ".env.b").write_text(f"B={values['b']}\n")
    assert run_envsync("push", "--all", "--yes", cwd=publisher).code == 0
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "envsync.toml").write_text('[targets.a]\nfile = ".env"\nstore = "file://../sa"\n'
                                         '[targets.b]\nfile = ".env"\nstore = "file://../sb"\n')
    result = run_envsync(command, "--all", "--yes", cwd=shared)
    assert result.code == 0, result.output
    assert env_values(shared) == {"A": values["a"], "B": values["b"]}


def test_plan_and_push_on_github(run_envsync, project, secret, tmp_path, leak_watch):
    added = secret("added")
    (tmp_path / ".env").write_text((tmp_path / ".env").read_text() + f"ADDED={added}\n")
    plan = run_envsync("plan", "--junit", "plan.xml", env=github(tmp_path))
    assert plan.code == 1, plan.output
    assert set(masks_on_stderr(leak_watch, plan)) == {*project.values(), added}
    assert "::warning file=.env,line=3,title=envsync drift (dev)::ADDED: push-add pending" in plan.stderr
    failures = [f.get("type") for f in ET.parse(tmp_path / "plan.xml").getroot().iter("failure")]
    assert failures == ["push-add"]

    push = run_envsync("push", "-y", "--summary", "push.md", env=github(tmp_path))
    assert push.code == 0, push.output
    masks_on_stderr(leak_watch, push)
    assert "::warning" not in push.output and "::error" not in push.output
    text = (tmp_path / "push.md").read_text()
    assert "## envsync push" in text and "applied: pushed 1, pulled 0" in text
    assert "| `ADDED` | push-add | " in text
    assert (tmp_path / "step-summary.md").read_text().count("## envsync") == 2  # plan, then push


def test_sync_conflict_is_annotated_and_fails(run_envsync, tmp_path, secret, leak_watch):
    store = tmp_path / "store"
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for folder in (alice, bob):
        folder.mkdir()
        write_dev_config(folder, store)
    (alice / ".env").write_text(f"URL={secret('base')}\n")
    run_envsync("push", "-y", cwd=alice, env=LOCAL)
    run_envsync("pull", "-y", cwd=bob, env=LOCAL)
    (bob / ".env").write_text(f"URL={secret('bob')}\n")
    run_envsync("push", "-y", cwd=bob, env=LOCAL)
    (alice / ".env").write_text(f"# mine\nURL={secret('alice')}\n")
    result = run_envsync("sync", "-y", "--codequality", "cq.json", cwd=alice, env=github(tmp_path))
    assert result.code == 1, result.output
    assert len(masks_on_stderr(leak_watch, result)) == 3  # local, store, and the base read back from history
    assert "::error file=.env,line=2,title=envsync conflict (dev)::URL: changed on both sides" in result.stderr
    (issue,) = json.loads((alice / "cq.json").read_text())
    assert issue["severity"] == "critical" and issue["location"] == {"path": ".env", "lines": {"begin": 2}}
    assert "**not applied: conflicts**" in (tmp_path / "step-summary.md").read_text()
