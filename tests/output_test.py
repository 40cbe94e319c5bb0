"""envsync/output.py through the CLI: the --report file is the --json document, nothing CI-specific
is printed outside CI, and a report path is refused before anything is applied (failing after
the store changed, it is a warning)."""
from __future__ import annotations

import json

from tests.commands.helpers import LOCAL, MASK, drift_it, github, masks_on_stderr


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


def test_nothing_ci_specific_is_printed_locally(run_envsync, project, secret, tmp_path):
    drift_it(tmp_path, secret)
    summary = tmp_path / "step-summary.md"
    result = run_envsync("check", env={"GITHUB_STEP_SUMMARY": str(summary), "ENVSYNC_CI": "local"})
    assert result.code == 1
    assert "::" not in result.output and not summary.exists()


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
