"""Offline checks of the CI files and of the README's CI snippets, so the docs cannot rot:
check-jsonschema with its bundled SchemaStore schemas, actionlint on the README's
workflows (against this action.yml), shellcheck on the scripts, and the inputs each file
declares against the inputs it uses.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from envsync import __version__
from tests.ci_kit.conftest import PROJECT, tool

ACTION = PROJECT / "action.yml"
TEMPLATE = PROJECT / "templates" / "envsync.yml"
GITLAB_INPUT = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")
ACTION_INPUT = re.compile(r"\binputs\.([\w-]+)")
PLACEHOLDER = "placeholder"  # for a required input (no default)


def check_jsonschema(schema: str, *files: Path) -> None:
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def template_parts() -> tuple[dict, str]:
    """The template's `spec:` header (parsed) and its jobs document (text)."""
    header, jobs = TEMPLATE.read_text().split("\n---\n", 1)
    return yaml.safe_load(header)["spec"]["inputs"], jobs


def fill_inputs(text: str, values: dict[str, str]) -> str:
    return GITLAB_INPUT.sub(lambda m: values[m.group(1)], text)


def default_values(inputs: dict) -> dict[str, str]:
    """Each input's default as GitLab writes it into the jobs (true, [a, b], 30)."""
    return {name: json.dumps(spec["default"]) if not isinstance(spec.get("default", ""), str)
            else str(spec.get("default", PLACEHOLDER)) for name, spec in inputs.items()}


