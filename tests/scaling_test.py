"""The work of pull/push/sync --prune grows linearly with the number of keys (issue 16).

Timing a machine is noisy, so this counts instead: every Python line executed while
the command runs (`sys.settrace`), for n and 4n keys with deletions, additions and
changes. Linear work gives a ratio just under 4, a quadratic path about 16; the test
fails above 5. Work done inside C (a `list.insert`, `x in some_list`) is not seen:
benchmarks/scale.py times the whole commands for that.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

import envsync as envsync_package
from envsync import dotenv_file
from envsync.cli import main as envsync

PACKAGE = str(Path(envsync_package.__file__).parent)
MAX_GROWTH = 5.0


@contextlib.contextmanager
def counted_lines() -> Iterator[list[int]]:
    """Counts the lines of EnvSync's own code executed in this thread while the block runs.
    Libraries' lines are left out: their linear cost per key would hide a quadratic path
    of ours at sizes a test can afford."""
    count = [0]

    def local(frame, event, arg):
        count[0] += event == "line"
        return local

    def on_call(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    sys.settrace(on_call)
    try:
        yield count
    finally:
        sys.settrace(None)


def document_edits(n: int, share: float) -> Callable[[], None]:
    """A pull's edits of a file of n keys: `share` of them removed, a tenth changed, a tenth
    added at the end and a tenth right after an existing key."""
    document = dotenv_file.parse("".join(f"KEY_{i}=value-{i}\n" for i in range(n)))
    step = round(1 / share)

    def edit() -> None:
        for i in range(n):
            if i % step == 0:
                document.unset(f"KEY_{i}")
            elif i % 10 == 1:
                document.set(f"KEY_{i}", "changed")
            if i % 10 == 3:
                document.set(f"NEW_{i}", "new")
                document.set(f"AFTER_{i}", "new", after=f"KEY_{i}")
        document.render()

    return edit


def run(folder: Path, *args: str) -> None:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.redirect_stderr(out):
            code = envsync(list(args))
    finally:
        os.chdir(cwd)
    assert code == 0, out.getvalue()[-300:]


def write_env(folder: Path, values: dict[str, str]) -> None:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def edited(values: dict[str, str], part: int) -> dict[str, str]:
    """Keys deleted, changed and added; different `part`s touch different keys."""
    out = {}
    for i, (key, value) in enumerate(values.items()):
        if i % 10 != 2 * part:  # a tenth deleted
            out[key] = f"changed-{part}-{i}" if i % 10 == 2 * part + 1 else value  # a tenth changed
    out.update({f"NEW_{part}_{i}": f"new-{i}" for i in range(len(values) // 10)})  # a tenth new
    return out


def project(root: Path, name: str, store: Path, layout: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "file://{store}?layout={layout}"\n')
    return folder


def pushed_then_edited_by_a_teammate(root: Path, layout: str, values: dict[str, str]) -> Path:
    """My checkout after pushing `values`; a teammate's copy of it (the same base) has since
    pushed some of them deleted, changed and added."""
    mine = project(root, "mine", root / "store", layout)
    write_env(mine, values)
    run(mine, "push", "-y")
    theirs = root / "theirs"
    shutil.copytree(mine, theirs)  # with its .envsync state: both checkouts share the base
    write_env(theirs, edited(values, part=1))
    run(theirs, "push", "-y", "--prune")
    return mine


def pull_prune(root: Path, layout: str, n: int) -> Callable[[], None]:
    mine = pushed_then_edited_by_a_teammate(root, layout, {f"KEY_{i}": f"value-{i}" for i in range(n)})
    return lambda: run(mine, "pull", "-y", "--prune")


def push_prune(root: Path, layout: str, n: int) -> Callable[[], None]:
    values = {f"KEY_{i}": f"value-{i}" for i in range(n)}
    mine = project(root, "mine", root / "store", layout)
    write_env(mine, values)
    run(mine, "push", "-y")
    write_env(mine, edited(values, part=1))
    return lambda: run(mine, "push", "-y", "--prune")


def sync_prune(root: Path, layout: str, n: int) -> Callable[[], None]:
    values = {f"KEY_{i}": f"value-{i}" for i in range(n)}
    mine = pushed_then_edited_by_a_teammate(root, layout, values)
    write_env(mine, edited(values, part=3))  # other keys deleted, changed and added here
    return lambda: run(mine, "sync", "-y", "--prune")


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("ENVSYNC_", "GITHUB_", "GITLAB_", "CI")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")


# The per-key layout writes (and fsyncs) a file per key, so it is measured at smaller
# sizes, on sync alone: it deletes on both sides, so it runs the store's per-key deletions
# and the document's.
CASES = [
    pytest.param(pull_prune, "bundle", 300, id="pull-bundle"),
    pytest.param(push_prune, "bundle", 300, id="push-bundle"),
    pytest.param(sync_prune, "bundle", 300, id="sync-bundle"),
    pytest.param(sync_prune, "per-key", 100, id="sync-per-key"),
]


@pytest.mark.parametrize(("scenario", "layout", "small"), CASES)
def test_prune_work_grows_linearly(tmp_path, scenario, layout, small):
    lines = {}
    for n in (small, 4 * small):
        command = scenario(tmp_path / str(n), layout, n)
        with counted_lines() as count:
            command()
        lines[n] = count[0]
    growth = lines[4 * small] / lines[small]
    print(f"FIGURE scaling {scenario.__name__} {layout}: {lines} -> {growth:.2f}x")
    assert growth <= MAX_GROWTH, f"4x the keys cost {growth:.1f}x the lines ({lines})"


@pytest.mark.parametrize("share", [0.01, 0.1, 1.0], ids=["1%", "10%", "100%"])
def test_document_edits_grow_linearly(share):
    lines = {}
    for n in (1000, 4000):
        edit = document_edits(n, share)
        with counted_lines() as count:
            edit()
        lines[n] = count[0]
    growth = lines[4000] / lines[1000]
    print(f"FIGURE scaling document edits {share:.0%} removed: {lines} -> {growth:.2f}x")
    assert growth <= MAX_GROWTH, f"4x the keys cost {growth:.1f}x the lines ({lines})"
