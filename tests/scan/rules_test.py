"""envsync.scan.rules: each token format found inside text, and its look-alikes (placeholders, references,
ids, names, paths) not."""
from __future__ import annotations

import base64
import json
import string

import pytest

from envsync.scan.matcher import Matcher, scan_text
from envsync.scan.rules import looks_like_placeholder
from tests.scan.tokens import ALNUM, RECALL_FORMATS, TOKENS, random_token_with_digits


@pytest.mark.parametrize("generator", sorted(TOKENS))
def test_each_rule_finds_its_format_inside_text(generator):
    text, expected = TOKENS[generator]()
    document = f"prefix line\nconfig = {json.dumps(text) if generator == 'private-key' else text}\n"
    matcher = Matcher([])
    found = {(f.rule, f.line) for f in scan_text("f.txt", document, matcher)}
    wanted = {(rule, 2) for rule, _ in expected} if generator != "gcp-service-account" else \
        {(rule, 2 + offset) for rule, offset in expected}
    assert found == wanted, (generator, found)


@pytest.mark.parametrize("text", [
    "AKIAIOSFODNN7EXAMPLE", "xAKIAZ7QW3ERT5YUI2OPL", "AKIAZ7QW3ERT5YUI2OPLX", "ghp_short",
    "sk_test_0000fake0000fake0000fake", "pk_live_0000public0000public0000public",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n<redacted>\n-----END OPENSSH PRIVATE KEY-----",
    '"private_key_id": "0123456789abcdef0123456789abcdef01234567"',  # no service_account in the file
    "AccountKey=" + "A" * 86 + "==", "glpat-xxxxxxxxxxxxxxxxxxxx", "xoxb-123456789012-XXXXXXXXXXXX",
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    # GitLab types of a fixed length take only that length (issue 13)
    "glptt-9f3a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9e", "glptt-9f3a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d",
    "glagent-Zq3Xw9Vb7Nm5Lk1Jh8Gf6Ds4Ap2Oi0Uy", "glimt-Zq3Xw9Vb7Nm5Lk1Jh8Gf6Ds4Ap2Oi0Uy",
    "AWS_REGION_KEY = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmn'",  # no digits nor capitals: not a key
    "SK" + "9f3a1c7e5b2d8f4a6c0e9b7d5f3a1c8g",  # not hex
    # the catch-all secret-assignment rule: names, paths, references, ids and examples are not secrets
    '"ARN": "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyTestDatabaseSecret-a1b2c3"',
    '"input_token": "ExclusiveStartKey"', '"output_token": "CloudFrontOriginAccessIdentityList.NextMarker"',
    '"ChangeToken": "abcd12f2-46da-4fdb-b8d5-fbd4c466928f"', '"AWS::IAM::AccessKey": "bf29289b78d371e3"',
    "from azure.core.credentials import AccessToken, AccessTokenInfo, TokenRequestOptions",
    ":vartype secret_attributes: ~azure.keyvault.secrets._generated.models.SecretAttributes",
    '"PurchaseToken": "eyJ2IjoiMSIsInMiOjEsImMiOi..."', 'password = os.environ["DB_PASSWORD"]',
    "token: ${{ secrets.GITHUB_TOKEN }}", 'SECRET_KEY = "django-insecure-change-me-in-production"',
    '"LocalConsolePassword": "PassWordMustBeAtLeast6Chars."',
])
def test_lookalikes_do_not_fire(text):
    assert scan_text("f.txt", text + "\n", Matcher([])) == []


@pytest.mark.parametrize("token, placeholder", [
    ("ghp_" + "x" * 36, True), ("abcdefghij", True), ("Q7sK2pW9xZ4mR8tV", False), ("your-token-0000", True),
    ("aB3dE5gH7jK9mN1p", False), ("1111119999", True), ("EXAMPLEKEY123456", True),
])
def test_placeholder_detection(token, placeholder):
    assert looks_like_placeholder(token) is placeholder


@pytest.mark.parametrize("kind", sorted(RECALL_FORMATS))
def test_each_new_rule_finds_its_format_inside_text(kind):
    rule, make = RECALL_FORMATS[kind]
    text = f"prefix line\nconfig = {make()}\nlast line\n"
    found = {(f.rule, f.line) for f in scan_text("f.txt", text, Matcher([]))}
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
    # URLs of a local service: development passwords (localhost, loopback, a compose service name)
    "postgresql://myuser:mypassword@localhost/mydb", "mongodb://admin:admin123@mongo", "redis://:redispass@redis",
    "postgres://test:t3st-Pw-9x@127.0.0.1:5432/test", "amqp://app:Xk2-9fQ@[::1]:5672/", "s3://key:k3y-h3re@bucket",
    # the jwt.io sample cut before its signature
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
    # JWT-shaped: a payload that is not JSON, a signature too short to be one
    "eyJhbGciOiJIUzI1NiJ9.bm90X2pzb25fYXRfYWxs",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2hvcnQ",
])
def test_new_rules_lookalikes_do_not_fire(text):
    assert scan_text("f.txt", text + "\n", Matcher([])) == []


@pytest.mark.parametrize("text, rule", [
    # A token matched backwards from its fixed part: an earlier run of digits or hex within reach
    # (a chat id, a hash) used to be taken for its start, and the token was missed.
    (f"chat_id=12345678 bot={random_token_with_digits(string.digits, 10)}:AA{random_token_with_digits(ALNUM, 33)}", "telegram-bot-token"),
    (f"PMAK-e96cbc5b329d9dc90593280c-945989c21ee0ad6a100a1beee1ed7a6a41\nbot = \"{random_token_with_digits(string.digits, 10)}"
     f":AA{random_token_with_digits(ALNUM, 33)}\"", "telegram-bot-token"),
], ids=["after-a-chat-id", "after-a-postman-key"])  # fixed ids: every pytest-xdist worker must collect the same
def test_suffixed_tokens_found_after_other_digits_or_hex(text, rule):
    assert rule in {f.rule for f in scan_text("f.txt", text + "\n", Matcher([]))}


def test_a_jwt_shaped_token_nested_too_deep_is_not_a_crash():
    """A committed file is a pull request's writing: a JWT whose claims nest thousands deep
    must not take the scan to the recursion limit."""
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    claims = '{"a":' + "[" * 3000 + "]" * 3000 + "}"
    token = f"{part(json.dumps({'alg': 'HS256'}))}.{part(claims)}.{'s' * 43}"
    assert scan_text("f.txt", f"token = {token}\n", Matcher([])) == []
