"""Shared fixtures: secret values that must never be printed, and runs of `envsync` (in-process or the executable)."""
from __future__ import annotations

import io
import locale
import logging
import os
import secrets as _secrets
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# The emulators' and fakes' fixtures (tests/fakes/), for every test module: started on
# first use, once per pytest-xdist worker.
pytest_plugins = [
    "tests.fakes.gcp_fake",
    "tests.fakes.azure_fake",
    "tests.fakes.oidc_fake",
    "tests.fakes.fault_proxy",
    "tests.ci_env",  # clean_ci_env
    "tests.commands.helpers",  # project, team
]

ENVSYNC = str(Path(sys.executable).parent / "envsync")


@dataclass
class LeakWatch:
    """Secret values a test used, and every output that must not contain them."""

    values: set[str] = field(default_factory=set)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def check(self, where: str, text: str) -> None:
        for value in self.values:
            assert value not in text, f"a secret value leaked into {where}"


@pytest.fixture
def leak_watch() -> LeakWatch:
    return LeakWatch()


@pytest.fixture
def secret(leak_watch: LeakWatch):
    """Make a distinctive secret value; the test fails if it ever shows up in output."""

    def make(label: str = "value") -> str:
        value = f"sv-{label}-{_secrets.token_hex(6)}"
        leak_watch.values.add(value)
        return value

    return make


@pytest.fixture(autouse=True)
def _no_secret_in_output(leak_watch: LeakWatch, capfd):
    """Fail any test whose captured output, CLI output or state file holds a secret it used."""
    yield
    out, err = capfd.readouterr()
    leak_watch.check("captured stdout", out)
    leak_watch.check("captured stderr", err)
    for where, text in leak_watch.outputs:
        leak_watch.check(where, text)
    for path in leak_watch.files:
        if path.exists():
            leak_watch.check(str(path), path.read_text(errors="replace"))


# -- pytest-xdist (the README's test command runs the suite on every core) ------------------

# xdist's default scheduler (`--dist load`) deals out the first quarter of the tests one by
# one, in turn, and the rest on demand: the longest files first means each worker gets half of
# them, and neither ends the run alone on a long test. (Not loadgroup: with pytest 9.2 its
# groups are silently ignored, pytest-xdist issue #1386; nothing here needs one worker.)
LONGEST_FIRST = ("tests/reliability/kill_test.py", "tests/reliability/faults_test.py",
                 "tests/reliability/races_test.py", "tests/reliability/hostile_test.py", "tests/ci_kit/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker; run alone, the plain order
        items.sort(key=lambda item: _rank(_relative(item)))  # stable: a file keeps its own order


def _relative(item: pytest.Item) -> str:
    return Path(item.path).relative_to(Path(__file__).parent.parent).as_posix()


def _rank(path: str) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))


MASK = "::add-mask::"


def without_masks(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(MASK))


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


# Commands whose own child process writes to the real stdout/stderr (`envsync run -- CMD`):
# in this process that output would bypass the capture, so they always run as a process.
PROCESS_COMMANDS = {"run"}
# ENVSYNC_TEST_CLI=process: every run a real process, to tell an in-process artefact from a bug.
ALWAYS_A_PROCESS = os.environ.get("ENVSYNC_TEST_CLI") == "process"
# Python's own warning filters in a fresh interpreter (pytest's are not the CLI's).
DEFAULT_IGNORED_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


