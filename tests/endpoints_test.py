"""envsync/endpoints.py and the places it guards: credentials and ID tokens go only to the
cloud's own hosts, loopback, or a host the environment allows (SECURITY.md, "What EnvSync defends against" 3).

"Before any network call" is shown, not assumed: the hosts refused here are a listener on
this machine's own non-loopback address that records every connection, and the fake
GitHub token endpoint records every token it hands out.
"""
from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import Iterator

import pytest

from envsync import endpoints
from envsync.errors import InputError
from tests.fakes.azure_fake import FakeAzure
from tests.conftest import without_masks
from tests.fakes.gcp_fake import PROJECT
from tests.fakes.oidc_fake import GCP_PROVIDER, GcpStsServer, GitHubOidcServer

ROLE = "arn:aws:iam::123456789012:role/envsync-ci"


class Recorder:
    """A TCP listener that keeps what each connection sent (a TLS hello, an STS request)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._sock = socket.create_server((host, 0))
        self.port = self._sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(0.3)
                data = b""
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(65536):
                        data += chunk
                self.received.append(data)

    def close(self) -> None:
        self._sock.close()


def outside_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    for probe in ("192.0.2.1", "203.0.113.1", "10.255.255.1"):
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.connect((probe, 9))  # no packet is sent: this only picks the route
            address = udp.getsockname()[0]
            if not address.startswith("127."):
                return address
    return None


@pytest.fixture
def outside() -> Iterator[Recorder]:
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to listen on")
    recorder = Recorder(address)
    yield recorder
    recorder.close()


@pytest.fixture
def local() -> Iterator[Recorder]:
    recorder = Recorder("127.0.0.1")
    yield recorder
    recorder.close()


def project(tmp_path: Path, store: str, auth: str = "") -> Path:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / "envsync.toml").write_text(f'[targets.ci]\nfile = ".env"\nstore = "{store}"\n'
                                         + (f"[targets.ci.auth]\n{auth}\n" if auth else ""))
    (folder / ".env").write_text("API_TOKEN=x\n")
    return folder


def assert_refused(result, *words: str) -> None:
    assert result.code == 2, result.output
    line = without_masks(result.stderr)
    assert line.count("\n") == 0, line  # one line, no traceback
    for word in words:
        assert word in line, line


# -- the rule, table-driven -------------------------------------------------------------


def aws(host: str) -> bool:
    return endpoints.aws_service_host(host, "secretsmanager")


@pytest.mark.parametrize("host, expected", [
    ("secretsmanager.eu-west-1.amazonaws.com", True),
    ("secretsmanager-fips.us-gov-west-1.amazonaws.com", True),
    ("secretsmanager.cn-north-1.amazonaws.com.cn", True),
    ("secretsmanager.eu-west-1.api.aws", True),
    ("vpce-0a1b2c3d4e5f-abcd1234.secretsmanager.eu-west-1.vpce.amazonaws.com", True),
    ("vpce-0a1b2c3d4e5f-abcd1234-eu-west-1a.secretsmanager.eu-west-1.vpce.amazonaws.com", True),
    # under amazonaws.com, but answered by whoever rents them
    ("ec2-192-0-2-2.compute-1.amazonaws.com", False),
    ("my-lb-123456.eu-west-1.elb.amazonaws.com", False),
    ("abc123.execute-api.eu-west-1.amazonaws.com", False),
    ("secretsmanager.eu-west-1.amazonaws.com.evil.example", False),
    ("evil-secretsmanager.eu-west-1.amazonaws.com", False),
    ("sts.eu-west-1.amazonaws.com", False),  # STS is not Secrets Manager
    ("amazonaws.com", False),
])
def test_aws_hosts(host: str, expected: bool) -> None:
    assert aws(host) is expected


def test_aws_hosts_are_the_ones_botocore_itself_resolves() -> None:
    import boto3
    from botocore.config import Config

    for region, config in [("eu-west-1", None), ("cn-north-1", None), ("us-gov-west-1", None),
                           ("us-east-1", Config(use_fips_endpoint=True)),
                           ("eu-west-1", Config(use_dualstack_endpoint=True)),
                           ("eusc-de-east-1", None)]:
        for service in ("secretsmanager", "sts"):
            url = boto3.session.Session().client(service, region_name=region, config=config).meta.endpoint_url
            host = url.split("//", 1)[1].split("/")[0]
            assert endpoints.aws_service_host(host, service), (service, region, url)


@pytest.mark.parametrize("host, expected", [
    ("localhost", True), ("LOCALHOST.", True), ("127.0.0.1", True), ("127.9.9.9", True), ("::1", True),
    ("[::1]", True), ("192.0.2.2", False), ("localhost.evil.example", False), ("0.0.0.0", False),
])
def test_loopback(host: str, expected: bool) -> None:
    assert endpoints.is_loopback(host) is expected


@pytest.mark.parametrize("allowance, host, port, expected", [
    ("kv.corp.example", "kv.corp.example", 8443, True),
    ("kv.corp.example:8443", "KV.corp.example.", 8443, True),
    ("kv.corp.example:8443", "kv.corp.example", 443, False),
    ("a.example, kv.corp.example b.example", "kv.corp.example", None, True),
    ("corp.example", "kv.corp.example", None, False),  # a name, not a suffix
    ("[fd00::2]:443", "fd00::2", 443, True),
    ("", "kv.corp.example", None, False),
])
def test_allowance(allowance: str, host: str, port: int | None, expected: bool) -> None:
    assert endpoints.allowed(host, port, {endpoints.ALLOW_VARIABLE: allowance}) is expected


@pytest.mark.parametrize("allowance", ["https://kv.corp.example", "*.corp.example", "fd00::2",
                                       "kv.corp.example, fd00::2:443"])
def test_an_allowance_that_is_not_a_host_is_refused(allowance: str) -> None:
    with pytest.raises(InputError, match="ENVSYNC_ALLOW_ENDPOINTS") as caught:
        endpoints.allowed("https", None, {endpoints.ALLOW_VARIABLE: allowance})
    assert caught.value.exit_code == 2


def test_an_allowance_with_port_443_covers_a_url_without_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(endpoints.ALLOW_VARIABLE, "secrets.corp.example:443")
    endpoints.check_url("https://secrets.corp.example/", where="w", setting="s", trusted=aws)
    with pytest.raises(InputError, match="ENVSYNC_ALLOW_ENDPOINTS=secrets.corp.example:8443"):
        endpoints.check_url("https://secrets.corp.example:8443", where="w", setting="s", trusted=aws)


@pytest.mark.parametrize("url", [
    "https://secretsmanager.eu-west-1.amazonaws.com@evil.example",  # a user name: the host is evil.example
    "https://evil.example\\@secretsmanager.eu-west-1.amazonaws.com",
    "ftp://secretsmanager.eu-west-1.amazonaws.com",
])
def test_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(InputError, match="must be a URL like https://HOST"):
        endpoints.check_url(url, where="w", setting="s", trusted=aws)


def test_azure_authorities_are_azure_identitys() -> None:
    from azure.identity import AzureAuthorityHosts

    known = {getattr(AzureAuthorityHosts, name) for name in dir(AzureAuthorityHosts) if name.isupper()}
    assert known <= set(endpoints.AZURE_AUTHORITY_HOSTS)


# -- AWS ----------------------------------------------------------------------------------


def test_aws_plaintext_endpoint_off_this_machine_gets_no_token(outside: Recorder, github_oidc: GitHubOidcServer,
                                                               run_envsync, tmp_path: Path) -> None:
    folder = project(tmp_path, f"aws-sm://app?region=eu-west-1&endpoint=http://{outside.address}")
    env = {**github_oidc.env(), "ENVSYNC_AWS_ROLE_ARN": ROLE}
    for allowance in ("", outside.address):  # an allowance does not make plaintext safe
        result = run_envsync("check", cwd=folder, env={**env, "ENVSYNC_ALLOW_ENDPOINTS": allowance})
        assert_refused(result, "plaintext", "endpoint= in the store URI")
    assert outside.received == [] and github_oidc.requests == []


@pytest.mark.parametrize("host", ["{outside}", "ec2-192-0-2-2.compute-1.amazonaws.com",
                                  "abc123.execute-api.eu-west-1.amazonaws.com",
                                  "secretsmanager.eu-west-1.amazonaws.com.evil.example"])
def test_aws_endpoint_outside_aws_is_refused(outside: Recorder, run_envsync, tmp_path: Path, host: str) -> None:
    host = host.format(outside=outside.address)
    folder = project(tmp_path, f"aws-sm://app?region=eu-west-1&endpoint=https://{host}")
    # ambient keys: they would sign every request to the endpoint
    result = run_envsync("check", cwd=folder, env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                                                   "AWS_EC2_METADATA_DISABLED": "true"})
    assert_refused(result, "endpoint= in the store URI", f"ENVSYNC_ALLOW_ENDPOINTS={host}")
    assert outside.received == []


def test_aws_endpoint_allowed_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envsync.config import Target
    from envsync.stores import open_store

    url = "https://secrets.corp.example:8443"
    target = Target(name="t", file=tmp_path / ".env", store=f"aws-sm://app?region=eu-west-1&endpoint={url}",
                    root=tmp_path)
    with pytest.raises(InputError, match="ENVSYNC_ALLOW_ENDPOINTS=secrets.corp.example:8443"):
        open_store(target)
    monkeypatch.setenv("ENVSYNC_ALLOW_ENDPOINTS", "other.example, secrets.corp.example:8443")
    assert open_store(target).client.meta.endpoint_url == url  # opening makes no call


def test_id_token_variable_cannot_send_another_secret(local: Recorder, run_envsync, secret, tmp_path: Path) -> None:
    api_key = secret("api-key")
    folder = project(tmp_path, f"aws-sm://app?region=eu-west-1&endpoint=http://{local.address}",
                     'id_token_variable = "DEPLOY_API_KEY"')
    result = run_envsync("check", cwd=folder, env={"ENVSYNC_AWS_ROLE_ARN": ROLE, "GITLAB_CI": "true",
                                                   "DEPLOY_API_KEY": api_key})
    assert_refused(result, "$DEPLOY_API_KEY does not hold a JWT", "id_token_variable")
    assert local.received == []


@pytest.mark.parametrize("variable", ["CI_JOB_TOKEN", "ACTIONS_RUNTIME_TOKEN", "GITHUB_TOKEN", "A-B", "X;Y"])
def test_id_token_variable_cannot_name_the_ci_s_own(local: Recorder, run_envsync, tmp_path: Path,
                                                    variable: str) -> None:
    from tests.fakes.oidc_fake import mint

    folder = project(tmp_path, f"aws-sm://app?region=eu-west-1&endpoint=http://{local.address}",
                     f'id_token_variable = "{variable}"')
    result = run_envsync("check", cwd=folder, env={"ENVSYNC_AWS_ROLE_ARN": ROLE, "GITLAB_CI": "true",
                                                   variable: mint("sts.amazonaws.com")})
    assert_refused(result, "id_token_variable")
    assert local.received == []


# -- GCP ----------------------------------------------------------------------------------


@pytest.fixture
def gcp_env(gcp_fake, gcp_sts: GcpStsServer, github_oidc: GitHubOidcServer) -> dict[str, str]:
    return {**github_oidc.env(), **gcp_sts.env(), "GOOGLE_CLOUD_PROJECT": PROJECT,
            "ENVSYNC_GCP_WORKLOAD_IDENTITY_PROVIDER": GCP_PROVIDER}


def test_gcp_tls_endpoint_outside_google_needs_an_allowance(outside: Recorder, gcp_env, github_oidc, run_envsync,
                                                           tmp_path: Path) -> None:
    folder = project(tmp_path, f"gcp-sm://{PROJECT}/ci?endpoint={outside.address}&timeout=2")
    refused = run_envsync("check", cwd=folder, env=gcp_env)
    assert_refused(refused, "endpoint= in the store URI", f"ENVSYNC_ALLOW_ENDPOINTS={outside.address}")
    assert outside.received == [] and github_oidc.requests == []
    allowed = run_envsync("check", cwd=folder, env={**gcp_env, "ENVSYNC_ALLOW_ENDPOINTS": outside.address})
    assert allowed.code == 3, allowed.output
    assert outside.received


def test_gcp_plaintext_only_to_loopback_even_without_credentials(outside: Recorder, gcp_fake, run_envsync,
                                                                 tmp_path: Path) -> None:
    folder = project(tmp_path, f"gcp-sm://{PROJECT}/ci?endpoint={outside.address}&insecure=true&timeout=2")
    result = run_envsync("check", cwd=folder, env={"ENVSYNC_ALLOW_ENDPOINTS": outside.address})
    assert_refused(result, "insecure=true", "plaintext")
    assert outside.received == []


@pytest.mark.parametrize("variable", ["ENVSYNC_GCP_TOKEN_URL", "ENVSYNC_GCP_IAM_CREDENTIALS_URL"])
def test_gcp_token_urls_outside_google_are_refused(outside: Recorder, gcp_env, github_oidc, run_envsync,
                                                   tmp_path: Path, variable: str) -> None:
    folder = project(tmp_path, f"gcp-sm://{PROJECT}/ci?timeout=2")  # Google's own: never reached
    env = {**gcp_env, "ENVSYNC_GCP_SERVICE_ACCOUNT": "ci@envsync-test.iam.gserviceaccount.com",
           variable: f"https://{outside.address}/v1/token"}
    assert_refused(run_envsync("check", cwd=folder, env=env), variable, f"ENVSYNC_ALLOW_ENDPOINTS={outside.address}")
    plaintext = {**env, variable: f"http://{outside.address}/v1/token", "ENVSYNC_ALLOW_ENDPOINTS": outside.address}
    assert_refused(run_envsync("check", cwd=folder, env=plaintext), variable, "plaintext")
    assert outside.received == [] and github_oidc.requests == []


# -- Azure --------------------------------------------------------------------------------


def test_azure_vault_outside_azure_needs_an_allowance(outside: Recorder, azure_fake: FakeAzure, run_envsync,
                                                      tmp_path: Path) -> None:
    folder = project(tmp_path, f"azure-kv://{outside.address}/ci?retries=0")
    refused = run_envsync("check", cwd=folder, env=azure_fake.env())
    assert_refused(refused, "the vault host in the store URI", f"ENVSYNC_ALLOW_ENDPOINTS={outside.address}")
    assert outside.received == [] and azure_fake.token_requests == []
    allowed = run_envsync("check", cwd=folder, env={**azure_fake.env(), "ENVSYNC_ALLOW_ENDPOINTS": outside.address})
    assert allowed.code == 3, allowed.output
    assert outside.received


def test_azure_authority_outside_entra_is_refused(outside: Recorder, azure_fake: FakeAzure, run_envsync,
                                                  tmp_path: Path) -> None:
    folder = project(tmp_path, azure_fake.uri("ci", retries="0"))
    env = {**azure_fake.env(), "AZURE_AUTHORITY_HOST": f"https://{outside.address}"}
    assert_refused(run_envsync("check", cwd=folder, env=env), "AZURE_AUTHORITY_HOST",
                   f"ENVSYNC_ALLOW_ENDPOINTS={outside.address}")
    assert outside.received == [] and azure_fake.calls["challenge"] == 0


def test_azure_vault_cannot_choose_the_token_s_scope(azure_fake: FakeAzure, run_envsync, tmp_path: Path) -> None:
    azure_fake.challenge_resource = "https://management.azure.com"
    folder = project(tmp_path, azure_fake.uri("ci", retries="0"))
    result = run_envsync("check", cwd=folder, env=azure_fake.env())
    assert result.code == 3, result.output
    assert "asked for a token for 'https://management.azure.com/.default'" in result.stderr
    assert azure_fake.token_requests == []  # no token for another resource was even asked for


def test_doctor_reports_a_refused_token_per_target(azure_fake: FakeAzure, run_envsync, secret,
                                                   tmp_path: Path) -> None:
    import json

    folder = project(tmp_path, azure_fake.uri("ci", retries="0"),
                     'azure_tenant_id = "t"\nazure_client_id = "c"\nid_token_variable = "DEPLOY_API_KEY"')
    result = run_envsync("doctor", "--json", cwd=folder, env={**azure_fake.env(), "DEPLOY_API_KEY": secret()})
    assert result.code == 2, result.output
    identity = json.loads(result.stdout)["targets"][0]["checks"][0]
    assert identity["status"] == "failed" and "$DEPLOY_API_KEY does not hold a JWT" in identity["detail"]
    assert azure_fake.calls["challenge"] == 0 and azure_fake.token_requests == []


@pytest.mark.parametrize("vault, verified", [
    ("my-vault", True), ("my-vault.vault.azure.cn", True), ("my-vault.vault.usgovcloudapi.net", True),
    ("my-vault.privatelink.vaultcore.azure.net", False),  # the SDK's check cannot pass here: the pin does it
])
def test_azure_cloud_vault_hosts_open(azure_fake: FakeAzure, tmp_path: Path, vault: str, verified: bool) -> None:
    from envsync.config import Target
    from envsync.stores import open_store

    store = open_store(Target(name="t", file=tmp_path / ".env", store=f"azure-kv://{vault}/app", root=tmp_path))
    policy = next(p for p in store.client._client._client._pipeline._impl_policies
                  if hasattr(p, "_verify_challenge_resource"))
    assert policy._verify_challenge_resource is verified


@pytest.mark.parametrize("vault", ["my-vault.vault.azure.net.evil.example", "kv.corp.example:8443",
                                   "my-vault.azurewebsites.net"])
def test_azure_other_vault_hosts_need_an_allowance(azure_fake: FakeAzure, tmp_path: Path, vault: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from envsync.config import Target
    from envsync.stores import open_store

    target = Target(name="t", file=tmp_path / ".env", store=f"azure-kv://{vault}/app", root=tmp_path)
    with pytest.raises(InputError, match="ENVSYNC_ALLOW_ENDPOINTS="):
        open_store(target)
    monkeypatch.setenv("ENVSYNC_ALLOW_ENDPOINTS", vault)
    assert open_store(target).vault_url == f"https://{vault}"


@pytest.mark.parametrize("region", ["evil.example", "eu-west-1.evil"])
def test_aws_region_from_the_auth_table_is_a_region(local: Recorder, run_envsync, tmp_path: Path, region: str) -> None:
    folder = project(tmp_path, f"aws-sm://app?endpoint=http://{local.address}", f'aws_region = "{region}"')
    result = run_envsync("check", cwd=folder, env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
                                                   "AWS_EC2_METADATA_DISABLED": "true"})
    assert_refused(result, "aws_region", "ENVSYNC_AWS_REGION")
    assert local.received == []
