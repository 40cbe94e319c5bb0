"""envsync/stores/gcp/lease.py: compare-and-swap on Secret Manager — racing stores, a
version added by another tool, live and expired locks, a refused batch rolled back."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from envsync.errors import ApplyError, ConflictError, EnvSyncError
from envsync.model import Snapshot
from tests.fakes.gcp_fake import PROJECT, FakeSecretManager
from tests.stores.gcp.secret_manager import EMPTY, LAYOUTS, apply, open_at


def enabled_versions(fake: FakeSecretManager, secret_id: str) -> list[int]:
    secret = fake.secret(secret_id)
    assert secret is not None, secret_id
    return [n for n, v in sorted(secret.versions.items()) if v.state.name == "ENABLED"]


def is_conflict(exc: BaseException) -> bool:
    cause = exc.cause if isinstance(exc, ApplyError) else exc
    return isinstance(cause, ConflictError) and exc.exit_code == 1 and not getattr(exc, "applied", [])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_racing_stores_one_wins(gcp_fake, tmp_path, layout):
    uri = gcp_fake.uri("app", layout)
    base = apply(open_at(tmp_path, uri), {"A": "base", "B": "b"}, EMPTY)
    stores = [open_at(tmp_path, uri), open_at(tmp_path, uri)]
    snapshots = [s.read() for s in stores]
    gcp_fake.delay("UpdateSecret", 0.05)  # both list before either claims
    barrier, results = threading.Barrier(2), [None, None]

    def push(index: int) -> None:
        barrier.wait()
        try:
            results[index] = apply(stores[index], {"A": f"writer-{index}"}, snapshots[index])
        except EnvSyncError as exc:
            results[index] = exc

    threads = [threading.Thread(target=push, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [i for i, r in enumerate(results) if isinstance(r, Snapshot)]
    losers = [r for r in results if isinstance(r, EnvSyncError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert is_conflict(losers[0]), losers[0]
    secret_id = "app_A" if layout == "per-key" else "app"
    assert len(enabled_versions(gcp_fake, secret_id)) == 2, "exactly one new version"
    assert store_values(gcp_fake, tmp_path, uri) == {**base.values, "A": f"writer-{winners[0]}"}
    assert all("envsync-lock" not in s.annotations for s in gcp_fake._secrets.values())


def store_values(fake: FakeSecretManager, tmp_path: Path, uri: str) -> dict[str, str]:
    return dict(open_at(tmp_path, uri).read().values)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_version_added_by_another_tool_is_a_conflict(gcp_fake, tmp_path, layout):
    store = open_at(tmp_path, gcp_fake.uri("app", layout))
    stale = apply(store, {"A": "1"}, EMPTY)
    secret_id = "app_A" if layout == "per-key" else "app"
    payload = b"outside" if layout == "per-key" else b'{"A":"outside"}'
    gcp_fake.client().add_secret_version(parent=f"projects/{PROJECT}/secrets/{secret_id}",
                                         payload={"data": payload})
    with pytest.raises(EnvSyncError) as caught:
        apply(store, {"A": "2"}, stale)
    assert is_conflict(caught.value)
    assert dict(store.read().values) == {"A": "outside"}


def test_a_live_lock_is_a_conflict_and_an_expired_one_is_taken_over(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    first = apply(store, {"A": "1"}, EMPTY)
    locked = gcp_fake.secret("app_A")
    locked.annotations["envsync-lock"] = f"{int(time.time()) + 60} someone-else"
    with pytest.raises(EnvSyncError, match="another EnvSync run is writing A") as caught:
        apply(store, {"A": "2"}, first)
    assert is_conflict(caught.value) and sorted(locked.versions) == [1]
    locked.annotations["envsync-lock"] = f"{int(time.time()) - 1} crashed-run"
    apply(store, {"A": "2"}, first)
    assert dict(store.read().values) == {"A": "2"}
    assert "envsync-lock" not in gcp_fake.secret("app_A").annotations


def test_a_refused_batch_rolls_back_its_claims(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"), adopt=True)
    gcp_fake.put("app_FOREIGN", b"f", labels={"team": "x"})
    stale = apply(store, {"A": "1", "B": "1"}, store.read())
    apply(open_at(tmp_path, gcp_fake.uri("app", "per-key")), {"B": "theirs"}, stale)
    before = {sid: (dict(s.labels), dict(s.annotations)) for sid, s in
              ((sid, gcp_fake.secret(sid)) for sid in gcp_fake.secret_ids())}
    with pytest.raises(ApplyError) as caught:
        apply(store, {"NEW": "n", "FOREIGN": "ours", "A": "2", "B": "ours"}, stale)
    assert is_conflict(caught.value)
    after = {sid: (dict(s.labels), dict(s.annotations)) for sid, s in
             ((sid, gcp_fake.secret(sid)) for sid in gcp_fake.secret_ids())}
    assert after == before, "claims undone: no new secret, labels and annotations restored"
