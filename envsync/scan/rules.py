"""Known token formats for the leak guard: one small class per rule.

Each rule names the literal `keywords` every match starts with. The scanner
finds those keywords in the same Aho-Corasick pass that looks for the `.env`
values, and only then runs the rule's regex, anchored at the keyword — so the
text is read once however many rules there are. `verify` rejects look-alikes
(placeholders, the example keys vendors publish in their docs). The few formats
with no fixed text to start from (an IP address, a random string in quotes, a
Discord token) set `searches` and find their matches themselves (`find_all`).

To add a rule: write a class with `id`, `name`, `keywords`, `pattern` (a
named group `secret` when the secret is only part of the match) and, if
needed, `verify`; then list it in RULES.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import ClassVar, Iterator

from envsync import nesting

__all__ = ["RULES", "Rule", "looks_like_placeholder"]

# Words that mark a token as made up; checked on the random part only.
_PLACEHOLDER_WORDS = ("example", "sample", "dummy", "placeholder", "redacted", "your", "xxxx", "changeme",
                      "fake", "insert", "replace")


def looks_like_placeholder(token: str) -> bool:
    """True for made-up tokens: marker words, long runs, too few distinct characters, 123456/abcdef."""
    lower = token.lower()
    if any(word in lower for word in _PLACEHOLDER_WORDS):
        return True
    if len(set(token)) < 6:
        return True
    if re.search(r"(.)\1{5}", token):
        return True
    return _has_sequence(token, 6)


def _has_sequence(token: str, length: int) -> bool:
    """An ascending or descending run such as `123456` or `abcdef` (one in ~10^5 random tokens)."""
    run_up = run_down = 1
    for previous, current in zip(token, token[1:]):
        step = ord(current) - ord(previous)
        run_up = run_up + 1 if step == 1 else 1
        run_down = run_down + 1 if step == -1 else 1
        if run_up >= length or run_down >= length:
            return True
    return False


class _compiled_on_use:
    """A rule's regex, compiled the first time it is used: a hook run on a few files meets few rules'
    keywords, and compiling every pattern up front was the largest part of importing the rules.
    The compiled pattern then replaces this on the class, so later uses are plain attribute reads."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __set_name__(self, owner: type, name: str) -> None:
        self.owner, self.name = owner, name

    def __get__(self, instance: object, owner: type) -> re.Pattern[str]:
        compiled = re.compile(self.source)
        setattr(self.owner, self.name, compiled)
        return compiled


class Rule:
    """A token format. `match` returns the secret's (start, end) for a keyword found at `at`, or None."""

    id: ClassVar[str]
    name: ClassVar[str]
    keywords: ClassVar[tuple[str, ...]]
    pattern: ClassVar[re.Pattern[str]]
    # How far past the keyword a match may reach; bounds the work per keyword hit.
    reach: ClassVar[int] = 400
    # How far before the keyword a match may start (a big file's pieces begin this far back).
    back: ClassVar[int] = 0
    generic: ClassVar[bool] = False  # a catch-all: reported only where no specific rule or value matches
    help: ClassVar[str] = "revoke it with its issuer and remove it from the file"
    # A format with no fixed text to start from (an IP address, a random string in quotes) has no
    # keywords: it cannot join the keyword pass, so it searches the text itself (`find_all`).
    searches: ClassVar[bool] = False

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        found = self.pattern.match(text, at, min(len(text), at + self.reach))
        if found is None:
            return None
        group = "secret" if "secret" in self.pattern.groupindex else 0
        secret = found.group(group)
        if not self.verify(secret, text):
            return None
        return found.span(group)

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret)

    def find_all(self, text: str, begin: int, end: int) -> Iterator[tuple[int, int]]:
        """(start, end) of each match starting in text[begin:end], for a rule that `searches`."""
        raise NotImplementedError


def _finditer(finder: re.Pattern[str], text: str, begin: int, end: int) -> Iterator[re.Match[str]]:
    """finder's matches that start in text[begin:end] (a match may run past `end`: a big file's
    pieces overlap). A finder starts with one literal character, so that Python's engine skips to
    it at C speed: 0.7-2 GB/s on source text, against 30-140 MB/s when a pattern starts with a
    class such as `\\d` or `[A-Za-z]` (benchmarks/scan.py's text)."""
    for found in finder.finditer(text, begin):
        if found.start() >= end:
            return
        yield found


class AwsAccessKeyId(Rule):
    id = "aws-access-key-id"
    name = "AWS access key ID"
    keywords = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])")
    help = "deactivate the key in IAM (it cannot be un-leaked), then remove it"

    def verify(self, secret: str, text: str) -> bool:
        # AWS's documentation key AKIAIOSFODNN7EXAMPLE (and its kin) is public by design.
        return not secret.endswith("EXAMPLE") and not looks_like_placeholder(secret[4:])


