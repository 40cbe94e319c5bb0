"""templates/envsync.yml run by gitlab-ci-local on the host (shell executor).

Each test commits a consumer repo whose .gitlab-ci.yml does `include: local:` of the
template with `inputs:` (`package:` is a snapshot of this project; the tests of the default
inputs serve the built wheel and its locked dependencies from a local package index), then
runs a job with `gitlab-ci-local --force-shell-executor`. Stores are `file://` folders outside the repo.
gitlab-ci-local runs a job named on its command line whatever its rules say, so the rules
are checked apart, with `--list-json`. Merge-request and schedule pipelines are simulated
with CI_PIPELINE_SOURCE (and, for a merge request, no CI_COMMIT_BRANCH, as on GitLab).
"""
from __future__ import annotations

import functools
import http.server
import io
import json
import re
import secrets
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from envsync import __version__
from tests.ci_kit.conftest import clean_env, commit_all, git, no_aws_files, package_index, plant_shadowing_modules, tool

GLCI_TIMEOUT = 300
MERGE_REQUEST = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_BRANCH": ""}


def include(project_copy: Path, **inputs: str | None) -> str:
    """The include with these inputs; `package` is the project's snapshot unless given (None: the default)."""
    given = {"package": str(project_copy), **inputs}
    lines = "".join(f"      {key}: {json.dumps(value)}\n" for key, value in given.items() if value is not None)
    return f"include:\n  - local: templates/envsync.yml\n    inputs:\n{lines}"


@pytest.fixture
def gitlab_repo(app, project_copy):
    def make(**inputs: str):
        root, stores, values = app()
        (root / "templates").mkdir()
        shutil.copy2(project_copy / "templates" / "envsync.yml", root / "templates" / "envsync.yml")
        (root / ".gitlab-ci.yml").write_text(include(project_copy, **inputs))
        commit_all(root)
        return root, stores, values

    return make


def glci(repo: Path, tmp_path: Path, *args: str, variables: dict[str, str] | None = None,
         leak_watch=None) -> subprocess.CompletedProcess:
    tool("rsync")  # gitlab-ci-local copies the repo with it
    command = [tool("gitlab-ci-local"), "--force-shell-executor", "--home", str(tmp_path / "glci-home")]
    for key, value in (variables or {}).items():
        command += ["--variable", f"{key}={value}"]
    overridden = ",".join(k for k in (variables or {}) if k.startswith("CI_"))
    env = clean_env(GCL_IGNORE_PREDEFINED_VARS=overridden) if overridden else clean_env()
    proc = subprocess.run([*command, *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=GLCI_TIMEOUT)
    if leak_watch is not None:
        leak_watch.outputs.append((f"gitlab-ci-local {' '.join(args)}", proc.stdout + proc.stderr))
        for log in (repo / ".gitlab-ci-local" / "output").glob("*.log"):
            leak_watch.files.append(log)
    return proc


def job_exit(proc: subprocess.CompletedProcess, job: str) -> int:
    """The job's exit code. gitlab-ci-local's own status is 0 for any job with `allow_failure:`
    exit_codes (GitLab honours the codes), so read the code it prints for the job."""
    output = proc.stdout + proc.stderr
    match = re.search(rf"{re.escape(job)} finished in [^\n]*?\b(?:FAIL|WARN) (\d+)", output)
    if match:
        return int(match.group(1))
    assert proc.returncode == 0 and f"{job} finished in" in output, output
    return 0


def jobs_in(repo: Path, tmp_path: Path, variables: dict[str, str]) -> set[str]:
    """The jobs a pipeline with these variables would run (rules applied)."""
    proc = glci(repo, tmp_path, "--list-json", variables=variables)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listing = json.loads(proc.stdout[proc.stdout.index("["):])
    return {job["name"] for job in listing if job.get("when") != "never"}


def test_rules_check_on_merge_requests_and_schedules_push_on_the_default_branch(gitlab_repo, tmp_path):
    repo, _, _ = gitlab_repo()
    assert jobs_in(repo, tmp_path, MERGE_REQUEST) == {"envsync-check"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "schedule"}) == {"envsync-check"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "push"}) == {"envsync-push"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature"}) == set()


def _reports(repo: Path, leak_watch) -> tuple[ET.Element, list[dict], dict]:
    junit, quality, report = (repo / "envsync-junit.xml", repo / "envsync-codequality.json",
                              repo / "envsync-report.json")
    for path in (junit, quality, report):
        assert path.exists(), f"{path.name} was not written"
        leak_watch.files.append(path)
    return ET.parse(junit).getroot(), json.loads(quality.read_text()), json.loads(report.read_text())


def test_check_on_a_drifted_target_fails_with_junit_and_codequality(gitlab_repo, tmp_path, leak_watch,
                                                                    installed_venv):
    repo, _, values = gitlab_repo(targets="drifted")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, "ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 1 and "FAIL" in output, output
    junit, quality, _ = _reports(repo, leak_watch)
    failures = [case for case in junit.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failures] == ["NEW_FLAG"], ET.tostring(junit, encoding="unicode")
    assert sum(int(s.get("failures")) for s in junit.iter("testsuite")) == 1
    assert len(quality) == 1 and "NEW_FLAG" in quality[0]["description"], quality
    issue = quality[0]
    assert issue["location"]["path"] == "schemas/drifted.env.example"
    assert issue["location"]["lines"]["begin"] == 4
    assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"} and issue["fingerprint"]
    assert values["drifted"] not in output


def test_check_on_a_clean_target_passes_after_installing_envsync(gitlab_repo, tmp_path, leak_watch, pip_cache):
    """The template's own install (venv + pip install of `package`, only the SDKs needed)."""
    repo, _, values = gitlab_repo(targets="clean")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, "PIP_CACHE_DIR": str(pip_cache)})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "PASS" in output, output
    assert "Installing the cloud SDKs" not in output, output
    junit, quality, report = _reports(repo, leak_watch)
    assert quality == []
    assert sum(int(s.get("failures")) for s in junit.iter("testsuite")) == 0
    assert {case.get("name") for case in junit.iter("testcase")} == {"API_KEY", "DEBUG"}
    assert values["clean"] not in output


