"""What a release carries: one distribution name of our own, named the same everywhere an install
names it (the import package and the command stay `envsync`)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DIST = "envsync-secrets"
# Taken on the package index by unrelated projects (issue 15); several ship an `envsync` command.
TAKEN = ("envsync", "envsync-cli", "envsync-secure", "envsync-vault", "envsync0o2")


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def confusable(name: str) -> str:
    """How the index compares names when it refuses a new one as too like an existing one."""
    return re.sub(r"[-_.]", "", name).casefold()


def test_distribution_name_is_ours():
    project = pyproject()["project"]
    assert project["name"] == DIST
    assert confusable(DIST) not in {confusable(name) for name in TAKEN}
    assert project["scripts"] == {"envsync": "envsync.cli:main"}


def test_all_extra_names_the_distribution():
    assert pyproject()["project"]["optional-dependencies"]["all"] == [f"{DIST}[aws,gcp,azure]"]


def test_readme_installs_name_the_distribution():
    installs = re.findall(r"pip install '([\w.-]+)\[", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert installs and set(installs) == {DIST}


def test_action_and_template_read_the_distributions_metadata():
    # Their SDK selection reads the extras' requirements with importlib.metadata.requires(NAME):
    # the old name finds nothing (or another project's metadata) once the distribution is renamed.
    for path in ("action.yml", "gitlab/envsync.yml"):
        assert re.findall(r"requires\(\"([\w.-]+)\"\)", (ROOT / path).read_text(encoding="utf-8")) == [DIST], path


MISSING_SDK = """
import sys
sys.modules["boto3"] = None  # as if the aws extra were not installed
from envsync.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_missing_sdk_hint_names_the_distribution(tmp_path: Path):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "aws-sm://app"\n')
    (tmp_path / ".env").write_text("A=1\n")
    proc = subprocess.run([sys.executable, "-c", MISSING_SDK, "check"], cwd=tmp_path, capture_output=True,
                          text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "AWS_REGION": "eu-west-1"})
    assert proc.returncode == 2, proc.stderr
    assert f"pip install '{DIST}[aws]'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_is_written_once():
    project = pyproject()["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "envsync.__version__"}


def test_licence_is_the_declared_mit_in_the_current_metadata_form():
    project = pyproject()
    assert project["project"]["license"] == "MIT"  # a PEP 639 expression, not the deprecated table
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    setuptools_floor = re.search(r"setuptools>=(\d+)", " ".join(project["build-system"]["requires"]))
    assert setuptools_floor and int(setuptools_floor.group(1)) >= 77  # first setuptools with PEP 639


def test_test_and_bench_tools_are_not_published_extras():
    project = pyproject()
    assert set(project["project"]["optional-dependencies"]) == {"aws", "gcp", "azure", "all"}
    groups = project["dependency-groups"]
    assert {"test", "bench"} <= set(groups)
    assert any(req.startswith("pytest") for req in groups["test"])
    assert any(req.startswith(("build", "twine")) for req in groups["test"])


def test_readme_test_command_is_the_one_ci_runs():
    fence = re.search(r"```sh\n(python3 -m venv .venv && [^\n]*pytest[^\n]*)\n```", (ROOT / "README.md").read_text())
    assert fence, "README.md has no test command"
    assert fence.group(1) in (ROOT / ".ci" / "run").read_text().splitlines()
    assert "--group test" in fence.group(1)