class AwsSecretAccessKey(Rule):
    id = "aws-secret-access-key"
    name = "AWS secret access key"
    # `aws_secret_access_key`, or any name that starts with aws then secret or key
    # (`AWS_SECRET`, `awsKey`, `aws.secret-key`, `AWS_KEY_ID`), assigned 40 base64 characters.
    # `aws` alone is everywhere in AWS code (60,000 times in botocore): the keyword is the name's start.
    keywords = ("secret_access_key", "SECRET_ACCESS_KEY", "SecretAccessKey", "secretAccessKey") + tuple(
        aws + sep + word for aws, words in (("aws", ("secret", "key")), ("AWS", ("SECRET", "KEY")),
                                            ("Aws", ("Secret", "Key")), ("aws", ("Secret", "Key")))
        for sep in ("_", "", "-", ".") for word in words)
    pattern = _compiled_on_use(
        r"(?:secret_access_key|SECRET_ACCESS_KEY|SecretAccessKey|secretAccessKey"
        r"|(?<![A-Za-z])(?i:aws)[_.-]?(?i:secret|key)[\w.-]{0,20}?)"
        r"[\"']?\s*(?::|=>?|,)\s*[\"']?"
        r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
    )
    help = "deactivate the key pair in IAM, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        # A key is random base64: digits, both cases (a 40-letter word list or a hex digest is not one).
        mixed = re.search(r"[a-z]", secret) and re.search(r"[A-Z]", secret) and re.search(r"[0-9/+]", secret)
        return bool(mixed) and not secret.endswith("EXAMPLEKEY") and not looks_like_placeholder(secret)


class GitHubToken(Rule):
    id = "github-token"
    name = "GitHub token"
    keywords = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82,})(?![A-Za-z0-9_])"
    )
    help = "revoke it under GitHub Settings > Developer settings, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret.split("_", 1)[1] if secret.startswith("gh") else secret[11:])


class _TwoForms(Rule):
    """A token written in one of two forms: its pattern's `secret` group, or the group named
    `other`; `body` is the part of it that must not look like a placeholder."""

    other: ClassVar[str]

    def body(self, group: str, secret: str) -> str:
        raise NotImplementedError

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        found = self.pattern.match(text, at, min(len(text), at + self.reach))
        if found is None:
            return None
        group = "secret" if found.group("secret") else self.other
        return None if looks_like_placeholder(self.body(group, found.group(group))) else found.span(group)


class GitLabToken(_TwoForms):
    id = "gitlab-token"
    name = "GitLab token"
    keywords = ("glpat-", "gldt-", "glrt-", "glptt-", "glcbt-", "glft-", "glffct-", "glsoat-", "gloas-", "glimt-",
                "glagent-", "GR1348941", "_gitlab_session=")
    # Types with a fixed length (pipeline triggers: 40, agents: 50, incoming mail: 25, OAuth
    # secrets: 64) take exactly that; the others 20 or more, with the `.xxxxxxxxx` suffix that
    # routable tokens carry.
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9_-])(?:(?P<secret>glptt-[A-Za-z0-9_-]{40}|glagent-[A-Za-z0-9_-]{50}|glimt-[A-Za-z0-9_-]{25}"
        r"|gloas-[A-Za-z0-9_-]{64}|(?:gl(?:pat|dt|rt|cbt|ft|ffct|soat)-|GR1348941)[A-Za-z0-9_-]{20,300}"
        r"(?:\.[0-9a-z]{9})?)(?![A-Za-z0-9_-])"
        r"|_gitlab_session=(?P<cookie>[0-9a-z]{32})(?![A-Za-z0-9]))"
    )
    help = "revoke it in GitLab (the token's settings page), then remove it"

    other = "cookie"

    def body(self, group: str, secret: str) -> str:
        return secret if group == "cookie" else secret[9:] if secret.startswith("GR1348941") else secret.split("-", 1)[1]


class SlackToken(Rule):
    id = "slack-token"
    name = "Slack token"
    keywords = ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe", "xapp-")
    # `xoxa-2-…`/`xoxr-…`: legacy workspace tokens, a digit then 8-48 characters, or (`xoxa-2-` with
    # ids) the dashed form whose random part is the last one.
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9])(?:xox[abposr]-(?:\d-)?[0-9]{4,}-[A-Za-z0-9-]{8,}"
        r"|xox[ar]-(?:\d-)?[A-Za-z0-9]{8,48}(?![A-Za-z0-9])"
        r"|xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{40,}"
        r"|xapp-\d-[A-Za-z0-9]{6,}-\d+-[A-Za-z0-9]{32,})"
    )
    help = "revoke it in the Slack app's settings, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret.rsplit("-", 1)[-1])


class SlackWebhook(Rule):
    id = "slack-webhook"
    name = "Slack incoming-webhook URL"
    keywords = ("hooks.slack.com/",)
    pattern = _compiled_on_use(
        r"hooks\.slack\.com/(?P<secret>(?:services|workflows|triggers)/T[A-Z0-9]{6,}/[A-Z0-9]{6,}/[A-Za-z0-9/_-]{16,})"
    )
    help = "regenerate the webhook in Slack, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret.rsplit("/", 1)[-1])


class StripeSecretKey(Rule):
    id = "stripe-secret-key"
    name = "Stripe live secret key"
    # Live secret (sk_) and restricted (rk_) keys; publishable pk_ keys are public and
    # test-mode keys reach no real money, as in detect-secrets' Stripe plugin.
    keywords = ("sk_live_", "rk_live_", "sk_prod_", "rk_prod_")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9])[sr]k_(?:live|prod)_[0-9A-Za-z]{24,247}(?![A-Za-z0-9])")
    help = "roll the key in the Stripe dashboard, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret[8:])


class GoogleApiKey(Rule):
    id = "google-api-key"
    name = "Google API key"
    keywords = ("AIza",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])")
    help = "delete or restrict the key in the Google Cloud console, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret[4:])


