"""Bad input: each case is a one-line error naming the file/line/key, exit 2,
and nothing changed locally or in the store."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

GOOD_CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://store"\n'


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path, run_envsync):
    """A project already pushed once, so the store has content to protect."""
    (tmp_path / "envsync.toml").write_text(GOOD_CONFIG)
    (tmp_path / ".env").write_text("GOOD=1\n")
    assert run_envsync("push", "-y").code == 0
    return tmp_path


ENV_CASES = {
    "unterminated-quote": (b'A=1\nB="never closed\n', ".env line 2: unterminated quoted value"),
    "missing-key": (b"A=1\n=orphan\n", ".env line 2: missing key name"),
    "invalid-key-digit": (b"1ABC=x\n", ".env line 1: invalid key name"),
    "invalid-key-quoted-space": (b"'a b'=x\n", ".env line 1: invalid key name"),
    "nul-byte": (b"A=1\nB=\x00\n", ".env line 2: NUL byte"),
    "invalid-utf8": (b"A=1\nB=caf\xe9\n", ".env line 2: not valid UTF-8"),
    "binary": (bytes(range(256)), ".env line 1: NUL byte"),
}


@pytest.mark.parametrize("command", [("push", "-y"), ("sync", "-y"), ("plan",), ("check",)])
@pytest.mark.parametrize("case", ENV_CASES)
def test_malformed_env_is_refused(run_envsync, project, case, command):
    content, message = ENV_CASES[case]
    (project / ".env").write_bytes(content)
    before = tree_digest(project)
    result = run_envsync(*command)
    assert result.code == 2, result.output
    assert result.stderr.startswith(f"envsync: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert tree_digest(project) == before


def test_env_that_is_a_directory(run_envsync, project):
    (project / ".env").unlink()
    (project / ".env").mkdir()
    result = run_envsync("push", "-y")
    assert result.code == 2 and "is a directory" in result.stderr


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
    before = tree_digest(tmp_path)
    result = run_envsync("push", "-y")
    assert result.code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert tree_digest(tmp_path) == before


def test_no_config_says_how_to_make_one(run_envsync, tmp_path):
    result = run_envsync("plan")
    assert result.code == 2 and "envsync init" in result.stderr


def test_pyproject_config_errors_name_the_table(run_envsync, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.envsync.targets.dev]\nfile = ".env"\nstore = "file://s"\nx = 1\n')
    (tmp_path / ".env").write_text("A=1\n")
    result = run_envsync("plan")
    assert result.code == 2 and "pyproject.toml: tool.envsync.targets.dev: unknown key 'x'" in result.stderr


def test_usage_errors_exit_2(run_envsync, project):
    assert run_envsync("push", "--on-conflict", "maybe").code == 2
    assert run_envsync("run").code == 2
    assert run_envsync("no-such-command").code == 2


def test_a_pasted_token_line_is_named_not_quoted(run_envsync, project, secret):
    """A token pasted on its own line (or `KEY:value`) reads as an invalid key; the error
    names the file and line and shows none of it (DESIGN.md trust rule 5)."""
    token = secret("pasted")
    for text in (f"GOOD=1\n{token}/+x==\n", f"GOOD=1\nAPI_KEY:{token}\n"):
        (project / ".env").write_text(text)
        before = tree_digest(project)
        result = run_envsync("push", "-y", cwd=project)
        assert result.code == 2
        assert result.stderr.startswith("envsync: error: .env line 2: invalid key name —"), result.stderr
        assert token[:8] not in result.output
        assert tree_digest(project) == before
