"""`envsync targets --json`: the CI matrix, with the pip extra each target's store needs."""
from __future__ import annotations

import json

from tests.commands.helpers import write_config


def test_targets_json_names_the_pip_extra_of_each_store(run_envsync, tmp_path):
    write_config(tmp_path, {"dev": "file://.envsync/dev", "aws": "aws-sm://app/prod?region=eu-west-1",
                            "gcp": "gcp-sm://my-project/app", "azure": "azure-kv://my-vault/app"})
    result = run_envsync("targets", "--json", cwd=tmp_path)
    assert result.code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["target"]: row["extra"] for row in rows} == {"dev": None, "aws": "aws", "gcp": "gcp",
                                                            "azure": "azure"}
    assert all(list(row) == ["target", "file", "store", "scheme", "schema", "extra"] for row in rows)
    text = run_envsync("targets", cwd=tmp_path)
    assert text.code == 0 and text.stdout.splitlines()[0] == "dev\t.env.dev\tfile://.envsync/dev"
