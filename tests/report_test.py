"""Tests for `envsync.report`: masking, the plan summary's wording, and that no rendering of a
plan or of drift findings (text, rich table, JSON) ever contains a value."""
from __future__ import annotations

import io
import json
import sys

import pytest
from rich.console import Console

from envsync import report
from envsync.drift import Finding, Side, compare
from envsync.model import Mode, OnConflict, StoreInfo
from envsync.plan import UNKNOWN, Action, Item, Plan, make_plan, resolve

INFO = StoreInfo(uri="file://.envsync/store", layout="bundle", secrets=1)


# -- mask ----------------------------------------------------------------------------


@pytest.mark.parametrize("value, shown", [
    pytest.param(None, "(absent)", id="absent"),
    pytest.param(UNKNOWN, "(unknown)", id="unknown"),
    pytest.param("", "(empty)", id="empty"),
    pytest.param("x", "{bullet} (1 char)", id="one-char"),
    pytest.param("é😀", "{bullet} (2 chars)", id="unicode-counts-characters"),
    pytest.param("s" * 4096, "{bullet} (4096 chars)", id="long"),
])
def test_mask(value, shown):
    assert report.mask(value) == shown.format(bullet=report.bullet())


@pytest.mark.parametrize("encoding, bullet", [("utf-8", "••••"), ("UTF8", "••••"), ("ascii", "****"),
                                              ("cp1252", "****"), (None, "****")])
def test_bullet_follows_the_output_encoding(monkeypatch, encoding, bullet):
    class Stream:
        pass

    stream = Stream()
    stream.encoding = encoding
    monkeypatch.setattr(sys, "stdout", stream)
    assert report.bullet() == bullet
    assert report.mask("secret") == f"{bullet} (6 chars)"


def test_mask_never_shows_the_value(secret):
    value = secret("masked")
    assert value not in report.mask(value)
    assert report.value_shape(value) == {"present": True, "length": len(value)}
    assert report.value_shape(None) == {"present": False, "length": None}


# -- a plan with every action, all of whose values are secrets -----------------------


def every_action_plan(secret) -> Plan:
    s = secret
    shared, old = s("shared"), s("old")
    base = {"PUSH_CHANGE": old, "PULL_CHANGE": old, "PUSH_DELETE": old, "PULL_DELETE": old,
            "CONFLICT": old, "MERGE": old, "SKIP": old, "UNCHANGED": shared}
    local = {"PUSH_ADD": s("push-add"), "PUSH_CHANGE": s("push-change"), "PULL_CHANGE": old,
             "PULL_DELETE": old, "CONFLICT": s("conflict-local"), "MERGE": s("merge-local"),
             "UNCHANGED": shared}
    remote = {"PULL_ADD": s("pull-add"), "PUSH_CHANGE": old, "PULL_CHANGE": s("pull-change"),
              "PUSH_DELETE": old, "CONFLICT": s("conflict-remote"), "MERGE": s("merge-remote"),
              "SKIP": old, "UNCHANGED": shared}
    merged = s("merged")
    without_skip = {k: v for k, v in remote.items() if k != "SKIP"}
    pruned = make_plan(local, without_skip, base, Mode.SYNC, prune=True)
    pruned = resolve(pruned, OnConflict.ASK, prune=True, merger=lambda b, l, r: merged,
                     choose=lambda item: "merge" if item.key == "MERGE" else "none")
    skipped = make_plan({}, {"SKIP": old}, base, Mode.SYNC, prune=False)
    plan = Plan(Mode.SYNC, pruned.items + skipped.items)
    assert {i.key: i.action.name for i in plan.items} == {a.name: a.name for a in Action}
    return plan


def rich_text(renderable) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
@pytest.mark.parametrize("render", [
    pytest.param(lambda plan, verbose: report.plan_text("dev: .env <-> store", plan, verbose), id="plan_text"),
    pytest.param(lambda plan, verbose: json.dumps(report.plan_json("dev", ".env", plan, INFO, verbose)), id="plan_json"),
    pytest.param(lambda plan, verbose: rich_text(report.plan_table("dev", plan, verbose)), id="plan_table"),
])
def test_no_value_in_any_plan_rendering(secret, leak_watch, render, verbose):
    output = render(every_action_plan(secret), verbose)
    leak_watch.outputs.append(("plan rendering", output))
    for value in leak_watch.values:
        assert value not in output
    for action in Action:
        if verbose or action is not Action.UNCHANGED:
            assert action.name in output  # the keys are named after their action
    assert ("UNCHANGED" in output) == verbose


