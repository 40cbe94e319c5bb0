"""End to end through the installed `envsync` executable, on the file store.

Two "developers" (two project folders, each with its own .env and state)
share one store folder, which is how a team shares a cloud store.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from envsync import dotenv_file


def write_config(folder: Path, store: Path, *, schema: str | None = None, extra: str = "") -> None:
    lines = ["[targets.dev]", 'file = ".env"', f'store = "file://{store}"']
    if schema:
        lines.append(f'schema = "{schema}"')
    (folder / "envsync.toml").write_text("\n".join(lines) + "\n" + extra)


@pytest.fixture
def team(tmp_path: Path):
    """Two project folders, alice and bob, sharing one store folder."""
    store = tmp_path / "shared-store"
    folders = []
    for name in ("alice", "bob"):
        folder = tmp_path / name
        folder.mkdir()
        write_config(folder, store)
        folders.append(folder)
    return folders


def env_values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def store_versions(store: Path) -> list[str]:
    return sorted(p.name for p in store.rglob("*.json"))


def test_init_writes_config_and_gitignore(run_envsync, tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules/")  # no final newline
    (tmp_path / ".env.example").write_text("API_KEY=\n")
    result = run_envsync("init")
    assert result.code == 0, result.output
    config = (tmp_path / "envsync.toml").read_text()
    assert 'file = ".env"' in config and 'schema = ".env.example"' in config
    ignore = (tmp_path / ".gitignore").read_text().splitlines()
    assert ignore[0] == "node_modules/"
    assert {".env*", "!.env.example", ".envsync/"} <= set(ignore)

    again = run_envsync("init")
    assert again.code == 2 and "already exists" in again.stderr
    assert run_envsync("init", "--force").code == 0
    assert (tmp_path / ".gitignore").read_text().count(".envsync/") == 1


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


def test_quick_start_still_works(run_envsync, tmp_path):
    """README's set-up line, step by step (first push to an empty store, first pull into a
    new .env: keys on one side only are no conflict)."""
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://app:hunter2@db/app\nDEBUG=false\n")
    assert run_envsync("init").code == 0
    assert run_envsync("push", "--yes").code == 0
    with (tmp_path / ".env").open("a") as handle:
        handle.write("FEATURE_X=on\n")
    assert run_envsync("plan").code == 1
    assert run_envsync("sync", "--yes").code == 0
    assert run_envsync("history").code == 0
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "file://{tmp_path}/.envsync/store/dev"\n')
    assert run_envsync("pull", "--yes", cwd=clone).code == 0
    assert env_values(clone) == env_values(tmp_path)


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


def test_check_reports_drift_without_values(run_envsync, tmp_path, secret):
    store = tmp_path / "store"
    write_config(tmp_path, store, schema=".env.example")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\n")
    api = secret("api")
    (tmp_path / ".env").write_text(f"API_KEY={api}\nDEBUG=false\n")
    run_envsync("push", "-y")
    assert run_envsync("check").code == 0

    (tmp_path / ".env").write_text(f"API_KEY={secret('changed')}\nDEBUG=false\nLOCAL_ONLY=1\n")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\nNEW_KEY=\n")
    result = run_envsync("check", "--json")
    assert result.code == 1
    kinds = {(f["key"], f["kind"]) for f in json.loads(result.stdout)["findings"]}
    assert kinds == {("API_KEY", "value-differs"), ("LOCAL_ONLY", "missing-from-store"),
                     ("NEW_KEY", "missing-from-store")}
    plain = run_envsync("check")
    assert ".env.example:4:" in plain.stdout and ".env:1:" in plain.stdout

    offline = run_envsync("check", "--offline")
    assert offline.code == 1
    assert "NEW_KEY" in offline.stdout and "LOCAL_ONLY" in offline.stdout


def test_export_formats_and_output_file(run_envsync, tmp_path, secret):
    write_config(tmp_path, tmp_path / "store")
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
    write_config(tmp_path, tmp_path / "store")
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


def test_run_passes_values_and_exit_code(run_envsync, tmp_path, secret):
    write_config(tmp_path, tmp_path / "store")
    value = secret("v")
    (tmp_path / ".env").write_text(f"MY_SECRET={value}\n")
    run_envsync("push", "-y")
    probe = 'import os, sys; sys.exit(0 if os.environ["MY_SECRET"] == sys.argv[1] else 9)'
    import sys
    assert run_envsync("run", "--", sys.executable, "-c", probe, value).code == 0
    assert run_envsync("run", "dev", "--", sys.executable, "-c", "raise SystemExit(7)").code == 7
    missing = run_envsync("run", "--", "no-such-command-xyz")
    assert missing.code == 2 and "command not found" in missing.stderr


def test_history_lists_versions_without_values(run_envsync, tmp_path, secret):
    write_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"K={secret('1')}\n")
    run_envsync("push", "-y")
    (tmp_path / ".env").write_text(f"K={secret('2')}\n")
    run_envsync("push", "-y")
    result = run_envsync("history", "dev", "K", "--json")
    assert result.code == 0
    assert [v["action"] for v in json.loads(result.stdout)["versions"]] == ["changed", "added"]
    assert "added" in run_envsync("history", "K").stdout


def test_target_selection(run_envsync, tmp_path):
    (tmp_path / "envsync.toml").write_text(
        '[targets.dev]\nfile = ".env"\nstore = "file://s/dev"\n'
        '[targets.prod]\nfile = ".env.prod"\nstore = "file://s/prod?layout=per-key"\n'
    )
    (tmp_path / ".env").write_text("A=1\n")
    (tmp_path / ".env.prod").write_text("B=2\n")
    ambiguous = run_envsync("push", "-y")
    assert ambiguous.code == 2 and "--all" in ambiguous.stderr
    typo = run_envsync("push", "prd", "-y")
    assert typo.code == 2 and "did you mean 'prod'" in typo.stderr
    assert run_envsync("push", "--all", "-y").code == 0
    matrix = json.loads(run_envsync("targets", "--json").stdout)
    assert [t["target"] for t in matrix] == ["dev", "prod"]
    plan = json.loads(run_envsync("plan", "--all", "--json").stdout)
    assert [t["store"]["layout"] for t in plan["targets"]] == ["bundle", "per-key"]


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
    write_config(tmp_path, tmp_path / "store")
    value = secret("dup")
    (tmp_path / ".env").write_text(f"A=1\nA={value}\nBARE\n")
    result = run_envsync("push", "-y")
    assert result.code == 0
    assert ".env line 2: A is set again (first on line 1)" in result.stderr
    assert ".env line 3: no '='" in result.stderr


def test_help_and_version(run_envsync):
    assert "Quick start" in run_envsync("--help").stdout
    assert run_envsync("--version").stdout.startswith("envsync, version")
    assert "--on-conflict" in run_envsync("sync", "--help").stdout


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
