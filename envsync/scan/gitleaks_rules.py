"""A team's gitleaks rules as extra EnvSync rules: `.gitleaks.toml` at the repo root and the files
`[scan] rules` names, in gitleaks' format — `[[rules]]` (id, description, regex, secretGroup,
keywords, entropy, `[[rules.allowlists]]`/`[rules.allowlist]`: regexes, regexTarget, stopwords,
paths) and the global `[allowlist]`/`[[allowlists]]`.

Each rule joins the one Aho-Corasick pass by its keywords (gitleaks matches them ignoring case:
the lower, upper and capitalized forms go in); its regex then runs on the line around a keyword
hit. A rule without keywords cannot join that pass and is left out with a warning."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envsync import nesting
from envsync.errors import InputError
from envsync.escaping import escape
from envsync.scan.rules import Rule, shannon_entropy


_RULE_ID = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass
class Allowlist:
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    target: str = "secret"  # what the regexes test: the secret, the whole match or the line
    stopwords: list[str] = field(default_factory=list)
    paths: list[re.Pattern[str]] = field(default_factory=list)

    def allows(self, secret: str, match: str, line: str) -> bool:
        text = {"match": match, "line": line}.get(self.target, secret)
        return any(r.search(text) for r in self.regexes) or any(w in secret.lower() for w in self.stopwords)


class TomlRule(Rule):
    """One `[[rules]]` entry of a gitleaks configuration."""

    reach = 0  # unused: the regex runs on the keyword's line

    def __init__(self, rule_id: str, description: str, regex: re.Pattern[str], keywords: tuple[str, ...],
                 entropy: float | None, secret_group: int | None, allowlists: list[Allowlist]) -> None:
        self.id, self.name, self.regex = rule_id, description, regex
        self.keywords = keywords
        self.entropy, self.secret_group, self.allowlists = entropy, secret_group, allowlists
        self.help = "a rule of this repository's gitleaks configuration — remove the secret and rotate it"
        self.paths = [p for a in allowlists for p in a.paths]

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        line = text[start:end]
        for found in self.regex.finditer(text, start, end):
            if not found.start() <= at < max(found.end(), found.start() + 1):
                continue
            group = self.secret_group if self.secret_group is not None else (1 if self.regex.groups else 0)
            if group > self.regex.groups or found.group(group) is None:
                group = 0
            secret = found.group(group)
            if self.entropy and shannon_entropy(secret) < self.entropy:
                continue
            if any(a.allows(secret, found.group(0), line) for a in self.allowlists):
                continue
            return found.span(group)
        return None


def load_rule_files(paths: list[Path], where: str, warnings: list[str]) -> tuple[list[TomlRule], list[re.Pattern[str]]]:
    """(rules, global allowlist paths) of every file; a file or regex that cannot be read is an InputError."""
    rules: list[TomlRule] = []
    skip_paths: list[re.Pattern[str]] = []
    for path in paths:
        name = f"{where}: {path.name}" if where else path.name
        data = _read(path, name)
        global_lists = [_allowlist(a, f"{name} allowlist") for a in _tables(data, "allowlist", "allowlists")]
        skip_paths += [p for a in global_lists for p in a.paths]
        for index, table in enumerate(data.get("rules", [])):
            rule = _rule(table, f"{name} rules[{index}]", global_lists, warnings)
            if rule is not None:
                rules.append(rule)
    return rules, skip_paths


def _read(path: Path, name: str) -> dict[str, Any]:
    try:
        return nesting.toml_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot read ({getattr(exc, 'strerror', None) or 'not UTF-8'})") from None
    except nesting.TOMLDecodeError as exc:
        raise InputError(f"{name}: invalid TOML ({exc})") from None


def _tables(data: dict[str, Any], single: str, many: str) -> list[dict[str, Any]]:
    found = [data[single]] if isinstance(data.get(single), dict) else []
    return found + [t for t in data.get(many, []) if isinstance(t, dict)]


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise InputError(f"{where}: regex must be a string")
    try:
        return re.compile(pattern.replace(r"\z", r"\Z"))
    except re.error as exc:
        raise InputError(f"{where}: regex not readable by Python's re ({exc})") from None


def _allowlist(table: dict[str, Any], where: str) -> Allowlist:
    return Allowlist(regexes=[_compile(r, f"{where}.regexes") for r in table.get("regexes", [])],
                     target=str(table.get("regexTarget", "secret")),
                     stopwords=[str(w).lower() for w in table.get("stopwords", [])],
                     paths=[_compile(p, f"{where}.paths") for p in table.get("paths", [])])


def _rule(table: Any, where: str, global_lists: list[Allowlist], warnings: list[str]) -> TomlRule | None:
    if not isinstance(table, dict) or not isinstance(table.get("id"), str):
        raise InputError(f"{where}: needs an `id`")
    rule_id = table["id"]
    if not _RULE_ID.fullmatch(rule_id):  # ids are printed as they are, in every output format
        raise InputError(f"{where}: rule id '{escape(rule_id)}' may use only letters, digits, '_', '.' and '-'")
    if "regex" not in table:
        warnings.append(f"{where} ({rule_id}): no regex (a path-only rule) — not used by envsync scan")
        return None
    regex = _compile(table["regex"], f"{where} ({rule_id})")
    keywords = [k for k in table.get("keywords", []) if isinstance(k, str) and k]
    if not keywords:
        warnings.append(f"{where} ({rule_id}): no keywords — envsync scan finds rules by their keywords; add some")
        return None
    forms = tuple(sorted({form for k in keywords for form in (k, k.lower(), k.upper(), k.capitalize())}))
    lists = [_allowlist(a, f"{where} ({rule_id}) allowlist") for a in _tables(table, "allowlist", "allowlists")]
    entropy = table.get("entropy")
    group = table.get("secretGroup")
    return TomlRule(rule_id, str(table.get("description") or rule_id), regex, forms,
                    float(entropy) if isinstance(entropy, (int, float)) else None,
                    group if isinstance(group, int) else None, lists + global_lists)
