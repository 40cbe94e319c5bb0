from __future__ import annotations

from pathlib import Path

import pytest

from envsync import config
from envsync.errors import InputError


def test_finds_envsync_toml_upwards(tmp_path: Path):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://s"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    loaded = config.load(start=nested)
    assert loaded.path == (tmp_path / "envsync.toml").resolve()
    target = loaded.targets["dev"]
    assert target.file == loaded.root / ".env" and target.display_file() == ".env"


def test_pyproject_table(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.envsync.targets.prod]\nfile = ".env.prod"\n'
        'store = "file://s"\nschema = ".env.example"\nlayout = "per-key"\nexpand = true\n'
        '[tool.envsync.targets.prod.auth]\naws_role_arn = "arn:aws:iam::1:role/r"\n'
    )
    target = config.load(start=tmp_path).targets["prod"]
    assert (target.layout, target.expand, target.display_schema()) == ("per-key", True, ".env.example")
    assert target.auth == {"aws_role_arn": "arn:aws:iam::1:role/r"}


def test_pyproject_without_table_is_skipped(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert config.find(tmp_path) is None


@pytest.mark.parametrize("names, all_targets, expected", [
    ((), False, ["only"]),
    (("only",), False, ["only"]),
    ((), True, ["only"]),
])
def test_select_single(tmp_path: Path, names, all_targets, expected):
    (tmp_path / "envsync.toml").write_text('[targets.only]\nfile = ".env"\nstore = "file://s"\n')
    selected = config.load(start=tmp_path).select(names, all_targets)
    assert [t.name for t in selected] == expected


def test_select_errors(tmp_path: Path):
    (tmp_path / "envsync.toml").write_text(
        '[targets.dev]\nfile = ".env"\nstore = "file://s"\n[targets.prod]\nfile = ".env"\nstore = "file://p"\n')
    loaded = config.load(start=tmp_path)
    with pytest.raises(InputError, match="defines 2 targets"):
        loaded.select(())
    with pytest.raises(InputError, match="not both"):
        loaded.select(("dev",), all_targets=True)
    with pytest.raises(InputError, match="did you mean 'prod'"):
        loaded.select(("prd",))


@pytest.mark.parametrize("name", ["has space", "-leading", "ümlaut"])
def test_invalid_target_names(tmp_path: Path, name):
    (tmp_path / "envsync.toml").write_text(f'[targets."{name}"]\nfile = ".env"\nstore = "file://s"\n')
    with pytest.raises(InputError, match="invalid target name"):
        config.load(start=tmp_path)


@pytest.mark.parametrize("char", ["\x00", "\n", "\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u200f", "\u2028",
                                  "\u2029"])
def test_control_bidi_and_separator_characters_in_a_path_are_refused(tmp_path: Path, char: str):
    escaped = f"\\u{ord(char):04x}"  # TOML's escape: the file itself stays plain
    (tmp_path / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env{escaped}x"\nstore = "file://s"\n')
    with pytest.raises(InputError, match=r"targets\.dev\.file: contains a control character") as caught:
        config.load(start=tmp_path)
    assert caught.value.exit_code == 2
