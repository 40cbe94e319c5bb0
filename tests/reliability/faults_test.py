"""Throttling and faults (issue 7, part 2): the real `envsync` executable against each cloud
store, both layouts, with faults injected between it and the store (tests/reliability/
fault_proxy.py): AWS through an HTTP proxy in front of moto, GCP and Azure inside their fakes.

1. ~15% of calls fault (throttling, 5xx, connection resets, slow answers): push, pull and
   sync of 200 keys between two project folders complete and converge; retries are
   bounded (attempts counted where the wire shows them) and the whole run stays bounded.
2. Writes fail 100% (retries run out): exit 3, one line on stderr that names exactly what
   was and was not applied (no values); a re-run after the outage converges.
3. Every call fails, reads included: exit 3, one line, nothing applied.
4. AWS only: answers lost after moto applied the write (a RST instead of the response): the
   retried write must not turn into a false conflict or a duplicate.

The figures go to TALLY (fault_proxy.py), written to $ENVSYNC_RELIABILITY_REPORT_FAULTS.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from envsync import dotenv_file
from tests.fakes.fault_proxy import TALLY, Backend, key, note, write_tally

LAYOUTS = ["bundle", "per-key"]
KEYS = 200
# per store: URI options for runs under ~15% faults, and for runs whose retries must run out
OPTIONS = {
    "aws-sm": ({}, {}),  # botocore adaptive mode, max_attempts 8: fixed in the store
    "gcp-sm": ({"timeout": "30"}, {"timeout": "2"}),
    "azure-kv": ({"retries": "6"}, {"retries": "2"}),
}
# whole-command bounds (seconds) under ~15% faults, and with retries running out
FLAKY_BOUND = 60.0
OUTAGE_BOUND = {"aws-sm": 20.0, "gcp-sm": 15.0, "azure-kv": 15.0}
_counter = iter(range(1, 10_000))


@pytest.fixture(scope="module", autouse=True)
def _tally():
    yield
    write_tally()


@pytest.fixture(params=["aws", "gcp", "azure"])
def backend(request) -> Backend:
    chosen: Backend = request.getfixturevalue(f"faulty_{request.param}_backend")
    assert chosen.faults is not None
    chosen.faults.stop()
    chosen.faults.clear()
    if hasattr(chosen.server, "request_log"):
        chosen.server.request_log.clear()
    yield chosen
    chosen.faults.stop()


def folders(tmp_path: Path, uri: str, leak_watch, *names: str) -> list[Path]:
    made = []
    for name in names:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "envsync.toml").write_text(f'[targets.prod]\nfile = ".env"\nstore = "{uri}"\n')
        leak_watch.files.append(folder / ".envsync" / "state.json")
        made.append(folder)
    return made


def write_env(folder: Path, values: dict[str, str]) -> None:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def env_values(folder: Path) -> dict[str, str]:
    return dotenv_file.load(folder / ".env").values()


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {stderr!r}"
    return lines[0]


def applied_split(line: str) -> tuple[set[str], set[str]]:
    match = re.search(r"\(applied to the store: (.*); not applied: (.*)\)$", line)
    assert match, f"the error does not say what was and was not applied: {line!r}"

    def keys(text: str) -> set[str]:
        return set() if text == "none" else {k.strip() for k in text.split(",")}

    return keys(match.group(1)), keys(match.group(2))


def check_attempts(backend: Backend, *, ran_out: bool = False) -> tuple[int, int, float]:
    """Retries are bounded. AWS: botocore numbers each attempt; the store's max_attempts=8 is
    botocore's count of *retries*, so a call is sent at most 9 times."""
    faults = backend.faults
    assert faults is not None
    retries, most, span = faults.record_attempts()
    if backend.name == "azure-kv":  # no attempt header: a faulted request seen again is a retry
        gaps = {kind: backend.server.retry_gaps_after(kind) for kind in ("429", "503", "reset")}
        retries = sum(len(g) for g in gaps.values())
        TALLY["retries_observed"]["azure"] += retries
        if gaps["429"]:
            # Retry-After: 0.2 on every 429; the SDK must wait at least that long
            assert min(gaps["429"]) >= 0.19, f"a 429's Retry-After was not honoured: {min(gaps['429']):.3f}s"
    if backend.name == "aws-sm":
        assert most <= 9, f"one call was attempted {most} times (max_attempts is 8 retries)"
        if ran_out:
            assert most == 9, f"retries should have run out at 1 + 8 attempts, saw {most}"
    return retries, most, span


