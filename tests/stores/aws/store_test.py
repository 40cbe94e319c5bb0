"""AWS Secrets Manager store: what the contract suite cannot see.

All through the real boto3 SDK over HTTP against moto's server (`moto_server`, one per
session, wiped before each test). Calls are observed with botocore's event hooks on the
store's own client, and the store's effects are checked behind its back with a plain
boto3 client (`aws.sm`). See tests/fakes/aws_server.py for the emulator and its patched gaps.
"""
from __future__ import annotations

import logging
import json
import math
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import Change, Snapshot
from envsync.stores.base import StoreOptions
from tests.fakes.aws_server import AwsErrorProxy, store_uri, subprocess_env
from tests.stores.aws.emulator import EMPTY, ROOT, Aws, CallLog, apply, one_line_store_error

# -- reads: ListSecrets 100 a page, BatchGetSecretValue 20 a call --------------------------


def test_per_key_read_pages_and_batches(aws: Aws, secret) -> None:
    tag = secret("bulk")
    values = {f"KEY_{i:03d}": f"{tag}-{i}" for i in range(250)}
    apply(aws.open(layout="per-key"), values, EMPTY)

    reader = aws.open(layout="per-key")
    log = CallLog(reader.client)
    snapshot = reader.read()
    assert dict(snapshot.values) == values
    assert log.count("ListSecrets") == math.ceil(250 / 100)
    assert log.count("BatchGetSecretValue") == math.ceil(250 / 20)
    assert log.count("GetSecretValue") == 0
    assert set(log.names) == {"ListSecrets", "BatchGetSecretValue"}
    assert {p.get("MaxResults") for p in log.params("ListSecrets")} == {100}
    batches = [p["SecretIdList"] for p in log.params("BatchGetSecretValue")]
    assert all(len(b) <= 20 for b in batches)
    assert sum(len(b) for b in batches) == 250
    assert reader.info(snapshot).secrets == 250


def test_per_key_read_ignores_lookalike_prefixes_and_bundles(aws: Aws) -> None:
    apply(aws.open("app/prod", "per-key"), {"A": "prod"}, EMPTY)
    apply(aws.open("app/production", "per-key"), {"C": "lookalike prefix"}, EMPTY)
    apply(aws.open("app/prod", "bundle"), {"D": "bundle of the same name"}, EMPTY)
    aws.sm.create_secret(Name="app/prod/not a key!", SecretString="other tool")
    store = aws.open("app/prod", "per-key")
    assert dict(store.read().values) == {"A": "prod"}
    assert any("not a valid .env key name" in note for note in store.notes)
    assert dict(aws.open("app/production", "per-key").read().values) == {"C": "lookalike prefix"}


def test_nested_per_key_targets_stay_apart(aws: Aws) -> None:
    prod, eu = aws.open("app/prod", "per-key"), aws.open("app/prod/eu", "per-key")
    apply(prod, {"A": "prod"}, EMPTY)
    apply(eu, {"B": "eu"}, EMPTY)
    snapshot = prod.read()
    assert dict(snapshot.values) == {"A": "prod"}


def test_bundle_read_is_one_call(aws: Aws, secret) -> None:
    values = {f"K{i}": secret(f"v{i}") for i in range(30)}
    apply(aws.open(), values, EMPTY)
    reader = aws.open()
    log = CallLog(reader.client)
    assert dict(reader.read().values) == values
    assert log.names == ["GetSecretValue"]
    assert log.params("GetSecretValue")[0]["VersionStage"] == "AWSCURRENT"


