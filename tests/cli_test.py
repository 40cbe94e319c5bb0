"""The command group end to end: README's quick start, target selection, --help and --version.

Each command's own tests are in tests/commands/<name>_test.py.
"""
from __future__ import annotations

import json

from tests.commands.helpers import env_values


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


def test_help_and_version(run_envsync):
    assert "Quick start" in run_envsync("--help").stdout
    assert run_envsync("--version").stdout.startswith("envsync, version")
    assert "--on-conflict" in run_envsync("sync", "--help").stdout


def test_help_teaches_the_ci_options(run_envsync):
    check = run_envsync("check", "--help").stdout
    assert "envsync check --all --report envsync.json --junit envsync.xml" in check
    for option in ("--report FILE", "--junit FILE", "--codequality FILE", "--summary FILE"):
        assert option in check
        assert option in run_envsync("push", "--help").stdout
    export = run_envsync("export", "--help").stdout
    assert "github-env" in export and "gitlab-dotenv" in export and "no" in export and "mask command" in export
