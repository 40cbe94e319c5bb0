"""Key Vault names and tags: how a .env key becomes a secret name and back (names allow
only letters, digits and `-`, compared case-insensitively), and the tags EnvSync writes."""
from __future__ import annotations

import re

from envsync.model import KEY_PATTERN

NAME_LIMIT = 127
MANAGED_TAG, MANAGED_VALUE = "managed-by", "envsync"
KEY_TAG = "envsync-key"
PREFIX_TAG = "envsync-prefix"
LAYOUT_TAG = "envsync-layout"
VERSION_ID = re.compile(r"[0-9A-Za-z]{1,64}\Z")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_]+\Z")
_ESCAPE = {"_": "--", "-": "-d", ".": "-p"}
_UNESCAPE = {"-": "_", "d": "-", "p": "."}


def key_to_name(key: str) -> str:
    """The Key Vault name part for a .env key (the mapping: `store.py`'s docstring, "per-key")."""
    if _PLAIN_KEY.match(key):
        return key.replace("_", "-")
    return "0" + "".join(_ESCAPE.get(c, c) for c in key)


def name_to_key(part: str) -> str | None:
    """The .env key a name part stands for, or None if it is not one EnvSync would write."""
    if not part:
        return None
    if part[0] == "0":
        out, i = [], 1
        while i < len(part):
            if part[i] == "-":
                decoded = _UNESCAPE.get(part[i + 1:i + 2].lower())
                if decoded is None:
                    return None
                out.append(decoded)
                i += 2
            else:
                out.append(part[i])
                i += 1
        key = "".join(out)
    elif part[0] in "123456789":
        return None  # reserved for EnvSync's own secrets (bundle shards)
    else:
        key = part.replace("-", "_")
    if not KEY_PATTERN.match(key) or key_to_name(key).lower() != part.lower():
        return None
    return key