class PrivateKey(Rule):
    id = "private-key"
    name = "private key block"
    keywords = ("-----BEGIN ",)
    # The header must be followed by key material (a full 60+ character base64 line, possibly
    # after Proc-Type/Comment headers and JSON-escaped newlines): code that merely names the
    # header, such as a PEM parser, does not fire.
    pattern = _compiled_on_use(
        r"(?P<secret>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)"
        r"(?:\\r|\\n|\s|[A-Za-z-]+: [^\r\n\\]*)*?[A-Za-z0-9+/]{60,}"
    )
    reach = 600
    help = "treat the key as compromised: replace it, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return True


class GcpServiceAccountKey(Rule):
    id = "gcp-service-account"
    name = "Google service-account key file"
    keywords = ('"private_key_id"', '\\"private_key_id\\"')
    pattern = _compiled_on_use(r'\\?"private_key_id\\?"\s*:\s*\\?"(?P<secret>[0-9a-f]{40})\\?"')
    help = "delete the key under IAM > Service accounts > Keys, then remove the file"

    def verify(self, secret: str, text: str) -> bool:
        return "service_account" in text and not looks_like_placeholder(secret)


class AzureStorageKey(Rule):
    id = "azure-storage-key"
    name = "Azure storage account key"
    keywords = ("AccountKey", "accountKey", "account_key", "ACCOUNT_KEY", "StorageKey", "storageKey", "storage_key",
                "STORAGE_KEY")
    pattern = _compiled_on_use(
        r"(?:AccountKey|accountKey|account_key|ACCOUNT_KEY|StorageKey|storageKey|storage_key|STORAGE_KEY)"
        r"[\"']?\s*[=:]\s*[\"']?(?P<secret>[A-Za-z0-9+/]{86}==)"
    )
    help = "rotate the key under the storage account's Access keys, then remove it"
    # Azurite's well-known development key is published by Microsoft.
    AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    def verify(self, secret: str, text: str) -> bool:
        return secret != self.AZURITE_KEY and not looks_like_placeholder(secret)


class JsonWebToken(Rule):
    id = "jwt"
    name = "JSON Web Token"
    keywords = ("eyJ",)
    # The signature is optional: a token cut before it still carries its claims, and an unsecured
    # JWT (RFC 7519, `"alg": "none"`) ends in a bare dot. Greedy classes end each part at its end.
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}={0,2}\.[A-Za-z0-9_-]{8,}={0,2}(?:\.[A-Za-z0-9_-]*)?")
    reach = 8192
    help = "revoke the session or key it was issued for, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        header, payload, signature = (secret.split(".", 2) + [""])[:3]
        if 0 < len(signature) < 16:
            return False
        decoded = _json_segment(header)
        return isinstance(decoded, dict) and "alg" in decoded and isinstance(_json_segment(payload), dict)


class _Prefixed(Rule):
    """A token that starts with a fixed prefix (its keywords) and whose random part starts at `skip`."""

    skip: ClassVar[int] = 0

    def verify(self, secret: str, text: str) -> bool:
        return not looks_like_placeholder(secret[self.skip:])


class NpmToken(_Prefixed):
    id = "npm-token"
    name = "npm access token"
    keywords = ("npm_",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])")
    skip = 4
    help = "revoke it on npmjs.com (Access Tokens), then remove it"


class NpmrcAuthToken(Rule):
    id = "npmrc-auth-token"
    name = "registry token in .npmrc"
    keywords = ("_authToken=", ":_auth=", ":_password=")
    # `//registry.npmjs.org/:_authToken=…`; `${NPM_TOKEN}` (read from the environment) is not a secret.
    # An `npm_` token counts at any length, as in detect-secrets: the key names what the value is.
    pattern = _compiled_on_use(r":?_(?:authToken|auth|password)=[ \t]*[\"']?(?P<secret>npm_[^\s\"'$]+|[^\s\"'$]{16,})")
    help = "revoke the token with its registry, read it from the environment (${NPM_TOKEN}), then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return secret.startswith("npm_") or not looks_like_placeholder(secret)


class PypiToken(_Prefixed):
    id = "pypi-token"
    name = "PyPI upload token"
    keywords = ("pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw")
    pattern = _compiled_on_use(r"pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000}")
    skip = 24
    help = "remove the token on pypi.org (Account settings > API tokens), then remove it"


class TwilioApiKey(Rule):
    id = "twilio-api-key"
    name = "Twilio API key or account SID"
    # API keys (SK) and account SIDs (AC) are 32 hex characters; detect-secrets takes any 32 lowercase
    # letters or digits, placeholders included: nothing else in text looks like either (none in the
    # 125 MB of third-party source benchmarks/scan.py reads).
    keywords = ("SK",) + tuple("AC" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9])(?:SK[0-9a-fA-F]{32}|(?:AC|SK)[a-z0-9]{32})(?![A-Za-z0-9])")
    help = "delete the key (or rotate the account's auth token) in the Twilio console, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return True


class SendGridKey(_Prefixed):
    id = "sendgrid-api-key"
    name = "SendGrid API key"
    keywords = ("SG.",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
    skip = 3
    help = "delete the key in SendGrid (Settings > API Keys), then remove it"


class OpenAiKey(_Prefixed):
    id = "openai-api-key"
    name = "OpenAI API key"
    keywords = ("sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-", "sk-")
    # Every OpenAI key holds `T3BlbkFJ` (base64 of "OpenAI") between two random halves.
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{16,74}T3BlbkFJ[A-Za-z0-9_-]{16,74}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})(?![A-Za-z0-9_-])"
    )
    skip = 3
    help = "revoke the key at platform.openai.com (API keys), then remove it"