def test_push_on_the_default_branch_creates_a_key_from_its_schema_default(gitlab_repo, tmp_path, leak_watch,
                                                                          installed_venv, run_envsync):
    repo, _, values = gitlab_repo(targets="drifted")
    before = run_envsync("check", "drifted", cwd=repo)
    assert before.code == 1, before.output
    proc = glci(repo, tmp_path, "envsync-push", leak_watch=leak_watch,
                variables={"ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "PASS" in output, output
    assert "NEW_FLAG" in output and values["drifted"] not in output
    after = run_envsync("check", "drifted", cwd=repo)
    assert after.code == 0, after.output
    exported = run_envsync("export", "drifted", "--format", "json", cwd=repo, reveals=True)
    data = json.loads(exported.stdout)
    assert data["NEW_FLAG"] == "on" and data["API_KEY"] == values["drifted"]


def test_diff_job_only_with_diff_targets_on_merge_requests_and_schedules(gitlab_repo, tmp_path):
    repo, _, _ = gitlab_repo(**{"diff-targets": "drifted clean"})
    assert jobs_in(repo, tmp_path, MERGE_REQUEST) == {"envsync-check", "envsync-diff"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "schedule"}) == {"envsync-check", "envsync-diff"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "push"}) == {"envsync-push"}


def test_diff_between_two_targets_fails_with_junit_and_codequality(gitlab_repo, tmp_path, leak_watch,
                                                                   installed_venv):
    repo, _, values = gitlab_repo(**{"diff-targets": "drifted clean"})
    proc = glci(repo, tmp_path, "envsync-diff", leak_watch=leak_watch,
                variables={"CI_PIPELINE_SOURCE": "schedule", "ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-diff") == 1, output
    junit, quality = repo / "envsync-diff-junit.xml", repo / "envsync-diff-codequality.json"
    leak_watch.files += [junit, quality, repo / "envsync-diff-report.json"]
    failures = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None]
    assert failures == ["API_KEY"]  # the two API_KEY values differ; DEBUG agrees
    assert [i["check_name"] for i in json.loads(quality.read_text())] == ["envsync-different"]
    assert values["drifted"] not in output and values["clean"] not in output


