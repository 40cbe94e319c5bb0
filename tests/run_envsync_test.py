"""The `run_envsync` fixture runs the CLI in this process by default: it must give what the
installed executable gives (exit code, stdout, stderr, to the byte), see what a child sees,
leave nothing behind in this process, and stay under the leak watch."""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

import pytest

CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\nschema = ".env.example"\n'


def _project(root: Path, value: str) -> Path:
    root.mkdir()
    (root / "envsync.toml").write_text(CONFIG)
    (root / ".env.example").write_text("API_TOKEN=\nDEBUG=false\nNEW_FLAG=on\n")
    (root / ".env").write_text(f"API_TOKEN={value}\r\nDEBUG=true\n")
    return root


# Each step runs in its own copy of a project (one copy per way of running), in order.
STEPS = [
    ("--version",),
    ("--help",),
    ("plan",),
    ("push",),  # asks, stdin is not a TTY: refuses
    ("push", "--yes"),
    ("plan", "--json"),
    ("check",),
    ("check", "--json"),
    ("history",),
    ("pull", "--yes", "--on-conflict", "nonsense"),  # click's usage error, exit 2
    ("push", "no-such-target"),
    ("-c", "missing.toml", "plan"),
    ("doctor",),
    ("export", "--format", "json"),
]


def _normal(text: str, root: Path) -> str:
    """The two projects' own differences: their folder, and when their push happened (history)."""
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "<when>", text.replace(str(root), "<root>"))


def test_in_process_runs_match_the_executable(run_envsync, secret, tmp_path):
    value = secret("token")
    projects = {way: _project(tmp_path / way, value) for way in ("process", "in-process")}
    for args in STEPS:
        got = {way: run_envsync(*args, cwd=folder, process=way == "process", reveals=args[0] == "export")
               for way, folder in projects.items()}
        texts = {way: (r.code, _normal(r.stdout, projects[way]), _normal(r.stderr, projects[way]))
                 for way, r in got.items()}
        assert texts["in-process"] == texts["process"], args


def test_in_process_output_is_under_the_leak_watch(run_envsync, secret, leak_watch, tmp_path):
    folder = _project(tmp_path / "p", secret("token"))
    assert run_envsync("push", "--yes", cwd=folder).code == 0
    leaked = run_envsync("export", cwd=folder)  # not marked as revealing: its stdout is watched
    assert leaked.code == 0
    with pytest.raises(AssertionError, match="leaked into stdout of envsync export"):
        for where, text in leak_watch.outputs:
            leak_watch.check(where, text)
    leak_watch.outputs.clear()  # the leak was the point; the autouse check must not fail the test


def test_the_run_sees_only_its_environment_and_leaves_this_process_as_it_was(run_envsync, monkeypatch, tmp_path):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")  # a CI variable of the test process: dropped, as for a child
    monkeypatch.setenv("RUN_ENVSYNC_INHERITED", "inherited")
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'
                                           'expand = true\n')
    (tmp_path / ".env").write_text("A=${GITHUB_ACTIONS:-dropped}\nB=${RUN_ENVSYNC_INHERITED}\nC=${GIVEN}\n")
    environ, cwd, streams = dict(os.environ), os.getcwd(), (sys.stdin, sys.stdout, sys.stderr)
    handlers = logging.getLogger().handlers[:]
    assert run_envsync("push", "--yes", env={"GIVEN": "given"}).code == 0
    exported = run_envsync("export", "--format", "json", reveals=True)
    assert json.loads(exported.stdout) == {"A": "dropped", "B": "inherited", "C": "given"}
    assert dict(os.environ) == environ and os.getcwd() == cwd
    assert (sys.stdin, sys.stdout, sys.stderr) == streams
    assert logging.getLogger().handlers == handlers


def test_envsync_run_goes_through_a_real_process(run_envsync, tmp_path):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n')
    (tmp_path / ".env").write_text("A=1\n")
    result = run_envsync("run", "--from", "local", "--", sys.executable, "-c", "import os; print(os.environ['A'])")
    assert (result.code, result.stdout) == (0, "1\n")  # the child's output, captured with envsync's
