"""The planner on 10,000 keys, alone and inside a full `envsync plan` on the file store."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import best_and_median  # noqa: E402

from envsync.model import Mode  # noqa: E402
from envsync.plan import make_plan  # noqa: E402

KEYS = 10_000


def snapshots() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    base = {f"KEY_{i}": f"value-{i}" for i in range(KEYS)}
    local, remote = dict(base), dict(base)
    for i in range(0, KEYS, 10):
        local[f"KEY_{i}"] = f"local-{i}"
    for i in range(5, KEYS, 10):
        remote[f"KEY_{i}"] = f"remote-{i}"
    for i in range(0, KEYS, 100):
        remote[f"KEY_{i}"] = f"both-{i}"
    return local, base, remote


def full_cli_plan() -> tuple[float, float]:
    envsync = str(Path(sys.executable).parent / "envsync")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://store"\n')
        (root / ".env").write_text("".join(f"KEY_{i}=value-{i}\n" for i in range(KEYS)))
        env = {**os.environ, "NO_COLOR": "1"}
        start = time.perf_counter()
        subprocess.run([envsync, "push", "-y"], cwd=root, env=env, check=True, capture_output=True)
        push = time.perf_counter() - start
        (root / ".env").write_text("".join(f"KEY_{i}=value-{i}{'x' if i % 7 == 0 else ''}\n" for i in range(KEYS)))
        start = time.perf_counter()
        subprocess.run([envsync, "plan"], cwd=root, env=env, capture_output=True)
        return push, time.perf_counter() - start


def main() -> None:
    local, base, remote = snapshots()
    cases = (("sync, with base", Mode.SYNC, base, False), ("push, no base", Mode.PUSH, None, False),
             ("push --force", Mode.PUSH, base, True))
    for label, mode, base_map, force in cases:
        best, median = best_and_median(lambda: make_plan(local, remote, base_map, mode, prune=True, force=force))
        plan = make_plan(local, remote, base_map, mode, prune=True, force=force)
        print(f"make_plan {KEYS:,} keys ({label}): best {best * 1000:.1f} ms  median {median * 1000:.1f} ms  {plan.counts()}")
    push, plan_time = full_cli_plan()
    print(f"envsync push of {KEYS:,} new keys (file store, whole process): {push:.2f} s")
    print(f"envsync plan of {KEYS:,} keys (file store, whole process): {plan_time:.2f} s")


if __name__ == "__main__":
    main()
