"""Crash-safety harness: run the real `envsync` executable and SIGKILL it at random points.

One `Case` is one store x layout. It keeps a project folder converged (local .env ==
store == the intended values), then repeats a *cycle* per kill:

1. make the command's change: push — edit the local .env; pull — another writer edits
   the store (an in-process store client, as a teammate's EnvSync would); sync — both,
   on disjoint keys (so no conflicts). Some pull cycles start from a fresh clone (no .env,
   no state), so the pull creates the file;
2. run `envsync <command> --yes --prune` and SIGKILL it after a random delay, drawn from
   the phases of an uninterrupted run of the same command (timed once per command:
   reading the store, applying, finishing);
3. check the crash invariants: the .env is byte-identical to the old or the new file (and
   0600 if it was created), the store holds the old or the new snapshot (bundle) or each
   key its old or new value (per-key), read with a fresh store client; temp files left
   beside the .env or in the state folder are counted;
4. re-run the same command: it must converge (local == store == intended values), leave
   no temp files; then `envsync plan` exits 0 and a further re-run of the command is a
   no-op that creates no version (counted at the emulator/fake).

Where a kill landed is read from the child's own output (run unbuffered): nothing yet on
stdout = still reading ("before" the apply); the plan printed but not the "pushed N,
pulled M" line = "during" the apply (store writes, local write, state write); the
summary printed = "after". A run that finished before its kill is counted apart and
not as a kill.
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import stat
import string
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from envsync import dotenv_file
from envsync.config import Target
from envsync.model import Change
from envsync.stores import open_store

TEMP_SUFFIX = ".tmp"
COMMANDS = ("push", "pull", "sync")
PHASES = ("read", "apply", "finish")  # of the uninterrupted run a kill is timed to land in


# -- backends ---------------------------------------------------------------------------


class Backend:
    """What the harness needs of one store kind: its URI, the child's environment, and a
    way to count versions and write calls behind the store's back."""

    name = ""

    def uri(self, layout: str) -> str:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    def reset(self) -> None:
        pass

    def version_count(self, root: Path) -> int:
        raise NotImplementedError

    def write_calls(self) -> int:
        """Write requests served so far (0 where the backend cannot count them)."""
        return 0

    def live_locks(self) -> list[str]:
        """Write locks a killed run left behind (GCP only)."""
        return []

    def age_locks(self) -> int:
        """Make leftover locks expire (stands in for waiting out their lease)."""
        return 0


class FileBackend(Backend):
    name = "file"

    def uri(self, layout: str) -> str:
        return f"file://.envsync/store/dev?layout={layout}"

    def version_count(self, root: Path) -> int:
        store = root / ".envsync" / "store"
        return sum(1 for p in store.rglob("*.json") if p.stem.isdigit()) if store.exists() else 0


class AwsBackend(Backend):
    name = "aws-sm"

    def __init__(self, server: Any, config_file: Path) -> None:
        from tests.fakes.aws_server import subprocess_env

        self.server = server
        self.child_env = {k: v for k, v in subprocess_env(config_file).items() if k.startswith("AWS_")}

    def uri(self, layout: str) -> str:
        from tests.fakes.aws_server import store_uri

        return store_uri(self.server.endpoint, "kill/app", layout)

    def env(self) -> dict[str, str]:
        return dict(self.child_env)

    def reset(self) -> None:
        self.server.reset()

    def version_count(self, root: Path) -> int:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.secretsmanager.models import secretsmanager_backends

        from tests.fakes.aws_server import REGION

        backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][REGION]
        return sum(len(secret.versions) for secret in list(backend.secrets.values()))


