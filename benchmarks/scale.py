"""Every command that touches all keys, at growing sizes: wall time, CPU, peak memory.

For each store × layout × size it builds a project of N keys and times the real
`envsync` executable, one process per command, in this order:

  push          N new keys into an empty store
  plan          another checkout with a tenth deleted, a tenth changed, a tenth added
  push --prune  that checkout publishes them (store-side deletions)
  check         the first checkout, now drifted (exit 1 is expected)
  pull --prune  the first checkout takes them (deletions in the .env)
  sync --prune  a third checkout with other keys deleted, changed, added, against the store
                (--on-conflict remote)

and prints, per command, the growth factor per ×10 keys between sizes (10 = linear,
100 = quadratic). Stores: the file store (`file`) and AWS Secrets Manager on moto's
server (`aws`, started here in its own process; see benchmarks/aws_store.py).

Usage:
  python benchmarks/scale.py                       # file 1k/10k/100k, aws 1k/5k, both layouts
  python benchmarks/scale.py --quick               # file 1k/10k, aws 500/1k
  python benchmarks/scale.py --stores file --layouts bundle --sizes 10000,100000
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from moto_process import start_moto  # benchmarks/moto_process.py, beside this script

ENVSYNC = str(Path(sys.executable).parent / "envsync")
COMMANDS = ["push", "plan", "push --prune", "check", "pull --prune", "sync --prune"]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float
    emulator_cpu: float | None = None  # what the emulator's process spent meanwhile


EMULATOR_PID: int | None = None


def process_cpu(pid: int | None) -> float | None:
    """CPU seconds a process has used so far (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(folder: Path, args: list[str], env: dict[str, str], expect: tuple[int, ...] = (0,)) -> Run:
    """One `envsync` process: its own wall time, CPU and peak RSS (from wait4)."""
    emulator_before = process_cpu(EMULATOR_PID)
    start = time.perf_counter()
    with open(folder / ".bench-output", "w") as output:
        process = subprocess.Popen([ENVSYNC, *args], cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in expect:
        tail = (folder / ".bench-output").read_text(errors="replace")[-400:]
        raise SystemExit(f"envsync {' '.join(args)} in {folder} exited {process.returncode}:\n{tail}")
    emulator_after = process_cpu(EMULATOR_PID)
    emulator = None if emulator_before is None or emulator_after is None else emulator_after - emulator_before
    run = Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, emulator)
    # as it happens, so a long run that is cut short still leaves its figures
    print(f"    {' '.join(args):<22} {wall:8.2f} s wall {run.cpu:8.2f} s cpu {run.peak_mb:6.0f} MB"
          + ("" if emulator is None else f"  (emulator {emulator:.2f} s cpu)"), file=sys.stderr, flush=True)
    return run


def edited(values: dict[str, str], part: int) -> dict[str, str]:
    """A tenth of the keys deleted, a tenth changed and a tenth as many added; different
    `part`s touch different keys, so two checkouts never conflict."""
    out = {}
    for i, (key, value) in enumerate(values.items()):
        if i % 10 != 2 * part:
            out[key] = f"changed-{part}-{i}-{'y' * 24}" if i % 10 == 2 * part + 1 else value
    out.update({f"NEW_{part}_{i}": f"new-{part}-{i}-{'y' * 30}" for i in range(len(values) // 10)})
    return out


def write_env(folder: Path, values: dict[str, str]) -> None:
    (folder / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def scenario(root: Path, store: str, keys: int, env: dict[str, str]) -> dict[str, Run]:
    """The six commands on one store of `keys` keys (see the module docstring)."""
    mine = root / "mine"
    mine.mkdir()
    (mine / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{store}"\n')
    values = {f"KEY_{i}": f"value-{i}-{'x' * 24}" for i in range(keys)}
    write_env(mine, values)
    runs = {"push": measure(mine, ["push", "-y"], env)}
    theirs, third = root / "theirs", root / "third"
    shutil.copytree(mine, theirs)  # with .envsync/state.json: each checkout has the same base
    shutil.copytree(mine, third)
    write_env(theirs, edited(values, part=1))
    runs["plan"] = measure(theirs, ["plan"], env, expect=(0, 1))
    runs["push --prune"] = measure(theirs, ["push", "-y", "--prune"], env)
    runs["check"] = measure(mine, ["check"], env, expect=(1,))
    runs["pull --prune"] = measure(mine, ["pull", "-y", "--prune"], env)
    write_env(third, edited(values, part=3))
    # AWS cannot read a deleted secret's old value, so there a key pruned by the other
    # checkout is a conflict by design (plan._two_way): take the store's side.
    runs["sync --prune"] = measure(third, ["sync", "-y", "--prune", "--on-conflict", "remote"], env)
    return runs


def growth_per_10x(small: tuple[int, float], large: tuple[int, float]) -> float:
    """How much the figure grows per ×10 keys between two sizes (10 = linear, 100 = quadratic)."""
    (n1, t1), (n2, t2) = small, large
    if t1 <= 0 or n2 <= n1:
        return float("nan")
    return (t2 / t1) ** (1 / math.log10(n2 / n1))


def short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def report(title: str, results: dict[int, dict[str, Run]]) -> None:
    sizes = sorted(results)
    print(f"\n{title}")
    header = f"{'command':<14}" + "".join(f"{f'{n:,} keys':>30}" for n in sizes)
    header += "".join(f"{f'per x10 {short(a)}->{short(b)}':>18}" for a, b in zip(sizes, sizes[1:]))
    print(header)
    print(f"{'':<14}" + f"{'wall s / cpu s / peak MB':>30}" * len(sizes) + f"{'wall / cpu':>18}" * (len(sizes) - 1))
    for command in COMMANDS:
        row = f"{command:<14}"
        for n in sizes:
            run = results[n][command]
            row += f"{run.wall:>12.2f}{run.cpu:>9.2f}{run.peak_mb:>9.0f}"
        for a, b in zip(sizes, sizes[1:]):
            wall = growth_per_10x((a, results[a][command].wall), (b, results[b][command].wall))
            cpu = growth_per_10x((a, results[a][command].cpu), (b, results[b][command].cpu))
            row += f"{wall:>10.1f} / {cpu:<5.1f}"
        print(row, flush=True)
    emulator = [[results[n][c].emulator_cpu for c in COMMANDS] for n in sizes]
    if all(v is not None for row in emulator for v in row):
        print("emulator CPU s (moto's own process, not EnvSync's): " + "; ".join(
            f"{n:,} keys " + " / ".join(f"{v:.1f}" for v in row) for n, row in zip(sizes, emulator)))


def reset_moto(endpoint: str) -> None:
    """An empty emulator for each size: its own cost grows with what it holds."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVSYNC_", "AWS_", "GITHUB_", "GITLAB_", "CI"))}
    env.update(NO_COLOR="1", COLUMNS="200")
    return env


def run_file(layout: str, sizes: list[int]) -> None:
    results = {}
    for keys in sizes:
        with tempfile.TemporaryDirectory(prefix="envsync-scale-") as folder:
            root = Path(folder)
            results[keys] = scenario(root, f"file://{root / 'store'}?layout={layout}", keys, base_env())
        print(f"  file {layout} {keys:,} keys done", file=sys.stderr, flush=True)
    report(f"file store, {layout}", results)


def run_aws(layouts: list[str], sizes: list[int]) -> None:
    global EMULATOR_PID
    server, endpoint = start_moto()
    EMULATOR_PID = server.pid
    env = {**base_env(), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}
    try:
        for layout in layouts:
            results = {}
            for keys in sizes:
                reset_moto(endpoint)
                with tempfile.TemporaryDirectory(prefix="envsync-scale-") as folder:
                    store = f"aws-sm://scale/{layout}?endpoint={endpoint}&layout={layout}"
                    results[keys] = scenario(Path(folder), store, keys, env)
                print(f"  aws {layout} {keys:,} keys done", file=sys.stderr, flush=True)
            report(f"AWS Secrets Manager (moto server), {layout}", results)
    finally:
        server.terminate()
        server.wait(timeout=10)


def sizes_arg(text: str) -> list[int]:
    return sorted(int(float(part.replace("k", "e3"))) for part in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=sizes_arg, help="file store sizes, e.g. 1k,10k,100k (the default)")
    parser.add_argument("--cloud-sizes", type=sizes_arg, help="AWS sizes, e.g. 1k,5k (the default)")
    parser.add_argument("--stores", default="file,aws", help="file, aws or both (default file,aws)")
    parser.add_argument("--layouts", default="bundle,per-key", help="bundle, per-key or both")
    parser.add_argument("--quick", action="store_true", help="small sizes: file 1k,10k and aws 500,1k")
    args = parser.parse_args()
    file_sizes = args.sizes or ([1000, 10_000] if args.quick else [1000, 10_000, 100_000])
    cloud_sizes = args.cloud_sizes or ([500, 1000] if args.quick else [1000, 5000])
    stores, layouts = args.stores.split(","), args.layouts.split(",")
    print(f"envsync scaling: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}")
    if "file" in stores:
        for layout in layouts:
            run_file(layout, file_sizes)
    if "aws" in stores:
        run_aws(layouts, cloud_sizes)


if __name__ == "__main__":
    main()
