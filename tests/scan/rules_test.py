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
    "-----BEGIN OPENSSH PRIVATE KEY-----\n<redacted>\n-----END OPENSSH PRIVATE KEY-----",
    '"private_key_id": "0123456789abcdef0123456789abcdef01234567"',  # no service_account in the file
    "AccountKey=" + "A" * 86 + "==", "glpat-xxxxxxxxxxxxxxxxxxxx", "xoxb-123456789012-XXXXXXXXXXXX",
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    # GitLab types of a fixed length take only that length (issue 13)
    "glptt-9f3a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d2f0a9e", "glptt-9f3a1c7e5b2d8f4a6c0e9b7d5f3a1c8e6b4d",
    "glagent-Zq3Xw9Vb7Nm5Lk1Jh8Gf6Ds4Ap2Oi0Uy", "glimt-Zq3Xw9Vb7Nm5Lk1Jh8Gf6Ds4Ap2Oi0Uy",
    "AWS_REGION_KEY = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmn'",  # no digits nor capitals: not a key
    "SK" + "9F3A1C7E5B2D8F4A6C0E9B7D5F3A1C8G",  # neither hex nor lowercase
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
    # Artifactory: a reference token's placeholder; detect-secrets' own look-alikes
    "cmVmdGtu" + "0" * 56, "testAKCwithinsomeirrelevantstring", "artifactory:_password=AP6xxxxxx",
    "X-JFrog-Art-Api: $API_KEY",
    # ...nor base64 that holds AKC/AP: a certificate bundle's 64-character line, an integrity hash, a constant
    "AKChOBZmWxhFj6Q2iWR3A0u8dDWzH3cWSLzK6PcMb9vRfTgXnE1kJy7UoN4rLq5Z",
    '"integrity": "sha512-q/AP3Bc9dEfGhIj2kLmN4pQrS6tUvW8xYz0aB1cD3eF5gH7iJ9kL1mN3oP5qR7sT9uV1wX3yZ5aB7cD9eF1gH3i=="',
    "APACHE2LICENSE = 'Apache-2.0'", "COCOA_INTERFACES = {'APActivationPayload', 'APDeviceKeyRequest'}",
    # URLs: references, masks, words that stand for a password, the user's name again, ports
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app", "postgres://postgres:postgres@localhost/db",
    "https://username:password@example.com", "amqp://guest:guest@rabbit:5672/", "redis://:***@cache:6379/0",
    'url = "mysql://root:%s@%s/db" % (pw, host)', "https://user:<password>@host/", "https://{user}:{pw}@host",
    "git+ssh://git@github.com:org/repo.git", "http://localhost:8080/@scope/pkg",
    # URLs of a local service: development passwords (localhost, loopback, a compose service name)
    "postgresql://myuser:mypassword@localhost/mydb", "mongodb://admin:admin123@mongo", "redis://:redispass@redis",
    "postgres://test:t3st-Pw-9x@127.0.0.1:5432/test", "amqp://app:Xk2-9fQ@[::1]:5672/", "s3://key:k3y-h3re@bucket",
    # JWT-shaped: a payload that is not JSON, a signature too short to be one
    "eyJhbGciOiJIUzI1NiJ9.bm90X2pzb25fYXRfYWxs",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2hvcnQ",
])
def test_new_rules_lookalikes_do_not_fire(text):
    assert scan_text("f.txt", text + "\n", Matcher([])) == []


@pytest.mark.parametrize("make", [
    # url-password does not judge a local service's URL: a whole API key there is still a key
    lambda: f"ARTIFACTORY_URL=http://admin:AKCp8{random_token_with_digits(ALNUM, 68)}@artifactory:8081/artifactory",
    # random mixed case splits into short pieces that pass for words: the words test must not take them
    lambda: "APB" + random_token_with_digits(ALNUM, 40),
], ids=["api-key-in-a-local-url", "random-password"])
def test_artifactory_keys_in_a_url_and_of_random_letters_fire(make):
    for _ in range(50):
        assert "artifactory-token" in {f.rule for f in scan_text("f.txt", make() + "\n", Matcher([]))}


# Samples and placeholder-shaped tokens that detect-secrets' tests (and, for the JWT, gitleaks) count as
# secrets: flagged on purpose, since nothing but a token is written so (none in the 125 MB of third-party
# source benchmarks/scan.py reads); a line that documents one takes `envsync: allow`.
JWT_IO = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
          ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


@pytest.mark.parametrize("text, rule", [
    (JWT_IO, "jwt"), (JWT_IO.rsplit(".", 1)[0], "jwt"),
    ("SK" + "x" * 32, "twilio-api-key"), ("AC" + "x" * 32, "twilio-api-key"),
    ("AKCxxxxxxxxxx", "artifactory-token"), ("AKCp" + "x" * 69, "artifactory-token"), ("=AP6xxxxxxxxxx", "artifactory-token"),
    ("X-JFrog-Art-Api: APBxxxxxxxxxx", "artifactory-token"), ('"AP6xxxxxxxxxx"', "artifactory-token"),
    ("//registry.npmjs.org/:_authToken=npm_xxxxxxxxxxx", "npmrc-auth-token"),
    # Discord: detect-secrets' examples whose first part is not base64 of digits, or starts inside a word
    ("MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC", "discord-bot-token"),
    ("ATMyOTQ4MTN5OTU5MTDwMEcxNg.GSwJyi.sbaw8msOR3Wi6vPUzeIWy_P0vJbB0UuRVjH8l8", "discord-bot-token"),
    ("MTAyOTQ4MTN5OTU5MTDwMEcxNg.YjESug.UNf-1GhsIG8zWT409q2C7Bh_zWQ!4o_NmQWUMs", "discord-bot-token"),
], ids=lambda value: value[:24] if isinstance(value, str) else None)
def test_samples_and_placeholder_shaped_vendor_tokens_fire(text, rule):
    assert {f.rule for f in scan_text("f.txt", text + "\n", Matcher([]))} == {rule}


