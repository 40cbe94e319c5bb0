"""envsync.scan.settings: sizes, and envsync.toml's [scan] table."""
from __future__ import annotations

import pytest

from envsync.scan.settings import parse_size
from tests.scan.repos import FILE_STORE_CONFIG, findings_of, git, init_repo, scan_json
from tests.scan.tokens import LOWER_ALNUM, random_text


def test_parse_size():
    assert parse_size("5MB") == 5 * 1024 * 1024
    assert parse_size("512k") == 512 * 1024
    assert parse_size("1024") == 1024
    for text in ("five", "1000", "0"):  # below 1 KiB the pieces of a big file would be mostly overlap
        with pytest.raises(Exception):
            parse_size(text)


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


def test_scan_table_allows_env_files_and_skips_paths(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + '\n[scan]\nallow_env_files = ["fixtures/*.env"]\nskip = ["vendor/*"]\n')
    for name, text in (("fixtures/test.env", "FAKE=1\n"), ("vendor/lib/token.js", f"t = 'ghp_{random_text(LOWER_ALNUM, 24)}{random_text(LOWER_ALNUM, 24)[:12]}'\n"),
                       ("other.env", "X=1\n")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("other.env", None, "env-file", None)}
    assert report["scanned"] == 1  # the allowed fixtures/test.env; vendor/ is not read at all, other.env is refused


def test_scan_table_is_validated(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + '\n[scan]\nskips = ["vendor/*"]\n')
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and "scan: unknown key 'skips' (did you mean 'skip'?)" in result.stderr
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + '\n[scan]\nrules = "team.toml"\n')
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and "scan.rules: must be a list" in result.stderr and "Traceback" not in result.output


def test_rules_turned_off_by_flag_or_scan_table(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "hosts.txt").write_text("upstream 52.94.76.10\nkey = 'c3VwZXIgbG9uZyBzdHJpbmcgc2hvdWxkIGNhdXNlIGVub3VnaCBlbnRyb3B5'\n")
    git(repo, "add", "hosts.txt")
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {
        ("hosts.txt", 1, "public-ip", None), ("hosts.txt", 2, "high-entropy-string", None)}
    report = scan_json(run_envsync, repo, "--staged", "--disable-rule", "public-ip", code=1)
    assert findings_of(report) == {("hosts.txt", 2, "high-entropy-string", None)}
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + '\n[scan]\ndisable_rules = ["high-entropy-string"]\n')
    report = scan_json(run_envsync, repo, "--staged", "--disable-rule", "public-ip", code=0)
    assert findings_of(report) == set()


@pytest.mark.parametrize("args, table", [(["--disable-rule", "public_ip"], ""), ([], 'disable_rules = ["public_ip"]')])
def test_a_rule_id_that_names_no_rule_is_refused(run_envsync, tmp_path, args, table):
    """A typo in a rule id would otherwise turn nothing off, silently."""
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + f"\n[scan]\n{table}\n")
    result = run_envsync("scan", "--staged", *args, cwd=repo)
    assert result.code == 2 and "no token rule 'public_ip'" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_rule_id_is_a_usage_error(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    result = run_envsync("scan", "--staged", "--disable-rule", " ", cwd=repo)
    assert result.code == 2 and "--disable-rule: give a rule id" in result.stderr and "Traceback" not in result.output