class GcpBackend(Backend):
    name = "gcp-sm"
    WRITES = ("CreateSecret", "UpdateSecret", "DeleteSecret", "AddSecretVersion", "EnableSecretVersion",
              "DisableSecretVersion", "DestroySecretVersion")

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def uri(self, layout: str) -> str:
        return self.fake.uri("kill", layout)

    def env(self) -> dict[str, str]:
        from tests.fakes.gcp_fake import subprocess_env

        return subprocess_env()

    def reset(self) -> None:
        self.fake.reset()

    def version_count(self, root: Path) -> int:
        with self.fake._lock:
            return sum(len(s.versions) for s in self.fake._secrets.values())

    def write_calls(self) -> int:
        return sum(self.fake.calls[m] for m in self.WRITES)

    def _locked(self) -> list[Any]:
        now = time.time()
        found = []
        with self.fake._lock:
            for secret in self.fake._secrets.values():
                raw = secret.annotations.get("envsync-lock", "")
                try:
                    if float(raw.split()[0]) > now:
                        found.append(secret)
                except (IndexError, ValueError):
                    continue
        return found

    def live_locks(self) -> list[str]:
        return sorted(s.secret_id for s in self._locked())

    def age_locks(self) -> int:
        secrets = self._locked()
        with self.fake._lock:
            for secret in secrets:
                expiry, _, rest = secret.annotations["envsync-lock"].partition(" ")
                secret.annotations["envsync-lock"] = f"{int(time.time()) - 1} {rest}"
        return len(secrets)


class AzureBackend(Backend):
    name = "azure-kv"
    WRITES = ("set", "update", "delete", "purge", "recover")

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def uri(self, layout: str) -> str:
        return self.fake.uri("kill", layout, retries="0")

    def env(self) -> dict[str, str]:
        return self.fake.env()

    def reset(self) -> None:
        self.fake.reset()

    def version_count(self, root: Path) -> int:
        with self.fake._lock:
            secrets = list(self.fake.secrets.values()) + list(self.fake.deleted.values())
            return sum(len(s.versions) for s in secrets)

    def write_calls(self) -> int:
        return sum(n for op, n in list(self.fake.calls.items()) if op.split(" ")[0] in self.WRITES)


# -- the tally ------------------------------------------------------------------------


@dataclass
class Tally:
    store: str
    layout: str
    keys: int
    seed: int
    kills: int = 0
    kills_by_command: dict[str, int] = field(default_factory=lambda: {c: 0 for c in COMMANDS})
    before_apply: int = 0  # still reading (nothing printed yet)
    during_apply: int = 0  # plan printed, no summary yet: store writes, local write, state
    after_apply: int = 0  # summary printed, killed while exiting
    finished_before_kill: int = 0  # not kills: the run ended before its delay
    store_partly_written: int = 0  # per-key: some keys old, some new, right after the kill
    store_fully_written: int = 0  # store already held the new snapshot after the kill
    local_written: int = 0  # the .env already held the new file after the kill
    fresh_clone_pulls: int = 0  # pull cycles that started without .env and state
    temp_files_after_kill: int = 0  # left by a kill (beside the .env, or in .envsync/)
    temp_files_after_rerun: int = 0  # still there after the converging re-run
    stale_lock_reruns_refused: int = 0  # GCP: a re-run refused while a killed run's lock lives
    locks_aged: int = 0  # GCP: leftover locks expired by the harness to continue
    reruns: int = 0
    noop_reruns: int = 0
    lost: int = 0  # keys whose intended value was not in place after convergence: must be 0
    violations: list[str] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> str:
        return (f"[{self.store} {self.layout}] seed={self.seed} keys={self.keys} kills={self.kills} "
                f"{self.kills_by_command} before/during/after apply={self.before_apply}/{self.during_apply}/"
                f"{self.after_apply} finished-before-kill={self.finished_before_kill} "
                f"store partly/fully written at kill={self.store_partly_written}/{self.store_fully_written} "
                f"local written at kill={self.local_written} fresh-clone pulls={self.fresh_clone_pulls} "
                f"temp files after kill/after re-run={self.temp_files_after_kill}/{self.temp_files_after_rerun} "
                f"stale-lock refusals={self.stale_lock_reruns_refused} locks aged={self.locks_aged} "
                f"re-runs={self.reruns} no-op re-runs={self.noop_reruns} lost={self.lost} "
                f"violations={len(self.violations)} time={self.seconds:.1f}s")


def write_report(tally: Tally) -> None:
    """Add this case's tally to the JSON file named by ENVSYNC_RELIABILITY_REPORT, if set."""
    path = os.environ.get("ENVSYNC_RELIABILITY_REPORT")
    if not path:
        return
    report = Path(path)
    lock = report.with_name(report.name + ".lock")
    import fcntl

    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            data = json.loads(report.read_text()) if report.exists() else {}
        except ValueError:
            data = {}
        data.setdefault("cases", {})[f"{tally.store}-{tally.layout}"] = tally.as_json()
        report.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# -- running and killing the child ------------------------------------------------------


