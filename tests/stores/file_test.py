"""The folder store (`file://`) beyond the contract: what lands on disk, URI forms, errors,
and compare-and-swap between real OS processes."""
from __future__ import annotations

import errno
import json
import multiprocessing
import os
import re
import stat
from pathlib import Path

import pytest

from envsync.config import Target
from envsync.errors import ApplyError, ConflictError, EnvSyncError, InputError, StoreError
from envsync.model import Change, Snapshot
from envsync.stores import open_store

LAYOUTS = ["bundle", "per-key"]
VERSION_FILE = re.compile(r"\d{8}\.json\Z")


def target(root: Path, uri: str, layout: str | None = None) -> Target:
    return Target(name="dev", file=root / ".env", store=uri, root=root, layout=layout)


def open_at(root: Path, uri: str, layout: str | None = None):
    return open_store(target(root, uri, layout))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    return project


def layout_uri(path: str, layout: str) -> str:
    return f"file://{path}?layout={layout}"


def fill(store, secret) -> dict[str, str]:
    """A few writes of every kind, one refused: returns the final values."""
    s1 = store.apply([Change("A", secret("a")), Change("B", secret("b")), Change("C", secret("c"))],
                     Snapshot(values={}))
    s2 = store.apply([Change("A", secret("a2")), Change("C", None)], s1)
    with pytest.raises((ConflictError, ApplyError)):
        store.apply([Change("A", secret("stale"))], s1)
    s3 = store.apply([Change("D", secret("d"))], s2)
    return dict(s3.values)


# -- on disk ---------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_folders_are_0700_and_files_0600(root: Path, layout: str, secret) -> None:
    old_umask = os.umask(0o022)
    try:
        store = open_at(root, layout_uri("deep/er/store", layout))
        fill(store, secret)
    finally:
        os.umask(old_umask)
    created = root / "deep"
    folders = [created, *(p for p in created.rglob("*") if p.is_dir())]
    files = [p for p in created.rglob("*") if not p.is_dir()]
    assert len(folders) >= 4 and files
    for folder in folders:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


@pytest.mark.parametrize("layout", LAYOUTS)
def test_version_documents_are_complete_json_and_no_temp_files_remain(root: Path, layout: str, secret) -> None:
    store = open_at(root, layout_uri("store", layout))
    final = fill(store, secret)
    folder = root / "store"
    files = [p for p in folder.rglob("*") if p.is_file()]
    strays = [p.name for p in files if not VERSION_FILE.match(p.name)]
    assert strays == [], f"files that are not version documents: {strays}"
    series = {}
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["envsync"] == 1
        assert document["created"] and document["author"]
        if layout == "bundle":
            assert isinstance(document["values"], dict)
        else:
            assert document["key"] == path.parent.name
            assert document["value"] is None or isinstance(document["value"], str)
        series.setdefault(path.parent, []).append(int(path.stem))
    for numbers in series.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), "version numbers have gaps"
    if layout == "bundle":
        latest = max(series[folder / "bundle"])
        assert json.loads((folder / "bundle" / f"{latest:08d}.json").read_text())["values"] == final
    else:
        assert json.loads((folder / "keys" / "C" / "00000002.json").read_text())["value"] is None  # tombstone


@pytest.mark.parametrize("layout", LAYOUTS)
def test_reading_a_missing_store_creates_nothing(root: Path, layout: str) -> None:
    store = open_at(root, layout_uri("nowhere/store", layout))
    snapshot = store.read()
    assert dict(snapshot.values) == {}
    assert store.history() == [] and store.history("A") == []
    assert store.read_versions({"A": "1"}) == {}
    assert store.info(snapshot).secrets == 0
    store.apply([], snapshot)
    assert not (root / "nowhere").exists()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_damaged_document_is_a_store_error_that_shows_no_content(root: Path, layout: str, secret) -> None:
    store = open_at(root, layout_uri("store", layout))
    store.apply([Change("A", secret("a"))], Snapshot(values={}))
    damaged = root / "store" / ("bundle" if layout == "bundle" else "keys/A") / "00000001.json"
    leaked = secret("leaked")
    damaged.write_text('{"values": {"A": "' + leaked)  # truncated
    with pytest.raises(StoreError) as caught:
        store.read()
    assert leaked not in str(caught.value)
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("content", ["{}", "[]"])
def test_a_document_of_the_wrong_shape_is_a_store_error(root: Path, layout: str, content: str, secret) -> None:
    store = open_at(root, layout_uri("store", layout))
    store.apply([Change("A", secret("a"))], Snapshot(values={}))
    folder = root / "store" / ("bundle" if layout == "bundle" else "keys/A")
    (folder / "00000001.json").write_text(content)
    with pytest.raises(StoreError):
        store.read()


