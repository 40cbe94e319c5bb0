"""The CI renderers, pure: workflow commands, job-summary Markdown, JUnit XML,
code-quality JSON, and the two CI export formats."""
from __future__ import annotations

import hashlib
import json
import stat
import xml.etree.ElementTree as ET

import pytest

from envsync import ci_report, drift, export
from envsync.drift import Finding
from envsync.errors import InputError
from envsync.model import Mode
from envsync.plan import Action, Item, Plan


def drift_findings(secret) -> list[Finding]:
    """Real findings from drift.compare, built over secret values (which they must never carry)."""
    schema = drift.Side(".env.example", ".env.example", ["API_KEY", "NEW_KEY"], {"API_KEY": 1, "NEW_KEY": 2})
    local = drift.Side(".env", ".env", ["API_KEY", "NEW_KEY"], {"API_KEY": 3, "NEW_KEY": 4})
    return drift.compare("dev", schema=schema, local=local, remote_keys=["API_KEY"],
                         local_values={"API_KEY": secret("local"), "NEW_KEY": secret("new")},
                         remote_values={"API_KEY": secret("remote")})


# -- masks -------------------------------------------------------------------------


def test_masks_every_value_escaped(secret):
    plain = secret("plain")
    percent = f"{secret('pct')}%0A%"
    lines = ci_report.add_mask_lines([plain, percent, "a\rb-c"])
    assert lines == [f"::add-mask::{plain}", f"::add-mask::{percent.replace('%', '%25')}",
                     "::add-mask::a%0Db-c", "::add-mask::b-c"]


def test_multi_line_value_is_masked_whole_and_line_by_line(secret):
    first, second = secret("first"), secret("second")
    lines = ci_report.add_mask_lines([f"{first}\n{second}\n\nab\n"])
    assert lines == [f"::add-mask::{first}%0A{second}%0A%0Aab%0A", f"::add-mask::{first}",
                     f"::add-mask::{second}"]  # the empty line and "ab" are too short to mask


@pytest.mark.parametrize("value", ["", "1", "on", "  x ", "\n\n", "false", "True", "disabled"])
def test_short_values_and_booleans_are_not_masked(value):
    assert ci_report.add_mask_lines([value]) == []


def test_each_mask_once(secret):
    value = secret()
    assert ci_report.add_mask_lines([value, value]) == [f"::add-mask::{value}"]


# -- annotations ---------------------------------------------------------------------


def test_annotations_point_at_file_and_line(secret):
    lines = ci_report.annotations(drift_findings(secret))
    assert "::error file=.env.example,line=2,title=envsync drift (dev)::NEW_KEY is in .env.example but not in " \
           "the store — push it, or remove it from .env.example" in lines
    assert any(line.startswith("::error file=.env,line=3,title=envsync drift (dev)::API_KEY differs")
               for line in lines)


def test_annotation_properties_and_message_are_escaped():
    finding = Finding("prod-eu", "K", drift.VALUE_DIFFERS, "conf/a,b:c%.env", None, "50% off\nline two: x, y")
    (line,) = ci_report.annotations([finding])
    # A message is one line: its text comes from stores and configs (issue 11), so a newline
    # in it is shown escaped rather than passed on as %0A.
    assert line == ("::error file=conf/a%2Cb%3Ac%25.env,title=envsync drift (prod-eu)::"
                    "50%25 off\\nline two: x, y")


def test_target_in_title_is_escaped():
    (line,) = ci_report.annotations([Finding("a:b,c", "K", "conflict", None, None, "m")])
    assert line == "::error title=envsync conflict (a%3Ab%2Cc)::m"


def plan_with_conflict(secret) -> Plan:
    return Plan(Mode.SYNC, (
        Item("URL", Action.CONFLICT, secret("l"), secret("r"), secret("b"),
             reason="changed on both sides since the last sync"),
        Item("NEW", Action.PUSH_ADD, secret("n"), None),
        Item("SAME", Action.UNCHANGED, "x" * 9, "x" * 9),
    ))


def test_plan_findings_conflicts_always_pending_changes_in_a_dry_run(secret):
    plan = plan_with_conflict(secret)
    applied = ci_report.plan_findings("dev", ".env", plan, {"URL": 4, "NEW": 1}, dry_run=False)
    assert [(f.key, f.kind, f.line) for f in applied] == [("URL", "conflict", 4)]
    dry = ci_report.plan_findings("dev", ".env", plan, {"URL": 4, "NEW": 1}, dry_run=True)
    assert [(f.key, f.kind) for f in dry] == [("URL", "conflict"), ("NEW", "push-add")]
    lines = ci_report.annotations(dry)
    assert lines[0].startswith("::error file=.env,line=4,title=envsync conflict (dev)::URL: changed on both sides")
    assert lines[1].startswith("::warning file=.env,line=1,title=envsync drift (dev)::NEW: push-add pending")


# -- Markdown --------------------------------------------------------------------------


