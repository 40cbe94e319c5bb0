"""What a run tells a CI: GitHub workflow commands (`::add-mask::`, `::error`
annotations) and job-summary Markdown, GitLab JUnit XML and code-quality JSON.

Pure renderers: they take findings and plans and return text or JSON-ready
data. The only I/O is in the two writers at the end (`write_private`,
`append`). Nothing here ever renders a value, except `add_mask_lines`, whose
job is to hand each value to GitHub's log masker. Every other string (keys,
targets, file names, messages) comes from a store or a config and is escaped
(`envsync.escaping`) before it goes into a workflow command, Markdown, XML or JSON.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from envsync import nesting, report
from envsync.config import CONFIG_FILE
from envsync.drift import Finding
from envsync.errors import InputError
from envsync.escaping import escape, workflow_data, workflow_property
from envsync.fsutil import atomic_write
from envsync.plan import Action, Plan

# GitHub masks a value wherever it appears in the log, even inside other words:
# masking "1", "on" or "db" would star out half the log and hide the plan
# itself. Values that short are not secrets anyway, nor are booleans ("false" masked
# would star out the Action's own `drift=false`).
MIN_MASK_LENGTH = 3
# A field of a JSON value (issue 11, item 9): one character more, as such values hold
# short structural strings ("v1", "eu", "rw") that are no secret but common in logs.
MIN_LEAF_LENGTH = 4
# GitHub shows a few annotations per step and refuses summaries over 1 MiB.
MAX_ANNOTATIONS = 50
MAX_SUMMARY_ROWS = 1000
CONFLICT = "conflict"


@dataclass(frozen=True)
class PlanSection:
    """One target's plan as a report shows it; `applied` is plan_json's "applied" (None: not applied)."""

    target: str
    plan: Plan
    applied: Mapping[str, int] | None = None
    dry_run: bool = False


# -- GitHub workflow commands ----------------------------------------------------


def add_mask_lines(values: Iterable[str]) -> list[str]:
    """`::add-mask::` for each value, and for each line of a multi-line value (the log shows lines
    apart); for a JSON object or array, also for each string in it (`jq -r .password` prints one)."""
    from envsync.scan.values import is_boolean_word

    lines: list[str] = []
    seen: set[str] = set()

    def add(text: str, minimum: int) -> None:
        for piece in _lines_of(text):
            if len(piece.strip()) >= minimum and not is_boolean_word(piece) and piece not in seen:
                seen.add(piece)
                lines.append(f"::add-mask::{workflow_data(piece)}")

    for value in values:
        add(value, MIN_MASK_LENGTH)
        for leaf in json_leaves(value):
            add(leaf, MIN_LEAF_LENGTH)
    return lines


def _lines_of(text: str) -> list[str]:
    return [text, *text.splitlines()] if ("\n" in text or "\r" in text) else [text]


def json_leaves(value: str) -> list[str]:
    """The strings inside a value that is a JSON object or array, as `jq -r` prints them and as
    they stand between quotes in the JSON (`jq .field`); [] for any other value.

    Numbers, booleans and null are left out: a port or a count masked would star out every
    occurrence of those digits in the log, and a secret number is written as a string."""
    if value.lstrip()[:1] not in ("{", "["):
        return []
    try:
        data = nesting.json_loads(value)
    except ValueError:
        return []
    leaves, stack = [], [data]
    while stack:  # no recursion: nesting depth is the store's to choose
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            quoted = json.dumps(node, ensure_ascii=False)[1:-1]
            leaves += [node] if quoted == node else [node, quoted]
    return leaves


def annotations(findings: Iterable[Finding]) -> list[str]:
    """One `::error` (a pending change: `::warning`) per finding, pinned to its file and line."""
    lines = []
    for f in findings:
        props = []
        if f.file:
            props.append(f"file={workflow_property(f.file)}")  # as it is, or GitHub cannot link the file
            if f.line:
                props.append(f"line={f.line}")
        label = "conflict" if f.kind == CONFLICT else "drift"
        props.append(f"title={workflow_property(escape(f'envsync {label} ({f.target})'))}")
        level = "warning" if _pending(f) else "error"
        lines.append(f"::{level} {','.join(props)}::{workflow_data(escape(f.message))}")
    return lines


def plan_findings(target: str, file: str | None, plan: Plan, lines: Mapping[str, int | None],
                  *, dry_run: bool) -> list[Finding]:
    """A plan's conflicts as findings; for a dry run also each pending change (what makes `plan` exit 1)."""
    findings = []
    for item in plan.items:
        if item.action is Action.CONFLICT:
            message = (f"{item.key}: {item.reason} — resolve with --on-conflict local|remote|merge, "
                       "or edit and re-run")
        elif dry_run and (item.action is Action.MERGE or item.action.value.startswith(("push-", "pull-"))):
            command = f"envsync {plan.mode.value} {target}"
            message = f"{item.key}: {item.action.value} pending — run `{command}` to apply it"
        else:
            continue
        findings.append(Finding(target, item.key, item.action.value, file, lines.get(item.key), message))
    return findings


