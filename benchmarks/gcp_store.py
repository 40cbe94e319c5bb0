"""GCP Secret Manager store against the gRPC fake (tests/fakes/gcp_fake.py): calls and wall time.

- `envsync check` of an N-key per-key target: calls counted at the fake (floor:
  ceil(N/1000) ListSecrets + N AccessSecretVersion) and wall time, against a naive loop in
  the same run — ListSecrets, then one sequential AccessSecretVersion per key — twice:
  on bare loopback, and with 10 ms added to every call by the fake (a network round trip);
- for scale: the `envsync push` that creates the N keys, and check of the same N keys as
  a bundle.

The fake serves from its own process (so it does not share the client's GIL) over a
plaintext gRPC channel on 127.0.0.1. On bare loopback a call costs only the fake's own
Python work, so the fake, not the client, is the bottleneck and concurrency cannot win;
the 10 ms run shows what the bounded pool buys once calls cost a round trip, as they do
against Google.

Usage: python benchmarks/gcp_store.py [N]   (default 2000)
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.fakes.gcp_fake

from envsync.cli import main as envsync  # noqa: E402

PROJECT = "envsync-bench"
RTT = 0.010  # a same-region round trip to Secret Manager, roughly


class Fake:
    """tests/fakes/gcp_fake.py in a child process; counts are asked for over its stdin."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.gcp_fake"], cwd=ROOT, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        port = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not port:
            raise SystemExit("the GCP fake did not start")
        self.endpoint = f"127.0.0.1:{port}"

    def ask(self, command: str) -> dict[str, int]:
        self.proc.stdin.write(command + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]

    def stop(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=10)


@contextlib.contextmanager
def counted(fake: Fake):
    fake.ask("reset-calls")
    result: dict = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start
    result["calls"] = fake.ask("calls")
    result["total"] = sum(result["calls"].values())


def run_cli(folder: Path, *args: str) -> int:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return envsync(list(args))
    finally:
        os.chdir(cwd)


def project(root: Path, name: str, store: str, keys: int) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{store}"\n')
    (folder / ".env").write_text("".join(f"KEY_{i}=value-{i}-{'x' * 24}\n" for i in range(keys)))
    return folder


def naive_read(endpoint: str, prefix: str) -> dict[str, str]:
    """What a script would do: list, then read each secret's latest version, one by one."""
    import grpc
    from google.cloud import secretmanager_v1
    from google.cloud.secretmanager_v1.services.secret_manager_service.transports import (
        SecretManagerServiceGrpcTransport,
    )

    client = secretmanager_v1.SecretManagerServiceClient(
        transport=SecretManagerServiceGrpcTransport(channel=grpc.insecure_channel(endpoint)))
    names = [s.name for s in client.list_secrets(request={
        "parent": f"projects/{PROJECT}", "filter": f"name:{prefix}_", "page_size": 1000})]
    return {n: client.access_secret_version(name=f"{n}/versions/latest").payload.data.decode() for n in names}


def main() -> None:
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    fake = Fake()
    checks: list[tuple[float, dict, dict]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            options = f"endpoint={fake.endpoint}&insecure=true"
            per_key = project(root, "per-key", f"gcp-sm://{PROJECT}/bench?{options}&layout=per-key", keys)
            in_bundle = project(root, "bundle", f"gcp-sm://{PROJECT}/bench-bundle?{options}", keys)

            with counted(fake) as push:
                assert run_cli(per_key, "push", "--yes") == 0
            for latency in (0.0, RTT):
                fake.ask(f"latency {latency}")
                with counted(fake) as check:
                    assert run_cli(per_key, "check") == 0
                with counted(fake) as naive:
                    assert len(naive_read(fake.endpoint, "bench")) == keys
                checks.append((latency, check, naive))
            fake.ask("latency 0")
            with counted(fake) as bundle_push:
                assert run_cli(in_bundle, "push", "--yes") == 0
            with counted(fake) as bundle_check:
                assert run_cli(in_bundle, "check") == 0
    finally:
        fake.stop()

    floor = math.ceil(keys / 1000) + keys
    print(f"keys: {keys:,} (GCP fake, gRPC on {fake.endpoint}, own process)")
    for latency, check, naive in checks:
        where = "loopback, no added latency" if not latency else f"{latency * 1000:.0f} ms added to every call"
        print(f"[{where}]")
        print(f"  check, per-key: {check['seconds']:.2f} s, {check['total']:,} calls {check['calls']} "
              f"(floor {floor:,})")
        print(f"  naive list + sequential AccessSecretVersion: {naive['seconds']:.2f} s, {naive['total']:,} calls"
              f"  -> ratio naive/envsync {naive['seconds'] / check['seconds']:.1f}x")
    print(f"push, per-key, new keys: {push['seconds']:.2f} s = {keys / push['seconds']:,.0f} keys/s, "
          f"{push['total']:,} calls {push['calls']}")
    print(f"push, bundle: {bundle_push['seconds']:.2f} s, {bundle_push['total']} calls {bundle_push['calls']}")
    print(f"check, bundle: {bundle_check['seconds']:.3f} s, {bundle_check['total']} calls {bundle_check['calls']}")


if __name__ == "__main__":
    main()
