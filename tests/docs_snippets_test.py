"""Every code block in README.md and docs/*.md parses, so a copy-pasted example cannot be
broken: YAML with yaml.safe_load_all (a GitLab spec header and its jobs are two documents),
whole GitHub workflows, GitHub step lists and GitLab pipelines also against check-jsonschema's
vendor schemas, shell with `bash -n`, TOML and JSON with their parsers. And the shell
completion the README documents is produced.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.ci_kit.conftest import clean_env, tool

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```[ \t]*$", re.S | re.M)
ENVSYNC = str(Path(sys.executable).parent / "envsync")


@dataclass(frozen=True)
class Snippet:
    path: Path
    line: int
    language: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            indent = len(match.group(1))
            body = "".join(line[indent:] for line in match.group(3).splitlines(keepends=True))
            found.append(Snippet(path, text[:match.start()].count("\n") + 1, match.group(2), body))
    return found


ALL = snippets()


def of(*languages: str) -> list[Snippet]:
    return [s for s in ALL if s.language in languages]


def check_jsonschema(schema: str, document: object, where: Snippet, tmp_path: Path) -> None:
    path = tmp_path / f"{where.path.stem}-{where.line}.json"
    path.write_text(json.dumps(document))
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{where}: {proc.stdout}{proc.stderr}"


def test_every_block_names_a_language_this_test_checks():
    assert ALL, "no code blocks found"
    checked = {"yaml", "sh", "toml", "json", "text"}
    unchecked = [f"{s} ({s.language or 'no language'})" for s in ALL if s.language not in checked]
    assert not unchecked, unchecked
    for path in DOCS:  # an unmatched fence would hide the blocks after it
        fences = re.findall(r"^ *```", path.read_text(encoding="utf-8"), re.M)
        assert len(fences) == 2 * sum(s.path == path for s in ALL), path.name


@pytest.mark.parametrize("snippet", of("yaml"), ids=str)
def test_yaml_blocks_parse_and_ci_files_match_their_schemas(snippet, tmp_path):
    documents = list(yaml.safe_load_all(snippet.text))
    assert documents and all(d is not None for d in documents), snippet
    if len(documents) == 2 and "spec" in documents[0]:  # a GitLab component: header, then jobs
        documents = documents[1:]
    for document in documents:
        if isinstance(document, list):  # steps of a GitHub job
            workflow = {"on": "push", "jobs": {"job": {"runs-on": "ubuntu-latest", "steps": document}}}
            check_jsonschema("vendor.github-workflows", workflow, snippet, tmp_path)
        elif "jobs" in document and True in document:  # a whole workflow (YAML 1.1 reads `on:` as true)
            document["on"] = document.pop(True)
            check_jsonschema("vendor.github-workflows", document, snippet, tmp_path)
        elif "include" in document or any(isinstance(job, dict) and "script" in job for job in document.values()):
            check_jsonschema("vendor.gitlab-ci", document, snippet, tmp_path)
        else:
            assert "repos" in document, f"{snippet}: a YAML block this test does not know how to check"


@pytest.mark.parametrize("snippet", of("sh"), ids=str)
def test_shell_blocks_parse_with_bash(snippet):
    proc = subprocess.run(["bash", "-n"], input=snippet.text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"{snippet}: {proc.stderr}"


@pytest.mark.parametrize("snippet", of("toml"), ids=str)
def test_toml_blocks_parse(snippet):
    assert isinstance(tomllib.loads(snippet.text), dict)


@pytest.mark.parametrize("snippet", of("json"), ids=str)
def test_json_blocks_parse(snippet):
    assert json.loads(snippet.text) is not None


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F _envsync_completion envsync"),
                                               ("zsh", "#compdef envsync"),
                                               ("fish", "complete --no-files --command envsync")])
def test_the_documented_completion_scripts_are_produced(shell, marker):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"_ENVSYNC_COMPLETE={shell}_source envsync" in readme
    proc = subprocess.run([ENVSYNC], env=clean_env(_ENVSYNC_COMPLETE=f"{shell}_source"), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and marker in proc.stdout, proc.stdout + proc.stderr


def test_completion_offers_the_commands(tmp_path):
    env = clean_env(_ENVSYNC_COMPLETE="bash_complete", COMP_WORDS="envsync ch", COMP_CWORD="1")
    proc = subprocess.run([ENVSYNC], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "plain,check" in proc.stdout.splitlines(), proc.stdout + proc.stderr
