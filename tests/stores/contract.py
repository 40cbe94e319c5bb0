"""The provider contract: what every store must do, whatever the backend and layout.

`StoreContract` is a mixin of tests; `contract_test.py` binds it to the backends of
`conftest.py` (`backend` × `layout`). The tests speak only the Store protocol
(`envsync.stores.base`): nothing here knows how a backend keeps its data.

Fixtures used: `store` (a fresh, empty store), `layout`, `make_store` (a `StoreMaker`:
`make_store(layout)` for another fresh store, `make_store.reopen(store)` for a second
client of the same store), `backend` (the `Backend`), `secret` and `leak_watch`.
"""
from __future__ import annotations

import secrets as _secrets
from datetime import datetime
from typing import Mapping, Sequence

import pytest

from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.escaping import escape
from envsync.model import KEY_PATTERN, Change, Snapshot, StoreInfo, VersionInfo
from envsync.stores.base import Store

EMPTY = Snapshot(values={})

# Values a .env file can hold that are easy to mangle on the way through a backend.
UNUSUAL_VALUES = {
    "EMOJI": "🔑🚀 clé secrète 👩\u200d💻🏳️\u200d🌈",
    "CJK": "秘密の値・비밀번호・密码",
    "RTL_AND_COMBINING": "مرحبا e\u0301 \u200b zero-width",
    "NEWLINES": "line 1\nline 2\n\nline 4\n",
    "CRLF": "first\r\nsecond\r\n",
    "LONE_CR": "a\rb",
    "QUOTES": "single ' double \" backtick ` both '\"' end",
    "BACKSLASHES": "C:\\path\\to\\file \\n is not a newline \\\\",
    "JSON": '{"user": "app", "pass": "p\\"w", "n": [1, 2]}',
    "SHELLISH": "${HOME} $(whoami) `id` #not-a-comment ; && |",
    "SPACES": "  leading and trailing  ",
    "TAB": "a\tb\t",
    "EQUALS_AND_HASH": "a=b=c # d",
    "PERCENT_AND_URL": "postgres://u:p%40ss@host:5432/db?sslmode=require&x=%2F",
    "PEM": "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    "EMPTY": "",
    "ONE_SPACE": " ",
}

# Key names python-dotenv and envsync accept (letters, digits, '_', '.', '-').
UNUSUAL_KEYS = [
    "lower_case",
    "Mixed_Case_Key",
    "_LEADING_UNDERSCORE",
    "dotted.key.name",
    "dash-key-name",
    "K",
    "A" * 100,
]


# -- helpers -------------------------------------------------------------------


def apply(store: Store, changes: Mapping[str, str | None] | Sequence[Change], expected: Snapshot) -> Snapshot:
    """Apply changes given as {key: value-or-None} (in order) or as Change objects."""
    if isinstance(changes, Mapping):
        changes = [Change(k, v) for k, v in changes.items()]
    return store.apply(list(changes), expected)


def version_count(store: Store, keys: Sequence[str] = ()) -> tuple[int, ...]:
    """How many versions the store has, as a whole and per key: a write that adds a
    version anywhere changes this."""
    return (len(store.history()), *(len(store.history(k)) for k in keys))


def assert_conflict(exc: BaseException, layout: str) -> None:
    """A refused compare-and-swap: ConflictError, or (per-key) an ApplyError caused by one
    that applied nothing."""
    if layout == "per-key" and isinstance(exc, ApplyError):
        assert isinstance(exc.cause, ConflictError), f"ApplyError caused by {type(exc.cause).__name__}, not a conflict"
        assert exc.applied == [], f"a refused apply still wrote {exc.applied}"
    else:
        assert isinstance(exc, ConflictError), f"expected ConflictError, got {type(exc).__name__}: {exc}"
    assert exc.exit_code == 1


