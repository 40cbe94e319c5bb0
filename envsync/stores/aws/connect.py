"""AWS Secrets Manager: `aws-sm://NAME_OR_PREFIX?region=&profile=&endpoint=&layout=`.

`endpoint=` must be a Secrets Manager host of AWS (regional, FIPS, dual-stack or a VPC
endpoint), loopback (http allowed there: emulators), or https to a host that
ENVSYNC_ALLOW_ENDPOINTS allows (envsync.endpoints); AWS_ENDPOINT_URL is boto3's own,
the environment's choice, and not checked.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from envsync import endpoints
from envsync.errors import InputError
from envsync.stores import resolve_layout
from envsync.stores.aws import auth
from envsync.stores.aws.store import WORKERS, AwsStore
from envsync.stores.base import StoreOptions
from envsync.stores.uri import StoreURI

if TYPE_CHECKING:
    from envsync.config import Target

OPTIONS = {"region", "profile", "endpoint", "layout", "recovery_days"}


def open_store(uri: StoreURI, target: Target, options: StoreOptions) -> AwsStore:
    uri.require_known_options(OPTIONS)
    name = uri.location.strip("/")
    if not name:
        raise InputError(f"target {target.name}: aws-sm:// needs a secret name or prefix")
    _check_endpoint_and_region(uri)
    recovery = uri.option("recovery_days", "7") or "7"
    if not recovery.isdigit() or not 7 <= int(recovery) <= 30:
        raise InputError(f"store {uri.text!r}: recovery_days must be 7 to 30 (AWS's recovery window)")
    session, client = auth.session(uri, target, connections=WORKERS * 2)
    store = AwsStore(uri.text, name, resolve_layout(uri, target), client, options, int(recovery))
    store.session, store.endpoint = session, uri.option("endpoint")
    return store


def _check_endpoint_and_region(uri: StoreURI) -> None:
    endpoint, region = uri.option("endpoint"), uri.option("region")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise InputError(f"store {uri.text!r}: endpoint={endpoint!r} must be a URL like http://localhost:4566 "
                             "(scheme, host and an optional port up to 65535)")
        # Requests to it are signed with the run's keys, and a plaintext one also gets the
        # OIDC token at STS (auth.sts_endpoint): AWS's own hosts, loopback or an allowance only.
        endpoints.check_url(endpoint, where=f"store {uri.text!r}", setting="endpoint= in the store URI",
                            trusted=lambda host: endpoints.aws_service_host(host, "secretsmanager"))
    if region is not None and not auth.REGION.match(region):
        raise InputError(f"store {uri.text!r}: region={region!r} is not an AWS region name (e.g. eu-west-1)")