@pytest.fixture
def run_envsync(leak_watch: LeakWatch, tmp_path: Path):
    """Run `envsync ARGS` in `cwd` (default: tmp_path); its output is checked for leaks unless
    the command's job is to emit values (`reveals=True`, e.g. export).

    By default the CLI runs in this process (`envsync.cli.main`, as the installed script
    does), which saves an interpreter start and the SDK imports per run. It sees what a
    child would: only `env` and the filtered environment, `cwd`, an stdin that is not a
    TTY (`input` or empty), stdout/stderr that are not TTYs, no logging handler, Python's
    default warning filters and a clean OIDC token cache; its output is decoded as
    subprocess decodes a child's. A real process instead with `process=True`, for
    `envsync run` (its child writes to the real descriptors), or when the test gives a
    `timeout` (it guards against a hang, which only a process can be killed out of), and for
    every run under ENVSYNC_TEST_CLI=process."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None, reveals: bool = False, timeout: float | None = None,
            process: bool = False) -> Result:
        # Nothing of a CI the suite itself may run in: each test says where it runs.
        full_env = {k: v for k, v in os.environ.items() if not is_ci_setting(k)}
        full_env.update({"NO_COLOR": "1", "COLUMNS": "200"})
        full_env.update(env or {})
        where = cwd or tmp_path
        if process or ALWAYS_A_PROCESS or timeout is not None or PROCESS_COMMANDS & set(args):
            proc = subprocess.run(
                [ENVSYNC, *args], cwd=where, env=full_env, input=input,
                capture_output=True, text=True, timeout=timeout or 120,
            )
            result = Result(proc.returncode, proc.stdout, proc.stderr)
        else:
            result = run_in_process(list(args), where, full_env, input)
        # `::add-mask::VALUE` (GitHub, on stderr) is the one line made to hold a value: it tells
        # the runner what to hide. Every other line is watched.
        leak_watch.outputs.append((f"stderr of envsync {' '.join(args)}", without_masks(result.stderr)))
        if not reveals:
            leak_watch.outputs.append((f"stdout of envsync {' '.join(args)}", result.stdout))
        return result

    return run


def run_in_process(argv: list[str], cwd: Path, env: dict[str, str], input: str | None) -> Result:
    """`envsync ARGV` through `envsync.cli.main` in this process, set up as a child would be."""
    from envsync import cli

    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    with warnings.catch_warnings():
        _fresh_interpreter_warnings()
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        root.handlers[:] = []  # as in a fresh interpreter: records of WARNING+ go to stderr
        _clear_token_cache()
        try:
            code = cli.main(argv)
        except SystemExit as exc:
            code = _exit_status(exc)
        except Exception:  # what an interpreter does with an exception nobody caught
            traceback.print_exc()
            code = 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            root.handlers[:] = saved_handlers
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            _clear_token_cache()
    return Result(code, _as_subprocess_reads(stdout), _as_subprocess_reads(stderr))


def _fresh_interpreter_warnings() -> None:
    warnings.resetwarnings()
    for category in DEFAULT_IGNORED_WARNINGS:
        warnings.simplefilter("ignore", category)

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show


# This machine's CI, cloud and EnvSync settings, dropped from every run's environment (here
# and in tests/ci_kit's runners): each test says where it runs.
CI_SETTING_PREFIXES = ("ENVSYNC_", "AWS_", "GOOGLE_", "AZURE_", "GITHUB_", "ACTIONS_", "RUNNER_", "GITLAB_", "CI_")


def is_ci_setting(name: str) -> bool:
    return name.startswith(CI_SETTING_PREFIXES) or name == "CI"


# Caches that live as long as a process, and so, in a real run, as long as one command:
# envsync.ci's OIDC ID tokens, and the Key Vault SDK's auth challenge per vault (with it
# cached, a later run would never see the challenge a test sets up).
_PROCESS_CACHES = (("azure.keyvault.secrets._shared.http_challenge_cache", "_cache"),)


def _clear_token_cache() -> None:
    ci = sys.modules.get("envsync.ci")
    if ci is not None:
        ci.clear_cache()
    for module, name in _PROCESS_CACHES:
        cache = getattr(sys.modules.get(module), name, None)
        if cache is not None:
            cache.clear()


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _as_subprocess_reads(stream: io.TextIOWrapper) -> str:
    """The text `subprocess.run(..., text=True)` would return: decoded, universal newlines."""
    stream.flush()
    data = stream.buffer.getvalue().decode(locale.getpreferredencoding(False))
    return data.replace("\r\n", "\n").replace("\r", "\n")


@pytest.fixture(scope="session")
def moto_server():
    """One moto server (AWS emulator, real HTTP) for the whole session, started on first use.
    Tests reset it themselves (`moto_server.reset()`); see tests/fakes/aws_server.py."""
    from tests.fakes.aws_server import MotoServer

    server = MotoServer()
    yield server
    server.stop()
