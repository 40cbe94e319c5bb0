"""action.yml run by a real GitHub Actions runner: nektos/act on the host executor.

Each test builds a consumer repo (envsync.toml, schemas, a workflow) with a copy of this
project in `envsync-action/` (`uses: ./envsync-action`), commits it, and runs
`act push -P ubuntu-latest=-self-hosted --json`. The stores are `file://` folders outside
the repo, so no cloud is needed. Most runs reuse the test venv through ENVSYNC_VENV; a few
go through the action's own install (venv + pip, with a session-wide pip cache), two of them
sharing a venv cache to measure a job's start with and without it (FIGURE lines, `-s`).

act's --json log holds each `::add-mask::` (and `$GITHUB_ENV`) argument in clear, which the
real runner never shows: of those events only the displayed message is kept, the masked
values are collected, and everything else act logged is checked for secret values.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from tests.ci_kit.conftest import PROJECT, clean_env, commit_all, no_aws_files, plant_shadowing_modules, tool

ACT_TIMEOUT = 300
HANDED_TO_THE_RUNNER = ("add-mask", "set-env")
WORKFLOW = """\
name: envsync-test
on: push
permissions:
  contents: read
  id-token: write
jobs:
  envsync:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
{pre_steps}      - id: es
        uses: ./envsync-action
        with:
{with_lines}
      - name: record
        if: always()
        env:
          DRIFT: ${{{{ steps.es.outputs.drift }}}}
          REPORT: ${{{{ steps.es.outputs.report }}}}
          OUTCOME: ${{{{ steps.es.outcome }}}}
        run: |
          printf '{{"drift": "%s", "report": "%s", "outcome": "%s"}}\\n' "$DRIFT" "$REPORT" "$OUTCOME" > "$RESULT_DIR/result.json"
          if [ -n "$REPORT" ] && [ -f "$REPORT" ]; then cp "$REPORT" "$RESULT_DIR/report.json"; fi
{extra_steps}"""


@dataclass
class ActRun:
    code: int
    events: list[dict]
    log: str  # everything the runner logged, but the add-mask arguments
    masks: set[str] = field(default_factory=set)
    result: dict = field(default_factory=dict)
    report: dict | None = None

    @property
    def job_result(self) -> str | None:
        return next((e["jobResult"] for e in self.events if "jobResult" in e), None)

    def commands(self, name: str, step: tuple[str, ...] = ("es", "run")) -> list[dict]:
        return [e for e in self.events if e.get("command") == name and tuple(e.get("stepID", ())) == step]

    @property
    def summary(self) -> str:
        return "".join(e.get("content", "") for e in self.commands("summary"))

    def output(self, name: str) -> str | None:
        found = [e["arg"] for e in self.commands("set-output", ("es",)) if e.get("name") == name]
        return found[-1] if found else None


def write_workflow(repo: Path, with_: dict[str, str], extra_steps: str = "", pre_steps: str = "") -> None:
    lines = "\n".join(f"          {key}: {json.dumps(value)}" for key, value in with_.items())
    (repo / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (repo / ".github" / "workflows" / "envsync.yml").write_text(
        WORKFLOW.format(with_lines=lines or "          command: check", extra_steps=extra_steps,
                        pre_steps=pre_steps))


def run_act(repo: Path, tmp_path: Path, leak_watch, env: dict[str, str] | None = None,
            act_env: dict[str, str] | None = None) -> ActRun:
    """Commit the repo and run its workflow with act; `env` goes to the job (--env)."""
    result_dir = tmp_path / "result"
    result_dir.mkdir(exist_ok=True)
    commit_all(repo)
    args = [tool("act"), "push", "-P", "ubuntu-latest=-self-hosted", "--json",
            "-W", ".github/workflows/envsync.yml"]
    for key, value in {"RESULT_DIR": str(result_dir), **(env or {})}.items():
        args += ["--env", f"{key}={value}"]
    proc = subprocess.run(args, cwd=repo, capture_output=True, text=True, timeout=ACT_TIMEOUT,
                          env=clean_env(XDG_CACHE_HOME=str(tmp_path / "act-cache"), **(act_env or {})))
    events, kept, masks = [], [], set()
    for line in proc.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            kept.append(line)
            continue
        events.append(event)
        if event.get("command") in HANDED_TO_THE_RUNNER:
            # The argument is the value itself, given to the runner to mask or to export;
            # the runner shows only the message (masked).
            if event["command"] == "add-mask":
                masks.add(event.get("arg", ""))
            kept.append(str(event.get("msg", "")))
        else:
            kept.append(line)
    log = "\n".join(kept) + "\n" + proc.stderr
    leak_watch.outputs.append(("act's log (add-mask arguments set aside)", log))
    run = ActRun(proc.returncode, events, log, masks)
    if (result_dir / "result.json").exists():
        run.result = json.loads((result_dir / "result.json").read_text())
    if (result_dir / "report.json").exists():
        leak_watch.files.append(result_dir / "report.json")
        run.report = json.loads((result_dir / "report.json").read_text())
    return run


def messages(run: ActRun) -> str:
    """The runner's log as act prints it, for assertion messages (masks already set aside)."""
    out = []
    for event in run.events:
        if event.get("command") != "add-mask" and event.get("msg"):
            out.append(str(event["msg"]).rstrip())
    return "\n".join(out[-80:])


