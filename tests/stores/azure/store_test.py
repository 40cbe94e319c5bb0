"""The Azure Key Vault store beyond the shared contract: keys through the vault, soft
delete, the managed-by tag, paging, concurrency, sharding and history (names, errors,
credentials and URIs have their own files, as in the package).

Everything goes through the real SDK and azure-identity over TLS to the in-test fake
(`tests/fakes/azure_fake.py`); stores are opened the way the CLI opens them, from a target.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from envsync.errors import ConflictError, InputError, StoreError
from envsync.stores.azure.names import key_to_name
from envsync.stores.azure.store import VALUE_LIMIT, WORKERS
from envsync.stores.base import StoreOptions
from tests.fakes.azure_fake import FakeAzure
from tests.stores.azure.key_vault import EMPTY, open_azure, push


# -- key names -------------------------------------------------------------------------


def test_keys_round_trip_through_the_vault(azure_fake: FakeAzure, tmp_path: Path) -> None:
    keys = {"DATABASE_URL": "1", "_LEADING": "2", "dash-key": "3", "dotted.key.name": "4", "Mixed_Case": "5"}
    store = open_azure(azure_fake, tmp_path)
    push(store, keys, EMPTY)
    assert azure_fake.names() == sorted(["app-DATABASE-URL", "app--LEADING", "app-0dash-dkey",
                                         "app-0dotted-pkey-pname", "app-Mixed-Case"])
    assert azure_fake.tags("app-0dash-dkey") == {"managed-by": "envsync", "envsync-key": "dash-key",
                                                 "envsync-prefix": "app"}
    assert dict(open_azure(azure_fake, tmp_path).read().values) == keys


def test_a_secret_without_the_key_tag_maps_back_by_name(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.put("app-0api-dkey", "v1")
    azure_fake.put("app-REDIS-URL", "v2")
    assert dict(open_azure(azure_fake, tmp_path).read().values) == {"api-key": "v1", "REDIS_URL": "v2"}


def test_two_keys_for_one_name_are_refused_before_anything_is_written(azure_fake: FakeAzure, tmp_path: Path,
                                                                      secret) -> None:
    store = open_azure(azure_fake, tmp_path)
    with pytest.raises(InputError) as caught:
        push(store, {"FIRST": secret("a"), "DB_URL": secret("b"), "db_url": secret("c")}, EMPTY)
    assert caught.value.exit_code == 2
    assert "DB_URL" in str(caught.value) and "db_url" in str(caught.value)
    assert azure_fake.names() == []
    assert azure_fake.calls["set /secrets/{name}"] == 0


def test_a_key_whose_name_an_existing_secret_holds_is_refused(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path)
    written = push(store, {"API_KEY": "x"}, EMPTY)
    with pytest.raises(InputError) as caught:
        push(store, {"api_key": "y", "OTHER": "z"}, written)
    assert "api_key" in str(caught.value) and "API_KEY" in str(caught.value)
    assert azure_fake.names() == ["app-API-KEY"] and azure_fake.value("app-API-KEY") == "x"


def test_targets_sharing_a_vault_keep_apart(azure_fake: FakeAzure, tmp_path: Path) -> None:
    app = open_azure(azure_fake, tmp_path, "app")
    app_prod = open_azure(azure_fake, tmp_path, "app-prod")
    push(app_prod, {"X": "prod"}, EMPTY)  # app-prod-X: under app's name prefix too
    push(app, {"Y": "app"}, EMPTY)
    assert dict(app.read().values) == {"Y": "app"}
    assert dict(app_prod.read().values) == {"X": "prod"}
    with pytest.raises(InputError) as caught:  # app's key prod_X would be app-prod-X
        push(app, {"prod_X": "clash"})
    assert "prod_X" in str(caught.value) and "app-prod-X" in str(caught.value)
    assert azure_fake.value("app-prod-X") == "prod"


def test_a_name_over_127_characters_is_refused(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path)
    with pytest.raises(InputError) as caught:
        push(store, {"OK": "1", "K" * 124: "2"}, EMPTY)
    assert "127" in str(caught.value)
    assert azure_fake.names() == []


def test_a_value_over_the_limit_is_refused_and_nothing_written(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path)
    push(store, {"AT_LIMIT": "x" * VALUE_LIMIT}, EMPTY)
    with pytest.raises(InputError) as caught:
        push(store, {"SMALL": "s", "BIG": "é" * (VALUE_LIMIT // 2 + 1)})  # counted in UTF-8 bytes
    assert caught.value.exit_code == 2 and "BIG" in str(caught.value) and "25 KB" in str(caught.value)
    assert azure_fake.names() == ["app-AT-LIMIT"]


# -- soft delete ------------------------------------------------------------------------


def test_deleting_soft_deletes_and_pushing_again_recovers(azure_fake: FakeAzure, tmp_path: Path, secret) -> None:
    store = open_azure(azure_fake, tmp_path)
    first, second = secret("first"), secret("second")
    written = push(store, {"TOKEN": first, "KEEP": "k"}, EMPTY)
    gone = push(store, {"TOKEN": None}, written)
    assert azure_fake.deleted_names() == ["app-TOKEN"] and "app-TOKEN" not in azure_fake.names()
    assert store.notes == []

    push(store, {"TOKEN": second}, gone)
    assert azure_fake.deleted_names() == []
    assert azure_fake.value("app-TOKEN") == second
    assert any("app-TOKEN" in n and "recovered" in n for n in store.notes), store.notes
    assert len(azure_fake.secret("app-TOKEN").versions) == 2  # the old version came back with it
    assert [e.action for e in store.history("TOKEN")] == ["added", "deleted", "added"]
    assert dict(store.read().values) == {"TOKEN": second, "KEEP": "k"}


def test_force_delete_purges(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path, options=StoreOptions(force_delete=True))
    written = push(store, {"TOKEN": "t"}, EMPTY)
    push(store, {"TOKEN": None}, written)
    assert azure_fake.deleted_names() == [] and azure_fake.names() == []
    assert any("purged" in n for n in store.notes), store.notes
    assert store.history("TOKEN") == []


def test_force_delete_purges_a_soft_deleted_name_to_reuse_it(azure_fake: FakeAzure, tmp_path: Path) -> None:
    written = push(open_azure(azure_fake, tmp_path), {"TOKEN": "old"}, EMPTY)
    gone = push(open_azure(azure_fake, tmp_path), {"TOKEN": None}, written)
    assert azure_fake.deleted_names() == ["app-TOKEN"]
    store = open_azure(azure_fake, tmp_path, options=StoreOptions(force_delete=True))
    push(store, {"TOKEN": "new"}, gone)
    assert azure_fake.deleted_names() == []
    assert len(azure_fake.secret("app-TOKEN").versions) == 1  # created anew: the old version is gone
    assert any("app-TOKEN" in n and "purged" in n and "recovered" not in n for n in store.notes), store.notes
    assert [e.action for e in store.history("TOKEN")] == ["added"]


def test_purge_protection_keeps_soft_deleted_secrets(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.purge_protection = True
    store = open_azure(azure_fake, tmp_path, options=StoreOptions(force_delete=True))
    written = push(store, {"TOKEN": "old", "OTHER": "o"}, EMPTY)
    gone = push(store, {"TOKEN": None}, written)
    assert azure_fake.deleted_names() == ["app-TOKEN"]
    assert any("purge protection" in n for n in store.notes), store.notes
    store.notes.clear()
    push(store, {"TOKEN": "new"}, gone)  # cannot purge: recovers instead, and says so
    assert azure_fake.value("app-TOKEN") == "new"
    assert any("recovered" in n and "purge protection" in n for n in store.notes), store.notes


def test_a_soft_deleted_bundle_is_recovered_on_push(azure_fake: FakeAzure, tmp_path: Path) -> None:
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    push(store, {"A": "1"}, EMPTY)
    azure_fake.deleted["app"] = azure_fake.secrets.pop("app")  # deleted in the portal
    azure_fake.deleted["app"].deleted_date = int(time.time())
    assert dict(store.read().values) == {}
    push(store, {"B": "2"}, EMPTY)
    assert dict(store.read().values) == {"B": "2"}
    assert any("recovered" in n for n in store.notes), store.notes


def test_history_of_a_soft_deleted_key_comes_from_the_version_log(azure_fake: FakeAzure, tmp_path: Path) -> None:
    """Key Vault lists no versions of a deleted secret: the log tag each version carries
    (five earlier versions at most, within the 256-character tag limit) stands in."""
    store = open_azure(azure_fake, tmp_path)
    current = EMPTY
    for i in range(8):
        current = push(store, {"TOKEN": f"v{i}"}, current)
    push(store, {"TOKEN": None}, current)
    assert all(len(v) <= 256 for v in azure_fake.tags("app-TOKEN").values())
    entries = store.history("TOKEN")
    assert [e.action for e in entries] == ["deleted"] + ["changed"] * 6  # the oldest ones are not kept
    assert entries[1].version == current.versions["TOKEN"]
    assert [e.key for e in store.history()] == ["TOKEN"] * 7


# -- the managed-by tag -------------------------------------------------------------------


def test_secrets_envsync_did_not_create_are_read_but_never_written(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.put("app-API-KEY", "theirs", tags={"owner": "platform-team"})
    store = open_azure(azure_fake, tmp_path)
    current = store.read()
    assert dict(current.values) == {"API_KEY": "theirs"}
    for change in ({"API_KEY": "ours"}, {"API_KEY": None}, {"NEW": "n", "API_KEY": "ours"}):
        with pytest.raises(StoreError) as caught:
            push(store, change, current)
        assert caught.value.exit_code == 3 and "--adopt" in str(caught.value) and "app-API-KEY" in str(caught.value)
    assert azure_fake.names() == ["app-API-KEY"] and azure_fake.value("app-API-KEY") == "theirs"
    assert azure_fake.calls["set /secrets/{name}"] == 0 and azure_fake.calls["delete /secrets/{name}"] == 0

    adopting = open_azure(azure_fake, tmp_path, options=StoreOptions(adopt=True))
    push(adopting, {"API_KEY": "ours"}, adopting.read())
    assert azure_fake.value("app-API-KEY") == "ours"
    assert azure_fake.tags("app-API-KEY")["managed-by"] == "envsync"
    assert azure_fake.tags("app-API-KEY")["owner"] == "platform-team"  # other tools' tags carry over
    push(store, {"API_KEY": "managed now"})  # adopted: an ordinary run may write it
    assert azure_fake.value("app-API-KEY") == "managed now"


def test_a_soft_deleted_secret_envsync_did_not_create_is_not_recovered(azure_fake: FakeAzure,
                                                                       tmp_path: Path) -> None:
    azure_fake.put("app-TOKEN", "theirs")
    azure_fake.deleted["app-token"] = azure_fake.secrets.pop("app-token")
    azure_fake.deleted["app-token"].deleted_date = int(time.time())
    store = open_azure(azure_fake, tmp_path)
    with pytest.raises(StoreError) as caught:
        push(store, {"A": "a", "TOKEN": "ours"}, EMPTY)
    assert "soft-deleted" in str(caught.value) and "--adopt" in str(caught.value)
    assert azure_fake.names() == [] and azure_fake.deleted_names() == ["app-TOKEN"]


def test_a_bundle_secret_envsync_did_not_create_is_not_overwritten(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.put("app", '{"A": "theirs"}')
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    current = store.read()
    assert dict(current.values) == {"A": "theirs"}
    with pytest.raises(StoreError, match="--adopt"):
        push(store, {"A": "ours"}, current)
    assert azure_fake.value("app") == '{"A": "theirs"}'


def test_notes_name_the_secrets_a_read_ignores(azure_fake: FakeAzure, tmp_path: Path) -> None:
    azure_fake.put("app-9lives", "x")
    azure_fake.put("app-OFF", "x", enabled=False)
    azure_fake.put("app-ON", "on")
    azure_fake.put("elsewhere", "not under the prefix")
    store = open_azure(azure_fake, tmp_path)
    assert dict(store.read().values) == {"ON": "on"}
    assert any(n.startswith("app-9lives: ignored") for n in store.notes), store.notes
    assert any(n.startswith("app-OFF (OFF): ignored") and "disabled" in n for n in store.notes), store.notes
    assert not any("elsewhere" in n for n in store.notes)


# -- paging and concurrency ----------------------------------------------------------------


def test_listing_pages_through_more_than_25_secrets(azure_fake: FakeAzure, tmp_path: Path) -> None:
    values = {f"KEY_{i:02d}": f"v{i}" for i in range(60)}
    for key, value in values.items():
        azure_fake.put(f"app-{key_to_name(key)}", value, tags={"managed-by": "envsync", "envsync-key": key,
                                                                "envsync-prefix": "app"})
    azure_fake.calls.clear()
    store = open_azure(azure_fake, tmp_path)
    snapshot = store.read()
    assert dict(snapshot.values) == values
    assert azure_fake.calls["list /secrets"] == 3  # 25 + 25 + 10, following nextLink
    assert azure_fake.calls["get /secrets/{name}/{version}"] == 60
    assert store.info(snapshot).secrets == 60


def test_values_are_fetched_concurrently_on_a_bounded_pool(azure_fake: FakeAzure, tmp_path: Path) -> None:
    values = {f"KEY_{i:02d}": f"v{i}" for i in range(40)}
    push(open_azure(azure_fake, tmp_path), values, EMPTY)
    azure_fake.latency = 0.03
    azure_fake.max_parallel_gets = 0
    store = open_azure(azure_fake, tmp_path)
    started = time.perf_counter()
    assert dict(store.read().values) == values
    elapsed = time.perf_counter() - started
    assert 1 < azure_fake.max_parallel_gets <= WORKERS
    # One after another they take 1.2 s; on the pool ~0.25 s, so a loaded machine keeps well under.
    assert elapsed < 40 * 0.03, f"40 reads of 30 ms took {elapsed:.2f} s: not concurrent"


# -- the bundle ----------------------------------------------------------------------------------


def test_a_200_kib_bundle_is_sharded_and_round_trips(azure_fake: FakeAzure, tmp_path: Path, secret) -> None:
    tag = secret("big")
    values = {f"KEY_{i:03d}": f"{tag}-{i:03d}-" + "x" * 2000 for i in range(100)}  # ~200 KiB of JSON
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    written = push(store, values, EMPTY)
    shards = [n for n in azure_fake.names() if n.startswith("app-1shard-")]
    assert len(shards) == 9 and "app" in azure_fake.names()
    assert all(len(azure_fake.value(n)) <= 24_000 for n in shards)
    assert '"@envsync"' in azure_fake.value("app")  # the main secret holds the manifest
    assert azure_fake.tags("app-1shard-000")["managed-by"] == "envsync"

    other = open_azure(azure_fake, tmp_path, layout="bundle")
    current = other.read()
    assert dict(current.values) == values and current.revision == written.revision
    assert other.info(current).secrets == 1 + 9

    changed = push(other, {"KEY_050": "changed", "KEY_099": None}, current)
    assert dict(store.read().values) == {**{k: v for k, v in values.items() if k != "KEY_099"},
                                         "KEY_050": "changed"}
    assert store.read_versions({"KEY_050": written.revision, "KEY_099": written.revision}) == {
        "KEY_050": values["KEY_050"], "KEY_099": values["KEY_099"]}
    assert [e.action for e in store.history("KEY_050")] == ["changed", "added"]
    assert changed.revision != written.revision
    shrunk = push(store, {k: None for k in list(values)[:95]}, store.read())  # small again: no manifest
    assert '"@envsync"' not in azure_fake.value("app")
    assert store.info(shrunk).secrets == 1


def test_a_bundle_changed_while_its_shards_were_written_is_refused(azure_fake: FakeAzure, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-check right before the manifest write catches a writer that came in meanwhile."""
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    base = push(store, {"A": "1"}, EMPTY)
    original = store._write_shards

    def racing(payload: str):
        shards = original(payload)
        azure_fake.put("app", '{"A":"theirs"}', tags={"managed-by": "envsync"})  # another push lands
        return shards

    monkeypatch.setattr(store, "_write_shards", racing)
    with pytest.raises(ConflictError):
        push(store, {"BIG": "y" * 30_000}, base)
    assert azure_fake.value("app") == '{"A":"theirs"}'


