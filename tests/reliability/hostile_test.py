"""Hostile input: what someone other than the user writes — a pull request's config,
schema or symlinks, a store URI, inputs too big to handle, a store's limits — and the OS
refusing a write. Each is one clear error line naming the file, line or key, exit status 2
(3 for a store), and nothing written locally or remotely.

A user's own mistakes (a malformed `.env`, a config typo) are tests/bad_input_test.py's.
Files under tests/corpus/hostile/config/ hold byte-exact configs and `expected-config.json`
the expected message of each; the inputs that are too big for a corpus (a 10 MB line,
100,000 keys, a config over 1 MiB) are generated here.

Runs go through `envsync.cli.main` in this process (fast, and the OS boundary can be
patched: a read-only file, a full disk); a FIFO `.env` goes through the executable,
so a regression that blocks on it cannot hang the test run.
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsync import cli, dotenv_file, fsutil
from tests.folder_digest import folder_digest

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "hostile"
CONFIG_EXPECTED: dict[str, str] = json.loads((CORPUS / "expected-config.json").read_text(encoding="utf-8"))
GOOD_CONFIG = '[targets.dev]\nfile = ".env"\nstore = "file://store"\n'
FIGURES: dict[str, float] = {}  # timings, printed at the end of the module (`-s` shows them)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def one_line_error(self, fragment: str) -> None:
        assert self.code == 2, (self.code, self.stderr)
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("envsync: error: "), self.stderr
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def envsync(leak_watch, monkeypatch):
    """`envsync ARGS` in this process, in `cwd`; its output is checked for leaks."""
    for name in [n for n in os.environ if n.startswith("ENVSYNC_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str, cwd: Path, reveals: bool = False) -> Run:
        out, err = io.StringIO(), io.StringIO()
        with monkeypatch.context() as m:
            m.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(list(args))
        leak_watch.outputs.append((f"stderr of envsync {' '.join(args)}", err.getvalue()))
        if not reveals:
            leak_watch.outputs.append((f"stdout of envsync {' '.join(args)}", out.getvalue()))
        return Run(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def project(tmp_path: Path, envsync, secret):
    """A project pushed once to its file store, so the store has content to protect."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "envsync.toml").write_text(GOOD_CONFIG)
    (folder / ".env").write_text(f"GOOD={secret('good')}\n")
    assert envsync("push", "-y", cwd=folder).code == 0
    return folder