def test_plan_text_layout(secret):
    plan = every_action_plan(secret)
    lines = report.plan_text("dev: .env <-> file://store", plan).splitlines()
    assert lines[0] == "dev: .env <-> file://store"
    assert lines[-1] == f"  {report.plan_summary(plan)}"
    by_key = {line.split()[1]: line for line in lines[1:-1]}
    assert by_key["PUSH_ADD"].split()[:3] == ["+", "PUSH_ADD", "push-add"]
    assert by_key["PULL_DELETE"].split()[:3] == ["-", "PULL_DELETE", "pull-delete"]
    assert by_key["CONFLICT"].split()[:2] == ["!", "CONFLICT"]
    assert "changed on both sides" in by_key["CONFLICT"]
    assert "-> " in by_key["PUSH_CHANGE"] and "chars" in by_key["PUSH_CHANGE"]


def test_plan_text_in_sync():
    plan = make_plan({"A": "1"}, {"A": "1"}, None, Mode.SYNC)
    assert report.plan_text("t", plan).splitlines() == ["t", "  (in sync)", "  0 to push, 0 to pull, 1 unchanged"]


def test_plan_json_shape(secret):
    data = report.plan_json("dev", ".env", every_action_plan(secret), INFO)
    assert (data["target"], data["file"], data["mode"]) == ("dev", ".env", "sync")
    assert data["store"] == {"uri": INFO.uri, "layout": "bundle", "secrets": 1}
    assert data["summary"]["push"] == 4 and data["summary"]["pull"] == 4  # the merge goes both ways
    assert data["summary"]["conflict"] == 1
    items = {i["key"]: i for i in data["items"]}
    assert "UNCHANGED" not in items
    assert items["PUSH_ADD"]["store"] == {"present": False, "length": None}
    assert items["PUSH_ADD"]["local"]["present"] is True
    assert items["PUSH_ADD"]["reason"] is None
    assert "prune" in items["SKIP"]["reason"]


# -- plan_summary wording ----------------------------------------------------------------


def items(*actions: Action) -> Plan:
    """A plan with one item per action given; pushes and pulls change a value."""
    return Plan(Mode.SYNC, tuple(
        Item(f"K{n}", action, "l", "r", "b", merged="m" if action is Action.MERGE else None)
        for n, action in enumerate(actions)))


@pytest.mark.parametrize("plan, summary", [
    pytest.param(items(), "0 to push, 0 to pull", id="empty"),
    pytest.param(items(Action.UNCHANGED, Action.UNCHANGED), "0 to push, 0 to pull, 2 unchanged", id="in-sync"),
    pytest.param(items(Action.PUSH_ADD, Action.PUSH_CHANGE, Action.PUSH_DELETE), "3 to push, 0 to pull", id="pushes"),
    pytest.param(items(Action.PULL_ADD, Action.PULL_DELETE), "0 to push, 2 to pull", id="pulls"),
    pytest.param(items(Action.MERGE), "1 to push, 1 to pull", id="merge-goes-both-ways"),
    pytest.param(items(Action.CONFLICT), "0 to push, 0 to pull, 1 conflict", id="one-conflict"),
    pytest.param(items(Action.CONFLICT, Action.CONFLICT), "0 to push, 0 to pull, 2 conflicts", id="conflicts"),
    pytest.param(items(Action.SKIP, Action.SKIP), "0 to push, 0 to pull, 2 skipped", id="skipped"),
    pytest.param(items(Action.UNCHANGED, Action.SKIP, Action.CONFLICT, Action.PUSH_ADD, Action.PULL_CHANGE),
                 "1 to push, 1 to pull, 1 conflict, 1 skipped, 1 unchanged", id="everything-in-order"),
])
def test_plan_summary(plan, summary):
    assert report.plan_summary(plan) == summary


# -- findings ----------------------------------------------------------------------------


@pytest.mark.parametrize("finding, text", [
    pytest.param(Finding("dev", "A", "missing-from-store", ".env", 3, "A is missing"),
                 ".env:3: [dev] missing-from-store: A is missing", id="file-and-line"),
    pytest.param(Finding("dev", "A", "missing-from-local", ".env", None, "A is missing"),
                 ".env: [dev] missing-from-local: A is missing", id="file-only"),
    pytest.param(Finding("dev", "A", "missing-from-schema", None, None, "A is missing"),
                 "[dev] missing-from-schema: A is missing", id="nowhere"),
])
def test_findings_text_format(finding, text):
    assert report.findings_text([finding]) == text