# -- the fake itself ------------------------------------------------------------------------------


def test_the_fake_answers_the_sdk_as_key_vault_does(azure_fake: FakeAzure) -> None:
    """The fake's behaviour the store relies on, seen through the plain SDK."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    client = SecretClient(azure_fake.url, DefaultAzureCredential(), verify_challenge_resource=False, retry_total=0)
    first = client.set_secret("Name-1", "v1", tags={"a": "b"})
    second = client.set_secret("name-1", "v2")  # names are case-insensitive: a new version
    assert client.get_secret("NAME-1").value == "v2"
    assert client.get_secret("name-1", first.properties.version).value == "v1"
    assert first.properties.created_on.tzinfo is not None
    client.update_secret_properties("name-1", first.properties.version, tags={"c": "d"}, enabled=False)
    with pytest.raises(HttpResponseError) as disabled:
        client.get_secret("name-1", first.properties.version)
    assert disabled.value.status_code == 403
    versions = {v.version: v.tags for v in client.list_properties_of_secret_versions("name-1")}
    assert versions == {first.properties.version: {"c": "d"}, second.properties.version: {}}

    client.begin_delete_secret("name-1").wait()
    with pytest.raises(ResourceNotFoundError):
        client.get_secret("name-1")
    with pytest.raises(HttpResponseError) as reused:
        client.set_secret("name-1", "v3")
    assert reused.value.status_code == 409
    assert [d.name for d in client.list_deleted_secrets()] == ["Name-1"]
    client.begin_recover_deleted_secret("name-1").wait()
    assert client.get_secret("name-1").value == "v2"
    client.begin_delete_secret("name-1").wait()
    client.purge_deleted_secret("name-1")
    assert list(client.list_deleted_secrets()) == [] and azure_fake.names() == []
    with pytest.raises(HttpResponseError) as bad:
        client.set_secret("bad_name", "x")
    assert bad.value.status_code == 400
    # one token for the whole run; the challenge is cached per vault for the process (earlier tests)
    assert azure_fake.calls["token"] == 1 and azure_fake.calls["challenge"] <= 1


def test_history_of_the_target_reads_only_the_newest_versions(azure_fake: FakeAzure, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from envsync.stores.azure import store as azure_store

    monkeypatch.setattr(azure_store, "HISTORY_DEPTH", 3)
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    written = EMPTY
    for i in range(6):
        written = push(store, {f"K{i}": "v"}, written)
    azure_fake.calls.clear()
    entries = store.history(changes=True)
    assert azure_fake.calls["get /secrets/{name}/{version}"] == 3  # not one per version
    assert [e.changes for e in entries] == [(("K5", "added"),), (("K4", "added"),), None, None, None, None]


def test_history_of_the_target_reports_a_refused_read_instead_of_a_version_gone(
        azure_fake: FakeAzure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_azure(azure_fake, tmp_path, layout="bundle")
    push(store, {"K": "v"}, push(store, {"A": "1"}, EMPTY))
    azure_fake.assign("Key Vault Reader")  # may list versions, not read them
    with pytest.raises(StoreError) as caught:
        store.history(changes=True)
    assert caught.value.exit_code == 3 and "Key Vault Secrets User" in str(caught.value), str(caught.value)

    azure_fake.assign(None)  # a sharded bundle whose shards (only) cannot be read: the vault refuses
    big = push(store, {"BIG": "x" * 30_000}, store.read())
    push(store, {"K": "w"}, big)
    handle = azure_fake.handle

    def refuse_shards(method: str, target: str, headers, body: bytes):
        if method == "GET" and "-1shard-" in target:
            return 403, {"Content-Type": "application/json"}, json.dumps({"error": {
                "code": "Forbidden", "message": "Caller is not authorized to perform action on resource.",
                "innererror": {"code": "ForbiddenByRbac"}}}).encode()
        return handle(method, target, headers, body)

    monkeypatch.setattr(azure_fake, "handle", refuse_shards)
    with pytest.raises(StoreError) as caught:
        store.history(changes=True)
    assert caught.value.exit_code == 3 and "not authorized" in str(caught.value).lower(), str(caught.value)
