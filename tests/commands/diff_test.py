"""`envsync diff A B` through the installed executable: file stores in both layouts, and AWS
(moto) against a file store. Every value comes from `secret`, so each run's output is
checked for leaks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.aws_server import store_uri
from tests.commands.helpers import aws_env, fill, write_config

LAYOUTS = ["bundle", "per-key"]


@pytest.fixture(params=LAYOUTS)
def project(request, tmp_path: Path, run_envsync, secret):
    """staging and prod in file stores of one layout: one key only in each, one differing, one equal."""
    layout = request.param
    write_config(tmp_path, {"staging": f"file://.envsync/staging?layout={layout}",
                            "prod": f"file://.envsync/prod?layout={layout}"})
    shared = secret("shared")
    fill(run_envsync, tmp_path, "staging", {"SHARED": shared, "TOKEN": secret("staging-token"),
                                            "NEW_FLAG": secret("flag")})
    fill(run_envsync, tmp_path, "prod", {"SHARED": shared, "TOKEN": secret("prod-token"),
                                         "OLD_KEY": secret("old")})
    return tmp_path


def test_diff_names_keys_on_each_side_and_differing_values_without_showing_them(run_envsync, project):
    result = run_envsync("diff", "staging", "prod", cwd=project)
    assert result.code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["<", "NEW_FLAG", "only-in-a"] for line in lines), result.stdout
    assert any(line.split()[:3] == [">", "OLD_KEY", "only-in-b"] for line in lines), result.stdout
    assert any(line.split()[:3] == ["~", "TOKEN", "different"] for line in lines), result.stdout
    assert "SHARED" not in result.stdout  # equal keys only with --verbose
    assert "1 only in staging, 1 only in prod, 1 different, 1 equal" in result.stdout
    # each finding says what to run
    assert "run `envsync copy staging prod NEW_FLAG`" in result.stdout
    assert "run `envsync copy prod staging OLD_KEY`" in result.stdout
    assert "run `envsync copy staging prod TOKEN`" in result.stdout
    verbose = run_envsync("diff", "staging", "prod", "-v", cwd=project)
    assert any(line.split()[:3] == ["=", "SHARED", "equal"] for line in verbose.stdout.splitlines())


def test_keys_only_ignores_values_meant_to_differ(run_envsync, project):
    result = run_envsync("diff", "staging", "prod", "--keys-only", "--json", cwd=project)
    assert result.code == 1
    document = json.loads(result.stdout)
    statuses = {k["key"]: k["status"] for k in document["keys"]}
    assert statuses == {"NEW_FLAG": "only-in-a", "OLD_KEY": "only-in-b", "SHARED": "equal", "TOKEN": "equal"}
    assert document["keys_only"] is True
    assert [f["key"] for f in document["findings"]] == ["NEW_FLAG", "OLD_KEY"]


def test_targets_that_agree_exit_0(run_envsync, tmp_path, secret):
    write_config(tmp_path, {"a": "file://.envsync/a", "b": "file://.envsync/b?layout=per-key"})
    values = {"API_KEY": secret("api"), "URL": secret("url")}
    fill(run_envsync, tmp_path, "a", values)
    fill(run_envsync, tmp_path, "b", values)
    result = run_envsync("diff", "a", "b", cwd=tmp_path)
    assert result.code == 0, result.output
    assert "(no drift)" in result.stdout
    document = json.loads(run_envsync("diff", "a", "b", "--json", cwd=tmp_path).stdout)
    assert document["drift"] is False and document["findings"] == []
    length = len(values["API_KEY"])
    assert document["keys"][0] == {"key": "API_KEY", "status": "equal", "a": {"present": True, "length": length},
                                   "b": {"present": True, "length": length}}


def test_json_and_report_files_hold_no_value(run_envsync, project, leak_watch):
    reports = {name: project / name for name in ("r.json", "j.xml", "cq.json", "s.md")}
    leak_watch.files.extend(reports.values())
    result = run_envsync("diff", "staging", "prod", "--json", "--report", "r.json", "--junit", "j.xml",
                         "--codequality", "cq.json", "--summary", "s.md", cwd=project)
    assert result.code == 1, result.output
    assert reports["r.json"].read_text() == result.stdout
    document = json.loads(result.stdout)
    assert document["a"]["target"] == "staging" and document["b"]["target"] == "prod"
    token = next(k for k in document["keys"] if k["key"] == "TOKEN")
    assert token["status"] == "different" and set(token["a"]) == {"present", "length"}
    junit = reports["j.xml"].read_text()
    assert 'name="envsync diff staging vs prod"' in junit and junit.count("<failure") == 3
    issues = json.loads(reports["cq.json"].read_text())
    assert sorted(i["check_name"] for i in issues) == ["envsync-different", "envsync-only-in-a", "envsync-only-in-b"]
    summary = reports["s.md"].read_text()
    assert summary.startswith("## envsync diff") and "**3 drift findings.**" in summary


def test_on_github_both_targets_are_masked_before_anything_else(run_envsync, project, tmp_path):
    step_summary = tmp_path / "step-summary.md"
    result = run_envsync("diff", "staging", "prod", cwd=project,
                         env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step_summary)})
    assert result.code == 1, result.output
    err = result.stderr.splitlines()
    masks = [i for i, line in enumerate(err) if line.startswith("::add-mask::")]
    assert len(masks) == 5  # SHARED once, both TOKENs, NEW_FLAG, OLD_KEY
    assert masks == list(range(5)), "masks come before any other line"
    assert sum(line.startswith("::error ") for line in err) == 3
    assert step_summary.read_text().startswith("## envsync diff")


def test_usage_and_input_errors_exit_2(run_envsync, project):
    same = run_envsync("diff", "prod", "prod", cwd=project)
    assert same.code == 2 and "two different targets" in same.stderr
    unknown = run_envsync("diff", "staging", "qa", cwd=project)
    assert unknown.code == 2 and "no target named 'qa'" in unknown.stderr
    one = run_envsync("diff", "staging", cwd=project)
    assert one.code == 2


def test_a_store_that_cannot_be_read_exits_3_in_one_line(run_envsync, tmp_path, secret):
    write_config(tmp_path, {"a": "file://.envsync/a", "b": "file://.envsync/b"})
    fill(run_envsync, tmp_path, "a", {"K": secret()})
    fill(run_envsync, tmp_path, "b", {"K": secret()})
    (tmp_path / ".envsync/b/bundle/00000002.json").write_text("{broken")
    result = run_envsync("diff", "a", "b", cwd=tmp_path)
    assert result.code == 3, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_help_has_an_example(run_envsync, tmp_path):
    result = run_envsync("diff", "--help", cwd=tmp_path)
    assert result.code == 0
    assert "envsync diff staging prod --keys-only" in result.stdout


@pytest.mark.parametrize("layout", LAYOUTS)
def test_aws_store_against_a_file_store(run_envsync, moto_server, tmp_path, secret, layout):
    env = aws_env(moto_server, tmp_path)
    write_config(tmp_path, {"staging": "file://.envsync/staging",
                            "prod": store_uri(moto_server.endpoint, "app/prod", layout)})
    shared = secret("shared")
    fill(run_envsync, tmp_path, "staging", {"SHARED": shared, "ONLY_STAGING": secret("s")}, env)
    fill(run_envsync, tmp_path, "prod", {"SHARED": shared, "ONLY_PROD": secret("p")}, env)
    result = run_envsync("diff", "staging", "prod", "--json", cwd=tmp_path, env=env)
    assert result.code == 1, result.output
    statuses = {k["key"]: k["status"] for k in json.loads(result.stdout)["keys"]}
    assert statuses == {"ONLY_PROD": "only-in-b", "ONLY_STAGING": "only-in-a", "SHARED": "equal"}
