"""The engine's ordering and safety: store first, then the file, then the base;
anything that moved since the plan stops the run without losing a change."""
from __future__ import annotations

import errno
from pathlib import Path

import pytest
from dotenv.main import resolve_variables

from envsync import config, engine, state
from envsync.errors import ApplyError, ConflictError, InputError
from envsync.model import Change, Mode, OnConflict
from envsync.stores import open_store


def make_target(root: Path, layout: str = "bundle", expand: bool = False) -> config.Target:
    return config.Target(name="dev", file=root / ".env", store=f"file://store?layout={layout}",
                         root=root, expand=expand)


def run(target: config.Target, mode: Mode = Mode.SYNC, **kwargs) -> engine.Outcome:
    context = engine.prepare(target, must_exist=False)
    return engine.apply(context, engine.plan(context, mode, **kwargs))


@pytest.mark.parametrize("values", [
    {"A": "x", "B": "${A}-y"},
    {"C": "${ENGINE_TEST_HOME}/${NOPE:-fallback}"},
    {"D": "$A stays", "E": "${E_SELF:-}"},
    {"A": "1", "B": "${A}", "A2": "${B}${B}"},
])
def test_expansion_matches_python_dotenv(values, monkeypatch):
    monkeypatch.setenv("ENGINE_TEST_HOME", "/home/x")
    assert engine.expand_variables(values) == dict(resolve_variables(values.items(), override=True))


def test_expand_pushes_expanded_values(tmp_path: Path):
    (tmp_path / ".env").write_text("HOST=db\nURL=postgres://${HOST}/app\n")
    target = make_target(tmp_path, expand=True)
    run(target, Mode.PUSH)
    assert dict(open_store(target).read().values) == {"HOST": "db", "URL": "postgres://db/app"}
    assert (tmp_path / ".env").read_text().endswith("URL=postgres://${HOST}/app\n")


@pytest.mark.parametrize("layout", ["bundle", "per-key"])
def test_store_moved_after_the_plan_changes_nothing(tmp_path: Path, layout: str, secret):
    target = make_target(tmp_path, layout)
    (tmp_path / ".env").write_text(f"A={secret()}\n")
    run(target, Mode.PUSH)
    (tmp_path / ".env").write_text(f"A={secret()}\nB={secret()}\n")
    context = engine.prepare(target, must_exist=True)
    plan = engine.plan(context, Mode.PUSH)
    store = open_store(target)
    store.apply([Change("A", secret("other-writer"))], store.read())  # someone else, meanwhile
    before = (tmp_path / ".env").read_bytes(), state.load(tmp_path)
    with pytest.raises((ConflictError, ApplyError)) as caught:
        engine.apply(context, plan)
    assert caught.value.exit_code == 1
    assert ((tmp_path / ".env").read_bytes(), state.load(tmp_path)) == before


def test_file_edited_during_a_pull_is_kept_and_the_run_converges(tmp_path: Path, secret):
    target = make_target(tmp_path)
    store = open_store(target)
    store.apply([Change("FROM_STORE", secret("store"))], store.read())
    (tmp_path / ".env").write_text("MINE=1\n")
    context = engine.prepare(target, must_exist=False)
    plan = engine.plan(context, Mode.PULL)
    edited = f"MINE=1\nTYPED_MEANWHILE={secret('typed')}\n"
    (tmp_path / ".env").write_text(edited)
    with pytest.raises(ConflictError, match="changed on disk"):
        engine.apply(context, plan)
    assert (tmp_path / ".env").read_text() == edited
    run(target, Mode.PULL)
    assert "FROM_STORE=" in (tmp_path / ".env").read_text()
    assert "TYPED_MEANWHILE=" in (tmp_path / ".env").read_text()