class AnthropicKey(_Prefixed):
    id = "anthropic-api-key"
    name = "Anthropic API key"
    keywords = ("sk-ant-",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{93}AA(?![A-Za-z0-9_-])")
    skip = 14
    help = "revoke the key in the Anthropic Console (API keys), then remove it"


class HuggingFaceToken(_Prefixed):
    id = "huggingface-token"
    name = "Hugging Face token"
    keywords = ("hf_", "api_org_")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z]{34}(?![A-Za-z0-9_])")
    skip = 3
    help = "invalidate the token at huggingface.co/settings/tokens, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        body = secret.split("_")[-1]
        return any(c.isupper() for c in body) and any(c.islower() for c in body) and not looks_like_placeholder(body)


class DigitalOceanToken(_Prefixed):
    id = "digitalocean-token"
    name = "DigitalOcean token"
    keywords = ("dop_v1_", "doo_v1_", "dor_v1_")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9])")
    skip = 7
    help = "revoke it in the DigitalOcean control panel (API), then remove it"


class ShopifyToken(_Prefixed):
    id = "shopify-token"
    name = "Shopify access token or shared secret"
    keywords = ("shpat_", "shpca_", "shppa_", "shpss_")
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}(?![A-Za-z0-9])")
    skip = 6
    help = "rotate it in the Shopify admin (Apps), then remove it"


class AtlassianToken(_Prefixed):
    id = "atlassian-api-token"
    name = "Atlassian API token"
    keywords = ("ATATT3",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])ATATT3[A-Za-z0-9_=-]{186}(?![A-Za-z0-9_=-])")
    skip = 6
    help = "revoke it at id.atlassian.com (Security > API tokens), then remove it"


class DatabricksToken(_Prefixed):
    id = "databricks-token"
    name = "Databricks token"
    keywords = ("dapi",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])dapi[a-f0-9]{32}(?:-\d)?(?![A-Za-z0-9])")
    skip = 4
    help = "revoke it in the Databricks workspace (User settings > Access tokens), then remove it"


class MailgunKey(_TwoForms):
    id = "mailgun-api-key"
    name = "Mailgun API key"
    keywords = ("key-", "mailgun", "MAILGUN", "Mailgun")
    # Old keys are `key-` + 32 hex; newer private keys are 32-8-8 hex and need the name nearby.
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9_-])(?P<secret>key-[0-9a-f]{32})(?![A-Za-z0-9])"
        r"|(?i:mailgun)[\w.-]{0,30}?[\"']?\s*(?::|=>?)\s*[\"']?(?P<new>[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})(?![A-Za-z0-9])"
    )
    help = "rotate the key in Mailgun (API Security), then remove it"

    other = "new"

    def body(self, group: str, secret: str) -> str:
        return secret.split("-", 1)[-1]


class PostmanKey(_Prefixed):
    id = "postman-api-key"
    name = "Postman API key"
    keywords = ("PMAK-",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9])")
    skip = 5
    help = "revoke it in Postman (Settings > API keys), then remove it"


class _Suffixed(Rule):
    """A token whose fixed part (its keyword) comes after a random part: matched backwards from it."""

    # The random part, ending with `\Z` (the keyword): else search takes the leftmost run in reach (a
    # chat id, a hash on the line before) for the token's start and misses the token.
    before: ClassVar[re.Pattern[str]]
    back: ClassVar[int] = 64

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        head = self.before.search(text, max(0, at - self.back), at)
        if head is None or head.end() != at:
            return None
        found = self.pattern.match(text, head.start(), min(len(text), at + self.reach))
        if found is None or looks_like_placeholder(found.group(0)):
            return None
        return found.span()


class TelegramBotToken(_Suffixed):
    id = "telegram-bot-token"
    name = "Telegram bot token"
    keywords = (":AA",)
    before = _compiled_on_use(r"(?<![0-9])[0-9]{8,10}\Z")
    pattern = _compiled_on_use(r"[0-9]{8,10}:AA[A-Za-z0-9_-]{32,33}(?![A-Za-z0-9_-])")
    help = "revoke it with @BotFather (/revoke), then remove it"


class MailchimpKey(_Suffixed):
    id = "mailchimp-api-key"
    name = "Mailchimp API key"
    keywords = ("-us",)
    before = _compiled_on_use(r"(?<![A-Za-z0-9])[0-9a-f]{32}\Z")
    pattern = _compiled_on_use(r"[0-9a-f]{32}-us[0-9]{1,2}(?![A-Za-z0-9])")
    help = "revoke the key in Mailchimp (Account > Extras > API keys), then remove it"


class NotionToken(_Prefixed):
    id = "notion-token"
    name = "Notion integration token"
    keywords = ("ntn_",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])ntn_[0-9]{11}[A-Za-z0-9]{35}(?![A-Za-z0-9])")
    skip = 15
    help = "refresh the integration's secret at notion.so/my-integrations, then remove it"


class SourcegraphToken(_TwoForms):
    id = "sourcegraph-token"
    name = "Sourcegraph access token"
    keywords = ("sgp_", "sourcegraph", "SOURCEGRAPH", "Sourcegraph")
    # Old tokens are 40 hex characters without a prefix: only with the name in front of them.
    pattern = _compiled_on_use(
        r"(?<![A-Za-z0-9_])(?P<secret>sgp_(?:(?:[a-fA-F0-9]{16}|local)_)?[a-fA-F0-9]{40})(?![A-Za-z0-9])"
        r"|(?i:sourcegraph)[\w.-]{0,20}?[\"'`]?\s*(?:=|:=|:|=>)\s*[\"'`]?(?P<old>[a-fA-F0-9]{40})(?![A-Za-z0-9])"
    )
    help = "delete the token in Sourcegraph (Settings > Access tokens), then remove it"

    other = "old"

    def body(self, group: str, secret: str) -> str:
        return secret[4:] if group == "secret" else secret