@dataclass
class Run:
    code: int | None  # None: killed
    stdout: str
    stderr: str
    plan_at: float | None  # seconds after start when stdout first got something (the plan)
    done_at: float | None  # ... when the "pushed N, pulled M" summary appeared
    ended_at: float
    killed: bool


def run_child(argv: list[str], cwd: Path, env: dict[str, str], kill_after: float | None,
              timeout: float = 180.0, after_plan: bool = False) -> Run:
    """Run `argv`; SIGKILL it `kill_after` seconds after start (or, with `after_plan`, after
    the plan was printed: a kill meant for the apply phase then lands there however slow
    the machine is today) if it is still running."""
    start = time.monotonic()
    plan_printed = threading.Event()
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: list[bytes] = []
    err: list[bytes] = []
    marks: dict[str, float] = {}

    def pump_out() -> None:
        assert proc.stdout is not None
        for line in iter(proc.stdout.readline, b""):
            now = time.monotonic() - start
            marks.setdefault("plan", now)
            plan_printed.set()
            if b": pushed " in line:
                marks.setdefault("done", now)
            out.append(line)

    def pump_err() -> None:
        assert proc.stderr is not None
        err.append(proc.stderr.read())

    threads = [threading.Thread(target=pump_out, daemon=True), threading.Thread(target=pump_err, daemon=True)]
    for thread in threads:
        thread.start()
    killed = False
    try:
        if kill_after is not None:
            try:
                if after_plan:
                    while not plan_printed.wait(0.01) and proc.poll() is None:
                        if time.monotonic() - start > timeout:
                            raise subprocess.TimeoutExpired(argv, timeout)
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed = True
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        raise
    ended = time.monotonic() - start
    for thread in threads:
        thread.join(timeout=10)
    return Run(None if killed else code, b"".join(out).decode(errors="replace"),
               b"".join(err).decode(errors="replace"), marks.get("plan"), marks.get("done"), ended, killed)


# -- the case ---------------------------------------------------------------------------


