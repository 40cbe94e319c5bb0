"""What "nothing changed locally" means in the tests: a digest of a folder's tree."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def folder_digest(folder: Path) -> dict[str, str]:
    """Every file (content digest and mode), folder and symlink under `folder`."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            found[name] = "dir"
        elif path.is_file():
            found[name] = f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.stat().st_mode & 0o7777:o}"
        else:
            found[name] = "special"
    return found