def test_per_key_value_limit_is_64_kib_and_refused_before_any_write(aws: Aws, secret, leak_watch) -> None:
    store = aws.open(layout="per-key")
    small = secret("small")
    at_limit = secret("limit") + "é" * ((65_536 - 30) // 2)
    at_limit += "x" * (65_536 - len(at_limit.encode()))
    assert len(at_limit.encode()) == 65_536
    written = apply(store, {"AT_LIMIT": at_limit}, EMPTY)
    assert aws.current("app/prod/AT_LIMIT") == at_limit

    over = at_limit + "x"
    with pytest.raises(InputError) as caught:
        apply(store, {"SMALL": small, "OVER": over}, written)
    leak_watch.outputs.append(("size error", str(caught.value)))
    assert caught.value.exit_code == 2
    assert "OVER" in str(caught.value) and "64 KiB" in str(caught.value) and "nothing was pushed" in str(caught.value)
    assert aws.names() == ["app/prod/AT_LIMIT"]


# -- tags and secrets EnvSync did not create -------------------------------------------------


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_created_secrets_are_tagged(aws: Aws, layout: str, secret) -> None:
    apply(aws.open(layout=layout), {"API_KEY": secret("a"), "db.url": secret("b")}, EMPTY)
    if layout == "bundle":
        assert aws.names() == ["app/prod"]
        assert aws.tags("app/prod")["managed-by"] == "envsync"
    else:
        assert aws.names() == ["app/prod/API_KEY", "app/prod/db.url"]
        for key in ("API_KEY", "db.url"):
            tags = aws.tags(f"app/prod/{key}")
            assert tags["managed-by"] == "envsync"
            assert tags["envsync-key"] == key


@pytest.mark.parametrize("change", ["set", "delete"])
def test_per_key_secret_without_the_tag_is_never_touched(aws: Aws, change: str, secret, leak_watch) -> None:
    theirs, ours, new = secret("theirs"), secret("ours"), secret("new")
    aws.sm.create_secret(Name="app/prod/API_KEY", SecretString=theirs)  # made by hand, no tags
    store = aws.open(layout="per-key")
    snapshot = store.read()
    assert dict(snapshot.values) == {"API_KEY": theirs}
    changes = {"NEW_KEY": new, "API_KEY": ours if change == "set" else None}
    with pytest.raises(EnvSyncError) as caught:
        apply(store, changes, snapshot)
    message = one_line_store_error(caught.value, leak_watch)
    assert "--adopt" in message and "app/prod/API_KEY" in message
    assert aws.current("app/prod/API_KEY") == theirs
    assert len(aws.versions("app/prod/API_KEY")) == 1
    assert "DeletedDate" not in aws.sm.describe_secret(SecretId="app/prod/API_KEY")
    assert aws.names() == ["app/prod/API_KEY"], "the clean change of the batch was written anyway"


def test_per_key_adopt_tags_then_writes(aws: Aws, secret) -> None:
    theirs, ours = secret("theirs"), secret("ours")
    aws.sm.create_secret(Name="app/prod/API_KEY", SecretString=theirs, Tags=[{"Key": "team", "Value": "web"}])
    store = aws.open(layout="per-key", options=StoreOptions(adopt=True))
    apply(store, {"API_KEY": ours}, store.read())
    assert aws.current("app/prod/API_KEY") == ours
    assert aws.tags("app/prod/API_KEY") == {"team": "web", "managed-by": "envsync", "envsync-key": "API_KEY"}
    # adopted: from now on a plain run may write it
    plain = aws.open(layout="per-key")
    apply(plain, {"API_KEY": theirs}, plain.read())
    assert aws.current("app/prod/API_KEY") == theirs


def test_bundle_secret_without_the_tag_needs_adopt(aws: Aws, secret, leak_watch) -> None:
    theirs, ours = secret("theirs"), secret("ours")
    aws.sm.create_secret(Name="app/prod", SecretString=json.dumps({"API_KEY": theirs, "PORT": 8080}))
    store = aws.open()
    snapshot = store.read()
    assert dict(snapshot.values) == {"API_KEY": theirs, "PORT": "8080"}
    with pytest.raises(EnvSyncError) as caught:
        apply(store, {"API_KEY": ours}, snapshot)
    message = one_line_store_error(caught.value, leak_watch)
    assert "--adopt" in message and "app/prod" in message
    assert json.loads(aws.current("app/prod"))["API_KEY"] == theirs
    assert len(aws.versions("app/prod")) == 1

    adopting = aws.open(options=StoreOptions(adopt=True))
    apply(adopting, {"API_KEY": ours}, adopting.read())
    assert json.loads(aws.current("app/prod")) == {"API_KEY": ours, "PORT": "8080"}
    assert aws.tags("app/prod")["managed-by"] == "envsync"


def test_bundle_name_holding_something_else_is_refused(aws: Aws, leak_watch) -> None:
    aws.sm.create_secret(Name="app/prod", SecretString="not json at all")
    with pytest.raises(EnvSyncError) as caught:
        aws.open().read()
    assert "layout=per-key" in one_line_store_error(caught.value, leak_watch)


# -- deletion: recovery window by default, at once when forced ---------------------------------


def test_delete_uses_the_recovery_window_and_can_be_restored(aws: Aws, secret) -> None:
    keep, gone = secret("keep"), secret("gone")
    store = aws.open(layout="per-key")
    written = apply(store, {"KEEP": keep, "GONE": gone}, EMPTY)
    log = CallLog(store.client)
    apply(store, {"GONE": None}, written)
    (delete,) = log.params("DeleteSecret")
    assert delete["RecoveryWindowInDays"] == 7 and "ForceDeleteWithoutRecovery" not in delete
    described = aws.sm.describe_secret(SecretId="app/prod/GONE")
    assert described.get("DeletedDate") is not None
    assert described["DeletedDate"] > datetime.now(timezone.utc) + timedelta(days=6)  # moto: when it goes
    assert dict(aws.open(layout="per-key").read().values) == {"KEEP": keep}

    aws.sm.restore_secret(SecretId="app/prod/GONE")
    assert dict(aws.open(layout="per-key").read().values) == {"KEEP": keep, "GONE": gone}


def test_recovery_days_option(aws: Aws) -> None:
    store = aws.open(layout="per-key", recovery_days="30")
    written = apply(store, {"A": "1"}, EMPTY)
    log = CallLog(store.client)
    apply(store, {"A": None}, written)
    assert log.params("DeleteSecret")[0]["RecoveryWindowInDays"] == 30
    for bad in ("6", "31", "week"):
        with pytest.raises(InputError, match="7 to 30"):
            aws.open(layout="per-key", recovery_days=bad)


def test_force_delete_deletes_at_once(aws: Aws) -> None:
    store = aws.open(layout="per-key", options=StoreOptions(force_delete=True))
    written = apply(store, {"KEEP": "1", "GONE": "2"}, EMPTY)
    log = CallLog(store.client)
    apply(store, {"GONE": None}, written)
    assert log.params("DeleteSecret")[0].get("ForceDeleteWithoutRecovery") is True
    assert "RecoveryWindowInDays" not in log.params("DeleteSecret")[0]
    assert aws.names() == ["app/prod/KEEP"]  # not even scheduled: gone
    with pytest.raises(aws.sm.exceptions.ResourceNotFoundException):
        aws.sm.describe_secret(SecretId="app/prod/GONE")
    # the name is free again at once
    apply(store, {"GONE": "back"}, store.read())
    assert dict(aws.open(layout="per-key").read().values) == {"KEEP": "1", "GONE": "back"}


def test_a_pruned_key_written_again_is_restored_and_says_so(aws: Aws, secret) -> None:
    store = aws.open(layout="per-key")
    written = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
    after = apply(store, {"B": None}, written)
    fresh = secret("fresh")
    again = apply(store, {"B": fresh}, after)
    assert dict(aws.open(layout="per-key").read().values) == dict(again.values)
    assert dict(again.values)["B"] == fresh
    assert "DeletedDate" not in aws.sm.describe_secret(SecretId="app/prod/B")
    assert any("restored" in note and "app/prod/B" in note for note in store.notes)


def test_a_foreign_secret_pending_deletion_says_how_to_restore(aws: Aws, secret, leak_watch) -> None:
    aws.sm.create_secret(Name="app/prod/B", SecretString="theirs")
    aws.sm.delete_secret(SecretId="app/prod/B", RecoveryWindowInDays=7)
    store = aws.open(layout="per-key")
    with pytest.raises(EnvSyncError) as caught:
        apply(store, {"C": secret("c"), "B": secret("b")}, store.read())
    message = one_line_store_error(caught.value, leak_watch)
    assert "aws secretsmanager restore-secret --secret-id app/prod/B" in message and "--adopt" in message
    assert aws.names() == ["app/prod/B"], "nothing of the batch may be written"


def test_a_key_deleted_by_someone_else_since_the_read_is_a_conflict(aws: Aws, secret) -> None:
    store = aws.open(layout="per-key")
    written = apply(store, {"A": secret("a")}, EMPTY)
    aws.sm.delete_secret(SecretId="app/prod/A", RecoveryWindowInDays=7)
    with pytest.raises((ConflictError, ApplyError)) as caught:
        apply(store, {"A": secret("changed")}, written)
    assert caught.value.exit_code == 1
    assert dict(apply(store, {"A": None}, written).values) == {}, "deleting it too is agreement, not a conflict"


def test_bundle_pending_deletion_says_how_to_restore(aws: Aws, leak_watch) -> None:
    store = aws.open()
    apply(store, {"A": "1"}, EMPTY)
    aws.sm.delete_secret(SecretId="app/prod", RecoveryWindowInDays=7)
    with pytest.raises(EnvSyncError) as caught:
        aws.open().read()
    assert "restore-secret --secret-id app/prod" in one_line_store_error(caught.value, leak_watch)


# -- idempotency -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_rerunning_the_same_apply_adds_no_version(aws: Aws, layout: str, secret) -> None:
    store = aws.open(layout=layout)
    base = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
    changes = {"A": secret("a2"), "B": None, "C": secret("c")}
    done = apply(store, changes, base)
    names = aws.names(deleted=True)
    counts = {name: len(aws.versions(name)) for name in names}
    try:
        apply(aws.open(layout=layout), changes, base)  # e.g. a CI job retried after it succeeded
    except EnvSyncError as exc:
        assert isinstance(exc.cause if isinstance(exc, ApplyError) else exc, ConflictError), exc
    assert aws.names(deleted=True) == names
    assert {name: len(aws.versions(name)) for name in names} == counts
    assert dict(aws.open(layout=layout).read().values) == dict(done.values)


class LoseFirstAnswer:
    """Make botocore send a request a second time after it succeeded, as it would after a
    lost response: the same body, so the same ClientRequestToken."""

    def __init__(self, client: Any, operation: str) -> None:
        self.operation = operation
        self.sent: list[dict[str, Any]] = []
        client.meta.events.register_first(f"needs-retry.secrets-manager.{operation}", self)

    def __call__(self, attempts: int, request_dict: dict[str, Any], response: Any = None, **_: Any):
        self.sent.append(json.loads(request_dict["body"]))
        if attempts == 1 and response is not None and response[0].status_code == 200:
            return 0  # retry now
        return None


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_put_retried_with_the_same_token_is_a_no_op(aws: Aws, layout: str, secret) -> None:
    store = aws.open(layout=layout)
    first = apply(store, {"A": secret("a1"), "B": secret("b")}, EMPTY)
    name = "app/prod" if layout == "bundle" else "app/prod/A"
    before = len(aws.versions(name))
    lost = LoseFirstAnswer(store.client, "PutSecretValue")
    a2 = secret("a2")
    second = apply(store, {"A": a2}, first)
    assert len(lost.sent) == 2 and lost.sent[0] == lost.sent[1], "the request was not sent twice"
    assert lost.sent[0]["ClientRequestToken"]
    assert len(aws.versions(name)) == before + 1
    assert dict(aws.open(layout=layout).read().values)["A"] == a2
    assert second.versions["A"] == lost.sent[0]["ClientRequestToken"]


def test_create_retried_with_the_same_token_is_a_no_op(aws: Aws, secret) -> None:
    store = aws.open(layout="per-key")
    lost = LoseFirstAnswer(store.client, "CreateSecret")
    value = secret("v")
    written = apply(store, {"NEW": value}, EMPTY)
    assert len(lost.sent) == 2 and lost.sent[0] == lost.sent[1]
    assert len(aws.versions("app/prod/NEW")) == 1
    assert dict(aws.open(layout="per-key").read().values) == {"NEW": value}
    assert written.versions["NEW"] == lost.sent[0]["ClientRequestToken"]


def test_tokens_do_not_expose_the_value(aws: Aws, secret) -> None:
    """Version ids are visible to anyone who may list versions; they are keyed with the
    content (HMAC), so they are no plain hash of the value."""
    import hashlib
    import uuid

    value = secret("v")
    written = apply(aws.open(layout="per-key"), {"K": value}, EMPTY)
    version = written.versions["K"]
    for text in (value, f"app/prod/K{value}", f"envsync\0app/prod/K\0new{value}"):
        digest = hashlib.sha256(text.encode()).digest()[:16]
        assert version != str(uuid.UUID(bytes=digest, version=4))


# -- compare-and-swap: two writers, one snapshot --------------------------------------------------


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_two_writers_from_one_snapshot_exactly_one_wins(aws: Aws, layout: str, secret) -> None:
    """Both pass every check and stage their version; then both move AWSCURRENT, first
    writer 0 then writer 1. The second move must be refused."""
    seed = aws.open(layout=layout)
    snapshot = apply(seed, {"A": "original", "B": "untouched"}, EMPTY)
    stores = [aws.open(layout=layout), aws.open(layout=layout)]
    values = [secret("writer0"), secret("writer1")]
    both_staged = threading.Barrier(2, timeout=10)
    first_moved = threading.Event()
    reached: list[int] = []

    def before_move(index: int, **_: Any) -> None:
        reached.append(index)
        both_staged.wait()
        if index == 1:
            assert first_moved.wait(10)

    def after_move(index: int, **_: Any) -> None:
        if index == 0:
            first_moved.set()

    for index, store in enumerate(stores):
        store.client.meta.events.register("before-call.secrets-manager.UpdateSecretVersionStage",
                                          lambda index=index, **kw: before_move(index, **kw))
        store.client.meta.events.register("after-call.secrets-manager.UpdateSecretVersionStage",
                                          lambda index=index, **kw: after_move(index, **kw))
    outcomes: list[Any] = [None, None]

    def run(index: int) -> None:
        try:
            outcomes[index] = apply(stores[index], {"A": values[index]}, snapshot)
        except Exception as exc:  # noqa: BLE001 - inspected below
            outcomes[index] = exc
            first_moved.set()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(reached) == [0, 1], "both writers must get as far as moving AWSCURRENT"
    assert isinstance(outcomes[0], Snapshot), outcomes[0]
    loser = outcomes[1]
    assert isinstance(loser, EnvSyncError), loser
    cause = loser.cause if isinstance(loser, ApplyError) else loser
    assert isinstance(cause, ConflictError), loser
    assert loser.exit_code == 1
    if isinstance(loser, ApplyError):
        assert loser.applied == []
    assert dict(aws.open(layout=layout).read().values) == {"A": values[0], "B": "untouched"}


# -- bundle sharding -----------------------------------------------------------------------------


def big_values(secret, total: int, label: str) -> dict[str, str]:
    tag = secret(label)
    values, size, i = {}, 0, 0
    while size < total:
        value = f"{tag}-{i}-" + os.urandom(1500).hex()
        values[f"KEY_{i:03d}"] = value
        size += len(value) + 20
        i += 1
    return values


def shard_names(aws: Aws, name: str = "app/prod") -> list[str]:
    return [n for n in aws.names(name) if n.startswith(name + ".envsync-shard-")]


def test_bundle_over_the_limit_is_sharded_and_round_trips(aws: Aws, secret) -> None:
    values = big_values(secret, 200 * 1024, "big")
    store = aws.open()
    written = apply(store, values, EMPTY)
    shards = shard_names(aws)
    assert len(shards) >= 4  # 200 KiB in pieces of at most 60 kB
    manifest = aws.current("app/prod")
    assert len(manifest) < 2048 and "@envsync" in json.loads(manifest)
    for name in shards:
        assert len(aws.current(name)) <= 60_000
        assert aws.tags(name)["managed-by"] == "envsync"

    reader = aws.open()
    snapshot = reader.read()
    assert dict(snapshot.values) == values
    assert snapshot.revision == written.revision
    assert reader.info(snapshot).secrets == 1 + len(shards)
    assert store.info(written).secrets == 1 + len(shards)

    changed = dict(values, KEY_000="changed")
    apply(reader, {"KEY_000": "changed"}, snapshot)
    assert dict(aws.open().read().values) == changed
    assert aws.open().read_versions({"KEY_001": written.revision}) == {"KEY_001": values["KEY_001"]}


def test_shrinking_a_sharded_bundle_leaves_no_billable_shards_behind(aws: Aws, secret) -> None:
    store = aws.open()
    written = apply(store, big_values(secret, 200 * 1024, "big"), EMPTY)
    small = apply(store, {k: None for k in list(written.values)[1:]}, written)
    smaller = apply(store, {next(iter(small.values)): "changed"}, small)  # the shrunk-away shards go now
    live = aws.names("app/prod", deleted=False)
    assert store.info(smaller).secrets == len(live) == 1


def test_shrinking_keeps_the_replaced_bundle_readable_as_a_merge_base(aws: Aws, secret) -> None:
    """Another checkout's base is the version a shrinking push replaced: its shards must still
    be served, or that checkout's next sync calls every differing key a conflict."""
    store = aws.open()
    written = apply(store, big_values(secret, 300 * 1024, "five"), EMPTY)
    shards_before = len(shard_names(aws))
    drop = list(written.values)[: len(written.values) // 4]
    apply(store, {k: None for k in drop}, written)
    assert len(shard_names(aws)) == shards_before
    key = drop[0]
    assert aws.open().read_versions({key: written.revision}) == {key: written.values[key]}


KILL_SCRIPT = r"""
import json, sys, threading
from pathlib import Path
from envsync.config import Target
from envsync.model import Change
from envsync.stores import open_store

uri, changes_file, let_through = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(Target(name="kill", file=Path(".env"), store=uri, root=Path.cwd()))
expected = store.read()
changes = [Change(k, v) for k, v in json.loads(Path(changes_file).read_text()).items()]
lock, started, finished = threading.Lock(), [0], [0]
WRITES = ("PutSecretValue", "CreateSecret")

def shard_of(params):
    return ".envsync-shard-" in (params.get("SecretId") or params.get("Name") or "")

def before(params, model, context, **_):
    if model.name in WRITES and shard_of(params):
        context["envsync_shard"] = True
        with lock:
            started[0] += 1
            mine = started[0]
        if mine > let_through:
            threading.Event().wait()  # hold every later shard write until we are killed

def after(context, **_):
    if context.get("envsync_shard"):
        with lock:
            finished[0] += 1
            if finished[0] == let_through:
                print("SHARDS-WRITTEN", flush=True)

store.client.meta.events.register("before-parameter-build.secrets-manager", before)
store.client.meta.events.register("after-call.secrets-manager", after)
store.apply(changes, expected)
print("APPLIED", flush=True)
"""


@pytest.mark.parametrize("previous", ["plain", "sharded"])
def test_push_killed_between_shard_writes_leaves_the_old_snapshot(aws: Aws, previous: str, secret,
                                                                  tmp_path: Path) -> None:
    store = aws.open()
    old_values = big_values(secret, 200 * 1024, "old") if previous == "sharded" else {"A": secret("small")}
    old = apply(store, old_values, EMPTY)
    new_values = big_values(secret, 200 * 1024, "new")
    changes = {**{k: None for k in old_values if k not in new_values}, **new_values}
    changes_file = tmp_path / "changes.json"
    changes_file.write_text(json.dumps(changes))
    shards_before = {n: len(aws.versions(n)) for n in shard_names(aws)}

    env = subprocess_env(tmp_path / "aws-empty-config", PYTHONPATH=str(ROOT))
    (tmp_path / "aws-empty-config").touch()
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, aws.uri("app/prod"), str(changes_file), "2"],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()  # type: ignore[union-attr]
        assert line == "SHARDS-WRITTEN", f"push did not reach the shards: {line!r} {child.stderr.read()}"  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert child.returncode == -signal.SIGKILL

    written_by_the_killed_push = [n for n in shard_names(aws) if len(aws.versions(n)) > shards_before.get(n, 0)]
    assert len(written_by_the_killed_push) == 2
    fresh = aws.open().read()
    assert dict(fresh.values) == old_values
    assert fresh.revision == old.revision

    # the same push again (same snapshot, same changes) converges. Tokens are random (a token
    # derived from the content would be a guessable version id), so the killed run's shard
    # versions stay behind as unlabelled orphans: one extra version per shard at most.
    rerun = aws.open()
    expected = rerun.read()
    done = rerun.apply([Change(k, v) for k, v in changes.items()], expected)
    assert dict(aws.open().read().values) == new_values == dict(done.values)
    for name in written_by_the_killed_push:
        assert len(aws.versions(name)) <= shards_before.get(name, 0) + 2, f"{name} got more than one orphan"
        current = [v for v in aws.versions(name) if "AWSCURRENT" in v.get("VersionStages", [])]
        assert len(current) == 1


# -- regressions from review ------------------------------------------------------------------


def test_a_per_key_target_ignores_another_targets_bundle_under_its_prefix(aws: Aws, secret) -> None:
    bundle_store = aws.open("app/prod", "bundle")
    apply(bundle_store, big_values(secret, 200 * 1024, "b"), EMPTY)  # app/prod + its shards
    per_key = aws.open("app", "per-key")
    apply(per_key, {"OWN": secret("own")}, EMPTY)
    snapshot = per_key.read()
    assert set(snapshot.values) == {"OWN"}
    apply(per_key, {"OWN": None}, snapshot)  # what push --prune would do
    assert "DeletedDate" not in aws.sm.describe_secret(SecretId="app/prod")


def test_a_bundle_can_grow_shrink_and_grow_again(aws: Aws, secret) -> None:
    store = aws.open()
    big = apply(store, big_values(secret, 200 * 1024, "one"), EMPTY)
    small = apply(store, {k: None for k in list(big.values)[1:]}, big)
    again = apply(store, big_values(secret, 200 * 1024, "two"), small)
    assert dict(aws.open().read().values) == dict(again.values)


def test_a_secret_force_deleted_during_apply_is_reported_not_a_crash(aws: Aws, secret) -> None:
    store = aws.open(layout="per-key")
    written = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
    aws.sm.delete_secret(SecretId="app/prod/B", ForceDeleteWithoutRecovery=True)
    with pytest.raises((ConflictError, ApplyError)) as caught:
        apply(store, {"A": secret("a2"), "B": secret("b2")}, written)
    assert caught.value.exit_code == 1


def test_version_ids_do_not_depend_on_the_value(aws: Aws) -> None:
    first, second = aws.open("one", "bundle"), aws.open("two", "bundle")
    a = apply(first, {"DEBUG": "true"}, EMPTY)
    b = apply(second, {"DEBUG": "true"}, EMPTY)
    assert a.revision != b.revision


def test_reading_an_old_sharded_version_does_not_change_the_secret_count(aws: Aws, secret) -> None:
    store = aws.open()
    smaller = apply(store, big_values(secret, 200 * 1024, "small"), EMPTY)
    apply(store, big_values(secret, 300 * 1024, "large"), smaller)
    reader = aws.open()
    now = reader.read()
    count = reader.info(now).secrets
    key = next(iter(smaller.values))
    assert reader.read_versions({key: smaller.revision}) == {key: smaller.values[key]}  # type: ignore[dict-item]
    assert reader.info(now).secrets == count > 5


def test_bundle_history_of_a_key_lists_only_its_changes(aws: Aws) -> None:
    store = aws.open()
    one = apply(store, {"A": "1", "B": "1"}, EMPTY)
    two = apply(store, {"B": "2"}, one)
    apply(store, {"A": "3"}, two)
    assert [e.action for e in store.history("B")] == ["changed", "added"]
    assert len(store.history()) == 3


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_sdk_debug_logging_never_carries_a_value(aws: Aws, layout: str, secret, caplog) -> None:
    """botocore logs request params and response bodies at DEBUG; EnvSync drops those records."""
    caplog.set_level(logging.DEBUG)
    store = aws.open(layout=layout)
    value = secret("logged")
    written = apply(store, {"K": value}, EMPTY)
    store.read()
    store.read_versions(dict(written.versions))
    store.history("K")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert any(r.name.startswith("botocore") for r in caplog.records), "debug logging was on"
    assert value not in text


def test_a_manifest_naming_another_secret_is_refused(aws: Aws, secret) -> None:
    """The shard manifest is store content: a writer of this store must not make EnvSync read
    another secret (prod's) into this bundle, from where a push would write it back in clear."""
    from envsync.errors import StoreError

    stolen = secret("prod")
    prod = aws.sm.create_secret(Name="prod/api", SecretString=stolen)
    a = aws.sm.create_secret(Name="app/prod.envsync-shard-000", SecretString='{"STOLEN":"')
    b = aws.sm.create_secret(Name="app/prod.envsync-shard-001", SecretString='"}')
    shards = [{"name": "app/prod.envsync-shard-000", "version": a["VersionId"]},
              {"name": "prod/api", "version": prod["VersionId"]},
              {"name": "app/prod.envsync-shard-001", "version": b["VersionId"]}]
    aws.sm.create_secret(Name="app/prod", SecretString=json.dumps({"@envsync": {"format": 1, "shards": shards}}))
    with pytest.raises(StoreError, match="not this bundle's own shard"):
        aws.open().read()


def test_history_of_the_target_reports_a_refused_read_instead_of_a_version_gone(aws: Aws) -> None:
    refusing: list[bool] = []

    def check(body: bytes) -> tuple[str, str] | None:  # an old version's read (only those name a VersionId)
        if refusing and b'"VersionId"' in body:
            return ("AccessDeniedException", "not authorized to perform secretsmanager:GetSecretValue")
        return None

    proxy = AwsErrorProxy(aws.endpoint, check=check)
    try:
        store = aws.open(uri=store_uri(proxy.endpoint, "app/prod", "bundle"))
        written = store.apply([Change("A", "1")], EMPTY)
        store.apply([Change("K", "v")], written)
        refusing.append(True)
        with pytest.raises(StoreError) as caught:
            store.history(changes=True)
        assert caught.value.exit_code == 3 and "GetSecretValue" in str(caught.value), str(caught.value)
    finally:
        proxy.stop()