def _pending(f: Finding) -> bool:
    return f.kind == Action.MERGE.value or f.kind.startswith(("push-", "pull-"))


# -- Markdown job summary --------------------------------------------------------


def check_markdown(targets: Sequence[str], findings: Sequence[Finding], command: str = "check") -> str:
    """`envsync check` (or `diff`) as a job summary: a table per target, or "No drift"."""
    lines = [f"## envsync {command}", ""]
    for target in targets:
        own = [f for f in findings if f.target == target]
        lines += [f"### {_md(target)}", ""]
        if not own:
            lines += ["No drift.", ""]
            continue
        lines += ["| Key | Finding | Where | Fix |", "| --- | --- | --- | --- |"]
        for f in own[:MAX_SUMMARY_ROWS]:
            fix = f.message.split(" — ", 1)[-1]
            lines.append(f"| {_code(f.key)} | {_md(f.kind)} | {_md(_where(f))} | {_md(fix)} |")
        lines += [_more(len(own)), ""]
    total = len(findings)
    lines.append(f"**{total} drift finding{'s' if total != 1 else ''}.** Values are never shown.")
    return "\n".join(lines) + "\n"


def plan_markdown(command: str, sections: Sequence[PlanSection]) -> str:
    """plan/push/pull/sync as a job summary: counts and masked shapes per target, never values."""
    lines = [f"## envsync {command}", ""]
    for section in sections:
        counts = _md(report.plan_summary(section.plan))
        lines += [f"### {_md(section.target)}", "", f"{counts} — {_outcome(section)}", ""]
        items = report.plan_items(section.plan)
        if not items:
            lines += ["In sync.", ""]
            continue
        lines += ["| Key | Action | Local | Store | Note |", "| --- | --- | --- | --- | --- |"]
        for i in items[:MAX_SUMMARY_ROWS]:
            lines.append(f"| {_code(i.key)} | {i.action.value} | {_md(report.mask(i.local))} | "
                         f"{_md(report.mask(i.remote))} | {_md(i.reason)} |")
        lines += [_more(len(items)), ""]
    lines.append("Values are masked: only presence and length are shown.")
    return "\n".join(lines) + "\n"


def _more(rows: int) -> str:
    """GitHub refuses a job summary over 1 MiB: long tables stop, and say where the rest is."""
    if rows <= MAX_SUMMARY_ROWS:
        return ""
    return f"\n…and {rows - MAX_SUMMARY_ROWS:,} more (all of them in `--report` / `--junit`)."


def _outcome(section: PlanSection) -> str:
    if section.plan.conflicts:
        return "**not applied: conflicts**"
    if section.applied is not None:
        return f"applied: pushed {section.applied.get('push', 0)}, pulled {section.applied.get('pull', 0)}"
    if section.dry_run:
        return "dry run, nothing applied"
    return "nothing applied" if section.plan.has_changes else "nothing to apply"


