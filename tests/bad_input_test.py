"""Bad input: a user's own mistakes (a malformed `.env`, a typo in the config, a wrong
argument) are each a one-line error naming the file/line/key, exit 2, and nothing changed
locally or in the store. Inputs an attacker writes (a store's content, a pull request's
config) are tests/reliability/hostile_test.py's.

tests/corpus/bad_input/env/ holds the byte-exact `.env` inputs, `expected-env.json` the
message of each.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsync import dotenv_file
from envsync.errors import InputError
from tests.folder_digest import folder_digest

CORPUS = Path(__file__).resolve().parent / "corpus" / "bad_input"
ENV_EXPECTED: dict[str, str] = json.loads((CORPUS / "expected-env.json").read_text(encoding="utf-8"))
GOOD_CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://store"\n'


@pytest.fixture
def project(tmp_path: Path, run_envsync, secret):
    """A project already pushed once, so the store has content to protect; its value is a
    `secret`, so a refusal that printed the store's content fails the leak watch."""
    (tmp_path / "envsync.toml").write_text(GOOD_CONFIG)
    (tmp_path / ".env").write_text(f"GOOD={secret('good')}\n")
    assert run_envsync("push", "-y").code == 0
    return tmp_path


def assert_one_line_error(result, message: str) -> None:
    assert result.code == 2, result.output
    assert result.stderr.startswith(f"envsync: error: {message}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- a malformed .env ---------------------------------------------------------------

COMMANDS = [("push", "-y"), ("pull", "-y"), ("sync", "-y"), ("plan",), ("check",)]


@pytest.mark.parametrize("name", sorted(ENV_EXPECTED))
def test_malformed_env_is_refused_by_every_command(run_envsync, project, name):
    (project / ".env").write_bytes((CORPUS / "env" / name).read_bytes())
    before = folder_digest(project)
    for command in COMMANDS:
        assert_one_line_error(run_envsync(*command), ENV_EXPECTED[name])
        assert folder_digest(project) == before, command


def test_malformed_env_parser_agrees():
    """The reader itself (no CLI): each corpus file is an InputError naming its line."""
    for name, message in ENV_EXPECTED.items():
        with pytest.raises(InputError) as raised:
            dotenv_file.load(CORPUS / "env" / name, ".env")
        assert str(raised.value).startswith(message), name


@pytest.mark.parametrize("command", [("push", "-y"), ("pull", "-y"), ("sync", "-y"), ("check",),
                                     ("export", "--from", "local")])
def test_env_that_is_a_directory(run_envsync, project, command):
    (project / ".env").unlink()
    (project / ".env").mkdir()
    before = folder_digest(project)
    assert_one_line_error(run_envsync(*command), ".env: is a directory")
    assert folder_digest(project) == before


def test_missing_env_for_push(run_envsync, project):
    (project / ".env").unlink()
    result = run_envsync("push", "-y")
    assert result.code == 2 and ".env: file not found" in result.stderr


CONFIG_CASES = {
    "broken-toml": ('[targets.dev\nfile=".env"', "envsync.toml: invalid TOML"),
    "unknown-key": ('[targets.dev]\nfile = ".env"\nstore = "file://s"\nfil = "x"\n',
                    "targets.dev: unknown key 'fil'"),
    "missing-store": ('[targets.dev]\nfile = ".env"\n', "targets.dev: missing `store`"),
    "no-targets": ("[other]\n", "envsync.toml: unknown key 'other'"),
    "empty": ("", "envsync.toml: no targets"),
    "bad-layout": ('[targets.dev]\nfile = ".env"\nstore = "file://s"\nlayout = "flat"\n',
                   "targets.dev.layout: must be one of"),
    "unknown-scheme": ('[targets.dev]\nfile = ".env"\nstore = "vault://x"\n', "unknown store scheme 'vault'"),
    "not-a-uri": ('[targets.dev]\nfile = ".env"\nstore = "just-a-path"\n', "is not a store URI"),
    "unknown-option": ('[targets.dev]\nfile = ".env"\nstore = "file://s?colour=red"\n', "unknown option 'colour'"),
    "layout-disagrees": ('[targets.dev]\nfile = ".env"\nstore = "file://s?layout=per-key"\nlayout = "bundle"\n',
                         "disagrees with layout=per-key"),
    "expand-not-bool": ('[targets.dev]\nfile = ".env"\nstore = "file://s"\nexpand = "yes"\n',
                        "targets.dev.expand: must be true or false"),
    "bad-auth-key": ('[targets.dev]\nfile = ".env"\nstore = "file://s"\n[targets.dev.auth]\naws_role = "x"\n',
                     "targets.dev.auth: unknown key 'aws_role'"),
}


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_bad_config_is_refused(run_envsync, tmp_path, case):
    text, message = CONFIG_CASES[case]
    (tmp_path / "envsync.toml").write_text(text)
    (tmp_path / ".env").write_text("A=1\n")
    before = folder_digest(tmp_path)
    result = run_envsync("push", "-y")
    assert result.code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert folder_digest(tmp_path) == before


def test_no_config_says_how_to_make_one(run_envsync, tmp_path):
    result = run_envsync("plan")
    assert result.code == 2 and "envsync init" in result.stderr


def test_config_option_pointing_at_a_folder(run_envsync, tmp_path):
    (tmp_path / "conf").mkdir()
    result = run_envsync("-c", "conf", "plan")
    assert result.code == 2 and "is a directory" in result.stderr


@pytest.mark.parametrize("config_option, text, message", [
    ((), '[tool.envsync.targets.dev]\nfile = ".env"\nstore = "file://s"\nx = 1\n',
     "pyproject.toml: tool.envsync.targets.dev: unknown key 'x'"),
    (("-c", "pyproject.toml"), "[tool]\nenvsync = 1\n", "pyproject.toml: tool.envsync must be a table"),
    (("-c", "pyproject.toml"), "[tool.envsync]\ntargets = 'dev'\n", "pyproject.toml: no targets"),
], ids=["found-unknown-key", "named-tool-envsync-not-a-table", "named-targets-not-a-table"])
def test_pyproject_config_errors_name_the_table(run_envsync, tmp_path, config_option, text, message):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / ".env").write_text("A=1\n")
    assert_one_line_error(run_envsync(*config_option, "push", "-y"), message)


def test_usage_errors_exit_2(run_envsync, project):
    assert run_envsync("push", "--on-conflict", "maybe").code == 2
    assert run_envsync("run").code == 2
    assert run_envsync("no-such-command").code == 2


def test_a_pasted_token_line_is_named_not_quoted(run_envsync, project, secret):
    """A token pasted on its own line (or `KEY:value`) reads as an invalid key; the error
    names the file and line and shows none of it (SECURITY.md, "What EnvSync defends against" 2)."""
    token = secret("pasted")
    for text in (f"GOOD=1\n{token}/+x==\n", f"GOOD=1\nAPI_KEY:{token}\n"):
        (project / ".env").write_text(text)
        before = folder_digest(project)
        result = run_envsync("push", "-y", cwd=project)
        assert result.code == 2
        assert result.stderr.startswith("envsync: error: .env line 2: invalid key name —"), result.stderr
        assert token[:8] not in result.output
        assert folder_digest(project) == before