class OnePasswordServiceToken(_Prefixed):
    id = "1password-service-token"
    name = "1Password service account token"
    keywords = ("ops_eyJ",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_])ops_eyJ[A-Za-z0-9+/]{250,}={0,3}")
    skip = 7
    help = "delete the service account's token in 1Password, then remove it"


class SquareToken(_Prefixed):
    id = "square-token"
    name = "Square access token or application secret"
    keywords = ("sq0atp-", "sq0csp-", "EAAA")
    # Production access tokens start EAAA (64 characters in all), sandbox and old ones sq0atp-.
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])(?:sq0atp-[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43}"
                         r"|EAAA[A-Za-z0-9_-]{60})(?![A-Za-z0-9_-])")
    help = "revoke it in the Square Developer Dashboard, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        body = secret[7:] if secret.startswith("sq0") else secret[4:]
        return any(c.isdigit() for c in body) and not looks_like_placeholder(body)


class SidekiqCredentials(Rule):
    id = "sidekiq-credentials"
    name = "Sidekiq Enterprise/Pro gem credentials"
    keywords = ("BUNDLE_ENTERPRISE__CONTRIBSYS__COM", "BUNDLE_GEMS__CONTRIBSYS__COM", "@gems.contribsys.com",
                "@enterprise.contribsys.com")
    # `BUNDLE_GEMS__CONTRIBSYS__COM=<8 hex>:<8 hex>` (Bundler's env setting) or the gem source URL
    # `https://<8 hex>:<8 hex>@gems.contribsys.com/`, matched backwards from the host.
    pattern = _compiled_on_use(r"BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM[\w.-]{0,10}?[\"'`]?\s*(?:=|:=|:|=>)\s*[\"'`]?"
                         r"(?P<secret>[a-f0-9]{8}:[a-f0-9]{8})(?![A-Za-z0-9])")
    url = _compiled_on_use(r"(?i:https?)://([a-f0-9]{8}:[a-f0-9]{8})$")
    back = 30
    help = "regenerate the credentials with Contributed Systems, read them from the environment, then remove them"

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        if text.startswith("@", at):
            found = self.url.search(text, max(0, at - self.back), at)
            return found.span(1) if found else None
        return super().match(text, at)


class AdobeClientSecret(_Prefixed):
    id = "adobe-client-secret"
    name = "Adobe client secret"
    keywords = ("p8e-",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9_-])p8e-[a-zA-Z0-9]{32}(?![A-Za-z0-9])")
    skip = 4
    help = "rotate the secret in the Adobe Developer Console, then remove it"


class AlibabaAccessKeyId(_Prefixed):
    id = "alibaba-access-key-id"
    name = "Alibaba Cloud AccessKey ID"
    keywords = ("LTAI",)
    pattern = _compiled_on_use(r"(?<![A-Za-z0-9])LTAI[a-zA-Z0-9]{20}(?![A-Za-z0-9])")
    skip = 4
    help = "disable the AccessKey in the RAM console, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        return any(c.isdigit() for c in secret[4:]) and not looks_like_placeholder(secret[4:])


class DiscordBotToken(Rule):
    id = "discord-bot-token"
    name = "Discord bot token"
    # Three dot-separated parts: 24-26 characters starting M, N or O (base64 of a user id), 6, then
    # 27-38; found from the middle part's dots, like detect-secrets even inside a longer word.
    keywords = ()
    searches = True
    finder = _compiled_on_use(r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}")
    pattern = _compiled_on_use(r"[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}")
    help = "reset the token in the Discord Developer Portal (Bot), then remove it"

    def find_all(self, text: str, begin: int, end: int) -> Iterator[tuple[int, int]]:
        for middle in _finditer(self.finder, text, begin + 24, end + 26):
            # The token starts at the leftmost M, N or O whose first part reaches this dot; a piece
            # reports it only when that start is its own (else two pieces would report two starts).
            for start in range(max(0, middle.start() - 26), middle.start() - 23):
                found = self.pattern.match(text, start)
                if found and start + found.group().index(".") == middle.start():
                    if begin <= start < end and not looks_like_placeholder(found.group()):
                        yield found.span()
                    break


class ArtifactoryToken(Rule):
    id = "artifactory-token"
    name = "JFrog Artifactory API key, password or reference token"
    # API keys are AKCp + 69, encrypted passwords AP + a hex digit + 8 or more; detect-secrets also takes
    # AKC + 10 or more, placeholders included. Not inside base64 (after `/`, `+` or a letter, or running
    # into `+/=`): certificate bundles and lockfile hashes hold such runs. A 64- or 76-character line of
    # a PEM or MIME body is no key of either form (`AKC`/`AP` + up to 59, or AKCp + exactly 69). A short
    # form before `@` is a URL's password (url-password's to judge); a whole API key is a key anywhere.
    # Reference tokens are base64 of "reftkn:…", 64 characters.
    keywords = ("AKC", "cmVmdGtu") + tuple("AP" + c for c in "0123456789ABCDEF")
    pattern = _compiled_on_use(r"(?<![^\s=:;|\"'`,(\[{<>])(?:(?:AKCp[A-Za-z0-9]{69}|cmVmdGtu[A-Za-z0-9]{56})(?![A-Za-z0-9+/=])"
                               r"|(?:AKC[A-Za-z0-9]{10,59}|AP[0-9A-F][A-Za-z0-9]{8,59})(?![A-Za-z0-9+/=@]))")
    help = "revoke it in Artifactory (User profile > API key / Access tokens), then remove it"

    def verify(self, secret: str, text: str) -> bool:
        if secret.startswith("cmVmdGtu"):
            return not looks_like_placeholder(secret[8:])
        # An all-capitals run is a constant's name (APACHE2LICENSE), words are a class's (APActivationPayload).
        return any(c.islower() for c in secret[3:]) and not _reads_as_a_name(secret[2:])


