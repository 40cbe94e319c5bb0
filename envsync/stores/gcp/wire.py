"""GCP Secret Manager on the wire: the labels and annotations EnvSync puts on its secrets,
how a value is stored as a payload (and a deletion as a marker), and the crc32c checksum
every payload carries."""
from __future__ import annotations

import re
from typing import Any

MANAGED_LABEL = "managed-by"
MANAGED_VALUE = "envsync"
KEY_ANNOTATION = "envsync-key"
PREFIX_ANNOTATION = "envsync-prefix"
LAYOUT_ANNOTATION = "envsync-layout"
LOCK_ANNOTATION = "envsync-lock"
DELETED_ANNOTATION = "envsync-deleted"
BUNDLE_ANNOTATION = "envsync-bundle"
TOMBSTONE = b"\x00envsync:deleted"
VERSION_ID = re.compile(r"[1-9][0-9]{0,18}\Z")


def encode_value(value: str) -> bytes:
    """A value's payload: its UTF-8 bytes; an empty value (GCP refuses an empty payload)
    is one NUL byte, and a value starting with NUL gets one more NUL in front."""
    data = value.encode("utf-8")
    return b"\x00" + data if not data or data[:1] == b"\x00" else data


def decode_value(data: bytes) -> str | None:
    """The value of a payload; None for EnvSync's deletion marker; UnicodeDecodeError for binary."""
    if data == TOMBSTONE:
        return None
    if data[:1] == b"\x00" and (len(data) == 1 or data[1:2] == b"\x00"):
        data = data[1:]
    return data.decode("utf-8")


def _crc32c_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum Secret Manager uses for payloads."""
    try:
        import google_crc32c  # the C implementation, when installed

        return int(google_crc32c.value(data))
    except ImportError:
        pass
    crc, table = 0xFFFFFFFF, _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def number(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def created(version: Any) -> Any:
    created = version.create_time
    return created if created else None