# -- the default inputs, as a user's `include:` gets them -------------------------------------------------------


@pytest.fixture
def default_repo(app, project_copy):
    """A consumer repo whose .gitlab-ci.yml includes the template with no inputs at all."""
    def make(inputs: str = "", extra_toml: str = "") -> tuple[Path, dict[str, str]]:
        root, _, values = app(extra_toml)
        (root / "templates").mkdir()
        shutil.copy2(project_copy / "templates" / "envsync.yml", root / "templates" / "envsync.yml")
        (root / ".gitlab-ci.yml").write_text("include:\n  - local: templates/envsync.yml\n" + inputs)
        commit_all(root)
        return root, values

    return make


# The units gitlab-ci-local's durations (pretty-hrtime: "812 ms", "8.78 s", "1.05 min") come in.
SECONDS_PER = {"ns": 1e-9, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}


def job_seconds(proc: subprocess.CompletedProcess, job: str) -> float:
    """How long the job took, as gitlab-ci-local reports it ("finished in 8.78 s")."""
    units = "|".join(SECONDS_PER)
    match = re.search(rf"{re.escape(job)} finished in ([\d.]+) ({units})(?!\w)", proc.stdout + proc.stderr)
    assert match, proc.stdout + proc.stderr
    return float(match.group(1)) * SECONDS_PER[match.group(2)]


@pytest.mark.parametrize("shown, seconds",
                         [("812 ms", 0.812), ("8.78 s", 8.78), ("1.05 min", 63.0), ("2 h", 7200.0)])
def test_job_seconds_reads_every_unit_gitlab_ci_local_prints(shown, seconds):
    line = f"envsync-check finished in {shown}\n"
    proc = subprocess.CompletedProcess([], 0, stdout=f"other-job finished in 1 s\n{line}", stderr="")
    assert job_seconds(proc, "envsync-check") == pytest.approx(seconds)


def test_default_inputs_install_the_released_version_and_check_every_target(default_repo, tmp_path, leak_watch,
                                                                            released):
    """Nothing but the YAML, as `include: component:` or `remote:` gives it: the wheel from the
    index, then the dependencies from the hashed locks inside it."""
    repo, values = default_repo()
    (repo / "envsync").mkdir()  # the project's own module of that name must not stand in for the package
    (repo / "envsync" / "__init__.py").write_text("")
    marker = tmp_path / "planted-module-ran"
    plant_shadowing_modules(repo, marker)  # nor a json.py, re.py or pip/ for the standard library's
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "an envsync module and modules named like the standard library's")
    assert jobs_in(repo, tmp_path, MERGE_REQUEST) == {"envsync-check"}
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={**MERGE_REQUEST, **released})
    output = proc.stdout + proc.stderr
    # Every target (--all): `drifted` lacks NEW_FLAG, `clean` passes; drift fails the job by default.
    assert job_exit(proc, "envsync-check") == 1 and "FAIL" in output and "ENVSYNC_VENV" not in output, output
    assert "Installing the cloud SDKs" not in output, output  # file:// stores need none
    junit, quality, _ = _reports(repo, leak_watch)
    failures = [case.get("name") for case in junit.iter("testcase") if case.find("failure") is not None]
    assert failures == ["NEW_FLAG"] and len(quality) == 1
    assert values["drifted"] not in output and values["clean"] not in output
    assert not marker.exists(), f"the job ran the project's {marker.read_text().split()}"
    print(f"\nFIGURE template job, default install from a local index: {job_seconds(proc, 'envsync-check'):.1f} s")


def test_an_unknown_extra_stops_the_job_with_the_names_it_takes(default_repo, tmp_path, leak_watch, released):
    repo, _ = default_repo('    inputs:\n      extras: "aws,nosuch"\n')
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={**MERGE_REQUEST, **released})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 2, output
    assert "Installing the cloud SDKs these targets use: aws nosuch" in output, output
    assert "extras: no extra named 'nosuch' - use aws, gcp, azure (comma-separated) or none" in output, output


