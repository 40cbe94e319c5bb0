"""Races (issue 7, part 2): two `envsync` processes write the same target at the same
instant, round after round, for every store and layout.

Each round alice and bob (two project folders sharing one store) edit their .env and run
`push`/`sync` together: both processes import EnvSync and the store's SDK first, then
wait on a shared go-file, and are released together (one of them a random 0-15 ms later,
so different phases of the two runs overlap from round to round). The entry point they
run is the one the installed `envsync` script runs (`envsync.cli.main`).

After each round, read straight from the store:
- no lost update: a run that exited 0 has all of its changes in the store (Azure Key Vault
  has no compare-and-swap: there a slipped-through race is counted and reported, not failed);
- a loser exits 1 (a conflict) and, ideally, changed nothing (counted when it did:
  `loser_partly_applied`);
- the loser re-runs `sync` (settling a same-key clash with `--on-conflict remote`), the
  winner syncs, and both .env files equal the store.

Rounds per store x layout: $ENVSYNC_RACE_ROUNDS (default 4, which covers same-key and
other-key edits under push/sync and push/push; 100 with ENVSYNC_CAMPAIGN=full, see
campaign.py). Figures go to TALLY
(fault_proxy.py), saved to $ENVSYNC_RELIABILITY_REPORT_FAULTS.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envsync import config as envsync_config
from envsync import dotenv_file
from envsync.stores import open_store
from tests.reliability.campaign import size
from tests.fakes.fault_proxy import TALLY, Backend, note, write_tally

ROUNDS = size("ENVSYNC_RACE_ROUNDS", ci=4, full=100)
LAYOUTS = ["bundle", "per-key"]
SDK = {"file": "envsync.stores.file", "aws-sm": "envsync.stores.aws.connect", "gcp-sm": "envsync.stores.gcp.connect",
       "azure-kv": "envsync.stores.azure.connect"}
RUNNER = r"""
import importlib, os, sys, time
from envsync.cli import main
importlib.import_module(sys.argv[1])
go, stagger = sys.argv[2], float(sys.argv[3])
open(go + ".ready-%d" % os.getpid(), "w").close()
while not os.path.exists(go):
    time.sleep(0.0005)
if stagger:
    time.sleep(stagger)
