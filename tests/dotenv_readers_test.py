"""What other `.env` readers see in the text EnvSync writes (SECURITY.md, "What EnvSync defends against" 4).

Every value of a corpus of nasty values is written the three ways EnvSync writes a value
(`export -f dotenv`, a new key pulled into a file, an existing line re-written), and the
written files are read by the real readers: python-dotenv (plain, interpolating
`dotenv_values` and the default `load_dotenv`), Node's `dotenv` package (pinned, installed
by `.ci/run` under `.ci/tools`), `node --env-file`, bash `set -a; . ./FILE; set +a`, and a
reference reader for docker compose's `env_file` rules. No reader may run anything; each
reader must read every value back identically except the cases listed in
`KNOWN_DIFFERENCES`, which README.md's "What other readers see" section describes.

A missing Node or Node `dotenv` skips these tests on a developer's machine and fails them
under ENVSYNC_REQUIRE_CI_TOOLS=1 (set by `.ci/run`).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import dotenv
import pytest

from envsync import dotenv_file, export

PROJECT = Path(__file__).resolve().parents[1]
NODE_DOTENV = PROJECT / ".ci" / "tools" / "node_modules" / "dotenv"
NODE_DOTENV_VERSION = "16.6.1"  # keep in step with .ci/run
REQUIRE_TOOLS = os.environ.get("ENVSYNC_REQUIRE_CI_TOOLS") == "1"

# id -> value. Ids name the trap; values are not secrets (they are meant to be read back).
CORPUS: dict[str, str] = {
    "cmd-subst": "x$(touch pwned)y",
    "cmd-subst-alone": "$(touch pwned)",
    "backticks": "`touch pwned`",
    "backtick-half": "a`b",
    "dollar-brace-home": "${HOME}",
    "dollar-brace-default": "${NOPE:-fallback}",
    "dollar-brace-open": "${",
    "dollar-name": "$HOME",
    "dollar-digit": "pa$1word",
    "dollar-dollar": "$$",
    "dollar-alone": "$",
    "dollar-end": "cost 5$",
    "arith": "$((1+1))",
    "url-with-hash": "postgres://app:pw#1@db/app",
    "hash-spaced": "a # b",
    "hash-first": "#leading",
    "hash-last": "trailing#",
    "hash-alone": "#",
    "double-quotes-inside": 'she said "hi"',
    "double-quote-alone": '"',
    "double-quoted-word": '"quoted"',
    "single-quote-alone": "'",
    "apostrophe": "it's",
    "single-quoted-word": "'single'",
    "apostrophe-and-double": "it's \"fine\"",
    "apostrophe-and-dollar-name": "it's $HOME",
    "apostrophe-and-backslash": "it's C:\\dir",
    "apostrophe-and-newline": "it's\nmulti",
    "apostrophe-and-hash": "it's #1",
    "backslash": "\\",
    "backslash-inside": "a\\b",
    "backslash-n-literal": "C:\\new\\table",
    "double-backslash": "a\\\\b",
    "backslash-end": "ends with\\",
    "backslash-quote": 'a\\"b',
    "newline": "line1\nline2",
    "newline-first": "\nstarts",
    "newline-last": "ends\n",
    "pem": "-----BEGIN KEY-----\nAAAA+/==\n-----END KEY-----\n",
    "cr": "a\rb",
    "crlf": "a\r\nb",
    "space-lead": " leading",
    "space-trail": "trailing ",
    "space-both": "  both  ",
    "space-only": "   ",
    "space-inside": "a b c",
    "tab-inside": "a\tb",
    "tab-edges": "\ttabbed\t",
    "nbsp-edges": "\u00a0x\u00a0",
    "unicode-spaced": "naïve café",
    "combining": "e\u0301t\u0301e\u0301",
    "rtl": "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "rtl-override": "abc\u202edcba",
    "emoji": "🔑 key",
    "emoji-zwj": "👩\u200d💻",
    "escape-char": "\x1b[31mred\x1b[0m",
    "equals": "a=b",
    "equals-first": "=x",
    "base64": "QUJDRA==",
    "semicolon": "a;b",
    "semicolon-cmd": "; touch pwned",
    "ampersand": "a&b",
    "ampersand-cmd": "& touch pwned &",
    "pipe": "a|b",
    "pipe-cmd": "| touch pwned",
    "angles": "<in>",
    "redirect": "> pwned",
    "parens": "(subshell)",
    "braces": "{a,b}",
    "json": '{"user": "app", "ports": [1, 2]}',
    "star": "*",
    "question": "?",
    "brackets": "[ab]",
    "tilde": "~",
    "tilde-path": "~/x",
    "tilde-after-colon": "a:~/b",
    "bang": "!",
    "bang-bang": "echo !!",
    "percent": "%PATH%",
    "dash-flag": "--flag=1",
    "nested-assignment": "export X=1",
    "plain": "plain-Value_1.2:3@host/path,+^",
    "empty": "",
}

READERS = ("envsync", "python-dotenv", "python-dotenv-interpolating", "python-dotenv-load_dotenv",
           "node-dotenv", "node-env-file", "compose", "bash")

# reader -> corpus ids it reads differently from the value written. Exactly these: a new
# difference fails the test, and so does one that went away (update README.md too).
KNOWN_DIFFERENCES: dict[str, set[str]] = {
    # It expands `${VAR}` in every quoting style: no form keeps a literal `${...}` there.
    "python-dotenv-interpolating": {"dollar-brace-home", "dollar-brace-default"},
    "python-dotenv-load_dotenv": {"dollar-brace-home", "dollar-brace-default"},
    # Values only double quotes carry (a `'`, or a backslash single quotes cannot hold for
    # python-dotenv): Node's dotenv decodes only `\n` and `\r` there, so `\\` and `\"` stay.
    "node-dotenv": {"apostrophe-and-backslash", "apostrophe-and-double", "backslash", "backslash-end",
                    "double-backslash"},
    # The same, and it does not decode `\r` either (a CR is written as `\r`: raw, Node's dotenv
    # and python-dotenv would read a newline).
    "node-env-file": {"apostrophe-and-backslash", "apostrophe-and-double", "backslash", "backslash-end",
                      "double-backslash", "cr", "crlf"},
    # A `'` forces double quotes, where compose and bash expand `$NAME` (bash would also run
    # `$(...)`, `${...}`, `$[...]` and backquotes: EnvSync refuses to write those, see
    # dotenv_file_test); bash keeps `\r` as two characters.
    "compose": {"apostrophe-and-dollar-name"},
    "bash": {"apostrophe-and-dollar-name", "cr", "crlf"},
}

# Written paths: a new file (export -f dotenv / a pulled new key) and re-written lines.
REWRITTEN_STARTS = {"rewrite-spaced": "{key}= old # note\n", "rewrite-export-dq": 'export {key}="old"\n'}


def written_texts(key: str, value: str) -> dict[str, str]:
    """Each way EnvSync writes `key=value`, by name."""
    texts = {"export": export.render({key: value}, "dotenv")}
    document = dotenv_file.parse("", ".env")
    document.set(key, value)
    texts["new-key"] = document.render()
    for name, start in REWRITTEN_STARTS.items():
        document = dotenv_file.parse(start.format(key=key), ".env")
        document.set(key, value)
        texts[name] = document.render()
    return texts


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 60
    assert len(set(CORPUS.values())) == len(CORPUS)


def test_export_and_a_new_key_write_the_same_line():
    for name, value in CORPUS.items():
        texts = written_texts("K", value)
        assert texts["export"] == texts["new-key"], name


# -- the readers ---------------------------------------------------------------------------


def _missing(message: str) -> None:
    if REQUIRE_TOOLS:
        pytest.fail(message + " (ENVSYNC_REQUIRE_CI_TOOLS=1: a missing reader is a failure)", pytrace=False)
    pytest.skip(message)


def node() -> str:
    found = shutil.which("node")
    if not found:
        _missing("node is not installed — apt-get install nodejs")
    return found  # type: ignore[return-value]


def node_dotenv() -> Path:
    manifest = NODE_DOTENV / "package.json"
    if not manifest.exists():
        _missing(f"Node's dotenv is not installed — npm install --prefix .ci/tools dotenv@{NODE_DOTENV_VERSION}")
    version = json.loads(manifest.read_text())["version"]
    assert version == NODE_DOTENV_VERSION, f"Node's dotenv {version} found, the tests pin {NODE_DOTENV_VERSION}"
    return NODE_DOTENV


def clean_env() -> dict[str, str]:
    """No variable of this machine can stand in for a value a reader failed to read."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