@pytest.mark.parametrize("layout", LAYOUTS)
def test_push_pull_sync_converge_under_faults(backend: Backend, layout, run_envsync, secret, tmp_path, leak_watch):
    flaky_options, _ = OPTIONS[backend.name]
    uri = backend.uri(f"flaky{next(_counter)}-{layout}", layout, **flaky_options)
    alice, bob, carol = folders(tmp_path, uri, leak_watch, "alice", "bob", "carol")
    values = {key(i): secret(f"k{i}") for i in range(1, KEYS + 1)}
    write_env(alice, values)

    def run(*args: str, cwd: Path):
        started = time.monotonic()
        result = run_envsync(*args, "--yes", cwd=cwd, env=backend.env)
        took = time.monotonic() - started
        TALLY["runs"][f"{backend.name}/{layout}:{args[0]}"] += 1
        assert result.code == 0, f"{args} exited {result.code} under faults after {took:.1f}s: {result.stderr} {result.stdout[-1500:]}"
        assert took < FLAKY_BOUND, f"{args} took {took:.1f}s under ~15% faults"
        return result

    backend.faults.set(**backend.flaky)
    started = time.monotonic()
    run("push", cwd=alice)
    run("pull", cwd=bob)
    assert env_values(bob) == values

    # both sides edit disjoint keys; alice also adds and bob deletes (with --prune)
    mine = {key(i): secret(f"a{i}") for i in range(1, 21)}
    added = {f"NEW{i}": secret(f"n{i}") for i in range(1, 6)}
    theirs = {key(i): secret(f"b{i}") for i in range(101, 111)}
    gone = [key(i) for i in range(191, 196)]
    write_env(alice, {**values, **mine, **added})
    write_env(bob, {k: v for k, v in {**values, **theirs}.items() if k not in gone})
    run("sync", cwd=alice)
    run("sync", "--prune", cwd=bob)
    # AWS and Azure per-key: a deleted secret's versions cannot be read, so the other side
    # sees an unknown base for a pruned key (a conflict; test_pruned_key_... below, xfail)
    lossy = backend.name in ("aws-sm", "azure-kv") and layout == "per-key"
    run("sync", "--prune", *(["--on-conflict", "remote"] if lossy else []), cwd=alice)
    expected = {k: v for k, v in {**values, **mine, **added, **theirs}.items() if k not in gone}
    assert env_values(alice) == expected
    assert env_values(bob) == expected
    total = time.monotonic() - started
    injected = dict(backend.faults.injected)
    retries, most, span = check_attempts(backend)

    # the faults stop: every side agrees with the store, and a newcomer gets the same
    backend.faults.stop()
    for folder in (alice, bob):
        planned = run_envsync("plan", cwd=folder, env=backend.env)
        assert planned.code == 0, planned.output
    run("pull", cwd=carol)
    assert env_values(carol) == expected
    # a bundle run is a handful of calls; per-key is hundreds
    assert sum(injected.values()) >= (2 if layout == "bundle" else 10), f"too few faults injected: {injected}"
    note(f"{backend.name}/{layout} under ~15% faults: 5 commands of 200 keys in {total:.1f}s, injected "
         f"{injected}, calls {sum(backend.faults.calls.values())}, retries seen {retries}, most attempts {most}")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_retries_run_out_exit_3_and_say_what_was_applied(backend: Backend, layout, run_envsync, secret, tmp_path,
                                                         leak_watch):
    _, outage_options = OPTIONS[backend.name]
    uri = backend.uri(f"outage{next(_counter)}-{layout}", layout, **outage_options)
    alice, carol = folders(tmp_path, uri, leak_watch, "alice", "carol")
    values = {key(i): secret(f"k{i}") for i in range(1, 61)}
    write_env(alice, values)
    first = run_envsync("push", "--yes", cwd=alice, env=backend.env)
    assert first.code == 0, first.output

    changed = [key(i) for i in range(1, 6)]
    edits = {k: secret(f"e{k}") for k in changed}
    write_env(alice, {**values, **edits})
    # per-key: two of the five keys cannot be written; bundle: the one bundle write cannot
    failing = [key(2), key(4)] if layout == "per-key" else None
    backend.faults.clear()
    backend.faults.set(only=backend.writes_of(failing), **backend.outage)
    started = time.monotonic()
    result = run_envsync("push", "--yes", cwd=alice, env=backend.env)
    took = time.monotonic() - started
    TALLY["runs"][f"{backend.name}/{layout}:push(outage)"] += 1
    assert result.code == 3, result.output
    line = one_line(result.stderr)
    applied, not_applied = applied_split(line)
    if layout == "per-key":
        assert (applied, not_applied) == ({key(1), key(3), key(5)}, {key(2), key(4)}), line
    else:
        assert (applied, not_applied) == (set(), set(changed)), line
    assert took < OUTAGE_BOUND[backend.name], f"giving up took {took:.1f}s"
    assert backend.faults.total_injected() >= 2
    retries, most, span = check_attempts(backend, ran_out=True)
    per_call = _attempts_per_failing_call(backend)
    if backend.name == "azure-kv":
        # retries=2 in the URI. azure-core stops when a budget goes below 0 but drops budgets at
        # exactly 0 from that check, so retry_total=N allows N+1 retries: 4 attempts in all
        assert per_call and max(per_call) <= 4, per_call
        gaps = backend.server.retry_gaps_after("503")
        assert gaps and max(gaps) >= 1.0, f"no exponential backoff seen between attempts: {gaps}"
    if backend.name == "gcp-sm":
        assert per_call and min(per_call) >= 2, f"GCP gave up without retrying: {per_call}"
        assert max(per_call) <= 30, f"GCP retried one call {max(per_call)} times within timeout=2"
    note(f"{backend.name}/{layout}: writes failing 100% -> exit 3 after {took:.1f}s; attempts per failing "
         f"call {sorted(per_call)}; stderr: {line}")

    if layout == "bundle":  # every call fails, the reads too: exit 3, one line (once per store: slow)
        backend.faults.set(**backend.outage)
        down = run_envsync("push", "--yes", cwd=alice, env=backend.env)
        assert down.code == 3, down.output
        note(f"{backend.name}: store down (reads too) -> exit 3: {one_line(down.stderr)}")

    # the outage ends: a re-run finishes the job, and a newcomer sees the result
    backend.faults.stop()
    again = run_envsync("push", "--yes", cwd=alice, env=backend.env)
    assert again.code == 0, again.output
    assert run_envsync("plan", cwd=alice, env=backend.env).code == 0
    pulled = run_envsync("pull", "--yes", cwd=carol, env=backend.env)
    assert pulled.code == 0, pulled.output
    assert env_values(carol) == {**values, **edits}


