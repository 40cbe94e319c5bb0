"""Helpers of the end-to-end federation tests (tests/stores/<cloud>/auth_test.py): the real
`envsync` gets an ID token from a local fake of GitHub's endpoint (or GitLab's `id_tokens:`
variable) and trades it for the cloud's credentials; no static keys anywhere."""
from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import MASK, without_masks


def project(tmp_path: Path, store: str, text: str) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "envsync.toml").write_text(f'[targets.ci]\nfile = ".env"\nstore = "{store}"\n')
    (folder / ".env").write_text(text)
    return folder


def assert_only_masks_hold_values(result, values) -> None:
    """On GitHub, `::add-mask::VALUE` lines (on stderr) carry values by design; nothing else
    may, and every value read was masked."""
    assert not any(v in without_masks(result.output) for v in values), "a value outside an ::add-mask:: line"
    assert set(values) <= {line.removeprefix(MASK) for line in result.stderr.splitlines()}


def doctor(run_envsync, folder: Path, env: dict[str, str]) -> tuple[int, dict]:
    result = run_envsync("doctor", "--json", cwd=folder, env=env)
    return result.code, json.loads(result.stdout)["targets"][0]


def checks(report: dict) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["status"], c["detail"]) for c in report["checks"]}
