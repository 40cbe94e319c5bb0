"""What a person at a terminal sees: prompts, `--on-conflict ask`, rich tables, no values."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from tests.conftest import ENVSYNC


def run_in_terminal(args: list[str], cwd: Path, answers: list[tuple[str, str]] = (), timeout: float = 30,
                    extra_env: dict[str, str] | None = None):
    """Run envsync on a pseudo-terminal; answer each prompt (text it waits for, reply)."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVSYNC_")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"})
    env.pop("NO_COLOR", None)
    env.update(extra_env or {})
    proc = subprocess.Popen([ENVSYNC, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env,
                            close_fds=True)
    os.close(slave)
    screen, pending, deadline = b"", list(answers), time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        if pending and pending[0][0].encode() in screen:
            os.write(master, pending.pop(0)[1].encode() + b"\r")
            screen += b"<answered>"
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=5)
    os.close(master)
    return proc.returncode, screen.decode(errors="replace")


def setup_conflict(tmp_path: Path, secret) -> tuple[Path, dict[str, str]]:
    store = tmp_path / "store"
    values = {name: secret(name) for name in ("base", "mine", "theirs")}
    for who in ("me", "them"):
        folder = tmp_path / who
        folder.mkdir()
        (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "file://{store}"\n')
    me, them = tmp_path / "me", tmp_path / "them"
    (me / ".env").write_text(f"TOKEN={values['base']}\nPLAIN=1\n")
    assert run_in_terminal(["push", "--yes"], me)[0] == 0
    assert run_in_terminal(["pull", "--yes"], them)[0] == 0
    (them / ".env").write_text(f"TOKEN={values['theirs']}\nPLAIN=1\n")
    assert run_in_terminal(["push", "--yes"], them)[0] == 0
    (me / ".env").write_text(f"TOKEN={values['mine']}\nPLAIN=2\n")
    return me, values


def test_confirmation_prompt_applies_only_on_yes(tmp_path: Path, secret, leak_watch):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://store"\n')
    (tmp_path / ".env").write_text(f"A={secret()}\n")
    code, screen = run_in_terminal(["push"], tmp_path, [("Apply to dev", "n")])
    leak_watch.check("terminal", screen)
    assert code == 1 and "nothing applied" in screen and not (tmp_path / "store").exists()
    code, screen = run_in_terminal(["push"], tmp_path, [("Apply to dev", "y")])
    leak_watch.check("terminal", screen)
    assert code == 0 and "pushed 1" in screen


def test_ask_prompts_per_conflict_with_masked_values(tmp_path: Path, secret, leak_watch):
    me, values = setup_conflict(tmp_path, secret)
    code, screen = run_in_terminal(["sync", "--on-conflict", "ask"], me,
                                   [("keep [l]ocal", "l"), ("Apply to dev", "y")])
    leak_watch.check("terminal", screen)
    assert code == 0, screen
    assert "TOKEN: changed on both sides" in screen and "chars)" in screen
    assert f"TOKEN={values['mine']}" in (me / ".env").read_text()


def test_ask_with_every_conflict_skipped_exits_1_and_counts_them(tmp_path: Path, secret, leak_watch):
    me, values = setup_conflict(tmp_path, secret)
    before = (me / ".env").read_bytes()
    code, screen = run_in_terminal(["sync", "--on-conflict", "ask"], me,
                                   [("keep [l]ocal", "s"), ("Apply to dev", "y")])
    leak_watch.check("terminal", screen)
    assert code == 1, screen
    assert "dev: 1 conflict skipped — still unresolved; re-run sync to settle them" in screen
    assert "pushed 1" in screen  # the rest (PLAIN) was applied
    assert (me / ".env").read_bytes() == before
    code, screen = run_in_terminal(["plan"], me)
    leak_watch.check("terminal", screen)
    assert code == 1 and "conflict" in screen


def test_ask_skipping_the_only_difference_is_not_in_sync(tmp_path: Path, secret, leak_watch):
    me, _ = setup_conflict(tmp_path, secret)
    (me / ".env").write_text((me / ".env").read_text().replace("PLAIN=2", "PLAIN=1"))
    code, screen = run_in_terminal(["sync", "--on-conflict", "ask"], me, [("keep [l]ocal", "s")])
    leak_watch.check("terminal", screen)
    assert code == 1, screen
    assert "1 conflict skipped — still unresolved" in screen and "Apply to dev" not in screen


def test_rich_table_on_a_terminal(tmp_path: Path, secret, leak_watch):
    me, _ = setup_conflict(tmp_path, secret)
    code, screen = run_in_terminal(["plan"], me)
    leak_watch.check("terminal", screen)
    assert code == 1
    assert "Key" in screen and "Action" in screen and "conflict" in screen and "\x1b[" in screen


COLOR_CODE = re.compile(r"\x1b\[[0-9;]*?(?:3[0-8]|9[0-7])[;m]")


def test_no_color_on_a_terminal(tmp_path: Path, secret, leak_watch):
    me, _ = setup_conflict(tmp_path, secret)
    _, colored = run_in_terminal(["plan"], me)
    code, screen = run_in_terminal(["plan"], me, extra_env={"NO_COLOR": "1"})
    leak_watch.check("terminal", screen)
    assert COLOR_CODE.search(colored), "expected colours without NO_COLOR"
    assert code == 1 and "conflict" in screen and not COLOR_CODE.search(screen)


def test_export_refuses_a_terminal(tmp_path: Path, secret, leak_watch):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://store"\n')
    (tmp_path / ".env").write_text(f"A={secret()}\n")
    run_in_terminal(["push", "--yes"], tmp_path)
    code, screen = run_in_terminal(["export"], tmp_path)
    leak_watch.check("terminal", screen)
    assert code == 2 and "refusing to print secret values to a terminal" in screen
