"""Fixtures shared by the leak guard's tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.scan.corpus import Corpus, render_corpus
from tests.scan.repos import init_repo


@pytest.fixture
def corpus(tmp_path: Path, secret, leak_watch) -> Corpus:
    repo = init_repo(tmp_path / "repo")
    return render_corpus(repo, secret, leak_watch.values.add)
