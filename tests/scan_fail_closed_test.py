"""The leak guard fails closed (issue 13): each case here passed with exit 0 before."""
from __future__ import annotations

import os
import random
import string

import pytest

from envsync import scan
from tests.scan_test import findings_of, git, init_repo, scan_json


def test_unparseable_env_line_keeps_the_other_values_and_is_a_finding(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    good, pasted, unclosed = secret("good"), secret("pasted"), secret("unclosed")
    (repo / ".env").write_text(f"GOOD_TOKEN={good}\n{pasted}/x+y==\nBROKEN=\"{unclosed}\nLAST=ok\n")
    (repo / "app.py").write_text(f"a = '{good}'\nb = '{unclosed}'\nc = '{pasted}/x+y=='\n")
    git(repo, "add", "app.py")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {
        ("app.py", 1, "env-value", "GOOD_TOKEN"), ("app.py", 2, "env-value", "BROKEN"),
        ("app.py", 3, "env-value", "(line 2)"),
        (".env", 2, "env-unparsed", None), (".env", 3, "env-unparsed", None),
    }
    text = run_envsync("scan", "--staged", cwd=repo)  # the secret fixture fails the test if a value shows
    assert ".env:3: env-unparsed: .env line 3 is not KEY=value" in text.stdout


@pytest.mark.parametrize("how", ["staged", "files", "all"])
def test_every_file_a_target_names_is_an_env_file(run_envsync, tmp_path, secret, how):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = "config/dev.secrets"\nstore = "file://.envsync/store"\n')
    (repo / "config").mkdir()
    (repo / "config" / "dev.secrets").write_text(f"DEV_TOKEN={secret('dev')}\n")
    git(repo, "add", "-f", "config/dev.secrets")
    if how == "all":
        git(repo, "commit", "-q", "--no-verify", "-m", "oops")
    args = {"staged": ["--staged"], "files": ["config/dev.secrets"], "all": ["--all"]}[how]
    report = scan_json(run_envsync, repo, *args, code=1)
    assert ("config/dev.secrets", None, "env-file", None) in findings_of(report)


def test_store_files_are_secret_files_without_a_local_env(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://vault/dev"\n')
    for name in (".envsync/store/dev/bundle/00000001.json", "vault/dev/bundle/00000001.json"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text('{"values": {"DEV_TOKEN": "%s"}}\n' % secret("store"))
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert {(f, r) for f, _, r, _ in findings_of(report)} == {
        (".envsync/store/dev/bundle/00000001.json", "env-file"), ("vault/dev/bundle/00000001.json", "env-file")}


def test_ignored_env_files_below_the_root_are_sources(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo", gitignore=".env*\n!.env.example\nnode_modules/\n")
    back, api, vendored = secret("back"), secret("api"), secret("vendored")
    for name, line in (("backend/.env", f"BACK_TOKEN={back}"), ("services/api/.env.local", f"API_TOKEN={api}"),
                       ("node_modules/pkg/.env", f"VENDORED={vendored}")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(line + "\n")
    (repo / "app.py").write_text(f"a = '{back}'\nb = '{api}'\nc = '{vendored}'\n")
    git(repo, "add", "app.py")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    # node_modules/ is ignored as a whole folder and is not entered: its files are not the team's values
    assert findings_of(report) == {("app.py", 1, "env-value", "BACK_TOKEN"), ("app.py", 2, "env-value", "API_TOKEN")}
    assert {"backend/.env", "services/api/.env.local"} <= set(report["values"]["sources"])


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


def test_a_file_that_cannot_be_read_fails_the_run_unless_allowed(run_envsync, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    (folder / "a.txt").write_text("clean\n")
    report = scan_json(run_envsync, folder, ".", code=1)
    assert findings_of(report) == {("pipe", None, "unscanned", None)}
    allowed = scan_json(run_envsync, folder, ".", "--allow-unscanned", code=0)
    assert allowed["skipped"] == [{"file": "pipe", "reason": "not a regular file"}]


def test_pieces_find_a_match_across_a_boundary_once():
    matcher = scan.Matcher([scan.Value("K", "sv-across-0123abcd", ".env")])
    data = b"a\n" * 50 + b"sv-across-0123abcd\n" + b"b" * 100
    found = []
    for text, begin, own, first_line, _ in scan.pieces([data[i:i + 7] for i in range(0, len(data), 7)], 64, 40, 20):
        found += scan.scan_text("f", text, matcher, own, first_line, begin)
    assert [(f.line, f.key) for f in found] == [(51, "K")]


@pytest.mark.parametrize("value", [
    "glpat-abcdefghijklmnopqrst.8rrcrwiji", "QZXWVKJHGFDSAPLMNBTR", "KFJQZVBNMWPXRTLS", "kfjqzvbnmwpxrtls",
    "xkcd-qwrtz-vbnmpl-fgh",
])
def test_random_tokens_are_not_taken_for_words_or_hosts(value):
    assert scan.skip_reason(value) is None


@pytest.mark.parametrize("value, reason", [
    ("db.internal.example.net", "host name"), ("cache-01.prod.svc.cluster.local", "host name"),
    ("api.stripe.com", "host name"), ("PRODUCTION_MODE", "word, name or path"),
    ("westeurope-inventory", "word, name or path"), ("/usr/local/share/inventory", "word, name or path"),
])
def test_real_words_and_hosts_are_still_dropped(value, reason):
    assert scan.skip_reason(value) == reason


def test_random_letters_are_rarely_taken_for_words():
    rng = random.Random(13)
    for length, at_most in ((12, 0.05), (16, 0.015), (20, 0.0)):
        for alphabet in (string.ascii_lowercase, string.ascii_uppercase):
            taken = sum(scan.skip_reason("".join(rng.choice(alphabet) for _ in range(length))) is not None
                        for _ in range(4000))
            assert taken / 4000 <= at_most, (length, taken)
