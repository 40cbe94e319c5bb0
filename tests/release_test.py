"""What a release carries: one distribution name of our own, named the same everywhere an install
names it (the import package and the command stay `envsync`)."""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from envsync import __version__

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


def test_ci_shells_take_the_extras_from_the_cli():
    """The Action and the template ask `envsync targets --json` which extra each store needs: no
    scheme map of their own, no second reading of the package metadata."""
    for name in ("action.yml", "templates/envsync.yml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert 't["extra"]' in text, name
        assert not re.search(r"aws-sm|gcp-sm|azure-kv|importlib\.metadata|requires\(", text), name


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


# Where a user's file pins a release: a tag (`@v1.2.3`, `/raw/v1.2.3/`, `rev: v1.2.3`) or the index version.
PINNED = re.compile(r"(?<![\w.])v(\d+\.\d+\.\d+)\b|envsync-secrets(?:\[[\w,]+\])?==(\d+\.\d+\.\d+)")


def test_every_pinned_release_is_this_version():
    """`envsync --version`, the wheel (tests below), and what the README's examples, the Action's
    docs and the GitLab template's default install all name the one version in envsync/__init__.py."""
    files = [ROOT / "README.md", ROOT / "action.yml", ROOT / "templates" / "envsync.yml", *(ROOT / "docs").glob("*.md")]
    pins = {(path.name, a or b) for path in files for a, b in PINNED.findall(path.read_text(encoding="utf-8"))}
    assert {name for name, _ in pins} >= {"README.md", "envsync.yml"}
    assert {version for _, version in pins} == {__version__}, sorted(pins)


def test_template_installs_its_own_version_from_the_index_by_default():
    template = (ROOT / "templates" / "envsync.yml").read_text(encoding="utf-8").split("\n---\n")[0]
    spec = yaml.safe_load(template)["spec"]["inputs"]
    assert spec["package"]["default"] == f"{DIST}=={__version__}"


# -- the built distributions, installed as a user would -------------------------------------------------------


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path
    venv: Path  # a fresh venv with the wheel installed, nothing from the source tree

    @property
    def envsync(self) -> Path:
        return self.venv / "bin" / "envsync"


def outside_env() -> dict[str, str]:
    """A user's shell: nothing of this test run, no PYTHONPATH that could reach the source tree."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS",
            "PIP_CERT", "PIP_CONSTRAINT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    return env


def run(cmd: list[str | Path], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=outside_env(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """`python -m build` (the sdist, then the wheel from the sdist), then the wheel alone into a new venv."""
    out = tmp_path_factory.mktemp("dist")
    # From a copy of the files git tracks or would (not the ignored ones): a build never writes
    # egg-info or build/ into the work tree.
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True)
    for name in filter(None, tracked.stdout.split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "build", "--outdir", out, source], cwd=out)
    [sdist], [wheel] = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    venv = tmp_path_factory.mktemp("user") / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=out)
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel], cwd=out)
    return Built(sdist, wheel, venv)


def test_distributions_are_named_and_versioned_as_the_package(built: Built):
    assert built.sdist.name == f"envsync_secrets-{__version__}.tar.gz"
    assert built.wheel.name == f"envsync_secrets-{__version__}-py3-none-any.whl"


def test_distribution_metadata_passes_twine_check(built: Built):
    run([sys.executable, "-m", "twine", "check", "--strict", built.sdist, built.wheel], cwd=built.wheel.parent)


def test_wheel_carries_the_licence_and_no_test_tools(built: Built):
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
        info = f"envsync_secrets-{__version__}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert f"{info}/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "Name: envsync-secrets" in metadata.splitlines()
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    extras = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Provides-Extra: ")}
    assert extras == {"aws", "gcp", "azure", "all"}


def test_wheel_carries_the_locks(built: Built):
    with zipfile.ZipFile(built.wheel) as wheel:
        for lock in sorted(LOCKS.glob("*.txt")):
            assert wheel.read(f"envsync/locks/{lock.name}") == lock.read_bytes(), lock.name


def test_installed_wheel_runs_from_its_venv(built: Built, tmp_path: Path):
    where = run([built.venv / "bin" / "python", "-c",
                 "import envsync, importlib.metadata as m; print(envsync.__file__); print(m.version('envsync-secrets'));"
                 "print(sorted({r.split(';')[0].strip() for r in m.requires('envsync-secrets') if 'extra == \"aws\"' in r}))"],
                cwd=tmp_path).stdout.splitlines()
    assert Path(where[0]).is_relative_to(built.venv), "envsync was imported from outside the wheel's venv"
    assert where[1] == __version__
    assert where[2].startswith("['boto3")  # what `pip install 'envsync-secrets[aws]'` adds
    version = run([built.envsync, "--version"], cwd=tmp_path).stdout
    assert version.strip() == f"envsync, version {__version__}"
    assert run([built.venv / "bin" / "python", "-m", "envsync", "--version"], cwd=tmp_path).stdout == version


def test_installed_wheel_syncs_the_file_store_and_scans(built: Built, tmp_path: Path, secret, leak_watch):
    value = secret("db")
    (tmp_path / ".env").write_text(f"DATABASE_PASSWORD={value}\nDEBUG=false\n")
    outputs = [run([built.envsync, "init"], cwd=tmp_path), run([built.envsync, "push", "--yes"], cwd=tmp_path)]
    (tmp_path / ".env").unlink()
    outputs.append(run([built.envsync, "pull", "--yes"], cwd=tmp_path))
    assert (tmp_path / ".env").read_text() == f"DATABASE_PASSWORD={value}\nDEBUG=false\n"

    (tmp_path / "settings.py").write_text("DEBUG = False\n")
    outputs.append(run([built.envsync, "scan", "settings.py"], cwd=tmp_path))
    (tmp_path / "settings.py").write_text(f"DATABASE_PASSWORD = '{value}'\n")
    leaked = subprocess.run([str(built.envsync), "scan", "settings.py"], cwd=tmp_path, env=outside_env(),
                            capture_output=True, text=True, timeout=120)
    assert leaked.returncode == 1, leaked.stderr
    assert "settings.py:1" in leaked.stdout + leaked.stderr
    for proc in [*outputs, leaked]:
        leak_watch.outputs.append((f"output of {' '.join(proc.args[1:])}", proc.stdout + proc.stderr))


def test_changelog_has_an_unreleased_section():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in changelog
    assert re.search(r"^## \[Unreleased\]$", changelog, re.MULTILINE)


# -- the locks (.ci/lock.py) the Action and the template install from -----------------------------------------

LOCKS = ROOT / "envsync" / "locks"


def lock_tool():
    spec = importlib.util.spec_from_file_location("lock_tool", ROOT / ".ci" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lock_entries(name: str) -> dict[str, tuple[str, str, list[str]]]:
    """name -> (version, marker, hashes) for each requirement of envsync/locks/NAME.txt; a name pinned
    twice (under exclusive markers) is keyed name@marker."""
    text = (LOCKS / f"{name}.txt").read_text(encoding="utf-8")
    lines = [line.split("#", 1)[0].rstrip() for line in text.replace("\\\n", " ").splitlines()]
    entries = {}
    for line in filter(None, lines):
        requirement, *hashes = line.split(" --hash=")
        parsed = Requirement(requirement)
        [spec] = parsed.specifier
        assert spec.operator == "==", line
        marker = str(parsed.marker or "")
        key = parsed.name if parsed.name not in {k.split("@")[0] for k in entries} else f"{parsed.name}@{marker}"
        entries[key] = (spec.version, marker, [h.strip() for h in hashes])
    return entries


def test_action_locks_are_fresh():
    """Changing a dependency, an SDK extra or the build backend in pyproject.toml needs new locks."""
    digest = lock_tool().pyproject_digest()
    for name in ("all", "base", "build", "aws", "gcp", "azure"):
        first = (LOCKS / f"{name}.txt").read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# pyproject digest: {digest}", f"envsync/locks/{name}.txt is stale: run python .ci/lock.py"


def test_action_locks_pin_every_requirement_with_hashes():
    for name in ("all", "base", "build", "aws", "gcp", "azure"):
        entries = lock_entries(name)
        assert entries, name
        for package, (_, _, hashes) in entries.items():
            assert hashes and all(h.startswith("sha256:") for h in hashes), f"{name}: {package}"


def test_action_locks_satisfy_pyproject_at_one_set_of_versions():
    project = pyproject()
    everything = lock_entries("all")
    wanted = {"base": project["project"]["dependencies"], "build": project["build-system"]["requires"]}
    for extra in ("aws", "gcp", "azure"):
        wanted[extra] = wanted["base"] + project["project"]["optional-dependencies"][extra]
    for name, requirements in wanted.items():
        entries = lock_entries(name)
        for text in requirements:
            requirement = Requirement(text)
            version = entries[requirement.name][0]
            assert requirement.specifier.contains(version, prereleases=True), f"{name}: {text} but {version}"
        if name != "build":
            for package, (version, _marker, hashes) in entries.items():
                # The marker may be narrower than in all.txt (a package only an older Python needs
                # when just one extra is installed); the version and its bytes may not differ.
                assert everything[package][::2] == (version, hashes), f"envsync/locks/{name}.txt pins {package} apart from all.txt"


def test_every_extra_a_store_names_is_locked():
    from envsync.stores import EXTRAS

    assert set(lock_tool().sdk_extras()) == set(EXTRAS.values()), "pyproject's extras and the stores' disagree"
    assert {lock.stem for lock in LOCKS.glob("*.txt")} == {"all", "base", "build", *EXTRAS.values()}


def test_action_installs_from_the_locks_with_hashes():
    action = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert 'locks="$GITHUB_ACTION_PATH/envsync/locks"' in action
    assert '--require-hashes -r "$locks/base.txt" -r "$locks/build.txt"' in action
    assert 'lock_args+=(-r "$locks/$extra.txt")' in action


def test_template_installs_the_package_alone_then_its_own_locks_with_hashes():
    template = (ROOT / "templates" / "envsync.yml").read_text(encoding="utf-8")
    assert 'envsync_pip --no-deps --only-binary :all: "$ENVSYNC_TEMPLATE_PACKAGE"' in template
    assert 'envsync_pip --require-hashes -r "$ENVSYNC_TEMPLATE_LOCKS/base.txt"' in template
    assert 'envsync_pip --require-hashes -r "$ENVSYNC_TEMPLATE_LOCKS/$extra.txt"' in template
    # Every install goes through envsync_pip, and each one is either EnvSync alone or hashed.
    assert len(re.findall(r"\bpip3? install\b", template)) == 1 and "envsync_pip() {" in template
    assert all(call.startswith(("--no-deps ", "--require-hashes ")) for call in re.findall(r"envsync_pip (.*)", template))