# -- OS errors while writing -------------------------------------------------------


def _fail_link_after(monkeypatch: pytest.MonkeyPatch, successes: int) -> None:
    """Make `os.link` (how the store publishes a version) fail with ENOSPC after `successes` calls."""
    real_link = os.link
    calls = {"n": 0}

    def link(src, dst, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > successes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_link(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "link", link)


def test_bundle_write_failure_is_a_store_error(root: Path, monkeypatch: pytest.MonkeyPatch, secret) -> None:
    store = open_at(root, "file://store")
    first = store.apply([Change("A", secret("a"))], Snapshot(values={}))
    _fail_link_after(monkeypatch, 0)
    with pytest.raises(StoreError) as caught:
        store.apply([Change("B", secret("b"))], first)
    assert caught.value.exit_code == 3
    monkeypatch.undo()
    assert set(store.read().values) == {"A"}
    assert [p.name for p in (root / "store" / "bundle").iterdir()] == ["00000001.json"]


def test_per_key_write_failure_reports_what_was_applied(root: Path, monkeypatch: pytest.MonkeyPatch,
                                                        secret) -> None:
    store = open_at(root, "file://store?layout=per-key")
    _fail_link_after(monkeypatch, 1)
    with pytest.raises(ApplyError) as caught:
        store.apply([Change("A", secret("a")), Change("B", secret("b")), Change("C", secret("c"))],
                    Snapshot(values={}))
    assert isinstance(caught.value.cause, StoreError)
    assert (caught.value.applied, caught.value.not_applied) == (["A"], ["B", "C"])
    assert caught.value.exit_code == 3
    monkeypatch.undo()
    assert set(store.read().values) == {"A"}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_store_path_below_a_file_is_refused(root: Path, layout: str) -> None:
    (root / "notes.txt").write_text("not a folder\n")
    with pytest.raises(EnvSyncError):
        store = open_at(root, layout_uri("notes.txt/store", layout))
        store.apply([Change("A", "x")], store.read())


# -- URI forms -------------------------------------------------------------------------


def test_relative_uri_is_resolved_against_the_project_root(root: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    store = open_at(root, "file://.envsync/store")
    store.apply([Change("A", "1")], store.read())
    assert (root / ".envsync" / "store" / "bundle" / "00000001.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_absolute_uri(root: Path, tmp_path: Path) -> None:
    absolute = tmp_path / "shared" / "store"
    store = open_at(root, f"file://{absolute}")
    assert f"file://{absolute}".startswith("file:///")
    store.apply([Change("A", "1")], store.read())
    assert (absolute / "bundle" / "00000001.json").is_file()
    assert dict(open_at(tmp_path, f"file://{absolute}").read().values) == {"A": "1"}


def test_home_relative_uri(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    store = open_at(root, "file://~/secrets/app")
    store.apply([Change("A", "1")], store.read())
    assert (home / "secrets" / "app" / "bundle" / "00000001.json").is_file()


@pytest.mark.parametrize(("query", "target_layout", "expected"), [
    ("", None, "bundle"),
    ("?layout=bundle", None, "bundle"),
    ("?layout=per-key", None, "per-key"),
    ("", "per-key", "per-key"),
    ("", "bundle", "bundle"),
    ("?layout=per-key", "per-key", "per-key"),
])
def test_layout_from_uri_or_target(root: Path, query: str, target_layout: str | None, expected: str) -> None:
    store = open_at(root, f"file://store{query}", target_layout)
    assert store.layout == expected
    assert store.uri == f"file://store{query}"
    store.apply([Change("A", "1")], store.read())
    assert (root / "store" / ("bundle" if expected == "bundle" else "keys")).is_dir()
    assert not (root / "store" / ("keys" if expected == "bundle" else "bundle")).exists()


def test_scheme_is_case_insensitive(root: Path) -> None:
    assert open_at(root, "FILE://store").read().values == {}


@pytest.mark.parametrize(("uri", "says"), [
    ("file://store?region=eu-west-1", "region"),
    ("file://store?layout=per-key&endpoint=http://x", "endpoint"),
    ("file://store?layout=sideways", "sideways"),
    ("file://store?layout=bundle&layout=per-key", "twice"),
    ("file://store?layout", "malformed"),
    ("file://", "missing location"),
    ("file://?layout=per-key", "missing location"),
    ("file:/store", "not a store URI"),
    ("store", "not a store URI"),
    ("ftp://store", "unknown store scheme"),
])
def test_bad_uris_are_input_errors(root: Path, uri: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        open_at(root, uri)
    assert says in str(caught.value)
    assert caught.value.exit_code == 2
    assert list(root.iterdir()) == []


@pytest.mark.parametrize(("query", "target_layout"), [("?layout=per-key", "bundle"), ("?layout=bundle", "per-key")])
def test_layout_disagreeing_with_the_target_is_an_input_error(root: Path, query: str, target_layout: str) -> None:
    with pytest.raises(InputError) as caught:
        open_at(root, f"file://store{query}", target_layout)
    assert "disagrees" in str(caught.value) and "dev" in str(caught.value)


def test_store_path_that_is_a_file_is_an_input_error(root: Path) -> None:
    (root / "store").write_text("I am a file\n")
    with pytest.raises(InputError) as caught:
        open_at(root, "file://store")
    assert "is a file" in str(caught.value)
    assert (root / "store").read_text() == "I am a file\n"


# -- concurrency: two OS processes push against the same snapshot --------------------------

ROUNDS = 20


def _race_worker(barrier, inbox, outbox) -> None:
    """Runs in a spawned process: for each job, open the store, wait for the other worker,
    then apply at the same moment. Reports ('won'|'conflict'|'error', message, applied)."""
    while True:
        job = inbox.get()
        if job is None:
            return
        project, uri, expected, changes = job
        try:
            store = open_store(target(Path(project), uri))
            barrier.wait(timeout=30)
            store.apply(changes, expected)
            outbox.put(("won", "", []))
        except ApplyError as exc:
            kind = "conflict" if isinstance(exc.cause, ConflictError) else "error"
            outbox.put((kind, str(exc), list(exc.applied)))
        except ConflictError as exc:
            outbox.put(("conflict", str(exc), []))
        except BaseException as exc:  # report, never hang the other side
            outbox.put(("error", f"{type(exc).__name__}: {exc}", []))


@pytest.fixture(scope="module")
def race_workers():
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = []
    for _ in range(2):
        inbox, outbox = context.Queue(), context.Queue()
        process = context.Process(target=_race_worker, args=(barrier, inbox, outbox), daemon=True)
        process.start()
        workers.append((process, inbox, outbox))
    yield [(inbox, outbox) for _, inbox, outbox in workers]
    for process, inbox, _ in workers:
        inbox.put(None)
    for process, _, _ in workers:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


def _changes(side: str, round_number: int) -> list[Change]:
    # B deletes the shared key every third round, but not on a fresh store (every fifth round),
    # where it does not exist yet and deleting it is no change at all.
    deletes = side == "B" and round_number % 3 == 2 and round_number % 5 != 0
    shared = None if deletes else f"{side}-{round_number}"
    # the clashing key first, so a loser (per-key) is refused before it writes anything
    return [Change("SHARED", shared), Change(f"ONLY_{side}_{round_number}", side)]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_processes_pushing_at_once_never_lose_an_update(root: Path, layout: str, race_workers) -> None:
    raced = 0
    for number in range(ROUNDS):
        uri = f"file://race/{layout}-{number // 5}?layout={layout}"  # a fresh store every 5 rounds
        store = open_at(root, uri)
        expected = store.read()
        versions_before = len(store.history())
        jobs = {"A": _changes("A", number), "B": _changes("B", number)}
        for (inbox, _), side in zip(race_workers, jobs):
            inbox.put((str(root), uri, expected, jobs[side]))
        results = {side: outbox.get(timeout=60) for (_, outbox), side in zip(race_workers, jobs)}
        kinds = sorted(kind for kind, _, _ in results.values())
        assert kinds == ["conflict", "won"], f"round {number}: {results}"
        winner = next(side for side, (kind, _, _) in results.items() if kind == "won")
        loser = "B" if winner == "A" else "A"
        assert results[loser][2] == [], f"round {number}: the loser still wrote {results[loser][2]}"
        # per-key losers either failed the version check or lost the exclusive link ("just
        # now"); the bundle has only the link. Count rounds the link itself decided.
        raced += layout == "bundle" or "just now" in results[loser][1]
        wanted = dict(expected.values)
        for change in jobs[winner]:
            if change.value is None:
                wanted.pop(change.key, None)
            else:
                wanted[change.key] = change.value
        assert dict(store.read().values) == wanted, f"round {number}: winner {winner}"
        added = len(store.history()) - versions_before
        assert added == (1 if layout == "bundle" else len(jobs[winner])), f"round {number}: {added} versions"
    assert raced >= 1, "no round overlapped: the processes never raced"
