"""The leak guard's figures: hook latency against detect-secrets, throughput, and corpus recall.

    python benchmarks/scan.py            # everything (~1-2 minutes)
    python benchmarks/scan.py --quick    # smaller throughput run, fewer repetitions

1. Hook latency for a 20-file commit: wall time of `envsync scan --staged` and of
   `detect-secrets-hook` (what its pre-commit hook runs) on the same staged files, same run.
2. Throughput: 5,000 `.env` values (each in all its encodings) over ~20 MB of real source text
   (the venv's own packages): automaton build time and MB/s in-process, then `envsync scan --all`
   end to end. detect-secrets' MB/s on a slice of the same text for scale.
3. Corpus: recall and false positives on tests/corpus/scan, for envsync and for detect-secrets.
"""
from __future__ import annotations

import base64
import json
import os
import random
import resource
import secrets
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envsync import scan  # noqa: E402
from envsync.dotenv_file import encode_value  # noqa: E402

BIN = Path(sys.executable).parent
ENVSYNC = str(BIN / "envsync")
DETECT_SECRETS_HOOK = str(BIN / "detect-secrets-hook")
SOURCE_SUFFIXES = {".py", ".pyi", ".js", ".json", ".md", ".rst", ".txt", ".yaml", ".yml", ".toml", ".cfg", ".html"}


def env() -> dict[str, str]:
    # Both tools run with their bytecode cached, as installed hooks do (this sandbox sets
    # PYTHONDONTWRITEBYTECODE, which would make every run recompile envsync from source).
    result = {k: v for k, v in os.environ.items() if not k.startswith("ENVSYNC_") and k != "PYTHONDONTWRITEBYTECODE"}
    result.update({"NO_COLOR": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
                   "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"})
    return result


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=env(), check=True, capture_output=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(args: list[str], cwd: Path, runs: int) -> tuple[float, float, int, float]:
    """(median wall, best wall, exit code, median CPU) seconds of `runs` runs after one warm-up.
    CPU time (the process and its children, e.g. git) is steadier than wall time on a busy machine."""
    code = subprocess.run(args, cwd=cwd, env=env(), capture_output=True).returncode
    times, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), children_cpu()
        subprocess.run(args, cwd=cwd, env=env(), capture_output=True)
        times.append(time.perf_counter() - start)
        cpu.append(children_cpu() - start_cpu)
    return statistics.median(times), min(times), code, statistics.median(cpu)


