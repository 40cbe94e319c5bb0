"""envsync.scan.baseline: reviewed findings, recorded without their values."""
from __future__ import annotations

import hashlib
import json

import pytest

from tests.scan.repos import commit_all, findings_of, git, init_repo, scan_json
from tests.scan.tokens import TOKENS


def test_baseline_allows_reviewed_findings_and_holds_no_value(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("demo")
    token = TOKENS["github-token"]()[0]
    (repo / ".env").write_text(f"DEMO_TOKEN={value}\n")
    (repo / "docs.md").write_text(f"intro\nuse {value} for the demo\n")
    (repo / "ci.yml").write_text(f"token: {token}\n")
    commit_all(repo)
    assert run_envsync("scan", "--all", cwd=repo).code == 1
    result = run_envsync("scan", "--all", "--update-baseline", cwd=repo)
    assert result.code == 0, result.output
    baseline = repo / ".envsync-baseline.json"
    text = baseline.read_text()
    data = json.loads(text)
    assert data["version"] == 1 and "about" in data
    assert [(e["file"], e["line"], e["rule"], e["key"]) for e in data["findings"]] == [
        ("ci.yml", 1, "github-token", None), ("docs.md", 2, "env-value", "DEMO_TOKEN")]
    assert [list(e) for e in data["findings"]] == [["file", "line", "rule", "key", "fingerprint"]] * 2
    for secret_text in (value, token):
        assert secret_text not in text
        for digest in (hashlib.sha1, hashlib.sha256, hashlib.md5, hashlib.sha512):
            assert digest(secret_text.encode()).hexdigest()[:16] not in text
    assert run_envsync("scan", "--all", cwd=repo).code == 0
    # Stable: a second update writes the same bytes.
    assert run_envsync("scan", "--all", "--update-baseline", cwd=repo).code == 0
    assert baseline.read_text() == text
    # Matching ignores the line number: moving the line keeps it allowed...
    (repo / "docs.md").write_text(f"new first line\nintro\nuse {value} for the demo\n")
    git(repo, "add", "docs.md")
    report = scan_json(run_envsync, repo, "--staged", code=0)
    assert [(f["file"], f["allowed_by"]) for f in report["allowed"]] == [("docs.md", "baseline")]
    # ...but the same value in another place is a new finding.
    (repo / "README.md").write_text(f"token {value}\n")
    git(repo, "add", "README.md")
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {("README.md", 1, "env-value", "DEMO_TOKEN")}
    # A staged-only update keeps the other files' entries.
    assert run_envsync("scan", "--staged", "--update-baseline", cwd=repo).code == 0
    files = [e["file"] for e in json.loads(baseline.read_text())["findings"]]
    assert files == ["README.md", "ci.yml", "docs.md"]


@pytest.mark.parametrize("content", ["not json", '{"version": 2, "findings": []}', '{"version": 1, "findings": [{"file": 1}]}'])
def test_bad_baseline_is_an_input_error(run_envsync, tmp_path, content):
    repo = init_repo(tmp_path / "repo")
    (repo / ".envsync-baseline.json").write_text(content)
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and ".envsync-baseline.json" in result.stderr, result.output
