"""Tests for `envsync.state`: which version ids become the next base, and the state file
itself (round trip, scoping by store and layout, other targets kept, private modes, clear
errors, and never a value inside)."""
from __future__ import annotations

import json
import stat

import pytest

from envsync import state
from envsync.errors import InputError
from envsync.model import Snapshot

STORE = "file://.envsync/store"


def snapshot(values: dict[str, str], versions: dict[str, str] | None = None) -> Snapshot:
    """A store snapshot; each key's version defaults to `v-<value>`."""
    return Snapshot(values=values, versions=versions if versions is not None else {k: f"v-{v}" for k, v in values.items()})


def nv(case_id, previous, local, remote, expected, versions=None):
    return pytest.param(previous, local, snapshot(remote, versions), expected, id=case_id)


@pytest.mark.parametrize("previous, local_after, remote_after, expected", [
    nv("first-sync-converged", None, {"A": "1"}, {"A": "1"}, {"A": "v-1"}),
    nv("converged-takes-the-new-version", {"A": "v-old"}, {"A": "2"}, {"A": "2"}, {"A": "v-2"}),
    nv("converged-key-new-since-last-sync", {}, {"A": "1"}, {"A": "1"}, {"A": "v-1"}),
    nv("diverged-keeps-previous-base", {"A": "v-old"}, {"A": "l"}, {"A": "r"}, {"A": "v-old"}),
    nv("diverged-without-base-stays-absent", {}, {"A": "l"}, {"A": "r"}, {}),
    nv("diverged-on-first-sync-stays-absent", None, {"A": "l"}, {"A": "r"}, {}),
    nv("local-only-keeps-previous-base", {"A": "v-old"}, {"A": "l"}, {}, {"A": "v-old"}),
    nv("local-only-new-stays-absent", {}, {"A": "l"}, {}, {}),
    nv("remote-only-keeps-previous-base", {"A": "v-old"}, {}, {"A": "r"}, {"A": "v-old"}),
    nv("remote-only-new-stays-absent", None, {}, {"A": "r"}, {}),
    nv("gone-from-both-sides-is-dropped", {"A": "v-old", "B": "v-b"}, {"B": "1"}, {"B": "1"}, {"B": "v-1"}),
    nv("converged-but-no-version-keeps-previous", {"A": "v-old"}, {"A": "1"}, {"A": "1"}, {"A": "v-old"}, versions={}),
    nv("bundle-layout-one-version-for-all", {"A": "7", "B": "7"}, {"A": "1", "B": "l"}, {"A": "1", "B": "r"},
       {"A": "8", "B": "7"}, versions={"A": "8", "B": "8"}),
])
def test_next_versions(previous, local_after, remote_after, expected):
    assert state.next_versions(previous, local_after, remote_after) == expected


def test_next_versions_is_sorted_and_does_not_touch_its_input():
    previous = {"C": "v-c", "A": "v-a"}
    result = state.next_versions(previous, {"B": "1", "C": "l", "A": "1"}, snapshot({"B": "1", "C": "r", "A": "1"}))
    assert list(result) == ["A", "B", "C"]
    assert previous == {"C": "v-c", "A": "v-a"}


# -- the state file ------------------------------------------------------------------


def test_round_trip(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "3", "B": "3"})
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") == {"A": "3", "B": "3"}


def test_no_state_file_means_no_base(tmp_path):
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") is None
    assert state.load(tmp_path) == {"envsync": state.FORMAT, "targets": {}}
    assert not (tmp_path / ".envsync").exists()


@pytest.mark.parametrize("target, store, layout", [
    pytest.param("dev", "file://elsewhere", "bundle", id="other-store"),
    pytest.param("dev", STORE, "per-key", id="other-layout"),
    pytest.param("prod", STORE, "bundle", id="other-target"),
])
def test_a_base_belongs_to_one_target_store_and_layout(tmp_path, target, store, layout):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})
    assert state.base_versions(tmp_path, target, store, layout) is None


def test_an_empty_base_is_still_a_base(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {})
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") == {}


def test_recording_one_target_keeps_the_others(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})
    state.record(tmp_path, "prod", "aws-sm://app/prod", "per-key", {"B": "x"})
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "2"})
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") == {"A": "2"}
    assert state.base_versions(tmp_path, "prod", "aws-sm://app/prod", "per-key") == {"B": "x"}
    assert sorted(state.load(tmp_path)["targets"]) == ["dev", "prod"]


def test_re_recording_with_another_store_replaces_the_base(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})
    state.record(tmp_path, "dev", "file://moved", "bundle", {"A": "9"})
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") is None
    assert state.base_versions(tmp_path, "dev", "file://moved", "bundle") == {"A": "9"}


def test_state_file_and_folder_are_private(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})
    path = state.state_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_state_file_is_readable_json(tmp_path):
    state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})
    data = json.loads(state.state_path(tmp_path).read_text())
    entry = data["targets"]["dev"]
    assert data["envsync"] == state.FORMAT
    assert (entry["store"], entry["layout"], entry["versions"]) == (STORE, "bundle", {"A": "1"})
    assert entry["synced_at"].endswith("+00:00")


@pytest.mark.parametrize("content", [
    pytest.param(b"{not json", id="not-json"),
    pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
    pytest.param(b"[]", id="a-list"),
    pytest.param(b"[" * 50_000, id="nested-too-deep"),
    pytest.param(b'{"envsync": 1}', id="no-targets"),
    pytest.param(b'{"envsync": 1, "targets": []}', id="targets-not-a-table"),
])
def test_a_corrupt_state_file_is_an_input_error_naming_it(tmp_path, content):
    path = state.state_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    for call in (lambda: state.load(tmp_path),
                 lambda: state.base_versions(tmp_path, "dev", STORE, "bundle"),
                 lambda: state.record(tmp_path, "dev", STORE, "bundle", {"A": "1"})):
        with pytest.raises(InputError, match="state file") as error:
            call()
        assert str(path) in str(error.value)
    assert path.read_bytes() == content  # a failed record does not overwrite it


def test_versions_that_are_not_a_table_mean_no_base(tmp_path):
    path = state.state_path(tmp_path)
    path.parent.mkdir()
    path.write_text(json.dumps({"envsync": 1, "targets": {
        "dev": {"store": STORE, "layout": "bundle", "versions": ["A"]}}}))
    assert state.base_versions(tmp_path, "dev", STORE, "bundle") is None


def test_the_state_file_never_holds_a_value(tmp_path, secret, leak_watch):
    values = {"API_KEY": secret("api"), "DB_URL": secret("db"), "EDITED": secret("local")}
    remote = {**values, "EDITED": secret("remote")}
    path = state.state_path(tmp_path)
    leak_watch.files.append(path)

    versions = state.next_versions(None, values, snapshot(remote, {k: f"ver-{k}" for k in remote}))
    state.record(tmp_path, "dev", STORE, "bundle", versions)

    text = path.read_text()
    assert "API_KEY" in text and "ver-API_KEY" in text
    for value in leak_watch.values:
        assert value not in text
