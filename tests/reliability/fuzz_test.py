"""Property-based fuzzing (hypothesis), bounded to run in well under a minute.

- The `.env` reader/writer: random bytes either raise InputError or parse and render
  back byte for byte; random sequences of edits (set, unset) keep every line they do
  not touch byte-identical and read back as the values they set.
- The planner: random local/base/remote snapshots, mode, prune and conflict strategy
  hold the invariants: no deletion without --prune, push never writes the local file,
  pull never writes the store, sync without conflicts or skips converges (after
  applying it both sides are equal, and a second plan is empty), and the plan is
  deterministic.

Examples per test: EXAMPLES (ENVSYNC_FUZZ_EXAMPLES, or 5,000 with ENVSYNC_CAMPAIGN=full: campaign.py).
"""
from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envsync import dotenv_file
from envsync.errors import InputError
from envsync.merge import merge3
from envsync.model import Mode, OnConflict
from envsync.plan import DELETES, PULLS, PUSHES, UNKNOWN, Action, make_plan, resolve
from tests.reliability.campaign import size

EXAMPLES = size("ENVSYNC_FUZZ_EXAMPLES", ci=1500, full=5000)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=False)

# -- the .env reader/writer -------------------------------------------------------------

# bytes that matter to the grammar, so random files hit the interesting paths often
ENV_ALPHABET = b"AZaz_09.-= \t#'\"\\$\r\n{}x\xc3\xa9\xff\x00"
env_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from([bytes([c]) for c in ENV_ALPHABET]), max_size=120).map(b"".join),
    st.lists(st.sampled_from([b"A=1", b"B='x y'", b'C="a\\nb"', b"export D=2", b"# c", b"", b"E", b"F= #x",
                              b'G="multi\nline"', b"H=x#y", b"  I = 3  ", b"\xef\xbb\xbf", b"J=\"open"]),
             max_size=12).flatmap(lambda lines: st.sampled_from([b"\n", b"\r\n", b"\r"]).map(
                 lambda nl: nl.join(lines))),
)


@FUZZ
@given(env_bytes)
def test_random_bytes_are_refused_or_round_trip(data: bytes) -> None:
    try:
        document = dotenv_file.parse(dotenv_file.decode(data, ".env"), ".env")
    except InputError as exc:
        message = str(exc)
        assert message.startswith(".env") and "\n" not in message
        return
    assert document.render().encode("utf-8") == data
    # what it read, it reads again from its own rendering
    again = dotenv_file.parse(document.render(), ".env")
    assert again.values() == document.values()


KEYS = st.sampled_from(["A", "B", "C", "DB_URL", "api.key", "x-y", "export", "NEW_ONE", "NEW_TWO"])
VALUES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20),
    st.sampled_from(["", " ", "#", "a #b", "'", '"', "\\", "\\n", "${A}", "x\ny", "a\r\nb", " lead", "trail ",
                     "=", "'quoted'", '"dq"', "x$(y)", "it's $(y)", "'`z`", "a\\\\b", "${A}'"]),
)
BASE_FILES = [
    "A=1\nB=2\n",
    "# header\n\nexport A=1\nexport B='two'\n",
    "A=1\r\nB=\"x\"\r\n# note\r\nC=3",
    "\ufeffA=1 # inline\nB= #empty\nC='single'\n\n\n",
    "A=\"multi\nline\"\nB=2\nB=dup\n",
    "",
    "# only a comment",
]
edits = st.lists(st.tuples(st.sampled_from(["set", "unset"]), KEYS, VALUES), max_size=8)


def _set(document: dotenv_file.DotenvDocument, key: str, value: str) -> bool:
    """Set, or see a refusal leave the document as it was (a value no .env quoting keeps
    from bash: double quotes only, holding `$(`, `${`, `$[` or a backquote)."""
    before = document.render()
    try:
        document.set(key, value)
    except InputError as exc:
        assert str(exc).startswith(f"{key}: the value needs double quotes") and "\n" not in str(exc)
        assert "'" in value or "\r" in value or "\\" in value
        assert document.render() == before
        return False
    return True


@FUZZ
@given(st.sampled_from(BASE_FILES), edits)
def test_edits_touch_only_their_own_lines(original: str, operations) -> None:
    document = dotenv_file.parse(original, ".env")
    untouched_keys = set(document.keys())
    expected = document.values()
    for op, key, value in operations:
        if op == "set":
            if not _set(document, key, value):
                continue
            expected[key] = value
        else:
            document.unset(key)
            expected.pop(key, None)
        untouched_keys.discard(key)
    rendered = document.render()
    reread = dotenv_file.parse(rendered, ".env")
    assert reread.values() == expected
    # every binding of a key no edit named is still there, byte for byte, in order
    before = [e.body for e in dotenv_file.parse(original, ".env").entries if e.key in untouched_keys]
    after = [e.body for e in reread.entries if e.key in untouched_keys]
    stripped_before = [b.rstrip("\r\n") for b in before]
    stripped_after = [b.rstrip("\r\n") for b in after]
    assert stripped_after == stripped_before  # (the last line may gain a line ending)
    # comments survive every edit
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    for line in comments:
        assert line in rendered


