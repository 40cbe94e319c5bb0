"""Reporting in CI, end to end through the installed `envsync` executable on the
file store, with the environment of a GitHub Actions step or a GitLab job.

On GitHub, `::add-mask::VALUE` lines carry values by design (that is how the
runner learns what to hide). They go to stderr, which the runner parses for
workflow commands too, so stdout never holds a value; `masks_on_stderr` checks
that no other line of stderr holds one either.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.ci_report_test import parse_github_env
from tests.conftest import ENVSYNC, without_masks
from tests.cli_test import write_config
from tests.tty_test import run_in_terminal

MASK = "::add-mask::"


def github(tmp_path: Path, **extra: str) -> dict[str, str]:
    summary = tmp_path / "step-summary.md"
    if not summary.exists():
        summary.write_text("Output of an earlier step\n")
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), **extra}


GITLAB = {"GITLAB_CI": "true"}
LOCAL = {"ENVSYNC_CI": "local"}


def only_masks_reveal(text: str, values) -> None:
    for line in text.splitlines():
        if not line.startswith(MASK):
            assert not any(v in line for v in values), "a value outside an ::add-mask:: line"


def masks_on_stderr(leak_watch, result) -> list[str]:
    """The masks (first on stderr); the rest of stderr is watched for values as usual."""
    masked = masks_first(result.stderr)
    only_masks_reveal(result.stderr, leak_watch.values)
    leak_watch.outputs = [(where, text) for where, text in leak_watch.outputs if text is not result.stderr]
    rest = "\n".join(line for line in result.stderr.splitlines() if not line.startswith(MASK))
    leak_watch.outputs.append(("stderr apart from its ::add-mask:: lines", rest))
    assert MASK not in result.stdout
    return masked


def masks_first(stdout: str) -> list[str]:
    """The leading ::add-mask:: lines; asserts none comes after other output."""
    lines = stdout.splitlines()
    count = next((i for i, line in enumerate(lines) if not line.startswith(MASK)), len(lines))
    assert not any(line.startswith(MASK) for line in lines[count:]), "a mask after other output"
    return [line[len(MASK):] for line in lines[:count]]


@pytest.fixture
def project(tmp_path, run_envsync, secret):
    """A target with a schema, pushed once; returns the values in the store."""
    write_config(tmp_path, tmp_path / "store", schema=".env.example")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDB_URL=\n")
    values = {"API_KEY": secret("api"), "DB_URL": secret("db")}
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    assert run_envsync("push", "-y", env=LOCAL).code == 0
    return values


def drift_it(tmp_path: Path, secret) -> str:
    """Change API_KEY locally (now on line 2) and add a schema key the store lacks (line 4)."""
    changed = secret("changed")
    db_line = (tmp_path / ".env").read_text().splitlines()[1]
    (tmp_path / ".env").write_text(f"{db_line}\nAPI_KEY={changed}\n")
    (tmp_path / ".env.example").write_text("# required\nAPI_KEY=\nDB_URL=\nNEW_KEY=\n")
    return changed


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


def test_report_file_equals_json_output(run_envsync, project, secret, tmp_path, leak_watch):
    drift_it(tmp_path, secret)
    result = run_envsync("check", "--json", "--report", "report.json", env=github(tmp_path))
    assert result.code == 1
    # stdout is the document; the masks went to stderr (the runner parses both).
    assert result.stdout == (tmp_path / "report.json").read_text()
    assert json.loads(result.stdout)["drift"] is True
    assert MASK not in result.stdout and result.stderr.startswith(MASK)
    masks_on_stderr(leak_watch, result)

    plan = run_envsync("plan", "--json", "--report", "plan.json", env=LOCAL)
    assert plan.stdout == (tmp_path / "plan.json").read_text()
    assert json.loads(plan.stdout)["targets"][0]["target"] == "dev"


def test_clean_check_exits_0_with_passing_tests(run_envsync, project, tmp_path, leak_watch):
    result = run_envsync("check", "--junit", "junit.xml", env=github(tmp_path))
    assert result.code == 0, result.output
    masks_on_stderr(leak_watch, result)
    assert "::error" not in result.output and "No drift." in result.stdout
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite.get("failures") == "0" and {c.get("name") for c in suite.iter("testcase")} == {"API_KEY", "DB_URL"}
    assert "### dev\n\nNo drift." in (tmp_path / "step-summary.md").read_text()


def test_nothing_ci_specific_is_printed_locally(run_envsync, project, secret, tmp_path):
    drift_it(tmp_path, secret)
    summary = tmp_path / "step-summary.md"
    result = run_envsync("check", env={"GITHUB_STEP_SUMMARY": str(summary), "ENVSYNC_CI": "local"})
    assert result.code == 1
    assert "::" not in result.output and not summary.exists()


def test_plan_and_push_on_github(run_envsync, project, secret, tmp_path, leak_watch):
    added = secret("added")
    (tmp_path / ".env").write_text((tmp_path / ".env").read_text() + f"ADDED={added}\n")
    plan = run_envsync("plan", "--junit", "plan.xml", env=github(tmp_path))
    assert plan.code == 1, plan.output
    assert set(masks_on_stderr(leak_watch, plan)) == {*project.values(), added}
    assert "::warning file=.env,line=3,title=envsync drift (dev)::ADDED: push-add pending" in plan.stderr
    failures = [f.get("type") for f in ET.parse(tmp_path / "plan.xml").getroot().iter("failure")]
    assert failures == ["push-add"]

    push = run_envsync("push", "-y", "--summary", "push.md", env=github(tmp_path))
    assert push.code == 0, push.output
    masks_on_stderr(leak_watch, push)
    assert "::warning" not in push.output and "::error" not in push.output
    text = (tmp_path / "push.md").read_text()
    assert "## envsync push" in text and "applied: pushed 1, pulled 0" in text
    assert "| `ADDED` | push-add | " in text
    assert (tmp_path / "step-summary.md").read_text().count("## envsync") == 2  # plan, then push


def test_sync_conflict_is_annotated_and_fails(run_envsync, tmp_path, secret, leak_watch):
    store = tmp_path / "store"
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for folder in (alice, bob):
        folder.mkdir()
        write_config(folder, store)
    (alice / ".env").write_text(f"URL={secret('base')}\n")
    run_envsync("push", "-y", cwd=alice, env=LOCAL)
    run_envsync("pull", "-y", cwd=bob, env=LOCAL)
    (bob / ".env").write_text(f"URL={secret('bob')}\n")
    run_envsync("push", "-y", cwd=bob, env=LOCAL)
    (alice / ".env").write_text(f"# mine\nURL={secret('alice')}\n")
    result = run_envsync("sync", "-y", "--codequality", "cq.json", cwd=alice, env=github(tmp_path))
    assert result.code == 1, result.output
    assert len(masks_on_stderr(leak_watch, result)) == 3  # local, store, and the base read back from history
    assert "::error file=.env,line=2,title=envsync conflict (dev)::URL: changed on both sides" in result.stderr
    (issue,) = json.loads((alice / "cq.json").read_text())
    assert issue["severity"] == "critical" and issue["location"] == {"path": ".env", "lines": {"begin": 2}}
    assert "**not applied: conflicts**" in (tmp_path / "step-summary.md").read_text()


# -- export and run ------------------------------------------------------------------------


def test_export_github_env_masks_and_appends(run_envsync, tmp_path, secret, leak_watch):
    write_config(tmp_path, tmp_path / "store")
    one, two = secret("one"), secret("two")
    values = {"PLAIN": secret("plain"), "CERT": f"{one}\n{two}", "FLAG": "on"}
    (tmp_path / ".env").write_text(f'PLAIN={values["PLAIN"]}\nCERT="{one}\n{two}"\nFLAG=on\n')
    run_envsync("push", "-y", env=LOCAL)
    github_env = tmp_path / "github-env"
    github_env.write_text("EARLIER=1\n")
    result = run_envsync("export", "-f", "github-env", env=github(tmp_path, GITHUB_ENV=str(github_env)))
    assert result.code == 0, result.output
    masked = masks_on_stderr(leak_watch, result)
    assert set(masked) == {values["PLAIN"], f"{one}%0A{two}", one, two}  # "on" is too short to mask
    assert result.stdout == ""
    assert "Appended 3 values to $GITHUB_ENV" in result.stderr
    text = github_env.read_text()
    assert text.startswith("EARLIER=1\n")
    assert parse_github_env(text[len("EARLIER=1\n"):]) == values

    to_file = run_envsync("export", "-f", "github-env", "-o", "env.out", env=LOCAL)
    assert to_file.code == 0 and MASK not in to_file.output
    assert parse_github_env((tmp_path / "env.out").read_text()) == values
    assert stat.S_IMODE((tmp_path / "env.out").stat().st_mode) == 0o600


def test_export_github_env_needs_somewhere_to_go(run_envsync, tmp_path, secret):
    write_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"A={secret()}\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("export", "-f", "github-env", env=LOCAL)
    assert result.code == 2 and "$GITHUB_ENV" in result.stderr and "--output FILE" in result.stderr


def test_export_gitlab_dotenv(run_envsync, tmp_path, secret):
    write_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"TOKEN={value}\nMODE=ci\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("export", "-f", "gitlab-dotenv", "-o", "deploy.env", env=GITLAB)
    assert result.code == 0, result.output
    assert (tmp_path / "deploy.env").read_text() == f"MODE=ci\nTOKEN={value}\n"
    assert stat.S_IMODE((tmp_path / "deploy.env").stat().st_mode) == 0o600

    (tmp_path / ".env").write_text(f'TOKEN={value}\nCERT="{secret("a")}\n{secret("b")}"\n')
    run_envsync("push", "-y", env=LOCAL)
    refused = run_envsync("export", "-f", "gitlab-dotenv", "-o", "deploy2.env", env=GITLAB)
    assert refused.code == 2 and "CERT" in refused.stderr and "several lines" in refused.stderr
    assert not (tmp_path / "deploy2.env").exists()


def test_export_gitlab_dotenv_refuses_a_terminal(tmp_path, secret, run_envsync, leak_watch):
    write_config(tmp_path, tmp_path / "store")
    (tmp_path / ".env").write_text(f"TOKEN={secret()}\n")
    run_envsync("push", "-y", env=LOCAL)
    code, screen = run_in_terminal(["export", "-f", "gitlab-dotenv"], tmp_path, extra_env=LOCAL)
    leak_watch.check("terminal", screen)
    assert code == 2 and "refusing to print secret values to a terminal" in screen


def test_export_to_stdout_on_github(run_envsync, tmp_path, secret, leak_watch):
    """Into the job log only with --reveal (the masks on stderr may be read after the values
    on stdout); to a file or with --reveal, stdout is the document and the masks go first."""
    write_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"A={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    refused = run_envsync("export", "-f", "json", env=github(tmp_path))
    assert refused.code == 2 and "into the job log" in refused.stderr
    result = run_envsync("export", "-f", "json", "--reveal", env=github(tmp_path), reveals=True)
    assert json.loads(result.stdout) == {"A": value}
    assert masks_on_stderr(leak_watch, result) == [value]


@pytest.mark.parametrize("where", ["github", "gitlab"])
def test_export_refuses_the_job_log_but_not_a_file(run_envsync, tmp_path, secret, leak_watch, where):
    """On GitLab as on GitHub: stdout that is not a regular file is the job log."""
    write_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"A={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    env = github(tmp_path) if where == "github" else GITLAB
    for fmt in ("dotenv", "json", "gitlab-dotenv"):
        refused = run_envsync("export", "-f", fmt, env=env)
        assert refused.code == 2 and "into the job log" in refused.stderr, refused.output
        assert refused.stdout == "" and "--output FILE" in refused.stderr
    revealed = run_envsync("export", "--reveal", env=env, reveals=True)
    assert revealed.code == 0 and f"A={value}" in revealed.stdout

    # `envsync export > file`: stdout is a regular file, which is allowed.
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "GITHUB_", "GITLAB_", "CI_"))}
    redirected = tmp_path / "deploy.env"
    with redirected.open("w") as stdout:
        proc = subprocess.run([ENVSYNC, "export", "-f", "gitlab-dotenv"], cwd=tmp_path, stdout=stdout,
                              stderr=subprocess.PIPE, text=True, env={**full_env, **env}, timeout=60)
    leak_watch.outputs.append(("stderr of export > file", without_masks(proc.stderr)))
    assert proc.returncode == 0, proc.stderr
    assert redirected.read_text() == f"A={value}\n"


def test_run_masks_before_the_command_starts(run_envsync, tmp_path, secret, leak_watch):
    write_config(tmp_path, tmp_path / "store")
    value = secret()
    (tmp_path / ".env").write_text(f"MY_SECRET={value}\n")
    run_envsync("push", "-y", env=LOCAL)
    result = run_envsync("run", "--", sys.executable, "-c", "print('child output')", env=github(tmp_path))
    assert result.code == 0
    assert result.stdout.splitlines() == ["child output"]  # the child's stdout is its own
    assert masks_on_stderr(leak_watch, result) == [value]
    quiet = run_envsync("run", "--", sys.executable, "-c", "print('child output')", env=LOCAL)
    assert quiet.stdout == "child output\n"


def test_help_teaches_the_ci_options(run_envsync):
    check = run_envsync("check", "--help").stdout
    assert "envsync check --all --report envsync.json --junit envsync.xml" in check
    for option in ("--report FILE", "--junit FILE", "--codequality FILE", "--summary FILE"):
        assert option in check
        assert option in run_envsync("push", "--help").stdout
    export = run_envsync("export", "--help").stdout
    assert "github-env" in export and "gitlab-dotenv" in export and "no" in export and "mask command" in export


def test_a_report_that_fails_after_the_push_is_a_warning(run_envsync, project, secret, tmp_path):
    """The store changed: the job must not say exit 2 (issue 11 item 10)."""
    (tmp_path / ".env").write_text((tmp_path / ".env").read_text() + f"ADDED={secret('added')}\n")
    # A name the folder accepts, but too long for the temp file beside it: only the write fails.
    too_long = "r" * 245 + ".json"
    result = run_envsync("push", "-y", "--report", too_long, env=LOCAL)
    assert result.code == 0, result.output
    assert "pushed 1" in result.stdout
    warning = [line for line in result.stderr.splitlines() if line.startswith("envsync: warning:")]
    assert len(warning) == 1 and "cannot write the report" in warning[0] and "command itself completed" in warning[0]
    assert run_envsync("plan", env=LOCAL).code == 0  # the push happened


def test_a_step_summary_that_cannot_be_appended_is_a_warning(run_envsync, project, secret, tmp_path):
    (tmp_path / ".env").write_text((tmp_path / ".env").read_text() + f"ADDED={secret('added')}\n")
    folder = tmp_path / "summary-is-a-folder"
    folder.mkdir()
    result = run_envsync("push", "-y", env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(folder)})
    assert result.code == 0, result.output
    assert "envsync: warning:" in result.stderr and "cannot append" in result.stderr
    assert run_envsync("plan", env=LOCAL).code == 0


def test_an_unwritable_report_path_is_refused_before_anything_is_applied(run_envsync, project, secret, tmp_path):
    (tmp_path / ".env").write_text((tmp_path / ".env").read_text() + f"ADDED={secret('added')}\n")
    result = run_envsync("push", "-y", "--report", "no/such/folder/report.json", env=LOCAL)
    assert result.code == 2 and "cannot write a report there" in result.stderr
    assert run_envsync("plan", env=LOCAL).code == 1  # nothing was pushed
    too_long = run_envsync("push", "-y", "--report", "r" * 300 + ".json", env=LOCAL)
    assert too_long.code == 2 and "cannot write a report there" in too_long.stderr, too_long.output
    assert run_envsync("plan", env=LOCAL).code == 1