def test_no_value_in_findings_output(secret, leak_watch):
    local_values = {"API_KEY": secret("local"), "LOCAL_ONLY": secret("local-only")}
    remote_values = {"API_KEY": secret("remote"), "STORE_ONLY": secret("store-only")}
    local = Side(".env", ".env", list(local_values), {"API_KEY": 1, "LOCAL_ONLY": 2})
    schema = Side(".env.example", ".env.example", ["API_KEY", "SCHEMA_ONLY"], {"API_KEY": 1, "SCHEMA_ONLY": 2})
    findings = compare("prod", schema=schema, local=local, remote_keys=list(remote_values),
                       local_values=local_values, remote_values=remote_values)
    outputs = {
        "findings_text": report.findings_text(findings),
        "findings_json": json.dumps(report.findings_json(findings)),
        "findings_table": rich_text(report.findings_table(findings, "drift")),
    }
    for where, output in outputs.items():
        leak_watch.outputs.append((where, output))
        for value in leak_watch.values:
            assert value not in output, where
        for key in ("API_KEY", "LOCAL_ONLY", "STORE_ONLY", "SCHEMA_ONLY"):
            assert key in output, where


# -- store and config text is escaped (issue 11) ---------------------------------------

HOSTILE = "K\n::stop-commands::x\x1b[2J\u202eY[link=https://evil.example]click[/link]"


def hostile_renderings() -> dict[str, str]:
    from datetime import datetime, timezone

    from envsync.model import VersionInfo

    plan = Plan(Mode.SYNC, (Item(HOSTILE, Action.CONFLICT, "l", "r", "b", reason=f"note {HOSTILE}"),))
    finding = Finding(HOSTILE, HOSTILE, "value-differs", HOSTILE, 3, f"{HOSTILE} differs")
    entries = [VersionInfo(HOSTILE, datetime(2026, 1, 1, tzinfo=timezone.utc), HOSTILE, "changed", 3, key=HOSTILE)]
    rows = report.history_rows(entries, None)
    return {
        "plan_text": report.plan_text(f"dev: {HOSTILE}", plan, True),
        "plan_table": rich_text(report.plan_table(f"dev: {HOSTILE}", plan, True)),
        "findings_text": report.findings_text([finding]),
        "findings_table": rich_text(report.findings_table([finding], HOSTILE)),
        "history_text": report.history_text(HOSTILE, rows),
        "history_table": rich_text(report.history_table(HOSTILE, rows)),
    }


@pytest.mark.parametrize("name", list(hostile_renderings()))
def test_store_strings_are_escaped_in_every_rendering(name):
    output = hostile_renderings()[name]
    assert not any(char in output for char in "\x1b\u202e"), repr(output)
    assert not any(line.lstrip().startswith("::") for line in output.splitlines()), output
    assert "\\n::stop-commands::x\\x1b[2J\\u202eY" in output.replace("\n", "")
    # rich markup in a name is shown, not applied: the link text stays in brackets
    assert "[link=https://evil.example]" in output.replace("\n", "")


def test_rich_table_does_not_apply_markup_from_a_key():
    plan = Plan(Mode.PUSH, (Item("A[link=https://evil.example]B", Action.PUSH_ADD, "v", None),))
    console = Console(file=io.StringIO(), width=200, force_terminal=True, color_system="truecolor")
    console.print(report.plan_table("dev", plan))
    assert "evil.example" in console.file.getvalue()
    assert "\x1b]8;" not in console.file.getvalue()  # no OSC 8 hyperlink was emitted


def test_a_bundle_version_s_row_says_its_count_is_of_changed_keys() -> None:
    from datetime import datetime, timezone

    from envsync.model import VersionInfo

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    entries = [VersionInfo("2", when, None, "changed", 5, changes=(("A", "added"), ("B", "deleted"))),
               VersionInfo("1", when, None, "added", 1, changes=(("B", "added"),)),
               VersionInfo("0", when, None, "changed", 4)]
    assert [row[-1] for row in report.history_rows(entries, None)] == ["2 keys changed", "1 key changed", "4 keys"]
    assert "Changed" in report.HISTORY_COLUMNS[-1]
    text = rich_text(report.history_table("dev", report.history_rows(entries, None)))
    assert "Changed" in text and "2 keys changed" in text
