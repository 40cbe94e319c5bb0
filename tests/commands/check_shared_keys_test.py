"""`check` with a committed cross-target expectation: `shares_keys_with` / `may_lack` in
envsync.toml. File stores in both layouts and AWS (moto); every value comes from `secret`,
so each run's output is checked for leaks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.aws_server import store_uri
from tests.commands.helpers import aws_env, fill, write_config

LAYOUTS = ["bundle", "per-key"]
EXPECTATION = 'shares_keys_with = ["staging"]\nmay_lack = ["DEBUG_TOOLBAR"]\n'


def declare(folder: Path, target: str, lines: str) -> None:
    """Add `lines` to target's table in the envsync.toml written by `write_config`."""
    config = folder / "envsync.toml"
    config.write_text(config.read_text().replace(f"[targets.{target}]\n", f"[targets.{target}]\n{lines}"))


@pytest.fixture(params=LAYOUTS)
def project(request, tmp_path: Path, run_envsync, secret):
    """prod shares keys with staging: staging has NEW_FLAG prod lacks, prod has OLD_KEY staging lacks,
    and staging's DEBUG_TOOLBAR, which prod may lack."""
    layout = request.param
    write_config(tmp_path, {"staging": f"file://.envsync/staging?layout={layout}",
                            "prod": f"file://.envsync/prod?layout={layout}"})
    declare(tmp_path, "prod", EXPECTATION)
    fill(run_envsync, tmp_path, "staging", {"SHARED": secret("s1"), "NEW_FLAG": secret("flag"),
                                            "DEBUG_TOOLBAR": secret("dbg")})
    fill(run_envsync, tmp_path, "prod", {"SHARED": secret("p1"), "OLD_KEY": secret("old")})
    return tmp_path


def test_check_all_reports_each_missing_shared_key_with_its_fix(run_envsync, project):
    result = run_envsync("check", "--all", cwd=project)
    assert result.code == 1, result.output
    assert "[prod] missing-shared-key: NEW_FLAG is in staging's store but not in prod's" in result.stdout
    assert "run `envsync copy staging prod NEW_FLAG` (or `envsync set prod NEW_FLAG`)" in result.stdout
    assert "[staging] missing-shared-key: OLD_KEY is in prod's store but not in staging's" in result.stdout
    assert "run `envsync copy prod staging OLD_KEY`" in result.stdout
    assert "DEBUG_TOOLBAR" not in result.stdout  # prod may lack it
    assert "SHARED" not in result.stdout  # values differ by design: keys only
    assert "2 drift finding(s)" in result.output


def test_shared_keys_go_through_the_ci_reports(run_envsync, project, leak_watch):
    reports = {name: project / name for name in ("r.json", "j.xml", "cq.json", "s.md")}
    leak_watch.files.extend(reports.values())
    result = run_envsync("check", "--all", "--json", "--report", "r.json", "--junit", "j.xml",
                         "--codequality", "cq.json", "--summary", "s.md", cwd=project)
    assert result.code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {(f["target"], f["key"], f["kind"], f["file"]) for f in findings} == {
        ("prod", "NEW_FLAG", "missing-shared-key", "envsync.toml"),
        ("staging", "OLD_KEY", "missing-shared-key", "envsync.toml")}
    junit = reports["j.xml"].read_text()
    assert junit.count("<failure") == 2 and 'type="missing-shared-key"' in junit
    issues = json.loads(reports["cq.json"].read_text())
    assert [i["check_name"] for i in issues] == ["envsync-missing-shared-key"] * 2
    assert all(i["location"]["path"] == "envsync.toml" for i in issues)
    summary = reports["s.md"].read_text()
    assert "envsync copy staging prod NEW\\_FLAG" in summary and "**2 drift findings.**" in summary


def test_github_annotations_point_at_the_config(run_envsync, project):
    result = run_envsync("check", "--all", cwd=project, env={"GITHUB_ACTIONS": "true"})
    assert result.code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("::error ")]
    assert len(errors) == 2 and all("file=envsync.toml" in line for line in errors)


def test_fixing_as_told_makes_check_clean(run_envsync, project, secret):
    assert run_envsync("copy", "staging", "prod", "NEW_FLAG", "--yes", cwd=project).code == 0
    assert run_envsync("copy", "prod", "staging", "OLD_KEY", "--yes", cwd=project).code == 0
    for name in ("staging", "prod"):  # the local files follow their stores
        assert run_envsync("pull", name, "--yes", cwd=project).code == 0
    result = run_envsync("check", "--all", cwd=project)
    assert result.code == 0, result.output
    assert "No drift." in result.output


def test_one_target_alone_is_not_compared_and_says_so(run_envsync, project):
    result = run_envsync("check", "prod", cwd=project)
    assert result.code == 0, result.output
    assert "prod shares keys with staging, not checked in this run" in result.stderr
    offline = run_envsync("check", "--all", "--offline", cwd=project)
    assert "missing-shared-key" not in offline.output  # offline reads no store


@pytest.mark.parametrize("lines, message", [
    ('shares_keys_with = ["stagin"]\n',
     "targets.prod.shares_keys_with: no target named 'stagin' (did you mean 'staging'?)"),
    ('shares_keys_with = ["prod"]\n', "targets.prod.shares_keys_with: names the target itself"),
    ('shares_keys_with = "staging"\n', "targets.prod.shares_keys_with: must be a list of non-empty strings"),
    ('may_lack = ["1BAD"]\n', "targets.prod.may_lack: '1BAD' is not a valid .env key name"),
    ('may_lack = [3]\n', "targets.prod.may_lack: must be a list of non-empty strings"),
])
def test_bad_expectations_are_one_line_input_errors(run_envsync, tmp_path, lines, message):
    write_config(tmp_path, {"staging": "file://.envsync/staging", "prod": "file://.envsync/prod"})
    declare(tmp_path, "prod", lines)
    result = run_envsync("check", "--all", cwd=tmp_path)
    assert result.code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and f"envsync.toml: {message}" in result.stderr


def test_help_documents_it(run_envsync, tmp_path):
    result = run_envsync("check", "--help", cwd=tmp_path)
    assert "shares_keys_with" in result.stdout and "may_lack" in result.stdout


@pytest.mark.parametrize("layout", LAYOUTS)
def test_aws_store_shares_keys_with_a_file_store(run_envsync, moto_server, tmp_path, secret, layout):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"staging": "file://.envsync/staging",
                            "prod": store_uri(moto_server.endpoint, "app/prod", layout)})
    declare(tmp_path, "prod", EXPECTATION)
    fill(run_envsync, tmp_path, "staging", {"SHARED": secret("s"), "NEW_FLAG": secret("f"),
                                            "DEBUG_TOOLBAR": secret("d")}, env)
    fill(run_envsync, tmp_path, "prod", {"SHARED": secret("p")}, env)
    result = run_envsync("check", "--all", "--json", cwd=tmp_path, env=env)
    assert result.code == 1, result.output
    assert [(f["target"], f["key"]) for f in json.loads(result.stdout)["findings"]] == [("prod", "NEW_FLAG")]
