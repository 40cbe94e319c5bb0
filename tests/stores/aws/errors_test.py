"""envsync/stores/aws/errors.py (and the session's own refusals in auth.py): what a user
reads when AWS refuses, cannot be reached or is not configured — one line, exit 3 (2 for a
mistake in the URI), naming the action, the secret and the fix."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import botocore.retries.standard
import pytest

from envsync.config import Target
from envsync.errors import EnvSyncError, InputError
from envsync.stores import open_store
from tests.fakes.aws_server import AwsErrorProxy, IamMotoServer, isolate_aws_env, share_botocore_loader, store_uri
from tests.stores.aws.emulator import EMPTY, Aws, CallLog, apply, one_line_store_error


# -- errors a user can act on --------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_missing_region(aws: Aws, layout: str, leak_watch) -> None:
    with pytest.raises(EnvSyncError) as caught:
        aws.open(layout=layout, uri=store_uri(aws.endpoint, "app/prod", layout, region=None)).read()
    message = one_line_store_error(caught.value, leak_watch)
    assert "region" in message and "AWS_REGION" in message and "?region=" in message


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_from_the_environment(aws: Aws, monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "us-east-1")
    store = aws.open(uri=store_uri(aws.endpoint, "app/prod", region=None))
    apply(store, {"A": "1"}, EMPTY)
    assert aws.current("app/prod") == '{"A":"1"}'  # same region as the URI-less write


def test_endpoint_from_the_standard_variable(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """`AWS_ENDPOINT_URL_SECRETS_MANAGER` (with the underscore; `..._SECRETSMANAGER` is
    silently ignored by botocore) points a URI without endpoint= at the emulator."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", aws.endpoint)
    store = aws.open(uri="aws-sm://app/prod?region=us-east-1&layout=per-key")
    log = CallLog(store.client)
    apply(store, {"A": "1"}, store.read())
    assert aws.current("app/prod/A") == "1"
    assert store.client.meta.endpoint_url == aws.endpoint
    assert log.count("CreateSecret") == 1


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_missing_credentials(aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, layout: str,
                             leak_watch) -> None:
    isolate_aws_env(monkeypatch, tmp_path, credentials=False)  # empty config files, no keys, no IMDS
    started = time.monotonic()
    with pytest.raises(EnvSyncError) as caught:
        aws.open(layout=layout).read()
    assert time.monotonic() - started < 5
    message = one_line_store_error(caught.value, leak_watch)
    assert "no AWS credentials" in message


def test_unknown_profile(aws: Aws) -> None:
    with pytest.raises(InputError, match="'nobody' is not in your AWS config"):
        aws.open(profile="nobody")


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_unreachable_endpoint(aws: Aws, monkeypatch: pytest.MonkeyPatch, layout: str, leak_watch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    # the store retries connection errors with backoff; skip the sleeping, keep the retries
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    store = aws.open(layout=layout, uri=store_uri(f"http://127.0.0.1:{port}", "app/prod", layout))
    attempts: list[str] = []
    store.client.meta.events.register("before-send.secrets-manager", lambda **kw: attempts.append("x"))
    with pytest.raises(EnvSyncError) as caught:
        store.read()
    message = one_line_store_error(caught.value, leak_watch)
    assert "cannot reach AWS Secrets Manager" in message and "endpoint=" in message
    assert 1 < len(attempts) <= 10, f"{len(attempts)} attempts"


# -- AccessDenied from a moto server that enforces IAM -------------------------------------------

READER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:ListSecrets", "secretsmanager:DescribeSecret"],
                   "Resource": "*"}],
}


@pytest.fixture(scope="module")
def iam_moto():
    """A second moto server (own process) that enforces IAM after its 5 set-up requests:
    a user `lister` who may list and describe secrets but not read them, one per-key secret
    and one bundle. Yields (moto endpoint, proxy, the user's key pair)."""
    server = IamMotoServer(free_requests=5)
    proxy = None
    try:
        import boto3

        root = {"region_name": "us-east-1", "endpoint_url": server.endpoint,
                "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        iam, sm = boto3.client("iam", **root), boto3.client("secretsmanager", **root)
        iam.create_user(UserName="lister")  # 1
        iam.put_user_policy(UserName="lister", PolicyName="list-only", PolicyDocument=json.dumps(READER_POLICY))  # 2
        key = iam.create_access_key(UserName="lister")["AccessKey"]  # 3
        sm.create_secret(Name="app/prod/API_KEY", SecretString="x",  # 4
                         Tags=[{"Key": "managed-by", "Value": "envsync"}, {"Key": "envsync-key", "Value": "API_KEY"}])
        sm.create_secret(Name="app/bundle", SecretString='{"A":"x"}',  # 5
                         Tags=[{"Key": "managed-by", "Value": "envsync"}])
        with pytest.raises(Exception, match="InvalidClientTokenId|security token"):
            sm.list_secrets()  # the free requests are used up: unknown keys are refused now
        proxy = AwsErrorProxy(server.endpoint)
        yield server.endpoint, proxy, (key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


@pytest.fixture
def as_lister(iam_moto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    endpoint, proxy, (key_id, key_secret) = iam_moto
    isolate_aws_env(monkeypatch, tmp_path, credentials=False)
    share_botocore_loader(monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key_secret)

    def open_at(endpoint_url: str, name: str, layout: str):
        uri = store_uri(endpoint_url, name, layout)
        return open_store(Target(name="t", file=tmp_path / ".env", store=uri, root=tmp_path))

    return endpoint, proxy, open_at


@pytest.mark.parametrize("layout, name, action", [
    ("per-key", "app/prod", "secretsmanager:BatchGetSecretValue"),
    ("bundle", "app/bundle", "secretsmanager:GetSecretValue"),
])
def test_access_denied_names_the_action_and_the_secret(as_lister, layout: str, name: str, action: str,
                                                       leak_watch) -> None:
    _, proxy, open_at = as_lister
    rewritten = proxy.rewritten
    store = open_at(proxy.endpoint, name, layout)
    with pytest.raises(EnvSyncError) as caught:
        store.read()
    message = one_line_store_error(caught.value, leak_watch)
    assert proxy.rewritten == rewritten + 1, "moto did not deny the call (or denied it twice)"
    assert f"AWS denied {action} on " in message
    assert name in message  # the secret (name or ARN)
    assert "user/lister" in message  # AWS's own explanation, who was refused


def test_listing_is_allowed_for_the_lister(as_lister) -> None:
    _, proxy, open_at = as_lister
    store = open_at(proxy.endpoint, "app/prod", "per-key")
    assert [s.key for s in store._list(include_deleted=False)] == ["API_KEY"]


def test_access_denied_in_a_non_json_body_is_still_one_line(as_lister, leak_watch) -> None:
    endpoint, _, open_at = as_lister
    with pytest.raises(EnvSyncError) as caught:
        open_at(endpoint, "app/bundle", "bundle").read()
    message = one_line_store_error(caught.value, leak_watch)
    assert "denied" in message.lower() and "secretsmanager:GetSecretValue" in message
