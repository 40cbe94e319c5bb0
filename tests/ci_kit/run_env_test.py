"""The environment a test's envsync run gets: none of the CI, cloud or EnvSync settings of the
machine the suite runs on (so a suite run inside a CI job behaves as on a laptop)."""
from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("name", ["CI", "RUNNER_OS", "GOOGLE_CLOUD_PROJECT", "AZURE_CLIENT_ID", "CI_JOB_ID"])
def test_a_ci_or_cloud_setting_of_this_process_does_not_reach_the_run(run_envsync, monkeypatch, tmp_path, name):
    monkeypatch.setenv(name, "inherited")
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://.envsync/store"\n'
                                           'expand = true\n')
    (tmp_path / ".env").write_text(f"A=${{{name}:-dropped}}\n")
    assert run_envsync("push", "--yes").code == 0
    exported = run_envsync("export", "--format", "json", reveals=True)
    assert json.loads(exported.stdout) == {"A": "dropped"}
