"""Formats that hand values to a process or a file: the one place values are revealed."""
from __future__ import annotations

import json
import re
import shlex
import uuid
from typing import Iterable, Mapping

from envsync.dotenv_file import encode_value
from envsync.errors import InputError
from envsync.model import EXPORT_FORMATS

FORMATS = EXPORT_FORMATS
GITHUB_ENV = "github-env"  # appended to $GITHUB_ENV, never printed: see commands/export.append_github_env


def render(values: Mapping[str, str], fmt: str) -> str:
    keys = sorted(values)
    if fmt == "dotenv":
        return "".join(f"{k}={encode_value(values[k], key=k)}\n" for k in keys)
    if fmt == "json":
        return json.dumps({k: values[k] for k in keys}, indent=2, ensure_ascii=False) + "\n"
    if fmt == "shell":
        return "".join(f"export {k}={shlex.quote(values[k])}\n" for k in keys)
    if fmt == GITHUB_ENV:
        return "".join(github_env_block(k, values[k]) for k in keys)
    if fmt == "gitlab-dotenv":
        return "".join(f"{k}={gitlab_dotenv_value(k, values[k])}\n" for k in keys)
    raise InputError(f"unknown export format {fmt!r} — use one of {', '.join(FORMATS)}")


# Variables that change what runs, not what an application reads: a value of the store (which a
# teammate may write) must not set them in a process unless the user names them (--allow-key).
_CONTROL_VARIABLES = re.compile(r"(ENVSYNC_|LD_|DYLD_).*|BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|IFS|PATH")
# In a CI job (its later steps, other actions, other tools, EnvSync run again) also where
# credentials and tokens go, and the interpreters' start-up hooks. A developer's own process
# may well take these from its .env (a local emulator's AWS_ENDPOINT_URL, NODE_OPTIONS).
_JOB_CONTROL_VARIABLES = re.compile(
    r"(GITHUB_|ACTIONS_|RUNNER_|AWS_ENDPOINT_URL|GIT_).*"
    r"|AWS_CA_BUNDLE|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|SSL_CERT_DIR|CURL_CA_BUNDLE|AZURE_AUTHORITY_HOST"
    r"|NODE_OPTIONS|NODE_EXTRA_CA_CERTS|PYTHON(PATH|STARTUP|HOME|INSPECT)|PERL5(OPT|LIB)|RUBYOPT|RUBYLIB"
    r"|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS"
)


def check_control_variables(values: Mapping[str, str], allowed: Iterable[str], *, whole_job: bool) -> None:
    """Refuse keys that would set a control variable (see above) unless `allowed` names them."""
    allowed = set(allowed)
    for key in sorted(values):
        if key in allowed:
            continue
        if _CONTROL_VARIABLES.fullmatch(key) or (whole_job and _JOB_CONTROL_VARIABLES.fullmatch(key)):
            where = "the CI job" if whole_job else "the process"
            raise InputError(f"{key}: would set a variable that controls what runs or where credentials go, in "
                             f"{where} — nothing was handed on; pass --allow-key {key} if the target really "
                             "should set it")


def shell_safe_keys(values: Mapping[str, str]) -> None:
    """Shell and process environments take only NAME-like keys."""
    for key in values:
        if not key.replace("_", "a").isalnum() or key[0].isdigit():
            raise InputError(f"{key}: not a valid environment variable name (only letters, digits and '_')")


def github_env_block(key: str, value: str) -> str:
    """`KEY<<DELIM`, the value, `DELIM`: the $GITHUB_ENV form that carries any value, multi-line too.

    The delimiter is random per value and checked not to occur in it, so a
    value can never end its block early and inject another variable.
    """
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value or delimiter in key:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{key}<<{delimiter}\n{value}\n{delimiter}\n"


def gitlab_dotenv_value(key: str, value: str) -> str:
    """A value as GitLab's dotenv report takes it: verbatim on one line (GitLab keeps quotes
    as they are and trims surrounding blanks, so neither can be encoded away)."""
    if "\n" in value or "\r" in value:
        raise InputError(f"{key}: the value spans several lines, and GitLab's dotenv report cannot carry that — "
                         "use --format json or dotenv into a file artifact, or store it base64-encoded")
    if value != value.strip():
        raise InputError(f"{key}: the value starts or ends with blanks, which GitLab's dotenv report would trim — "
                         "use --format json or dotenv into a file artifact")
    return value