def random_value(rng: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    value = "".join(rng.choice(alphabet) for _ in range(rng.randint(16, 40)))
    if rng.random() < 0.1:
        value = value[:8] + " " + value[8:]  # needs quoting in the .env
    return value


def initial_document(rng: random.Random, keys: int) -> str:
    lines = ["# crash-safety fixture: comments, blank lines, export and quoting must survive", ""]
    for i in range(keys):
        key, value = f"APP_{i:04d}", random_value(rng)
        if i % 100 == 0:
            lines += ["", f"# section {i // 100}"]
        if " " in value or i % 7 == 0:
            text = f'"{value}"'
        elif i % 11 == 0:
            text = f"'{value}'"
        else:
            text = value
        lines.append(("export " if i % 13 == 0 else "") + f"{key}={text}")
    return "\n".join(lines) + "\n"


class Case:
    def __init__(self, backend: Backend, layout: str, root: Path, envsync: str, base_env: dict[str, str],
                 seed: int, keys: int, changes: int, log: Callable[[str], None] = print) -> None:
        self.backend = backend
        self.layout = layout
        self.root = root
        self.envsync = envsync
        self.env = {**base_env, **backend.env(), "NO_COLOR": "1", "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
        self.rng = random.Random(seed)
        self.keys = keys
        self.changes = changes
        self.log = log
        self.uri = backend.uri(layout)
        self.env_path = root / ".env"
        self.state_dir = root / ".envsync"
        self.target = Target(name="dev", file=self.env_path, store=self.uri, root=root)
        self.tally = Tally(backend.name, layout, keys, seed)
        self.calibration: dict[str, Run] = {}
        self.new_keys = 0
        self.outputs: list[tuple[str, str]] = []
        self.intended: dict[str, str] = {}
        self.lock_refusal_checked = False

    # -- helpers ------------------------------------------------------------------------

    def fail(self, message: str) -> None:
        self.tally.violations.append(message)
        raise AssertionError(f"{message} (seed {self.tally.seed}; re-run with ENVSYNC_KILL_SEED={self.tally.seed})")

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.fail(message)

    def store(self):
        return open_store(self.target)

    def remote(self) -> dict[str, str]:
        return dict(self.store().read().values)

    def local_bytes(self) -> bytes | None:
        try:
            return self.env_path.read_bytes()
        except FileNotFoundError:
            return None

    def local_values(self) -> dict[str, str]:
        return dotenv_file.parse(self.env_path.read_text(encoding="utf-8")).values()

    def temp_files(self) -> list[Path]:
        found = [p for p in self.root.iterdir() if p.name.endswith(TEMP_SUFFIX)]
        if self.state_dir.exists():
            found += [p for p in self.state_dir.rglob("*") if p.name.endswith(TEMP_SUFFIX)]
        return sorted(found)

    def run(self, *args: str, kill_after: float | None = None, after_plan: bool = False) -> Run:
        result = run_child([self.envsync, *args], self.root, self.env, kill_after, after_plan=after_plan)
        self.outputs.append((f"envsync {' '.join(args)}", result.stdout + result.stderr))
        return result

    def run_ok(self, *args: str) -> Run:
        result = self.run(*args)
        if result.code != 0:
            notable = [line for line in result.stdout.splitlines() if "conflict" in line or line.startswith("!")]
            self.fail(f"`envsync {' '.join(args)}` exited {result.code}: " + "\n".join(notable[:10]) + "\n"
                      + result.stderr[-1500:].strip())
        return result

    def remote_write(self, changes: list[Change]) -> None:
        """Another writer (a teammate's EnvSync) changes the store."""
        store = self.store()
        store.apply(changes, store.read())

    def set_local(self, changes: list[Change]) -> None:
        document = dotenv_file.parse(self.env_path.read_text(encoding="utf-8"))
        for change in changes:
            if change.value is None:
                document.unset(change.key)
            else:
                document.set(change.key, change.value)
        self.env_path.write_bytes(document.render().encode("utf-8"))

    def make_changes(self, current: dict[str, str], avoid: set[str] = frozenset(), count: int | None = None,
                     adds: int = 2, deletes: int = 2) -> list[Change]:
        keys = sorted(k for k in current if k not in avoid)
        count = min(count if count is not None else self.changes, len(keys))
        picked = self.rng.sample(keys, count + deletes)
        changes = [Change(k, random_value(self.rng)) for k in picked[:count]]
        changes += [Change(k, None) for k in picked[count:]]
        for _ in range(adds):
            self.new_keys += 1
            changes.append(Change(f"NEW_{self.new_keys:04d}", random_value(self.rng)))
        return changes

    # -- set-up and calibration -----------------------------------------------------------

    def setup(self) -> None:
        self.backend.reset()
        (self.root / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{self.uri}"\n')
        self.env_path.write_text(initial_document(self.rng, self.keys))
        self.env_path.chmod(0o600)
        started = time.monotonic()
        self.run_ok("push", "--yes")
        self.tally.timings["initial push"] = {"total": round(time.monotonic() - started, 3)}
        self.intended = self.local_values()
        self.converged("initial push")

    def converged(self, where: str) -> None:
        local, remote = self.local_values(), self.remote()
        self.check(local == self.intended, f"{where}: the local .env does not hold the intended values "
                                           f"({_diff(self.intended, local)})")
        lost = sum(1 for k, v in self.intended.items() if remote.get(k) != v) + sum(
            1 for k in remote if k not in self.intended)
        self.tally.lost += lost
        self.check(lost == 0, f"{where}: the store does not hold the intended values ({_diff(self.intended, remote)})")

    # -- one cycle ----------------------------------------------------------------------

    def prepare(self, command: str) -> dict[str, Any]:
        """Make the change a `command` run is to carry; return old/new of both sides."""
        old_remote = dict(self.intended)
        fresh = False
        if command == "push":
            changes = self.make_changes(self.intended)
            self.set_local(changes)
            new = self.local_values()
            new_remote = new
        elif command == "pull":
            changes = self.make_changes(self.intended)
            self.remote_write(changes)
            old_remote = self.remote()
            new = old_remote
            new_remote = old_remote
            fresh = self.rng.random() < 0.2
            if fresh:
                self.env_path.unlink()
                (self.state_dir / "state.json").unlink()
                self.tally.fresh_clone_pulls += 1
        else:
            half = max(1, self.changes // 2)
            local_changes = self.make_changes(self.intended, count=half, adds=1, deletes=1)
            touched = {c.key for c in local_changes}
            # no store-side deletes in sync: on aws-sm/azure-kv per-key a deleted secret's base cannot
            # be read back, and sync then reports a conflict (see kill_test.py's xfail test)
            remote_changes = self.make_changes(self.intended, avoid=touched, count=half, adds=1, deletes=0)
            self.set_local(local_changes)
            self.remote_write(remote_changes)
            old_remote = self.remote()
            new = _applied(old_remote, local_changes)
            new_remote = new
        return {"old_local": self.local_bytes(), "old_remote": old_remote, "new_remote": new_remote,
                "new": new, "fresh": fresh}

    def calibrate(self, command: str) -> Run:
        before = self.prepare(command)
        result = self.run_ok(command, "--yes", "--prune")
        self.calibration[command] = result
        self.tally.timings[command] = {"plan_printed": round(result.plan_at or 0, 3),
                                       "summary_printed": round(result.done_at or 0, 3),
                                       "exited": round(result.ended_at, 3)}
        self.intended = before["new"]
        self.converged(f"uninterrupted {command}")
        self.after_convergence(command)
        return result

    def draw_delay(self, command: str, phase: str | None = None) -> tuple[float, bool]:
        """A delay that lands in `phase` of the uninterrupted run (drawn at random when None,
        the apply twice as often): (seconds, counted from the plan's printing rather than
        from the start)."""
        cal = self.calibration[command]
        plan = cal.plan_at or cal.ended_at * 0.5
        done = cal.done_at or cal.ended_at
        phase = phase or self.rng.choice(["read", "apply", "apply", "finish"])
        if phase == "read":
            return self.rng.uniform(plan * 0.5, plan), False
        if phase == "apply":
            return self.rng.uniform(0, done - plan), True
        return self.rng.uniform(0.85 * (done - plan), min(cal.ended_at, done + 0.05) - plan), True

    def kill_cycle(self, command: str, phase: str | None = None) -> bool:
        """One cycle: change, run `command` and kill it, check, re-run. Whether it was killed."""
        t = self.tally
        before = self.prepare(command)
        temps_before = set(self.temp_files())
        delay, after_plan = self.draw_delay(command, phase)
        result = self.run(command, "--yes", "--prune", kill_after=delay, after_plan=after_plan)
        if not result.killed:
            t.finished_before_kill += 1
            self.check(result.code == 0, f"{command} (not killed) exited {result.code}: {result.stderr[-1500:]}")
        else:
            t.kills += 1
            t.kills_by_command[command] += 1
            if result.plan_at is None:
                t.before_apply += 1
            elif result.done_at is None:
                t.during_apply += 1
            else:
                t.after_apply += 1
        when = f"{delay:.3f}s after the plan" if after_plan else f"{delay:.3f}s"
        where = f"{command} killed at {when}" if result.killed else f"{command} (finished)"
        self.check_local(before, where)
        self.check_remote(before, where)
        left = set(self.temp_files()) - temps_before
        t.temp_files_after_kill += len(left)
        if left:
            self.log(f"  {where}: temp files left: {[str(p.relative_to(self.root)) for p in sorted(left)]}")
        self.rerun(command, where)
        self.intended = before["new"]
        self.converged(f"re-run after {where}")
        remaining = self.temp_files()
        t.temp_files_after_rerun += len(set(remaining) & left)
        self.after_convergence(command)
        return result.killed

    def check_local(self, before: dict[str, Any], where: str) -> None:
        now = self.local_bytes()
        old = before["old_local"]
        if now == old:
            return
        self.check(now is not None, f"{where}: the .env vanished")
        try:
            values = dotenv_file.parse(now.decode("utf-8")).values()
        except Exception as exc:  # a torn file does not parse
            self.fail(f"{where}: the .env is neither the old nor a complete new file ({exc.__class__.__name__})")
        self.check(values == before["new"], f"{where}: the .env is neither the old file nor the new one "
                                            f"({_diff(before['new'], values)})")
        self.tally.local_written += 1
        if old is None:
            mode = stat.S_IMODE(self.env_path.stat().st_mode)
            self.check(mode == 0o600, f"{where}: the new .env has mode {mode:o}, not 600")

    def check_remote(self, before: dict[str, Any], where: str) -> None:
        old, new = before["old_remote"], before["new_remote"]
        now = self.remote()
        if now == old:
            return
        if now == new:
            self.tally.store_fully_written += 1
            return
        self.check(self.layout == "per-key", f"{where}: the bundle holds neither the old nor the new snapshot "
                                             f"(old: {_diff(old, now)}; new: {_diff(new, now)})")
        bad = [k for k in set(old) | set(new) | set(now) if now.get(k) not in (old.get(k), new.get(k))]
        self.check(not bad, f"{where}: keys hold neither their old nor their new value: {sorted(bad)[:10]}")
        self.tally.store_partly_written += 1

    def rerun(self, command: str, where: str) -> None:
        t = self.tally
        locks = self.backend.live_locks()
        if locks and not self.lock_refusal_checked:
            # documented: a killed run's lock holds its secrets for its 60 s lease
            writes = self.backend.write_calls()
            refused = self.run(command, "--yes", "--prune")
            if refused.code == 0 and self.backend.write_calls() == writes:
                pass  # the killed run had written everything: nothing to write, so no lock needed
            else:
                self.check(refused.code != 0 and "another EnvSync run is writing" in refused.stdout + refused.stderr,
                           f"{where}: re-run with a killed run's lock on {locks[:3]} exited {refused.code}")
                t.stale_lock_reruns_refused += 1
                self.lock_refusal_checked = True
        if locks:
            t.locks_aged += self.backend.age_locks()
        t.reruns += 1
        self.run_ok(command, "--yes", "--prune")

    def after_convergence(self, command: str) -> None:
        """`plan` says in sync, and one more run of the command writes nothing."""
        plan = self.run("plan")
        self.check(plan.code == 0, f"after {command}: `envsync plan` exited {plan.code}: {plan.stdout[-800:]}")
        versions, writes = self.backend.version_count(self.root), self.backend.write_calls()
        self.run_ok(command, "--yes", "--prune")
        self.tally.noop_reruns += 1
        self.check(self.backend.version_count(self.root) == versions,
                   f"after {command}: a no-op re-run created {self.backend.version_count(self.root) - versions} versions")
        self.check(self.backend.write_calls() == writes,
                   f"after {command}: a no-op re-run made {self.backend.write_calls() - writes} write calls")

    def kill_order(self, kills: int) -> list[tuple[str, str | None]]:
        """Which command each kill interrupts, and in which phase. The first three cover every
        command and every phase once each (so a CI run of three kills sees them all); the
        others take the commands in turn, shuffled, in a phase drawn at random."""
        commands, phases = list(COMMANDS), list(PHASES)
        self.rng.shuffle(commands)
        self.rng.shuffle(phases)
        covering: list[tuple[str, str | None]] = list(zip(commands, phases))
        rest = [COMMANDS[i % len(COMMANDS)] for i in range(len(covering), kills)]
        self.rng.shuffle(rest)
        return (covering + [(command, None) for command in rest])[:kills]

    def run_all(self, kills: int) -> Tally:
        started = time.monotonic()
        self.setup()
        for command in COMMANDS:
            self.calibrate(command)
        attempts = 0
        for command, phase in self.kill_order(kills):
            while attempts < kills * 2 + len(PHASES):
                attempts += 1
                if self.kill_cycle(command, phase):
                    break
                phase = None  # the run ended before its kill: the same command, in any phase
        self.tally.seconds = round(time.monotonic() - started, 1)
        return self.tally


def _applied(values: dict[str, str], changes: list[Change]) -> dict[str, str]:
    result = dict(values)
    for change in changes:
        if change.value is None:
            result.pop(change.key, None)
        else:
            result[change.key] = change.value
    return result


def _diff(want: dict[str, str], got: dict[str, str]) -> str:
    """Which keys differ (names only: never values)."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(k for k in set(want) & set(got) if want[k] != got[k])
    return f"missing {missing[:5]}{'…' if len(missing) > 5 else ''} ({len(missing)}), " \
           f"extra {extra[:5]} ({len(extra)}), different {changed[:5]} ({len(changed)})"
