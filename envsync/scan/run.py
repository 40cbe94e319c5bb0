"""One scan: collect the values, pick the files, read each once with one Matcher, then apply the
pragma, the baseline and the gitleaks allowlists. Returns a Result; nothing here prints."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

from envsync.errors import InputError
from envsync.escaping import escape
from envsync.scan.baseline import BASELINE_FILE, entry_for, load_baseline, update_baseline
from envsync.scan.content import decode, pieces
from envsync.scan.matcher import ENV_FILE, ENV_UNPARSED, ENV_VALUE, UNSCANNED, ScanFinding, Matcher, fingerprint, scan_text
from envsync.scan.rules import RULES, Rule
from envsync.scan.settings import Settings
from envsync.scan.sources import (Blob, Git, Listings, collect_values, committed_defaults, display_name, disk_blob,
                                  find_local_sources, format_size, given_blobs, is_env_file, is_store_file, load_config,
                                  staged_blobs, store_dirs, template_names)
from envsync.scan.values import Values


@dataclass
class Request:
    files: Sequence[Path] = ()
    staged: bool = False
    all_files: bool = False
    config_path: Path | None = None
    stores: Sequence[str] = ()
    values_from: Sequence[Path] = ()
    baseline: Path | None = None
    update_baseline: bool = False
    settings: Settings = Settings()
    cwd: Path | None = None


@dataclass
class Result:
    mode: str
    findings: list[ScanFinding] = field(default_factory=list)  # to fix: neither pragma nor baseline allows them
    allowed: list[ScanFinding] = field(default_factory=list)
    skipped: list[Blob] = field(default_factory=list)
    scanned: int = 0
    notes: list[str] = field(default_factory=list)  # per-file remarks for -v (e.g. read as Latin-1)
    warnings: list[str] = field(default_factory=list)
    bad_lines: list[tuple[str, int]] = field(default_factory=list)  # (.env file, line) python-dotenv cannot read
    extra_rules: list[Rule] = field(default_factory=list)  # from .gitleaks.toml and [scan] rules
    values: Values = field(default_factory=Values)
    needles: int = 0
    baseline_path: str | None = None
    baseline_written: int | None = None

    @property
    def files_with_findings(self) -> int:
        return len({f.file for f in self.findings})


def run(request: Request) -> Result:
    """Scan what the request names; the caller renders the result and picks the exit code.

    Git is asked as little as possible (it is most of a pre-commit run's cost): the repo root, the
    staged list and one `status` (the ignored .env files below the root) side by side, one
    `cat-file --batch` for every object needed (staged blobs, the .env files and templates as
    committed at HEAD), and one `check-ignore` for the env files `status` did not already name
    (none in the usual hook run)."""
    settings = request.settings
    cwd = (request.cwd or Path.cwd()).resolve()
    early = Listings.early(cwd, request.staged)
    root = Git.toplevel(cwd)
    listings = early if early is not None and root == cwd else None
    if early is not None and listings is None:
        early.discard()
    if (request.staged or request.all_files) and root is None:
        raise InputError(f"{cwd}: not inside a git repository — --staged and --all read git's index; "
                         "name FILES to scan instead")
    git = Git(root) if root is not None else None
    if git is not None and listings is None:
        listings = Listings(git, request.staged)
    base = root or cwd
    mode = "staged" if request.staged else "all" if request.all_files else "files"
    result = Result(mode=mode)
    config = load_config(request.config_path, cwd)
    targets = list(config.targets.values()) if config is not None else []
    settings = _with_config(settings, config)
    result.extra_rules, allowed_paths = _extra_rules(config, base, result.warnings)
    target_files = {display_name(t.file, base) for t in targets}
    stores = store_dirs(base, targets)

    staged = listings.staged() if listings is not None else []
    ignored_env = listings.ignored_env_files(settings) if listings is not None else []
    sources = find_local_sources(base, targets, settings, ignored_env)
    templates = template_names(base, targets, settings)
    tracked_all = set(git.tracked()) if git is not None and request.all_files else None
    objects: Mapping[str, bytes | int | None] = {}
    if git is not None:
        inside = [n for n in sources if not Path(n).is_absolute()]
        names = sorted({oid for _, oid in staged}) + [f"HEAD:{n}" for n in sorted(set(inside) | set(templates))]
        objects = git.read_objects(names, settings.max_size)
    for name in [n for n in sources if objects.get(f"HEAD:{n}") is not None]:
        del sources[name]  # committed: its values are public (or leaked already, and --all reports the file)

    if request.staged and request.files:
        blobs = _hook_blobs(request.files, cwd, base, staged, objects, settings)
    elif request.staged:
        blobs = staged_blobs(staged, objects, base)
    elif request.all_files:
        blobs = [disk_blob(base / name, name, settings) for name in sorted(tracked_all or ())]
    else:
        blobs = given_blobs([cwd / p for p in request.files], base, settings)
    baseline_path = (cwd / request.baseline) if request.baseline else base / BASELINE_FILE
    result.baseline_path = display_name(baseline_path, base)
    blobs = [b for b in blobs if b.name != result.baseline_path]
    env_files = {b.name for b in blobs if is_env_file(b.name, settings) or b.name in target_files
                 or is_store_file(b.name, stores)}
    # `[scan] skip` turns off content scanning only: a PR could otherwise skip its own staged .env file.
    blobs = [b for b in blobs if b.name in env_files or not _skipped(b.name, settings)]

    local_sources = [n for n in sources if not Path(n).is_absolute()]
    known_ignored = set(ignored_env)  # `git status` listed these as ignored: git is not asked again
    asked = sorted((env_files | set(local_sources)) - known_ignored)
    ignored = (known_ignored | git.ignored(asked)) if git is not None else set()
    for name in local_sources:
        if name not in ignored and git is not None:
            hint = "`.env*` and `!.env.example` (envsync init does)" if name.startswith(".env") else f"`{name}`"
            result.warnings.append(f"{name} is not covered by .gitignore — add {hint} so `git add .` cannot stage it")

    defaults = committed_defaults(templates, objects)
    result.values = collect_values(request, config, sources, defaults, settings, result)
    baseline = load_baseline(baseline_path)
    allowed_ids = {e.identity for e in baseline}
    matcher = Matcher(result.values.searched, _enabled(RULES + tuple(result.extra_rules), settings.disabled_rules))
    result.needles = matcher.needle_count

    raw: list[ScanFinding] = []
    for blob in blobs:
        if blob.name in env_files:
            finding = _env_file_finding(blob.name, mode, blob.name in ignored or git is None)
            raw.append(finding)
            if entry_for(finding).identity not in allowed_ids or _skipped(blob.name, settings):
                continue  # a refused file is one finding; its lines are not reported one by one
        if blob.data is None and blob.stream is None:
            result.skipped.append(blob)
            if blob.fails and not settings.allow_unscanned:
                raw.append(_unscanned_finding(blob))
            continue
        result.scanned += 1
        raw.extend(_scan_blob(blob, matcher, settings, result))
    raw.extend(_bad_line_finding(name, line) for name, line in result.bad_lines)
    raw = [f for f in raw if not _allowed_path(f, result.extra_rules, allowed_paths)]

    for finding in sorted(raw, key=lambda f: f.sort_key):
        if finding.allowed_by is None and finding.rule != UNSCANNED and entry_for(finding).identity in allowed_ids:
            finding.allowed_by = "baseline"
        (result.allowed if finding.allowed_by else result.findings).append(finding)
    if request.update_baseline:
        update_baseline(result, baseline, baseline_path, {b.name for b in blobs}, base, tracked_all)
    return result


def _skipped(name: str, settings: Settings) -> bool:
    return any(fnmatch.fnmatchcase(name, glob) for glob in settings.skip)


def _with_config(settings: Settings, config) -> Settings:
    """The command line's settings plus what the team committed in envsync.toml's [scan]."""
    table = config.scan if config is not None else {}
    return replace(settings, allowed_env_files=settings.allowed_env_files + tuple(table.get("allow_env_files", ())),
                   skip=settings.skip + tuple(table.get("skip", ())),
                   disabled_rules=settings.disabled_rules + tuple(table.get("disable_rules", ())))


def _enabled(rules: tuple[Rule, ...], disabled: tuple[str, ...]) -> tuple[Rule, ...]:
    """The rules not turned off; a rule id that names no rule is refused (a typo would turn nothing off)."""
    unknown = sorted(set(disabled) - {rule.id for rule in rules})
    if unknown:
        raise InputError(f"--disable-rule or [scan] disable_rules: no token rule '{escape(unknown[0])}' — use the rule "
                         "id a finding shows (e.g. public-ip, high-entropy-string; docs/leak-guard.md lists them); "
                         ".env values and files cannot be turned off")
    return tuple(rule for rule in rules if rule.id not in disabled)


def _extra_rules(config, base: Path, warnings: list[str]) -> tuple[list[Rule], list[re.Pattern[str]]]:
    """The rules of `.gitleaks.toml` at the repo root (unless `[scan] gitleaks = false`) and of the files
    `[scan] rules` names (relative to envsync.toml); and the global allowlist's paths."""
    table = config.scan if config is not None else {}
    files = [config.path.parent / p for p in table.get("rules", ())] if config is not None else []
    if table.get("gitleaks", True) and (base / ".gitleaks.toml").is_file():
        files.insert(0, base / ".gitleaks.toml")
    if not files:
        return [], []
    from envsync.scan.gitleaks_rules import load_rule_files

    rules, paths = load_rule_files(files, "", warnings)
    return list(rules), paths


_NOT_TOKENS = (ENV_VALUE, ENV_FILE, ENV_UNPARSED, UNSCANNED)


def _allowed_path(finding: ScanFinding, extra: Sequence[Rule], global_paths: Sequence[re.Pattern[str]]) -> bool:
    """A token finding in a path the gitleaks configuration allows (globally, or for its rule)."""
    if finding.rule in _NOT_TOKENS:
        return False
    if any(p.search(finding.file) for p in global_paths):
        return True
    rule = next((r for r in extra if r.id == finding.rule), None)
    return rule is not None and any(p.search(finding.file) for p in getattr(rule, "paths", ()))


def _hook_blobs(files: Sequence[Path], cwd: Path, base: Path, staged: Sequence[tuple[str, str]],
                objects: Mapping[str, bytes | int | None], settings: Settings) -> list[Blob]:
    """The files pre-commit passes: as staged when they are (a commit checks what it will contain),
    as in the working tree otherwise (`pre-commit run --all-files` sweeps the repository)."""
    by_name = {b.name: b for b in staged_blobs(staged, objects, base)}
    blobs = []
    for path in files:
        name = display_name(cwd / path, base)
        blobs.append(by_name.get(name) or disk_blob(cwd / path, name, settings))
    return blobs


# How much of the line before a big file's piece a rule may read (gitleaks rules read back to the line's start).
LINE_CAP = 4096


def _scan_blob(blob: Blob, matcher: Matcher, settings: Settings, result: Result) -> list[ScanFinding]:
    if blob.data is not None:
        text, encoding = decode(blob.data)
        if encoding != "utf-8":
            result.notes.append(f"{blob.name}: " + ("binary; searched as bytes" if encoding == "binary" else
                                                    f"not valid UTF-8; scanned as {encoding}"))
        return scan_text(blob.name, text, matcher)
    assert blob.stream is not None
    overlap = matcher.longest + max((r.reach for r in matcher.rules), default=0) + 64
    found: list[ScanFinding] = []
    count, how = 0, ""
    lead = max((r.back for r in matcher.rules), default=0) + LINE_CAP
    for text, begin, own, first_line, how in pieces(blob.stream(), settings.max_size, overlap, lead):
        found.extend(scan_text(blob.name, text, matcher, own, first_line, begin))
        count += 1
    result.notes.append(f"{blob.name}: larger than {format_size(settings.max_size)}; scanned in {count} piece{'s' if count != 1 else ''}"
                        + (f" as {how}" if how.startswith("utf-16") else ""))
    return found


def _unscanned_finding(blob: Blob) -> ScanFinding:
    detail = f"not scanned: {blob.skipped} — fix it, or pass --allow-unscanned to let the run pass without it"
    return ScanFinding(file=blob.name, line=None, column=None, rule=UNSCANNED,
                   fingerprint=fingerprint(blob.name, UNSCANNED, None, blob.skipped or ""), detail=detail)


def _bad_line_finding(name: str, line: int) -> ScanFinding:
    detail = (f"{name} line {line} is not KEY=value (most likely a secret pasted in the wrong place): "
              "its text is looked for like a value — fix the line")
    return ScanFinding(file=name, line=line, column=None, rule=ENV_UNPARSED,
                   fingerprint=fingerprint(name, ENV_UNPARSED, None, f"line {line}"), detail=detail)


def _env_file_finding(name: str, mode: str, ignored: bool) -> ScanFinding:
    if mode == "staged":
        detail = f"a .env file is staged — unstage it: git rm --cached -- {name}"
    elif mode == "all":
        detail = f"a .env file is tracked by git — untrack it (git rm --cached -- {name}) and rotate its values"
    else:
        detail = "a .env file — keep it out of git"
    if not ignored:
        base = name.rsplit("/", 1)[-1]
        pattern = ".env*` and `!.env.example" if base.startswith(".env") else "*.env" if base.endswith(".env") else name
        detail += f"; .gitignore does not cover it: add `{pattern}`"
    return ScanFinding(file=name, line=None, column=None, rule=ENV_FILE, fingerprint=fingerprint(name, ENV_FILE, None, ""),
                   detail=detail)
