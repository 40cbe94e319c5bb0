"""Tests for `envsync.plan`: the full three-way case table, the Plan's change lists, conflict
resolution strategies, and properties of the planner over random snapshots.

Notation in the case table: `B` is the value both sides held at the last sync, `L` a value
edited locally, `R` a value edited in the store (different from both), `None` an absent key.
A remote of `L` means the store already holds the local value.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsync.merge import merge3
from envsync.model import Change, Mode, OnConflict
from envsync.plan import DELETES, PULLS, PUSHES, UNKNOWN, Action, Item, Plan, make_plan, resolve

KEY = "API_KEY"
B, L, R = "base-value", "local-value", "remote-value"

# The four kinds of base a key can have.
NO_STATE = "no-state"  # no earlier sync at all: make_plan(..., base=None)
KEY_ABSENT = "base-absent"  # a base exists, but this key was not in it
UNKNOWN_BASE = "base-unknown"  # the key was in the base, but its value cannot be read back
# ...or the base value itself: B

PUSH, PULL, SYNC = Mode.PUSH, Mode.PULL, Mode.SYNC
ALL_MODES = (PUSH, PULL, SYNC)
EITHER = (False, True)  # prune makes no difference to this row

VALUE_NAMES = {None: "absent", B: "base", L: "local", R: "other"}


def base_map(base) -> dict | None:
    """The `base` argument make_plan receives for one of the four kinds of base."""
    if base == NO_STATE:
        return None
    if base == KEY_ABSENT:
        return {"UNRELATED": "u"}
    if base == UNKNOWN_BASE:
        return {KEY: UNKNOWN}
    return {KEY: base}


def plan_one(local, remote, base, mode: Mode, prune: bool = False) -> Plan:
    """Plan a single key; `None` means absent on that side."""
    as_dict = lambda value: {} if value is None else {KEY: value}  # noqa: E731
    return make_plan(as_dict(local), as_dict(remote), base_map(base), mode, prune=prune)


def only_item(plan: Plan) -> Item:
    (item,) = plan.items
    return item


@dataclass(frozen=True)
class Row:
    base: str
    local: str | None
    remote: str | None
    modes: tuple[Mode, ...]
    prunes: tuple[bool, ...]
    action: Action
    reason: str = ""
    bug: str = ""  # a known bug: the row is expected to fail (strict xfail)


def row(base, local, remote, modes, prunes, action, reason="", bug="") -> Row:
    modes = modes if isinstance(modes, tuple) else (modes,)
    prunes = prunes if isinstance(prunes, tuple) else (prunes,)
    return Row(base, local, remote, modes, prunes, action, reason, bug)


SKIP_PRUNE_STORE = "not in the local file — pass --prune to delete it from the store"
SKIP_PRUNE_LOCAL = "not in the store — pass --prune to delete it from the local file"
SKIP_LOCAL_MOVED = "changed locally since the last sync"
SKIP_REMOTE_MOVED = "changed in the store since the last sync"
NO_EARLIER_SYNC = "no earlier sync to tell which side changed"
NO_COMMON_BASE = "no common base to tell which side changed"
BASE_GONE = "its value at the last sync can no longer be read"


CASES = [
    # -- no state at all: a key on one side only is an addition (push/pull: a deletion needing
    #    --prune); a differing value is a conflict in every mode — no base, no guess (trust rule 4)
    row(NO_STATE, L, L, ALL_MODES, EITHER, Action.UNCHANGED),
    row(NO_STATE, L, None, (PUSH, SYNC), EITHER, Action.PUSH_ADD),
    row(NO_STATE, L, None, PULL, False, Action.SKIP, SKIP_PRUNE_LOCAL),
    row(NO_STATE, L, None, PULL, True, Action.PULL_DELETE),
    row(NO_STATE, None, R, (PULL, SYNC), EITHER, Action.PULL_ADD),
    row(NO_STATE, None, R, PUSH, False, Action.SKIP, SKIP_PRUNE_STORE),
    row(NO_STATE, None, R, PUSH, True, Action.PUSH_DELETE),
    row(NO_STATE, L, R, ALL_MODES, EITHER, Action.CONFLICT, NO_EARLIER_SYNC),
    # -- the key was in the base but its value is gone from the store's history: as with no
    #    state, a differing value is a conflict in every mode — an unreadable base is no base
    row(UNKNOWN_BASE, L, L, ALL_MODES, EITHER, Action.UNCHANGED),
    row(UNKNOWN_BASE, L, None, PUSH, EITHER, Action.PUSH_ADD),
    row(UNKNOWN_BASE, L, None, PULL, False, Action.SKIP, SKIP_PRUNE_LOCAL),
    row(UNKNOWN_BASE, L, None, PULL, True, Action.PULL_DELETE),
    row(UNKNOWN_BASE, L, None, SYNC, EITHER, Action.CONFLICT, "can no longer be read"),
    row(UNKNOWN_BASE, None, R, PULL, EITHER, Action.PULL_ADD),
    row(UNKNOWN_BASE, None, R, PUSH, False, Action.SKIP, SKIP_PRUNE_STORE),
    row(UNKNOWN_BASE, None, R, PUSH, True, Action.PUSH_DELETE),
    row(UNKNOWN_BASE, None, R, SYNC, EITHER, Action.CONFLICT, "can no longer be read"),
    row(UNKNOWN_BASE, L, R, ALL_MODES, EITHER, Action.CONFLICT, BASE_GONE),
    # -- a base exists without this key: each present side added it since (or the last sync
    #    left it differing); with no common base, a differing value is a conflict
    row(KEY_ABSENT, L, L, ALL_MODES, EITHER, Action.UNCHANGED),
    row(KEY_ABSENT, L, None, (PUSH, SYNC), EITHER, Action.PUSH_ADD),
    row(KEY_ABSENT, L, None, PULL, EITHER, Action.SKIP, SKIP_LOCAL_MOVED),
    row(KEY_ABSENT, None, R, (PULL, SYNC), EITHER, Action.PULL_ADD),
    row(KEY_ABSENT, None, R, PUSH, EITHER, Action.SKIP, SKIP_REMOTE_MOVED),
    row(KEY_ABSENT, L, R, ALL_MODES, EITHER, Action.CONFLICT, NO_COMMON_BASE),
    # -- a base value: local deleted
    row(B, None, B, (PUSH, SYNC), False, Action.SKIP, SKIP_PRUNE_STORE),
    row(B, None, B, (PUSH, SYNC), True, Action.PUSH_DELETE),
    row(B, None, B, PULL, EITHER, Action.SKIP, SKIP_LOCAL_MOVED),
    row(B, None, R, ALL_MODES, EITHER, Action.CONFLICT, "deleted locally but changed in the store"),
    # -- a base value: local unchanged
    row(B, B, None, PUSH, EITHER, Action.SKIP, SKIP_REMOTE_MOVED),
    row(B, B, None, (PULL, SYNC), False, Action.SKIP, SKIP_PRUNE_LOCAL),
    row(B, B, None, (PULL, SYNC), True, Action.PULL_DELETE),
    row(B, B, B, ALL_MODES, EITHER, Action.UNCHANGED),
    row(B, B, R, PUSH, EITHER, Action.SKIP, SKIP_REMOTE_MOVED),
    row(B, B, R, (PULL, SYNC), EITHER, Action.PULL_CHANGE),
    # -- a base value: local changed
    row(B, L, None, ALL_MODES, EITHER, Action.CONFLICT, "changed locally but deleted from the store"),
    row(B, L, B, (PUSH, SYNC), EITHER, Action.PUSH_CHANGE),
    row(B, L, B, PULL, EITHER, Action.SKIP, SKIP_LOCAL_MOVED),
    row(B, L, L, ALL_MODES, EITHER, Action.UNCHANGED),
    row(B, L, R, ALL_MODES, EITHER, Action.CONFLICT, "changed on both sides since the last sync"),
]


def expand(cases: list[Row]):
    for case in cases:
        for mode in case.modes:
            for prune in case.prunes:
                base_name = case.base if case.base != B else "base=value"
                case_id = (f"{mode.value}-{base_name}-local={VALUE_NAMES[case.local]}"
                           f"-remote={VALUE_NAMES[case.remote]}{'-prune' if prune else ''}")
                marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
                yield pytest.param(case, mode, prune, id=case_id, marks=marks)


@pytest.mark.parametrize("case, mode, prune", list(expand(CASES)))
def test_three_way_case_table(case: Row, mode: Mode, prune: bool):
    item = only_item(plan_one(case.local, case.remote, case.base, mode, prune))

    assert item.action is case.action, item.reason
    assert (item.key, item.local, item.remote) == (KEY, case.local, case.remote)
    if case.action in (Action.SKIP, Action.CONFLICT):
        assert case.reason in item.reason
    else:
        assert item.reason == ""


def test_case_table_covers_every_meaningful_combination():
    """Every (base, local, remote, mode, prune) that can occur has exactly one row."""
    covered = [(c.base, c.local, c.remote, m, p) for c in CASES for m in c.modes for p in c.prunes]
    assert len(covered) == len(set(covered))
    expected = set()
    for base in (NO_STATE, UNKNOWN_BASE, KEY_ABSENT, B):
        # "equal to base" only means something when the base has a value
        locals_ = (None, L) if base != B else (None, B, L)
        remotes = (None, L, R) if base != B else (None, B, L, R)
        for local in locals_:
            for remote in remotes:
                if local is None and remote is None:
                    continue  # not in the plan at all, see below
                if remote == L and local != L:
                    continue  # "equal to local" is written L; with another local, R says it
                for mode in ALL_MODES:
                    for prune in EITHER:
                        expected.add((base, local, remote, mode, prune))
    assert set(covered) == expected


@pytest.mark.parametrize("base", [NO_STATE, UNKNOWN_BASE, KEY_ABSENT], ids=str)
@pytest.mark.parametrize("mode, hint", [(PUSH, "--force makes the store match the file"),
                                        (PULL, "--force makes the file match the store")], ids=["push", "pull"])
def test_a_no_base_conflict_of_a_one_way_command_names_its_way_out(mode, hint, base):
    item = only_item(plan_one(L, R, base, mode))
    assert "--on-conflict local|remote" in item.reason and hint in item.reason


@settings(max_examples=200, deadline=None)
@given(local=st.dictionaries(st.sampled_from("AB"), st.sampled_from("12"), max_size=2),
       remote=st.dictionaries(st.sampled_from("AB"), st.sampled_from("12"), max_size=2),
       base=st.none() | st.dictionaries(st.sampled_from("AB"), st.sampled_from("12") | st.just(UNKNOWN), max_size=2),
       mode=st.sampled_from(list(Mode)), prune=st.booleans(),
       strategy=st.sampled_from([OnConflict.FAIL, OnConflict.LOCAL, OnConflict.REMOTE, OnConflict.MERGE]))
def test_only_a_readable_base_is_said_to_have_changed(local, remote, base, mode, prune, strategy):
    """"changed on both sides" claims a base both sides moved from: never said without one."""
    plan = resolve(make_plan(local, remote, base, mode, prune=prune), strategy, prune=prune, merger=merge3)
    for item in plan.items:
        if not isinstance(item.base, str):
            assert "changed on both sides" not in item.reason, item


# What `--force` plans, whatever the base: push and pull make the other side match; sync, which
# has no side of its own, plans as with no earlier sync.
FORCED = [
    row("forced", L, R, PUSH, EITHER, Action.PUSH_CHANGE),
    row("forced", L, None, PUSH, EITHER, Action.PUSH_ADD),
    row("forced", None, R, PUSH, False, Action.SKIP, SKIP_PRUNE_STORE),
    row("forced", None, R, PUSH, True, Action.PUSH_DELETE),
    row("forced", L, R, PULL, EITHER, Action.PULL_CHANGE),
    row("forced", None, R, PULL, EITHER, Action.PULL_ADD),
    row("forced", L, None, PULL, False, Action.SKIP, SKIP_PRUNE_LOCAL),
    row("forced", L, None, PULL, True, Action.PULL_DELETE),
    row("forced", L, R, SYNC, EITHER, Action.CONFLICT, NO_EARLIER_SYNC),
    row("forced", L, None, SYNC, EITHER, Action.PUSH_ADD),
    row("forced", None, R, SYNC, EITHER, Action.PULL_ADD),
]


@pytest.mark.parametrize("base", [NO_STATE, KEY_ABSENT, UNKNOWN_BASE, B], ids=str)
@pytest.mark.parametrize("case, mode, prune", list(expand(FORCED)))
def test_force_ignores_the_base(case: Row, mode: Mode, prune: bool, base):
    as_dict = lambda value: {} if value is None else {KEY: value}  # noqa: E731
    plan = make_plan(as_dict(case.local), as_dict(case.remote), base_map(base), mode, prune=prune, force=True)
    item = only_item(plan)
    assert item.action is case.action, item.reason
    assert case.reason in item.reason


@pytest.mark.parametrize("base", [NO_STATE, KEY_ABSENT, UNKNOWN_BASE, B], ids=str)
def test_key_absent_on_both_sides_is_not_in_the_plan(base):
    assert plan_one(None, None, base, SYNC, prune=True).items == ()


def test_an_empty_base_is_a_known_base_not_no_state():
    local_only = {KEY: L}
    assert only_item(make_plan(local_only, {}, {}, PULL, prune=True)).action is Action.SKIP
    assert only_item(make_plan(local_only, {}, None, PULL, prune=True)).action is Action.PULL_DELETE


def test_item_carries_the_base_value():
    assert only_item(plan_one(L, R, B, SYNC)).base == B
    assert only_item(plan_one(L, R, NO_STATE, SYNC)).base is UNKNOWN
    assert only_item(plan_one(L, R, KEY_ABSENT, SYNC)).base is None


def test_items_are_sorted_by_key():
    plan = make_plan({"b": "1", "a": "1"}, {"c": "1", "a": "2"}, None, PUSH)
    assert [i.key for i in plan.items] == ["a", "b", "c"]


# -- Plan: change lists and counts ----------------------------------------------


def mixed_plan() -> Plan:
    """One key for every non-conflict action of a pruning sync."""
    base = {"PUSH_CHANGE": "b", "PULL_CHANGE": "b", "PUSH_DELETE": "b", "PULL_DELETE": "b", "SAME": "s"}
    local = {"PUSH_ADD": "new", "PUSH_CHANGE": "l", "PULL_CHANGE": "b", "PULL_DELETE": "b", "SAME": "s"}
    remote = {"PULL_ADD": "new", "PUSH_CHANGE": "b", "PULL_CHANGE": "r", "PUSH_DELETE": "b", "SAME": "s"}
    return make_plan(local, remote, base, SYNC, prune=True)


def test_mixed_plan_has_one_key_per_action():
    plan = mixed_plan()
    assert {i.key: i.action.name for i in plan.items if i.key != "SAME"} == {
        i.key: i.key for i in plan.items if i.key != "SAME"}


def test_remote_and_local_changes():
    plan = mixed_plan()
    assert plan.remote_changes() == [Change("PUSH_ADD", "new"), Change("PUSH_CHANGE", "l"),
                                     Change("PUSH_DELETE", None)]
    assert plan.local_changes() == [Change("PULL_ADD", "new"), Change("PULL_CHANGE", "r"),
                                    Change("PULL_DELETE", None)]
    assert plan.has_changes


def test_counts():
    assert mixed_plan().counts() == {
        "push-add": 1, "push-change": 1, "push-delete": 1,
        "pull-add": 1, "pull-change": 1, "pull-delete": 1, "unchanged": 1,
    }
    assert make_plan({}, {}, None, SYNC).counts() == {}


@pytest.mark.parametrize("local, remote, base, mode", [
    pytest.param({"A": "1"}, {"A": "1"}, None, SYNC, id="all-unchanged"),
    pytest.param({"A": "l"}, {"A": "r"}, {"A": "b"}, SYNC, id="only-a-conflict"),
    pytest.param({"A": "l"}, {"A": "b"}, {"A": "b"}, PULL, id="only-a-skip"),
    pytest.param({}, {}, None, SYNC, id="empty"),
])
def test_plans_without_changes(local, remote, base, mode):
    plan = make_plan(local, remote, base, mode)
    assert not plan.has_changes
    assert plan.remote_changes() == [] and plan.local_changes() == []


def test_conflicts_and_of():
    plan = make_plan({"A": "l", "B": "1"}, {"A": "r", "B": "2"}, {"A": "b", "B": "1"}, SYNC)
    assert [i.key for i in plan.conflicts] == ["A"]
    assert [i.key for i in plan.of(*PULLS)] == ["B"]
    assert plan.of(*PUSHES) == []


# -- conflict resolution ---------------------------------------------------------

URL_BASE = "postgres://app:pw@db.internal:5432/orders"
URL_LOCAL = "postgres://admin:pw@db.internal:5432/orders"  # edit at the start
URL_REMOTE = "postgres://app:pw@db.internal:5432/orders_v2"  # edit at the end
URL_MERGED = "postgres://admin:pw@db.internal:5432/orders_v2"


def conflict_plan(local, remote, base=B, mode: Mode = SYNC, prune: bool = False) -> Plan:
    plan = plan_one(local, remote, base, mode, prune)
    assert only_item(plan).action is Action.CONFLICT
    return plan


def resolved(plan: Plan, pick: str, prune: bool = False) -> Item:
    """The one item resolved by an --on-conflict value, or by "skip" (an answer only `ask` gets)."""
    if pick == "skip":
        return only_item(resolve(plan, OnConflict.ASK, prune=prune, merger=merge3, choose=lambda item: "skip"))
    return only_item(resolve(plan, OnConflict(pick), prune=prune, merger=merge3))


def side(strategy, local, remote, prune, action, reason=""):
    case_id = f"{strategy}-local={VALUE_NAMES[local]}-remote={VALUE_NAMES[remote]}{'-prune' if prune else ''}"
    return pytest.param(strategy, local, remote, prune, action, reason, id=case_id)


@pytest.mark.parametrize("strategy, local, remote, prune, action, reason", [
    side("local", L, R, False, Action.PUSH_CHANGE),
    side("local", L, None, False, Action.PUSH_ADD),
    side("local", None, R, False, Action.SKIP, "pass --prune to delete it from the store"),
    side("local", None, R, True, Action.PUSH_DELETE),
    side("remote", L, R, False, Action.PULL_CHANGE),
    side("remote", None, R, False, Action.PULL_ADD),
    side("remote", L, None, False, Action.SKIP, "pass --prune to delete it from the local file"),
    side("remote", L, None, True, Action.PULL_DELETE),
    side("skip", L, R, False, Action.SKIP, "conflict left for later"),
    side("fail", L, R, True, Action.CONFLICT, "changed on both sides"),
])
def test_resolve_picks_a_side(strategy, local, remote, prune, action, reason):
    item = resolved(conflict_plan(local, remote), strategy, prune=prune)
    assert item.action is action
    assert reason in item.reason


def test_fail_and_conflict_free_plans_come_back_untouched():
    conflicting = conflict_plan(L, R)
    assert resolve(conflicting, OnConflict.FAIL, prune=True, merger=merge3) is conflicting
    clean = plan_one(L, B, B, SYNC)
    assert resolve(clean, OnConflict.MERGE, prune=True, merger=merge3) is clean


def test_resolution_leaves_non_conflicts_alone():
    plan = make_plan({"A": "l", "B": "new"}, {"A": "r"}, {"A": "b"}, SYNC)
    result = resolve(plan, OnConflict.REMOTE, prune=False, merger=merge3)
    assert [(i.key, i.action) for i in result.items] == [("A", Action.PULL_CHANGE), ("B", Action.PUSH_ADD)]


def test_merge_of_non_overlapping_edits():
    item = resolved(conflict_plan(URL_LOCAL, URL_REMOTE, URL_BASE), "merge")
    assert item.action is Action.MERGE
    assert item.merged == URL_MERGED
    assert item.merged == merge3(URL_BASE, URL_LOCAL, URL_REMOTE)


def test_merge_of_overlapping_edits_is_refused():
    item = resolved(conflict_plan("host=alpha", "host=gamma", "host=beta"), "merge")
    assert item.action is Action.CONFLICT
    assert "changed on both sides" in item.reason
    assert "overlap" in item.reason


@pytest.mark.parametrize("local, remote, base", [
    pytest.param(None, URL_REMOTE, URL_BASE, id="deleted-locally"),
    pytest.param(URL_LOCAL, None, URL_BASE, id="deleted-in-store"),
    pytest.param(URL_LOCAL, URL_REMOTE, NO_STATE, id="no-state"),
    pytest.param(URL_LOCAL, URL_REMOTE, UNKNOWN_BASE, id="base-unknown"),
    pytest.param(URL_LOCAL, URL_REMOTE, KEY_ABSENT, id="added-on-both-sides"),
])
def test_merge_needs_both_sides_and_a_base(local, remote, base):
    calls = []
    plan = conflict_plan(local, remote, base)
    item = only_item(resolve(plan, OnConflict.MERGE, prune=True, merger=lambda *a: calls.append(a) or "x"))
    assert item.action is Action.CONFLICT
    assert "no merge" in item.reason
    assert calls == []


@pytest.mark.parametrize("merged, to_store, to_local", [
    pytest.param("merged", True, True, id="differs-from-both"),
    pytest.param(L, True, False, id="equals-local"),
    pytest.param(R, False, True, id="equals-remote"),
])
def test_a_merge_writes_only_the_sides_that_differ(merged, to_store, to_local):
    plan = resolve(conflict_plan(L, R), OnConflict.MERGE, prune=False, merger=lambda b, l, r: merged)
    assert only_item(plan).action is Action.MERGE
    assert plan.remote_changes() == ([Change(KEY, merged)] if to_store else [])
    assert plan.local_changes() == ([Change(KEY, merged)] if to_local else [])
    assert plan.has_changes


def test_ask_uses_the_choose_callback_per_conflict():
    base = {"KEEP_LOCAL": "b", "KEEP_REMOTE": "b", "MERGE": URL_BASE, "LATER": "b", "BOGUS": "b", "CLEAN": "b"}
    local = {"KEEP_LOCAL": "l", "KEEP_REMOTE": "l", "MERGE": URL_LOCAL, "LATER": "l", "BOGUS": "l", "CLEAN": "l"}
    remote = {"KEEP_LOCAL": "r", "KEEP_REMOTE": "r", "MERGE": URL_REMOTE, "LATER": "r", "BOGUS": "r", "CLEAN": "b"}
    picks = {"KEEP_LOCAL": "local", "KEEP_REMOTE": "remote", "MERGE": "merge", "LATER": "skip",
             "BOGUS": "something-else"}
    asked: list[Item] = []

    def choose(item: Item) -> str:
        asked.append(item)
        return picks[item.key]

    plan = resolve(make_plan(local, remote, base, SYNC), OnConflict.ASK, prune=False, merger=merge3, choose=choose)
    assert sorted(i.key for i in asked) == sorted(picks)
    assert all(i.action is Action.CONFLICT for i in asked)
    assert {i.key: i.action for i in plan.items} == {
        "BOGUS": Action.CONFLICT,  # an answer the resolver does not know leaves the conflict
        "CLEAN": Action.PUSH_CHANGE,
        "KEEP_LOCAL": Action.PUSH_CHANGE,
        "KEEP_REMOTE": Action.PULL_CHANGE,
        "LATER": Action.SKIP,
        "MERGE": Action.MERGE,
    }
    assert [i.key for i in plan.skipped_conflicts] == ["LATER"]  # still unresolved: the CLI exits 1


def test_ask_without_a_callback_leaves_conflicts():
    assert resolved(conflict_plan(L, R), "ask").action is Action.CONFLICT




@pytest.mark.parametrize("mode, strategy", [(PULL, OnConflict.LOCAL), (PUSH, OnConflict.REMOTE)], ids=["pull-local", "push-remote"])
def test_one_way_resolution_keeps_the_commands_direction(mode, strategy):
    plan = resolve(conflict_plan(L, R, mode=mode), strategy, prune=False, merger=merge3)
    writes_wrong_side = plan.remote_changes() if mode is PULL else plan.local_changes()
    assert writes_wrong_side == []
    assert only_item(plan).action is Action.SKIP


@pytest.mark.parametrize("mode, to_store, to_local", [(PUSH, True, False), (PULL, False, True), (SYNC, True, True)])
def test_a_merge_in_a_one_way_command_writes_only_its_direction(mode, to_store, to_local):
    plan = resolve(conflict_plan(L, R, mode=mode), OnConflict.MERGE, prune=False, merger=lambda b, l, r: "merged")
    assert plan.remote_changes() == ([Change(KEY, "merged")] if to_store else [])
    assert plan.local_changes() == ([Change(KEY, "merged")] if to_local else [])


# -- properties --------------------------------------------------------------------

keys = st.sampled_from("ABCD")
values = st.sampled_from(["1", "2", "3"])
snapshots = st.dictionaries(keys, values, max_size=4)
bases = st.none() | st.dictionaries(keys, values | st.just(UNKNOWN), max_size=4)
modes = st.sampled_from(list(Mode))


def applied(values: dict[str, str], changes: list[Change]) -> dict[str, str]:
    result = dict(values)
    for change in changes:
        if change.is_delete:
            result.pop(change.key, None)
        else:
            result[change.key] = change.value
    return result


@settings(max_examples=200, deadline=None)
@given(local=snapshots, remote=snapshots, base=bases,
       strategy=st.sampled_from([OnConflict.FAIL, OnConflict.LOCAL, OnConflict.REMOTE, OnConflict.MERGE]))
def test_a_clean_pruning_sync_converges(local, remote, base, strategy):
    plan = resolve(make_plan(local, remote, base, SYNC, prune=True), strategy, prune=True, merger=merge3)
    if plan.conflicts or plan.of(Action.SKIP):
        return
    assert applied(local, plan.local_changes()) == applied(remote, plan.remote_changes())


@settings(max_examples=200, deadline=None)
@given(local=snapshots, remote=snapshots, base=bases, mode=modes, prune=st.booleans())
def test_planner_invariants(local, remote, base, mode, prune):
    plan = make_plan(local, remote, base, mode, prune=prune)
    assert [i.key for i in plan.items] == sorted(set(local) | set(remote))
    for item in plan.items:
        if local.get(item.key) == remote.get(item.key):
            assert item.action is Action.UNCHANGED
        else:
            assert item.action is not Action.UNCHANGED
    if not prune:
        assert plan.of(*DELETES) == []
    if mode is PUSH:
        assert plan.local_changes() == []
    if mode is PULL:
        assert plan.remote_changes() == []
    assert sum(plan.counts().values()) == len(plan.items)
