"""envsync/stores/__init__.py: the registry built from one declaration per backend."""
from __future__ import annotations

import pytest

from envsync import config, stores


@pytest.mark.parametrize("uri, extra", [
    ("aws-sm://app/prod?region=eu-west-1", "aws"),
    ("AWS-SM://app/prod", "aws"),  # parse_uri reads the scheme in any case; so must the extra
    ("gcp-sm://my-project/app", "gcp"),
    ("azure-kv://my-vault/app", "azure"),
    ("file://.envsync/store", None),
    ("s3://bucket", None),
])
def test_extra_for_names_the_pip_extra_a_store_needs(uri: str, extra: str | None) -> None:
    assert stores.extra_for(uri) == extra


def test_schemes_and_extras_come_from_the_declarations() -> None:
    assert list(stores.SCHEMES) == ["file", "aws-sm", "gcp-sm", "azure-kv"]
    assert stores.EXTRAS == {"aws-sm": "aws", "gcp-sm": "gcp", "azure-kv": "azure"}


def test_auth_keys_are_each_backends_and_the_id_tokens() -> None:
    assert config.AUTH_KEYS == {
        "aws_role_arn", "aws_role_session_name", "aws_role_duration", "aws_region",
        "gcp_workload_identity_provider", "gcp_service_account",
        "azure_tenant_id", "azure_client_id", "audience", "id_token_variable",
    }
