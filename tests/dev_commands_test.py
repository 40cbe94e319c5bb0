"""The README's test command is the one `.ci/run` runs, and `.ci/run` cannot pass on a
run that collected no test."""
from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def _ci_test_command() -> str:
    lines = [line.strip() for line in (PROJECT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if "-m pytest" in line and not line.startswith("#")]
    assert len(commands) == 1, commands
    return commands[0]


def test_the_readme_shows_the_command_ci_runs() -> None:
    readme = (PROJECT / "README.md").read_text()
    section = re.search(r"^## Development\n(.*?)(?:^## |\Z)", readme, re.S | re.M)  # the last section, or not
    assert section, "README.md has no '## Development' section"
    assert _ci_test_command() in section.group(1).splitlines()


def test_ci_runs_the_whole_suite_in_parallel_and_fails_on_errors() -> None:
    command = _ci_test_command()
    assert " -n " in command, "the suite runs on pytest-xdist workers"
    assert not re.search(r"pytest\b.*\s(tests/|-k\b|-m\b|--lf\b)", command), "CI runs every test"
    assert "set -euo pipefail" in (PROJECT / ".ci" / "run").read_text()  # pytest's exit 5 (no test) fails