def assert_history_shape(entries: list[VersionInfo]) -> None:
    """Newest first (where the backend records when), every field of the right type."""
    for entry in entries:
        assert isinstance(entry, VersionInfo)
        assert isinstance(entry.version, str) and entry.version
        assert entry.action in ("added", "changed", "deleted")
        assert entry.created is None or (isinstance(entry.created, datetime) and entry.created.tzinfo is not None)
        assert entry.author is None or isinstance(entry.author, str)
        assert entry.length is None or (isinstance(entry.length, int) and entry.length >= 0)
    times = [e.created for e in entries if e.created is not None]
    assert times == sorted(times, reverse=True), "history is not newest first"


def assert_no_values(entries: list[VersionInfo], values: list[str], leak_watch) -> None:
    """VersionInfo never carries a value."""
    text = repr(entries)
    leak_watch.outputs.append(("history entries", text))
    for value in values:
        assert value not in text


def big_value(size: int, prefix: str) -> str:
    body = _secrets.token_urlsafe(size)
    return (prefix + "-" + body)[:size]


# -- the suite -----------------------------------------------------------------


class StoreContract:
    """Every store, every layout."""

    # empty --------------------------------------------------------------------

    def test_fresh_store_is_empty(self, store: Store, layout: str) -> None:
        snapshot = store.read()
        assert dict(snapshot.values) == {}
        assert dict(snapshot.versions) == {}
        assert store.history() == []
        assert store.history("ANY_KEY") == []
        assert store.read_versions({"ANY_KEY": "1"}) == {}
        assert store.read_versions({}) == {}
        info = store.info(snapshot)
        assert isinstance(info, StoreInfo)
        assert (info.uri, info.layout, info.secrets) == (store.uri, layout, 0)

    def test_empty_apply_on_empty_store_writes_nothing(self, store: Store) -> None:
        result = store.apply([], store.read())
        assert dict(result.values) == {}
        assert dict(store.read().values) == {}
        assert store.history() == []

    # write, change, delete ------------------------------------------------------

    def test_write_then_read(self, store: Store, make_store, secret) -> None:
        values = {"DATABASE_URL": secret("db"), "API_TOKEN": secret("token")}
        returned = apply(store, values, store.read())
        assert dict(returned.values) == values
        current = store.read()
        assert dict(current.values) == values
        assert dict(returned.versions) == dict(current.versions)
        assert returned.revision == current.revision
        other = make_store.reopen(store)
        assert dict(other.read().values) == values

    def test_change(self, store: Store, layout: str, secret) -> None:
        first = apply(store, {"A": secret("a1"), "B": secret("b1")}, EMPTY)
        a2 = secret("a2")
        second = apply(store, {"A": a2}, first)
        current = store.read()
        assert dict(current.values) == {"A": a2, "B": first.values["B"]}
        assert current.versions["A"] != first.versions["A"]
        if layout == "per-key":
            assert current.versions["B"] == first.versions["B"], "an untouched key got a new version"
        assert dict(second.versions) == dict(current.versions)

    def test_delete(self, store: Store, secret) -> None:
        a, b = secret("a"), secret("b")
        first = apply(store, {"A": a, "B": b}, EMPTY)
        second = apply(store, {"B": None}, first)
        current = store.read()
        assert dict(current.values) == {"A": a}
        assert "B" not in current.versions
        assert dict(second.values) == {"A": a} and "B" not in second.versions
        b2 = secret("b2")
        apply(store, {"B": b2}, current)
        assert dict(store.read().values) == {"A": a, "B": b2}

    def test_delete_everything(self, store: Store, secret) -> None:
        first = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
        apply(store, {"A": None, "B": None}, first)
        current = store.read()
        assert dict(current.values) == {}
        assert dict(current.versions) == {}
        apply(store, {"C": "again"}, current)
        assert dict(store.read().values) == {"C": "again"}

    def test_empty_value_is_a_value_not_a_deletion(self, store: Store) -> None:
        first = apply(store, {"EMPTY": "", "OTHER": "x"}, EMPTY)
        assert dict(store.read().values) == {"EMPTY": "", "OTHER": "x"}
        apply(store, {"OTHER": ""}, first)
        assert dict(store.read().values) == {"EMPTY": "", "OTHER": ""}

    def test_second_client_sees_and_builds_on_writes(self, store: Store, make_store, secret) -> None:
        other = make_store.reopen(store)
        a, b = secret("a"), secret("b")
        apply(store, {"A": a}, store.read())
        apply(other, {"B": b}, other.read())
        assert dict(store.read().values) == {"A": a, "B": b}
        assert dict(store.read().versions) == dict(other.read().versions)

    # versions -------------------------------------------------------------------

    def test_versions_per_key(self, store: Store, layout: str, secret) -> None:
        first = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
        assert set(first.versions) == {"A", "B"}
        for version in first.versions.values():
            assert isinstance(version, str) and version
        if layout == "bundle":
            assert first.revision is not None
            assert set(first.versions.values()) == {first.revision}, "bundle keys carry the bundle's version"
        else:
            assert first.revision is None
        second = apply(store, {"A": secret("a2")}, first)
        assert second.versions["A"] != first.versions["A"]
        if layout == "bundle":
            assert second.revision != first.revision
            assert set(second.versions.values()) == {second.revision}

    def test_read_versions_returns_old_values(self, store: Store, secret) -> None:
        a1, a2, b1 = secret("a1"), secret("a2"), secret("b1")
        s1 = apply(store, {"A": a1, "B": b1}, EMPTY)
        s2 = apply(store, {"A": a2}, s1)
        apply(store, {"A": None}, s2)  # a deleted key's old versions stay readable (merge base)
        v_a1, v_a2, v_b1 = s1.versions["A"], s2.versions["A"], s1.versions["B"]
        assert store.read_versions({"A": v_a1}) == {"A": a1}
        assert store.read_versions({"A": v_a2}) == {"A": a2}
        assert store.read_versions({"A": v_a1, "B": v_b1}) == {"A": a1, "B": b1}
        assert store.read_versions({}) == {}

    @pytest.mark.parametrize("unknown", ["no-such-version", "999999", "0", "-1", "00000001x", ""])
    def test_read_versions_omits_unknown_ids(self, store: Store, secret, unknown: str) -> None:
        a = secret("a")
        s1 = apply(store, {"A": a}, EMPTY)
        assert store.read_versions({"A": unknown}) == {}
        assert store.read_versions({"A": s1.versions["A"], "B": unknown}) == {"A": a}
        assert store.read_versions({"NO_SUCH_KEY": s1.versions["A"]}) == {}

    def test_read_at_gives_a_whole_bundle_version(self, store: Store, layout: str, secret) -> None:
        a1, a2, b = secret("a1"), secret("a2"), secret("b")
        s1 = apply(store, {"A": a1, "B": b}, EMPTY)
        s2 = apply(store, {"A": a2, "B": None, "C": "c"}, s1)
        if layout == "per-key":
            with pytest.raises(InputError, match="per-key layout has no whole-target version"):
                store.read_at(s1.versions["A"])
            return
        newest, oldest = store.history()[0].version, store.history()[-1].version  # the ids read_at takes
        assert store.read_at(oldest) == {"A": a1, "B": b}
        assert store.read_at(newest) == {"A": a2, "C": "c"} == dict(s2.values)
        for unknown in ("no-such-version", "999999", "0", ""):
            assert store.read_at(unknown) is None

    # history --------------------------------------------------------------------

    def test_history_of_a_key(self, store: Store, secret, leak_watch) -> None:
        a1, a2, b1, b2 = secret("a1"), secret("a2-longer"), secret("b1"), secret("b2")
        s1 = apply(store, {"A": a1, "B": b1}, EMPTY)
        s2 = apply(store, {"B": b2}, s1)  # A untouched: not part of A's history
        s3 = apply(store, {"A": a2}, s2)
        apply(store, {"A": None}, s3)
        entries = store.history("A")
        assert_history_shape(entries)
        assert_no_values(entries, [a1, a2, b1, b2], leak_watch)
        assert [e.action for e in entries] == ["deleted", "changed", "added"]
        assert [e.version for e in entries[1:]] == [s3.versions["A"], s1.versions["A"]]
        assert entries[0].version not in (s1.versions["A"], s3.versions["A"])
        assert entries[0].length in (None, 0)
        assert entries[1].length in (None, len(a2))
        assert entries[2].length in (None, len(a1))
        assert [e.action for e in store.history("B")] == ["changed", "added"]
        assert store.history("NEVER_EXISTED") == []

    def test_history_of_a_readded_key(self, store: Store) -> None:
        s1 = apply(store, {"A": "x"}, EMPTY)
        s2 = apply(store, {"A": None}, s1)
        apply(store, {"A": "y"}, s2)
        assert [e.action for e in store.history("A")] == ["added", "deleted", "added"]

    def test_history_of_the_whole_target(self, store: Store, layout: str, secret, leak_watch) -> None:
        values = [secret(f"v{i}") for i in range(4)]
        s1 = apply(store, {"A": values[0]}, EMPTY)
        s2 = apply(store, {"B": values[1]}, s1)
        s3 = apply(store, {"A": values[2], "C": values[3]}, s2)
        apply(store, {"B": None}, s3)
        entries = store.history()
        assert_history_shape(entries)
        assert_no_values(entries, values, leak_watch)
        # bundle: one entry per bundle version; per-key: one per key version
        assert len(entries) == (4 if layout == "bundle" else 5)
        assert all(e.changes is None for e in entries)  # unasked: a bundle's versions are not read
        asked = store.history(changes=True)
        assert_no_values(asked, values, leak_watch)
        if layout == "bundle":  # each version names the keys it changed, not every key it holds
            assert [e.changes for e in asked] == [(("B", "deleted"),), (("A", "changed"), ("C", "added")),
                                                  (("B", "added"),), (("A", "added"),)]
        else:
            assert all(e.changes is None for e in asked)

    def test_history_leaves_out_key_names_read_would_refuse(self, store: Store, layout: str) -> None:
        """An old bundle version holding a name no .env file could hold (another tool wrote
        it): the changes list only real key names, and a note counts the others."""
        if layout != "bundle":
            pytest.skip("per-key changes are not listed")
        s1 = apply(store, {"GOOD": "1", "K\u202eEY": "2", "A B": "3"}, EMPTY)
        apply(store, {"K\u202eEY": None, "A B": None}, s1)
        asked = store.history(changes=True)
        assert [e.changes for e in asked] == [(), (("GOOD", "added"),)]
        assert any("2 names" in note and "not a .env key name" in note for note in store.notes), store.notes

    # compare-and-swap -------------------------------------------------------------

    SCENARIOS = {
        # name: (what another client writes first, what we then write from the stale snapshot)
        "change-vs-change": ({"A": "theirs"}, {"A": "ours"}),
        "add-vs-add": ({"NEW": "theirs"}, {"NEW": "ours"}),
        "delete-vs-change": ({"A": None}, {"A": "ours"}),
        "change-vs-delete": ({"A": "theirs"}, {"A": None}),
        # the clashing key comes last: nothing of the batch may be written
        "conflict-after-clean-changes": ({"B": "theirs"}, {"C": "ours", "A": "ours", "B": "ours"}),
    }

    @pytest.mark.parametrize("scenario", list(SCENARIOS))
    def test_stale_snapshot_is_refused_and_writes_nothing(self, store: Store, make_store, layout: str,
                                                          scenario: str, secret, leak_watch) -> None:
        names = {"theirs": secret("theirs"), "ours": secret("ours")}
        theirs, ours = ({k: names.get(v) for k, v in side.items()} for side in self.SCENARIOS[scenario])
        stale = apply(store, {"A": "a-original", "B": "b-original"}, EMPTY)
        other = make_store.reopen(store)
        apply(other, theirs, other.read())
        after_theirs = store.read()
        versions_before = version_count(store, ["A", "B", "C", "NEW"])
        with pytest.raises(EnvSyncError) as caught:
            apply(store, ours, stale)
        leak_watch.outputs.append(("conflict message", str(caught.value)))
        assert_conflict(caught.value, layout)
        assert dict(store.read().values) == dict(after_theirs.values)
        assert dict(store.read().versions) == dict(after_theirs.versions)
        assert version_count(store, ["A", "B", "C", "NEW"]) == versions_before

    def test_stale_snapshot_never_loses_another_clients_update(self, store: Store, make_store, layout: str) -> None:
        """Another client changed a key we do not touch. The bundle must refuse (its CAS is
        whole-target); per-key may go ahead; neither may undo the other client's write."""
        stale = apply(store, {"A": "a-original", "B": "b-original"}, EMPTY)
        other = make_store.reopen(store)
        apply(other, {"B": "theirs"}, other.read())
        try:
            apply(store, {"A": "ours"}, stale)
        except EnvSyncError as exc:
            assert_conflict(exc, layout)
            assert dict(store.read().values) == {"A": "a-original", "B": "theirs"}
        else:
            assert layout == "per-key", "the bundle accepted a write planned against an old revision"
            assert dict(store.read().values) == {"A": "ours", "B": "theirs"}

    def test_snapshot_of_an_empty_store_is_stale_once_written(self, store: Store, make_store, layout: str) -> None:
        empty = store.read()
        apply(make_store.reopen(store), {"A": "theirs"}, empty)
        with pytest.raises(EnvSyncError) as caught:
            apply(store, {"A": "ours"}, empty)
        assert_conflict(caught.value, layout)
        assert dict(store.read().values) == {"A": "theirs"}

    # idempotence -----------------------------------------------------------------

    def test_empty_change_list_adds_no_version(self, store: Store, secret) -> None:
        written = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
        before = version_count(store, ["A", "B"])
        again = store.apply([], written)
        assert dict(again.values) == dict(written.values)
        assert dict(again.versions) == dict(written.versions)
        assert again.revision == written.revision
        assert version_count(store, ["A", "B"]) == before
        assert dict(store.read().versions) == dict(written.versions)

    def test_rerunning_a_plan_after_success_adds_no_version(self, store: Store, layout: str, secret) -> None:
        """The same apply (same changes, same expected snapshot) retried after it succeeded:
        either it is recognised as done, or refused as a conflict — never a second write."""
        base = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
        changes = {"A": secret("a2"), "B": None, "C": secret("c")}
        done = apply(store, changes, base)
        before = version_count(store, ["A", "B", "C"])
        try:
            again = apply(store, changes, base)
        except EnvSyncError as exc:
            assert_conflict(exc, layout)
        else:
            assert dict(again.values) == dict(done.values)
        assert dict(store.read().values) == dict(done.values)
        assert dict(store.read().versions) == dict(done.versions)
        assert version_count(store, ["A", "B", "C"]) == before

    def test_changes_already_in_the_store_add_no_version(self, store: Store, secret) -> None:
        """Re-running a plan against the store it already produced converges: setting a key
        to the value it has, or deleting a key that is gone, is not a new version."""
        base = apply(store, {"A": secret("a"), "B": secret("b")}, EMPTY)
        changes = {"A": secret("a2"), "B": None}
        done = apply(store, changes, base)
        before = version_count(store, ["A", "B"])
        again = apply(store, changes, done)
        assert dict(again.values) == dict(done.values)
        assert dict(store.read().versions) == dict(done.versions)
        assert version_count(store, ["A", "B"]) == before

    # sizes and characters -----------------------------------------------------------

    def test_large_value(self, store: Store, backend, layout: str, secret) -> None:
        large = big_value(100 * 1024, secret("large"))
        assert len(large.encode("utf-8")) == 100 * 1024
        small = secret("small")
        if not backend.can_hold(layout, large):
            with pytest.raises(EnvSyncError):
                apply(store, {"SMALL": small, "LARGE": large}, EMPTY)
            assert dict(store.read().values) in ({}, {"SMALL": small})
            return
        written = apply(store, {"SMALL": small, "LARGE": large}, EMPTY)
        assert store.read().values["LARGE"] == large
        assert store.read().values["SMALL"] == small
        changed = apply(store, {"LARGE": large[::-1]}, written)
        assert store.read().values["LARGE"] == large[::-1]
        assert store.read_versions({"LARGE": written.versions["LARGE"]}) == {"LARGE": large}
        apply(store, {"LARGE": None}, changed)
        assert dict(store.read().values) == {"SMALL": small}

    def test_unusual_values_round_trip(self, store: Store) -> None:
        written = apply(store, UNUSUAL_VALUES, EMPTY)
        current = store.read()
        assert dict(current.values) == UNUSUAL_VALUES
        for key, value in UNUSUAL_VALUES.items():
            assert current.values[key] == value, key  # same code points, no normalisation
        old = apply(store, {k: v + "!" for k, v in UNUSUAL_VALUES.items()}, written)
        assert dict(store.read().values) == {k: v + "!" for k, v in UNUSUAL_VALUES.items()}
        assert store.read_versions(dict(written.versions)) == UNUSUAL_VALUES
        assert dict(old.values) == dict(store.read().values)

    def test_unusual_key_names_round_trip(self, store: Store) -> None:
        values = {key: f"value of {key[:20]}" for key in UNUSUAL_KEYS}
        written = apply(store, values, EMPTY)
        assert dict(store.read().values) == values
        assert set(store.read().versions) == set(values)
        for key in UNUSUAL_KEYS:
            assert [e.action for e in store.history(key)] == ["added"], key
        apply(store, {key: None for key in UNUSUAL_KEYS[::2]}, written)
        assert dict(store.read().values) == {k: v for i, (k, v) in enumerate(values.items()) if i % 2}

    def test_a_thousand_keys_in_one_apply(self, store: Store, layout: str, secret) -> None:
        tag = secret("bulk")
        values = {f"KEY_{i:04d}": f"{tag}-{i:04d}-" + "x" * 80 for i in range(1000)}
        written = apply(store, values, EMPTY)
        current = store.read()
        assert dict(current.values) == values
        assert set(current.versions) == set(values)
        info = store.info(current)
        if layout == "per-key":
            assert info.secrets == 1000
        else:
            assert info.secrets >= 1
        changes = {"KEY_0500": "changed", "KEY_0999": None, "KEY_1000": "new"}
        apply(store, changes, written)
        expected = {**values, "KEY_0500": "changed", "KEY_1000": "new"}
        del expected["KEY_0999"]
        assert dict(store.read().values) == expected

    # info ---------------------------------------------------------------------------

    def test_info_counts_billable_secrets(self, store: Store, layout: str) -> None:
        assert store.info(store.read()).secrets == 0
        three = apply(store, {"A": "1", "B": "2", "C": "3"}, EMPTY)
        info = store.info(store.read())
        assert (info.uri, info.layout) == (store.uri, layout)
        assert info.secrets == (1 if layout == "bundle" else 3)
        assert store.info(three).secrets == info.secrets
        apply(store, {"C": None}, three)
        assert store.info(store.read()).secrets == (1 if layout == "bundle" else 2)

    # hostile content (issue 11) -------------------------------------------------------

    @pytest.mark.parametrize("bad_key", ["X\n::stop-commands::pwn\nY", "1_DIGIT_FIRST", "A B", "K\u202eEY"])
    def test_key_names_read_back_pass_the_local_rule(self, store: Store, make_store, layout: str,
                                                     bad_key: str) -> None:
        """A store holding a key name no .env file could hold (another tool wrote it) stops the
        read with one escaped line, exit 3 — in a bundle any JSON key can be written. A per-key
        backend whose secret names cannot hold the name refuses the write, or skips the secret."""
        try:
            apply(store, {"GOOD": "1", bad_key: "2"}, EMPTY)
        except EnvSyncError:
            assert layout == "per-key", "a bundle holds any JSON key: the write should go through"
        try:
            snapshot = make_store.reopen(store).read()
        except StoreError as exc:
            message = str(exc)
            assert exc.exit_code == 3
            assert "\n" not in message and "\u202e" not in message, message
            assert escape(bad_key) in message and store.uri in message
        else:
            assert layout == "per-key", "a bundle with a bad key name was read"
            assert all(KEY_PATTERN.match(key) for key in snapshot.values), dict(snapshot.values)