def beyond_the_locks(path: Path) -> str:
    """An extras name that, appended to the locks folder (and .txt), reaches `path`.txt."""
    return "../" * 30 + str(path).lstrip("/")


@pytest.mark.parametrize("extra", ["base", "build", "all", "../x", "a path that is there"])
def test_an_extra_must_be_a_named_sdk_lock_not_another_lock_or_a_path(default_repo, tmp_path, leak_watch, released,
                                                                      project_copy, extra):
    """base, build and all are locks but no SDK; a path would hand pip a requirements file of the
    project's own (here one that is there: a copy of the base lock, which would install)."""
    if extra == "a path that is there":
        shutil.copy2(project_copy / "envsync" / "locks" / "base.txt", tmp_path / "project-lock.txt")
        extra = beyond_the_locks(tmp_path / "project-lock")
    repo, _ = default_repo(f"    inputs:\n      extras: {json.dumps(extra)}\n")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={**MERGE_REQUEST, **released})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 2, output
    assert f"extras: no extra named '{extra}' - use aws, gcp, azure (comma-separated) or none" in output, output
    assert not (repo / "envsync-report.json").exists()  # envsync never ran


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def wheel_server(tmp_path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server on this machine (it ignores credentials) and the folder it serves."""
    folder = tmp_path / "served"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def envsync_wheel_without_locks(folder: Path) -> str:
    """An envsync-secrets wheel from before the locks shipped (an envsync package and nothing more)."""
    name = "envsync_secrets-0.0.1-py3-none-any.whl"
    info = "envsync_secrets-0.0.1.dist-info"
    with zipfile.ZipFile(folder / name, "w") as wheel:
        wheel.writestr("envsync/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: envsync-secrets\nVersion: 0.0.1\n")
        wheel.writestr(f"{info}/WHEEL",
                       "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return name


def test_a_package_url_s_credentials_stay_out_of_the_log(default_repo, tmp_path, leak_watch, wheel_server):
    """A private index's token in `package` (user:token@host): the job's messages name the
    package with the userinfo replaced."""
    host, folder = wheel_server
    token = "tok-" + secrets.token_hex(16)
    leak_watch.values.add(token)
    package = f"http://ci:{token}@{host}/{envsync_wheel_without_locks(folder)}"
    repo, _ = default_repo(f"    inputs:\n      package: {json.dumps(package)}\n")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables=MERGE_REQUEST)
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 2, output
    shown = f"http://***@{host}/envsync_secrets-0.0.1-py3-none-any.whl"
    assert f"package {shown} has no envsync/locks/base.txt" in output, output
    assert token not in output


def test_the_diff_job_installs_the_sdks_of_its_own_targets(default_repo, tmp_path, leak_watch, released):
    """targets (the check and push jobs') has only file stores; diff-targets names one on AWS."""
    prod = '[targets.prod]\nfile = ".env.prod"\nstore = "aws-sm://app/prod?region=eu-west-1"\n'
    repo, _ = default_repo('    inputs:\n      targets: clean\n      diff-targets: "clean prod"\n', extra_toml=prod)
    aws_env = no_aws_files(tmp_path)
    proc = glci(repo, tmp_path, "envsync-diff", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, **released, **aws_env})
    output = proc.stdout + proc.stderr
    assert "Installing the cloud SDKs these targets use: aws" in output, output
    # boto3 is there and asks for credentials (this job has none), rather than missing.
    assert job_exit(proc, "envsync-diff") == 3 and "no AWS credentials found" in output, output


def tampered(wheel: Path) -> None:
    """The same file name with other bytes: one module more."""
    original = zipfile.ZipFile(io.BytesIO(wheel.read_bytes()))
    with zipfile.ZipFile(wheel, "w") as out:
        for item in original.infolist():
            out.writestr(item, original.read(item))
        package = original.namelist()[0].split("/")[0]
        out.writestr(f"{package}/tampered.py", "print('not the published bytes')\n")


@pytest.mark.parametrize("what", ["dependency", "wheel"])
def test_default_install_refuses_bytes_the_locks_or_the_index_do_not_name(default_repo, tmp_path, leak_watch,
                                                                          release_files, what):
    """dependency: the index itself serves another click (with that file's own sha256), which only
    the lock's hash can catch. wheel: envsync's wheel is not the file the index lists."""
    files = tmp_path / "files"
    shutil.copytree(release_files, files)
    if what == "dependency":
        (click,) = files.glob("click-*.whl")
        tampered(click)
        variables = package_index(files, tmp_path / "index")
    else:
        variables = package_index(files, tmp_path / "index")
        tampered(files / f"envsync_secrets-{__version__}-py3-none-any.whl")
    repo, _ = default_repo()
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch, variables={**MERGE_REQUEST, **variables})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") != 0, output
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in output, output
    assert not (repo / "envsync-report.json").exists()  # envsync never ran


