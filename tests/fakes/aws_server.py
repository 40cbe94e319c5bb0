"""moto's server (a real AWS emulator over HTTP) for the AWS store's tests.

- `MotoServer`: one in-process `ThreadedMotoServer` on 127.0.0.1 and a free port for the
  whole session (the `moto_server` fixture in tests/conftest.py), wiped before each test
  with `POST /moto-api/reset`, request log silenced, with `patch_moto_gaps` applied.
  Stores under test get its address through the store URI (`endpoint=`), never through a
  global default, so a forgotten option fails loudly instead of reaching real AWS.
- `isolate_aws_env` / `subprocess_env`: fake static credentials, no AWS_* from the
  developer's shell, empty AWS config files, no instance-metadata lookups, no region.
- `IamMotoServer`: a second moto server in a subprocess that enforces IAM (moto's
  `INITIAL_NO_AUTH_ACTION_COUNT`), and `AwsErrorProxy`, which hands its AccessDenied
  answers to the SDK in Secrets Manager's real wire format (JSON, not moto's XML) and can
  refuse requests itself (`check=`, e.g. tests/fakes/oidc_fake.check_web_identity: the token
  checks AWS STS makes and moto does not).
- `share_botocore_loader`: in-process speed-up (botocore's model files read once).
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest

REGION = "us-east-1"
# Fake, static test credentials: moto accepts any pair unless IAM is enforced.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Variables that would point boto3 somewhere else than the test says.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def quiet_werkzeug() -> None:
    """moto's server logs every request through werkzeug's logger; keep test output clean."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def patch_moto_gaps() -> None:
    """Bring moto 5.2.5 in line with AWS where it diverges in a way EnvSync depends on.
    Each patch is the documented AWS behaviour, kept as small as possible:

    - ListSecretVersionIds on a secret that does not exist: AWS answers
      ResourceNotFoundException; moto raises KeyError, i.e. HTTP 500 (which botocore then
      retries 8 times).
    - ListSecretVersionIds' CreatedDate: AWS gives the time each version was created; moto
      gives the time of the listing, so a per-key history's times moved with every read.
    """
    import json

    from moto.secretsmanager.exceptions import SecretNotFoundException
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.list_secret_version_ids
    if getattr(original, "_envsync_patched", False):
        return

    def list_secret_version_ids(self, secret_id: str) -> str:
        if not self._is_valid_identifier(secret_id):
            raise SecretNotFoundException()
        listing = json.loads(original(self, secret_id))
        versions = self.secrets[secret_id].versions
        for version in listing["Versions"]:
            version["CreatedDate"] = versions[version["VersionId"]]["createdate"]
        return json.dumps(listing)

    list_secret_version_ids._envsync_patched = True  # type: ignore[attr-defined]
    SecretsManagerBackend.list_secret_version_ids = list_secret_version_ids  # type: ignore[method-assign]


class MotoServer:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port (with `patch_moto_gaps`)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        quiet_werkzeug()
        patch_moto_gaps()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"

    def reset(self) -> None:
        post(f"{self.endpoint}/moto-api/reset")

    def stop(self) -> None:
        self._server.stop()


