"""envsync.scan.content: binary, UTF-16, non-UTF-8 and big files, read in pieces."""
from __future__ import annotations

import itertools
import string

import pytest

from envsync.scan.content import pieces
from envsync.scan.matcher import Matcher, scan_text
from envsync.scan.values import Value
from tests.scan.repos import findings_of, git, init_repo, scan_json
from tests.scan.tokens import random_text, telegram_token


def test_binary_huge_and_non_utf8_files(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("odd")
    (repo / ".env").write_text(f"ODD_TOKEN={value}\nACCENT_SECRET=sv-{value[3:]}-café\n")
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + value.encode() + b"\x00" * 10)
    (repo / "big.log").write_bytes(b"x" * 3000 + value.encode() + b"\n")
    (repo / "legacy.txt").write_bytes(b"caf\xe9 cr\xe8me\n" + value.encode() + b"\n" + f"sv-{value[3:]}-café".encode("latin-1") + b"\n")
    (repo / "crlf.txt").write_bytes(b"a\r\nb\r\n" + value.encode() + b"\r\n")
    git(repo, "add", "image.png", "big.log", "legacy.txt", "crlf.txt")
    report = scan_json(run_envsync, repo, "--staged", "--max-size", "2k", code=1)
    # Nothing is skipped any more (issue 13): binary content is searched as bytes, big files in pieces.
    assert findings_of(report) == {("legacy.txt", 2, "env-value", "ODD_TOKEN"), ("legacy.txt", 3, "env-value", "ACCENT_SECRET"),
                                   ("crlf.txt", 3, "env-value", "ODD_TOKEN"), ("image.png", 3, "env-value", "ODD_TOKEN"),
                                   ("big.log", 1, "env-value", "ODD_TOKEN")}
    assert report["skipped"] == []
    assert sorted(report["notes"]) == ["big.log: larger than 2 kB; scanned in 1 piece",
                                       "image.png: binary; searched as bytes",
                                       "legacy.txt: not valid UTF-8; scanned as latin-1"]
    assert report["scanned"] == 4
    # The default piece size (5 MB) reads the log whole.
    assert ("big.log", 1, "env-value", "ODD_TOKEN") in findings_of(scan_json(run_envsync, repo, "--staged"))


def test_utf16_binary_and_big_files_are_scanned(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("odd")
    (repo / ".env").write_text(f"ODD_TOKEN={value}\nACCENT_SECRET=sv-{value[3:]}-café\n")
    (repo / "setup.ps1").write_bytes(f"Write-Host 'hi'\r\n$t = '{value}'\r\n".encode("utf-16"))
    (repo / "nobom.reg").write_bytes(f"[HKEY]\n\"k\"=\"{value}\"\n".encode("utf-16-le"))
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + f"sv-{value[3:]}-café".encode() + b"\x00" * 10)
    (repo / "big.log").write_bytes(b"x" * 3000 + b"\n" * 2 + b"y" * 20040 + value.encode() + b"\n" + b"z" * 20000)
    git(repo, "add", "setup.ps1", "nobom.reg", "image.png", "big.log")
    report = scan_json(run_envsync, repo, "--staged", "--max-size", "2k", code=1)
    assert {(f, line, r, k) for f, line, r, k in findings_of(report)} == {
        ("setup.ps1", 2, "env-value", "ODD_TOKEN"), ("nobom.reg", 2, "env-value", "ODD_TOKEN"),
        ("image.png", 3, "env-value", "ACCENT_SECRET"), ("big.log", 3, "env-value", "ODD_TOKEN")}
    assert report["skipped"] == [] and report["scanned"] == 4
    # The same through `--all` (files from the working tree, streamed)
    git(repo, "commit", "-q", "--no-verify", "-m", "x")
    assert findings_of(scan_json(run_envsync, repo, "--all", "--max-size", "2k", code=1)) == findings_of(report)


def test_pieces_find_a_match_across_a_boundary_once():
    matcher = Matcher([Value("K", "sv-across-0123abcd", ".env")])
    data = b"a\n" * 50 + b"sv-across-0123abcd\n" + b"b" * 100
    found = []
    for text, begin, own, first_line, _ in pieces([data[i:i + 7] for i in range(0, len(data), 7)], 64, 40, 20):
        found += scan_text("f", text, matcher, own, first_line, begin)
    assert [(f.line, f.key) for f in found] == [(51, "K")]


def test_pieces_find_what_rules_without_keywords_search_for_once():
    """A public address, a random string in quotes and a Discord token (found from its middle part's
    dots, back to its leftmost possible start: `MZMZ…` could start at either M) each found once
    wherever a piece boundary falls across them."""
    line = 'x = 52.94.76.10, "9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTl", ' \
        "MZMZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC\n"
    expected = sorted((number, rule) for number in (2, 4, 6) for rule in ("public-ip", "high-entropy-string", "discord-bot-token"))
    for shift in range(64):  # every offset of the boundary (pieces of 64 characters)
        data = (b"a" * (200 + shift) + b"\n" + line.encode()) * 3
        found = []
        for text, begin, own, first_line, _ in pieces([data[i:i + 7] for i in range(0, len(data), 7)], 64, 300, 100):
            found += scan_text("f", text, Matcher([]), own, first_line, begin)
        assert sorted((f.line, f.rule) for f in found) == expected, shift
        assert {f.column for f in found if f.rule == "discord-bot-token"} == {line.index("MZMZ") + 1}, shift


@pytest.mark.parametrize("data, size", [("hello\nworld\n".encode("utf-16") * 20, 1), (b"hello\nworld\n" * 20, 0)])
def test_pieces_always_advance(data, size):
    chunks = [data[i:i + 5] for i in range(0, len(data), 5)]
    got = list(itertools.islice(pieces(chunks, size, 4), 10_000))
    assert len(got) < 10_000  # before: the same piece forever
    assert sum(text[begin:own].count("\n") for text, begin, own, _, _ in got) == 40


BACKWARD_RULE = r"""
[[rules]]
id = "internal-token"
description = "Acme internal service token"
regex = '''acme_ref\s*=\s*'(itk_[a-z0-9]{24})''''
keywords = ["itk_"]
"""


def test_pieces_keep_tokens_matched_backwards(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text(BACKWARD_RULE)
    # The Telegram token's digits end piece 1 (1 KiB), its `:AA` starts piece 2; the gitleaks rule's
    # `acme_ref = '` ends piece 2, its keyword `itk_` starts piece 3.
    first = "x" * 1018 + "\n" + telegram_token() + "\n"
    line = "acme_ref = 'itk_" + random_text(string.ascii_lowercase + string.digits, 24) + "'\n"
    second = "y" * (2048 - len(first) - 13) + "\n" + line
    assert first.index(":AA") > 1024 > first.index(":AA") - 10 and second.index("itk_") + len(first) == 2048
    (repo / "big.txt").write_text(first + second + ("z" * 99 + "\n") * 300)
    git(repo, "add", "big.txt")
    report = scan_json(run_envsync, repo, "--staged", "--max-size", "1k", code=1)
    assert findings_of(report) == {("big.txt", 2, "telegram-bot-token", None), ("big.txt", 4, "internal-token", None)}
    whole = scan_json(run_envsync, repo, "--staged", code=1)
    assert [(f["line"], f["column"]) for f in whole["findings"]] == \
        [(f["line"], f["column"]) for f in report["findings"]]
