"""A scan's result as text, JSON, SARIF, GitHub workflow commands or a GitLab code-quality report.
Returns text or JSON-ready data; the CLI prints."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from envsync.escaping import escape, workflow_data, workflow_property
from envsync.scan.baseline import BASELINE_FILE
from envsync.scan.matcher import ENV_FILE, ENV_UNPARSED, ENV_VALUE, UNSCANNED
from envsync.scan.rules import RULES

if TYPE_CHECKING:
    from envsync.scan.run import Result


FIX_HINT = ("take the value out (and rotate it if it was pushed anywhere); if it is not a secret, add "
            "`envsync: allow` to its line, or run `envsync scan --all --update-baseline` and commit "
            f"{BASELINE_FILE}")


def render_text(result: Result, verbose: bool = False) -> str:
    lines = []
    for f in result.findings:
        where = (f"{escape(f.file)}:{f.line}" + (f":{f.column}" if f.column else "")) if f.line else escape(f.file)
        lines.append(f"{where}: {escape(f.rule)}: {escape(f.describe())}")
    if verbose:
        for f in result.allowed:
            where = f"{escape(f.file)}:{f.line}" if f.line else escape(f.file)
            key = f" {escape(f.key)}" if f.key else ""
            lines.append(f"allowed ({f.allowed_by}): {where}: {escape(f.rule)}{key}")
        for blob in result.skipped:
            lines.append(f"skipped: {escape(blob.name)}: {escape(blob.skipped)}")
        lines.extend(f"note: {escape(note)}" for note in result.notes)
        summary = result.values.summary()
        lines.append(f"values: {summary['searched']} searched ({result.needles} needles) from "
                     f"{escape(', '.join(summary['sources'])) or 'no .env file'}")
        for reason, keys in summary["skipped"].items():
            lines.append(f"values skipped as {reason}: {escape(', '.join(keys))}")
    files = f"{result.scanned} file{'s' if result.scanned != 1 else ''}"
    if result.baseline_written is not None:
        lines.append(f"Wrote {result.baseline_path}: {result.baseline_written} entr"
                     f"{'y' if result.baseline_written == 1 else 'ies'} — review it, then commit it.")
    elif result.findings:
        n = len(result.findings)
        lines.append(f"envsync scan: {n} finding{'s' if n != 1 else ''} in {result.files_with_findings} "
                     f"file{'s' if result.files_with_findings != 1 else ''} (values are never shown). Fix: {FIX_HINT}.")
    else:
        allowed = f", {len(result.allowed)} allowed" if result.allowed else ""
        lines.append(f"envsync scan: no secrets in {files}{allowed}.")
    if result.skipped and not verbose:
        lines.append(f"{len(result.skipped)} file(s) not scanned (unreadable, or gone from the working tree); -v lists them.")
    return "\n".join(lines)


def render_json(result: Result) -> dict[str, Any]:
    return {
        "clean": not result.findings,
        "mode": result.mode,
        "findings": [f.to_json() for f in result.findings],
        "allowed": [f.to_json() for f in result.allowed],
        "skipped": [{"file": b.name, "reason": b.skipped} for b in result.skipped],
        "scanned": result.scanned,
        "notes": result.notes,
        "values": {**result.values.summary(), "needles": result.needles},
        "warnings": result.warnings,
        "baseline": {"path": result.baseline_path, "written": result.baseline_written},
    }


def _rule_catalogue() -> list[tuple[str, str, str]]:
    """(id, name, help) of every rule a finding can carry."""
    return [(ENV_VALUE, "value from a local .env file or store",
             "Remove the value; rotate it if it was ever pushed. EnvSync matched it as written, base64, "
             "URL-encoded or JSON-escaped."),
            (ENV_FILE, ".env file in git", "Keep .env files out of git: git rm --cached, and add .env* to .gitignore."),
            (ENV_UNPARSED, "unreadable line in a local .env file",
             "Fix the line (KEY=value); a secret pasted on it is looked for like a value."),
            (UNSCANNED, "file not scanned", "Make the file readable, or pass --allow-unscanned."),
            ] + [(r.id, r.name, r.help[0].upper() + r.help[1:] + ".") for r in RULES]


def render_sarif(result: Result, version: str) -> dict[str, Any]:
    """SARIF 2.1.0 as GitHub code scanning reads it; allowed findings are included as suppressed."""
    catalogue = _rule_catalogue() + [(r.id, r.name, r.help[0].upper() + r.help[1:] + ".") for r in result.extra_rules]
    index = {rule_id: i for i, (rule_id, _, _) in enumerate(catalogue)}
    rules = [{
        "id": rule_id, "name": "".join(w.capitalize() for w in re.split(r"[^A-Za-z0-9]+", name) if w),
        "shortDescription": {"text": name}, "fullDescription": {"text": f"{name}: {help_text}"},
        "help": {"text": help_text}, "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "secret"], "precision": "high", "security-severity": "9.0"},
    } for rule_id, name, help_text in catalogue]
    results = []
    for f in result.findings + result.allowed:
        entry: dict[str, Any] = {
            "ruleId": f.rule, "ruleIndex": index[f.rule], "level": "error",
            "message": {"text": f.describe()},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": quote(f.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line or 1, **({"startColumn": f.column} if f.column else {})},
            }}],
            "partialFingerprints": {"envsyncFingerprint/v1": f.fingerprint},
        }
        if f.allowed_by:
            entry["suppressions"] = [{"kind": "inSource" if f.allowed_by == "pragma" else "external",
                                      "justification": f"allowed by {'the envsync: allow pragma' if f.allowed_by == 'pragma' else BASELINE_FILE}"}]
        results.append(entry)
    notifications = [{"level": "note", "message": {"text": f"skipped {b.name}: {b.skipped}"},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": quote(b.name), "uriBaseId": "%SRCROOT%"}}}]}
                     for b in result.skipped]
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "envsync", "version": version, "semanticVersion": version,
                                "informationUri": "https://github.com/envsync/envsync", "rules": rules}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": results,
        }],
    }


def render_github(result: Result) -> str:
    """GitHub Actions workflow commands: one `::error` annotation per finding, then a summary line."""
    lines = []
    for f in result.findings:
        props = [f"file={workflow_property(f.file)}"]
        if f.line:
            props += [f"line={f.line}"] + ([f"col={f.column}"] if f.column else [])
        props.append(f"title={workflow_property('envsync ' + f.rule)}")
        lines.append(f"::error {','.join(props)}::{workflow_data(f.describe())}")
    for blob in result.skipped:
        lines.append(f"::notice file={workflow_property(blob.name)}::{workflow_data('envsync skipped this file: ' + (blob.skipped or ''))}")
    n = len(result.findings)
    lines.append(f"envsync scan: {n} finding{'s' if n != 1 else ''}" + (f" — {FIX_HINT}" if n else ""))
    return "\n".join(lines)


def render_gitlab(result: Result) -> list[dict[str, Any]]:
    """GitLab code-quality report entries (fingerprints unique per entry, as GitLab requires)."""
    from hashlib import sha256

    seen: dict[str, int] = {}
    issues = []
    for f in result.findings:
        seen[f.fingerprint] = seen.get(f.fingerprint, 0) + 1
        unique = sha256(f"{f.fingerprint}:{seen[f.fingerprint]}".encode()).hexdigest()[:32]
        issues.append({
            "type": "issue", "check_name": f.rule, "description": f"{f.rule}: {f.describe()}",
            "categories": ["Security"], "severity": "critical", "fingerprint": unique,
            "location": {"path": f.file, "lines": {"begin": f.line or 1}},
        })
    return issues
