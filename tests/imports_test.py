"""No cloud SDK is imported unless a cloud store is used: startup stays fast."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from envsync.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'google', 'azure', 'grpc', 'rich'})
print('IMPORTED', ','.join(heavy))
"""


def imported_by(tmp_path: Path, *args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path,
                          capture_output=True, text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})
    line = [x for x in proc.stdout.splitlines() if x.startswith("IMPORTED")][-1]
    return [m for m in line.split(" ", 1)[1].split(",") if m]


def test_version_imports_no_cloud_sdk(tmp_path: Path):
    assert imported_by(tmp_path, "--version") == []


def test_check_on_file_store_imports_no_cloud_sdk(tmp_path: Path):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://s"\n')
    (tmp_path / ".env").write_text("A=1\n")
    assert imported_by(tmp_path, "push", "-y") == []
    assert imported_by(tmp_path, "check") == []


def test_targets_of_every_cloud_import_no_cloud_sdk(tmp_path: Path):
    """The backends' declarations (scheme, extra, auth keys) are read without their SDKs."""
    (tmp_path / "envsync.toml").write_text(
        '[targets.a]\nfile = ".env"\nstore = "aws-sm://app"\n[targets.a.auth]\naws_role_arn = "arn:aws:iam::1:role/r"\n'
        '[targets.g]\nfile = ".env"\nstore = "gcp-sm://my-project/app"\n'
        '[targets.z]\nfile = ".env"\nstore = "azure-kv://my-vault/app"\n')
    assert imported_by(tmp_path, "targets", "--json") == []


def test_scan_loads_none_of_the_sync_engine(tmp_path: Path):
    """The pre-commit hook starts often: cli.py imports each command's module inside its callback.
    A real scan of a staged file (not `--help`, which click answers before the callback runs)."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "app.py").write_text("A = 1\n")
    subprocess.run(["git", "add", "app.py"], cwd=tmp_path, check=True)
    probe = ("import atexit, sys; "
             "atexit.register(lambda: print('LOADED', sorted(m for m in sys.modules if m in ('envsync.engine', "
             "'envsync.state', 'envsync.commands.sync', 'envsync.commands.check')))); "
             "from envsync.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", probe, "scan", "--staged"], cwd=tmp_path, capture_output=True,
                          text=True, env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 0 and "no secrets in 1 file" in proc.stdout, proc.stdout + proc.stderr
    assert "LOADED []" in proc.stdout, proc.stdout + proc.stderr
