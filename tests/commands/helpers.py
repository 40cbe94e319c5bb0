"""Small builders shared by the command tests: a config of named targets, a store filled by push."""
from __future__ import annotations

from pathlib import Path


def write_config(folder: Path, stores: dict[str, str]) -> None:
    lines = []
    for name, uri in stores.items():
        lines += [f"[targets.{name}]", f'file = ".env.{name}"', f'store = "{uri}"', ""]
    (folder / "envsync.toml").write_text("\n".join(lines))


def fill(run_envsync, folder: Path, name: str, values: dict[str, str], env: dict[str, str] | None = None) -> None:
    """Put `values` in target `name`'s store the way a user would: its file, then push."""
    (folder / f".env.{name}").write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    pushed = run_envsync("push", name, "--yes", "--force", cwd=folder, env=env)
    assert pushed.code == 0, pushed.output
