from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from envsync import fsutil


def test_atomic_write_modes(tmp_path: Path):
    new = tmp_path / "new"
    fsutil.atomic_write(new, b"x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    existing = tmp_path / "existing"
    existing.write_bytes(b"old")
    os.chmod(existing, 0o644)
    fsutil.atomic_write(existing, b"new")
    assert existing.read_bytes() == b"new" and stat.S_IMODE(existing.stat().st_mode) == 0o644


def test_atomic_write_can_force_the_mode(tmp_path: Path):
    existing = tmp_path / "existing"
    existing.write_bytes(b"old")
    os.chmod(existing, 0o644)
    fsutil.atomic_write(existing, b"new", force_mode=True)
    assert existing.read_bytes() == b"new" and stat.S_IMODE(existing.stat().st_mode) == 0o600


def test_exclusive_write_lets_one_writer_win(tmp_path: Path):
    target = tmp_path / "00000001.json"
    assert fsutil.exclusive_write(target, b"first") is True
    assert fsutil.exclusive_write(target, b"second") is False
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["00000001.json"]


def test_temp_files_of_a_killed_run_are_swept_by_the_next_write(tmp_path: Path):
    """A SIGKILL between the temp write and the rename leaves the temp file behind."""
    stale = tmp_path / "..env.abc123.tmp"  # mkstemp(prefix=".{name}.", suffix=".tmp")
    young = tmp_path / "..env.def456.tmp"
    unrelated = tmp_path / ".other.ghi789.tmp"
    for leftover in (stale, young, unrelated):
        leftover.write_bytes(b"half")
    old = time.time() - fsutil.STALE_TEMP_SECONDS - 10
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    fsutil.atomic_write(tmp_path / ".env", b"A=1\n")
    assert not stale.exists(), "a stale temp file of this target is removed"
    assert young.exists(), "a young one may belong to a writer still at work"
    assert unrelated.exists(), "other files' temp files are left alone"
