"""Regenerate envsync/locks/: the pinned, hashed requirements the GitHub Action and the GitLab
template install, so one release installs the same bytes a year later (issue 15).

One resolution for every platform and Python 3.10+ (uv's universal mode, all.txt), split into
what the installers need: base.txt (EnvSync's own dependencies), aws/gcp/azure.txt (base plus one
extra's SDK, at the same versions) and build.txt (the build backend that turns the action's
source into the package). They are package data: the wheel carries them, so the template, which
has only its own YAML at job time, installs the locks of the very wheel it downloaded. Each file
records the digest of the pyproject.toml fields it was made from; tests/release_test.py fails
when they have changed since.

    pip install --group lock && python .ci/lock.py
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "envsync" / "locks"
DIGEST_LINE = "# pyproject digest: "
ALL = (LOCKS / "all.txt").relative_to(ROOT).as_posix()  # what the split files are constrained to


def sdk_extras(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The extras that each install one cloud's SDK: every extra but `all`, their union."""
    extras = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("optional-dependencies", {})
    return sorted(name for name in extras if name != "all")


def pyproject_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """What the locks depend on: the dependencies, the SDK extras and the build requirements."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    extras = data["project"].get("optional-dependencies", {})
    inputs = {"dependencies": data["project"]["dependencies"],
              "extras": {name: extras.get(name, []) for name in sdk_extras(pyproject)},
              "build": data["build-system"]["requires"]}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def compile_lock(out: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--universal", "--generate-hashes",
                    "--python-version", "3.10", "--custom-compile-command", "python .ci/lock.py",
                    "--output-file", str(out), *args], cwd=ROOT, check=True, input=stdin, text=True)
    text = out.read_text(encoding="utf-8")
    out.write_text(f"{DIGEST_LINE}{pyproject_digest()}\n{text}", encoding="utf-8")


def main() -> None:
    LOCKS.mkdir(exist_ok=True)
    # Resolved once together (all.txt), so each extra's file pins the shared packages at the same versions.
    compile_lock(LOCKS / "all.txt", "pyproject.toml", "--all-extras")
    compile_lock(LOCKS / "base.txt", "pyproject.toml", "--constraint", ALL)
    for extra in sdk_extras():
        compile_lock(LOCKS / f"{extra}.txt", "pyproject.toml", "--extra", extra, "--constraint", ALL)
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    compile_lock(LOCKS / "build.txt", "-", stdin="\n".join(build) + "\n")


if __name__ == "__main__":
    main()
