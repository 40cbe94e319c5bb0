"""The leak guard's committed settings: envsync.toml's [scan] table and a team's .gitleaks.toml rules."""
from __future__ import annotations

import secrets
import string

from tests.scan_test import findings_of, git, init_repo, scan_json

CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'
GITLEAKS = r"""
title = "team rules"

[[rules]]
id = "internal-token"
description = "Acme internal service token"
regex = '''(?i)\b(itk_[a-z0-9]{24})\b'''
keywords = ["itk_"]
entropy = 3.0
[[rules.allowlists]]
stopwords = ["itk_sandbox"]
paths = ['''^docs/''']

[[rules]]
id = "no-keywords"
regex = '''zz[0-9]{30}'''

[allowlist]
paths = ['''^fixtures/''']
"""


def _token() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def test_scan_table_allows_env_files_and_skips_paths(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text(CONFIG + '\n[scan]\nallow_env_files = ["fixtures/*.env"]\nskip = ["vendor/*"]\n')
    for name, text in (("fixtures/test.env", "FAKE=1\n"), ("vendor/lib/token.js", f"t = 'ghp_{_token()}{_token()[:12]}'\n"),
                       ("other.env", "X=1\n")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("other.env", None, "env-file", None)}
    assert report["scanned"] == 1  # the allowed fixtures/test.env; vendor/ is not read at all, other.env is refused


def test_scan_table_is_validated(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text(CONFIG + '\n[scan]\nskips = ["vendor/*"]\n')
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and "scan: unknown key 'skips' (did you mean 'skip'?)" in result.stderr
    (repo / "envsync.toml").write_text(CONFIG + '\n[scan]\nrules = "team.toml"\n')
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and "scan.rules: must be a list" in result.stderr and "Traceback" not in result.output


def test_gitleaks_rules_are_extra_rules(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text(GITLEAKS)
    for name, text in (("app.py", f"TOKEN = 'itk_{_token()}'\n"), ("sandbox.py", "t = 'itk_sandbox0123456789abcdefg'\n"),
                       ("docs/howto.md", f"itk_{_token()}\n"), ("fixtures/gh.txt", f"ghp_{_token()}{_token()[:12]}\n")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", name)
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 1, result.output
    assert "app.py:1:10: internal-token: Acme internal service token" in result.stdout
    assert "no-keywords" in result.stderr and "add some" in result.stderr  # left out, with a warning
    report = scan_json(run_envsync, repo, "--staged", code=1)
    # the stopword, the rule's path allowlist and the global allowlist (for every token rule) apply
    assert findings_of(report) == {("app.py", 1, "internal-token", None)}
    sarif = run_envsync("scan", "--staged", "--format", "sarif", cwd=repo)
    assert '"id": "internal-token"' in sarif.stdout


def test_gitleaks_config_can_be_off_or_elsewhere(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "ci").mkdir()
    (repo / "ci" / "team.toml").write_text(GITLEAKS)
    (repo / ".gitleaks.toml").write_text(GITLEAKS.replace("itk_", "otk_"))
    (repo / "envsync.toml").write_text(CONFIG + '\n[scan]\nrules = ["ci/team.toml"]\ngitleaks = false\n')
    (repo / "app.py").write_text(f"a = 'itk_{_token()}'\nb = 'otk_{_token()}'\n")
    git(repo, "add", "app.py")
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {("app.py", 1, "internal-token", None)}


def test_unreadable_gitleaks_regex_is_an_input_error(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text("[[rules]]\nid = 'posix'\nregex = '''[[:alnum:]]{3}(?P<'''\nkeywords = ['x']\n")
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and ".gitleaks.toml rules[0] (posix): regex not readable" in result.stderr
    assert "Traceback" not in result.output
