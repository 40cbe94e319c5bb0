"""envsync.scan.env_lines: a local .env line python-dotenv cannot read."""
from __future__ import annotations

from tests.scan.repos import findings_of, git, init_repo, scan_json


def test_unparsable_env_line_is_a_finding_not_a_crash(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".env").write_text('BROKEN="unterminated\n')
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 1, result.output  # fails closed
    assert ".env:1: env-unparsed: .env line 1 is not KEY=value" in result.stdout and "Traceback" not in result.output


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