def source_files(limit_bytes: int) -> list[tuple[str, bytes]]:
    """Real text to scan: the installed packages' own source files, in a fixed order."""
    site = Path(scan.__file__).resolve().parents[2]
    packages = Path(statistics.__file__).parent  # the standard library, always there
    found, total = [], 0
    for folder in (Path(sys.prefix) / "lib", packages, site):
        for path in sorted(folder.rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or not path.is_file() or "__pycache__" in path.parts:
                continue
            data = path.read_bytes()
            if b"\0" in data[:8000] or len(data) > 1_000_000:
                continue
            found.append((path.name, data))
            total += len(data)
            if total >= limit_bytes:
                return found
    return found


def random_value(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return secrets.token_urlsafe(rng.randint(12, 32))
    if kind < 0.6:
        return secrets.token_hex(rng.randint(8, 24))
    if kind < 0.8:
        alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_=+/?"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(12, 28)))
    if kind < 0.9:
        return f"postgres://svc{rng.randint(1, 99)}:{secrets.token_urlsafe(18)}@db{rng.randint(1, 9)}.internal:5432/app"
    return base64.b64encode(os.urandom(rng.randint(16, 48))).decode()


def planted(value: str, rng: random.Random) -> str:
    how = rng.choice(["literal", "base64", "url", "json", "basic"])
    raw = value.encode()
    return {"literal": value, "base64": base64.b64encode(raw).decode(), "url": quote(value, safe=""),
            "json": json.dumps(value)[1:-1], "basic": base64.b64encode(b"user:" + raw).decode()}[how]


# -- 1. hook latency ----------------------------------------------------------------------------------------------


def hook_latency(runs: int) -> None:
    print("1. Hook latency: a 20-file commit (pre-commit runs `envsync scan --staged` / `detect-secrets-hook FILES`)")
    rng = random.Random(20)
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        git(repo, "init", "-q")
        (repo / ".gitignore").write_text(".env*\n")
        values = [random_value(rng) for _ in range(50)]
        (repo / ".env").write_text("".join(f"KEY_{i}={encode_value(v)}\n" for i, v in enumerate(values)))
        files = source_files(400_000)[:20]
        names = []
        for index, (name, data) in enumerate(files):
            target = repo / "src" / f"{index:02d}_{name}"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(data)
            names.append(str(target.relative_to(repo)))
        git(repo, "add", *names)
        size = sum(len(d) for _, d in files)
        floor = wall([sys.executable, "-c", "pass"], repo, runs)
        version = wall([ENVSYNC, "--version"], repo, runs)
        ours = wall([ENVSYNC, "scan", "--staged"], repo, runs)
        print(f"   {len(names)} staged files, {size / 1e3:.0f} kB, 50 .env values; medians of {runs} runs "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print("                                   wall      best       CPU")
        for label, (median, best, code, cpu) in (("python -c pass", floor), ("envsync --version", version),
                                                 ("envsync scan --staged", ours)):
            print(f"   {label:<26} {median * 1e3:7.1f} ms {best * 1e3:6.1f} ms {cpu * 1e3:6.1f} ms  exit {code}")
        if Path(DETECT_SECRETS_HOOK).exists():
            theirs = wall([DETECT_SECRETS_HOOK, *names], repo, runs)
            median, best, code, cpu = theirs
            print(f"   {'detect-secrets-hook FILES':<26} {median * 1e3:7.1f} ms {best * 1e3:6.1f} ms {cpu * 1e3:6.1f} ms  exit {code}")
            print(f"   ratio envsync / detect-secrets: {ours[0] / theirs[0]:.2f} wall, {ours[3] / theirs[3]:.2f} CPU")
            imported = wall([sys.executable, "-c", "import detect_secrets.core.scan, detect_secrets.settings"], repo, runs)
            print(f"   (python importing detect-secrets: {imported[0] * 1e3:.0f} ms wall, {imported[3] * 1e3:.0f} ms CPU; "
                  f"envsync's whole run above: {ours[0] * 1e3:.0f} ms)")
        else:
            print("   detect-secrets-hook not installed (pip install 'envsync[bench]')")


# -- 2. throughput ------------------------------------------------------------------------------------------------


def throughput(megabytes: int, runs: int) -> None:
    print(f"\n2. Throughput: 5,000 values over ~{megabytes} MB of source text")
    rng = random.Random(5000)
    values = [scan.Value(f"KEY_{i:04d}", random_value(rng), ".env") for i in range(5000)]
    files = source_files(megabytes * 1_000_000)
    # Plant 200 occurrences (in assorted encodings) so the scan has real work to report.
    chosen = rng.sample(range(len(files)), min(200, len(files)))
    planted_keys = {}
    for index in chosen:
        value = rng.choice(values)
        name, data = files[index]
        files[index] = (name, data + f"\nleaked = '{planted(value.value, rng)}'\n".encode())
        planted_keys[index] = value.key
    total = sum(len(d) for _, d in files)

    start = time.process_time()
    matcher = scan.Matcher(values)
    build = time.process_time() - start
    best = None
    for _ in range(runs):
        start = time.process_time()
        found = 0
        for index, (name, data) in enumerate(files):
            text, _ = scan.decode(data)
            found += sum(1 for f in scan.scan_text(str(index), text, matcher) if f.rule == "env-value")
        elapsed = time.process_time() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"   {len(files)} files, {total / 1e6:.1f} MB; {matcher.needle_count} needles "
          f"(~{matcher.needle_count / len(values):.1f} per value) + {sum(len(r.keywords) for r in scan.RULES)} rule keywords")
    print(f"   automaton build (CPU)         {build * 1e3:7.0f} ms")
    print(f"   scan, in-process (CPU)       {best:6.2f} s  = {total / 1e6 / best:6.1f} MB/s "
          f"({(total / 1e6) / (best + build):.1f} MB/s counting the build); {found} value findings "
          f"for {len(planted_keys)} planted")

    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        git(repo, "init", "-q")
        (repo / ".gitignore").write_text(".env*\n")
        (repo / ".env").write_text("".join(f"{v.key}={encode_value(v.value)}\n" for v in values))
        for index, (name, data) in enumerate(files):
            target = repo / "src" / f"{index // 100:03d}" / f"{index:05d}_{name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--no-verify", "-m", "corpus")
        median, fastest, code, cpu = wall([ENVSYNC, "scan", "--all", "--json"], repo, max(1, runs - 1))
        report = json.loads(subprocess.run([ENVSYNC, "scan", "--all", "--json"], cwd=repo, env=env(),
                                           capture_output=True, text=True).stdout)
        print(f"   envsync scan --all (end to end, {report['scanned']} files, startup and setup included): "
              f"median {median:.2f} s = {total / 1e6 / median:.1f} MB/s (best {total / 1e6 / fastest:.1f}; "
              f"{cpu:.2f} s CPU = {total / 1e6 / cpu:.1f} MB/s), {len(report['findings'])} findings, exit {code}")

    try:
        from detect_secrets import SecretsCollection
        from detect_secrets.settings import default_settings
    except ImportError:
        return
    with tempfile.TemporaryDirectory() as folder:
        subset, size = [], 0
        for index, (name, data) in enumerate(files):
            path = Path(folder) / f"{index:05d}_{name}"
            path.write_bytes(data)
            subset.append(str(path))
            size += len(data)
            if size >= 2_000_000:
                break
        start = time.process_time()
        with default_settings():
            collection = SecretsCollection()
            for path in subset:
                collection.scan_file(path)
        elapsed = time.process_time() - start
        print(f"   detect-secrets (default plugins, in-process, CPU) on {size / 1e6:.1f} MB of the same text: "
              f"{elapsed:.2f} s = {size / 1e6 / elapsed:.2f} MB/s")


# -- 3. corpus recall -------------------------------------------------------------------------------------------


def corpus_figures() -> None:
    print("\n3. Corpus (tests/corpus/scan): planted leaks found / look-alikes flagged")
    from tests.scan_test import render_corpus

    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder)
        git(repo, "init", "-q")
        (repo / ".gitignore").write_text(".env*\n")
        counter = iter(range(10_000))
        corpus = render_corpus(repo, lambda label: f"sv-{label}-{secrets.token_hex(6)}-{next(counter)}", lambda _: None)
        git(repo, "add", "-A")
        proc = subprocess.run([ENVSYNC, "scan", "--staged", "--json"], cwd=repo, env=env(), capture_output=True, text=True)
        found = {(f["file"], f["line"], f["rule"], f["key"]) for f in json.loads(proc.stdout)["findings"]}
        expected = corpus.expected
        lookalike_lines = sum(len((repo / n).read_text().splitlines()) for n in corpus.files if n.startswith("lookalikes/"))
        print(f"   envsync:        {len(expected & found)}/{len(expected)} planted found "
              f"({len(expected & found) / len(expected):.0%} recall), {len(found - expected)} false positive(s) "
              f"({lookalike_lines} look-alike lines)")
        try:
            from detect_secrets import SecretsCollection
            from detect_secrets.settings import default_settings
        except ImportError:
            return
        cwd = os.getcwd()
        os.chdir(repo)
        try:
            with default_settings():
                collection = SecretsCollection()
                for name in corpus.files:
                    collection.scan_file(name)
        finally:
            os.chdir(cwd)
        flagged = {(name, secret.line_number) for name, secret in collection}
        planted_lines = {(f, line) for f, line, _, _ in expected}
        hits = planted_lines & flagged
        false = {(f, line) for f, line in flagged if (f, line) not in planted_lines}
        print(f"   detect-secrets: {len(hits)}/{len(planted_lines)} planted lines flagged "
              f"({len(hits) / len(planted_lines):.0%}), {len(false)} other line(s) flagged "
              f"({sum(1 for f, _ in false if f.startswith('lookalikes/'))} in look-alikes)")


def main() -> None:
    quick = "--quick" in sys.argv
    if not shutil.which("git"):
        sys.exit("needs git")
    hook_latency(runs=5 if quick else 15)
    throughput(megabytes=5 if quick else 20, runs=1 if quick else 3)
    corpus_figures()


if __name__ == "__main__":
    main()