def read_python_dotenv(files: dict[str, Path], monkeypatch) -> dict[str, dict[str, str | None]]:
    plain, interpolating, loaded = {}, {}, {}
    for key, path in files.items():
        plain[key] = dotenv.dotenv_values(path, interpolate=False).get(key)
        interpolating[key] = dotenv.dotenv_values(path).get(key)
        monkeypatch.delenv(key, raising=False)
        dotenv.load_dotenv(path)
        loaded[key] = os.environ.get(key)
        monkeypatch.delenv(key, raising=False)
    return {"python-dotenv": plain, "python-dotenv-interpolating": interpolating,
            "python-dotenv-load_dotenv": loaded}


def read_node_dotenv(files: dict[str, Path]) -> dict[str, str | None]:
    script = (
        "const dotenv = require(process.argv[1]); const fs = require('fs');"
        "const files = JSON.parse(fs.readFileSync(0, 'utf8')); const out = {};"
        "for (const [key, path] of Object.entries(files)) {"
        "  const v = dotenv.parse(fs.readFileSync(path))[key]; out[key] = v === undefined ? null : v; }"
        "process.stdout.write(JSON.stringify(out));"
    )
    payload = json.dumps({key: str(path) for key, path in files.items()})
    done = subprocess.run([node(), "-e", script, str(node_dotenv())], input=payload, capture_output=True,
                          text=True, env=clean_env(), timeout=120, check=True)
    return json.loads(done.stdout)


