"""envsync.scan.gitleaks_rules: a team's .gitleaks.toml rules as extra rules."""
from __future__ import annotations

from envsync.scan import gitleaks_rules, rules
from tests.scan.repos import FILE_STORE_CONFIG, findings_of, git, init_repo, scan_json
from tests.scan.tokens import LOWER_ALNUM, random_text


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


def test_gitleaks_rules_are_extra_rules(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text(GITLEAKS)
    for name, text in (("app.py", f"TOKEN = 'itk_{random_text(LOWER_ALNUM, 24)}'\n"), ("sandbox.py", "t = 'itk_sandbox0123456789abcdefg'\n"),
                       ("docs/howto.md", f"itk_{random_text(LOWER_ALNUM, 24)}\n"), ("fixtures/gh.txt", f"ghp_{random_text(LOWER_ALNUM, 24)}{random_text(LOWER_ALNUM, 24)[:12]}\n")):
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
    (repo / "envsync.toml").write_text(FILE_STORE_CONFIG + '\n[scan]\nrules = ["ci/team.toml"]\ngitleaks = false\n')
    (repo / "app.py").write_text(f"a = 'itk_{random_text(LOWER_ALNUM, 24)}'\nb = 'otk_{random_text(LOWER_ALNUM, 24)}'\n")
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


def test_one_entropy_function():
    assert gitleaks_rules.shannon_entropy is rules.shannon_entropy
