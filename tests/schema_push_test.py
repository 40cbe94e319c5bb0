"""The rules of push on merge: which value each schema key gets, and what fails. Pure, table-driven."""
from __future__ import annotations

import pytest

from envsync import dotenv_file, schema_push
from envsync.errors import InputError

P = "CI_SECRET_"


@pytest.mark.parametrize("schema, remote, env, expected", [
    pytest.param({"DEBUG": "false"}, {}, {}, {"DEBUG": "false"}, id="new key takes the default"),
    pytest.param({"DEBUG": "false"}, {"DEBUG": "true"}, {}, {"DEBUG": "true"}, id="live value kept over the default"),
    pytest.param({"DEBUG": "false"}, {"DEBUG": ""}, {}, {"DEBUG": ""}, id="live empty value kept"),
    pytest.param({"DB": None}, {"DB": "live"}, {}, {"DB": "live"}, id="live value, no default"),
    pytest.param({"DB": "x"}, {"DB": "live"}, {P + "DB": "ci"}, {"DB": "ci"}, id="env wins over the live value"),
    pytest.param({"DB": ""}, {}, {P + "DB": "ci"}, {"DB": "ci"}, id="env gives a new key its value"),
    pytest.param({"DB": "x"}, {"DB": "live"}, {P + "DB": ""}, {"DB": "live"}, id="empty env is unset"),
    pytest.param({"A": "1"}, {"A": "1", "OLD": "v"}, {}, {"A": "1"}, id="keys not in the schema are left out"),
])
def test_desired_values(schema, remote, env, expected):
    values, _ = schema_push.desired_values(schema, remote, env, P, allow_missing=False)
    assert values == expected


def test_env_is_read_only_with_a_prefix():
    values, notes = schema_push.desired_values({"DB": "d"}, {}, {"DB": "from-shell"}, None, allow_missing=False)
    assert values == {"DB": "d"} and notes == []


@pytest.mark.parametrize("prefix, fix", [(P, "set $CI_SECRET_DB_PASSWORD"), (None, "--from-env PREFIX")])
def test_missing_value_names_the_key_and_the_fix(prefix, fix, secret):
    value = secret("other")
    with pytest.raises(InputError) as caught:
        schema_push.desired_values({"DB_PASSWORD": "", "OTHER": None}, {"OTHER": value}, {}, prefix,
                                   allow_missing=False)
    message = str(caught.value)
    assert message.startswith("DB_PASSWORD has no default in .env.example")
    assert fix in message and "--allow-missing" in message and "OTHER" not in message and value not in message


def test_every_missing_key_is_named():
    with pytest.raises(InputError, match=r"^3 keys \(A, B, C\) have no default"):
        schema_push.desired_values({"A": None, "B": "", "C": None, "D": "d"}, {}, {}, P, allow_missing=False)


def test_allow_missing_leaves_the_keys_out_with_a_note():
    values, notes = schema_push.desired_values({"A": None, "D": "d"}, {}, {}, P, allow_missing=True)
    assert values == {"D": "d"}
    assert notes == ["A has no default in .env.example and no value — left out (--allow-missing)"]


def test_notes_name_ignored_and_empty_variables_never_values(secret):
    value = secret()
    env = {P + "A": value, P + "STRAY": secret("stray"), P + "EMPTY": "", "UNRELATED": secret("x")}
    values, notes = schema_push.desired_values({"A": None, "EMPTY": "e"}, {}, env, P, allow_missing=False)
    assert values == {"A": value, "EMPTY": "e"}
    assert any("$CI_SECRET_STRAY is set but STRAY is not in .env.example" in n for n in notes)
    assert any("$CI_SECRET_EMPTY is empty" in n for n in notes)
    assert not any(v in n for n in notes for v in env.values() if v)


def test_an_empty_schema_is_refused():
    with pytest.raises(InputError, match="lists no keys"):
        schema_push.desired_values({}, {"A": "1"}, {}, None, allow_missing=True)


# -- --from-env PREFIX alone ---------------------------------------------------------------


def test_prefixed_values_strip_the_prefix(secret):
    a, b = secret("a"), secret("b")
    env = {P + "API_KEY": a, P + "db.url": b, "CI_SECRETX": "no", "PATH": "/bin", P + "EMPTY": ""}
    values, notes = schema_push.prefixed_values(env, P)
    assert values == {"API_KEY": a, "db.url": b}
    assert notes == ["$CI_SECRET_EMPTY is empty — treated as unset (is the secret defined for this job?)"]


@pytest.mark.parametrize("name", ["CI_SECRET_1ABC", "CI_SECRET_", "CI_SECRET_A B", "CI_SECRET_A=B"])
def test_an_invalid_key_from_env_is_refused_by_name(name, secret):
    value = secret()
    with pytest.raises(InputError) as caught:
        schema_push.prefixed_values({name: value, P + "GOOD": "1"}, P)
    assert f"${name}" in str(caught.value) and "not a valid key name" in str(caught.value)
    assert value not in str(caught.value)


def test_no_variable_with_the_prefix_is_refused():
    with pytest.raises(InputError, match="no non-empty environment variable starts with CI_SECRTE_"):
        schema_push.prefixed_values({P + "A": "1"}, "CI_SECRTE_")


# -- the request ---------------------------------------------------------------------------


@pytest.mark.parametrize("from_schema, prefix, allow, error", [
    (False, "", False, "--from-env needs a PREFIX"),
    (False, P, True, "--allow-missing goes with --from-schema"),
])
def test_bad_flag_combinations(from_schema, prefix, allow, error):
    with pytest.raises(InputError, match=error):
        schema_push.make_request(from_schema, prefix, allow)


def test_request_shape():
    assert schema_push.make_request(False, None, False) is None
    both = schema_push.make_request(True, P, False)
    assert both.source(".env.example") == ".env.example + $CI_SECRET_*" and both.prune(False)
    env_only = schema_push.make_request(False, P, False)
    assert env_only.source(".env.example") == "$CI_SECRET_*"
    assert not env_only.prune(False) and env_only.prune(True)


def test_schema_defaults_keep_bare_keys():
    document = dotenv_file.parse("# comment\nDEBUG=false\nDB_PASSWORD=\nAPI_TOKEN\n", ".env.example")
    assert schema_push.schema_defaults(document) == {"DEBUG": "false", "DB_PASSWORD": "", "API_TOKEN": None}
