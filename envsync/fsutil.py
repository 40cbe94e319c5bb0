"""Atomic, private file writes: a crash leaves the old file or the new one, never half of one."""
from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import time
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, force_mode: bool = False) -> None:
    """Write `data` to `path` via a temp file in the same folder, fsync, then rename over it.

    A new file gets `mode` (0600 by default); an existing file keeps its own mode (a
    .env the user made 0640 stays so), unless `force_mode`: then it gets `mode` too.
    """
    path = Path(path)
    new_mode = PRIVATE_FILE_MODE if mode is None else mode
    # The mode is set on the temp file, so the data is never readable under a wider one.
    tmp = _write_temp(path, data, new_mode if force_mode else _mode_of(path, new_mode))
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _mode_of(path: Path, default: int) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return default


def exclusive_write(path: Path, data: bytes) -> bool:
    """Create `path` with `data` only if it does not exist yet; False if it does.

    The content is complete before the name appears (temp file + hard link), so a
    reader never sees a partial file and two writers can never both win.
    """
    path = Path(path)
    tmp = _write_temp(path, data, PRIVATE_FILE_MODE)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return True


def _write_temp(path: Path, data: bytes, mode: int) -> str:
    """A fully written, fsynced temp file beside `path`; removed again if writing fails."""
    _sweep_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


STALE_TEMP_SECONDS = 300


def _sweep_stale_temps(path: Path) -> None:
    """Remove temp files a killed run left beside `path` (a SIGKILL leaves no chance to clean
    up). Only old ones: a younger temp file may belong to a writer still at work."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()


def make_private_dir(path: Path) -> None:
    """Create a folder, and any missing parents, readable only by the owner."""
    path = Path(path)
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR_MODE)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