def test_store_written_but_file_not_converges_on_the_next_run(tmp_path: Path, secret):
    """A merge writes both sides; if the file write fails after the store was written,
    the old base stays recorded and re-running the same merge finishes the job."""
    target = make_target(tmp_path)
    base = "postgres://app@db:5432/app?pool=5"
    (tmp_path / ".env").write_text(f"URL={base}\n")
    run(target, Mode.PUSH)
    store = open_store(target)
    store.apply([Change("URL", base.replace("pool=5", "pool=9"))], store.read())
    (tmp_path / ".env").write_text(f"URL={base.replace('5432', '6432')}\n")
    context = engine.prepare(target, must_exist=True)
    plan = engine.plan(context, Mode.SYNC, on_conflict=OnConflict.MERGE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("envsync.fsutil.os.replace", _disk_full)
        with pytest.raises(InputError, match="run `envsync pull dev` to finish"):
            engine.apply(context, plan)
    assert (tmp_path / ".env").read_text() == f"URL={base.replace('5432', '6432')}\n"
    run(target, Mode.SYNC, on_conflict=OnConflict.MERGE)
    merged = "postgres://app@db:6432/app?pool=9"
    assert dict(open_store(target).read().values) == {"URL": merged}
    assert (tmp_path / ".env").read_text() == f"URL='{merged}'\n"  # `?` is quoted: a shell may glob it


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_no_change_run_records_the_base(tmp_path: Path):
    target = make_target(tmp_path)
    (tmp_path / ".env").write_text("A=1\n")
    store = open_store(target)
    store.apply([Change("A", "1")], store.read())
    assert state.base_versions(tmp_path, "dev", store.uri, "bundle") is None
    outcome = run(target)
    assert (outcome.pushed, outcome.pulled) == (0, 0)
    assert state.base_versions(tmp_path, "dev", store.uri, "bundle") == {"A": "1"}


def test_given_values_write_the_store_only(tmp_path: Path, secret):
    """push --from-schema / --from-env: no file is read or written, no base recorded."""
    target = make_target(tmp_path)
    (tmp_path / ".env").write_text("NOT_READ=1\n")
    before = (tmp_path / ".env").read_bytes()
    store, remote = engine.read_store(target)
    value = secret()
    context = engine.prepare_given(target, store, remote, {"A": value}, ".env.example")
    assert engine.apply(context, engine.plan(context, Mode.PUSH, force=True)).pushed == 1
    assert dict(open_store(target).read().values) == {"A": value}
    assert (tmp_path / ".env").read_bytes() == before and not state.state_path(tmp_path).exists()

    store, remote = engine.read_store(target)
    context = engine.prepare_given(target, store, remote, {}, ".env.example")
    with pytest.raises(ValueError, match="must not write the local file"):
        engine.apply(context, engine.plan(context, Mode.PULL))
    assert (tmp_path / ".env").read_bytes() == before


def test_a_store_value_no_env_form_can_hold_is_skipped_and_the_rest_pulled(tmp_path: Path, run_envsync, secret):
    (tmp_path / "envsync.toml").write_text('[targets.dev]\nfile = ".env"\nstore = "file://store"\n')
    good = secret("good")
    (tmp_path / ".env").write_text("KEEP=kept\n")
    assert run_envsync("push", "dev", "--yes", cwd=tmp_path).code == 0
    assert run_envsync("set", "dev", "BAD", "--yes", cwd=tmp_path, input="it's $(id)\n").code == 0
    assert run_envsync("set", "dev", "GOOD", "--yes", cwd=tmp_path, input=good + "\n").code == 0
    planned = run_envsync("plan", "dev", "--mode", "pull", cwd=tmp_path)
    assert planned.code == 1, planned.output
    assert "BAD" in planned.stdout and "skip" in planned.stdout and "cannot be written safely" in planned.stdout
    assert "pull-add" in planned.stdout  # GOOD
    pulled = run_envsync("pull", "dev", "--yes", cwd=tmp_path)
    assert pulled.code == 1, pulled.output
    assert "BAD" in pulled.stdout and "envsync run" in pulled.stdout
    text = (tmp_path / ".env").read_text()
    assert f"GOOD={good}" in text and "BAD" not in text and "$(id)" not in text
    again = run_envsync("sync", "dev", "--yes", cwd=tmp_path)  # still not in sync, nothing deleted
    assert again.code == 1, again.output
    assert "push-delete" not in again.stdout
    assert "BAD" not in (tmp_path / ".env").read_text()


def test_a_merge_result_no_env_form_can_hold_is_skipped():
    from envsync.plan import UNWRITABLE, Action, Item, Plan

    merged = Item("M", Action.MERGE, "a\nb'", "a\nc'", base="a'", merged="it's $(id)")
    fine = Item("F", Action.PULL_ADD, None, "plain")
    plan = engine.skip_unwritable(Plan(Mode.SYNC, (merged, fine)))
    assert [(i.key, i.action, i.reason) for i in plan.items] == [("M", Action.SKIP, UNWRITABLE), ("F", Action.PULL_ADD, "")]
    assert [i.key for i in plan.skipped_unwritable] == ["M"]
