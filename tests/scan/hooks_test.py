"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` in throwaway repos.

The hook repo is a copy of this project's files (envsync/, pyproject.toml, README.md and the
manifest) committed in a temp git repo of its own: /work/main itself may be mid-edit by others,
and `try-repo` on a path takes HEAD plus uncommitted changes. One PRE_COMMIT_HOME per session:
the hook's virtualenv (`pip install` of the package, base dependencies only) is built once, by
the first test, and reused by the others, which run `git commit` through installed hooks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRE_COMMIT = str(Path(sys.executable).parent / "pre-commit")
BUILD_TIMEOUT = 300  # the first run builds the hook's virtualenv from the registry

pytestmark = pytest.mark.skipif(shutil.which("git") is None or not Path(PRE_COMMIT).exists(),
                                reason="needs git and pre-commit")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "GIT_", "PRE_COMMIT"))}
    env.update({"PRE_COMMIT_HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1", "TERM": "dumb"})
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = BUILD_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = _run(["git", *args], cwd, env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory, pre_commit_home) -> tuple[Path, str]:
    """A committed copy of the project's working files: what a user's `repo:` would point at."""
    repo = tmp_path_factory.mktemp("hook-repo")
    shutil.copytree(PROJECT / "envsync", repo / "envsync", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(PROJECT / name, repo / name)
    env = _env(pre_commit_home)
    _git(repo, env, "init", "-q")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "hook repo")
    return repo, _git(repo, env, "rev-parse", "HEAD")