@FUZZ
@given(st.sampled_from(BASE_FILES), edits)
def test_writing_an_edited_file_round_trips_on_disk(tmp_path_factory, original: str, operations) -> None:
    path = tmp_path_factory.mktemp("fuzz") / ".env"
    path.write_bytes(original.encode("utf-8"))
    document = dotenv_file.load(path, ".env")
    for op, key, value in operations:
        _set(document, key, value) if op == "set" else document.unset(key)
    dotenv_file.write(document, path, expected=original.encode("utf-8"))
    assert path.read_bytes() == document.render().encode("utf-8")
    assert dotenv_file.load(path, ".env").values() == document.values()


# -- the planner -----------------------------------------------------------------------

PLAN_KEYS = st.sampled_from(["A", "B", "C", "D", "E"])
PLAN_VALUES = st.sampled_from(["1", "2", "3", "", "x y"])
snapshots = st.dictionaries(PLAN_KEYS, PLAN_VALUES, max_size=5)
bases = st.one_of(st.none(), st.dictionaries(PLAN_KEYS, st.one_of(PLAN_VALUES, st.just(UNKNOWN)), max_size=5))
STRATEGIES = [OnConflict.FAIL, OnConflict.LOCAL, OnConflict.REMOTE, OnConflict.MERGE]


def _apply(values: dict[str, str], changes) -> dict[str, str]:
    out = dict(values)
    for change in changes:
        if change.value is None:
            out.pop(change.key, None)
        else:
            out[change.key] = change.value
    return out


@FUZZ
@given(snapshots, snapshots, bases, st.sampled_from(list(Mode)), st.booleans(), st.sampled_from(STRATEGIES))
def test_planner_invariants(local, remote, base, mode, prune, strategy) -> None:
    raw = make_plan(local, remote, base, mode, prune=prune)
    plan = resolve(raw, strategy, prune=prune, merger=merge3)

    # deterministic
    assert make_plan(dict(reversed(list(local.items()))), remote, base, mode, prune=prune) == raw
    assert resolve(make_plan(local, remote, base, mode, prune=prune), strategy, prune=prune, merger=merge3) == plan
    # every key of either side is classified once, in order
    assert [i.key for i in plan.items] == sorted(set(local) | set(remote))
    # no deletion without prune
    if not prune:
        assert not plan.of(*DELETES)
        assert all(c.value is not None for c in plan.remote_changes() + plan.local_changes())
    # one-way commands write one side
    if mode is Mode.PUSH:
        assert plan.local_changes() == [] and not plan.of(*PULLS)
    if mode is Mode.PULL:
        assert plan.remote_changes() == [] and not plan.of(*PUSHES)
    # changes only ever carry a value one side already had (or a merge of them)
    for change in plan.remote_changes():
        assert change.value is None or change.value == local.get(change.key) or \
            any(i.key == change.key and i.action is Action.MERGE for i in plan.items)
    for change in plan.local_changes():
        assert change.value is None or change.value == remote.get(change.key) or \
            any(i.key == change.key and i.action is Action.MERGE for i in plan.items)
    # equal sides: nothing to do
    if local == remote:
        assert not plan.has_changes and not plan.conflicts


@FUZZ
@given(snapshots, snapshots, bases, st.booleans(), st.sampled_from(STRATEGIES))
def test_sync_without_conflicts_or_skips_converges(local, remote, base, prune, strategy) -> None:
    plan = resolve(make_plan(local, remote, base, Mode.SYNC, prune=prune), strategy, prune=prune, merger=merge3)
    if plan.conflicts or plan.of(Action.SKIP):
        return
    local_after = _apply(local, plan.local_changes())
    remote_after = _apply(remote, plan.remote_changes())
    assert local_after == remote_after
    again = make_plan(local_after, remote_after, dict(local_after), Mode.SYNC, prune=prune)
    assert not again.has_changes and not again.conflicts


@FUZZ
@given(snapshots, snapshots, bases, st.sampled_from([Mode.PUSH, Mode.PULL]))
def test_one_way_commands_with_prune_make_the_other_side_match_where_it_did_not_move(local, remote, base, mode):
    """A push (pull) with --prune and no conflicts or skips leaves the store (file) equal to
    the file (store)."""
    plan = make_plan(local, remote, base, mode, prune=True)
    if plan.conflicts or plan.of(Action.SKIP):
        return
    if mode is Mode.PUSH:
        assert _apply(remote, plan.remote_changes()) == local
    else:
        assert _apply(local, plan.local_changes()) == remote


def test_examples_per_test_is_recorded():
    print(f"FIGURE fuzz examples per test: {EXAMPLES}")
    assert EXAMPLES >= 1


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