def test_check_markdown_tables_and_clean_targets(secret):
    text = ci_report.check_markdown(["dev", "prod"], drift_findings(secret))
    assert "### dev\n\n| Key | Finding | Where | Fix |" in text
    assert "| `API_KEY` | value-differs | .env:3 | push, pull or sync it |" in text
    assert "### prod\n\nNo drift." in text


def test_markdown_cells_are_escaped():
    finding = Finding("dev", "A|B", "missing-from-store", "x|y.env", 1, "m — fix | it <now>")
    text = ci_report.check_markdown(["dev"], [finding])
    assert r"| `A\|B` | missing-from-store | x\|y.env:1 | fix \| it \<now\> |" in text


def test_plan_markdown_shows_shapes_never_values(secret):
    plan = plan_with_conflict(secret)
    sections = [ci_report.PlanSection("dev", plan),
                ci_report.PlanSection("prod", Plan(Mode.PUSH, ()), {"push": 0, "pull": 0})]
    text = ci_report.plan_markdown("sync", sections)
    assert "**not applied: conflicts**" in text and "(5 chars)" not in text
    assert "| `NEW` | push-add | " in text and "| (absent) |" in text
    assert "### prod\n\n0 to push, 0 to pull — applied: pushed 0, pulled 0\n\nIn sync." in text
    assert "SAME" not in text  # unchanged keys are left out, as in the text plan


# -- GitLab ------------------------------------------------------------------------------


def test_junit_suite_per_target_case_per_key(secret):
    findings = drift_findings(secret)
    text = ci_report.junit_xml({"dev": ["API_KEY", "NEW_KEY", "API_KEY"], "prod": ["DB_URL"], "empty": []},
                               findings, "envsync check")
    root = ET.fromstring(text.encode())
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["envsync check dev", "envsync check prod", "envsync check empty"]
    dev = suites["envsync check dev"]
    assert dev.get("tests") == "2" and dev.get("failures") == str(len(findings))
    failures = {(c.get("name"), f.get("type")) for c in dev.iter("testcase") for f in c.iter("failure")}
    assert failures == {(f.key, f.kind) for f in findings}
    prod_cases = list(suites["envsync check prod"].iter("testcase"))
    assert [c.get("name") for c in prod_cases] == ["DB_URL"] and not list(prod_cases[0])
    assert [c.get("name") for c in suites["envsync check empty"].iter("testcase")] == ["(no keys)"]


def test_codequality_fingerprints_stable_unique_value_free(secret):
    findings = drift_findings(secret)
    issues = ci_report.codequality(findings)
    assert issues == ci_report.codequality(findings)
    first = issues[0]
    assert first["fingerprint"] == hashlib.sha256(
        f"{findings[0].target}/{findings[0].key}/{findings[0].kind}".encode()).hexdigest()
    assert first["location"] == {"path": findings[0].file, "lines": {"begin": findings[0].line}}
    assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(first)
    twice = ci_report.codequality([findings[0], findings[0]])
    assert twice[0]["fingerprint"] != twice[1]["fingerprint"]


def test_codequality_without_file_points_at_the_config():
    (issue,) = ci_report.codequality([Finding("dev", "K", "conflict", None, None, "m")])
    assert issue["location"] == {"path": "envsync.toml", "lines": {"begin": 1}}
    assert issue["severity"] == "critical"


def test_reports_carry_no_value_nor_its_hash(secret, leak_watch):
    findings = drift_findings(secret)
    rendered = (json.dumps(ci_report.codequality(findings)) + ci_report.junit_xml({"dev": ["API_KEY"]}, findings)
                + ci_report.check_markdown(["dev"], findings) + "\n".join(ci_report.annotations(findings)))
    for value in leak_watch.values:
        assert value not in rendered and hashlib.sha256(value.encode()).hexdigest() not in rendered


# -- writers ---------------------------------------------------------------------------------


def test_write_private_is_0600_and_append_appends(tmp_path):
    report = tmp_path / "r.json"
    ci_report.write_private(report, "{}\n")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    ci_report.append(summary, "## envsync\n")
    assert summary.read_text() == "earlier step\n## envsync\n"
    with pytest.raises(InputError, match="cannot write"):
        ci_report.write_private(tmp_path / "missing" / "r.json", "{}")


# -- the CI export formats ----------------------------------------------------------------------


def parse_github_env(text: str) -> dict[str, str]:
    """Read KEY<<DELIM blocks back the way the runner does."""
    values, lines = {}, iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        key, delimiter = line.split("<<", 1)
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        values[key] = "\n".join(body)
    return values


def test_github_env_blocks_round_trip(secret):
    values = {"B": f"{secret('one')}\n{secret('two')}", "A": secret("a"), "EMPTY": ""}
    text = export.render(values, "github-env")
    assert text.startswith("A<<ghadelimiter_")
    assert parse_github_env(text) == values


