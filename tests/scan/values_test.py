"""envsync.scan.values: which values are looked for, and in which encodings."""
from __future__ import annotations

import base64

import pytest

from envsync.scan.settings import Settings
from envsync.scan.values import base64_needles, encodings, skip_reason, url_password


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"user:", b"\x00\xff"])
@pytest.mark.parametrize("suffix", [b"", b"z", b"yz", b"\n"])
def test_base64_needles_find_a_value_at_any_alignment(prefix, suffix):
    value = "sv-align-0123456789ab"
    needles = base64_needles(value.encode())
    blob = base64.b64encode(prefix + value.encode() + suffix).decode()
    assert any(n in blob for n in needles)
    url_blob = base64.urlsafe_b64encode(prefix + value.encode() + suffix).decode()
    assert any(n in url_blob for n in base64_needles(value.encode(), urlsafe=True))


def test_encodings_of_a_value_with_special_characters():
    value = 'p@ss/word+="é???>>>'
    needles = encodings(value)
    assert needles[value] == "literal"
    assert needles["p%40ss%2Fword%2B%3D%22%C3%A9%3F%3F%3F%3E%3E%3E"] == "url-encoded"
    assert needles["p%40ss/word%2B%3D%22%C3%A9%3F%3F%3F%3E%3E%3E"] == "url-encoded"
    assert needles['p@ss/word+=\\"\\u00e9???>>>'] == "json-escaped"
    assert needles['p@ss\\/word+=\\"é???>>>'] == "json-escaped"
    assert "base64url" in needles.values() and "base64" in needles.values()


@pytest.mark.parametrize("value, reason", [
    ("", "empty"), ("abc123", "shorter than the floor"), ("true", "shorter than the floor"),
    ("disabled", "boolean"), ("86400000", "number"), ("1.25e+10", "number"), ("1.4.2-rc1", "number"),
    ("512MB", "shorter than the floor"), ("300000ms", "number"),
    ("localhost:5432", "local or IP address"), ("10.20.30.40:8080", "local or IP address"), ("[::1]:8080", "local or IP address"),
    ("https://api.example.com/v1/", "URL without credentials"), ("redis://localhost:6379/0", "URL without credentials"),
    ("db.internal.example.net", "host name"), ("ops@example.com", "email address"),
    ("your-api-key-here", "placeholder"), ("${DATABASE_URL}", "placeholder"), ("<paste token>", "placeholder"),
    ("xxxxxxxxxxxx", "placeholder"), ("********", "placeholder"), ("changeme123", "placeholder"),
    ("postgres", "common default password"), ("Password123", "common default password"),
    ("aaaaaaaaab", "too few distinct characters"),
    ("inventory-service", "word, name or path"), ("eu-west-1", "word, name or path"), ("europe-west1", "word, name or path"),
    ("/var/lib/inventory/data", "word, name or path"), ("application/json", "word, name or path"),
    ("PRODUCTION_MODE", "word, name or path"), ("correct horse battery staple", "word, name or path"),
])
def test_values_too_short_or_common_are_skipped(value, reason):
    assert skip_reason(value) == reason


@pytest.mark.parametrize("value", [
    "sv-value-a1b2c3d4e5f6", "hunter22-Xy", "S3cr3t-P@ssw0rd!", "9f86d081884c7d659a2feaa0c55ad015",
    "postgres://app:Sup3rS3cret@db/app", "https://hooks.example.com/T0A1B2C3D/9f8e7d6c5b4a39281706",
    "https://api.example.com/v1?api_key=abc123def", "Correct Horse Battery Staple", "AKIAZ7QW3ERT5YUI2OPL",
])
def test_values_that_look_secret_are_kept(value):
    assert skip_reason(value) is None


def test_floor_and_every_value_are_configurable():
    assert skip_reason("hunter2x", Settings(min_length=12)) == "shorter than the floor"
    assert skip_reason("inventory-service", Settings(every_value=True)) is None
    assert url_password("postgres://app:pw-12345678@db/app") == "pw-12345678"
    assert url_password("https://example.com") is None


@pytest.mark.parametrize("value", [
    "glpat-abcdefghijklmnopqrst.8rrcrwiji", "QZXWVKJHGFDSAPLMNBTR", "KFJQZVBNMWPXRTLS", "kfjqzvbnmwpxrtls",
    "xkcd-qwrtz-vbnmpl-fgh",
])
def test_random_tokens_are_not_taken_for_words_or_hosts(value):
    assert skip_reason(value) is None


@pytest.mark.parametrize("value, reason", [
    ("db.internal.example.net", "host name"), ("cache-01.prod.svc.cluster.local", "host name"),
    ("api.stripe.com", "host name"), ("PRODUCTION_MODE", "word, name or path"),
    ("westeurope-inventory", "word, name or path"), ("/usr/local/share/inventory", "word, name or path"),
])
def test_real_words_and_hosts_are_still_dropped(value, reason):
    assert skip_reason(value) == reason