@pytest.mark.parametrize("text", [
    "MZ1yGvKTj0rY0cV8i47CjAa.uHQPq.Xb1Mk2nEhe-4icrGOuegj57zMC",  # parts 23.5.26
    "MZ1yGvKTj0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC",  # first part 23
    "MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zM",  # last part 26
    "MZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe,4iUcrGOuegj57zMC",  # a comma
    "PZ1yGvKTjE0rY0cV8i47CjAa.uRHQPq.Xb1Mk2nEhe-4iUcrGOuegj57zMC",  # starts P
    "MTAyOTQ4MTN5OTU5MTDwMEcxNg0.GSwJyi.sbaw8msOR3Wi6vPUzeIWy_P0vJbB0UuRVjH8l8",  # first part 27
])
def test_discord_lookalikes_do_not_fire(text):
    assert scan_text("f.txt", text + "\n", Matcher([])) == []


@pytest.mark.parametrize("text", [
    "133.133.133.133", "This line has an IP address 133.133.133.133@something else", "133.133.133.133:8080",
    "1.1.1.1", 'upstream = "52.94.76.10"', "Server=34.120.8.44;Database=app", "ssh deploy@52.94.76.10",
    "Connected to api.example.com (52.94.76.10) port 443", "IPS=(52.94.76.10 52.94.76.11)",  # not a lockfile's "("
])
def test_public_addresses_fire(text):
    assert {f.rule for f in scan_text("f.txt", text + "\n", Matcher([]))} == {"public-ip"}


@pytest.mark.parametrize("text", [
    "127.0.0.1", "10.0.0.1", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.1.1",  # not routable
    "192.0.2.10", "198.51.100.7", "203.0.113.50",  # documentation ranges
    "224.0.0.251", "52.1.2.0", "52.1.2.255", "1.2.3.4",  # multicast, network, broadcast, made up
    "256.256.256.256", "1.2.3", "1.2.3.4.5.6", "1.2.3.04", "noreply@github.com", "v8.8.8.8",
    "oracle-ee: 11.2.0.4.v3", "see RFC 6749 section 4.1.2.1", "§4.2.3.2", "__version__ = '3.5.7.1'",
    'KEY_USAGE = ObjectIdentifier("2.5.29.15")', "ed25519_oid = '1.3.101.112'",
    "    rails (6.1.7.10)", "      actioncable (= 7.0.8.1)", "    nokogiri (1.13.10.1-x86_64-linux)", "gem 'pg', '~> 1.5.4.2'", "pin==12.1.2.3",
    '<path d="M3 -1.5.75.75"/>',  # versions in a lockfile, SVG path data
])
def test_addresses_that_are_not_a_server_of_yours_do_not_fire(text):
    assert scan_text("f.txt", text + "\n", Matcher([])) == []


@pytest.mark.parametrize("text", [
    '"c3VwZXIgbG9uZyBzdHJpbmcgc2hvdWxkIGNhdXNlIGVub3VnaCBlbnRyb3B5"',
    "'I6FwzQZFL9l-44nviI1F04OTmorMaVQf9GS4Oe07qxL_vNkW6CRas4Lo42vqJMT0M6riJfma_f-pTAuoX2U='",
    'signing = "9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTl"',
])
def test_random_strings_in_quotes_fire(text):
    assert {f.rule for f in scan_text("f.txt", text + "\n", Matcher([]))} == {"high-entropy-string"}


@pytest.mark.parametrize("text", [
    "'c3VwZXIgc2VjcmV0IHZhbHVl'", '"Zrm-ySTAq7D2sHk="',  # too short to carry 4.5 bits a character
    "I6FwzQZFL9l-44nviI1F04OTmorMaVQf9GS4Oe07qxL_vNkW6CRas4Lo42vqJMT0M6riJfma_f-pTAuoX2U=",  # not quoted
    '"2b00042f7481c7b056c4b410d28f33cf"', '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',  # hex
    '"integrity": "sha512-9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=="',
    '"CodeSha256": "YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4="', '"JobId": "zbxcm3Z_3z5UkoroF7SuZKrxgGoDc3RloGduS7Eg"',
    'AlarmName: "TargetTracking-my-asg-AlarmLow-61a39305-ed0c-47af-bd9e-471a352ee1a2"',
    '"ABPeoplePickerNavigationController"', '"' + "Q7sK2pW9xZ4mR8tV" * 14 + '"',  # words; over 200 characters
    '"sha256/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCd="', "'pk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUv'",  # public
])
def test_strings_in_quotes_that_are_not_keys_do_not_fire(text):
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