def readme_ci_snippets() -> list[str]:
    """The YAML code fences of the README's "CI" section."""
    readme = PROJECT / "README.md"
    text = readme.read_text()
    match = re.search(r"^## CI\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, "README.md has no '## CI' section"
    return re.findall(r"^```yaml\n(.*?)^```", match.group(1), re.S | re.M)


def readme_workflows() -> list[str]:
    return [s for s in readme_ci_snippets() if "jobs:" in s]


def readme_includes() -> list[str]:
    return [s for s in readme_ci_snippets() if s.lstrip().startswith(("include:", "# .gitlab-ci.yml"))]


def test_action_matches_the_github_actions_schema():
    check_jsonschema("vendor.github-actions", ACTION)


def test_action_declares_every_input_it_uses_and_uses_every_input_it_declares():
    action = yaml.safe_load(ACTION.read_text())
    declared = set(action["inputs"])
    used = set(ACTION_INPUT.findall(ACTION.read_text().split("\nruns:", 1)[1]))
    assert used == declared, f"used but not declared: {used - declared}; declared but unused: {declared - used}"
    assert set(action["outputs"]) == {"drift", "report", "envsync"}
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            # Inputs reach scripts through env:, never as ${{ }} text inside them (script injection).
            assert "${{" not in step["run"], step.get("name")


def test_action_scripts_pass_shellcheck(tmp_path):
    shellcheck = tool("shellcheck")
    for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]:
        script = tmp_path / f"{step['id']}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"])
        proc = subprocess.run([shellcheck, "-s", "bash", str(script)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_jobs_match_the_gitlab_ci_schema_with_default_inputs(tmp_path):
    inputs, jobs = template_parts()
    filled = tmp_path / "envsync-jobs.yml"
    filled.write_text(fill_inputs(jobs, default_values(inputs)))
    check_jsonschema("vendor.gitlab-ci", filled)
    document = yaml.safe_load(filled.read_text())
    assert set(document) == {".envsync-base", "envsync-check", "envsync-push", "envsync-diff", "envsync-scan"}
    scan = document["envsync-scan"]  # only when scan is not off
    assert scan["rules"][0] == {"if": '$ENVSYNC_TEMPLATE_SCAN == "off"', "when": "never"}
    assert scan["artifacts"]["reports"] == {"codequality": "envsync-scan-codequality.json"}
    base = document[".envsync-base"]
    assert base["cache"] == {"key": f"envsync-pip-{__version__}", "paths": [".cache/envsync-pip"]}
    assert base["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/envsync-pip"
    for job in ("envsync-check", "envsync-diff", "envsync-scan"):  # report-only runs exit 78: a warning
        assert document[job]["allow_failure"] == {"exit_codes": [78]}, job
    diff = document["envsync-diff"]  # only when diff-targets is set: the first rule says never when empty
    assert diff["rules"][0] == {"if": '$ENVSYNC_TEMPLATE_DIFF == ""', "when": "never"}
    assert set(diff["artifacts"]["reports"]) == {"junit", "codequality"}
    assert " diff $ENVSYNC_TEMPLATE_DIFF" in " ".join(diff["script"])
    check = document["envsync-check"]
    assert check["artifacts"]["when"] == "always"
    assert set(check["artifacts"]["reports"]) == {"junit", "codequality"}
    assert "--junit envsync-junit.xml" in " ".join(check["script"])
    assert "--codequality envsync-codequality.json" in " ".join(check["script"])
    assert document[".envsync-base"]["id_tokens"] == {"ENVSYNC_ID_TOKEN": {"aud": "$CI_SERVER_URL"}}


def test_template_declares_every_input_it_uses_and_uses_every_input_it_declares():
    inputs, jobs = template_parts()
    used = set(GITLAB_INPUT.findall(jobs))
    assert used == set(inputs), f"used but not declared: {used - set(inputs)}; unused: {set(inputs) - used}"
    python_type = {"string": str, "boolean": bool, "number": int, "array": list}
    for name, spec in inputs.items():
        # The schema does not look inside spec:inputs; GitLab accepts only these keys.
        assert set(spec) <= {"default", "description", "options", "regex", "type"}, name
        assert spec.get("description"), f"input {name} has no description"
        kind = spec.get("type", "string")
        assert isinstance(spec.get("default", python_type[kind]()), python_type[kind]), f"input {name}: a {kind}"
        assert spec.get("default", spec.get("options", [None])[0]) in spec.get("options", [spec.get("default")]), name
    kinds = {spec.get("type", "options" if "options" in spec else "string") for spec in inputs.values()}
    assert {"boolean", "number", "array", "options"} <= kinds


def test_template_scripts_pass_shellcheck(tmp_path):
    """before_script and script run in one shell. The jobs' command lines split the targets
    and args on purpose (under `set -f`), so SC2086 is waived only where they are added; the
    before_script alone is checked with only SC2034 waived (its variables are for the script)."""
    shellcheck = tool("shellcheck")
    inputs, jobs = template_parts()
    document = yaml.safe_load(fill_inputs(jobs, default_values(inputs)))
    before = "\n".join(document[".envsync-base"]["before_script"])
    for job in ("envsync-check", "envsync-push", "envsync-diff", "envsync-scan"):
        # diff and scan name their own targets: the target selection is unused there.
        uses_all = "SC2086" if job in ("envsync-check", "envsync-push") else "SC2086,SC2034"
        for text, waived in ((before, "SC2034"), (before + "\n" + "\n".join(document[job]["script"]), uses_all)):
            script = tmp_path / f"{job}.sh"
            script.write_text("#!/bin/sh\n" + text + "\n")
            proc = subprocess.run([shellcheck, "-s", "sh", "-e", waived, str(script)], capture_output=True,
                                  text=True, timeout=60)
            assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_workflows_match_the_github_workflows_schema(tmp_path):
    workflows = readme_workflows()
    assert len(workflows) == 5, ("the README should show the PR check, the nightly matrix, the nightly diff "
                                 "between environments, the push on merge and the cloud auth steps")
    files = []
    for number, text in enumerate(workflows):
        files.append(tmp_path / f"workflow-{number}.yml")
        files[-1].write_text(text)
    check_jsonschema("vendor.github-workflows", *files)


def test_readme_workflows_pass_actionlint_against_this_action(tmp_path):
    """actionlint checks each `with:` against action.yml when the workflow says `uses: ./`."""
    actionlint = tool("actionlint")
    shutil.copy2(ACTION, tmp_path / "action.yml")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    for number, text in enumerate(readme_workflows()):
        local = re.sub(r"uses: ORG/envsync@\S+", "uses: ./", text)
        assert local != text, "a README workflow that does not use the action"
        (tmp_path / ".github" / "workflows" / f"readme-{number}.yml").write_text(local)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    proc = subprocess.run([actionlint, "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_gitlab_snippets_match_the_gitlab_ci_schema_and_the_template_inputs(tmp_path):
    snippets = readme_includes()
    assert snippets, "the README shows no GitLab include"
    inputs, _ = template_parts()
    required = {name for name, spec in inputs.items() if "default" not in spec}
    for number, text in enumerate(snippets):
        path = tmp_path / f"gitlab-{number}.yml"
        path.write_text(text)
        check_jsonschema("vendor.gitlab-ci", path)
        for entry in yaml.safe_load(text)["include"]:
            given = set(entry.get("inputs", {}))
            assert given <= set(inputs), f"README passes unknown inputs {given - set(inputs)}"
            assert required <= given, f"README leaves out required inputs {required - given}"


def test_readme_action_inputs_exist():
    declared = set(yaml.safe_load(ACTION.read_text())["inputs"])
    for text in readme_workflows():
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job.get("steps", []):
                if "envsync@" in step.get("uses", ""):
                    assert set(step.get("with", {})) <= declared, step["with"]


@pytest.mark.parametrize("path", ["action.yml", "templates/envsync.yml"])
def test_ci_files_are_plain_yaml(path):
    """Both load with a plain YAML parser (the template as two documents)."""
    documents = list(yaml.safe_load_all((PROJECT / path).read_text()))
    assert documents and all(isinstance(d, dict) for d in documents)


def test_readme_workflows_grant_the_oidc_token_per_job_and_keep_no_checkout_token():
    """`id-token: write` only on the jobs that run EnvSync (not the whole workflow), and
    `persist-credentials: false` on every checkout: no git token left for later steps."""
    for snippet in readme_workflows():
        workflow = yaml.safe_load(snippet)
        assert "id-token" not in (workflow.get("permissions") or {}), snippet
        for name, job in workflow["jobs"].items():
            uses = [step.get("uses", "") for step in job["steps"]]
            runs_envsync = any(u.startswith("ORG/envsync@") for u in uses)
            assert ((job.get("permissions") or {}).get("id-token") == "write") == runs_envsync, name
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert (step.get("with") or {}).get("persist-credentials") is False, name
