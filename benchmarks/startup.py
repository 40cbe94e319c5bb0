"""Startup cost of `envsync --version` and `envsync check` (file store), and what they import."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 10
HEAVY = ("boto3", "botocore", "google", "azure", "grpc", "rich")
PROBE = ("import sys; from envsync.cli import main; main(sys.argv[1:]); "
         f"print('IMPORTED', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")


def timed(args: list[str], cwd: Path) -> float:
    env = {**os.environ, "NO_COLOR": "1"}
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(args, cwd=cwd, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def imported(args: list[str], cwd: Path) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True).stdout
    return next((line for line in out.splitlines() if line.startswith("IMPORTED")), "?")


def main() -> None:
    envsync = str(Path(sys.executable).parent / "envsync")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://store"\n')
        (root / ".env").write_text("".join(f"KEY_{i}=value-{i}\n" for i in range(50)))
        subprocess.run([envsync, "push", "-y"], cwd=root, check=True, capture_output=True)
        baseline = timed([sys.executable, "-c", "pass"], root)
        for args in (["--version"], ["check"]):
            median = timed([envsync, *args], root)
            print(f"envsync {' '.join(args):<10} median {median * 1000:6.1f} ms "
                  f"(bare python {baseline * 1000:.1f} ms)  {imported(args, root)}")


if __name__ == "__main__":
    main()
