"""`pip install --group lock` gives .ci/lock.py all it imports, on every Python EnvSync supports."""
from __future__ import annotations

import tomllib

from packaging.requirements import Requirement

from tests.ci_kit.conftest import PROJECT


def test_lock_group_brings_tomli_on_python_3_10():
    group = tomllib.loads((PROJECT / "pyproject.toml").read_text())["dependency-groups"]["lock"]
    assert "import tomli as tomllib" in (PROJECT / ".ci" / "lock.py").read_text()
    tomli = [Requirement(r) for r in group if Requirement(r).name == "tomli"]
    assert tomli, f"the lock group {group} has no tomli, which .ci/lock.py imports on 3.10"
    (requirement,) = tomli
    assert requirement.marker is not None
    assert requirement.marker.evaluate({"python_version": "3.10"})
    assert not requirement.marker.evaluate({"python_version": "3.11"})
