"""The `aws` fixture: moto's server, wiped, with this test's AWS environment isolated."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.aws_server import isolate_aws_env, share_botocore_loader
from tests.stores.aws.emulator import Aws


@pytest.fixture
def aws(moto_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    moto_server.reset()
    isolate_aws_env(monkeypatch, tmp_path)
    share_botocore_loader(monkeypatch)
    return Aws(moto_server.endpoint, tmp_path)
