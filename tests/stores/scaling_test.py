"""Store-side deletions cost work linear in the number of keys, on every store and layout
(issue 16): the file store, AWS on moto's server, GCP and Azure on their fakes.

Like tests/scaling_test.py this counts instead of timing: the lines of EnvSync's own code
executed (in every thread: the cloud stores write from a pool) while a store is read and
then applies half its keys deleted, a tenth changed and a tenth added, for n and 4n keys.
Linear work grows just under 4x; the test fails above 5x.
"""
from __future__ import annotations

import contextlib
import itertools
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

import envsync
from envsync.model import Change, Snapshot
from tests.fakes.azure_fake import FakeAzure
from tests.fakes.gcp_fake import FakeSecretManager
from tests.stores.conftest import Backend, StoreMaker

PACKAGE = str(Path(envsync.__file__).parent)
SMALL = 25
MAX_GROWTH = 5.0


@contextlib.contextmanager
def counted_lines() -> Iterator[itertools.count]:
    """Counts the lines of EnvSync's code run in any thread started meanwhile, or this one;
    `next(counter)` is atomic, so pool threads may share it."""
    counter = itertools.count()

    def local(frame, event, arg):
        if event == "line":
            next(counter)
        return local

    def on_call(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    threading.settrace(on_call)
    sys.settrace(on_call)
    try:
        yield counter
    finally:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]


@pytest.fixture
def gcp_backend(gcp_fake: FakeSecretManager) -> Backend:  # noqa: F811 - the fixture, used by name
    counter = itertools.count(1)
    return Backend(kind="gcp", fresh_uri=lambda layout: gcp_fake.uri(f"scale/{layout}-{next(counter)}", layout))


@pytest.fixture
def azure_backend(azure_fake: FakeAzure) -> Backend:  # noqa: F811 - the fixture, used by name
    counter = itertools.count(1)
    return Backend(kind="azure",
                   fresh_uri=lambda layout: azure_fake.uri(f"sc{next(counter)}-{layout}", layout, retries="0"))


@pytest.fixture(params=["file", "aws", "gcp", "azure"])
def any_backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


def changes_with_deletions(n: int) -> list[Change]:
    deleted = [Change(f"KEY_{i}", None) for i in range(0, n, 2)]
    changed = [Change(f"KEY_{i}", f"changed-{i}") for i in range(1, n, 10)]
    added = [Change(f"NEW_{i}", f"new-{i}") for i in range(n // 10)]
    return deleted + changed + added


def test_store_side_deletions_grow_linearly(any_backend: Backend, layout: str, tmp_path: Path):
    lines = {}
    for n in (SMALL, 4 * SMALL):
        root = tmp_path / str(n)
        root.mkdir()
        store = StoreMaker(any_backend, root)(layout)
        store.apply([Change(f"KEY_{i}", f"value-{i}") for i in range(n)], Snapshot(values={}))
        with counted_lines() as counter:
            after = store.apply(changes_with_deletions(n), store.read())
        lines[n] = next(counter)
        assert len(after.values) == n - len(range(0, n, 2)) + n // 10
    growth = lines[4 * SMALL] / lines[SMALL]
    print(f"FIGURE store deletions {any_backend.kind} {layout}: {lines} -> {growth:.2f}x")
    assert growth <= MAX_GROWTH, f"4x the keys cost {growth:.1f}x the lines ({lines})"