def test_fail_on_drift_false_makes_drift_a_warning_that_keeps_its_reports(default_repo, tmp_path, leak_watch,
                                                                          installed_venv):
    repo, values = default_repo("    inputs:\n      fail-on-drift: false\n")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, "ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 78 and "FAIL" in output and "allowed to fail" in output, output
    junit, _, _ = _reports(repo, leak_watch)
    assert [c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None] == ["NEW_FLAG"]
    assert values["drifted"] not in output


def test_fail_on_drift_false_still_fails_on_an_input_error(default_repo, tmp_path, leak_watch, installed_venv):
    repo, _ = default_repo("    inputs:\n      fail-on-drift: false\n      targets: nosuchtarget\n")
    proc = glci(repo, tmp_path, "envsync-check", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, "ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-check") == 2 and "nosuchtarget" in output, output
    assert "allowed to fail" not in output, output


def test_scan_job_only_when_asked_and_its_findings_fail_with_a_codequality_report(default_repo, tmp_path,
                                                                                  leak_watch, installed_venv):
    repo, _ = default_repo()
    assert "envsync-scan" not in jobs_in(repo, tmp_path, MERGE_REQUEST)
    (repo / ".gitlab-ci.yml").write_text('include:\n  - local: templates/envsync.yml\n    inputs:\n      scan: "fail"\n')
    # A GitHub-token-shaped string (random, so no real token) committed in a config file.
    token = "ghp_" + secrets.token_hex(18)
    leak_watch.values.add(token)
    (repo / "deploy.cfg").write_text(f"token = {token}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a leak")
    assert jobs_in(repo, tmp_path, MERGE_REQUEST) == {"envsync-check", "envsync-scan"}
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "push"}) == {"envsync-push"}
    proc = glci(repo, tmp_path, "envsync-scan", leak_watch=leak_watch,
                variables={**MERGE_REQUEST, "ENVSYNC_VENV": installed_venv})
    output = proc.stdout + proc.stderr
    assert job_exit(proc, "envsync-scan") == 1 and "deploy.cfg" in output, output
    report = repo / "envsync-scan-codequality.json"
    leak_watch.files.append(report)
    issues = json.loads(report.read_text())
    assert [issue["location"]["path"] for issue in issues] == ["deploy.cfg"], issues


def test_check_rules_input_replaces_the_check_jobs_rules(default_repo, tmp_path):
    repo, _ = default_repo("    inputs:\n      check-rules:\n        - if: $CI_COMMIT_BRANCH\n")
    assert jobs_in(repo, tmp_path, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "feature"}) == {"envsync-check"}
    assert jobs_in(repo, tmp_path, MERGE_REQUEST) == set()


def test_string_inputs_reach_scripts_only_through_variables():
    """`$[[ inputs.X ]]` is pasted into the YAML before the job runs: a string input inside a script
    line would be shell code. Only boolean and number inputs may appear there."""
    import yaml

    from tests.ci_kit.conftest import PROJECT

    spec, jobs = yaml.safe_load_all((PROJECT / "templates" / "envsync.yml").read_text())
    typed = {name for name, input_ in spec["spec"]["inputs"].items() if input_.get("type") in ("boolean", "number")}
    for job, body in jobs.items():
        if not isinstance(body, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            for line in body.get(key) or []:
                for name in re.findall(r"\$\[\[\s*inputs\.([\w-]+)", line):
                    assert name in typed, f"{job}.{key}: the string input {name} is pasted into a script"
