"""Findings of the leak guard's code review: each case here failed (or hung) before its fix."""
from __future__ import annotations

import itertools
import secrets
import string

import pytest

from envsync import scan
from envsync.scan import gitleaks_rules, rules
from tests.scan_test import findings_of, git, init_repo, scan_json


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _telegram() -> str:
    return "1" + _random(string.digits, 9) + ":AA" + _random(string.ascii_letters + string.digits, 33)


# -- 1: a piece size that rounds to zero --------------------------------------------------------------------------

@pytest.mark.parametrize("args, env", [
    (["--max-size", "0"], {}), (["--max-size", "1"], {}), (["--max-size", "1023b"], {}),
    ([], {"ENVSYNC_SCAN_MAX_SIZE": "0"}),
])
def test_a_tiny_max_size_is_an_input_error(run_envsync, tmp_path, args, env):
    repo = init_repo(tmp_path / "repo")
    (repo / "setup.ps1").write_bytes("Write-Host 'hi'\r\n".encode("utf-16") * 10)
    git(repo, "add", "setup.ps1")
    result = run_envsync("scan", "--staged", *args, cwd=repo, env=env, timeout=60)
    assert result.code == 2, result.output
    assert "--max-size" in result.stderr and "at least 1k" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("data, size", [("hello\nworld\n".encode("utf-16") * 20, 1), (b"hello\nworld\n" * 20, 0)])
def test_pieces_always_advance(data, size):
    chunks = [data[i:i + 5] for i in range(0, len(data), 5)]
    got = list(itertools.islice(scan.pieces(chunks, size, 4), 10_000))
    assert len(got) < 10_000  # before: the same piece forever
    assert sum(text[begin:own].count("\n") for text, begin, own, _, _ in got) == 40


# -- 2: [scan] skip does not hide a staged .env or store file -----------------------------------------------------

def test_skip_does_not_hide_env_files(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://vendor/store"\n'
                                       '\n[scan]\nskip = ["vendor/*"]\n')
    for name, text in (("vendor/lib/.env", "X=1\n"), ("vendor/store/dev/bundle/00000001.json", '{"values": {}}\n'),
                       ("vendor/lib/token.js", f"t = '{_telegram()}'\n")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("vendor/lib/.env", None, "env-file", None),
                                   ("vendor/store/dev/bundle/00000001.json", None, "env-file", None)}
    assert report["scanned"] == 0  # skip still turns off content scanning (token.js)


# -- 3: big files' pieces keep tokens matched backwards from their keyword -----------------------------------------

GITLEAKS = r"""
[[rules]]
id = "internal-token"
description = "Acme internal service token"
regex = '''acme_ref\s*=\s*'(itk_[a-z0-9]{24})''''
keywords = ["itk_"]
"""


def test_pieces_keep_tokens_matched_backwards(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text(GITLEAKS)
    # The Telegram token's digits end piece 1 (1 KiB), its `:AA` starts piece 2; the gitleaks rule's
    # `acme_ref = '` ends piece 2, its keyword `itk_` starts piece 3.
    first = "x" * 1018 + "\n" + _telegram() + "\n"
    line = "acme_ref = 'itk_" + _random(string.ascii_lowercase + string.digits, 24) + "'\n"
    second = "y" * (2048 - len(first) - 13) + "\n" + line
    assert first.index(":AA") > 1024 > first.index(":AA") - 10 and second.index("itk_") + len(first) == 2048
    (repo / "big.txt").write_text(first + second + ("z" * 99 + "\n") * 300)
    git(repo, "add", "big.txt")
    report = scan_json(run_envsync, repo, "--staged", "--max-size", "1k", code=1)
    assert findings_of(report) == {("big.txt", 2, "telegram-bot-token", None), ("big.txt", 4, "internal-token", None)}
    whole = scan_json(run_envsync, repo, "--staged", code=1)
    assert [(f["line"], f["column"]) for f in whole["findings"]] == \
        [(f["line"], f["column"]) for f in report["findings"]]


# -- 4: text from config or the repo is escaped -------------------------------------------------------------------

def test_gitleaks_rule_id_is_limited(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text('[[rules]]\nid = "evil\\u001b[31mRED\\n::error::spoofed"\n'
                                         "regex = '''itk_[a-z]{8}'''\nkeywords = ['itk_']\n")
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2, result.output
    assert ".gitleaks.toml rules[0]: rule id 'evil\\x1b[31mRED\\n::error::spoofed'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "\x1b" not in result.output


def test_text_output_escapes_names_and_descriptions(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text('[[rules]]\nid = "team"\ndescription = "Team\\n::error::forged\\u001b[2J"\n'
                                         "regex = '''itk_[a-z]{8}'''\nkeywords = ['itk_']\n")
    name = "evil\x1b[31m\n::error::file.txt"
    (repo / name).write_text(f"t = '{_telegram()}'\n")
    (repo / "b.txt").write_text("k = 'itk_qzxwvkjh'\n")
    git(repo, "add", name, "b.txt")
    for fmt in ([], ["--format", "github"]):
        result = run_envsync("scan", "--staged", "-v", *fmt, cwd=repo)
        assert result.code == 1, result.output
        assert "\x1b" not in result.stdout
        assert not any(line.startswith("::error::") for line in result.stdout.splitlines()), result.stdout
    text = run_envsync("scan", "--staged", cwd=repo).stdout
    assert "evil\\x1b[31m\\n::error::file.txt:1:6: telegram-bot-token:" in text
    assert "b.txt:1:6: team: Team\\n::error::forged\\x1b[2J — " in text


# -- 5: one entropy function ---------------------------------------------------------------------------------------

def test_one_entropy_function():
    assert gitleaks_rules._entropy is rules._entropy
