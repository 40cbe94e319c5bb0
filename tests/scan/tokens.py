"""Token generators: fresh, valid-looking tokens of each format the rules know (none is ever stored)."""
from __future__ import annotations

import base64
import json
import os
import secrets
import string
import uuid
from typing import Callable

from envsync.scan.rules import looks_like_placeholder, looks_random, shannon_entropy


ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits
DRAWS = 200  # the strictest filter below refuses ~7% of draws: 200 refusals in a row mean a broken rule


def random_token(alphabet: str, length: int, accept: Callable[[str], bool] | None = None) -> str:
    """Random text that is not mistaken for a placeholder (one draw in ~10^4 would be, and be skipped)
    and that `accept` takes, where a rule has its own bar for "random-looking" that a few draws in
    1,000 miss (a test asserting the rule fires must not fail by chance)."""
    for _ in range(DRAWS):
        text = "".join(secrets.choice(alphabet) for _ in range(length))
        if not looks_like_placeholder(text) and (accept is None or accept(text)):
            return text
    raise AssertionError(f"{DRAWS} random draws of {length} characters in a row were refused: a rule's bar "
                         "for random-looking has become too strict")


def random_token_with_digits(alphabet: str, length: int) -> str:
    """random_token with two digits or more, as the vendor-named rules want of a key."""
    return random_token(alphabet, length, accept=lambda text: sum(c.isdigit() for c in text) >= 2)


def random_base64(size: int) -> str:
    """`size` random bytes in base64, not mistaken for a placeholder (`xXxX` turns up about 1 in 500)."""
    for _ in range(DRAWS):
        text = base64.b64encode(os.urandom(size)).decode()
        if not looks_like_placeholder(text):
            return text
    raise AssertionError(f"{DRAWS} random base64 texts in a row looked like placeholders")


def random_text(alphabet: str, length: int) -> str:
    """Random text, placeholders not filtered out (for tests that do not depend on a rule firing)."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def telegram_token() -> str:
    return "1" + random_token(string.digits, 9) + ":AA" + random_token(string.ascii_letters + string.digits, 33)


def _aws_secret() -> str:
    """40 characters of base64's alphabet with a digit, `/` or `+` among them, as every real key has."""
    return random_token(ALNUM + "/+", 40, accept=lambda text: any(c.isdigit() or c in "/+" for c in text))


def _pem(kind: str, lines: int = 6) -> str:
    body = base64.b64encode(os.urandom(48 * lines)).decode()
    rows = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(rows) + f"\n-----END {kind}-----"