# What stands in for a password in a URL written for a reader: a reference, a mask, a word.
_URL_PASSWORD_STAND_INS = ("password", "passwd", "pass", "pwd", "secret", "token", "pw")


class UrlPassword(Rule):
    """`scheme://user:password@host` — the password part of a URL's credentials (basic auth, database
    and broker URLs). References (`${DB_PASSWORD}`, `%s`, `<password>`), masks (`***`), words that
    stand for a password, a password equal to the user (`postgres:postgres`), and URLs of a local
    service — `localhost`, a loopback address, or a one-label name such as compose's `db` or
    `redis`, where development passwords live — do not fire. (A real value of a `.env` file is
    still found in any URL: value matching does not look at rules.)"""

    id = "url-password"
    name = "password in a URL"
    keywords = ("://",)
    pattern = _compiled_on_use(r"://(?P<user>[^\s/:@\"'`<>]{0,64}):(?P<secret>[^\s/@\"'`<>]{1,128})@"
                               r"(?P<host>[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])")
    reach = 200
    help = "change the password, read the URL (or its password) from the environment, then remove it"

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        end = min(len(text), at + self.reach)
        if text.find("@", at, end) < 0:  # most URLs carry no credentials: skip the regex
            return None
        found = self.pattern.match(text, at, end)
        if found is None:
            return None
        user, secret, host = found.group("user", "secret", "host")
        if secret == user or secret.lower().strip("_-0123456789") in _URL_PASSWORD_STAND_INS or _local_host(host):
            return None
        if any(mark in secret for mark in ("$", "{", "}", "%s", "%(", "*")) or looks_like_placeholder(secret):
            return None
        return found.span("secret")


