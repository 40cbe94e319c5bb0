"""envsync/stores/gcp/connect.py: what a gcp-sm:// URI may say, and where the project comes from."""
from __future__ import annotations

import pytest

from envsync.errors import InputError
from tests.stores.gcp.secret_manager import EMPTY, apply, open_at


def test_project_from_google_cloud_project(gcp_fake, tmp_path, monkeypatch):
    uri = f"gcp-sm:///app?endpoint={gcp_fake.endpoint}&insecure=true&layout=per-key"
    with pytest.raises(InputError, match="no GCP project"):
        open_at(tmp_path, uri)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "other-project")
    apply(open_at(tmp_path, uri), {"K": "v"}, EMPTY)
    apply(open_at(tmp_path, uri.replace(":///", "://-/")), {"L": "w"}, EMPTY)
    assert gcp_fake.secret_ids("other-project") == ["app_K", "app_L"] and gcp_fake.secret_ids() == []


@pytest.mark.parametrize("uri, message", [
    ("gcp-sm://p-roject?endpoint=h:1&insecure=true&region=x", "unknown option 'region'"),
    ("gcp-sm://p-roject?insecure=true", "needs endpoint=HOST:PORT"),
    ("gcp-sm://p-roject?endpoint=http://h:1&insecure=true", "must be HOST:PORT"),
    ("gcp-sm://p-roject?endpoint=h:1&insecure=maybe", "must be true or false"),
    ("gcp-sm://p-roject?endpoint=h:1&insecure=true&keep_versions=0", "keep_versions='0'"),
    ("gcp-sm://p-roject?endpoint=h:1&insecure=true&timeout=never", "timeout='never'"),
    ("gcp-sm://Bad_Project/app?endpoint=h:1&insecure=true", "not a GCP project id"),
    ("gcp-sm://p-roject/my.app?endpoint=h:1&insecure=true", "PREFIX 'my.app'"),
    ("gcp-sm://p-roject?endpoint=h:1&insecure=true&layout=flat", "must be bundle or per-key"),
])
def test_bad_uris_are_input_errors(tmp_path, uri, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.").replace("?", r"\?")) as caught:
        open_at(tmp_path, uri)
    assert caught.value.exit_code == 2
