"""envsync.scan.run: a whole scan through the real CLI — recall and false positives on the corpus, staged
content, [scan] skip, unreadable files, exit codes, start-up imports."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from envsync.scan.rules import RULES
from envsync.scan.values import encodings
from tests.scan.repos import commit_all, findings_of, git, init_repo, scan_json
from tests.scan.tokens import telegram_token


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
        for needle in encodings(value):
            assert needle not in everything, f"{key} shown"
    assert len(leak_watch.values) > 20  # the fixture checks every output against these after the test


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


def test_skip_does_not_hide_env_files(run_envsync, tmp_path):
    repo = init_repo(tmp_path / "repo")
    (repo / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://vendor/store"\n'
                                       '\n[scan]\nskip = ["vendor/*"]\n')
    for name, text in (("vendor/lib/.env", "X=1\n"), ("vendor/store/dev/bundle/00000001.json", '{"values": {}}\n'),
                       ("vendor/lib/token.js", f"t = '{telegram_token()}'\n")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
        git(repo, "add", "-f", name)
    report = scan_json(run_envsync, repo, "--staged", code=1)
    assert findings_of(report) == {("vendor/lib/.env", None, "env-file", None),
                                   ("vendor/store/dev/bundle/00000001.json", None, "env-file", None)}
    assert report["scanned"] == 0  # skip still turns off content scanning (token.js)


def test_a_file_that_cannot_be_read_fails_the_run_unless_allowed(run_envsync, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    (folder / "a.txt").write_text("clean\n")
    report = scan_json(run_envsync, folder, ".", code=1)
    assert findings_of(report) == {("pipe", None, "unscanned", None)}
    allowed = scan_json(run_envsync, folder, ".", "--allow-unscanned", code=0)
    assert allowed["skipped"] == [{"file": "pipe", "reason": "not a regular file"}]


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
# what a hook run does not use: python-dotenv's package (it needs the parser only; the package imports
# logging), the exporters, did-you-mean suggestions
unused = sorted(set(sys.modules) & {'dotenv.main', 'logging', 'envsync.export', 'difflib'})
print('IMPORTED', ','.join(heavy + unused), 'EXIT', code)
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