def _jwt() -> str:
    def segment(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = segment({"alg": "HS256", "typ": "JWT"})
    payload = segment({"sub": random_token(ALNUM, 12), "iat": 1700000000})
    return f"{header}.{payload}.{random_token(ALNUM + '-_', 43)}"


def _service_account() -> tuple[str, list[tuple[str, int]]]:
    document = {
        "type": "service_account", "project_id": "inventory-prod", "private_key_id": random_token(HEX, 40),
        "private_key": _pem("PRIVATE KEY") + "\n", "client_email": "deployer@inventory-prod.iam.gserviceaccount.com",
        "client_id": "104857600000000000001", "token_uri": "https://oauth2.googleapis.com/token",
    }
    text = json.dumps(document, indent=2)
    lines = text.splitlines()
    key_id = next(i for i, line in enumerate(lines) if '"private_key_id"' in line)
    key = next(i for i, line in enumerate(lines) if '"private_key"' in line)
    return text, [("gcp-service-account", key_id), ("private-key", key)]


def _discord() -> str:
    user_id = str(secrets.randbelow(9 * 10**17) + 10**17)  # an 18-digit snowflake
    head = base64.b64encode(user_id.encode()).decode().rstrip("=")
    return f"{head}.{random_token_with_digits(ALNUM + '_-', 6)}.{random_token_with_digits(ALNUM + '_-', 27)}"


def _public_ip() -> str:
    """A random public IPv4 address (not documentation, private, reserved or multicast; not `….0`/`….255`)."""
    import ipaddress

    for _ in range(DRAWS):
        address = ipaddress.IPv4Address(secrets.randbits(32))
        if address.is_global and not address.is_multicast and str(address).rsplit(".", 1)[1] not in ("0", "255"):
            return str(address)
    raise AssertionError(f"{DRAWS} random addresses in a row were not public")


def _quoted_random() -> str:
    """32 random bytes in base64 in quotes, as a key pasted into code is; over the 4.5-bit entropy bar."""
    return '"' + random_token(ALNUM + "+/", 44, accept=lambda t: shannon_entropy(t) > 4.5 and looks_random(t)) + '"'


def _b64url(claims: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


RECALL_FORMATS: dict[str, tuple[str, Callable[[], str]]] = {
    "notion": ("notion-token", lambda: "ntn_" + random_token_with_digits(string.digits, 11) + random_token_with_digits(ALNUM, 35)),
    "sourcegraph": ("sourcegraph-token", lambda: f"sgp_{random_token_with_digits(HEX, 16)}_{random_token_with_digits(HEX + 'ABCDEF', 40)}"),
    "sourcegraph-local": ("sourcegraph-token", lambda: "sgp_local_" + random_token_with_digits(HEX, 40)),
    "sourcegraph-old": ("sourcegraph-token", lambda: "SOURCEGRAPH_TOKEN=" + random_token_with_digits(HEX, 40)),
    "1password": ("1password-service-token", lambda: "ops_eyJ" + random_base64(240)),
    "square-access": ("square-token", lambda: "sq0atp-" + random_token_with_digits(ALNUM + "_-", 22)),
    "square-production": ("square-token", lambda: "EAAA" + random_token_with_digits(ALNUM + "_-", 60)),
    "square-secret": ("square-token", lambda: "sq0csp-" + random_token_with_digits(ALNUM + "_-", 43)),
    "sidekiq-env": ("sidekiq-credentials", lambda: f"BUNDLE_GEMS__CONTRIBSYS__COM={random_token_with_digits(HEX, 8)}:{random_token_with_digits(HEX, 8)}"),
    "sidekiq-url": ("sidekiq-credentials",
                    lambda: f'source "https://{random_token_with_digits(HEX, 8)}:{random_token_with_digits(HEX, 8)}@enterprise.contribsys.com/"'),
    "adobe": ("adobe-client-secret", lambda: "p8e-" + random_token_with_digits(ALNUM, 32)),
    "alibaba": ("alibaba-access-key-id", lambda: "LTAI" + random_token_with_digits(ALNUM, 20)),
    "discord-bot": ("discord-bot-token", _discord),
    "vendor-uuid": ("vendor-named-secret", lambda: f'HEROKU_API_KEY = "{uuid.uuid4()}"'),
    "vendor-digits": ("vendor-named-secret", lambda: f'asanaToken: "{random_token_with_digits(string.digits, 16)}"'),
    "vendor-short": ("vendor-named-secret", lambda: "linkedin_client_secret: " + random_token(
        LOWER_ALNUM, 14, accept=lambda text: sum(c.isdigit() for c in text) >= 2 and shannon_entropy(text) >= 2.8)),
    "vendor-json": ("vendor-named-secret", lambda: f'{{"discord_token": "{random_token_with_digits(string.digits, 18)}"}}'),
    "twitter-bearer": ("vendor-named-secret",
                       lambda: f"TWITTER_BEARER_TOKEN={'A' * 22}{random_token_with_digits(ALNUM, 40)}%2B{random_token_with_digits(ALNUM, 40)}"),
    # recall against detect-secrets' plugins: Artifactory, credentials in URLs, cut JWTs, more vendors
    "artifactory-key": ("artifactory-token", lambda: "AKCp" + random_token_with_digits(ALNUM, 69)),
    "artifactory-reference": ("artifactory-token", lambda: "cmVmdGtu" + random_token_with_digits(ALNUM, 56)),
    "url-password": ("url-password", lambda: f"postgres://app:{random_token_with_digits(ALNUM + '!~', 20)}@db.internal:5432/app"),
    "url-basic-auth": ("url-password", lambda: f'git clone "https://ci-bot:{random_token_with_digits(ALNUM, 16)}@git.internal/app.git"'),
    "jwt-unsigned": ("jwt", lambda: f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url({'sub': random_token_with_digits(ALNUM, 12)})}"),
    "jwt-unsecured": ("jwt", lambda: f"{_b64url({'alg': 'none'})}.{_b64url({'sub': random_token_with_digits(ALNUM, 12)})}."),
    "slack-legacy-dashed": ("slack-token", lambda: "xoxa-2-{}-{}-{}-{}".format(
        random_token_with_digits(string.digits, 9), random_token_with_digits(string.digits, 11), random_token_with_digits(string.digits, 13), random_token_with_digits(HEX, 18))),
    "npmrc-blank": ("npmrc-auth-token", lambda: "//registry.npmjs.org/:_authToken= " + random_token_with_digits(ALNUM, 36)),
    "vendor-twilio": ("vendor-named-secret", lambda: f'TWILIO_AUTH_TOKEN = "{random_token_with_digits(HEX, 32)}"'),
    "vendor-cloudant": ("vendor-named-secret", lambda: f"cloudant_password: {random_token_with_digits(HEX, 64)}"),
    # issue 13, detect-secrets' recall: its Twilio, Artifactory, IP and entropy forms
    "twilio-account-sid": ("twilio-api-key", lambda: "AC" + random_token(HEX, 32)),
    "artifactory-password": ("artifactory-token", lambda: "AP" + secrets.choice("23456789ABCDEF") + random_token(ALNUM, 46)),
    "public-ip": ("public-ip", lambda: f"server {_public_ip()}:8443"),
    "high-entropy-string": ("high-entropy-string", _quoted_random),
}


def _single(rule: str, make: Callable[[], str]) -> Callable[[], tuple[str, list[tuple[str, int]]]]:
    return lambda: (make(), [(rule, 0)])


TOKENS: dict[str, Callable[[], tuple[str, list[tuple[str, int]]]]] = {
    "aws-access-key-id": _single("aws-access-key-id", lambda: "AKIA" + random_token(string.ascii_uppercase + "234567", 16)),
    "aws-secret-access-key": _single("aws-secret-access-key", lambda: "aws_secret_access_key = " + _aws_secret()),
    "github-token": _single("github-token", lambda: "ghp_" + random_token(ALNUM, 36)),
    "github-pat": _single("github-token", lambda: f"github_pat_{random_token(ALNUM, 22)}_{random_token(ALNUM, 59)}"),
    "gitlab-token": _single("gitlab-token", lambda: "glpat-" + random_token(ALNUM + "_-", 20)),
    "slack-token": _single("slack-token", lambda: "xoxb-{}-{}-{}".format(
        random_token(string.digits, 12), random_token(string.digits, 13), random_token(ALNUM, 24))),
    "slack-webhook": _single("slack-webhook", lambda: "https://hooks.slack.com/services/T{}/B{}/{}".format(
        random_token(string.ascii_uppercase + string.digits, 8), random_token(string.ascii_uppercase + string.digits, 10),
        random_token(ALNUM, 24))),
    "stripe-secret-key": _single("stripe-secret-key", lambda: "sk_live_" + random_token(ALNUM, 99)),
    "google-api-key": _single("google-api-key", lambda: "AIza" + random_token(ALNUM + "_-", 35)),
    "jwt": _single("jwt", _jwt),
    "azure-storage-key": _single("azure-storage-key", lambda: (
        "DefaultEndpointsProtocol=https;AccountName=inventoryprod;AccountKey="
        + random_base64(64) + ";EndpointSuffix=core.windows.net")),
    "private-key": _single("private-key", lambda: _pem("RSA PRIVATE KEY")),
    "gcp-service-account": _service_account,
    # issue 13: formats added, and the ones widened or tightened
    "aws-secret-no-keyword": _single("aws-secret-access-key", lambda: f'AWS_SECRET = "{_aws_secret()}"'),
    "azure-storage-key-env": _single("azure-storage-key", lambda: "AZURE_STORAGE_KEY=" + random_base64(64)),
    "slack-legacy-workspace": _single("slack-token", lambda: "xoxa-2-" + random_token(ALNUM, 40)),
    "stripe-prod": _single("stripe-secret-key", lambda: "rk_prod_" + random_token(ALNUM, 30)),
    "gitlab-ptt": _single("gitlab-token", lambda: "glptt-" + random_token(HEX, 40)),
    "gitlab-agent": _single("gitlab-token", lambda: "glagent-" + random_token(ALNUM + "_-", 50)),
    "gitlab-ffct": _single("gitlab-token", lambda: "glffct-" + random_token(ALNUM + "_-", 20)),
    "gitlab-routable": _single("gitlab-token", lambda: "glpat-" + random_token(ALNUM, 27) + "." + random_token(LOWER_ALNUM, 9)),
    "gitlab-session": _single("gitlab-token", lambda: "_gitlab_session=" + random_token(LOWER_ALNUM, 32)),
    "npm-token": _single("npm-token", lambda: "npm_" + random_token(ALNUM, 36)),
    "npmrc-auth-token": _single("npmrc-auth-token", lambda: "//npm.example.org/:_authToken=" + random_token(ALNUM, 40)),
    "pypi-token": _single("pypi-token", lambda: "pypi-AgEIcHlwaS5vcmc" + random_token(ALNUM + "_-", 70)),
    "twilio-api-key": _single("twilio-api-key", lambda: "SK" + random_token(HEX, 32)),
    "sendgrid-api-key": _single("sendgrid-api-key", lambda: f"SG.{random_token(ALNUM + '_-', 22)}.{random_token(ALNUM + '_-', 43)}"),
    "openai-api-key": _single("openai-api-key", lambda: f"sk-proj-{random_token(ALNUM + '_-', 74)}T3BlbkFJ{random_token(ALNUM + '_-', 74)}"),
    "openai-legacy": _single("openai-api-key", lambda: f"sk-{random_token(ALNUM, 20)}T3BlbkFJ{random_token(ALNUM, 20)}"),
    "anthropic-api-key": _single("anthropic-api-key", lambda: f"sk-ant-api03-{random_token(ALNUM + '_-', 93)}AA"),
    "huggingface-token": _single("huggingface-token", lambda: "hf_" + random_token(string.ascii_letters, 34)),
    "digitalocean-token": _single("digitalocean-token", lambda: "dop_v1_" + random_token(HEX, 64)),
    "shopify-token": _single("shopify-token", lambda: "shpat_" + random_token(HEX, 32)),
    "atlassian-api-token": _single("atlassian-api-token", lambda: "ATATT3" + random_token(ALNUM + "_-", 186)),
    "databricks-token": _single("databricks-token", lambda: "dapi" + random_token(HEX, 32)),
    "mailgun-api-key": _single("mailgun-api-key", lambda: "key-" + random_token(HEX, 32)),
    "mailgun-private-key": _single("mailgun-api-key", lambda: (
        f"MAILGUN_API_KEY={random_token(HEX, 32)}-{random_token(HEX, 8)}-{random_token(HEX, 8)}")),
    "postman-api-key": _single("postman-api-key", lambda: f"PMAK-{random_token(HEX, 24)}-{random_token(HEX, 34)}"),
    "telegram-bot-token": _single("telegram-bot-token", lambda: f"{random_token(string.digits, 10)}:AA{random_token(ALNUM + '_-', 33)}"),
    "mailchimp-api-key": _single("mailchimp-api-key", lambda: f"{random_token(HEX, 32)}-us{secrets.randbelow(20) + 1}"),
    "secret-assignment": _single("secret-assignment", lambda: f'client_secret: "{random_token(ALNUM, 32, accept=looks_random)}"'),
    # issue 13 follow-up: vendors gitleaks and detect-secrets catch that the rules above missed
    **{kind: _single(rule, make) for kind, (rule, make) in RECALL_FORMATS.items()},
}
