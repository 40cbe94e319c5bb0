"""Crash safety (issue 7): SIGKILL the real `envsync` during push, pull and sync of 1,000 keys,
for every store and layout, and check nothing is torn, mixed or lost (tests/reliability/kill_harness.py).

Knobs (environment; ENVSYNC_CAMPAIGN=full sets the campaign's figures, see campaign.py):
  ENVSYNC_KILLS               kills per store x layout, spread over push/pull/sync (CI: 3, one per
                              command, each in another phase; the full campaign: 50)
  ENVSYNC_KILL_KEYS           keys in the .env (CI: 100; the full campaign: 1000)
  ENVSYNC_KILL_CHANGES        values changed per cycle (CI: 30; full: 100; plus adds and deletes)
  ENVSYNC_KILL_SEED           the RNG seed (default: random, printed on failure)
  ENVSYNC_RELIABILITY_REPORT  a JSON file to add each case's tally to
Run with `-s` to see each case's tally.
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.conftest import ENVSYNC
from tests.fakes.gcp_fake import PROJECT
from tests.reliability.campaign import size
from tests.reliability.kill_harness import (
    AwsBackend,
    AzureBackend,
    Case,
    FileBackend,
    GcpBackend,
    write_report,
)

STORES = ["file", "aws-sm", "gcp-sm", "azure-kv"]
LAYOUTS = ["bundle", "per-key"]
KILLS = size("ENVSYNC_KILLS", ci=3, full=50)
KEYS = size("ENVSYNC_KILL_KEYS", ci=100, full=1000)
CHANGES = size("ENVSYNC_KILL_CHANGES", ci=30, full=100)


def _seed() -> int:
    given = os.environ.get("ENVSYNC_KILL_SEED")
    return int(given) if given else random.SystemRandom().randrange(1, 2**31)


def _backend(store: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    if store == "file":
        return FileBackend()
    if store == "aws-sm":
        from tests.fakes.aws_server import isolate_aws_env

        isolate_aws_env(monkeypatch, tmp_path)  # the in-process reader/writer uses the fake keys too
        config = tmp_path / "aws-empty-config"
        return AwsBackend(request.getfixturevalue("moto_server"), config)
    if store == "gcp-sm":
        fake = request.getfixturevalue("gcp_fake")  # wiped, GCP variables cleared
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)  # for the in-process reader/writer
        return GcpBackend(fake)
    return AzureBackend(request.getfixturevalue("azure_fake"))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("store", STORES)
def test_sigkill_push_pull_sync(store: str, layout: str, request, tmp_path: Path, monkeypatch, leak_watch) -> None:
    backend = _backend(store, request, tmp_path, monkeypatch)
    project = tmp_path / "project"
    project.mkdir()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "AWS_"))}
    case = Case(backend, layout, project, ENVSYNC, base_env, seed=_seed(), keys=KEYS, changes=CHANGES)
    try:
        case.run_all(KILLS)
    finally:
        print("\n" + case.tally.summary())
        write_report(case.tally)
        leak_watch.outputs.extend(case.outputs[-20:])
    tally = case.tally
    assert tally.lost == 0
    assert not tally.violations
    assert tally.kills >= KILLS, f"only {tally.kills} of {KILLS} runs were killed (seed {tally.seed})"


@pytest.mark.xfail(strict=True, reason="bug: on aws-sm per-key, `sync --prune` after a teammate deleted a key "
                   "reports a conflict ('its value at the last sync can no longer be read') instead of "
                   "deleting it locally: the soft-deleted secret's old version is unreadable, so the base is "
                   "UNKNOWN and plan._two_way treats a synced key as a conflict")
def test_sync_propagates_a_store_side_delete_aws_per_key(run_envsync, moto_server, tmp_path: Path,
                                                          monkeypatch) -> None:
    from tests.fakes.aws_server import store_uri, subprocess_env

    moto_server.reset()
    config = tmp_path / "aws-empty-config"
    config.write_text("")
    env = {k: v for k, v in subprocess_env(config).items() if k.startswith("AWS_")}
    uri = store_uri(moto_server.endpoint, "del/app", "per-key")
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for folder in (alice, bob):
        folder.mkdir()
        (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{uri}"\n')
    (alice / ".env").write_text("A=alpha-value\nB=bravo-value\n")
    assert run_envsync("push", "--yes", cwd=alice, env=env).code == 0
    assert run_envsync("pull", "--yes", cwd=bob, env=env).code == 0
    (alice / ".env").write_text("A=alpha-value\n")
    assert run_envsync("push", "--yes", "--prune", cwd=alice, env=env).code == 0
    synced = run_envsync("sync", "--yes", "--prune", cwd=bob, env=env)
    assert synced.code == 0, synced.output
    assert (bob / ".env").read_text() == "A=alpha-value\n"
