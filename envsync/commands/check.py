"""`envsync check`: drift between each target's schema, local file and store, and between the
stores of targets that share keys (`shares_keys_with`). Values are never printed.

The comparisons are pure (`envsync.drift`); this module reads every target first (masking each
value on GitHub before anything is printed), then compares, renders and writes the CI reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envsync import config as config_module, drift, engine, report
from envsync.commands.schema import read_schema
from envsync.config import Config, Target
from envsync.errors import EXIT_CLEAN, EXIT_DRIFT, InputError
from envsync.output import CiRun, Output, ReportFiles, progress, warn
from envsync.stores import open_store


def run(config_path: Path | None, names, all_targets, *, offline: bool, as_json: bool, reports: ReportFiles) -> int:
    """`config_path`: -c's file, loaded once the report paths are known to be writable."""
    out = Output(as_json)
    ci_run = CiRun("check", reports)
    config = config_module.load(config_path)
    # Every target is read and masked before anything is printed (see commands/sync.py).
    reads = [_read(target, offline, ci_run) for target in config.select(names, all_targets)]
    findings: list[drift.Finding] = []
    for read in reads:
        findings += _check_target(read, offline, ci_run)
    if not offline:
        findings += _check_shared_keys(config, reads, ci_run)
    if findings:
        out.show(report.findings_text(findings), lambda: report.findings_table(findings, "Drift"))
        out.note(f"{len(findings)} drift finding(s)")
    else:
        out.note("No drift.")
    payload = {"drift": bool(findings), "findings": report.findings_json(findings)}
    out.emit_json(payload)
    ci_run.finish(payload)
    return EXIT_DRIFT if findings else EXIT_CLEAN


@dataclass(frozen=True)
class _CheckRead:
    """What `check` read for one target: the schema, the local file, the store (None: offline)."""

    target: Target
    schema: drift.Side | None
    local: engine.Local
    remote_values: dict[str, str] | None
    warnings: list[str]


def _read(target: Target, offline: bool, ci_run: CiRun) -> _CheckRead:
    schema = _schema_side(target)
    if offline and schema is None:
        raise InputError(f"target {target.name}: --offline compares with a schema, and the target has none — "
                         "set `schema = \".env.example\"`")
    local = engine.read_local(target, must_exist=False)
    ci_run.mask(local.values.values())
    warnings = list(local.document.warnings)
    remote_values = None
    if not offline:
        store = open_store(target)
        with progress(f"reading {target.name}") as tick:
            remote_values = dict(store.read(tick).values)
        ci_run.mask(remote_values.values())
        warnings += store.notes
    return _CheckRead(target, schema, local, remote_values, warnings)


def _check_target(read: _CheckRead, offline: bool, ci_run: CiRun) -> list[drift.Finding]:
    target, schema, local, remote_values = read.target, read.schema, read.local, read.remote_values
    for message in read.warnings:
        warn(message)
    local_side = None
    if local.exists:
        keys = local.document.keys() if offline else list(local.values)
        known = local.document.lines()
        lines = {k: known.get(k) or 0 for k in keys}
        local_side = drift.Side(target.display_file(), target.display_file(), keys, lines)
    found = drift.compare(target.name, schema=schema, local=local_side,
                          remote_keys=list(remote_values) if remote_values is not None else None,
                          local_values=local.values, remote_values=remote_values)
    checked = [*(schema.keys if schema else ()), *(local_side.keys if local_side else ()), *(remote_values or ())]
    ci_run.add_findings(target.name, checked, found)
    return found


def _check_shared_keys(config: Config, reads: list[_CheckRead], ci_run: CiRun) -> list[drift.Finding]:
    """The committed cross-target expectations (`shares_keys_with`) between the stores just read."""
    read_keys = {r.target.name: sorted(r.remote_values or {}) for r in reads}
    for read in reads:
        skipped = [o for o in read.target.shares_keys_with if o not in read_keys]
        if skipped:
            warn(f"{read.target.name} shares keys with {', '.join(skipped)}, not checked in this run — "
                 "name both targets, or pass --all, to compare their keys")
    expectations = [drift.Expectation(t.name, t.shares_keys_with, t.may_lack) for t in config.targets.values()]
    found = drift.shared_keys(expectations, read_keys, _relative_config(config))
    for name in read_keys:
        ci_run.add_findings(name, [], [f for f in found if f.target == name])
    return found


def _relative_config(config: Config) -> str:
    try:
        return str(config.path.relative_to(Path.cwd()))
    except ValueError:
        return config.path.name


def _schema_side(target: Target) -> drift.Side | None:
    if target.schema is None:
        return None
    name = target.display_schema() or str(target.schema)
    document = read_schema(target)
    keys = document.keys()
    known = document.lines()
    return drift.Side(name, name, keys, {k: known.get(k) or 0 for k in keys})
