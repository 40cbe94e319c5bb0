"""`envsync schema`: .env -> .env.example with keys and comments, no values, defaults only where
marked, comments that could hold a value left out; an existing example updated, not rewritten."""
from __future__ import annotations

from pathlib import Path

import pytest

from envsync import dotenv_file
from envsync.commands.schema import render


def doc(text: str, name: str = ".env") -> dotenv_file.DotenvDocument:
    return dotenv_file.parse(text, name)


@pytest.mark.parametrize("env, expected", [
    ("A=1\nB=2\n", "A=\nB=\n"),
    ("# the database\nDB=postgres://x\n\n# api\nexport TOKEN='a b'\n", "# the database\nDB=\n\n# api\nexport TOKEN=\n"),
    ("LEVEL=info  # envsync: default\nSECRET=s3cr3t-value\n", "LEVEL=info  # envsync: default\nSECRET=\n"),
    ("BARE\nMULTI=\"l1\nl2\"\n", "BARE\nMULTI=\n"),
    ("A=1\n# trailing note\n", "A=\n# trailing note\n"),
])
def test_keys_and_comments_in_order_without_values(env, expected):
    assert render(doc(env), None).text == expected


def test_comments_that_could_hold_a_value_are_left_out(secret):
    password = secret("pw")
    env = (f"# how to connect\nDB=postgres://app:{password}@db/app\n# old: DB=postgres://app:other@db/app\n"
           f"# the password is {password}\nAPI=x\n")
    result = render(doc(env), None)
    assert result.text == "# how to connect\nDB=\nAPI=\n"
    assert result.left_out == [3, 4]


def test_an_existing_example_keeps_its_lines_and_gains_new_keys():
    existing = doc("# reviewed\nA=default-a\nGONE=\n", ".env.example")
    result = render(doc("A=1\n# new one\nB=2\nC=3  # envsync: default\n"), existing)
    assert result.text == "# reviewed\nA=default-a\nGONE=\n# new one\nB=\nC=3  # envsync: default\n"
    assert result.added == ["B", "C"] and result.kept == ["GONE"]


def write_project(folder: Path, env: str, schema: bool = True) -> None:
    lines = ["[targets.dev]", 'file = ".env"', 'store = "file://.envsync/store"']
    if schema:
        lines.append('schema = "config/.env.example"')
        (folder / "config").mkdir()
    (folder / "envsync.toml").write_text("\n".join(lines) + "\n")
    (folder / ".env").write_text(env)


def test_cli_writes_the_targets_schema_and_check_reports_drift(run_envsync, tmp_path, secret, leak_watch):
    token = secret("token")
    write_project(tmp_path, f"# api\nAPI_TOKEN={token}\nLOG_LEVEL=info # envsync: default\n")
    example = tmp_path / "config" / ".env.example"
    leak_watch.files.append(example)
    assert run_envsync("schema", "--check", cwd=tmp_path).code == 1
    written = run_envsync("schema", cwd=tmp_path)
    assert written.code == 0, written.output
    assert example.read_text() == "# api\nAPI_TOKEN=\nLOG_LEVEL=info # envsync: default\n"
    assert oct(example.stat().st_mode & 0o777) == "0o644"
    assert run_envsync("schema", "--check", cwd=tmp_path).code == 0
    # the example is what `check --offline` and `push --from-schema` read
    assert run_envsync("check", "--offline", cwd=tmp_path).code == 0
    with (tmp_path / ".env").open("a") as handle:
        handle.write(f"NEW={secret('new')}\n")
    assert run_envsync("schema", "--check", cwd=tmp_path).code == 1
    assert run_envsync("schema", cwd=tmp_path).code == 0
    assert example.read_text().endswith("NEW=\n")


def test_cli_without_a_schema_writes_env_example_next_to_the_file(run_envsync, tmp_path, secret):
    write_project(tmp_path, f"A={secret()}\n", schema=False)
    result = run_envsync("schema", cwd=tmp_path)
    assert result.code == 0 and 'schema = ".env.example"' in result.stdout
    assert (tmp_path / ".env.example").read_text() == "A=\n"


def test_cli_without_env_exits_2(run_envsync, tmp_path):
    write_project(tmp_path, "")
    (tmp_path / ".env").unlink()
    result = run_envsync("schema", cwd=tmp_path)
    assert result.code == 2 and "file not found" in result.stderr