def test_github_env_delimiter_never_occurs_in_the_value(secret, monkeypatch):
    import uuid

    taken = uuid.UUID(int=1)
    ids = iter([taken, uuid.UUID(int=2)])
    monkeypatch.setattr(export.uuid, "uuid4", lambda: next(ids))
    value = f"{secret()}\nghadelimiter_{taken}\nINJECTED=1"
    block = export.github_env_block("K", value)
    assert block == f"K<<ghadelimiter_{uuid.UUID(int=2)}\n{value}\nghadelimiter_{uuid.UUID(int=2)}\n"


def test_gitlab_dotenv_lines_and_refusals(secret):
    value = secret()
    assert export.render({"B": value, "A": "x=y 'q'"}, "gitlab-dotenv") == f"A=x=y 'q'\nB={value}\n"
    with pytest.raises(InputError) as multi:
        export.render({"CERT": f"{secret('l1')}\n{secret('l2')}"}, "gitlab-dotenv")
    assert "CERT" in str(multi.value) and "several lines" in str(multi.value)
    with pytest.raises(InputError, match="PADDED: .*blanks"):
        export.render({"PADDED": f" {secret()}"}, "gitlab-dotenv")


def test_long_tables_stop_and_say_where_the_rest_is():
    findings = [Finding("dev", f"K{i}", "missing-from-store", ".env", i, f"K{i} is missing — push it")
                for i in range(ci_report.MAX_SUMMARY_ROWS + 5)]
    markdown = ci_report.check_markdown(["dev"], findings)
    assert markdown.count("| `K") == ci_report.MAX_SUMMARY_ROWS
    assert "…and 5 more" in markdown


def test_junit_of_many_keys_is_linear():
    keys = [f"K{i}" for i in range(20_000)]
    findings = [Finding("dev", k, "missing-from-store", ".env", 1, f"{k} is missing") for k in keys]
    root = ET.fromstring(ci_report.junit_xml({"dev": keys}, findings))
    assert len(root.findall(".//failure")) == 20_000  # 20,000 x 20,000 comparisons would take minutes


# -- store and config text is escaped (issue 11) ---------------------------------------

HOSTILE = "K\n::stop-commands::x\x1b[2J\x00\u202eY|`<b>"


def test_junit_with_control_characters_is_well_formed_xml():
    finding = Finding(HOSTILE, HOSTILE, "value-differs", HOSTILE, 2, f"{HOSTILE} differs")
    root = ET.fromstring(ci_report.junit_xml({HOSTILE: [HOSTILE]}, [finding]).encode())
    case = root.find("testsuite/testcase")
    assert case.get("name") == "K\\n::stop-commands::x\\x1b[2J\\x00\\u202eY|`<b>"


def test_summary_markdown_escapes_control_characters():
    finding = Finding(HOSTILE, HOSTILE, "value-differs", HOSTILE, 2, f"{HOSTILE} differs — fix {HOSTILE}")
    plan = Plan(Mode.PUSH, (Item(HOSTILE, Action.PUSH_ADD, "value", None, reason=HOSTILE),))
    for text in (ci_report.check_markdown([HOSTILE], [finding]),
                 ci_report.plan_markdown("push", [ci_report.PlanSection(HOSTILE, plan)])):
        assert not any(c in text for c in "\x1b\x00\u202e"), repr(text)
        assert not any(line.startswith("::") for line in text.splitlines())


def test_annotation_message_is_one_line_without_controls():
    finding = Finding("dev", HOSTILE, "value-differs", ".env", 2, f"{HOSTILE} differs")
    (line,) = ci_report.annotations([finding])
    assert "\n" not in line and "%0A" not in line and "\x1b" not in line and "\x00" not in line


def test_codequality_description_is_escaped():
    (issue,) = ci_report.codequality([Finding("dev", HOSTILE, "value-differs", ".env", 2, f"{HOSTILE} differs")])
    assert not any(c in issue["description"] for c in "\n\x1b\x00\u202e")


# -- JSON values: every string field masked too (issue 11, item 9) --------------------


def test_json_value_masks_its_string_leaves(secret):
    password, token = secret("pw"), secret("tok")
    value = json.dumps({"user": "app-user", "db": {"password": password, "port": 5432, "ssl": True},
                        "list": [token, "ab", "abcd", None, 123456], "quote": 'p"w\\x'})
    masks = [line[len("::add-mask::"):] for line in ci_report.add_mask_lines([value])]
    assert masks[0] == value  # the whole value first
    assert {password, token, "app-user", "abcd", 'p"w\\x', 'p\\"w\\\\x'} <= set(masks)
    assert not {"ab", "5432", "123456", "true", "null", "user", "password"} & set(masks)


@pytest.mark.parametrize("value", ["not json {", "[1, 2", '"a string"', "{" * 100000, "12345"])
def test_non_json_values_are_masked_whole_only(value):
    assert ci_report.add_mask_lines([value]) == [f"::add-mask::{value}"]


def test_multi_line_json_leaf_is_masked_line_by_line(secret):
    first, second = secret("first"), secret("second")
    masks = [line[len("::add-mask::"):] for line in ci_report.add_mask_lines([json.dumps({"pem": f"{first}\n{second}"})])]
    assert first in masks and second in masks