def _where(f: Finding) -> str:
    if f.file and f.line:
        return f"{f.file}:{f.line}"
    return f.file or "store"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell (keys and file names are user-chosen)."""
    text = escape(text)
    for char in ("\\", "|", "`", "<", ">", "*", "_", "[", "]"):
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def _code(text: str) -> str:
    """A key as inline code; in a table cell only the pipe needs escaping there."""
    text = escape(text)
    if "`" in text:
        return _md(text)
    return "`" + text.replace("|", "\\|") + "`"


# -- GitLab ------------------------------------------------------------------------


def junit_xml(checked: Mapping[str, Sequence[str]], findings: Sequence[Finding], name: str = "envsync") -> str:
    """JUnit XML: a testsuite per target, a testcase per key checked, a <failure> per finding.

    A clean target still lists its keys as passing tests, so GitLab shows it ran.
    """
    import xml.etree.ElementTree as ET

    by_target: dict[str, dict[str, list[Finding]]] = {}
    for f in findings:
        by_target.setdefault(f.target, {}).setdefault(f.key, []).append(f)
    root = ET.Element("testsuites", name=name)
    for target, keys in checked.items():
        own = by_target.get(target, {})
        cases = list(dict.fromkeys([*keys, *own])) or ["(no keys)"]
        # escape(): XML 1.0 cannot hold most control characters at all, escaped or not.
        suite = ET.SubElement(root, "testsuite", name=escape(f"{name} {target}"), tests=str(len(cases)),
                              failures=str(sum(map(len, own.values()))), errors="0", skipped="0")
        for key in cases:
            case = ET.SubElement(suite, "testcase", name=escape(key), classname=escape(f"envsync.{target}"))
            for f in own.get(key, ()):
                failure = ET.SubElement(case, "failure", message=escape(f.message), type=escape(f.kind))
                failure.text = escape(f"{_where(f)}: {f.message}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def codequality(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """GitLab code-quality issues, in the shape `envsync scan --format gitlab` gives.

    The fingerprint is sha256 of target/key/kind — never of a value; a repeat
    of the same three (a key missing from the store, seen from the schema and
    from the .env file) is told apart by its occurrence, as GitLab needs each
    fingerprint unique.
    """
    from hashlib import sha256  # ~2 ms of import, only for this report

    seen: dict[str, int] = {}
    issues = []
    for f in findings:
        identity = f"{f.target}/{f.key}/{f.kind}"
        seen[identity] = seen.get(identity, 0) + 1
        unique = identity if seen[identity] == 1 else f"{identity}:{seen[identity]}"
        issues.append({
            "type": "issue", "check_name": f"envsync-{f.kind}", "description": escape(f"[{f.target}] {f.message}"),
            "categories": ["Bug Risk"], "severity": _severity(f),
            "fingerprint": sha256(unique.encode()).hexdigest(),
            # the path as it is, or GitLab cannot link the file; JSON itself keeps it one string
            "location": {"path": f.file or CONFIG_FILE, "lines": {"begin": f.line or 1}},
        })
    return issues


def _severity(f: Finding) -> str:
    if f.kind == CONFLICT:
        return "critical"
    return "minor" if _pending(f) else "major"


def json_text(payload: Any) -> str:
    """The document `--json` prints, byte for byte (so `--report` equals it)."""
    return json.dumps(payload, indent=2, sort_keys=False) + "\n"


# -- writers -----------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """A report file: written atomically, mode 0600 when new."""
    try:
        atomic_write(Path(path), text.encode("utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror or exc})") from None


def append(path: Path, text: str) -> None:
    """Append to a file the CI runner owns ($GITHUB_STEP_SUMMARY, $GITHUB_ENV): never replace it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot append ({exc.strerror or exc})") from None