def _changed_in_store(project: Path, envsync, value: str) -> None:
    """Make the store differ from the file, so a pull has something to write."""
    other = project.parent / "other"
    other.mkdir()
    (other / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://../project/store"\n')
    assert envsync("pull", "-y", cwd=other).code == 0
    (other / ".env").write_text(f"GOOD={value}\nNEW=1\n")
    assert envsync("push", "-y", cwd=other).code == 0


# -- the config corpus -------------------------------------------------------------


@pytest.fixture
def isolated_clouds(monkeypatch, tmp_path):
    """No cloud credentials or settings from the developer's shell; nothing is reached."""
    from tests.fakes.aws_server import isolate_aws_env

    isolate_aws_env(monkeypatch, tmp_path)
    for name in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", sorted(CONFIG_EXPECTED))
def test_config_corpus_is_refused(envsync, tmp_path, isolated_clouds, name):
    (tmp_path / "envsync.toml").write_bytes((CORPUS / "config" / name).read_bytes())
    (tmp_path / ".env").write_text("A=1\n")
    before = folder_digest(tmp_path)
    envsync("push", "-y", cwd=tmp_path).one_line_error(CONFIG_EXPECTED[name])
    assert folder_digest(tmp_path) == before


STORE_URI_CHECKS = {
    # store URI options checked before the SDK sees them (once an internal error, exit 3)
    "aws-endpoint-port-out-of-range": "aws-sm://app?region=us-east-1&endpoint=http://127.0.0.1:99999",
    "aws-endpoint-without-scheme": "aws-sm://app?region=us-east-1&endpoint=localhost:4566",
    "aws-region-with-space": "aws-sm://app?region=eu%20west",
    # a file:// path longer than the OS allows: OSError(ENAMETOOLONG) escapes the file store
    "file-store-path-too-long": "file://" + "s" * 5000,
}


@pytest.mark.parametrize("name, message", [
    ("aws-endpoint-port-out-of-range", "must be a URL like http://localhost:4566"),
    ("aws-endpoint-without-scheme", "must be a URL like http://localhost:4566"),
    ("aws-region-with-space", "is not an AWS region name"),
    ("file-store-path-too-long", "longer than the file system allows"),
])
def test_store_uri_options_checked_before_use(envsync, tmp_path, isolated_clouds, name, message):
    (tmp_path / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{STORE_URI_CHECKS[name]}"\n')
    (tmp_path / ".env").write_text("A=1\n")
    before = folder_digest(tmp_path)
    envsync("push", "-y", cwd=tmp_path).one_line_error(message)
    assert folder_digest(tmp_path) == before


def test_oversized_config_is_refused(envsync, tmp_path):
    block = "".join(f'[targets.t{i}]\nfile = ".env"\nstore = "file://s/{i}"\n' for i in range(30_000))
    assert len(block) > 1024 * 1024
    (tmp_path / "envsync.toml").write_text(block)
    (tmp_path / ".env").write_text("A=1\n")
    before = folder_digest(tmp_path)
    envsync("push", "--all", "-y", cwd=tmp_path).one_line_error("envsync.toml: over 1 MiB")
    assert folder_digest(tmp_path) == before


def test_schema_missing_and_schema_malformed(envsync, tmp_path):
    (tmp_path / "envsync.toml").write_text(GOOD_CONFIG + 'schema = ".env.example"\n')
    (tmp_path / ".env").write_text("A=1\n")
    before = folder_digest(tmp_path)
    envsync("check", "--offline", cwd=tmp_path).one_line_error(".env.example: schema file not found")
    (tmp_path / ".env.example").write_bytes(b"A=\nB='open\n")
    before = folder_digest(tmp_path)
    envsync("check", cwd=tmp_path).one_line_error(".env.example line 2: unterminated quoted value")
    assert folder_digest(tmp_path) == before


# -- files that are not what they seem -------------------------------------------------


@pytest.mark.parametrize("command", [("push", "-y"), ("pull", "-y"), ("sync", "-y"), ("check",)])
def test_env_symlink_out_of_the_project_is_refused(envsync, project, tmp_path, command, secret):
    outside = tmp_path / "elsewhere.env"
    outside.write_text(f"STOLEN={secret('outside')}\n")
    (project / ".env").unlink()
    (project / ".env").symlink_to(outside)
    before, outside_before = folder_digest(project), outside.read_bytes()
    envsync(*command, cwd=project).one_line_error("envsync.toml: targets.dev.file: .env leads through a symlink to")
    assert folder_digest(project) == before and outside.read_bytes() == outside_before


def test_symlinked_folder_out_of_the_project_is_refused(envsync, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".env").write_text("A=1\n")
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "conf").symlink_to(outside)
    (folder / "envsync.toml").write_text('[targets.dev]\nfile = "conf/.env"\nstore = "file://store"\n'
                                         'schema = "conf/.env"\n')
    envsync("push", "-y", cwd=folder).one_line_error("targets.dev.file: conf/.env leads through a symlink")
    assert not (folder / "store").exists()


def test_symlinks_that_stay_inside_and_explicit_outside_paths_work(envsync, tmp_path, secret):
    """Not refused: a symlink to another file of the project (pull writes through it, the
    link stays), and an outside path the config names itself."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "envsync.toml").write_text(GOOD_CONFIG)
    value = secret("inside")
    (folder / ".env.local").write_text(f"A={value}\n")
    (folder / ".env").symlink_to(".env.local")
    assert envsync("push", "-y", cwd=folder).code == 0
    (folder / ".env.local").write_text("A=stale\n")
    assert envsync("pull", "-y", "--force", cwd=folder).code == 0
    assert (folder / ".env").is_symlink()
    assert dotenv_file.load(folder / ".env.local").values() == {"A": value}

    shared = tmp_path / "shared.env"
    shared.write_text("B=1\n")
    (folder / "envsync.toml").write_text('[targets.dev]\nfile = "../shared.env"\nstore = "file://store2"\n')
    assert envsync("push", "-y", cwd=folder).code == 0


def test_env_that_is_a_fifo_does_not_hang(run_envsync, tmp_path):
    (tmp_path / "envsync.toml").write_text(GOOD_CONFIG)
    os.mkfifo(tmp_path / ".env")
    before = folder_digest(tmp_path)
    result = run_envsync("push", "-y", timeout=30)
    assert result.code == 2 and "envsync: error: .env: not a regular file" in result.stderr, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert folder_digest(tmp_path) == before


# -- the OS says no: read-only file, permission denied, full disk --------------------------


def test_pull_into_a_read_only_env(envsync, project, secret):
    _changed_in_store(project, envsync, secret("new"))
    os.chmod(project / ".env", 0o444)  # tests run as root: the mode bits, not EACCES, must stop it
    before = folder_digest(project)
    envsync("pull", "-y", cwd=project).one_line_error(".env: the file is read-only (mode 0444)")
    assert folder_digest(project) == before


def test_pull_when_the_os_denies_the_write(envsync, project, secret, monkeypatch):
    _changed_in_store(project, envsync, secret("new"))
    before = folder_digest(project)

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(fsutil.os, "replace", denied)
    envsync("pull", "-y", cwd=project).one_line_error(".env: cannot write (permission denied)")
    assert folder_digest(project) == before  # no temp file left behind either


def _disk_full(monkeypatch, only: str | None = None):
    """fsync of a new file fails with ENOSPC (where delayed allocation reports a full disk);
    with `only`, just for temp files of that name."""
    real = fsutil._write_temp

    def write_temp(path, data, mode):
        if only is None or Path(path).name == only:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data, mode)

    monkeypatch.setattr(fsutil, "_write_temp", write_temp)


def test_pull_on_a_full_disk(envsync, project, secret, monkeypatch):
    _changed_in_store(project, envsync, secret("new"))
    before = folder_digest(project)
    real_fsync = os.fsync

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(fsutil.os, "fsync", fsync)
    envsync("pull", "-y", cwd=project).one_line_error(".env: cannot write (No space left on device)")
    monkeypatch.setattr(fsutil.os, "fsync", real_fsync)
    assert folder_digest(project) == before


def test_push_to_a_file_store_on_a_full_disk(envsync, project, secret, monkeypatch):
    """The store is what cannot be written: a store error (exit 3), no version written."""
    (project / ".env").write_text(f"GOOD={secret('new')}\n")
    files_before = {k: v for k, v in folder_digest(project).items() if v != "dir"}
    _disk_full(monkeypatch)
    run = envsync("push", "-y", cwd=project)
    assert run.code == 3 and "No space left on device" in run.stderr and len(run.stderr.splitlines()) == 1
    assert {k: v for k, v in folder_digest(project).items() if v != "dir"} == files_before


def test_export_output_on_a_full_disk(envsync, project, monkeypatch):
    before = folder_digest(project)
    _disk_full(monkeypatch)
    envsync("export", "-o", "out.env", cwd=project).one_line_error("out.env: cannot write (No space left on device)")
    assert folder_digest(project) == before


def test_state_file_on_a_full_disk_is_a_clear_error(envsync, project, secret, monkeypatch):
    (project / ".env").write_text(f"GOOD={secret('new')}\n")
    _disk_full(monkeypatch, only="state.json")
    run = envsync("push", "-y", cwd=project)
    assert "internal error" not in run.stderr, run.stderr


# -- size: a 10 MB line, 100,000 keys -------------------------------------------------------


def test_ten_megabyte_line(envsync, tmp_path, secret):
    """A 10 MB value syncs through the file store and comes back byte for byte; a 10 MB
    line that cannot be parsed is refused naming its line."""
    value = secret("big") + "x" * 10_000_000
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://../store"\n')
    (a / ".env").write_text(f"# big\nSMALL=1\nBIG={value}\n")
    started = time.perf_counter()
    assert envsync("push", "-y", cwd=a).code == 0
    assert envsync("pull", "-y", cwd=b).code == 0
    FIGURES["10 MB line: push + pull (s)"] = time.perf_counter() - started
    assert dotenv_file.load(b / ".env").values() == {"SMALL": "1", "BIG": value}

    for content, message in [
        (b"A=1\nB=\"" + b"y" * 10_000_000 + b"\n", ".env line 2: unterminated quoted value"),
        (b"A=1\n\n" + b"k" * 10_000_000 + b"!=x\n", ".env line 3: invalid key name — keys are"),
        (b"A=1\nB=" + b"y" * 10_000_000 + b"\xff\n", ".env line 2: not valid UTF-8"),
    ]:
        (a / ".env").write_bytes(content)
        before = folder_digest(tmp_path)
        started = time.perf_counter()
        envsync("push", "-y", cwd=a).one_line_error(message)
        assert time.perf_counter() - started < 10
        assert folder_digest(tmp_path) == before


def test_hundred_thousand_keys_work(envsync, tmp_path):
    """Not an error: 100,000 keys push, plan and pull (bundle layout, file store)."""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://../store"\n')
    text = "".join(f"KEY_{i}=value-{i}\n" for i in range(100_000))
    (a / ".env").write_text(text)
    timings = {}
    for label, folder, args in [("push", a, ("push", "-y")), ("plan", a, ("plan",)), ("pull", b, ("pull", "-y"))]:
        started = time.perf_counter()
        run = envsync(*args, cwd=folder)
        timings[label] = time.perf_counter() - started
        assert run.code == 0, run.stderr
    FIGURES.update({f"100,000 keys: {k} (s)": v for k, v in timings.items()})
    assert dotenv_file.load(b / ".env").values() == dotenv_file.load(a / ".env").values()
    assert sum(timings.values()) < 60, timings


# -- store limits and key names the store cannot take ------------------------------------------


@pytest.fixture
def aws(moto_server, monkeypatch, tmp_path):
    from tests.fakes.aws_server import isolate_aws_env, share_botocore_loader, sm_client

    moto_server.reset()
    isolate_aws_env(monkeypatch, tmp_path)
    share_botocore_loader(monkeypatch)
    client = sm_client(moto_server.endpoint)

    def content() -> list:
        names = sorted(s["Name"] for p in client.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True)
                       for s in p["SecretList"])
        return [(n, client.get_secret_value(SecretId=n)["SecretString"]) for n in names]

    return moto_server.endpoint, content


def _cloud_project(tmp_path: Path, store: str, env: str) -> Path:
    folder = tmp_path / "cloud"
    folder.mkdir()
    (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{store}"\n')
    (folder / ".env").write_text(env)
    return folder


def test_aws_per_key_value_over_64_kib(envsync, aws, tmp_path, secret):
    from tests.fakes.aws_server import store_uri

    endpoint, content = aws
    folder = _cloud_project(tmp_path, store_uri(endpoint, "app/prod", "per-key"),
                            f"SMALL={secret('small')}\nHUGE={secret('huge')}{'h' * 66_000}\n")
    before = folder_digest(folder)
    envsync("push", "-y", cwd=folder).one_line_error("HUGE: the value is over AWS's 64 KiB limit")
    assert content() == [] and folder_digest(folder) == before


def test_aws_per_key_name_over_the_secret_name_limit(envsync, aws, tmp_path):
    """AWS secret names end at 512 characters; a longer key must be refused up front."""
    from tests.fakes.aws_server import store_uri

    endpoint, content = aws
    folder = _cloud_project(tmp_path, store_uri(endpoint, "app/prod", "per-key"), f"A=1\n{'K' * 600}=1\n")
    before = folder_digest(folder)
    run = envsync("push", "-y", cwd=folder)
    assert content() == [] and folder_digest(folder) == before
    run.one_line_error("characters, over AWS's 512")


def test_file_per_key_key_over_the_folder_name_limit(envsync, tmp_path):
    """A per-key file store keeps each key in a folder of its name; names end at 255 bytes."""
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://s?layout=per-key"\n')
    (tmp_path / ".env").write_text(f"A=1\n{'K' * 300}=1\n")
    before = folder_digest(tmp_path)
    envsync("push", "-y", cwd=tmp_path).one_line_error("a key over 255 bytes cannot be a folder name")
    assert folder_digest(tmp_path) == before


@pytest.fixture
def azure(azure_fake, monkeypatch):  # noqa: F811
    return azure_fake



AZURE_WRITES = {"set", "delete", "purge", "recover", "update"}


@pytest.mark.parametrize("env, message", [
    ("db_url=1\nDB_URL=2\n", "both map to the Key Vault secret name app-db-url"),
    ("A=1\nBIG={big}\n", "BIG: the value is 26,000 bytes, over Key Vault's 25 KB limit"),
    ("A=1\n" + "K" * 130 + "=1\n", "its Key Vault secret name would be"),
], ids=["case-collision", "value-over-25kb", "name-over-127"])
def test_azure_per_key_refusals(envsync, azure, tmp_path, env, message):
    folder = _cloud_project(tmp_path, azure.uri("app", "per-key", retries="0"), env.format(big="b" * 26_000))
    before = folder_digest(folder)
    envsync("push", "-y", cwd=folder).one_line_error(message)
    assert azure.names() == [] and folder_digest(folder) == before
    assert not [op for op in azure.calls if any(w in op.lower() for w in AZURE_WRITES)], azure.calls


@pytest.mark.parametrize("env, message", [
    ("a.b=1\na-b=2\n", "both map to the GCP secret id"),
    ("A=1\nBIG={big}\n", "BIG: the value is over GCP's 64 KiB limit"),
], ids=["dot-dash-collision", "value-over-64kib"])
def test_gcp_per_key_refusals(envsync, gcp_fake, tmp_path, env, message):  # noqa: F811
    folder = _cloud_project(tmp_path, gcp_fake.uri("app", "per-key"), env.format(big="b" * 70_000))
    before = folder_digest(folder)
    envsync("push", "-y", cwd=folder).one_line_error(message)
    assert folder_digest(folder) == before
    writes = {m for m in gcp_fake.calls if m.startswith(("Create", "Add", "Update", "Delete", "Destroy"))}
    assert not writes, gcp_fake.calls


def test_zz_print_figures():
    """Prints the timings measured above (run with -s to see them)."""
    for label, value in FIGURES.items():
        print(f"FIGURE {label}: {value:.2f}" if isinstance(value, float) else f"FIGURE {label}: {value}")
