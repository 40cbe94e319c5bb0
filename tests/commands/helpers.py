"""Small builders shared by the command tests: a config of named targets, a store filled by push,
two teammates sharing a store, and the environment of a CI job (with the checks on its masks).

On GitHub, `::add-mask::VALUE` lines carry values by design (that is how the runner learns what
to hide). They go to stderr, which the runner parses for workflow commands too, so stdout never
holds a value; `masks_on_stderr` checks that no other line of stderr holds one either.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync import dotenv_file

MASK = "::add-mask::"


def write_config(folder: Path, stores: dict[str, str]) -> None:
    lines = []
    for name, uri in stores.items():
        lines += [f"[targets.{name}]", f'file = ".env.{name}"', f'store = "{uri}"', ""]
    (folder / "envsync.toml").write_text("\n".join(lines))


def fill(run_envsync, folder: Path, name: str, values: dict[str, str], env: dict[str, str] | None = None) -> None:
    """Put `values` in target `name`'s store the way a user would: its file, then push."""
    (folder / f".env.{name}").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    pushed = run_envsync("push", name, "--yes", "--force", cwd=folder, env=env)
    assert pushed.code == 0, pushed.output


def aws_env(moto_server, folder: Path) -> dict[str, str]:
    """An empty moto store, and the AWS_* environment that reaches it and nothing of the
    developer's (no ~/.aws files, fake credentials)."""
    from tests.fakes.aws_server import subprocess_env

    moto_server.reset()
    empty = folder / "aws-empty-config"
    empty.write_text("")
    return {k: v for k, v in subprocess_env(empty).items() if k.startswith("AWS_")}


def write_dev_config(folder: Path, store: Path, *, schema: str | None = None, extra: str = "") -> None:
    """One target, dev: .env <-> the file store folder `store`."""
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
        write_dev_config(folder, store)
        folders.append(folder)
    return folders


def env_values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def store_versions(store: Path) -> list[str]:
    return sorted(p.name for p in store.rglob("*.json"))


# -- in a CI job ---------------------------------------------------------------------------


def github(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a GitHub Actions step, with a step summary an earlier step wrote to."""
    summary = tmp_path / "step-summary.md"
    if not summary.exists():
        summary.write_text("Output of an earlier step\n")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), **extra}


GITLAB = {"GITLAB_CI": "true"}
LOCAL = {"ENVSYNC_CI": "local"}


def only_masks_reveal(text: str, values) -> None:
    for line in text.splitlines():
        if not line.startswith(MASK):
            assert not any(v in line for v in values), "a value outside an ::add-mask:: line"


def masks_on_stderr(leak_watch, result) -> list[str]:
    """The masks (first on stderr); the rest of stderr is watched for values as usual."""
    masked = masks_first(result.stderr)
    only_masks_reveal(result.stderr, leak_watch.values)
    leak_watch.outputs = [(where, text) for where, text in leak_watch.outputs if text is not result.stderr]
    rest = "\n".join(line for line in result.stderr.splitlines() if not line.startswith(MASK))
    leak_watch.outputs.append(("stderr apart from its ::add-mask:: lines", rest))
    assert MASK not in result.stdout
    return masked


def masks_first(stdout: str) -> list[str]:
    """The leading ::add-mask:: lines; asserts none comes after other output."""
    lines = stdout.splitlines()
    count = next((i for i, line in enumerate(lines) if not line.startswith(MASK)), len(lines))
    assert not any(line.startswith(MASK) for line in lines[count:]), "a mask after other output"
    return [line[len(MASK):] for line in lines[:count]]


@pytest.fixture
def project(tmp_path, run_envsync, secret):
    """A target with a schema, pushed once; returns the values in the store."""
    write_dev_config(tmp_path, tmp_path / "store", schema=".env.example")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDB_URL=\n")
    values = {"API_KEY": secret("api"), "DB_URL": secret("db")}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    assert run_envsync("push", "-y", env=LOCAL).code == 0
    return values


def drift_it(tmp_path: Path, secret) -> str:
    """Change API_KEY locally (now on line 2) and add a schema key the store lacks (line 4)."""
    changed = secret("changed")
    db_line = (tmp_path / ".env").read_text().splitlines()[1]
    (tmp_path / ".env").write_text(f"{db_line}\nAPI_KEY={changed}\n")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDB_URL=\nNEW_KEY=\n")
    return changed
