"""Token rules added for issue 13's recall follow-up: each format found inside text, and its
look-alikes (placeholders, references, ids, names, paths) not."""
from __future__ import annotations

import base64
import json
import os
import secrets
import string
import uuid
from typing import Callable

import pytest

from envsync import scan
from envsync.scan.rules import looks_like_placeholder

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def _random(alphabet: str, length: int) -> str:
    """Random text that is not mistaken for a placeholder (one draw in ~10^4 would be)."""
    while True:
        text = "".join(secrets.choice(alphabet) for _ in range(length))
        if not looks_like_placeholder(text) and sum(c.isdigit() for c in text) >= 2:
            return text


def _discord() -> str:
    user_id = str(secrets.randbelow(9 * 10**17) + 10**17)  # an 18-digit snowflake
    head = base64.b64encode(user_id.encode()).decode().rstrip("=")
    return f"{head}.{_random(ALNUM + '_-', 6)}.{_random(ALNUM + '_-', 27)}"


TOKENS: dict[str, tuple[str, Callable[[], str]]] = {
    "notion": ("notion-token", lambda: "ntn_" + _random(string.digits, 11) + _random(ALNUM, 35)),
    "sourcegraph": ("sourcegraph-token", lambda: f"sgp_{_random(HEX, 16)}_{_random(HEX + 'ABCDEF', 40)}"),
    "sourcegraph-local": ("sourcegraph-token", lambda: "sgp_local_" + _random(HEX, 40)),
    "sourcegraph-old": ("sourcegraph-token", lambda: "SOURCEGRAPH_TOKEN=" + _random(HEX, 40)),
    "1password": ("1password-service-token", lambda: "ops_eyJ" + base64.b64encode(os.urandom(240)).decode()),
    "square-access": ("square-token", lambda: "sq0atp-" + _random(ALNUM + "_-", 22)),
    "square-production": ("square-token", lambda: "EAAA" + _random(ALNUM + "_-", 60)),
    "square-secret": ("square-token", lambda: "sq0csp-" + _random(ALNUM + "_-", 43)),
    "sidekiq-env": ("sidekiq-credentials", lambda: f"BUNDLE_GEMS__CONTRIBSYS__COM={_random(HEX, 8)}:{_random(HEX, 8)}"),
    "sidekiq-url": ("sidekiq-credentials",
                    lambda: f'source "https://{_random(HEX, 8)}:{_random(HEX, 8)}@enterprise.contribsys.com/"'),
    "adobe": ("adobe-client-secret", lambda: "p8e-" + _random(ALNUM, 32)),
    "alibaba": ("alibaba-access-key-id", lambda: "LTAI" + _random(ALNUM, 20)),
    "discord-bot": ("discord-bot-token", _discord),
    "vendor-uuid": ("vendor-named-secret", lambda: f'HEROKU_API_KEY = "{uuid.uuid4()}"'),
    "vendor-digits": ("vendor-named-secret", lambda: f'asanaToken: "{_random(string.digits, 16)}"'),
    "vendor-short": ("vendor-named-secret",
                     lambda: f"linkedin_client_secret: {_random(string.ascii_lowercase + string.digits, 14)}"),
    "vendor-json": ("vendor-named-secret", lambda: f'{{"discord_token": "{_random(string.digits, 18)}"}}'),
    "twitter-bearer": ("vendor-named-secret",
                       lambda: f"TWITTER_BEARER_TOKEN={'A' * 22}{_random(ALNUM, 40)}%2B{_random(ALNUM, 40)}"),
    # recall against detect-secrets' plugins: Artifactory, credentials in URLs, cut JWTs, more vendors
    "artifactory-key": ("artifactory-token", lambda: "AKCp" + _random(ALNUM, 69)),
    "artifactory-reference": ("artifactory-token", lambda: "cmVmdGtu" + _random(ALNUM, 56)),
    "url-password": ("url-password", lambda: f"postgres://app:{_random(ALNUM + '!~', 20)}@db.internal:5432/app"),
    "url-basic-auth": ("url-password", lambda: f'git clone "https://ci-bot:{_random(ALNUM, 16)}@git.internal/app.git"'),
    "jwt-unsigned": ("jwt", lambda: f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': _random(ALNUM, 12)})}"),
    "jwt-unsecured": ("jwt", lambda: f"{_b64url({'alg': 'none'})}.{_b64url({'sub': _random(ALNUM, 12)})}."),
    "slack-legacy-dashed": ("slack-token", lambda: "xoxa-2-{}-{}-{}-{}".format(
        _random(string.digits, 9), _random(string.digits, 11), _random(string.digits, 13), _random(HEX, 18))),
    "npmrc-blank": ("npmrc-auth-token", lambda: "//registry.npmjs.org/:_authToken= " + _random(ALNUM, 36)),
    "vendor-twilio": ("vendor-named-secret", lambda: f'TWILIO_AUTH_TOKEN = "{_random(HEX, 32)}"'),
    "vendor-cloudant": ("vendor-named-secret", lambda: f"cloudant_password: {_random(HEX, 64)}"),
}


def _b64url(claims: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_each_new_rule_finds_its_format_inside_text(kind):
    rule, make = TOKENS[kind]
    text = f"prefix line\nconfig = {make()}\nlast line\n"
    found = {(f.rule, f.line) for f in scan.scan_text("f.txt", text, scan.Matcher([]))}
    assert found == {(rule, 2)}, (kind, found)


@pytest.mark.parametrize("text", [
    "ntn_12345678901", "ntn_" + "0" * 11 + "x" * 35,
    "sgp_" + "x" * 40, "sourcegraph_url: https://sourcegraph.com/search",
    "ops_eyJhbGciOiJIUzI1NiJ9",  # far too short for a service-account token
    "sq0atp-xxxxxxxxxxxxxxxxxxxxxx", "EAAA" + "A" * 60, "sq0csp-" + "-" * 43,
    "BUNDLE_GEMS__CONTRIBSYS__COM=${SIDEKIQ_CREDENTIALS}", 'source "https://gems.contribsys.com/"',
    "p8e-" + "x" * 32, "LTAIxxxxxxxxxxxxxxxxxxxx",
    # a dotted name, and a token-shaped string whose middle part is not 6 long
    "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQZ.ZnCjm1XVW7vRze4b7Cq4se7kKWs", "NTk.module.attribute",
    # the vendor-named rule: ids under names without a secret word, references, names, paths, short values
    'DISCORD_CHANNEL_ID = "764317950610853327"', "twitter_api_key: ${TWITTER_API_KEY}",
    'discordBotTokenEnvVar = "DISCORD_BOT_TOKEN"', "SNYK_PATH=/usr/local/bin/snyk-linux-12",
    'hubspot_portal_key = "12345"', 'OKTA_CLIENT_SECRET = "changeme-please-now"',
    'sonar.projectKey=my-project-key', 'heroku_token = "heroku-review-app-token"',
    'SENTRY_KEY = "12345678-1234-1234-1234-123456789012"',
    # Artifactory: placeholders
    "AKCp" + "x" * 69, "cmVmdGtu" + "0" * 56,
    # URLs: references, masks, words that stand for a password, the user's name again, ports
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app", "postgres://postgres:postgres@localhost/db",
    "https://username:password@example.com", "amqp://guest:guest@rabbit:5672/", "redis://:***@cache:6379/0",
    'url = "mysql://root:%s@%s/db" % (pw, host)', "https://user:<password>@host/", "https://{user}:{pw}@host",
    "git+ssh://git@github.com:org/repo.git", "http://localhost:8080/@scope/pkg",
    # JWT-shaped: a payload that is not JSON, a signature too short to be one
    "eyJhbGciOiJIUzI1NiJ9.bm90X2pzb25fYXRfYWxs",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2hvcnQ",
])
def test_new_rules_lookalikes_do_not_fire(text):
    assert scan.scan_text("f.txt", text + "\n", scan.Matcher([])) == []


@pytest.mark.parametrize("text, rule", [
    # A token matched backwards from its fixed part: an earlier run of digits or hex within reach
    # (a chat id, a hash) used to be taken for its start, and the token was missed.
    (f"chat_id=12345678 bot={_random(string.digits, 10)}:AA{_random(ALNUM, 33)}", "telegram-bot-token"),
    (f"PMAK-e96cbc5b329d9dc90593280c-945989c21ee0ad6a100a1beee1ed7a6a41\nbot = \"{_random(string.digits, 10)}"
     f":AA{_random(ALNUM, 33)}\"", "telegram-bot-token"),
], ids=["after-a-chat-id", "after-a-postman-key"])  # fixed ids: every pytest-xdist worker must collect the same
def test_suffixed_tokens_found_after_other_digits_or_hex(text, rule):
    assert rule in {f.rule for f in scan.scan_text("f.txt", text + "\n", scan.Matcher([]))}


@pytest.mark.parametrize("dfa_max", [10**9, 0])
def test_matcher_finds_the_same_as_a_dfa_or_an_nfa(monkeypatch, dfa_max):
    """Past DFA_MAX_ANCHORS the automaton is an NFA (bounded memory); both find every occurrence."""
    from envsync.scan import matcher

    monkeypatch.setattr(matcher, "DFA_MAX_ANCHORS", dfa_max)
    values = [scan.Value("A", "sv-aaaa-1234", ".env"), scan.Value("B", "sv-aaaa-1234-more", ".env")]
    found = sorted((start, pattern) for start, pattern, _ in
                   scan.Matcher(values).find("sv-aaaa-1234-more sv-aaaa-1234 ghp_x"))
    assert found == [(0, "sv-aaaa-1234"), (0, "sv-aaaa-1234-more"), (18, "sv-aaaa-1234"), (31, "ghp_")]

