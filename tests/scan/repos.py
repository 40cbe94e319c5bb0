"""Throwaway git repositories for the leak guard's tests, and its JSON report read back."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path


GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


FILE_STORE_CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo)}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def init_repo(path: Path, gitignore: str | None = ".env*\n!.env.example\n") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    if gitignore is not None:
        (path / ".gitignore").write_text(gitignore)
    return path


def commit_all(repo: Path, message: str = "commit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def findings_of(report: dict) -> set[tuple[str, int, str, str | None]]:
    return {(f["file"], f["line"], f["rule"], f["key"]) for f in report["findings"]}


def scan_json(run_envsync, repo: Path, *args: str, code: int | None = None) -> dict:
    result = run_envsync("scan", *args, "--json", cwd=repo)
    if code is not None:
        assert result.code == code, result.output
    assert result.code in (0, 1), result.output
    return json.loads(result.stdout)
