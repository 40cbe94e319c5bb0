"""Issue 11 items 1 and 9, end to end through the installed `envsync`: a store is data.

A teammate who can write the dev store must not be able to stop GitHub's log masking,
split an exported line in two, or restyle what EnvSync prints; on GitHub every value of
a run is masked before anything else is printed, JSON fields included.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import ENVSYNC, MASK

HOSTILE_KEY = "X\n::stop-commands::pwn\nY"
ESCAPED_KEY = "X\\n::stop-commands::pwn\\nY"


def two_targets(tmp_path: Path, secret, *, dev_layout: str = "bundle") -> dict[str, str]:
    """dev and prod, each a file store holding one value; returns the values."""
    layout = "" if dev_layout == "bundle" else f"?layout={dev_layout}"
    (tmp_path / "envsync.toml").write_text(
        f'[targets.dev]\nfile = ".env"\nstore = "file://{tmp_path}/stores/dev{layout}"\n\n'
        f'[targets.prod]\nfile = ".env.prod"\nstore = "file://{tmp_path}/stores/prod"\n')
    values = {"dev": secret("dev"), "prod": secret("prod")}
    return values


def push(run_envsync, tmp_path: Path, target: str, text: str) -> None:
    file = tmp_path / (".env" if target == "dev" else ".env.prod")
    file.write_text(text)
    result = run_envsync("push", target, "--yes", env={"ENVSYNC_CI": "local"})
    assert result.code == 0, result.output
    file.unlink()
    (tmp_path / ".envsync" / "state.json").unlink(missing_ok=True)


def plant_bundle_key(store: Path, key: str, value: str = "1") -> None:
    """What another tool (or a hostile teammate) can put in a bundle: any JSON key."""
    folder = store / "bundle"
    latest = max(int(p.stem) for p in folder.glob("*.json"))
    document = json.loads((folder / f"{latest:08d}.json").read_text())
    document["values"][key] = value
    (folder / f"{latest + 1:08d}.json").write_text(json.dumps(document))


def merged_output(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """stdout and stderr as one stream, in the order the runner's log gets them."""
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("ENVSYNC_", "AWS_", "GITHUB_", "GITLAB_", "ACTIONS_", "CI_"))}
    full.update({"NO_COLOR": "1", "COLUMNS": "200", **env})
    proc = subprocess.run([ENVSYNC, *args], cwd=cwd, env=full, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)
    return proc.returncode, proc.stdout


def assert_one_escaped_error(result, store: str) -> None:
    assert result.code == 3, result.output
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.startswith(MASK)]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("envsync: error: ") and store in errors[0] and ESCAPED_KEY in errors[0]
    assert not any(line.startswith("::") and not line.startswith(MASK) for line in result.stderr.splitlines())


# -- item 1: key names from a store -------------------------------------------------


def test_hostile_bundle_key_stops_plan_all_on_github(run_envsync, tmp_path, secret, leak_watch):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    push(run_envsync, tmp_path, "prod", f"TOKEN={values['prod']}\n")
    plant_bundle_key(tmp_path / "stores" / "dev", HOSTILE_KEY)

    result = run_envsync("plan", "--all", env={"GITHUB_ACTIONS": "true"})
    assert_one_escaped_error(result, "stores/dev")
    assert not (tmp_path / ".envsync" / "state.json").exists()


def test_hostile_bundle_key_stops_pull_and_writes_nothing(run_envsync, tmp_path, secret):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    plant_bundle_key(tmp_path / "stores" / "dev", "X\nLD_PRELOAD", "/tmp/evil.so")
    (tmp_path / ".env").write_text("KEEP=me\n")

    result = run_envsync("pull", "dev", "--yes", env={"ENVSYNC_CI": "local"})
    assert result.code == 3, result.output
    assert "X\\nLD_PRELOAD" in result.stderr and len(result.stderr.splitlines()) == 1
    assert (tmp_path / ".env").read_text() == "KEEP=me\n"
    assert not (tmp_path / ".envsync" / "state.json").exists()


def test_hostile_bundle_key_stops_export(run_envsync, tmp_path, secret):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    plant_bundle_key(tmp_path / "stores" / "dev", "X\nLD_PRELOAD", "/tmp/evil.so")

    result = run_envsync("export", "dev", "-f", "dotenv", "-o", "out.env", env={"ENVSYNC_CI": "local"})
    assert result.code == 3, result.output
    assert "X\\nLD_PRELOAD" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out.env").exists()
    piped = run_envsync("export", "dev", "-f", "dotenv", env={"ENVSYNC_CI": "local"}, reveals=True)
    assert piped.code == 3 and piped.stdout == ""


