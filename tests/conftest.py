"""Shared fixtures: secret values that must never be printed, and the real `envsync` executable."""
from __future__ import annotations

import os
import secrets as _secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ENVSYNC = str(Path(sys.executable).parent / "envsync")


@dataclass
class LeakWatch:
    """Secret values a test used, and every output that must not contain them."""

    values: set[str] = field(default_factory=set)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def check(self, where: str, text: str) -> None:
        for value in self.values:
            assert value not in text, f"a secret value leaked into {where}"


@pytest.fixture
def leak_watch() -> LeakWatch:
    return LeakWatch()


@pytest.fixture
def secret(leak_watch: LeakWatch):
    """Make a distinctive secret value; the test fails if it ever shows up in output."""

    def make(label: str = "value") -> str:
        value = f"sv-{label}-{_secrets.token_hex(6)}"
        leak_watch.values.add(value)
        return value

    return make


@pytest.fixture(autouse=True)
def _no_secret_in_output(leak_watch: LeakWatch, capfd):
    """Fail any test whose captured output, CLI output or state file holds a secret it used."""
    yield
    out, err = capfd.readouterr()
    leak_watch.check("captured stdout", out)
    leak_watch.check("captured stderr", err)
    for where, text in leak_watch.outputs:
        leak_watch.check(where, text)
    for path in leak_watch.files:
        if path.exists():
            leak_watch.check(str(path), path.read_text(errors="replace"))


MASK = "::add-mask::"


def without_masks(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(MASK))


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_envsync(leak_watch: LeakWatch, tmp_path: Path):
    """Run the installed `envsync` executable; its output is checked for leaks unless the
    command's job is to emit values (`reveals=True`, e.g. export)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None, reveals: bool = False, timeout: float = 120) -> Result:
        # Nothing of a CI the suite itself may run in: each test says where it runs.
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ENVSYNC_", "AWS_", "GITHUB_", "GITLAB_", "ACTIONS_", "CI_"))}
        full_env.update({"NO_COLOR": "1", "COLUMNS": "200"})
        full_env.update(env or {})
        proc = subprocess.run(
            [ENVSYNC, *args], cwd=cwd or tmp_path, env=full_env, input=input,
            capture_output=True, text=True, timeout=timeout,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        # `::add-mask::VALUE` (GitHub, on stderr) is the one line made to hold a value: it tells
        # the runner what to hide. Every other line is watched.
        leak_watch.outputs.append((f"stderr of envsync {' '.join(args)}", without_masks(proc.stderr)))
        if not reveals:
            leak_watch.outputs.append((f"stdout of envsync {' '.join(args)}", proc.stdout))
        return result

    return run


@pytest.fixture(scope="session")
def moto_server():
    """One moto server (AWS emulator, real HTTP) for the whole session, started on first use.
    Tests reset it themselves (`moto_server.reset()`); see tests/aws_server.py."""
    from tests.aws_server import MotoServer

    server = MotoServer()
    yield server
    server.stop()