def _local_host(host: str) -> bool:
    """localhost, a loopback address, or a name of one label (a compose service, a hosts-file alias)."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.startswith("127.") or host in ("[::1]", "0.0.0.0") or (
        "." not in host and not host.startswith("["))


# Vendors whose keys have no prefix of their own (UUIDs, digits, short alphanumerics), so only the
# name they are assigned to says what they are; after gitleaks' rules for the same vendors (MIT).
_VENDORS = ("asana", "discord", "dropbox", "heroku", "hubspot", "kucoin", "linkedin", "sendbird", "snyk", "sonar",
            "squarespace", "sumo", "twitter", "mapbox", "netlify", "okta", "pagerduty", "zendesk", "algolia",
            "contentful", "bitbucket", "cloudflare", "newrelic", "datadog", "sentry", "segment", "mixpanel",
            "twilio", "softlayer", "cloudant", "artifactory", "jfrog")


class VendorNamedSecret(Rule):
    """A value assigned to a name made of a vendor and a secret word (`HEROKU_API_KEY`, `asanaToken`,
    `"discord_token"`): UUIDs, long digit strings and 14-character keys count here, which the catch-all
    rejects because alone they are ids far more often than secrets."""

    id = "vendor-named-secret"
    name = "vendor key assigned to its name"
    keywords = tuple(form for vendor in _VENDORS for form in (vendor, vendor.upper(), vendor.capitalize()))
    pattern = _compiled_on_use(
        r"(?i:" + "|".join(_VENDORS) + r")[A-Za-z0-9_.-]{0,20}?(?i:token|secret|api_?key|key|password|pat(?![A-Za-z]))"
        r"[A-Za-z0-9_.-]{0,10}?[\"'`]?\s*(?:=|:=|::?=|:|=>|\?=)\s*[\"'`]?"
        r"(?P<secret>[A-Za-z0-9+/=_.~%-]{14,200})(?=[\"'`;,)\s]|\\[nr]|$)"
    )
    reach = 300
    help = "revoke it with the vendor, load it from the environment or a secret store, then remove it"

    def verify(self, secret: str, text: str) -> bool:
        # Twitter's app-only bearer tokens open with a run of 21 or more A's by format.
        body = secret.lstrip("A") if secret.startswith("A" * 21) else secret
        # Entropy says little about digits (a third of random 16-digit strings score under 2.8 bits).
        if looks_like_placeholder(body) or (not body.isdigit() and shannon_entropy(body) < 2.8) \
                or body.startswith(("/", "~")) or "..." in body:
            return False
        if _UUID.fullmatch(body):
            return True
        parts = [p for p in _WORD_SPLIT.split(body) if p]
        return sum(c.isdigit() for c in body) >= 2 and not all(p.isdigit() and len(p) < 6 or _is_word(p) for p in parts)


def _is_word(part: str) -> bool:
    from envsync.scan.words import is_word

    return is_word(part)


class SecretAssignment(Rule):
    """A random-looking string assigned to a name that says it is a secret: `GITHUB_TOKEN = "…"`,
    `clientSecret: …`, `db_password=…`, `"api_key": "…"`. The catch-all for the many vendors
    without a rule of their own; strict about the value so that code, names, paths, URLs and
    references (`${X}`, `os.environ[…]`) do not fire."""

    id = "secret-assignment"
    name = "secret assigned in code or config"
    # Each name form followed by what can come next in an assignment (not `(`, not letters: `tokenize`,
    # `TokenRequestOptions` and prose are most of the hits a bare `token` would get).
    keywords = tuple(sorted({form + after
                             for base in ("token", "secret", "password", "passwd", "api_key", "apikey", "api-key",
                                          "access_key", "private_key", "auth_key", "client_secret")
                             for form in (base, base.upper(), base.capitalize(), base.title().replace("_", ""))
                             for after in ("=", " ", ":", '"', "'", "`", "_")}))
    pattern = _compiled_on_use(
        r"(?i:token|secret|password|passwd|api_?key|api-key|access_?key|private_?key|auth_?key|client_?secret)"
        r"[A-Za-z0-9_.-]{0,20}?[\"'`]?\s*(?:=|:=|::?=|:|=>|\?=)\s*[\"'`]?"
        r"(?P<secret>[A-Za-z0-9+/=_.~-]{16,200})(?=[\"'`;,)\s]|\\[nr]|$)"
    )
    reach = 260
    generic = True
    help = "revoke it with its issuer, load it from the environment or a secret store, then remove it"

    def match(self, text: str, at: int) -> tuple[int, int] | None:
        if at and text[at - 1] in ":/":  # `arn:aws:…:secret:name`, `…/secret/…`: a path, not a name
            return None
        return super().match(text, at)

    def verify(self, secret: str, text: str) -> bool:
        return looks_random(secret)


def looks_random(value: str) -> bool:
    """A token rather than a name, path, identifier, UUID or short hash: two character classes or
    more, high entropy, not made of words (camelCase and dotted names split), no placeholder."""
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    if classes < 2 or looks_like_placeholder(value) or shannon_entropy(value) < 3.0:
        return False
    if _UUID.fullmatch(value) or (_HEX.fullmatch(value) and len(value) < 32) or value.startswith(("/", "~")) \
            or "..." in value:
        return False
    return not _all_words(value)


def _reads_as_a_name(text: str) -> bool:
    """Letters only, in camelCase words of four letters or more on average, each a word: a class's
    name. (Random mixed case splits into short pieces that often pass for words: 1 in 10 for 11
    random letters without the length test, 1 in 500 with it, most of those all capitals.)"""
    pieces = [p for p in _WORD_SPLIT.split(text) if p]
    return text.isalpha() and sum(map(len, pieces)) >= 4 * len(pieces) and _all_words(text)


def _all_words(text: str) -> bool:
    """True when `text` split on `- _ . / ~ + =` and camelCase is all words and numbers."""
    from envsync.scan.words import is_word

    return all(p.isdigit() or is_word(p) for p in _WORD_SPLIT.split(text) if p)


class HighEntropyString(Rule):
    """A random string in quotes, 24-200 base64 or base64url characters with more than 4.5 bits of
    entropy per character (detect-secrets' Base64HighEntropyString limit; a string under ~24
    characters cannot reach it) that looks random (see looks_random). Not fired: hex (hashes, ids),
    public values with a known prefix (`sha512-…` integrity hashes, `sha256/…` pins, `pk_live_…`),
    strings assigned to a name that says what they are (an id, a hash), longer blobs (data, not keys)."""

    id = "high-entropy-string"
    name = "random string in quotes"
    keywords = ()
    searches = True
    generic = True
    # One finder per quote: a pattern that starts with `["']` would be searched at 140 MB/s, not 700+.
    double_quoted = _compiled_on_use(r'"(?P<secret>[A-Za-z0-9+/_-]{24,200}={0,2})"')
    single_quoted = _compiled_on_use(r"'(?P<secret>[A-Za-z0-9+/_-]{24,200}={0,2})'")
    help = "if it is a key, revoke it and load it from the environment or a secret store; else allow the line"

    def find_all(self, text: str, begin: int, end: int) -> Iterator[tuple[int, int]]:
        for finder in (self.double_quoted, self.single_quoted):
            for found in _finditer(finder, text, begin, end):
                if self.verify(found.group("secret"), text) and not _NOT_SECRET_NAME.search(_line_before(text, found.start())):
                    yield found.span("secret")

    def verify(self, secret: str, text: str) -> bool:
        # 4.5 bits a character need 23 distinct characters (2^4.5 = 22.6): most strings of 24 or more in
        # quotes are names with fewer, and counting them is the cheapest test (12,000 such strings in 20 MB).
        return len(set(secret)) >= 23 and not _HEX.fullmatch(secret) and not secret.startswith(_PUBLIC_PREFIXES) \
            and shannon_entropy(secret) > 4.5 and looks_random(secret)


# Public by design: Subresource Integrity hashes, certificate pins, Stripe publishable keys, CSP nonces.
_PUBLIC_PREFIXES = ("sha1-", "sha256-", "sha384-", "sha512-", "sha1/", "sha256/", "pk_live_", "pk_test_", "nonce-")
# A string assigned to a name that says what it is, and it is not a secret: an id, a hash, a name,
# a page marker (`"JobId": "…"`, `"CodeSha256": "…"`, `AlarmName: …`, `"NextMarker": "…"`).
_NOT_SECRET_NAME = re.compile(r"(?i:id|ids|sha\d*|hash|digest|checksum|etag|name|marker|version)[\"'`]?\s*(?:=|:=|:|=>)\s*\Z")


def _line_before(text: str, at: int, reach: int = 80) -> str:
    """Up to `reach` characters of the line before `at`."""
    return text[max(text.rfind("\n", max(0, at - reach), at) + 1, at - reach):at]


class PublicIpAddress(Rule):
    """A public IPv4 address (detect-secrets' IPPublicDetector): a server of yours that the
    repository should not name. Not fired: private, loopback, link-local, shared and reserved
    ranges, the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), multicast,
    network and broadcast addresses (`….0`, `….255`: version numbers end so too), `1.2.3.4`-style
    made-up ones, and dotted numbers that go on (`1.2.3.4.5`, an OID's arcs)."""

    id = "public-ip"
    name = "public IP address"
    keywords = ()
    searches = True
    generic = True
    finder = _compiled_on_use(r"\.\d{1,3}\.\d{1,3}\.\d{1,3}")  # from the first dot: see _finditer
    # Not inside a longer dotted or dashed run: `1.13.10.1-x86_64`, SVG path data `-1.5.75.75`.
    pattern = _compiled_on_use(r"(?<![\w.-])\d{1,3}(?:\.\d{1,3}){3}(?![\w-]|\.\w)")
    help = "read the address from configuration at run time; if it is public knowledge (a DNS resolver), allow the line"

    def find_all(self, text: str, begin: int, end: int) -> Iterator[tuple[int, int]]:
        for dots in _finditer(self.finder, text, begin + 1, end + 3):
            start = dots.start()
            while start > dots.start() - 3 and start > begin and text[start - 1] in "0123456789":
                start -= 1
            found = self.pattern.match(text, start) if start < dots.start() and start < end else None
            if found and self.verify(found.group(), text) and not _names_no_address(_line_before(text, start)):
                yield found.span()

    def verify(self, secret: str, text: str) -> bool:
        import ipaddress  # only when something looks like an address

        try:
            address = ipaddress.IPv4Address(secret)
        except ValueError:  # an octet over 255, a leading zero
            return False
        octets = [int(part) for part in secret.split(".")]
        made_up = all(b - a == 1 for a, b in zip(octets, octets[1:]))
        return address.is_global and not address.is_multicast and octets[3] not in (0, 255) and not made_up


def _names_no_address(before: str) -> bool:
    """Four dotted numbers after these on their line are a section, a version or an OID's arcs: `RFC
    6749 section 4.1.2.1`, `§4.2.3.2`, `version 3.5.0.1`, `ObjectIdentifier("2.5.29.14")`, `oid =
    '1.3.101.112'`; or a version pin: after `==`, `~>`, `>=`, or a Gemfile.lock entry's `rails (`.
    Plain `in` tests first: a file of addresses must not cost a regex search each."""
    lower = before.lower()
    return any(word in lower for word in ("section", "§", "version", "objectidentifier")) \
        or (("rfc" in lower or "oid" in lower) and _RFC_OR_OID.search(lower) is not None) \
        or lower.rstrip().endswith(("==", "~>", ">=", "<=", "~=", "^")) \
        or ("(" in lower and _LOCKFILE_ENTRY.fullmatch(before) is not None)


_RFC_OR_OID = re.compile(r"\brfc\b|(?<![a-z])oid(?![a-z])")
# A Gemfile.lock entry: `    rails (6.1.7.10)`, `      actioncable (= 7.0.8.1)` (an address in prose or
# tool output — `bastion (52.94.76.10)`, `PING host (…)` — has no indentation and one word before it).
_LOCKFILE_ENTRY = re.compile(r"[ \t]+[\w.-]+ \((?:[=~<>!]+ )?")


# UUIDs are request ids, change tokens and resource ids far more often than keys (95 findings in the
# AWS SDK's examples alone); the vendors whose keys are UUIDs need a rule of their own.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_WORD_SPLIT = re.compile(r"[-_./~+=]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=[0-9]{3,})|(?<=[0-9])(?=[A-Z][a-z])")


def shannon_entropy(value: str) -> float:
    """Bits per character of `value` (the one entropy measure: rules and gitleaks rules share it)."""
    import math

    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _json_segment(segment: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(segment.rstrip("=") + "=" * (-len(segment.rstrip("=")) % 4))
        return nesting.json_loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


RULES: tuple[Rule, ...] = (
    AwsAccessKeyId(), AwsSecretAccessKey(), GitHubToken(), GitLabToken(), SlackToken(), SlackWebhook(),
    StripeSecretKey(), GoogleApiKey(), PrivateKey(), GcpServiceAccountKey(), AzureStorageKey(), JsonWebToken(),
    NpmToken(), NpmrcAuthToken(), PypiToken(), TwilioApiKey(), SendGridKey(), OpenAiKey(), AnthropicKey(),
    HuggingFaceToken(), DigitalOceanToken(), ShopifyToken(), AtlassianToken(), DatabricksToken(), MailgunKey(),
    PostmanKey(), TelegramBotToken(), MailchimpKey(), NotionToken(), SourcegraphToken(), OnePasswordServiceToken(),
    SquareToken(), SidekiqCredentials(), AdobeClientSecret(), AlibabaAccessKeyId(), DiscordBotToken(),
    ArtifactoryToken(), UrlPassword(),
    VendorNamedSecret(), SecretAssignment(), HighEntropyString(), PublicIpAddress(),
)