def read_node_env_file(files: dict[str, Path]) -> dict[str, str | None]:
    # Every file binds its own key, so one process reads them all (one --env-file each).
    script = ("const keys = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(Object.fromEntries("
              "keys.map(k => [k, process.env[k] === undefined ? null : process.env[k]]))));")
    args = [f"--env-file={path}" for path in files.values()]
    done = subprocess.run([node(), *args, "-e", script], input=json.dumps(list(files)), capture_output=True,
                          text=True, env=clean_env(), timeout=120, check=True)
    return json.loads(done.stdout)


UNSET = "<unset>"
BROKEN = "<bash failed>"


def read_bash(files: dict[str, Path], sandbox: Path) -> dict[str, str | None]:
    """`set -a; . ./FILE; set +a` per file, each in its own bash, in `sandbox`."""
    out: dict[str, str | None] = {}
    for key, path in files.items():
        script = f"set -a; . ./{path.name}; set +a; printf '%s' \"${{{key}-{UNSET}}}\""
        done = subprocess.run(["bash", "-c", script], cwd=sandbox, capture_output=True, env=clean_env(),
                              stdin=subprocess.DEVNULL, timeout=30)
        text = done.stdout.decode("utf-8", errors="replace")
        out[key] = None if text == UNSET else text if done.returncode == 0 else BROKEN
    return out


# -- docker compose's env_file rules -------------------------------------------------------
# A reference reader for the rules Docker documents for Compose's env_file ("Syntax for
# environment files in Docker Compose", docs.docker.com/compose/environment-variables/env-file/):
# `#` lines and blank lines are ignored; `VAR=VAL`, `VAR="VAL"`, `VAR='VAL'`; an unquoted
# value's inline comment needs a blank before `#`; a quoted value's comment follows the
# closing quote; single-quoted values are literal (only `\'` is an escape); double-quoted
# values decode `\n`, `\r`, `\t`, `\\` (and `\"`); unquoted and double-quoted values are
# interpolated: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`, `${VAR?e}`,
# `${VAR:+r}`, `${VAR+r}`, and `$$` for a literal `$` (the compose spec's interpolation).

_COMPOSE_LINE = re.compile(r"[^\S\n]*(?:export[^\S\n]+)?([A-Za-z_][A-Za-z0-9_.\-]*)[^\S\n]*=[^\S\n]*")
_COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_COMPOSE_DQ_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


class ComposeError(ValueError):
    pass


