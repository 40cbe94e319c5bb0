"""`envsync init`: envsync.toml with one target, and the .gitignore lines (added once)."""
from __future__ import annotations


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
