"""The GCP Secret Manager store beyond the contract: calls per read, the secret id mapping,
managed-by protection, checksums, version states, error messages and sharding (compare-and-
swap is in lease_test.py, URIs and the project in connect_test.py) — the real client over a real socket to tests/fakes/gcp_fake.py,
looked at from behind through the fake itself or a plain client."""
from __future__ import annotations

import time

import grpc
import pytest

from envsync.errors import ApplyError, EnvSyncError, InputError, StoreError
from envsync.stores.gcp.wire import TOMBSTONE
from tests.fakes.gcp_fake import PROJECT
from tests.stores.gcp.secret_manager import EMPTY, LAYOUTS, apply, open_at


# -- reading: calls -------------------------------------------------------------------


def test_per_key_read_is_one_list_per_page_and_concurrent_accesses(gcp_fake, tmp_path):
    for i in range(1_005):  # past one page of 1,000
        gcp_fake.put(f"app_KEY_{i:04d}", f"value-{i}".encode(), labels={"managed-by": "envsync"},
                     annotations={"envsync-key": f"KEY_{i:04d}", "envsync-prefix": "app"})
    gcp_fake.delay("AccessSecretVersion", 0.002)
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    snapshot = store.read()
    assert len(snapshot.values) == 1_005 and snapshot.values["KEY_0042"] == "value-42"
    assert dict(gcp_fake.calls) == {"ListSecrets": 2, "AccessSecretVersion": 1_005}
    assert 1 < gcp_fake.peak["AccessSecretVersion"] <= 16, "accesses are concurrent, on a bounded pool"
    assert store.info(snapshot).secrets == 1_005


def test_bundle_read_is_one_access(gcp_fake, tmp_path, secret):
    store = open_at(tmp_path, gcp_fake.uri("app"))
    written = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
    gcp_fake.calls.clear()
    assert store.read() == written
    assert dict(gcp_fake.calls) == {"AccessSecretVersion": 1}


def test_transient_errors_are_retried_then_reported(gcp_fake, tmp_path):
    gcp_fake.put("app_K", b"v", labels={"managed-by": "envsync"})
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key", timeout="1.5"))
    gcp_fake.fail("AccessSecretVersion", grpc.StatusCode.UNAVAILABLE, times=2)
    gcp_fake.fail("ListSecrets", grpc.StatusCode.DEADLINE_EXCEEDED, times=1)
    assert dict(store.read().values) == {"K": "v"}
    assert gcp_fake.calls["AccessSecretVersion"] == 3 and gcp_fake.calls["ListSecrets"] == 2

    gcp_fake.fail("AccessSecretVersion", grpc.StatusCode.UNAVAILABLE, times=-1)
    start = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store.read()
    assert time.monotonic() - start < 5
    assert "cannot reach GCP Secret Manager" in str(caught.value) and "UNAVAILABLE" in str(caught.value)
    assert caught.value.exit_code == 3


# -- the secret id mapping ------------------------------------------------------------


def test_ids_map_dots_and_keep_the_key_in_an_annotation(gcp_fake, tmp_path, secret):
    store = open_at(tmp_path, gcp_fake.uri("my/app", "per-key"))
    keys = {"spring.datasource.url": secret("url"), "DATABASE_URL": secret("db"), "_x": secret("x")}
    written = apply(store, keys, EMPTY)
    assert gcp_fake.secret_ids() == ["my-app_DATABASE_URL", "my-app__x", "my-app_spring-datasource-url"]
    made = gcp_fake.secret("my-app_spring-datasource-url")
    assert made.annotations["envsync-key"] == "spring.datasource.url"
    assert made.labels == {"managed-by": "envsync"} and "envsync-lock" not in made.annotations
    again = open_at(tmp_path, gcp_fake.uri("my/app", "per-key")).read()
    assert dict(again.values) == keys and dict(again.versions) == dict(written.versions)


