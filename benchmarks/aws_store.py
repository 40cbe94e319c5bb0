"""AWS Secrets Manager store against moto's server: API calls and wall time.

- `envsync push` of N new keys (per-key layout): keys/s, against raw sequential
  `create_secret` calls in the same run;
- `envsync check` of the N-key per-key target: API calls against the floor of
  ceil(N/100) ListSecrets + ceil(N/20) BatchGetSecretValue, and wall time against
  a naive one-GetSecretValue-per-key loop;
- the same check on a bundle target.

Usage: python benchmarks/aws_store.py [N]   (default 5000)
"""
from __future__ import annotations

import collections
import contextlib
import io
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import urllib.request

import boto3
import botocore.client

from envsync.cli import main as envsync
from moto_process import start_moto  # benchmarks/moto_process.py, beside this script

CALLS: collections.Counter[str] = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    CALLS[operation_name] += 1
    return _original(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _counting


@contextlib.contextmanager
def counted():
    CALLS.clear()
    start = time.perf_counter()
    result = {}
    yield result
    result["seconds"] = time.perf_counter() - start
    result["calls"] = dict(CALLS)


def run_cli(folder: Path, *args: str) -> int:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return envsync(list(args))
    finally:
        os.chdir(cwd)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)


def project(root: Path, name: str, store: str, keys: int) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "{store}"\n')
    (folder / ".env").write_text("".join(f"KEY_{i}=value-{i}-{'x' * 24}\n" for i in range(keys)))
    return folder


def main() -> None:
    keys = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    server, endpoint = start_moto()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")
    client = boto3.client("secretsmanager", endpoint_url=endpoint)
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            per_key = project(root, "per-key", f"aws-sm://bench/per-key?endpoint={endpoint}&layout=per-key", keys)
            bundle = project(root, "bundle", f"aws-sm://bench/bundle?endpoint={endpoint}", keys)

            with counted() as raw:
                for i in range(keys):
                    client.create_secret(Name=f"raw/KEY_{i}", SecretString=f"value-{i}")
            reset(endpoint)  # both pushes start from an empty emulator: its cost grows with its size
            with counted() as push:
                assert run_cli(per_key, "push", "--yes") == 0
            with counted() as check:
                assert run_cli(per_key, "check") == 0
            with counted() as naive:
                names = [s["Name"] for page in client.get_paginator("list_secrets").paginate(
                    Filters=[{"Key": "name", "Values": ["bench/per-key/"]}]) for s in page["SecretList"]]
                values = {n: client.get_secret_value(SecretId=n)["SecretString"] for n in names}
            assert len(values) == keys
            with counted() as bundle_push:
                assert run_cli(bundle, "push", "--yes") == 0
            with counted() as bundle_check:
                assert run_cli(bundle, "check") == 0
    finally:
        server.terminate()
        server.wait(timeout=10)

    floor = math.ceil(keys / 100) + math.ceil(keys / 20)
    print(f"keys: {keys:,} (moto server {endpoint})")
    print(f"push, per-key, new keys: {push['seconds']:.2f} s = {keys / push['seconds']:,.0f} keys/s  {push['calls']}")
    print(f"raw sequential create_secret: {raw['seconds']:.2f} s = {keys / raw['seconds']:,.0f} keys/s"
          f"  -> envsync push is {raw['seconds'] / push['seconds']:.1f}x the raw loop")
    check_calls = sum(check["calls"].values())
    print(f"check, per-key: {check['seconds']:.2f} s, {check_calls} calls {check['calls']} (floor {floor})")
    print(f"naive list + GetSecretValue per key: {naive['seconds']:.2f} s, {sum(naive['calls'].values())} calls"
          f"  -> envsync check is {naive['seconds'] / check['seconds']:.1f}x faster")
    print(f"push, bundle: {bundle_push['seconds']:.2f} s {bundle_push['calls']}")
    print(f"check, bundle: {bundle_check['seconds']:.3f} s, {sum(bundle_check['calls'].values())} calls {bundle_check['calls']}")


if __name__ == "__main__":
    main()
