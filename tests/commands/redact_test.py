"""`envsync redact`: values (and their encodings) replaced by [REDACTED:KEY] in a stream, across
lines and piece boundaries, with bounded hold-back."""
from __future__ import annotations

import base64
import io
import json
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from envsync.commands.redact import CHUNK, Redactor, needles_of, redact
from envsync.scan.values import Value
from tests.commands.helpers import fill, write_config
from tests.conftest import ENVSYNC
from tests.fakes.gcp_fake import subprocess_env


def run_redact(values: dict[str, str], text: str | bytes) -> bytes:
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    sink = io.BytesIO()
    redact(io.BytesIO(data), sink, needles_of(values, 6))
    return sink.getvalue()


def test_each_encoding_is_redacted(secret):
    token = secret("tok") + "/+&é\"x"
    forms = [token, base64.b64encode(token.encode()).decode(), quote(token, safe=""),
             json.dumps(token)[1:-1]]
    out = run_redact({"API_TOKEN": token}, "".join(f"line {i}: {f} end\n" for i, f in enumerate(forms)))
    text = out.decode()
    assert text.count("[REDACTED:API_TOKEN]") == 4, text
    for form in forms:
        assert form not in text


def test_a_multiline_value_is_redacted_across_lines(secret):
    pem = f"-----BEGIN KEY-----\n{secret('a')}\n{secret('b')}\n-----END KEY-----"
    out = run_redact({"TLS_KEY": pem}, f"before\nprefix {pem} suffix\nafter\n").decode()
    assert out == "before\nprefix [REDACTED:TLS_KEY] suffix\nafter\n"


def test_a_value_across_a_piece_boundary_is_redacted(secret):
    token = secret("boundary")
    filler = "x" * (CHUNK - 5)  # the value starts 5 characters before the first piece ends
    out = run_redact({"TOKEN": token}, filler + token + "\n").decode()
    assert out == filler + "[REDACTED:TOKEN]\n"


def test_lines_go_out_at_once_when_no_value_spans_lines(secret):
    redactor = Redactor(needles_of({"TOKEN": secret("t")}, 6))
    assert redactor.feed("first line\n") == "first line\n"
    partial = redactor.feed("no newline yet")  # a value could still run through it
    assert partial == ""
    assert redactor.close() == "no newline yet"


def test_short_values_booleans_and_other_bytes_pass_through(secret):
    values = {"PORT": "8080", "DEBUG": "false", "TOKEN": secret("t")}
    assert [v.key for v in needles_of(values, 6)] == ["TOKEN"]
    raw = b"\xff\xfe port 8080 debug false \x00\n"
    assert run_redact(values, raw) == raw


def test_overlapping_values_leave_no_part_behind():
    values = [Value("LONG", "abcdefghij", "store"), Value("SHORT", "ghijklmn", "store")]
    redactor = Redactor(values)
    out = redactor.feed("..abcdefghijklmn..\n") + redactor.close()
    assert out == "..[REDACTED:LONG]..\n"


@pytest.fixture
def project(tmp_path: Path, run_envsync, secret):
    write_config(tmp_path, {"staging": "file://.envsync/staging", "prod": "file://.envsync/prod?layout=per-key"})
    values = {"staging": secret("staging"), "prod": secret("prod")}
    fill(run_envsync, tmp_path, "staging", {"TOKEN": values["staging"], "FLAG": "true"})
    fill(run_envsync, tmp_path, "prod", {"TOKEN": values["prod"]})
    return tmp_path, values


def test_cli_redacts_every_target_given(run_envsync, project):
    folder, values = project
    log = f"staging {values['staging']}\nprod {base64.b64encode(values['prod'].encode()).decode()}\nFLAG true\n"
    result = run_envsync("redact", "staging", "prod", cwd=folder, input=log)
    assert result.code == 0, result.stderr
    staging, prod, flag = result.stdout.splitlines()
    assert staging == "staging [REDACTED:TOKEN]" and flag == "FLAG true"
    # base64: the characters that depend on the value alone; a padding tail (`I=`) may stay
    assert prod.startswith("prod [REDACTED:TOKEN]") and len(prod) <= len("prod [REDACTED:TOKEN]") + 3
    only = run_envsync("redact", "staging", cwd=folder, input=f"{values['staging']}\n")
    assert only.stdout == "[REDACTED:TOKEN]\n"
    assert run_envsync("redact", "qa", cwd=folder, input="").code == 2


def test_cli_streams_a_line_before_the_input_ends(project):
    folder, values = project
    proc = subprocess.Popen([ENVSYNC, "redact", "--all"], cwd=folder, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(f"one {values['prod']}\n".encode())
    proc.stdin.flush()
    first = proc.stdout.readline()  # arrives while stdin is still open
    proc.stdin.close()
    proc.wait(timeout=30)
    assert first == b"one [REDACTED:TOKEN]\n"


def test_cli_with_a_gcp_store(run_envsync, gcp_fake, tmp_path, secret):
    env = subprocess_env()
    write_config(tmp_path, {"dev": f"gcp-sm:///shop/dev?endpoint={gcp_fake.endpoint}&insecure=true"})
    token = secret("gcp")
    fill(run_envsync, tmp_path, "dev", {"TOKEN": token}, env)
    result = run_envsync("redact", cwd=tmp_path, env=env, input=f"x{token}y\n")
    assert result.code == 0 and result.stdout == "x[REDACTED:TOKEN]y\n", result.stderr


def test_the_password_of_a_url_value_is_redacted_alone(secret):
    password = secret("pw")
    url = f"postgres://app:{password}@db.internal:5432/app"
    out = run_redact({"DATABASE_URL": url}, f"connect {url}\nauth failed for app with {password}\n").decode()
    assert password not in out, out
    assert out.count("[REDACTED:DATABASE_URL]") == 2, out


def test_a_short_url_password_stays_under_the_length_floor():
    out = run_redact({"DATABASE_URL": "postgres://app:pw@db/app"}, "the word pw stays\n").decode()
    assert out == "the word pw stays\n"