def test_hostile_per_key_name_stops_check(run_envsync, tmp_path, secret):
    values = two_targets(tmp_path, secret, dev_layout="per-key")
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    keys = tmp_path / "stores" / "dev" / "keys"
    (keys / HOSTILE_KEY).mkdir()
    (keys / HOSTILE_KEY / "00000001.json").write_text(json.dumps({"envsync": 1, "value": "1"}))

    result = run_envsync("check", "--all", env={"GITHUB_ACTIONS": "true"})
    assert_one_escaped_error(result, "stores/dev")


# -- item 1: every string from a store or config is escaped -----------------------


def test_history_escapes_authors_and_versions(run_envsync, tmp_path, secret):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    plant_bundle_key(tmp_path / "stores" / "dev", "OTHER")
    latest = max((tmp_path / "stores" / "dev" / "bundle").glob("*.json"))
    document = json.loads(latest.read_text())
    document["author"] = "mallory\n::stop-commands::x\x1b]8;;https://evil.example\x07\u202e"
    latest.write_text(json.dumps(document))

    result = run_envsync("history", "dev", env={"GITHUB_ACTIONS": "true"})
    assert result.code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "\x07" not in result.stdout
    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    assert "mallory\\n::stop-commands::x\\x1b]8;;https://evil.example\\x07\\u202e" in result.stdout


def test_config_strings_with_bidi_or_c1_controls_are_refused(run_envsync, tmp_path):
    # A bidi override or a C1 CSI (U+009B) in a committed TOML file would reorder or restyle
    # the terminal or the job log where the path is shown as written: the config refuses it.
    (tmp_path / "envsync.toml").write_text(
        f'[targets.dev]\nfile = ".env\\u202egnp.\\u009b2J"\nstore = "file://{tmp_path}/store"\n')
    for args in (("plan",), ("targets",)):
        result = run_envsync(*args, env={"GITHUB_ACTIONS": "true"})
        assert result.code == 2, result.output
        assert "\u202e" not in result.output and "\x9b" not in result.output
        assert "targets.dev.file: contains a control character" in result.output


# -- item 1: on GitHub, every mask of the run first -------------------------------


def assert_masks_first(output: str, values: list[str]) -> None:
    lines = output.splitlines()
    first_other = next(i for i, line in enumerate(lines) if not line.startswith(MASK))
    masks = [line[len(MASK):] for line in lines[:first_other]]
    assert set(values) <= set(masks), "a value was masked after other output"
    assert not any(line.startswith(MASK) for line in lines[first_other:]), "a mask after other output"


def test_plan_all_masks_every_target_before_printing(run_envsync, tmp_path, secret, leak_watch):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    push(run_envsync, tmp_path, "prod", f"TOKEN={values['prod']}\n")
    (tmp_path / ".env").write_text(f"TOKEN={secret('dev-local')}\n")

    code, output = merged_output(["plan", "--all"], tmp_path, {"GITHUB_ACTIONS": "true"})
    assert code == 1, output
    assert_masks_first(output, list(leak_watch.values))
    assert "dev: .env" in output and "prod: .env.prod" in output


def test_check_all_masks_every_target_before_annotating(run_envsync, tmp_path, secret, leak_watch):
    values = two_targets(tmp_path, secret)
    push(run_envsync, tmp_path, "dev", f"TOKEN={values['dev']}\n")
    push(run_envsync, tmp_path, "prod", f"TOKEN={values['prod']}\n")
    (tmp_path / ".env").write_text(f"TOKEN={secret('dev-local')}\n")
    (tmp_path / ".env.prod").write_text(f"TOKEN={secret('prod-local')}\n")

    code, output = merged_output(["check", "--all"], tmp_path, {"GITHUB_ACTIONS": "true"})
    assert code == 1, output
    assert_masks_first(output, list(leak_watch.values))
    assert "::error file=.env,line=1" in output


# -- item 9: JSON values are masked field by field ---------------------------------


def test_json_value_leaves_are_masked_on_github(run_envsync, tmp_path, secret):
    password, user = secret("pw"), "app-user"
    (tmp_path / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "file://{tmp_path}/store"\n')
    value = json.dumps({"user": user, "db": {"password": password, "port": 5432, "tls": True}, "hosts": ["db1.internal"]})
    (tmp_path / ".env").write_text(f"CREDS='{value}'\n")

    code, output = merged_output(["plan"], tmp_path, {"GITHUB_ACTIONS": "true"})
    assert code == 1, output
    masks = {line[len(MASK):] for line in output.splitlines() if line.startswith(MASK)}
    assert {value, password, user, "db1.internal"} <= masks
    assert "5432" not in masks and "true" not in masks
