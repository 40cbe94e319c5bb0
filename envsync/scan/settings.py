"""What the user can tune about a scan: the value-length floor, the piece size for big files, the allowed
.env files, whether unreadable files may pass, the token rules turned off."""
from __future__ import annotations

import re
from dataclasses import dataclass

from envsync.errors import InputError

DEFAULT_MIN_LENGTH = 8
DEFAULT_MAX_SIZE = 5 * 1024 * 1024
MIN_MAX_SIZE = 1024  # smaller pieces would be mostly overlap (and a size of 0 would never advance)
ALLOWED_ENV_FILES = (".env.example", ".env.sample", ".env.template")


@dataclass(frozen=True)
class Settings:
    """What the user tuned (command-line options or ENVSYNC_SCAN_* variables)."""

    min_length: int = DEFAULT_MIN_LENGTH
    max_size: int = DEFAULT_MAX_SIZE  # a larger file is scanned in pieces of this size
    allowed_env_files: tuple[str, ...] = ALLOWED_ENV_FILES
    every_value: bool = False  # look for every value >= min_length, even ones that look like words or numbers
    allow_unscanned: bool = False  # a file that cannot be read is listed, not a failure
    skip: tuple[str, ...] = ()  # globs of files not to scan at all ([scan] skip in envsync.toml)
    disabled_rules: tuple[str, ...] = ()  # token rules turned off (--disable-rule, [scan] disable_rules)


def parse_size(text: str) -> int:
    """`5MB`, `512k`, `1g` or a byte count -> bytes (units are powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", text.lower())
    if not found:
        raise InputError(f"--max-size {text!r}: use a size such as 5MB, 512k or 1000000")
    number, unit = found.groups()
    size = int(float(number) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[unit])
    if size < MIN_MAX_SIZE:
        raise InputError(f"--max-size {text!r}: must be at least 1k (1024 bytes)")
    return size
