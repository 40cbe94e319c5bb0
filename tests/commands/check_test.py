"""`envsync check`: drift between schema, file and store without a value shown; on GitHub the
masks, annotations and step summary; the JUnit, code-quality, JSON and Markdown reports."""
from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET

from tests.commands.helpers import GITLAB, MASK, drift_it, github, masks_on_stderr, write_dev_config


def test_check_reports_drift_without_values(run_envsync, tmp_path, secret):
    store = tmp_path / "store"
    write_dev_config(tmp_path, store, schema=".env.example")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\n")
    api = secret("api")
    (tmp_path / ".env").write_text(f"API_KEY={api}\nDEBUG=false\n")
    run_envsync("push", "-y")
    assert run_envsync("check").code == 0

    (tmp_path / ".env").write_text(f"API_KEY={secret('changed')}\nDEBUG=false\nLOCAL_ONLY=1\n")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDEBUG=false\nNEW_KEY=\n")
    result = run_envsync("check", "--json")
    assert result.code == 1
    kinds = {(f["key"], f["kind"]) for f in json.loads(result.stdout)["findings"]}
    assert kinds == {("API_KEY", "value-differs"), ("LOCAL_ONLY", "missing-from-store"),
                     ("NEW_KEY", "missing-from-store")}
    plain = run_envsync("check")
    assert ".env.example:4:" in plain.stdout and ".env:1:" in plain.stdout

    offline = run_envsync("check", "--offline")
    assert offline.code == 1
    assert "NEW_KEY" in offline.stdout and "LOCAL_ONLY" in offline.stdout


def test_check_on_github_masks_annotates_and_summarises(run_envsync, project, secret, tmp_path, leak_watch):
    changed = drift_it(tmp_path, secret)
    result = run_envsync("check", env=github(tmp_path))
    assert result.code == 1, result.output
    masked = masks_on_stderr(leak_watch, result)
    assert set(masked) == {*project.values(), changed}
    assert ("::error file=.env,line=2,title=envsync drift (dev)::API_KEY differs between .env and the store"
            in result.stderr)
    assert "::error file=.env.example,line=4,title=envsync drift (dev)::NEW_KEY is in .env.example" in result.stderr
    summary = (tmp_path / "step-summary.md").read_text()
    assert summary.startswith("Output of an earlier step\n## envsync check\n")
    assert "| `NEW_KEY` | missing-from-store | .env.example:4 |" in summary


def test_check_report_files(run_envsync, project, secret, tmp_path, leak_watch):
    drift_it(tmp_path, secret)
    result = run_envsync("check", "--junit", "junit.xml", "--codequality", "cq.json", "--report", "report.json",
                         "--summary", "summary.md", env=GITLAB)
    assert result.code == 1, result.output
    assert MASK not in result.output and "::error" not in result.output  # not on GitHub
    for name in ("junit.xml", "cq.json", "report.json", "summary.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
        leak_watch.files.append(tmp_path / name)  # checked for values after the test
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    cases = {c.get("name"): [f.get("type") for f in c.iter("failure")] for c in suite.iter("testcase")}
    assert cases == {"API_KEY": ["value-differs"], "DB_URL": [], "NEW_KEY": ["missing-from-store"]}
    issues = json.loads((tmp_path / "cq.json").read_text())
    assert {(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues} == {
        ("envsync-value-differs", ".env", 2), ("envsync-missing-from-store", ".env.example", 4)}
    assert "## envsync check" in (tmp_path / "summary.md").read_text()


def test_clean_check_exits_0_with_passing_tests(run_envsync, project, tmp_path, leak_watch):
    result = run_envsync("check", "--junit", "junit.xml", env=github(tmp_path))
    assert result.code == 0, result.output
    masks_on_stderr(leak_watch, result)
    assert "::error" not in result.output and "No drift." in result.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and {c.get("name") for c in suite.iter("testcase")} == {"API_KEY", "DB_URL"}
    assert "### dev\n\nNo drift." in (tmp_path / "step-summary.md").read_text()