def test_keys_that_map_to_one_id_are_refused(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    with pytest.raises(InputError, match="both map to the GCP secret id app_a-b"):
        apply(store, {"a.b": "1", "a-b": "2"}, EMPTY)
    assert gcp_fake.secret_ids() == [] and gcp_fake.total_calls() == 0
    first = apply(store, {"a.b": "1"}, EMPTY)
    with pytest.raises(InputError, match="already holds a.b"):
        apply(store, {"a-b": "2"}, first)
    assert dict(store.read().values) == {"a.b": "1"}


def test_ids_too_long_are_refused(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("p" * 200, "per-key"))
    with pytest.raises(InputError, match="limit is 255"):
        apply(store, {"K" * 60: "v"}, EMPTY)
    assert gcp_fake.secret_ids() == []


def test_targets_sharing_a_name_prefix_stay_apart(gcp_fake, tmp_path):
    outer = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    inner = open_at(tmp_path, gcp_fake.uri("app_x", "per-key"))
    apply(inner, {"K": "inner"}, EMPTY)  # secret app_x_K: also "app_" + "x_K"
    apply(outer, {"OTHER": "outer"}, EMPTY)
    assert dict(outer.read().values) == {"OTHER": "outer"}
    assert dict(inner.read().values) == {"K": "inner"}
    with pytest.raises(EnvSyncError, match="already used by another EnvSync target"):
        apply(outer, {"x_K": "clash"}, outer.read())
    assert dict(inner.read().values) == {"K": "inner"}


def test_no_prefix_uses_bare_ids_and_only_labelled_secrets(gcp_fake, tmp_path):
    gcp_fake.put("UNRELATED", b"not ours")
    store = open_at(tmp_path, gcp_fake.uri(layout="per-key"))
    apply(store, {"API_KEY": "k"}, EMPTY)
    assert "API_KEY" in gcp_fake.secret_ids()
    assert dict(store.read().values) == {"API_KEY": "k"}
    with pytest.raises(EnvSyncError, match="UNRELATED already exists and was not created by EnvSync"):
        apply(store, {"UNRELATED": "x"}, store.read())
    assert gcp_fake.secret("UNRELATED").versions[1].data == b"not ours"


def test_empty_values_and_deletion_markers_on_the_wire(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    first = apply(store, {"EMPTY": "", "GONE": "x"}, EMPTY)
    assert gcp_fake.secret("app_EMPTY").versions[1].data == b"\x00"  # GCP refuses empty payloads
    apply(store, {"GONE": None}, first)
    gone = gcp_fake.secret("app_GONE")
    assert gone.versions[2].data == TOMBSTONE and gone.versions[2].state.name == "DISABLED"
    assert gone.annotations["envsync-deleted"] == "2"
    with pytest.raises(Exception, match="DISABLED"):  # other readers of latest are refused, as for a missing key
        gcp_fake.client().access_secret_version(name=f"projects/{PROJECT}/secrets/app_GONE/versions/latest")
    assert dict(store.read().values) == {"EMPTY": ""}


def test_force_delete_deletes_the_secret(gcp_fake, tmp_path):
    first = apply(open_at(tmp_path, gcp_fake.uri("app", "per-key")), {"A": "1", "B": "2"}, EMPTY)
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"), force_delete=True)
    apply(store, {"A": None}, first)
    assert gcp_fake.secret_ids() == ["app_B"]
    assert store.history("A") == [] and dict(store.read().values) == {"B": "2"}


def test_keep_versions_destroys_older_ones(gcp_fake, tmp_path, secret):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key", keep_versions="2"))
    snapshot = EMPTY
    values = [secret(f"v{i}") for i in range(4)]
    for value in values:
        snapshot = apply(store, {"K": value}, snapshot)
    states = {n: v.state.name for n, v in gcp_fake.secret("app_K").versions.items()}
    assert states == {1: "DESTROYED", 2: "DESTROYED", 3: "ENABLED", 4: "ENABLED"}
    assert [e.version for e in store.history("K")] == ["4", "3"]
    assert store.read_versions({"K": "1"}) == {} and store.read_versions({"K": "3"}) == {"K": values[2]}


# -- managed-by protection ---------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_secrets_without_the_label_are_read_but_never_written(gcp_fake, tmp_path, layout):
    foreign = "app_db-password" if layout == "per-key" else "app"
    gcp_fake.put(foreign, b'{"db-password": "theirs"}' if layout == "bundle" else b"theirs",
                 labels={"team": "payments"})
    store = open_at(tmp_path, gcp_fake.uri("app", layout))
    current = store.read()
    assert dict(current.values) == {"db-password": "theirs"}
    for changes in ({"db-password": "ours"}, {"db-password": None}):
        with pytest.raises(StoreError, match="not created by EnvSync.*--adopt"):
            apply(store, changes, current)
    assert sorted(gcp_fake.secret(foreign).versions) == [1]
    assert gcp_fake.secret(foreign).labels == {"team": "payments"}

    adopting = open_at(tmp_path, gcp_fake.uri("app", layout), adopt=True)
    apply(adopting, {"db-password": "ours"}, current)
    assert dict(store.read().values) == {"db-password": "ours"}
    adopted = gcp_fake.secret(foreign)
    assert adopted.labels == {"team": "payments", "managed-by": "envsync"}
    assert sorted(adopted.versions) == [1, 2]


def test_what_cannot_be_read_becomes_a_note(gcp_fake, tmp_path):
    gcp_fake.put("app_ok", b"fine")
    gcp_fake.put("app_9starts-with-digit", b"x")
    gcp_fake.put("app_binary", b"\xff\xfe\x00")
    disabled = gcp_fake.put("app_disabled", b"x")
    disabled.versions[1].state = disabled.versions[1].state.__class__.DISABLED
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    assert dict(store.read().values) == {"ok": "fine"}
    notes = "\n".join(store.notes)
    assert "app_9starts-with-digit: ignored" in notes and "app_binary: ignored" in notes
    assert "app_disabled: its latest version is disabled" in notes
    store.read()
    assert len(store.notes) == 3, "notes are not repeated"


# -- checksums, version states, errors --------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_crc32c_mismatch_is_a_store_error(gcp_fake, tmp_path, layout):
    store = open_at(tmp_path, gcp_fake.uri("app", layout))
    apply(store, {"A": "1"}, EMPTY)
    gcp_fake.corrupt("app_A" if layout == "per-key" else "app")
    with pytest.raises(StoreError, match="crc32c"):
        store.read()
    added = [v for s in gcp_fake._secrets.values() for v in s.versions.values()]
    assert all(v.client_checksum for v in added), "every write sends a crc32c for GCP to check"


@pytest.mark.parametrize("state", ["disable", "destroy"])
def test_an_unusable_bundle_version_is_explained(gcp_fake, tmp_path, state):
    store = open_at(tmp_path, gcp_fake.uri("app"))
    first = apply(store, {"A": "1"}, EMPTY)
    second = apply(store, {"A": "2"}, first)
    client = gcp_fake.client()
    getattr(client, f"{state}_secret_version")(name=f"projects/{PROJECT}/secrets/app/versions/2")
    with pytest.raises(StoreError) as caught:
        store.read()
    message = str(caught.value)
    if state == "disable":
        assert "version 2 of the GCP secret app is disabled" in message
        assert f"gcloud secrets versions enable 2 --secret=app --project={PROJECT}" in message
    else:
        assert "version 2 of the GCP secret app is destroyed" in message
    assert caught.value.exit_code == 3
    with pytest.raises(StoreError, match=f"{state}"):
        apply(store, {"A": "3"}, second)
    assert "envsync-lock" not in gcp_fake.secret("app").annotations
    assert store.read_versions({"A": "1"}) == {"A": "1"} and store.read_versions({"A": "2"}) == {}


@pytest.mark.parametrize("method, permission, layout", [
    ("AccessSecretVersion", "secretmanager.versions.access", "per-key"),
    ("ListSecrets", "secretmanager.secrets.list", "per-key"),
    ("AccessSecretVersion", "secretmanager.versions.access", "bundle"),
])
def test_permission_denied_names_permission_and_resource(gcp_fake, tmp_path, method, permission, layout):
    store = open_at(tmp_path, gcp_fake.uri("app", layout))
    apply(store, {"A": "1"}, EMPTY)
    gcp_fake.deny(method)
    with pytest.raises(StoreError) as caught:
        store.read()
    message = str(caught.value)
    resource = {"ListSecrets": f"projects/{PROJECT}",
                "AccessSecretVersion": f"projects/{PROJECT}/secrets/{'app_A' if layout == 'per-key' else 'app'}"
                                       "/versions/latest"}[method]
    assert f"GCP denied {permission} on {resource}" in message
    assert "roles/secretmanager." in message and caught.value.exit_code == 3


def test_permission_denied_on_write_applies_nothing(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app", "per-key"))
    first = apply(store, {"A": "1"}, EMPTY)
    gcp_fake.deny("UpdateSecret")
    with pytest.raises(ApplyError, match="secretmanager.secrets.update") as caught:
        apply(store, {"A": "2", "B": "new"}, first)
    assert caught.value.applied == [] and caught.value.exit_code == 3
    assert gcp_fake.secret_ids() == ["app_A"] and sorted(gcp_fake.secret("app_A").versions) == [1]


# -- the bundle --------------------------------------------------------------------------------


def test_a_200_kib_bundle_is_sharded_with_the_manifest_written_last(gcp_fake, tmp_path, secret):
    store = open_at(tmp_path, gcp_fake.uri("app"))
    tag = secret("big")
    values = {f"KEY_{i:03d}": f"{tag}-{i:03d}-" + "x" * 1_000 for i in range(200)}
    written = apply(store, values, EMPTY)
    assert gcp_fake.secret_ids() == ["app", "app--shard-1", "app--shard-2", "app--shard-3", "app--shard-4"]
    manifest = gcp_fake.secret("app").versions[1]
    assert manifest.data.startswith(b'{"@envsync"') and len(manifest.data) < 1_000
    for sid in gcp_fake.secret_ids()[1:]:
        shard = gcp_fake.secret(sid)
        assert shard.labels == {"managed-by": "envsync"} and shard.annotations["envsync-layout"] == "shard"
        assert shard.versions[1].created < manifest.created, "shards first, manifest last"
        assert len(shard.versions[1].data) <= 60_000
    reopened = open_at(tmp_path, gcp_fake.uri("app"))
    assert dict(reopened.read().values) == values
    assert reopened.info(reopened.read()).secrets == 5

    small = apply(reopened, {k: None for k in list(values)[5:]}, written)
    assert dict(reopened.read().values) == dict(small.values) and reopened.info(small).secrets == 1
    assert gcp_fake.secret("app").versions[2].data.startswith(b'{"KEY_000"')
    assert reopened.read_versions({"KEY_150": written.revision}) == {"KEY_150": values["KEY_150"]}
    assert [e.action for e in reopened.history("KEY_150")] == ["deleted", "added"]


def test_keep_versions_never_destroys_what_the_live_manifest_names(gcp_fake, tmp_path, secret):
    """Shards are pruned only once the new manifest is in place (a review finding: pruning
    each shard right after writing it destroyed the versions the live manifest named)."""
    store = open_at(tmp_path, gcp_fake.uri("app", keep_versions="1"))
    first = {f"KEY_{i:03d}": f"{secret('one')}-" + "x" * 1_000 for i in range(200)}
    written = apply(store, first, EMPTY)
    gcp_fake.log.clear()
    second = apply(store, {k: v.replace("x", "y") for k, v in first.items()}, written)
    manifest_added = max(i for i, (method, name) in enumerate(gcp_fake.log)
                         if method == "AddSecretVersion" and name.endswith("/secrets/app"))
    shard_pruned = [i for i, (method, name) in enumerate(gcp_fake.log)
                    if method in ("DestroySecretVersion", "DisableSecretVersion") and "--shard-" in name]
    assert shard_pruned and min(shard_pruned) > manifest_added
    assert dict(open_at(tmp_path, gcp_fake.uri("app")).read().values) == dict(second.values)


def test_history_of_the_target_reads_only_the_newest_versions(gcp_fake, tmp_path, monkeypatch):
    from envsync.stores.gcp import store as gcp_store

    monkeypatch.setattr(gcp_store, "HISTORY_DEPTH", 3)
    store = open_at(tmp_path, gcp_fake.uri("app"))
    written = EMPTY
    for i in range(6):
        written = apply(store, {f"K{i}": "v"}, written)
    gcp_fake.calls.clear()
    entries = store.history(changes=True)
    assert gcp_fake.calls["AccessSecretVersion"] == 3  # not one per version
    assert [e.changes for e in entries] == [(("K5", "added"),), (("K4", "added"),), None, None, None, None]


def test_history_of_the_target_reports_a_refused_read_instead_of_a_version_gone(gcp_fake, tmp_path):
    store = open_at(tmp_path, gcp_fake.uri("app"))
    apply(store, {"K": "v"}, apply(store, {"A": "1"}, EMPTY))
    gcp_fake.deny("AccessSecretVersion")
    with pytest.raises(StoreError) as caught:
        store.history(changes=True)
    assert caught.value.exit_code == 3 and "permission" in str(caught.value).lower(), str(caught.value)
