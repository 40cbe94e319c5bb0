"""`envsync init`: envsync.toml with one target, and the .gitignore lines (added once)."""
from __future__ import annotations

import pytest

from envsync.commands.init import GITIGNORE_LINES, config_text, gitignore_text


def test_init_writes_config_and_gitignore(run_envsync, tmp_path):
    (tmp_path / ".gitignore").write_text("node_modules/")  # no final newline
    (tmp_path / ".env.example").write_text("API_KEY=\n")
    result = run_envsync("init")
    assert result.code == 0, result.output
    config = (tmp_path / "envsync.toml").read_text()
    assert 'file = ".env"' in config and 'schema = ".env.example"' in config
    ignore = (tmp_path / ".gitignore").read_text().splitlines()
    assert ignore[0] == "node_modules/"
    assert {".env*", "!.env.example", ".envsync/"} <= set(ignore)

    again = run_envsync("init")
    assert again.code == 2 and "already exists" in again.stderr
    assert run_envsync("init", "--force").code == 0
    assert (tmp_path / ".gitignore").read_text().count(".envsync/") == 1


@pytest.mark.parametrize("existing, expected, added", [
    ("", "# EnvSync: local secrets and sync state stay out of git\n" + "\n".join(GITIGNORE_LINES) + "\n",
     GITIGNORE_LINES),
    ("node_modules/", "node_modules/\n\n# EnvSync: local secrets and sync state stay out of git\n"
     + "\n".join(GITIGNORE_LINES) + "\n", GITIGNORE_LINES),
    ("\n".join(GITIGNORE_LINES[:-1]) + "\n", "\n".join(GITIGNORE_LINES[:-1]) + "\n\n"
     "# EnvSync: local secrets and sync state stay out of git\n.envsync/\n", [".envsync/"]),
    ("  .env*  \n" + "\n".join(GITIGNORE_LINES[1:]) + "\n", "  .env*  \n" + "\n".join(GITIGNORE_LINES[1:]) + "\n",
     []),
])
def test_gitignore_text_adds_only_the_missing_lines(existing, expected, added):
    assert gitignore_text(existing) == (expected, added)


def test_config_text_names_the_schema_only_when_there_is_one():
    assert 'schema = ".env.example"' in config_text("dev", ".env", "file://s", True)
    text = config_text("prod", ".env.prod", "aws-sm://x", False)
    assert '[targets.prod]\nfile = ".env.prod"\nstore = "aws-sm://x"\n' in text and "schema" not in text
