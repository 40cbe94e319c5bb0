"""The leak guard (`envsync scan`): recall and false positives on a planted-secret corpus, the
allow-lists, output formats, odd files and exit codes — through the real executable where it counts."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets as _secrets
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

import pytest

from envsync import scan
from envsync.dotenv_file import encode_value
from envsync.scan.rules import RULES, looks_like_placeholder
from tests.scan_rules_test import TOKENS as RECALL_TOKENS

CORPUS = Path(__file__).parent / "corpus" / "scan"
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


# -- git helpers ----------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo)}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def init_repo(path: Path, gitignore: str | None = ".env*\n!.env.example\n") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    if gitignore is not None:
        (path / ".gitignore").write_text(gitignore)
    return path


def commit_all(repo: Path, message: str = "commit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


# -- token generators: fresh, valid-looking tokens of each format ---------------------------------------------


def _random(alphabet: str, length: int) -> str:
    """Random text that is not mistaken for a placeholder (one draw in ~10^4 would be, and be skipped)."""
    while True:
        text = "".join(_secrets.choice(alphabet) for _ in range(length))
        if not looks_like_placeholder(text):
            return text


def _pem(kind: str, lines: int = 6) -> str:
    body = base64.b64encode(os.urandom(48 * lines)).decode()
    rows = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {kind}-----\n" + "\n".join(rows) + f"\n-----END {kind}-----"


def _jwt() -> str:
    def segment(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    header = segment({"alg": "HS256", "typ": "JWT"})
    payload = segment({"sub": _random(ALNUM, 12), "iat": 1700000000})
    return f"{header}.{payload}.{_random(ALNUM + '-_', 43)}"


def _service_account() -> tuple[str, list[tuple[str, int]]]:
    document = {
        "type": "service_account", "project_id": "inventory-prod", "private_key_id": _secrets.token_hex(20),
        "private_key": _pem("PRIVATE KEY") + "\n", "client_email": "deployer@inventory-prod.iam.gserviceaccount.com",
        "client_id": "104857600000000000001", "token_uri": "https://oauth2.googleapis.com/token",
    }
    text = json.dumps(document, indent=2)
    lines = text.splitlines()
    key_id = next(i for i, line in enumerate(lines) if '"private_key_id"' in line)
    key = next(i for i, line in enumerate(lines) if '"private_key"' in line)
    return text, [("gcp-service-account", key_id), ("private-key", key)]


def _single(rule: str, make: Callable[[], str]) -> Callable[[], tuple[str, list[tuple[str, int]]]]:
    return lambda: (make(), [(rule, 0)])


TOKENS: dict[str, Callable[[], tuple[str, list[tuple[str, int]]]]] = {
    "aws-access-key-id": _single("aws-access-key-id", lambda: "AKIA" + _random(string.ascii_uppercase + "234567", 16)),
    "aws-secret-access-key": _single("aws-secret-access-key", lambda: "aws_secret_access_key = " + _random(ALNUM + "/+", 40)),
    "github-token": _single("github-token", lambda: "ghp_" + _random(ALNUM, 36)),
    "github-pat": _single("github-token", lambda: f"github_pat_{_random(ALNUM, 22)}_{_random(ALNUM, 59)}"),
    "gitlab-token": _single("gitlab-token", lambda: "glpat-" + _random(ALNUM + "_-", 20)),
    "slack-token": _single("slack-token", lambda: "xoxb-{}-{}-{}".format(
        _random(string.digits, 12), _random(string.digits, 13), _random(ALNUM, 24))),
    "slack-webhook": _single("slack-webhook", lambda: "https://hooks.slack.com/services/T{}/B{}/{}".format(
        _random(string.ascii_uppercase + string.digits, 8), _random(string.ascii_uppercase + string.digits, 10),
        _random(ALNUM, 24))),
    "stripe-secret-key": _single("stripe-secret-key", lambda: "sk_live_" + _random(ALNUM, 99)),
    "google-api-key": _single("google-api-key", lambda: "AIza" + _random(ALNUM + "_-", 35)),
    "jwt": _single("jwt", _jwt),
    "azure-storage-key": _single("azure-storage-key", lambda: (
        "DefaultEndpointsProtocol=https;AccountName=inventoryprod;AccountKey="
        + base64.b64encode(os.urandom(64)).decode() + ";EndpointSuffix=core.windows.net")),
    "private-key": _single("private-key", lambda: _pem("RSA PRIVATE KEY")),
    "gcp-service-account": _service_account,
    # issue 13: formats added, and the ones widened or tightened
    "aws-secret-no-keyword": _single("aws-secret-access-key", lambda: 'AWS_SECRET = "' + _random(ALNUM + "/+", 40) + '"'),
    "azure-storage-key-env": _single("azure-storage-key", lambda: "AZURE_STORAGE_KEY=" + base64.b64encode(os.urandom(64)).decode()),
    "slack-legacy-workspace": _single("slack-token", lambda: "xoxa-2-" + _random(ALNUM, 40)),
    "stripe-prod": _single("stripe-secret-key", lambda: "rk_prod_" + _random(ALNUM, 30)),
    "gitlab-ptt": _single("gitlab-token", lambda: "glptt-" + _random(HEX, 40)),
    "gitlab-agent": _single("gitlab-token", lambda: "glagent-" + _random(ALNUM + "_-", 50)),
    "gitlab-ffct": _single("gitlab-token", lambda: "glffct-" + _random(ALNUM + "_-", 20)),
    "gitlab-routable": _single("gitlab-token", lambda: "glpat-" + _random(ALNUM, 27) + "." + _random(LOWER_ALNUM, 9)),
    "gitlab-session": _single("gitlab-token", lambda: "_gitlab_session=" + _random(LOWER_ALNUM, 32)),
    "npm-token": _single("npm-token", lambda: "npm_" + _random(ALNUM, 36)),
    "npmrc-auth-token": _single("npmrc-auth-token", lambda: "//npm.example.org/:_authToken=" + _random(ALNUM, 40)),
    "pypi-token": _single("pypi-token", lambda: "pypi-AgEIcHlwaS5vcmc" + _random(ALNUM + "_-", 70)),
    "twilio-api-key": _single("twilio-api-key", lambda: "SK" + _random(HEX, 32)),
    "sendgrid-api-key": _single("sendgrid-api-key", lambda: f"SG.{_random(ALNUM + '_-', 22)}.{_random(ALNUM + '_-', 43)}"),
    "openai-api-key": _single("openai-api-key", lambda: f"sk-proj-{_random(ALNUM + '_-', 74)}T3BlbkFJ{_random(ALNUM + '_-', 74)}"),
    "openai-legacy": _single("openai-api-key", lambda: f"sk-{_random(ALNUM, 20)}T3BlbkFJ{_random(ALNUM, 20)}"),
    "anthropic-api-key": _single("anthropic-api-key", lambda: f"sk-ant-api03-{_random(ALNUM + '_-', 93)}AA"),
    "huggingface-token": _single("huggingface-token", lambda: "hf_" + _random(string.ascii_letters, 34)),
    "digitalocean-token": _single("digitalocean-token", lambda: "dop_v1_" + _random(HEX, 64)),
    "shopify-token": _single("shopify-token", lambda: "shpat_" + _random(HEX, 32)),
    "atlassian-api-token": _single("atlassian-api-token", lambda: "ATATT3" + _random(ALNUM + "_-", 186)),
    "databricks-token": _single("databricks-token", lambda: "dapi" + _random(HEX, 32)),
    "mailgun-api-key": _single("mailgun-api-key", lambda: "key-" + _random(HEX, 32)),
    "mailgun-private-key": _single("mailgun-api-key", lambda: (
        f"MAILGUN_API_KEY={_random(HEX, 32)}-{_random(HEX, 8)}-{_random(HEX, 8)}")),
    "postman-api-key": _single("postman-api-key", lambda: f"PMAK-{_random(HEX, 24)}-{_random(HEX, 34)}"),
    "telegram-bot-token": _single("telegram-bot-token", lambda: f"{_random(string.digits, 10)}:AA{_random(ALNUM + '_-', 33)}"),
    "mailchimp-api-key": _single("mailchimp-api-key", lambda: f"{_random(HEX, 32)}-us{_secrets.randbelow(20) + 1}"),
    "secret-assignment": _single("secret-assignment", lambda: f'client_secret: "{_random(ALNUM, 32)}"'),
    # issue 13 follow-up: vendors gitleaks and detect-secrets catch that the rules above missed
    **{kind: _single(rule, make) for kind, (rule, make) in RECALL_TOKENS.items()},
}


# -- rendering the corpus -------------------------------------------------------------------------------------


@dataclass
class Corpus:
    root: Path
    values: dict[str, str] = field(default_factory=dict)  # .env key -> value
    expected: set[tuple[str, int, str, str | None]] = field(default_factory=set)  # (file, line, rule, key)
    encodings: dict[tuple[str, int], str] = field(default_factory=dict)  # where SIGNING_SECRET was planted
    files: list[str] = field(default_factory=list)


MARKER = re.compile(r"\{\{(value|token):([^}]+)\}\}")


def encode_for_marker(value: str, how: str, values: dict[str, str], key: str) -> str:
    raw = value.encode("utf-8")
    return {
        "": lambda: value,
        "base64": lambda: base64.b64encode(raw).decode(),
        "base64-offset1": lambda: base64.b64encode(b"x" + raw).decode(),
        "base64-offset2": lambda: base64.b64encode(b"xy" + raw).decode(),
        "basic-auth": lambda: base64.b64encode(b"user:" + raw).decode(),
        "base64url": lambda: base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "url": lambda: quote(value, safe=""),
        "json": lambda: json.dumps(value)[1:-1],
        "password": lambda: values[f"{key}:password"],
    }[how]()


def render_corpus(dest: Path, make_secret: Callable[[str], str], register: Callable[[str], None]) -> Corpus:
    """Write the corpus into `dest` (a git work tree): `.env`, `planted/`, `lookalikes/`; return what to expect.
    `make_secret(label)` makes a value that must never be shown; `register(text)` marks generated tokens so."""
    corpus = Corpus(dest)
    env_lines = []
    for line in (CORPUS / "dotenv").read_text().splitlines():
        found = re.fullmatch(r"(export )?([A-Z_]+)=\{\{(secret(?::\w+)?|token:[\w-]+)\}\}", line)
        if not found:
            env_lines.append(line)
            continue
        prefix, key, kind = found.groups()
        if kind == "secret":
            value = make_secret(key.lower())
        elif kind == "secret:special":
            value = make_secret(key.lower()) + '/+=&"\\é'
        elif kind == "secret:url":
            password = make_secret(key.lower())
            corpus.values[f"{key}:password"] = password
            value = f"postgres://app:{password}@db.internal:5432/inventory"
        else:
            value, _ = TOKENS[kind.split(":", 1)[1]]()
            register(value)
        corpus.values[key] = value
        env_lines.append(f"{prefix or ''}{key}={encode_value(value)}")
    (dest / ".env").write_text("\n".join(env_lines) + "\n")

    for folder in ("planted", "lookalikes"):
        for source in sorted((CORPUS / folder).iterdir()):
            name = f"{folder}/{source.name}"
            out_lines: list[str] = []
            for line in source.read_text().splitlines():
                line_no = len(out_lines) + 1
                pieces, cursor = [], 0
                for marker in MARKER.finditer(line):
                    pieces.append(line[cursor:marker.start()])
                    cursor = marker.end()
                    kind, spec = marker.groups()
                    if kind == "value":
                        key, _, how = spec.partition(":")
                        pieces.append(encode_for_marker(corpus.values[key], how, corpus.values, key))
                        corpus.expected.add((name, line_no, "env-value", key))
                        if key == "SIGNING_SECRET":
                            corpus.encodings[(name, line_no)] = how
                    else:
                        text, rules = TOKENS[spec]()
                        for secret_line in text.splitlines():
                            if len(secret_line) >= 20:
                                register(secret_line.strip().strip('",'))
                        register(text)
                        offset = "".join(pieces).count("\n")
                        for rule, line_offset in rules:
                            corpus.expected.add((name, line_no + offset + line_offset, rule, None))
                        pieces.append(text)
                pieces.append(line[cursor:])
                out_lines.extend("".join(pieces).split("\n"))
            (dest / folder).mkdir(exist_ok=True)
            (dest / name).write_text("\n".join(out_lines) + "\n")
            corpus.files.append(name)
    return corpus


@pytest.fixture
def corpus(tmp_path: Path, secret, leak_watch) -> Corpus:
    repo = init_repo(tmp_path / "repo")
    return render_corpus(repo, secret, leak_watch.values.add)


def findings_of(report: dict) -> set[tuple[str, int, str, str | None]]:
    return {(f["file"], f["line"], f["rule"], f["key"]) for f in report["findings"]}


def scan_json(run_envsync, repo: Path, *args: str, code: int | None = None) -> dict:
    result = run_envsync("scan", *args, "--json", cwd=repo)
    if code is not None:
        assert result.code == code, result.output
    assert result.code in (0, 1), result.output
    return json.loads(result.stdout)


# -- recall and false positives on the corpus ------------------------------------------------------------------


def test_corpus_every_planted_leak_is_found_and_no_lookalike_fires(run_envsync, corpus):
    git(corpus.root, "add", "-A")  # staged, not committed: also covers a repo with no HEAD yet
    report = scan_json(run_envsync, corpus.root, "--staged", code=1)
    found = findings_of(report)
    missed, extra = corpus.expected - found, found - corpus.expected
    recall = (len(corpus.expected) - len(missed)) / len(corpus.expected)
    print(f"corpus: {len(corpus.expected)} planted, recall {recall:.0%}, {len(extra)} false positive(s)")
    assert not missed, f"missed: {sorted(missed)}"
    assert not extra, f"false positives: {sorted(extra)}"
    assert {f[2] for f in corpus.expected} >= {r.id for r in RULES} | {"env-value"}  # every rule is planted
    assert not any(f["file"].startswith("lookalikes/") for f in report["findings"])


def test_corpus_encodings_are_named(run_envsync, corpus):
    git(corpus.root, "add", "-A")
    report = scan_json(run_envsync, corpus.root, "--staged", code=1)
    by_place = {(f["file"], f["line"]): f for f in report["findings"] if f["key"] == "SIGNING_SECRET"}
    expected = {"json": "json-escaped", "url": "url-encoded", "": "literal"}
    for place, how in corpus.encodings.items():
        assert by_place[place]["encoding"] == expected.get(how, how), place
    merged = [f for f in report["findings"] if f["key"] == "STRIPE_KEY"]
    assert merged and "Stripe" in merged[0]["message"]  # a token that is also a .env value: one finding, both named


def test_corpus_skips_values_too_short_or_common(run_envsync, corpus):
    git(corpus.root, "add", "-A")
    report = scan_json(run_envsync, corpus.root, "--staged")
    skipped = {key for keys in report["values"]["skipped"].values() for key in keys}
    common = {"DEBUG", "FEATURE_FLAGS_ENABLED", "PORT", "WORKERS", "TIMEOUT", "CACHE_TTL", "RATIO", "HOST", "BIND",
              "REDIS_URL", "APP_URL", "PUBLIC_API", "DB_HOST", "AWS_REGION", "GCP_REGION", "LOG_LEVEL", "NODE_ENV",
              "APP_NAME", "ADMIN_EMAIL", "DATA_DIR", "CONTENT_TYPE", "VERSION", "POSTGRES_PASSWORD",
              "PLACEHOLDER_TOKEN", "TEMPLATE_VALUE", "MASKED", "SHORT", "EMPTY"}
    assert common <= skipped
    assert report["values"]["searched"] == 7


def test_corpus_same_result_staged_all_and_files(run_envsync, corpus):
    git(corpus.root, "add", "-A")
    staged = findings_of(scan_json(run_envsync, corpus.root, "--staged"))
    commit_all(corpus.root)
    assert findings_of(scan_json(run_envsync, corpus.root, "--all")) == staged
    assert findings_of(scan_json(run_envsync, corpus.root, "planted", "lookalikes")) == staged


def test_findings_never_show_a_value_in_any_format(run_envsync, corpus, leak_watch):
    git(corpus.root, "add", "-A")
    outputs = []
    for args in (["-v"], ["--json"], ["--format", "sarif"], ["--format", "github"], ["--format", "gitlab"]):
        result = run_envsync("scan", "--staged", *args, cwd=corpus.root)
        assert result.code == 1, result.output
        outputs.append(result.output)
    everything = "\n".join(outputs)
    for key, value in corpus.values.items():
        for needle in scan.encodings(value):
            assert needle not in everything, f"{key} shown"
    assert len(leak_watch.values) > 20  # the fixture checks every output against these after the test


# -- staged content and .env files ----------------------------------------------------------------------------


def test_staged_reads_the_index_not_the_working_tree(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("token")
    (repo / ".env").write_text(f"API_TOKEN={value}\n")
    (repo / "app.py").write_text(f'TOKEN = "{value}"\n')
    git(repo, "add", "app.py")
    (repo / "app.py").write_text('TOKEN = os.environ["API_TOKEN"]\n')  # fixed in the tree, not in the index
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("app.py", 1, "env-value", "API_TOKEN")}
    git(repo, "add", "app.py")
    (repo / "notes.txt").write_text(value)  # untracked, not staged: not scanned
    assert scan_json(run_envsync, repo, "--staged", code=0)["findings"] == []


def test_staged_env_files_are_refused_and_templates_allowed(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo", gitignore="node_modules/\n")  # does not cover .env files
    value = secret("db")
    (repo / ".env").write_text(f"DB_PASSWORD={value}\n")
    (repo / ".env.production").write_text(f"DB_PASSWORD={value}\n")
    (repo / "config").mkdir()
    (repo / "config" / "staging.env").write_text("A=1\n")
    (repo / ".env.example").write_text("DB_PASSWORD=\n")
    git(repo, "add", ".env.production", "config/staging.env", ".env.example")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 1
    assert ".env.production: env-file: a .env file is staged — unstage it: git rm --cached -- .env.production" in result.stdout
    assert "config/staging.env: env-file" in result.stdout
    assert ".env.example:" not in result.stdout
    assert ".gitignore does not cover it: add `*.env`" in result.stdout
    assert ".env is not covered by .gitignore" in result.stderr  # the local .env itself is at risk
    report = scan_json(run_envsync, repo, "--staged")
    assert {(f["file"], f["rule"]) for f in report["findings"]} == {(".env.production", "env-file"),
                                                                     ("config/staging.env", "env-file")}
    allowed = scan_json(run_envsync, repo, "--staged", "--allow-env-file", "config/*.env",
                        "--allow-env-file", ".env.production")
    # Allowed files are scanned like any other file: the value inside .env.production is still a leak.
    assert findings_of(allowed) == {(".env.production", 1, "env-value", "DB_PASSWORD")}
    by_env = run_envsync("scan", "--staged", "--json", cwd=repo,
                         env={"ENVSYNC_SCAN_ALLOW_ENV_FILE": "config/*.env .env.production"})
    assert findings_of(json.loads(by_env.stdout)) == findings_of(allowed)


def test_a_staged_env_file_still_lends_its_values(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("staged")
    (repo / ".env").write_text(f"STAGED_TOKEN={value}\n")
    (repo / "config.js").write_text(f"const t = '{value}';\n")
    git(repo, "add", "-f", ".env", "config.js")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert {(f["file"], f["rule"], f["key"]) for f in report["findings"]} == {
        (".env", "env-file", None), ("config.js", "env-value", "STAGED_TOKEN")}


@pytest.mark.parametrize("name, refused", [
    (".env", True), (".env.local", True), (".env.production", True), ("config/prod.env", True), (".ENV", True),
    (".env.example", False), (".env.sample", False), ("deploy/.env.template", False), (".envrc", False),
    (".envsync-baseline.json", False), ("environment.yml", False), ("dotenv.py", False),
])
def test_which_files_are_env_files(name, refused):
    assert scan.is_env_file(name, scan.Settings()) is refused


def test_values_come_from_untracked_env_files_and_config_targets(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    local, target, committed = secret("local"), secret("target"), secret("committed")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = "config/dev.vars"\nstore = "file://.envsync/store"\n')
    (repo / "config").mkdir()
    (repo / "config" / "dev.vars").write_text(f"TARGET_TOKEN={target}\n")
    (repo / ".env.local").write_text(f"LOCAL_TOKEN={local}\n")
    (repo / "test.env").write_text(f"COMMITTED_TOKEN={committed}\n")
    (repo / "config" / ".gitignore").write_text("dev.vars\n")
    git(repo, "add", "-f", "test.env")
    commit_all(repo)
    (repo / "leak.txt").write_text(f"{local}\n{target}\n{committed}\n")
    git(repo, "add", "leak.txt")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("leak.txt", 1, "env-value", "LOCAL_TOKEN"),
                                   ("leak.txt", 2, "env-value", "TARGET_TOKEN")}
    assert set(report["values"]["sources"]) == {".env.local", "config/dev.vars"}
    extra = scan_json(run_envsync, repo, "--staged", "--values-from", "test.env")
    assert ("leak.txt", 3, "env-value", "COMMITTED_TOKEN") in findings_of(extra)


def test_values_from_a_store(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("remote")
    (repo / "envsync.toml").write_text('[targets.prod]\nfile = ".env.prod"\nstore = "file://.envsync/store"\n')
    (repo / ".env.prod").write_text(f"REMOTE_TOKEN={value}\n")
    assert run_envsync("push", "-y", cwd=repo).code == 0
    (repo / ".env.prod").unlink()  # only the store knows the value now
    (repo / "app.py").write_text(f"token = '{value}'\n")
    git(repo, "add", "app.py")
    # Without the store only the catch-all rule sees it (a random string assigned to `token`), with no key.
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {("app.py", 1, "secret-assignment", None)}
    report = scan_json(run_envsync, repo, "--staged", "--from-store", "prod", code=1)
    assert report["findings"][0]["source"] == "store:prod"
    assert findings_of(report) == {("app.py", 1, "env-value", "REMOTE_TOKEN")}


def test_committed_template_defaults_are_not_secrets_but_new_pastes_are(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    (repo / ".env.example").write_text("LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN=\n")
    commit_all(repo)
    token = secret("token")
    (repo / ".env").write_text(f"LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN={token}\n")
    (repo / "logging.yaml").write_text("format: JsonLines;v=2\n")
    (repo / ".env.example").write_text(f"LOG_FORMAT=JsonLines;v=2\nAPI_TOKEN={token}\n")
    git(repo, "add", "logging.yaml", ".env.example")
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {(".env.example", 2, "env-value", "API_TOKEN")}
    assert "LOG_FORMAT" in report["values"]["skipped"]["committed default (same key and value in a committed template)"]


def test_unparsable_env_line_is_a_finding_not_a_crash(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / ".env").write_text('BROKEN="unterminated\n')
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 1, result.output  # fails closed: tests/scan_fail_closed_test.py has the details
    assert ".env:1: env-unparsed: .env line 1 is not KEY=value" in result.stdout and "Traceback" not in result.output


# -- allow-lists ------------------------------------------------------------------------------------------------


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


def test_baseline_allows_reviewed_findings_and_holds_no_value(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("demo")
    token = TOKENS["github-token"]()[0]
    (repo / ".env").write_text(f"DEMO_TOKEN={value}\n")
    (repo / "docs.md").write_text(f"intro\nuse {value} for the demo\n")
    (repo / "ci.yml").write_text(f"token: {token}\n")
    commit_all(repo)
    assert run_envsync("scan", "--all", cwd=repo).code == 1
    result = run_envsync("scan", "--all", "--update-baseline", cwd=repo)
    assert result.code == 0, result.output
    baseline = repo / ".envsync-baseline.json"
    text = baseline.read_text()
    data = json.loads(text)
    assert data["version"] == 1 and "about" in data
    assert [(e["file"], e["line"], e["rule"], e["key"]) for e in data["findings"]] == [
        ("ci.yml", 1, "github-token", None), ("docs.md", 2, "env-value", "DEMO_TOKEN")]
    assert [list(e) for e in data["findings"]] == [["file", "line", "rule", "key", "fingerprint"]] * 2
    for secret_text in (value, token):
        assert secret_text not in text
        for digest in (hashlib.sha1, hashlib.sha256, hashlib.md5, hashlib.sha512):
            assert digest(secret_text.encode()).hexdigest()[:16] not in text
    assert run_envsync("scan", "--all", cwd=repo).code == 0
    # Stable: a second update writes the same bytes.
    assert run_envsync("scan", "--all", "--update-baseline", cwd=repo).code == 0
    assert baseline.read_text() == text
    # Matching ignores the line number: moving the line keeps it allowed...
    (repo / "docs.md").write_text(f"new first line\nintro\nuse {value} for the demo\n")
    git(repo, "add", "docs.md")
    report = scan_json(run_envsync, repo, "--staged", code=0)
    assert [(f["file"], f["allowed_by"]) for f in report["allowed"]] == [("docs.md", "baseline")]
    # ...but the same value in another place is a new finding.
    (repo / "README.md").write_text(f"token {value}\n")
    git(repo, "add", "README.md")
    assert findings_of(scan_json(run_envsync, repo, "--staged", code=1)) == {("README.md", 1, "env-value", "DEMO_TOKEN")}
    # A staged-only update keeps the other files' entries.
    assert run_envsync("scan", "--staged", "--update-baseline", cwd=repo).code == 0
    files = [e["file"] for e in json.loads(baseline.read_text())["findings"]]
    assert files == ["README.md", "ci.yml", "docs.md"]


def test_fingerprint_carries_nothing_of_the_value():
    line_a = 'token = "AAAAAAAAAAAAAAAAAAAAAAAA"'
    spans = [(9, 33)]
    masked_a = scan._masked(line_a, 0, len(line_a), spans)
    line_b = 'token = "sv-other-value-0123456789"'
    masked_b = scan._masked(line_b, 0, len(line_b), [(9, len(line_b) - 1)])
    assert masked_a == masked_b == 'token = "\0"'
    assert scan.fingerprint("a.py", "env-value", "K", masked_a) == scan.fingerprint("a.py", "env-value", "K", masked_b)
    # base64 neighbours of a value are masked with it (they carry a few of its bits).
    blob = "x = QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    assert scan._masked(blob, 0, len(blob), [(8, 30)]) == "x = \0"


@pytest.mark.parametrize("content", ["not json", '{"version": 2, "findings": []}', '{"version": 1, "findings": [{"file": 1}]}'])
def test_bad_baseline_is_an_input_error(run_envsync, tmp_path, content):
    repo = init_repo(tmp_path / "repo")
    (repo / ".envsync-baseline.json").write_text(content)
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and ".envsync-baseline.json" in result.stderr, result.output


# -- output formats -----------------------------------------------------------------------------------------------


@pytest.fixture
def leaky_repo(tmp_path: Path, secret) -> Path:
    repo = init_repo(tmp_path / "repo")
    value = secret("api")
    (repo / ".env").write_text(f"API_TOKEN={value}\n")
    (repo / "src").mkdir()
    (repo / "src" / "app, main.py").write_text(f'token = "{value}"\n')  # a comma and a space in the path
    (repo / "b.py").write_text(f"x = 1\nkey = '{TOKENS['aws-access-key-id']()[0]}'\nok = '{value}'  # envsync: allow\n")
    (repo / ".env.local").write_text("X=1\n")
    git(repo, "add", "-f", "src", "b.py", ".env.local")
    return repo


SARIF_SUBSET = {  # the parts of the SARIF 2.1.0 schema GitHub code scanning relies on
    "type": "object", "required": ["version", "runs", "$schema"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"], "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"], "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                    "region": {"type": "object", "required": ["startLine"], "properties": {
                                        "startLine": {"type": "integer", "minimum": 1}}}}}}}}}}}}}}},
}


def test_sarif_output(run_envsync, leaky_repo):
    result = run_envsync("scan", "--staged", "--format", "sarif", cwd=leaky_repo)
    assert result.code == 1
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "envsync"
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) and {"env-value", "env-file", "aws-access-key-id"} <= set(rule_ids)
    for entry in run["results"]:
        assert rule_ids[entry["ruleIndex"]] == entry["ruleId"]
        assert entry["partialFingerprints"]
    by_rule = {r["ruleId"]: r for r in run["results"] if "suppressions" not in r}
    location = by_rule["env-value"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "src/app%2C%20main.py"
    assert location["region"]["startLine"] == 1
    assert by_rule["aws-access-key-id"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert [r["suppressions"][0]["kind"] for r in run["results"] if "suppressions" in r] == ["inSource"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(sarif, SARIF_SUBSET)


def test_github_and_gitlab_output(run_envsync, leaky_repo):
    result = run_envsync("scan", "--staged", "--format", "github", cwd=leaky_repo)
    assert result.code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    pattern = re.compile(r"::error file=[^,:]+(,line=\d+,col=\d+)?,title=envsync [a-z0-9-]+::.+")
    assert len(annotations) == 3 and all(pattern.fullmatch(a) for a in annotations), annotations
    assert "file=src/app%2C main.py,line=1,col=10" in result.stdout
    assert "::error file=.env.local,title=envsync env-file::" in result.stdout
    result = run_envsync("scan", "--staged", "--format", "gitlab", cwd=leaky_repo)
    issues = json.loads(result.stdout)
    assert len(issues) == 3 and len({i["fingerprint"] for i in issues}) == 3
    for issue in issues:
        assert set(issue) >= {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert issue["location"]["path"] and issue["location"]["lines"]["begin"] >= 1


def test_json_output_shape(run_envsync, leaky_repo):
    report = scan_json(run_envsync, leaky_repo, "--staged", code=1)
    assert report["clean"] is False and report["mode"] == "staged"
    finding = next(f for f in report["findings"] if f["rule"] == "env-value")
    assert finding == {"file": "src/app, main.py", "line": 1, "column": 10, "rule": "env-value", "key": "API_TOKEN",
                       "source": ".env", "encoding": "literal", "message": "value of API_TOKEN from .env",
                       "fingerprint": finding["fingerprint"]}
    assert re.fullmatch(r"[0-9a-f]{32}", finding["fingerprint"])


# -- odd files ----------------------------------------------------------------------------------------------------


def test_binary_huge_and_non_utf8_files(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("odd")
    (repo / ".env").write_text(f"ODD_TOKEN={value}\nACCENT_SECRET=sv-{value[3:]}-café\n")
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + value.encode() + b"\x00" * 10)
    (repo / "big.log").write_bytes(b"x" * 3000 + value.encode() + b"\n")
    (repo / "legacy.txt").write_bytes(b"caf\xe9 cr\xe8me\n" + value.encode() + b"\n" + f"sv-{value[3:]}-café".encode("latin-1") + b"\n")
    (repo / "crlf.txt").write_bytes(b"a\r\nb\r\n" + value.encode() + b"\r\n")
    git(repo, "add", "image.png", "big.log", "legacy.txt", "crlf.txt")
    report = scan_json(run_envsync, repo, "--staged", "--max-size", "2k", code=1)
    # Nothing is skipped any more (issue 13): binary content is searched as bytes, big files in pieces.
    assert findings_of(report) == {("legacy.txt", 2, "env-value", "ODD_TOKEN"), ("legacy.txt", 3, "env-value", "ACCENT_SECRET"),
                                   ("crlf.txt", 3, "env-value", "ODD_TOKEN"), ("image.png", 3, "env-value", "ODD_TOKEN"),
                                   ("big.log", 1, "env-value", "ODD_TOKEN")}
    assert report["skipped"] == []
    assert sorted(report["notes"]) == ["big.log: larger than 2 kB; scanned in 1 piece",
                                       "image.png: binary; searched as bytes",
                                       "legacy.txt: not valid UTF-8; scanned as latin-1"]
    assert report["scanned"] == 4
    # The default piece size (5 MB) reads the log whole.
    assert ("big.log", 1, "env-value", "ODD_TOKEN") in findings_of(scan_json(run_envsync, repo, "--staged"))


def test_files_and_folders_on_the_command_line(run_envsync, tmp_path, secret):
    value = secret("cli")
    folder = tmp_path / "plain"  # not a git repo: FILES still work
    (folder / "sub").mkdir(parents=True)
    (folder / ".env").write_text(f"CLI_TOKEN={value}\n")
    (folder / "sub" / "a.txt").write_text(f"{value}\n")
    (folder / "b.txt").write_text("clean\n")
    report = scan_json(run_envsync, folder, "sub", "b.txt", code=1)
    assert findings_of(report) == {("sub/a.txt", 1, "env-value", "CLI_TOKEN")}
    assert run_envsync("scan", "b.txt", cwd=folder).code == 0


# -- exit codes and startup ---------------------------------------------------------------------------------------


def test_exit_codes(run_envsync, tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("exit")
    (repo / ".env").write_text(f"EXIT_TOKEN={value}\n")
    (repo / "clean.txt").write_text("nothing here\n")
    (repo / "leak.txt").write_text(value + "\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    assert run_envsync("scan", "clean.txt", cwd=repo).code == 0
    assert run_envsync("scan", "leak.txt", cwd=repo).code == 1
    assert run_envsync("scan", "--staged", cwd=repo).code == 0  # nothing staged
    cases = [
        (repo, ["scan"], "FILES, --staged or --all"),
        (repo, ["scan", "--all", "leak.txt"], "FILES, --staged or --all"),
        (repo, ["scan", "missing.txt"], "missing.txt: no such file"),
        (outside, ["scan", "--staged"], "not inside a git repository"),
        (outside, ["scan", "--all"], "not inside a git repository"),
        (repo, ["scan", "--staged", "--max-size", "lots"], "--max-size 'lots'"),
        (repo, ["scan", "--staged", "--json", "--format", "sarif"], "--json and --format"),
        (repo, ["scan", "--staged", "--min-length", "0"], "--min-length"),
        (repo, ["scan", "--staged", "--from-store", "prod"], "--from-store prod: no envsync.toml"),
        (repo, ["scan", "--staged", "--values-from", "nope.env"], "--values-from nope.env: file not found"),
    ]
    for cwd, args, message in cases:
        result = run_envsync(*args, cwd=cwd)
        assert result.code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    (repo / "envsync.toml").write_text("[targets.dev\n")
    result = run_envsync("scan", "--staged", cwd=repo)
    assert result.code == 2 and "envsync.toml: invalid TOML" in result.stderr


PROBE = """
import sys
from envsync.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'google', 'azure', 'grpc', 'rich', 'detect_secrets'})
print('IMPORTED', ','.join(heavy), 'EXIT', code)
"""


def test_scan_imports_no_cloud_sdk_nor_rich(tmp_path, secret):
    repo = init_repo(tmp_path / "repo")
    value = secret("probe")
    (repo / "envsync.toml").write_text('[targets.prod]\nfile = ".env"\nstore = "aws-sm://app/prod?region=eu-west-1"\n')
    (repo / ".env").write_text(f"PROBE_TOKEN={value}\n")
    (repo / "a.txt").write_text(value + "\n")
    git(repo, "add", "a.txt")
    proc = subprocess.run([sys.executable, "-c", PROBE, "scan", "--staged"], cwd=repo, capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "NO_COLOR": "1", "HOME": str(tmp_path)})
    assert "IMPORTED  EXIT 1" in proc.stdout, proc.stdout + proc.stderr


# -- units: encodings, value filter, rules, matcher -------------------------------------------------------------


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"user:", b"\x00\xff"])
@pytest.mark.parametrize("suffix", [b"", b"z", b"yz", b"\n"])
def test_base64_needles_find_a_value_at_any_alignment(prefix, suffix):
    value = "sv-align-0123456789ab"
    needles = scan.base64_needles(value.encode())
    blob = base64.b64encode(prefix + value.encode() + suffix).decode()
    assert any(n in blob for n in needles)
    url_blob = base64.urlsafe_b64encode(prefix + value.encode() + suffix).decode()
    assert any(n in url_blob for n in scan.base64_needles(value.encode(), urlsafe=True))


def test_encodings_of_a_value_with_special_characters():
    value = 'p@ss/word+="é???>>>'
    needles = scan.encodings(value)
    assert needles[value] == "literal"
    assert needles["p%40ss%2Fword%2B%3D%22%C3%A9%3F%3F%3F%3E%3E%3E"] == "url-encoded"
    assert needles["p%40ss/word%2B%3D%22%C3%A9%3F%3F%3F%3E%3E%3E"] == "url-encoded"
    assert needles['p@ss/word+=\\"\\u00e9???>>>'] == "json-escaped"
    assert needles['p@ss\\/word+=\\"é???>>>'] == "json-escaped"
    assert "base64url" in needles.values() and "base64" in needles.values()


@pytest.mark.parametrize("value, reason", [
    ("", "empty"), ("abc123", "shorter than the floor"), ("true", "shorter than the floor"),
    ("disabled", "boolean"), ("86400000", "number"), ("1.25e+10", "number"), ("1.4.2-rc1", "number"),
    ("512MB", "shorter than the floor"), ("300000ms", "number"),
    ("localhost:5432", "local or IP address"), ("10.20.30.40:8080", "local or IP address"), ("[::1]:8080", "local or IP address"),
    ("https://api.example.com/v1/", "URL without credentials"), ("redis://localhost:6379/0", "URL without credentials"),
    ("db.internal.example.net", "host name"), ("ops@example.com", "email address"),
    ("your-api-key-here", "placeholder"), ("${DATABASE_URL}", "placeholder"), ("<paste token>", "placeholder"),
    ("xxxxxxxxxxxx", "placeholder"), ("********", "placeholder"), ("changeme123", "placeholder"),
    ("postgres", "common default password"), ("Password123", "common default password"),
    ("aaaaaaaaab", "too few distinct characters"),
    ("inventory-service", "word, name or path"), ("eu-west-1", "word, name or path"), ("europe-west1", "word, name or path"),
    ("/var/lib/inventory/data", "word, name or path"), ("application/json", "word, name or path"),
    ("PRODUCTION_MODE", "word, name or path"), ("correct horse battery staple", "word, name or path"),
])
def test_values_too_short_or_common_are_skipped(value, reason):
    assert scan.skip_reason(value) == reason


@pytest.mark.parametrize("value", [
    "sv-value-a1b2c3d4e5f6", "hunter22-Xy", "S3cr3t-P@ssw0rd!", "9f86d081884c7d659a2feaa0c55ad015",
    "postgres://app:Sup3rS3cret@db/app", "https://hooks.example.com/T0A1B2C3D/9f8e7d6c5b4a39281706",
    "https://api.example.com/v1?api_key=abc123def", "Correct Horse Battery Staple", "AKIAZ7QW3ERT5YUI2OPL",
])
def test_values_that_look_secret_are_kept(value):
    assert scan.skip_reason(value) is None


def test_floor_and_every_value_are_configurable():
    assert scan.skip_reason("hunter2x", scan.Settings(min_length=12)) == "shorter than the floor"
    assert scan.skip_reason("inventory-service", scan.Settings(every_value=True)) is None
    assert scan.url_password("postgres://app:pw-12345678@db/app") == "pw-12345678"
    assert scan.url_password("https://example.com") is None


@pytest.mark.parametrize("generator", sorted(TOKENS))
def test_each_rule_finds_its_format_inside_text(generator):
    text, expected = TOKENS[generator]()
    document = f"prefix line\nconfig = {json.dumps(text) if generator == 'private-key' else text}\n"
    matcher = scan.Matcher([])
    found = {(f.rule, f.line) for f in scan.scan_text("f.txt", document, matcher)}
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
    assert scan.scan_text("f.txt", text + "\n", scan.Matcher([])) == []


@pytest.mark.parametrize("token, placeholder", [
    ("ghp_" + "x" * 36, True), ("abcdefghij", True), ("Q7sK2pW9xZ4mR8tV", False), ("your-token-0000", True),
    ("aB3dE5gH7jK9mN1p", False), ("1111119999", True), ("EXAMPLEKEY123456", True),
])
def test_placeholder_detection(token, placeholder):
    assert looks_like_placeholder(token) is placeholder


def test_matcher_reports_every_occurrence_of_every_pattern():
    values = [scan.Value("A", "sv-aaaa-1234", ".env"), scan.Value("B", "sv-aaaa-1234-more", ".env"),
              scan.Value("C", "X9!zz", ".env")]
    matcher = scan.Matcher(values, rules=[])
    text = "sv-aaaa-1234-more sv-aaaa-1234 X9!zz"
    found = sorted((start, pattern) for start, pattern, _ in matcher.find(text))
    assert (0, "sv-aaaa-1234-more") in found and (0, "sv-aaaa-1234") in found
    assert (18, "sv-aaaa-1234") in found and (31, "X9!zz") in found
    findings = scan.scan_text("f", text, matcher)
    assert [(f.column, f.key) for f in findings] == [(1, "B"), (19, "A"), (32, "C")]  # a value inside a longer one is one leak


def test_anchor_starts_at_the_rarest_character():
    assert scan.anchor_of("aaaaQbbbb") == (4, "Qbbb")
    assert scan.anchor_of("aaaaaaaQb") == (0, "aaaa")  # the anchor must fit in the pattern
    assert scan.anchor_of("secret_access_key", 8) == (6, "_access_")
    assert scan.anchor_of("eyJ", 8) == (0, "eyJ")
    assert scan.anchor_of("sécret-value") == (1, "écre")  # non-ASCII counts as rarest


def test_parse_size():
    assert scan.parse_size("5MB") == 5 * 1024 * 1024
    assert scan.parse_size("512k") == 512 * 1024
    assert scan.parse_size("1024") == 1024
    for text in ("five", "1000", "0"):  # below 1 KiB the pieces of a big file would be mostly overlap
        with pytest.raises(Exception):
            scan.parse_size(text)
