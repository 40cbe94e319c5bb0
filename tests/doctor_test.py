"""`envsync doctor` on the file store (the cloud stores, whose identities are federated ones,
are in tests/stores/<cloud>/auth_test.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from envsync import doctor
from envsync.config import Target


def target(tmp_path: Path, store: str) -> Target:
    return Target(name="dev", file=tmp_path / ".env", store=store, root=tmp_path)


def test_a_healthy_file_store(tmp_path: Path) -> None:
    diagnosis = doctor.diagnose(target(tmp_path, "file://.envsync/store/dev"))
    assert diagnosis.healthy and diagnosis.exit_code == 0
    assert [(c.name, c.status) for c in diagnosis.checks] == [("identity", "ok"), ("read", "ok"), ("write", "ok")]
    assert diagnosis.federation == "none (local files)"
    assert not (tmp_path / ".envsync").exists()  # nothing written


def test_a_store_folder_you_may_not_write(tmp_path: Path, monkeypatch) -> None:
    # The tests run as root, whom mode bits do not stop: let the OS say no instead.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    diagnosis = doctor.diagnose(target(tmp_path, "file://store"))
    assert diagnosis.exit_code == 3
    write = diagnosis.checks[2]
    assert write.status == "failed" and "is not a folder you may write to" in write.detail


def test_a_bad_store_uri_is_an_input_error(tmp_path: Path) -> None:
    diagnosis = doctor.diagnose(target(tmp_path, "nosuch://x"))
    assert diagnosis.exit_code == 2
    assert [c.status for c in diagnosis.checks] == ["failed", "skipped", "skipped"]


def test_cli_checks_every_target_by_default(run_envsync, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'
                                           '[targets.broken]\nfile = ".env.b"\nstore = "file://blocker/x"\n')
    result = run_envsync("doctor", cwd=tmp_path)
    assert result.code == 2  # the broken target's store is a config error
    assert "dev: file://.envsync/store" in result.stdout and "broken: file://blocker/x" in result.stdout
    assert "FAILED" in result.stdout and "blocker is a file, not a folder" in result.stdout
    healthy = run_envsync("doctor", "dev", "--json", cwd=tmp_path)
    assert healthy.code == 0
    assert json.loads(healthy.stdout)["healthy"] is True
