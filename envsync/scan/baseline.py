"""The baseline file: findings reviewed as not secret, matched by file, rule, key and fingerprint."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from envsync import nesting
from envsync.errors import InputError
from envsync.scan.matcher import UNSCANNED, ScanFinding

if TYPE_CHECKING:
    from envsync.scan.run import Result

BASELINE_FILE = ".envsync-baseline.json"
BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineEntry:
    file: str
    line: int | None
    rule: str
    key: str | None
    fingerprint: str

    @property
    def identity(self) -> tuple[str, str, str | None, str]:
        return (self.file, self.rule, self.key, self.fingerprint)


BASELINE_ABOUT = ("Findings of `envsync scan` reviewed as not secret. An entry matches by file, rule, key and "
                  "fingerprint; `line` is a hint for reviewers. The fingerprint is sha256 over the file, rule, key "
                  "and the line's text with the finding masked: no value, and no hash of one, is stored. "
                  "Update with `envsync scan --all --update-baseline` and review the diff.")


def load_baseline(path: Path) -> list[BaselineEntry]:
    if not path.exists():
        return []
    fix = "fix it, or delete it and run `envsync scan --all --update-baseline`"
    try:
        data = nesting.json_loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: not valid JSON ({exc}) — {fix}") from None
    except OSError as exc:
        raise InputError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(data.get("findings"), list):
        raise InputError(f"{path.name}: not an envsync baseline (version {BASELINE_VERSION} with a findings list) — {fix}")
    entries = []
    for index, item in enumerate(data["findings"]):
        try:
            entry = BaselineEntry(file=item["file"], line=item.get("line"), rule=item["rule"], key=item.get("key"),
                                  fingerprint=item["fingerprint"])
        except (KeyError, TypeError, AttributeError):
            raise InputError(f"{path.name}: findings[{index}] needs file, rule and fingerprint — {fix}") from None
        if not all(isinstance(v, str) for v in (entry.file, entry.rule, entry.fingerprint)) or \
                not isinstance(entry.key, (str, type(None))) or not isinstance(entry.line, (int, type(None))):
            raise InputError(f"{path.name}: findings[{index}] has a field of the wrong type — {fix}")
        entries.append(entry)
    return entries


def render_baseline(entries: Iterable[BaselineEntry]) -> str:
    """Stable, sorted, diff-friendly JSON: one entry per finding, keys in a fixed order."""
    unique = {e.identity: e for e in entries}
    ordered = sorted(unique.values(), key=lambda e: (e.file, e.line or 0, e.rule, e.key or "", e.fingerprint))
    document = {
        "version": BASELINE_VERSION,
        "about": BASELINE_ABOUT,
        "findings": [{"file": e.file, "line": e.line, "rule": e.rule, "key": e.key, "fingerprint": e.fingerprint}
                     for e in ordered],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def entry_for(finding: ScanFinding) -> BaselineEntry:
    return BaselineEntry(finding.file, finding.line, finding.rule, finding.key, finding.fingerprint)


def update_baseline(result: Result, baseline: list[BaselineEntry], path: Path, scanned: set[str], base: Path,
                     tracked: set[str] | None) -> None:
    """Replace the entries of the files scanned by this run's findings; keep the others while their file exists."""
    from envsync.fsutil import atomic_write

    keep = [e for e in baseline if e.file not in scanned and (base / e.file).exists()
            and (tracked is None or e.file in tracked)]
    new = [entry_for(f) for f in result.findings + result.allowed if f.allowed_by != "pragma" and f.rule != UNSCANNED]
    text = render_baseline(keep + new)
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise InputError(f"{result.baseline_path}: cannot write ({exc.strerror})") from None
    result.baseline_written = text.count('"fingerprint":')
    unscanned = [f for f in result.findings if f.rule == UNSCANNED]  # a file not read cannot be reviewed
    for finding in result.findings:
        if finding.rule != UNSCANNED:
            finding.allowed_by = "baseline"
    result.allowed = sorted(result.allowed + [f for f in result.findings if f.allowed_by], key=lambda f: f.sort_key)
    result.findings = unscanned
