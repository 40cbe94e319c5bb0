"""envsync/stores/gcp/wire.py: values as payloads, the deletion marker, CRC-32C."""
from __future__ import annotations

from envsync.stores.gcp.wire import TOMBSTONE, crc32c, decode_value, encode_value


def test_value_codec_round_trips_and_refuses_nothing():
    for value in ["", "\x00", "\x00\x00x", "plain", "é", "\x00envsync:deleted"]:
        assert decode_value(encode_value(value)) == value
    assert encode_value("") == b"\x00" and encode_value("v") == b"v"
    assert decode_value(TOMBSTONE) is None
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