@pytest.fixture
def action_repo(app, project_copy):
    """The consumer repo with the action beside it, as `uses: ./envsync-action` finds it."""

    def make(extra_toml: str = ""):
        root, stores, values = app(extra_toml)
        shutil.copytree(project_copy, root / "envsync-action")
        return root, stores, values

    return make


def test_drift_fails_the_job_with_annotations_a_summary_and_masked_values(action_repo, tmp_path, leak_watch,
                                                                          installed_venv):
    repo, _, values = action_repo()
    write_workflow(repo, {"targets": "drifted"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    log = messages(run)
    assert run.code != 0 and run.job_result == "failure", log
    assert run.result == {"drift": "true", "report": run.result["report"], "outcome": "failure"}, log
    assert run.result["report"] and run.output("drift") == "true", log
    # One error annotation for the key missing from the store, pinned to the schema's line.
    errors = run.commands("error")
    assert any(e["kvPairs"].get("file") == "schemas/drifted.env.example" and e["kvPairs"].get("line") == "4"
               and "NEW_FLAG" in e["arg"] for e in errors), log
    assert "envsync check" in run.summary and "NEW_FLAG" in run.summary, log
    # Every value envsync read was handed to the masker; none reached the log.
    assert values["drifted"] in run.masks, log
    assert values["drifted"] not in run.log
    assert run.report is not None


def test_fail_on_drift_false_passes_and_still_says_drift(action_repo, tmp_path, leak_watch, installed_venv):
    repo, _, _ = action_repo()
    write_workflow(repo, {"targets": "drifted", "fail-on-drift": "false"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    log = messages(run)
    assert run.code == 0 and run.job_result == "success", log
    assert run.result["drift"] == "true" and run.result["outcome"] == "success", log
    assert run.commands("error"), log  # the annotations are still there
    assert any("fail-on-drift is false" in e.get("arg", "") for e in run.commands("warning")), log


def test_clean_target_passes_with_no_drift(action_repo, tmp_path, leak_watch, installed_venv):
    repo, _, values = action_repo()
    write_workflow(repo, {"targets": "clean"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    log = messages(run)
    assert run.code == 0 and run.job_result == "success", log
    assert run.result["drift"] == "false" and run.result["outcome"] == "success", log
    assert not run.commands("error"), log
    assert "No drift" in run.summary, log
    assert values["clean"] in run.masks and values["clean"] not in run.log


def test_diff_of_two_targets_masks_both_and_annotates_the_differing_key(action_repo, tmp_path, leak_watch,
                                                                        installed_venv):
    repo, _, values = action_repo()
    write_workflow(repo, {"command": "diff", "targets": "drifted clean"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    log = messages(run)
    assert run.code != 0 and run.result["drift"] == "true" and run.result["report"], log
    assert any("API_KEY differs between drifted and clean" in e["arg"] for e in run.commands("error")), log
    assert "envsync diff" in run.summary, log
    assert {values["drifted"], values["clean"]} <= run.masks
    assert values["drifted"] not in run.log and values["clean"] not in run.log


def test_diff_needs_exactly_two_targets(action_repo, tmp_path, leak_watch, installed_venv):
    repo, _, _ = action_repo()
    write_workflow(repo, {"command": "diff", "targets": "drifted"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    assert run.code != 0
    assert any("diff compares two targets" in e.get("arg", "") for e in run.commands("error")), messages(run)


def test_inputs_are_data_not_script(action_repo, tmp_path, leak_watch, installed_venv):
    """A hostile `targets` / `args` input reaches envsync as arguments; the shell never runs it."""
    repo, _, _ = action_repo()
    canary = tmp_path / "pwned"
    write_workflow(repo, {"targets": f"clean $(touch {canary})", "args": f"'; touch {canary}; #'"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    assert not canary.exists(), messages(run)
    assert run.code != 0 and run.result["drift"] == "false", messages(run)  # an input error, not drift


def test_args_with_broken_quoting_stop_the_step(action_repo, tmp_path, leak_watch, installed_venv,
                                              run_envsync):
    """`args` that cannot be split must not be dropped: a lost --dry-run would push for real."""
    repo, _, _ = action_repo()
    write_workflow(repo, {"command": "push", "targets": "drifted", "args": "--from-schema --dry-run --x 'oops"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    assert run.code != 0 and "not valid shell-like quoting" in run.log, messages(run)
    assert run_envsync("check", "drifted", cwd=repo).code == 1  # nothing was pushed


def test_push_from_schema_creates_the_key_with_its_default(action_repo, tmp_path, leak_watch, installed_venv,
                                                           run_envsync):
    repo, _, _ = action_repo()
    write_workflow(repo, {"command": "push", "targets": "drifted", "args": "--from-schema"})
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    assert run.code == 0 and run.result["drift"] == "false", messages(run)
    assert run.report is not None
    after = run_envsync("check", "drifted", cwd=repo)
    assert after.code == 0, after.output
    exported = run_envsync("export", "drifted", "--format", "json", cwd=repo, reveals=True)
    assert json.loads(exported.stdout)["NEW_FLAG"] == "on"


def test_export_hands_masked_values_to_later_steps(action_repo, tmp_path, leak_watch, installed_venv):
    repo, _, values = action_repo()
    later = ("      - name: use\n"
             "        run: |\n"
             "          echo \"key is $API_KEY\"\n"
             "          test \"${#API_KEY}\" -gt 10\n")
    write_workflow(repo, {"command": "export", "targets": "clean"}, extra_steps=later)
    run = run_act(repo, tmp_path, leak_watch, env={"ENVSYNC_VENV": installed_venv})
    assert run.code == 0 and run.job_result == "success", messages(run)
    assert values["clean"] in run.masks
    assert "key is ***" in run.log and values["clean"] not in run.log


def test_action_builds_its_venv_with_only_the_sdks_the_targets_need(action_repo, tmp_path, leak_watch,
                                                                    pip_cache):
    """The full install path: a venv in the runner's tool cache, the locked dependencies, core
    from a copy of the action's checkout (nothing written into it); the `prod` target is on AWS
    but not selected, so no boto3. The workspace's json.py, re.py, shlex.py and pip/ (a pull
    request's) are never imported by the action's Python runs."""
    repo, _, _ = action_repo('[targets.prod]\nfile = ".env.prod"\nstore = "aws-sm://app/prod?region=eu-west-1"\n')
    marker = tmp_path / "planted-module-ran"
    plant_shadowing_modules(repo, marker)
    probe = ("      - name: probe\n"
             "        if: always()\n"
             "        env:\n"
             "          ENVSYNC: ${{ steps.es.outputs.envsync }}\n"
             "        run: |\n"
             "          case \"$ENVSYNC\" in \"$RUNNER_TOOL_CACHE\"/envsync/*/bin/envsync) ;; *) echo \"not cached: $ENVSYNC\"; exit 1;; esac\n"
             "          \"$ENVSYNC\" --version\n"
             "          if \"$(dirname \"$ENVSYNC\")/python\" -c 'import boto3' 2>/dev/null; then\n"
             "            echo 'boto3 was installed'; exit 1\n"
             "          fi\n"
             "          if ls -d envsync-action/*.egg-info envsync-action/build 2>/dev/null; then\n"
             "            echo 'the install wrote build files into the action folder'; exit 1\n"
             "          fi\n")
    write_workflow(repo, {"targets": "clean", "python": "python3"}, extra_steps=probe)
    run = run_act(repo, tmp_path, leak_watch, env={"PIP_CACHE_DIR": str(pip_cache)})
    log = messages(run)
    assert run.code == 0 and run.job_result == "success", log
    assert run.result["drift"] == "false", log
    assert "Installing the cloud SDKs" not in run.log, log
    assert not marker.exists(), f"the action ran the workspace's {marker.read_text().split()}"


# -- portability: macOS's bash 3.2, Windows runners ---------------------------------------

BASH4_ONLY = {
    "mapfile / readarray": r"\b(mapfile|readarray)\b",
    "associative arrays / namerefs": r"\b(declare|local|typeset)\s+-\w*[An]",
    "case conversion ${v,,} ${v^^}": r"\$\{\w+(\[[^]]*\])?(,,?|\^\^?)[^}]*\}",
    "${v@Q} transformations": r"\$\{\w+(\[[^]]*\])?@\w\}",
    "|& pipes": r"\|&",
    ";& / ;;& case fall-through": r";;?&",
    "coproc": r"\bcoproc\b",
    "negative array subscripts": r"\$\{\w+\[-\d+\]\}",
    "&>> appends": r"&>>",
}


def action_scripts() -> dict[str, str]:
    action = yaml.safe_load((PROJECT / "action.yml").read_text())
    return {step["id"]: step["run"] for step in action["runs"]["steps"] if "run" in step}


def test_action_scripts_use_nothing_newer_than_bash_3_2():
    """macOS runners' /bin/bash is 3.2: no bash 4 features, and no "${a[@]}" of an array that may
    be empty (under `set -u`, bash before 4.4 calls that an unbound variable)."""
    for step, script in action_scripts().items():
        for feature, pattern in BASH4_ONLY.items():
            found = re.search(pattern, script)
            assert not found, f"step {step}: {feature} ({found.group(0)!r}) needs bash 4"
        maybe_empty = set(re.findall(r"\b(\w+)=\(\)", script)) | set(re.findall(r"read -r -a (\w+)", script))
        for name in maybe_empty:
            bare = re.search(r'(?<!\+)"\$\{' + name + r'\[@\]\}"', script)
            assert not bare, (f"step {step}: \"${{{name}[@]}}\" may be empty: write "
                              f"${{{name}[@]+\"${{{name}[@]}}\"}} for bash 3.2")


def test_windows_runner_stops_at_once_with_one_error(tmp_path):
    """The scripts use bin/ and bash: on Windows the install step stops before doing anything,
    with one annotation that names the supported runners."""
    script = tmp_path / "install.sh"
    script.write_text(action_scripts()["install"])
    output = tmp_path / "output"
    proc = subprocess.run([tool("bash"), str(script)], capture_output=True, text=True, timeout=60,
                          env=clean_env(RUNNER_OS="Windows", RUNNER_TEMP=str(tmp_path), GITHUB_OUTPUT=str(output),
                                        GITHUB_ACTION_PATH=str(PROJECT), ENVSYNC_ACTION_PYTHON="python3",
                                        ENVSYNC_ACTION_COMMAND="check", ENVSYNC_ACTION_TARGETS="",
                                        ENVSYNC_ACTION_CONFIG="", ENVSYNC_ACTION_CACHE_DIR=""))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "Linux and macOS runners only" in errors[0], proc.stdout
    assert proc.stdout.strip() == errors[0] and not proc.stderr, proc.stdout + proc.stderr
    assert not output.exists() and list(tmp_path.iterdir()) == [script]  # nothing built


# -- the venv cache and the standard auth steps -------------------------------------------

AWS_AUTH_STEP = """\
      - name: configure AWS credentials (as aws-actions/configure-aws-credentials exports them)
        run: |
          echo "::add-mask::$FAKE_AWS_SECRET_ACCESS_KEY"
          echo "::add-mask::$FAKE_AWS_SESSION_TOKEN"
          {
            echo "AWS_ACCESS_KEY_ID=$FAKE_AWS_ACCESS_KEY_ID"
            echo "AWS_SECRET_ACCESS_KEY=$FAKE_AWS_SECRET_ACCESS_KEY"
            echo "AWS_SESSION_TOKEN=$FAKE_AWS_SESSION_TOKEN"
            echo "AWS_REGION=us-east-1"
            echo "AWS_DEFAULT_REGION=us-east-1"
          } >> "$GITHUB_ENV"
"""


@pytest.fixture(scope="module")
def iam_moto() -> Iterator[tuple[str, dict[str, str]]]:
    """moto enforcing IAM, with a role that may use Secrets Manager; yields its endpoint and a
    set of temporary keys for the role (key id, secret, session token), as an auth step has."""
    import boto3

    from tests.fakes.aws_server import IamMotoServer

    server = IamMotoServer(free_requests=5)
    try:
        setup = {"region_name": "us-east-1", "endpoint_url": server.endpoint,
                 "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **setup)
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
        allow = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:*", "sts:AssumeRole"], "Resource": "*"}]}
        role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName="ci", PolicyName="secrets", PolicyDocument=json.dumps(allow))
        iam.create_user(UserName="ci")
        iam.put_user_policy(UserName="ci", PolicyName="assume", PolicyDocument=json.dumps(allow))
        key = iam.create_access_key(UserName="ci")["AccessKey"]
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=server.endpoint,
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        creds = sts.assume_role(RoleArn=role, RoleSessionName="auth-step")["Credentials"]
        yield server.endpoint, {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                                "AWS_SESSION_TOKEN": creds["SessionToken"]}
    finally:
        server.stop()


def test_aws_auth_step_credentials_are_used_and_the_second_job_reuses_the_venv(
        iam_moto, tmp_path, run_envsync, secret, leak_watch, project_copy, pip_cache):
    """A job that ran configure-aws-credentials (its keys in $GITHUB_ENV) and leaves the
    federation inputs empty: EnvSync uses those keys (moto enforces IAM, so no other keys
    would do). Two jobs share one cache-dir, as jobs on one self-hosted runner share its tool
    cache: the first builds the venv (core + the aws SDK), the second reuses it."""
    endpoint, keys = iam_moto
    aws_env = no_aws_files(tmp_path)
    repo = tmp_path / "app"
    repo.mkdir()
    (repo / "envsync.toml").write_text(f'[targets.prod]\nfile = ".env.prod"\n'
                                       f'store = "aws-sm://ci/composed?endpoint={endpoint}"\n'
                                       'schema = "prod.env.example"\n')
    (repo / "prod.env.example").write_text("API_KEY=\nDEBUG=false\n")
    value = secret("aws")
    (repo / ".env.prod").write_text(f"API_KEY={value}\nDEBUG=false\n")
    pushed = run_envsync("push", "prod", "--yes", cwd=repo, reveals=True,
                         env={**aws_env, **keys, "AWS_REGION": "us-east-1"})
    assert pushed.code == 0, pushed.output
    (repo / ".env.prod").unlink()
    shutil.rmtree(repo / ".envsync", ignore_errors=True)
    shutil.copytree(project_copy, repo / "envsync-action")
    cache_dir = tmp_path / "tool-cache"
    write_workflow(repo, {"targets": "prod", "cache-dir": str(cache_dir)}, pre_steps=AWS_AUTH_STEP)
    job_env = {**aws_env, **{f"FAKE_{k}": v for k, v in keys.items()}, "PIP_CACHE_DIR": str(pip_cache)}

    timings = []
    for job in ("first", "second"):
        (tmp_path / job).mkdir()
        (repo / "job.txt").write_text(job + "\n")  # a new commit for each run
        started = time.perf_counter()
        run = run_act(repo, tmp_path / job, leak_watch, env=job_env)
        timings.append(time.perf_counter() - started)
        log = messages(run)
        assert run.code == 0 and run.job_result == "success", log
        assert run.result["drift"] == "false", log
        assert value in run.masks and value not in run.log
        assert keys["AWS_SECRET_ACCESS_KEY"] not in run.log and keys["AWS_SESSION_TOKEN"] not in run.log
        built = re.findall(r"EnvSync venv built in (\d+)s", run.log)
        if job == "first":
            assert len(built) == 2 and "Installing the cloud SDKs these targets use: aws" in run.log, log
            build_seconds = sum(int(s) for s in built)
        else:
            assert not built and run.log.count("EnvSync venv reused") == 2, log
    # Those keys, and no others: the same job with the secret key spoilt is refused by IAM.
    (tmp_path / "spoilt").mkdir()
    (repo / "job.txt").write_text("spoilt\n")
    real_key = keys["AWS_SECRET_ACCESS_KEY"]
    spoilt_key = ("y" if real_key[0] == "x" else "x") + real_key[1:]  # a random key may start with x
    spoilt = run_act(repo, tmp_path / "spoilt", leak_watch, env={**job_env, "FAKE_AWS_SECRET_ACCESS_KEY": spoilt_key})
    assert spoilt.code != 0 and spoilt.result["outcome"] == "failure", messages(spoilt)
    assert "EnvSync venv reused" in spoilt.log, messages(spoilt)
    assert "SignatureDoesNotMatch" in spoilt.log, messages(spoilt)
    print(f"\nFIGURE action job, empty venv cache: {timings[0]:.1f} s (venv built in {build_seconds} s)")
    print(f"FIGURE action job, venv from the cache: {timings[1]:.1f} s")  # reuse is asserted above, not timed


def run_install_step(tmp_path: Path, cache_dir: Path, pip_cache: Path,
                     **env: str) -> subprocess.CompletedProcess:
    """The install step's script as the runner runs it (bash, the step's env), for a scan."""
    script = tmp_path / "install.sh"
    script.write_text(action_scripts()["install"])
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    return subprocess.run([tool("bash"), "-e", str(script)], capture_output=True, text=True, timeout=ACT_TIMEOUT,
                          env=clean_env(RUNNER_OS="Linux", RUNNER_TEMP=str(temp), GITHUB_OUTPUT=str(tmp_path / "out"),
                                        GITHUB_ACTION_PATH=str(PROJECT), ENVSYNC_ACTION_PYTHON="python3",
                                        ENVSYNC_ACTION_COMMAND="scan", ENVSYNC_ACTION_TARGETS="",
                                        ENVSYNC_ACTION_CONFIG="", ENVSYNC_ACTION_CACHE_DIR=str(cache_dir),
                                        PIP_CACHE_DIR=str(pip_cache), **env))


def test_a_cached_venv_is_used_only_when_finished_and_never_built_by_two_jobs_at_once(tmp_path, pip_cache):
    cache_dir = tmp_path / "tool-cache"
    first = run_install_step(tmp_path, cache_dir, pip_cache)
    assert first.returncode == 0, first.stdout + first.stderr
    (venv,) = [p for p in cache_dir.iterdir()]
    assert (venv / ".envsync-complete").exists() and not list(cache_dir.glob("*.lock"))
    # A build that died half-way (no marker): rebuilt, not used.
    (venv / ".envsync-complete").unlink()
    (venv / "bin" / "envsync").write_text("#!/bin/sh\nexit 99\n")
    again = run_install_step(tmp_path, cache_dir, pip_cache)
    assert again.returncode == 0 and "EnvSync venv built in" in again.stdout, again.stdout + again.stderr
    assert (venv / ".envsync-complete").exists()
    assert subprocess.run([str(venv / "bin" / "envsync"), "--version"], capture_output=True).returncode == 0
    # Another job building it now (its lock is there): this job builds its own, elsewhere,
    # and leaves the other's folder alone.
    (venv / ".envsync-complete").unlink()
    (cache_dir / (venv.name + ".lock")).mkdir()
    busy = run_install_step(tmp_path, cache_dir, pip_cache)
    assert busy.returncode == 0, busy.stdout + busy.stderr
    assert "::notice title=EnvSync::" in busy.stdout and "being built by another job" in busy.stdout, busy.stdout
    used = (tmp_path / "out").read_text()
    assert f"envsync={tmp_path / 'runner-temp'}/envsync-venv-{venv.name}/bin/envsync" in used, used
    assert (venv / "bin" / "envsync").exists() and (cache_dir / (venv.name + ".lock")).is_dir()


# -- the run step's script with a stand-in envsync (what arguments it gets) -----------------

def run_run_step(tmp_path: Path, command: str, targets: str, exit_status: int = 0) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The run step's script as the runner runs it, with an `envsync` that records its arguments."""
    script = tmp_path / "run.sh"
    script.write_text(action_scripts()["run"])
    fake = tmp_path / "envsync"
    argv = tmp_path / "argv"
    fake.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{argv}"\nexit {exit_status}\n')
    fake.chmod(0o755)
    (tmp_path / "temp").mkdir(exist_ok=True)
    step_env = next(s["env"] for s in yaml.safe_load((PROJECT / "action.yml").read_text())["runs"]["steps"]
                    if s.get("id") == "run")
    env = clean_env(**dict.fromkeys(step_env, ""))
    env.update(RUNNER_TEMP=str(tmp_path / "temp"), GITHUB_OUTPUT=str(tmp_path / "out"),
                    ENVSYNC_ACTION_BIN=str(fake), ENVSYNC_ACTION_PY=sys.executable,
                    ENVSYNC_ACTION_COMMAND=command, ENVSYNC_ACTION_TARGETS=targets, ENVSYNC_ACTION_CONFIG="",
                    ENVSYNC_ACTION_FAIL_ON_DRIFT="true", ENVSYNC_ACTION_ARGS="")
    proc = subprocess.run([tool("bash"), "-e", str(script)], capture_output=True, text=True, timeout=60, env=env,
                          cwd=tmp_path)
    return proc, argv.read_text().splitlines() if argv.exists() else []


def test_multi_line_targets_input_passes_every_target(tmp_path):
    (tmp_path / "prod").write_text("")  # an unquoted glob would match it
    proc, argv = run_run_step(tmp_path, "check", "staging\nprod\n  pro*\tqa\n")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert argv[:5] == ["check", "staging", "prod", "pro*", "qa"], argv


def test_export_of_more_than_one_target_stops_with_one_error(tmp_path):
    proc, argv = run_run_step(tmp_path, "export", "staging prod")
    assert proc.returncode == 2 and argv == [], proc.stdout + proc.stderr
    assert "::error title=EnvSync::command export takes at most one target" in proc.stdout, proc.stdout
    proc, argv = run_run_step(tmp_path, "export", "staging")
    assert proc.returncode == 0 and argv[:2] == ["export", "staging"], argv


def test_a_stale_report_from_an_earlier_step_is_not_published(tmp_path):
    (tmp_path / "temp").mkdir()
    (tmp_path / "temp" / "envsync-check-report.json").write_text('{"stale": true}')
    proc, _ = run_run_step(tmp_path, "check", "", exit_status=3)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "report=\n" in (tmp_path / "out").read_text(), (tmp_path / "out").read_text()
    assert not (tmp_path / "temp" / "envsync-check-report.json").exists()


def test_a_stale_lock_is_taken_over_and_a_venv_whose_python_is_gone_is_rebuilt(tmp_path, pip_cache):
    cache_dir = tmp_path / "tool-cache"
    first = run_install_step(tmp_path, cache_dir, pip_cache)
    assert first.returncode == 0, first.stdout + first.stderr
    (venv,) = [p for p in cache_dir.iterdir()]
    # Finished, but its interpreter is gone (a runner image update): rebuilt in place.
    python = venv / "bin" / "python"
    python.unlink()
    python.symlink_to(tmp_path / "no-such-python")
    again = run_install_step(tmp_path, cache_dir, pip_cache)
    assert again.returncode == 0 and "EnvSync venv built in" in again.stdout, again.stdout + again.stderr
    assert subprocess.run([str(python), "-c", ""]).returncode == 0
    # A lock taken 20 minutes ago by a job that died: taken over, the cache's venv rebuilt.
    (venv / ".envsync-complete").unlink()
    lock = cache_dir / (venv.name + ".lock")
    lock.mkdir()
    (lock / "taken").write_text(str(int(time.time()) - 20 * 60))
    stale = run_install_step(tmp_path, cache_dir, pip_cache)
    assert stale.returncode == 0 and "taking over" in stale.stdout, stale.stdout + stale.stderr
    assert f"envsync={venv}/bin/envsync" in (tmp_path / "out").read_text()
    assert (venv / ".envsync-complete").exists() and not lock.exists()


def venv_key(python: str) -> str:
    """The install step's cache key as the given interpreter computes it."""
    code = re.search(r"""key="\$\("\$ENVSYNC_ACTION_PYTHON" -I -c '\n(.*?)\n\s*' "\$GITHUB_ACTION_PATH"\)\"""",
                     action_scripts()["install"], re.DOTALL).group(1)
    return subprocess.run([python, "-I", "-c", code, str(PROJECT)], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def test_the_venv_cache_key_names_the_interpreter_that_builds_it(tmp_path):
    """Two interpreters of the same minor version (another install, a patch release) get two venvs."""
    base = Path(os.path.realpath(sys.executable))
    other = tmp_path / "bin" / base.name
    other.parent.mkdir()
    shutil.copy2(base, other)
    assert venv_key(sys.executable) == venv_key(str(base))
    assert venv_key(str(other)) != venv_key(str(base))


def test_a_venv_another_job_finished_while_this_one_took_the_lock_is_reused(tmp_path, pip_cache):
    cache_dir = tmp_path / "tool-cache"
    first = run_install_step(tmp_path, cache_dir, pip_cache)
    assert first.returncode == 0, first.stdout + first.stderr
    (venv,) = [p for p in cache_dir.iterdir()]
    (venv / ".envsync-complete").unlink()
    # The other job writes its marker just before this one's mkdir of the lock succeeds.
    racing = tmp_path / "racing-bin"
    racing.mkdir()
    real_mkdir = shutil.which("mkdir")
    (racing / "mkdir").write_text('#!/bin/sh\nfor last; do :; done\n'
                                  'case "$last" in *.lock) : > "${last%.lock}/.envsync-complete" ;; esac\n'
                                  f'exec {real_mkdir} "$@"\n')
    (racing / "mkdir").chmod(0o755)
    again = run_install_step(tmp_path, cache_dir, pip_cache, PATH=f"{racing}:{os.environ['PATH']}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "EnvSync venv reused" in again.stdout and "built in" not in again.stdout, again.stdout
    assert (venv / ".envsync-complete").exists() and not list(cache_dir.glob("*.lock"))
