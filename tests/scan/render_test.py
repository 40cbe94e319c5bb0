"""envsync.scan.render: text, JSON, SARIF, GitHub and GitLab output, escaped."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.scan.repos import git, init_repo, scan_json
from tests.scan.tokens import TOKENS, telegram_token


@pytest.fixture
def leaky_repo(tmp_path: Path, secret) -> Path:
    repo = init_repo(tmp_path / "repo")
    value = secret("api")
    (repo / ".env").write_text(f"API_TOKEN={value}\n")
    (repo / "src").mkdir()
    (repo / "src" / "app, main.py").write_text(f'token = "{value}"\n')  # a comma and a space in the path
    (repo / "b.py").write_text(f"x = 1\nkey = '{TOKENS['aws-access-key-id']()[0]}'\nok = '{value}'  # envsync: allow\n")
    (repo / ".env.local").write_text("X=1\n")
    git(repo, "add", "-f", "src", "b.py", ".env.local")
    return repo


SARIF_SUBSET = {  # the parts of the SARIF 2.1.0 schema GitHub code scanning relies on
    "type": "object", "required": ["version", "runs", "$schema"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"], "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"], "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                    "region": {"type": "object", "required": ["startLine"], "properties": {
                                        "startLine": {"type": "integer", "minimum": 1}}}}}}}}}}}}}}},
}


def test_sarif_output(run_envsync, leaky_repo):
    result = run_envsync("scan", "--staged", "--format", "sarif", cwd=leaky_repo)
    assert result.code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "envsync"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) and {"env-value", "env-file", "aws-access-key-id"} <= set(rule_ids)
    for entry in run["results"]:
        assert rule_ids[entry["ruleIndex"]] == entry["ruleId"]
        assert entry["partialFingerprints"]
    by_rule = {r["ruleId"]: r for r in run["results"] if "suppressions" not in r}
    location = by_rule["env-value"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "src/app%2C%20main.py"
    assert location["region"]["startLine"] == 1
    assert by_rule["aws-access-key-id"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert [r["suppressions"][0]["kind"] for r in run["results"] if "suppressions" in r] == ["inSource"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(sarif, SARIF_SUBSET)


def test_github_and_gitlab_output(run_envsync, leaky_repo):
    result = run_envsync("scan", "--staged", "--format", "github", cwd=leaky_repo)
    assert result.code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    pattern = re.compile(r"::error file=[^,:]+(,line=\d+,col=\d+)?,title=envsync [a-z0-9-]+::.+")
    assert len(annotations) == 3 and all(pattern.fullmatch(a) for a in annotations), annotations
    assert "file=src/app%2C main.py,line=1,col=10" in result.stdout
    assert "::error file=.env.local,title=envsync env-file::" in result.stdout
    result = run_envsync("scan", "--staged", "--format", "gitlab", cwd=leaky_repo)
    issues = json.loads(result.stdout)
    assert len(issues) == 3 and len({i["fingerprint"] for i in issues}) == 3
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"] and issue["location"]["lines"]["begin"] >= 1


def test_json_output_shape(run_envsync, leaky_repo):
    report = scan_json(run_envsync, leaky_repo, "--staged", code=1)
    assert report["clean"] is False and report["mode"] == "staged"
    finding = next(f for f in report["findings"] if f["rule"] == "env-value")
    assert finding == {"file": "src/app, main.py", "line": 1, "column": 10, "rule": "env-value", "key": "API_TOKEN",
                       "source": ".env", "encoding": "literal", "message": "value of API_TOKEN from .env",
                       "fingerprint": finding["fingerprint"]}
    assert re.fullmatch(r"[0-9a-f]{32}", finding["fingerprint"])


def test_text_output_escapes_names_and_descriptions(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".gitleaks.toml").write_text('[[rules]]\nid = "team"\ndescription = "Team\\n::error::forged\\u001b[2J"\n'
                                         "regex = '''itk_[a-z]{8}'''\nkeywords = ['itk_']\n")
    name = "evil\x1b[31m\n::error::file.txt"
    (repo / name).write_text(f"t = '{telegram_token()}'\n")
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
