"""The planted-secret corpus (tests/corpus/scan) rendered into a repository, and what a scan must find
there."""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from envsync.dotenv_file import encode_value
from tests.scan.tokens import TOKENS


CORPUS = Path(__file__).parents[1] / "corpus" / "scan"


@dataclass
class Corpus:
    root: Path
    values: dict[str, str] = field(default_factory=dict)  # .env key -> value
    expected: set[tuple[str, int, str, str | None]] = field(default_factory=set)  # (file, line, rule, key)
    encodings: dict[tuple[str, int], str] = field(default_factory=dict)  # where SIGNING_SECRET was planted
    files: list[str] = field(default_factory=list)


MARKER = re.compile(r"\{\{(value|token):([^}]+)\}\}")


def encode_for_marker(value: str, how: str, values: dict[str, str], key: str) -> str:
    raw = value.encode("utf-8")
    return {
        "": lambda: value,
        "base64": lambda: base64.b64encode(raw).decode(),
        "base64-offset1": lambda: base64.b64encode(b"x" + raw).decode(),
        "base64-offset2": lambda: base64.b64encode(b"xy" + raw).decode(),
        "basic-auth": lambda: base64.b64encode(b"user:" + raw).decode(),
        "base64url": lambda: base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "url": lambda: quote(value, safe=""),
        "json": lambda: json.dumps(value)[1:-1],
        "password": lambda: values[f"{key}:password"],
    }[how]()


def render_corpus(dest: Path, make_secret: Callable[[str], str], register: Callable[[str], None]) -> Corpus:
    """Write the corpus into `dest` (a git work tree): `.env`, `planted/`, `lookalikes/`; return what to expect.
    `make_secret(label)` makes a value that must never be shown; `register(text)` marks generated tokens so."""
    corpus = Corpus(dest)
    env_lines = []
    for line in (CORPUS / "dotenv").read_text().splitlines():
        found = re.fullmatch(r"(export )?([A-Z_]+)=\{\{(secret(?::\w+)?|token:[\w-]+)\}\}", line)
        if not found:
            env_lines.append(line)
            continue
        prefix, key, kind = found.groups()
        if kind == "secret":
            value = make_secret(key.lower())
        elif kind == "secret:special":
            value = make_secret(key.lower()) + '/+=&"\\é'
        elif kind == "secret:url":
            password = make_secret(key.lower())
            corpus.values[f"{key}:password"] = password
            value = f"postgres://app:{password}@db.internal:5432/inventory"
        else:
            value, _ = TOKENS[kind.split(":", 1)[1]]()
            register(value)
        corpus.values[key] = value
        env_lines.append(f"{prefix or ''}{key}={encode_value(value)}")
    (dest / ".env").write_text("\n".join(env_lines) + "\n")

    for folder in ("planted", "lookalikes"):
        for source in sorted((CORPUS / folder).iterdir()):
            name = f"{folder}/{source.name}"
            out_lines: list[str] = []
            for line in source.read_text().splitlines():
                line_no = len(out_lines) + 1
                pieces, cursor = [], 0
                for marker in MARKER.finditer(line):
                    pieces.append(line[cursor:marker.start()])
                    cursor = marker.end()
                    kind, spec = marker.groups()
                    if kind == "value":
                        key, _, how = spec.partition(":")
                        pieces.append(encode_for_marker(corpus.values[key], how, corpus.values, key))
                        corpus.expected.add((name, line_no, "env-value", key))
                        if key == "SIGNING_SECRET":
                            corpus.encodings[(name, line_no)] = how
                    else:
                        text, rules = TOKENS[spec]()
                        for secret_line in text.splitlines():
                            if len(secret_line) >= 20:
                                register(secret_line.strip().strip('",'))
                        register(text)
                        offset = "".join(pieces).count("\n")
                        for rule, line_offset in rules:
                            corpus.expected.add((name, line_no + offset + line_offset, rule, None))
                        pieces.append(text)
                pieces.append(line[cursor:])
                out_lines.extend("".join(pieces).split("\n"))
            (dest / folder).mkdir(exist_ok=True)
            (dest / name).write_text("\n".join(out_lines) + "\n")
            corpus.files.append(name)
    return corpus