sys.exit(main(sys.argv[4:]))
"""


@pytest.fixture(scope="module", autouse=True)
def _tally():
    yield
    write_tally()


@pytest.fixture(params=["file", "aws", "gcp", "azure"])
def backend(request, monkeypatch) -> Backend:
    chosen: Backend = request.getfixturevalue(f"faulty_{request.param}_backend")
    if chosen.faults is not None:
        chosen.faults.stop()
    for name, value in chosen.env.items():
        monkeypatch.setenv(name, value)  # this process reads the store directly too
    return chosen


def child_env(backend: Backend) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "AWS_"))}
    env.update(backend.env)
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    return env


def race(backend: Backend, sides: list[tuple[Path, list[str]]], go: Path, stagger: list[float]):
    """Start every side, wait until each has imported everything, release them together."""
    env = child_env(backend)
    procs = [subprocess.Popen([sys.executable, "-c", RUNNER, SDK[backend.name], str(go), str(delay), *args],
                              cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for (cwd, args), delay in zip(sides, stagger)]
    deadline = time.monotonic() + 30
    while len(list(go.parent.glob(go.name + ".ready-*"))) < len(procs):
        assert time.monotonic() < deadline, "the racers did not get ready"
        time.sleep(0.002)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append((proc.returncode, out, err))
    for path in go.parent.glob(go.name + "*"):
        path.unlink()
    return results


def store_values(folder: Path) -> dict[str, str]:
    target = envsync_config.load(start=folder).select([], False)[0]
    return dict(open_store(target).read().values)


def env_values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def write_env(folder: Path, values: dict[str, str]) -> None:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_writers_race(backend: Backend, layout, run_envsync, secret, tmp_path, leak_watch):
    prefix = f"race{random.randrange(10**6)}-{layout}"
    uri = backend.uri(prefix, layout, **({"retries": "2"} if backend.name == "azure-kv" else {}))
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    for folder in (alice, bob):
        folder.mkdir()
        (folder / "envsync.toml").write_text(f'[targets.prod]\nfile = ".env"\nstore = "{uri}"\n')
        leak_watch.files.append(folder / ".envsync" / "state.json")

    def run(*args: str, cwd: Path):
        return run_envsync(*args, cwd=cwd, env=backend.env)

    base = {"SHARED": secret("s0"), "ONLY_A": secret("a0"), "ONLY_B": secret("b0"), "KEEP": secret("k0")}
    write_env(alice, base)
    assert run("push", "--yes", cwd=alice).code == 0
    assert run("pull", "--yes", cwd=bob).code == 0
    rng = random.Random(f"{backend.name}-{layout}")
    tally = {"rounds": 0, "conflicts": 0, "both_applied": 0, "lost_updates": 0, "loser_partly_applied": 0,
             "partial_examples": [], "lost_examples": []}
    go = tmp_path / "go"
    current = dict(base)
    for round_ in range(ROUNDS):
        overlap = round_ % 2 == 0
        mine = {"ONLY_A": secret(f"a{round_}")}
        theirs = {"ONLY_B": secret(f"b{round_}")}
        if overlap:
            mine["SHARED"], theirs["SHARED"] = secret(f"sa{round_}"), secret(f"sb{round_}")
        write_env(alice, {**current, **mine})
        write_env(bob, {**current, **theirs})
        commands = [["push", "--yes"], ["sync", "--yes"] if round_ % 4 < 2 else ["push", "--yes"]]
        stagger = [0.0, rng.uniform(0, 0.015)] if rng.random() < 0.5 else [rng.uniform(0, 0.015), 0.0]
        results = race(backend, [(alice, commands[0]), (bob, commands[1])], go, stagger)
        for (code, out, err), who in zip(results, ("alice", "bob")):
            leak_watch.outputs.append((f"{who} round {round_}", out + err))
            assert code in (0, 1), f"round {round_}: {who} exited {code}: {err}{out[-800:]}"
            if code == 1:
                assert "conflict" in (out + err).lower() or "changed" in (out + err).lower(), out + err
        stored = store_values(alice)
        codes = [code for code, _, _ in results]
        for (code, out, err), changes, other in zip(results, (mine, theirs), (theirs, mine)):
            kept = [k for k, v in changes.items() if stored.get(k) == v]
            if code == 0 and len(kept) != len(changes):
                tally["lost_updates"] += 1
                tally["lost_examples"].append(f"round {round_} ({'same key' if overlap else 'other keys'}, "
                                              f"{commands[0][0]} vs {commands[1][0]}): exit codes {codes}, "
                                              f"kept {kept} of {sorted(changes)}")
            if code == 1 and [k for k in kept if other.get(k) != changes[k]]:
                tally["loser_partly_applied"] += 1
                tally["partial_examples"].append(f"round {round_}: {err.strip()[-300:]}")
        tally["rounds"] += 1
        tally["conflicts"] += codes.count(1)
        tally["both_applied"] += int(codes == [0, 0])
        if backend.name != "azure-kv":  # Azure: counted and reported (no compare-and-swap there)
            assert tally["lost_updates"] == 0, f"round {round_}: a run exited 0 but its change is not in the " \
                                               f"store: {tally['lost_examples']}"

        # converge: each loser syncs (a same-key clash settled for the store), then everyone syncs
        for (code, _, _), folder in zip(results, (alice, bob)):
            if code != 0:
                again = run("sync", "--yes", cwd=folder)
                if again.code == 1:  # its edit clashes with the winner's on the same key
                    again = run("sync", "--yes", "--on-conflict", "remote", cwd=folder)
                assert again.code == 0, again.output
        for (code, _, _), folder in zip(results, (alice, bob)):
            if code == 0:  # a loser's sync above already brought it the winner's changes
                settled = run("sync", "--yes", cwd=folder)
                assert settled.code == 0, settled.output
        current = env_values(alice)
        assert env_values(bob) == current == store_values(alice), f"round {round_}: the sides did not converge"

    races = TALLY["races"]
    races["by_store"][f"{backend.name}/{layout}"] = {k: v for k, v in tally.items() if not k.endswith("examples")}
    for name in ("rounds", "conflicts", "both_applied", "loser_partly_applied"):
        races[name] += tally[name]
    races["lost_updates" if backend.name != "azure-kv" else "azure_slipped_through"] = \
        races.get("lost_updates" if backend.name != "azure-kv" else "azure_slipped_through", 0) + tally["lost_updates"]
    if tally["lost_examples"]:
        note(f"{backend.name}/{layout}: race slipped through (a successful write overwritten): "
             f"{tally['lost_examples']}")
    if tally["partial_examples"]:
        note(f"{backend.name}/{layout}: a losing run had already applied part of its changes: "
             f"{tally['partial_examples'][:2]}")
    note(f"{backend.name}/{layout}: {tally['rounds']} race rounds, {tally['conflicts']} conflicts, "
         f"{tally['both_applied']} rounds where both applied, {tally['lost_updates']} lost updates")
    if backend.name != "azure-kv":
        assert tally["lost_updates"] == 0