@pytest.fixture
def app(tmp_path, hook_repo, pre_commit_home, secret):
    """A consumer repo with both hooks installed, a local .env and a committed schema."""
    repo, rev = hook_repo
    root = tmp_path / "app"
    root.mkdir()
    env = _env(pre_commit_home)
    _git(root, env, "init", "-q")
    (root / ".gitignore").write_text(".env*\n!.env.example\n.envsync/\n")
    (root / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'
                                       'schema = ".env.example"\n')
    (root / ".env.example").write_text("API_TOKEN=\nDEBUG=false\n")
    token = secret("hook")
    (root / ".env").write_text(f"API_TOKEN={token}\nDEBUG=true\n")
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: envsync-scan\n"
        "      - id: envsync-check\n"
    )
    _git(root, env, "add", "-A")
    _git(root, env, "commit", "-q", "--no-verify", "-m", "initial")
    installed = _run([PRE_COMMIT, "install"], root, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root, env, token


def commit(root: Path, env: dict[str, str], leak_watch, message: str = "change") -> subprocess.CompletedProcess:
    proc = _run(["git", "commit", "-m", message], root, env)
    leak_watch.outputs.append(("git commit output", proc.stdout + proc.stderr))
    return proc


def head(root: Path, env: dict[str, str]) -> str:
    return _git(root, env, "rev-parse", "HEAD")


def test_manifest_is_valid_and_installs_no_cloud_sdk():
    proc = subprocess.run([PRE_COMMIT, "validate-manifest", str(PROJECT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import yaml  # pre-commit's own dependency

    hooks = {h["id"]: h for h in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["envsync-scan"]["entry"] == "envsync scan --staged"
    assert hooks["envsync-scan"]["pass_filenames"] is True  # so `pre-commit run --all-files` sweeps the repo
    assert hooks["envsync-check"]["entry"] == "envsync check --offline"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is (hook["id"] == "envsync-scan")
        assert not hook.get("additional_dependencies")


def test_commit_with_a_leaked_value_is_blocked(app, leak_watch, pre_commit_home):
    root, env, token = app
    before = head(root, env)
    (root / "settings.py").write_text(f'API_TOKEN = "{token}"\n')
    _git(root, env, "add", "settings.py")
    proc = commit(root, env, leak_watch)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "envsync scan" in output and "Failed" in output
    assert "settings.py:1:14: env-value: value of API_TOKEN from .env" in output
    assert token not in output
    assert head(root, env) == before
    # The hook's environment holds the base dependencies only.
    site = list(pre_commit_home.glob("repo*/py_env-*/lib/python*/site-packages"))
    assert site, "hook environment not found"
    installed = {p.name.split("-")[0].lower() for p in site[0].iterdir()}
    assert "ahocorasick_rs" in installed
    assert not installed & {"boto3", "botocore", "google", "azure", "grpc", "detect_secrets"}


def test_clean_commit_passes(app, leak_watch):
    root, env, _ = app
    before = head(root, env)
    (root / "settings.py").write_text('import os\nAPI_TOKEN = os.environ["API_TOKEN"]\n')
    _git(root, env, "add", "settings.py")
    proc = commit(root, env, leak_watch)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "envsync scan" in output and "Passed" in output
    assert head(root, env) != before


def test_commit_allowed_by_pragma_passes(app, leak_watch):
    root, env, token = app
    (root / "test_client.py").write_text(f'FIXTURE = "{token}"  # envsync: allow (throwaway test token)\n')
    _git(root, env, "add", "test_client.py")
    proc = commit(root, env, leak_watch)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_staged_env_file_is_blocked(app, leak_watch):
    root, env, _ = app
    _git(root, env, "add", "-f", ".env")
    proc = commit(root, env, leak_watch)
    assert proc.returncode != 0
    assert ".env: env-file: a .env file is staged — unstage it: git rm --cached -- .env" in proc.stdout + proc.stderr


def test_envsync_check_blocks_schema_drift(app, leak_watch):
    root, env, _ = app
    (root / ".env.example").write_text("API_TOKEN=\nDEBUG=false\nSENTRY_DSN=\n")
    _git(root, env, "add", ".env.example")
    proc = commit(root, env, leak_watch)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "envsync check" in output and "SENTRY_DSN" in output
    assert "envsync scan" in output and "Passed" in output  # the guard itself has nothing to say
    with (root / ".env").open("a") as handle:
        handle.write("SENTRY_DSN=https://public@o0.ingest.example.io/1\n")
    proc = commit(root, env, leak_watch)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_run_all_files_sweeps_the_repository(app, leak_watch):
    """`pre-commit run --all-files` (pre-commit.ci, CI's `pre-commit run -a`) stages nothing: the hook
    must scan the files pre-commit passes, as they are in the working tree."""
    root, env, token = app
    (root / "old.py").write_text(f'TOKEN = "{token}"\n')
    _git(root, env, "add", "old.py")
    _git(root, env, "commit", "-q", "--no-verify", "-m", "leaked before the hook")
    proc = _run([PRE_COMMIT, "run", "--all-files"], root, env)
    output = proc.stdout + proc.stderr
    leak_watch.outputs.append(("pre-commit run --all-files output", output))
    assert proc.returncode == 1, output
    assert "old.py:1:10: env-value: value of API_TOKEN from .env" in output
    (root / "old.py").write_text('import os\nTOKEN = os.environ["API_TOKEN"]\n')
    proc = _run([PRE_COMMIT, "run", "--all-files"], root, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_try_repo_runs_the_hook_from_a_local_checkout(app, hook_repo, leak_watch):
    """`pre-commit try-repo PATH HOOK`, as a hook author would run it. try-repo builds a fresh hook
    environment on every call (several seconds), so this is the one test that uses it."""
    repo, rev = hook_repo
    root, env, token = app
    (root / "client.js").write_text(f'const auth = "{token}";\n')
    _git(root, env, "add", "client.js")
    proc = _run([PRE_COMMIT, "try-repo", str(repo), "envsync-scan", "--ref", rev], root, env)
    output = proc.stdout + proc.stderr
    leak_watch.outputs.append(("try-repo output", output))
    assert proc.returncode == 1, output
    assert "client.js:1:15: env-value: value of API_TOKEN from .env" in output
    assert token not in output