def post(url: str, data: bytes = b"") -> bytes:
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def isolate_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, credentials: bool = True) -> None:
    """No AWS_* from the developer's shell, no ~/.aws files, no instance metadata lookups;
    fake static credentials unless `credentials=False`. No region: a test that wants one
    puts it in the URI or sets it itself."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "aws-empty-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if credentials:
        for name, value in FAKE_CREDENTIALS.items():
            monkeypatch.setenv(name, value)


_LOADERS: dict[Any, Any] = {}


def share_botocore_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every store opens its own boto3 session, and each session re-reads botocore's JSON
    service models and endpoint tables from disk (~40 ms). In-process tests open hundreds of
    stores, so they share one data loader (the same files, read once); the sessions,
    clients, credentials and HTTP traffic stay per store."""
    import botocore.loaders
    import botocore.session

    def create_loader(search_path_string: Any = None) -> Any:
        if search_path_string not in _LOADERS:
            _LOADERS[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return _LOADERS[search_path_string]

    monkeypatch.setattr(botocore.session, "create_loader", create_loader)


def subprocess_env(config_file: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process (an `envsync` run or a scripted push): the fake
    credentials and nothing else of AWS's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_CREDENTIALS)
    env.update({"AWS_CONFIG_FILE": str(config_file), "AWS_SHARED_CREDENTIALS_FILE": str(config_file),
                "AWS_EC2_METADATA_DISABLED": "true"})
    env.update(extra)
    return env


def store_uri(endpoint: str, name: str, layout: str | None = None, *, region: str | None = REGION,
              **options: str) -> str:
    query = {}
    if region:
        query["region"] = region
    query["endpoint"] = endpoint
    if layout:
        query["layout"] = layout
    query.update(options)
    return f"aws-sm://{name}?" + "&".join(f"{k}={v}" for k, v in query.items())


def sm_client(endpoint: str, **credentials: Any):
    """A plain boto3 client on the emulator, to look behind the store's back."""
    import boto3

    return boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id=credentials.get("key", "testing"),
                        aws_secret_access_key=credentials.get("secret", "testing"))


_IAM_SERVER_SCRIPT = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print("%s:%d" % server.get_host_and_port(), flush=True)
sys.stdin.read()  # until the parent stops it
"""


class IamMotoServer:
    """A moto server in a child process that answers the first `free_requests` requests
    without authentication (the set-up: IAM user, policy, access key, secrets) and then
    checks every request's signature and authorises it against the caller's IAM policies.

    That is moto's `INITIAL_NO_AUTH_ACTION_COUNT` environment variable, read once at import
    into a module-level setting (server mode also has `POST /moto-api/reset-auth` to change
    it); being process-wide, it cannot be switched on for the shared in-process server
    without switching it on for every other test."""

    def __init__(self, free_requests: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(free_requests)
        self._proc = subprocess.Popen([sys.executable, "-c", _IAM_SERVER_SCRIPT], env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not line:
            self._proc.kill()
            raise RuntimeError("the IAM-enforcing moto server did not start")
        self.endpoint = f"http://{line}"

    def stop(self) -> None:
        self._proc.terminate()  # our own child; it holds no state worth a clean shutdown
        self._proc.wait(timeout=10)
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()


class AwsErrorProxy:
    """A small HTTP proxy in front of a moto server that passes every request through
    unchanged (the SigV4 signature, Host header included, reaches moto intact) and rewrites
    one thing on the way back: moto answers an IAM refusal with an XML `<Code>AccessDenied`
    body and HTTP 403 even for JSON-protocol services; real Secrets Manager answers HTTP 400
    with `{"__type": "AccessDeniedException", "Message": ...}`, which is what botocore parses
    into `Error.Code`. So moto decides what is denied, and the SDK sees AWS's wire format."""

    def __init__(self, upstream: str, check: Callable[[bytes], tuple[str, str] | None] | None = None) -> None:
        import threading

        from tests.fakes.http_proxy import ForwardingHandler, ProxyServer

        self.rewritten = 0
        proxy = self

        class Handler(ForwardingHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                refusal = check(body) if check else None
                if refusal is not None:
                    self.answer(400, [("Content-Type", "text/xml")], _xml_error(*refusal))
                    return
                if b"Action=AssumeRoleWithWebIdentity" in body and "Authorization" not in self.headers:
                    with proxy._unsigned_lock:  # see _let_one_unsigned_call_through
                        proxy._let_one_unsigned_call_through()
                        self._pass_on(body)
                    return
                self._pass_on(body)

            def _pass_on(self, body: bytes) -> None:
                status, out_headers, payload = self.forward(body)
                denied = _xml_access_denied(payload) if status == 403 else None
                if denied is not None:
                    proxy.rewritten += 1
                    status = 400
                    payload = json.dumps({"__type": "AccessDeniedException", "Message": denied}).encode()
                    out_headers = [("Content-Type", "application/x-amz-json-1.1"),
                                   ("x-amzn-ErrorType", "AccessDeniedException:")]
                self.answer(status, out_headers, payload)

        self._upstream = upstream
        self._unsigned_lock = threading.Lock()
        self._server = ProxyServer(upstream, Handler, upstream_timeout=10)
        self.endpoint = self._server.endpoint

    def _let_one_unsigned_call_through(self) -> None:
        """AssumeRoleWithWebIdentity is unsigned on AWS (the ID token is the proof), but moto
        enforcing IAM wants a signature on every call. Once the token has passed `check`,
        tell moto to let exactly the next call in unauthenticated."""
        request = urllib.request.Request(f"{self._upstream}/moto-api/reset-auth", data=b"1", method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()


def _xml_error(code: str, message: str) -> bytes:
    """An error in the query protocol's wire format (STS, IAM)."""
    from xml.sax.saxutils import escape

    return (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>").encode()


def _xml_access_denied(payload: bytes) -> str | None:
    import xml.etree.ElementTree as ElementTree

    try:
        root = ElementTree.fromstring(payload)
    except ElementTree.ParseError:
        return None
    if root.findtext(".//Code") != "AccessDenied":
        return None
    return root.findtext(".//Message") or "Access denied"