def _attempts_per_failing_call(backend: Backend) -> list[int]:
    """How many times each call the outage hit was sent (per logical call where the wire
    identifies one, else per method and resource)."""
    faults = backend.faults
    server = backend.server
    if backend.name == "azure-kv":
        counts: dict[tuple[str, str], int] = {}
        for method, path, _, kind in server.request_log:
            if kind is not None and method == "PUT":
                counts[(method, path)] = counts.get((method, path), 0) + 1
        return list(counts.values())
    hit = {inv: len(runs) for inv, runs in faults.attempts.items()
           if runs and runs[0][0] in backend.write_ops}
    return [n for n in hit.values() if n > 1] or list(hit.values())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_aws_lost_answers_after_the_write(faulty_aws_backend: Backend, layout, run_envsync, secret, tmp_path,
                                          leak_watch):
    """The proxy forwards a share of the writes to moto and then drops the answer: the write
    happened, the client only sees a reset and retries it. The retry must be harmless."""
    backend = faulty_aws_backend
    uri = backend.uri(f"lost{next(_counter)}-{layout}", layout)
    alice, carol = folders(tmp_path, uri, leak_watch, "alice", "carol")
    values = {key(i): secret(f"k{i}") for i in range(1, 41)}
    write_env(alice, values)
    backend.faults.clear()
    idempotent = {"CreateSecret", "PutSecretValue", "TagResource"}  # ClientRequestToken / same tags
    backend.faults.set(only=lambda op, _: op in idempotent, drop=0.5 if layout == "bundle" else 0.25)
    codes = []
    for round_ in range(3):
        result = run_envsync("push", "--yes", cwd=alice, env=backend.env)
        codes.append((result.code, result.stderr.strip()))
        values = {**values, **{key(i): secret(f"r{round_}-{i}") for i in range(1, 11)}}
        write_env(alice, values)
    result = run_envsync("push", "--yes", cwd=alice, env=backend.env)
    codes.append((result.code, result.stderr.strip()))
    dropped = backend.faults.injected["drop"]
    backend.faults.stop()
    note(f"aws-sm/{layout}: {dropped} answers dropped after moto applied the write; push exit codes "
         f"{[c for c, _ in codes]}; errors: {[e for c, e in codes if c]}")
    assert dropped > 0
    assert all(code == 0 for code, _ in codes), codes
    pulled = run_envsync("pull", "--yes", cwd=carol, env=backend.env)
    assert pulled.code == 0, pulled.output
    assert env_values(carol) == values


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pruned_key_reaches_the_other_side_without_conflict(backend: Backend, layout, run_envsync, secret,
                                                            tmp_path, leak_watch, request):
    """No faults: bob prunes a key alice never touched; alice's `sync --prune` should just
    delete it locally. On AWS and Azure per-key it is a conflict instead ("its value at the
    last sync can no longer be read"): the deleted secret's versions are unreadable there."""
    if backend.name in ("aws-sm", "azure-kv") and layout == "per-key":
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "per-key on AWS/Azure: a key deleted by another developer reads as a conflict (unknown base), "
            "so `sync --prune` never propagates a deletion without --on-conflict")))
    uri = backend.uri(f"prune{next(_counter)}-{layout}", layout)
    alice, bob = folders(tmp_path, uri, leak_watch, "alice", "bob")
    values = {key(i): secret(f"k{i}") for i in range(1, 6)}
    write_env(alice, values)
    assert run_envsync("push", "--yes", cwd=alice, env=backend.env).code == 0
    assert run_envsync("pull", "--yes", cwd=bob, env=backend.env).code == 0
    write_env(bob, {k: v for k, v in values.items() if k != key(3)})
    pruned = run_envsync("sync", "--yes", "--prune", cwd=bob, env=backend.env)
    assert pruned.code == 0, pruned.output
    result = run_envsync("sync", "--yes", "--prune", cwd=alice, env=backend.env)
    assert result.code == 0, result.stdout
    assert key(3) not in env_values(alice)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_aws_lost_answer_to_the_compare_and_swap(faulty_aws_backend: Backend, layout, run_envsync, secret, tmp_path,
                                                  leak_watch):
    backend = faulty_aws_backend
    uri = backend.uri(f"cas{next(_counter)}-{layout}", layout)
    alice, carol = folders(tmp_path, uri, leak_watch, "alice", "carol")
    values = {key(i): secret(f"k{i}") for i in range(1, 4)}
    write_env(alice, values)
    assert run_envsync("push", "--yes", cwd=alice, env=backend.env).code == 0
    edited = {**values, key(1): secret("new")}
    write_env(alice, edited)
    backend.faults.clear()
    backend.faults.set(only=lambda op, _: op == "UpdateSecretVersionStage", budget=1, drop=1.0)
    result = run_envsync("push", "--yes", cwd=alice, env=backend.env)
    backend.faults.stop()
    assert backend.faults.injected["drop"] == 1
    pulled = run_envsync("pull", "--yes", cwd=carol, env=backend.env)
    assert pulled.code == 0 and env_values(carol) == edited  # the write did land
    note(f"aws-sm/{layout}: lost answer to UpdateSecretVersionStage -> exit {result.code}: {result.stderr.strip()}")
    assert result.code == 0, result.stderr
