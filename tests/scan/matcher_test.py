"""envsync.scan.matcher: the one automaton, anchors, the pragma, fingerprints."""
from __future__ import annotations

import pytest

from envsync.scan.matcher import Matcher, anchor_of, fingerprint, mask_line, scan_text
from envsync.scan.values import Value
from tests.scan.repos import findings_of, git, init_repo, scan_json


def test_pragma_allows_its_line_only(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("fixture")
    (repo / ".env").write_text(f"FIXTURE_TOKEN={value}\n")
    (repo / "test_api.py").write_text(f'TOKEN = "{value}"  # envsync: allow (test fixture)\n'
                                      f'OTHER = "{value}"\n')
    git(repo, "add", "test_api.py")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("test_api.py", 2, "env-value", "FIXTURE_TOKEN")}
    assert [(f["line"], f["allowed_by"]) for f in report["allowed"]] == [(1, "pragma")]
    (repo / "test_api.py").write_text(f'TOKEN = "{value}"  # envsync:allow\n')
    git(repo, "add", "test_api.py")
    result = run_envsync("scan", "--staged", "-v", cwd=repo)
    assert result.code == 0 and "allowed (pragma): test_api.py:1: env-value FIXTURE_TOKEN" in result.stdout


def test_fingerprint_carries_nothing_of_the_value():
    line_a = 'token = "AAAAAAAAAAAAAAAAAAAAAAAA"'
    spans = [(9, 33)]
    masked_a = mask_line(line_a, 0, len(line_a), spans)
    line_b = 'token = "sv-other-value-0123456789"'
    masked_b = mask_line(line_b, 0, len(line_b), [(9, len(line_b) - 1)])
    assert masked_a == masked_b == 'token = "\0"'
    assert fingerprint("a.py", "env-value", "K", masked_a) == fingerprint("a.py", "env-value", "K", masked_b)
    # base64 neighbours of a value are masked with it (they carry a few of its bits).
    blob = "x = QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    assert mask_line(blob, 0, len(blob), [(8, 30)]) == "x = \0"


def test_matcher_reports_every_occurrence_of_every_pattern():
    values = [Value("A", "sv-aaaa-1234", ".env"), Value("B", "sv-aaaa-1234-more", ".env"),
              Value("C", "X9!zz", ".env")]
    matcher = Matcher(values, rules=[])
    text = "sv-aaaa-1234-more sv-aaaa-1234 X9!zz"
    found = sorted((start, pattern) for start, pattern, _ in matcher.find(text))
    assert (0, "sv-aaaa-1234-more") in found and (0, "sv-aaaa-1234") in found
    assert (18, "sv-aaaa-1234") in found and (31, "X9!zz") in found
    findings = scan_text("f", text, matcher)
    assert [(f.column, f.key) for f in findings] == [(1, "B"), (19, "A"), (32, "C")]  # a value inside a longer one is one leak


@pytest.mark.parametrize("dfa_max", [10**9, 0])
def test_matcher_finds_the_same_as_a_dfa_or_an_nfa(monkeypatch, dfa_max):
    """Past DFA_MAX_ANCHORS the automaton is an NFA (bounded memory); both find every occurrence."""
    from envsync.scan import matcher

    monkeypatch.setattr(matcher, "DFA_MAX_ANCHORS", dfa_max)
    values = [Value("A", "sv-aaaa-1234", ".env"), Value("B", "sv-aaaa-1234-more", ".env")]
    found = sorted((start, pattern) for start, pattern, _ in
                   Matcher(values).find("sv-aaaa-1234-more sv-aaaa-1234 ghp_x"))
    assert found == [(0, "sv-aaaa-1234"), (0, "sv-aaaa-1234-more"), (18, "sv-aaaa-1234"), (31, "ghp_")]


def test_anchor_starts_at_the_rarest_character():
    assert anchor_of("aaaaQbbbb") == (4, "Qbbb")
    assert anchor_of("aaaaaaaQb") == (0, "aaaa")  # the anchor must fit in the pattern
    assert anchor_of("secret_access_key", 8) == (6, "_access_")
    assert anchor_of("eyJ", 8) == (0, "eyJ")
    assert anchor_of("sécret-value") == (1, "écre")  # non-ASCII counts as rarest


def _resolve_by_comparing_all(values, tokens):
    """The overlap rules written plainly (each hit against every kept span, as the scan once did)."""
    values = sorted(values, key=lambda h: (h.start, -h.end))
    kept, reach = [], -1
    for hit in values:
        if hit.end > reach:
            kept.append(hit)
            reach = hit.end
    spans, result, also = [(h.start, h.end, h) for h in kept], list(kept), {}
    for token in sorted(tokens, key=lambda h: (h.token_rule.generic, h.token_rule.searches, h.start, h.end, h.rule)):
        overlapping = [h for s, e, h in spans if s < token.end and token.start < e]
        if overlapping:
            if not token.token_rule.generic and overlapping[0].rule == "env-value":
                also.setdefault(id(overlapping[0]), token.token_rule.name)
        else:
            result.append(token)
            spans.append((token.start, token.end, token))
    return sorted((h.start, h.end, h.rule, also.get(id(h))) for h in result)


@pytest.mark.parametrize("seed", range(40))
def test_overlaps_resolved_by_bisecting_match_comparing_every_pair(seed):
    """_resolve_overlaps bisects (a file of 16,000 addresses took 4 s when each hit was compared
    with every kept span); it must keep and label exactly what the plain comparison does."""
    import random

    from envsync.scan.matcher import _Hit, _resolve_overlaps
    from envsync.scan.rules import RULES

    rng = random.Random(seed)
    rules = [r for r in RULES if r.id in ("github-token", "discord-bot-token", "secret-assignment", "public-ip")]

    def span():
        start = rng.randrange(0, 300)
        return start, start + rng.randrange(1, 40)

    values = [_Hit(*span(), "env-value") for _ in range(rng.randrange(0, 30))]
    tokens = []
    for _ in range(rng.randrange(0, 60)):
        rule = rng.choice(rules)
        tokens.append(_Hit(*span(), rule.id, token_rule=rule))
    expected = _resolve_by_comparing_all(values, tokens)
    got = sorted((h.start, h.end, h.rule, h.also) for h in _resolve_overlaps(list(values), tokens))
    assert got == expected