def compose_interpolate(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, word = match.group(2), match.group(3) or ""
        value = env.get(name)
        is_set, non_empty = value is not None, bool(value)
        if operator in (":-", "-"):
            return value if (non_empty if operator == ":-" else is_set) else word  # type: ignore[return-value]
        if operator in (":?", "?"):
            if not (non_empty if operator == ":?" else is_set):
                raise ComposeError(word)
            return value  # type: ignore[return-value]
        if operator in (":+", "+"):
            return word if (non_empty if operator == ":+" else is_set) else ""
        return value or ""

    return _COMPOSE_VARIABLE.sub(substitute, text)


def _compose_quoted(text: str, quote: str) -> tuple[str, str]:
    """The raw quoted part after the opening quote (to the first unescaped `quote`), and the rest."""
    index = 0
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return text[:index], text[index + 1:]
        index += 1
    raise ComposeError("unterminated quote")


def read_compose(text: str) -> dict[str, str]:
    """The variables Compose's env_file rules give for `text` (no outer environment)."""
    values: dict[str, str] = {}
    rest = text.replace("\r\n", "\n")
    while rest:
        line, _, after = rest.partition("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            rest = after
            continue
        match = _COMPOSE_LINE.match(line)
        if not match:
            raise ComposeError("not a KEY=VALUE line")
        key, body = match.group(1), rest[match.end():]
        if body[:1] in ("'", '"'):
            raw, rest = _compose_quoted(body[1:], body[0])
            trailer, _, rest = rest.partition("\n")
            if trailer.strip() and not trailer.lstrip().startswith("#"):
                raise ComposeError("text after the closing quote")
            if body[0] == "'":
                value = raw.replace("\\'", "'")
            else:
                value = re.sub(r"\\(.)", lambda m: _COMPOSE_DQ_ESCAPES.get(m.group(1), m.group(0)), raw, flags=re.S)
                value = compose_interpolate(value, values)
        else:
            raw, _, rest = body.partition("\n")
            value = compose_interpolate(re.sub(r"\s+#.*", "", raw).strip(), values)
        values[key] = value
    return values


def test_compose_reference_reader_follows_the_documented_examples():
    examples = [
        ("VAR=VAL", "VAL"), ('VAR="VAL"', "VAL"), ("VAR='VAL'", "VAL"),
        ("VAR=VAL # comment", "VAL"), ("VAR=VAL# not a comment", "VAL# not a comment"),
        ('VAR="VAL # not a comment"', "VAL # not a comment"), ('VAR="VAL" # comment', "VAL"),
        ("VAR='$OTHER'", "$OTHER"), ("VAR='${OTHER}'", "${OTHER}"), ("VAR='Let\\'s go!'", "Let's go!"),
        ('VAR="{\\"hello\\": \\"json\\"}"', '{"hello": "json"}'), ('VAR="some\\tvalue"', "some\tvalue"),
        ("VAR='some\\tvalue'", "some\\tvalue"), ("VAR=some\\tvalue", "some\\tvalue"),
        ("VAR=${NOPE:-default}", "default"), ("VAR=${NOPE-default}", "default"), ("VAR=${NOPE:+r}", ""),
        ("VAR=$$x", "$x"), ('VAR="a\nb"', "a\nb"),
    ]
    for line, expected in examples:
        assert read_compose(line + "\n") == {"VAR": expected}, line
    with pytest.raises(ComposeError):
        read_compose("VAR=${NOPE:?required}\n")


def read_compose_files(files: dict[str, Path]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for key, path in files.items():
        try:
            out[key] = read_compose(path.read_text(encoding="utf-8")).get(key)
        except ComposeError:
            out[key] = None
    return out


# -- the test ------------------------------------------------------------------------------


class Readings:
    """The written files, where each came from, and what each reader read from them."""

    def __init__(self, sandbox: Path) -> None:
        self.sandbox = sandbox
        self.files: dict[str, Path] = {}
        self.origin: dict[str, tuple[str, str]] = {}  # key -> (corpus id, write path)
        self.found: dict[str, dict[str, str | None]] = {}

    def of(self, reader: str) -> dict[str, str | None]:
        # Node is read on first use, so a machine without it skips only the Node readers.
        if reader == "node-dotenv" and reader not in self.found:
            self.found[reader] = read_node_dotenv(self.files)
        if reader == "node-env-file" and reader not in self.found:
            self.found[reader] = read_node_env_file(self.files)
        return self.found[reader]


@pytest.fixture(scope="module")
def readings(tmp_path_factory) -> Readings:
    out = Readings(tmp_path_factory.mktemp("readers"))
    for index, (name, value) in enumerate(CORPUS.items()):
        seen: set[str] = set()
        for way, text in written_texts("PLACEHOLDER", value).items():
            if text in seen:
                continue
            seen.add(text)
            key = f"V{index}_{len(seen)}"
            path = out.sandbox / f"{key}.env"
            path.write_bytes(text.replace("PLACEHOLDER", key).encode("utf-8"))
            out.files[key] = path
            out.origin[key] = (name, way)
    monkeypatch = pytest.MonkeyPatch()
    try:
        out.found.update(read_python_dotenv(out.files, monkeypatch))
    finally:
        monkeypatch.undo()
    out.found["envsync"] = {key: dotenv_file.load(path).values().get(key) for key, path in out.files.items()}
    out.found["compose"] = read_compose_files(out.files)
    out.found["bash"] = read_bash(out.files, out.sandbox)
    return out


@pytest.mark.parametrize("reader", READERS)
def test_reader_reads_back_what_envsync_wrote(readings, reader):
    found = readings.of(reader)
    differs: dict[str, set[str]] = {}
    for key, (name, way) in readings.origin.items():
        if found.get(key) != CORPUS[name]:
            differs.setdefault(name, set()).add(way)
    details = {name: sorted(ways) for name, ways in sorted(differs.items())}
    assert set(differs) == KNOWN_DIFFERENCES.get(reader, set()), f"{reader} differs on {details}"


def test_sourcing_the_files_in_bash_runs_nothing(readings):
    created = [p.name for p in readings.sandbox.iterdir() if not p.name.endswith(".env")]
    assert not created, f"a reader ran something while reading the files: it created {created}"


# -- end to end: `pull`, `sync` and `export` through the installed executable -------------


def _config(folder: Path, store: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "envsync.toml").write_text(f'[targets.dev]\nfile = ".env"\nstore = "file://{store}"\n')


def _bash_reads(folder: Path, keys: list[str]) -> dict[str, str]:
    script = "set -a; . ./.env; set +a; " + "; ".join(f"printf '%s\\0' \"${key}\"" for key in keys)
    done = subprocess.run(["bash", "-c", script], cwd=folder, capture_output=True, env=clean_env(), timeout=30,
                          check=True)
    return dict(zip(keys, done.stdout.decode("utf-8").split("\0")))


def test_pull_writes_values_bash_reads_back_and_keeps_unchanged_lines(run_envsync, tmp_path, secret):
    alice, bob, store = tmp_path / "alice", tmp_path / "bob", tmp_path / "store"
    _config(alice, store)
    _config(bob, store)
    password = secret("pw")
    values = {"RUN": f"x$(touch pwned){password}", "URL": f"postgres://app:{password}#1@db/app",
              "QUOTE": f'she said "hi" {password}', "HOME_REF": "${HOME}", "KEEP": "x$y", "OLD": "new value"}
    document = dotenv_file.parse("", ".env")
    for key, value in values.items():
        document.set(key, value)
    (alice / ".env").write_text(document.render())
    assert run_envsync("push", "-y", cwd=alice).code == 0
    mine = 'KEEP = "x$y"  # bob wrote this\nOLD= old\n'
    (bob / ".env").write_text(mine)

    result = run_envsync("pull", "-y", "--force", cwd=bob)

    assert result.code == 0, result.output
    text = (bob / ".env").read_text()
    assert text.startswith('KEEP = "x$y"  # bob wrote this\nOLD=\'new value\'\n')
    assert dotenv_file.load(bob / ".env").values() == values
    written = [key for key in values if key != "KEEP"]  # bob's own line is his (bash would run `KEEP`)
    assert _bash_reads(bob, written) == {key: values[key] for key in written}
    assert not (bob / "pwned").exists()


def test_a_value_bash_would_run_is_skipped_by_pull_and_sync_and_stops_export(run_envsync, tmp_path, secret):
    alice, bob, store = tmp_path / "alice", tmp_path / "bob", tmp_path / "store"
    _config(alice, store)
    _config(bob, store)
    (alice / ".env").write_text("A=1\n")
    assert run_envsync("push", "-y", cwd=alice).code == 0
    assert run_envsync("pull", "-y", cwd=bob).code == 0
    evil = f"it's $(touch pwned) {secret('evil')}"
    (alice / ".env").write_text("A=1\nEVIL=" + '"' + evil.replace('"', '\\"') + '"\n')
    assert run_envsync("push", "-y", cwd=alice).code == 0
    assert dotenv_file.load(alice / ".env").values()["EVIL"] == evil
    (bob / ".env").write_text(f"A=1\nMINE={secret('mine')}\n")
    before_env = (bob / ".env").read_bytes()
    before_store = {p: p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}

    # EVIL is skipped (exit 1, named with the way out); the other keys still apply
    pulled = run_envsync("pull", "-y", cwd=bob)
    assert pulled.code == 1, pulled.output
    assert "EVIL" in pulled.stdout and "cannot be written safely to a .env file" in pulled.stdout
    assert (bob / ".env").read_bytes() == before_env
    assert {p: p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()} == before_store
    synced = run_envsync("sync", "-y", cwd=bob)
    assert synced.code == 1, synced.output
    assert "EVIL" in synced.stdout and "push-add" in synced.stdout  # MINE, bob's own key, is published
    assert (bob / ".env").read_bytes() == before_env

    exported = run_envsync("export", "-f", "dotenv", cwd=bob)
    assert exported.code == 2 and exported.stdout == "" and "EVIL:" in exported.stderr
    as_json = run_envsync("export", "-f", "json", cwd=bob, reveals=True)
    assert as_json.code == 0 and json.loads(as_json.stdout)["EVIL"] == evil
    assert not (bob / "pwned").exists()
