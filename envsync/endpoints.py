"""Where credentials may go (SECURITY.md, "What EnvSync defends against" 3).

A store URI, an auth table or a CI variable can name a host; EnvSync signs requests to
it or hands it the job's OIDC token. So a host is accepted only if it is
- one of the cloud's own service hosts (or their private-link forms), or
- loopback (127.0.0.0/8, ::1, localhost: emulators and test fakes), or
- named in ENVSYNC_ALLOW_ENDPOINTS, which only the environment can set (never a
  committed file): hosts or host:port, comma or space separated;
and anything but loopback must be https, allowance or not.

Every check here is pure: it runs before any network call and raises InputError
naming the setting to change.
"""
from __future__ import annotations

import ipaddress
import os
import re
from typing import Callable, Iterable, Mapping
from urllib.parse import urlsplit

from envsync.errors import InputError

ALLOW_VARIABLE = "ENVSYNC_ALLOW_ENDPOINTS"

# AWS: not every *.amazonaws.com host is AWS's own — EC2 public names
# (*.compute.amazonaws.com), load balancers (*.elb.amazonaws.com) and API Gateway
# (*.execute-api.REGION.amazonaws.com) answer for whoever rents them. So the host must
# name the service: SERVICE[-fips].REGION.SUFFIX, the global sts.amazonaws.com, or an
# interface VPC endpoint vpce-ID[-AZ].SERVICE.REGION.vpce.SUFFIX.
# The suffixes are botocore's partitions' dnsSuffix / dualStackDnsSuffix (aws, aws-us-gov,
# aws-cn, aws-eusc); the air-gapped ISO partitions need an allowance.
AWS_SUFFIXES = ("amazonaws.com", "api.aws", "amazonaws.com.cn", "api.amazonwebservices.com.cn",
                "amazonaws.eu", "api.amazonwebservices.eu")
_AWS_SUFFIX = "|".join(re.escape(s) for s in AWS_SUFFIXES)
_AWS_REGION = r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}"

# GCP: Google runs every *.googleapis.com host (regional `*.rep.googleapis.com` and
# Private Service Connect `*.p.googleapis.com` included); customers' own services live
# under run.app, appspot.com, cloudfunctions.net, never here.
GCP_SUFFIXES = ("googleapis.com",)

# Azure: Key Vault hosts of each cloud, their private-link names, and Entra's authority
# hosts (azure.identity.AzureAuthorityHosts, plus the retired German cloud).
AZURE_VAULT_SUFFIXES = ("vault.azure.net", "vault.azure.cn", "vault.usgovcloudapi.net", "vault.microsoftazure.de",
                        "managedhsm.azure.net", "managedhsm.azure.cn", "managedhsm.usgovcloudapi.net",
                        "privatelink.vaultcore.azure.net", "privatelink.vaultcore.azure.cn",
                        "privatelink.vaultcore.usgovcloudapi.net")
AZURE_AUTHORITY_HOSTS = ("login.microsoftonline.com", "login.chinacloudapi.cn", "login.microsoftonline.us",
                         "login.microsoftonline.de")

_NETLOC = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?\Z")


def aws_service_host(host: str, service: str) -> bool:
    """Whether `host` is AWS's own endpoint for `service` (secretsmanager, sts)."""
    name = re.escape(service)
    return bool(re.fullmatch(rf"{name}(?:-fips)?\.{_AWS_REGION}\.(?:{_AWS_SUFFIX})", host)
                or re.fullmatch(rf"vpce-[a-z0-9-]+\.{name}\.{_AWS_REGION}\.vpce\.(?:{_AWS_SUFFIX})", host)
                or (service == "sts" and host in ("sts.amazonaws.com", "sts.amazonaws.com.cn")))


def under(host: str, suffixes: Iterable[str]) -> bool:
    """Whether `host` is one of `suffixes` or a name below one of them."""
    return any(host == s or host.endswith("." + s) for s in suffixes)


def is_loopback(host: str) -> bool:
    host = normal(host)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed(host: str, port: int | None, env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment's ENVSYNC_ALLOW_ENDPOINTS names this host (any port) or host:port."""
    env = os.environ if env is None else env
    host = normal(host)
    for entry in re.split(r"[\s,]+", env.get(ALLOW_VARIABLE, "").strip()):
        if not entry:
            continue
        _check_entry(entry)
        parts = urlsplit("//" + entry)
        try:
            entry_host, entry_port = parts.hostname, parts.port
        except ValueError:
            continue
        if entry_host and normal(entry_host) == host and entry_port in (None, port):
            return True
    return False


def _check_entry(entry: str) -> None:
    """An entry is HOST, HOST:PORT or [IPV6][:PORT]; a URL, a wildcard or a bare IPv6
    address would otherwise match some other host, or none, without a word."""
    if "://" in entry or "*" in entry or (not entry.startswith("[") and entry.count(":") > 1):
        raise InputError(f"{ALLOW_VARIABLE}: {entry!r} is not a host — give HOST, HOST:PORT or [IPV6]:PORT "
                         "(no scheme, no wildcard, IPv6 in brackets)")


def check_url(url: str, *, where: str, setting: str, trusted: Callable[[str], bool]) -> None:
    """Refuse a URL credentials would go to: not https off loopback, or a host that is
    neither `trusted` (the cloud's own), loopback, nor allowed by the environment.
    `where` starts the message (the file or URI), `setting` is what to change."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _NETLOC.match(parts.netloc) or not parts.hostname:
        raise InputError(f"{where}: {setting} {url!r} must be a URL like https://HOST[:PORT] (no user name, "
                         "nothing unusual in the host)")
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"{where}: {setting} {url!r} has a port that is not a number up to 65535") from None
    check_host(parts.hostname, port, where=where, setting=setting, trusted=trusted, tls=parts.scheme == "https")


def check_host(host: str, port: int | None, *, where: str, setting: str, trusted: Callable[[str], bool],
               tls: bool) -> None:
    """The same rule for a bare host (a gRPC HOST:PORT, a Key Vault host)."""
    if is_loopback(host):
        return
    shown = _shown(host, port)
    if not tls:
        raise InputError(f"{where}: plaintext to {shown} would carry credentials over the network — only loopback "
                         f"(localhost, 127.0.0.1, ::1) may be plaintext; change {setting} to use TLS (https)")
    if trusted(normal(host)) or allowed(host, 443 if port is None else port):  # TLS here: 443 by default
        return
    raise InputError(f"{where}: {shown} is not the cloud's own endpoint, and credentials would be sent there — "
                     f"change {setting}, or, if you run that endpoint, allow it from the environment (never a "
                     f"committed file): {ALLOW_VARIABLE}={shown}")


def normal(host: str) -> str:
    """A host as compared: lower case, no brackets, no trailing dot."""
    return host.strip("[]").rstrip(".").lower()


def _shown(host: str, port: int | None) -> str:
    host = normal(host)
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host
