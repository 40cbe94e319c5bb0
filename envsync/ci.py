"""Where the run is (GitHub Actions, GitLab CI, local) and the OIDC ID token of that CI;
each backend trades the token for its cloud's credentials (`envsync/stores/<cloud>/auth.py`),
so no long-lived keys are needed.

Settings come from the target's `[targets.NAME.auth]` table, each overridden by the
environment variable of the same name in capitals with the `ENVSYNC_` prefix
(`aws_role_arn` -> `ENVSYNC_AWS_ROLE_ARN`); the GitHub Action's inputs set those.

The ID token:
- GitHub Actions: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD` with
  `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the JWT is the `value` field.
  The runner only sets those variables for a job with `permissions: id-token: write`.
- GitLab CI: an `id_tokens:` variable (there is no endpoint); its name is
  `id_token_variable`, by default `ENVSYNC_ID_TOKEN`. Any other CI that hands out a JWT
  in a variable works the same way.

Tokens are kept in memory only: never written to disk, never printed. Each cloud gets
the audience it expects unless `audience` says otherwise. A token must be JWT-shaped
before it is sent anywhere, and goes only to the hosts envsync.endpoints accepts.
"""
from __future__ import annotations

import base64
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Mapping

from envsync import nesting
from envsync.errors import InputError, StoreError

if TYPE_CHECKING:
    from envsync.config import Target

GITHUB, GITLAB, LOCAL = "github", "gitlab", "local"
DEFAULT_TOKEN_VARIABLE = "ENVSYNC_ID_TOKEN"
_ATTEMPTS = 3
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
_CI_OWN_PREFIXES = ("CI_", "GITHUB_", "ACTIONS_", "RUNNER_")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+\Z")
# A real token's header is a few hundred bytes, its claims a few KiB; anything far larger is
# not a token, and decoding it could exhaust the stack (deeply nested JSON).
_MAX_HEADER = 8 * 1024
_MAX_CLAIMS = 64 * 1024
_MAX_SIGNATURE = 8 * 1024


def provider(env: Mapping[str, str] | None = None) -> str:
    """github, gitlab or local; ENVSYNC_CI overrides the detection."""
    env = os.environ if env is None else env
    forced = env.get("ENVSYNC_CI", "").strip().lower()
    if forced in (GITHUB, GITLAB, LOCAL):
        return forced
    if env.get("GITHUB_ACTIONS") == "true":
        return GITHUB
    if env.get("GITLAB_CI") == "true":
        return GITLAB
    return LOCAL


def setting(target: Target, key: str) -> str | None:
    """A federation setting: ENVSYNC_<KEY> from the environment, else the target's auth table."""
    for value in (os.environ.get("ENVSYNC_" + key.upper()), target.auth.get(key)):
        if value and value.strip():  # an empty Action input means "not set"
            return value.strip()
    return None


# -- the ID token ---------------------------------------------------------------------

_cache: dict[str, tuple[str, float]] = {}
_cache_lock = threading.Lock()


def id_token(target: Target, audience: str) -> str:
    """This CI's OIDC ID token for `audience` (the target's `audience` setting wins)."""
    audience = setting(target, "audience") or audience
    variable = token_variable(target)
    given = given_token(target)
    if given:
        return given
    where = provider()
    if where == GITHUB:
        return _github_token(audience)
    if where == GITLAB:
        raise StoreError(f"no OIDC ID token in ${variable} — give the job `id_tokens: {variable}: aud: {audience}` "
                         "(or name your variable with id_token_variable / ENVSYNC_ID_TOKEN_VARIABLE)")
    raise StoreError(f"federation is configured for target {target.name} but this is not a CI job with an OIDC "
                     f"token — run it in GitHub Actions or GitLab CI, or put a JWT in ${variable}; "
                     "locally, unset the ENVSYNC_* federation settings to use your own credentials")


def token_variable(target: Target) -> str:
    """The variable that holds the ID token. Any name an `id_tokens:` entry can have, but not
    a CI's own variables: those hold the runner's credentials, never a token for a cloud."""
    variable = setting(target, "id_token_variable") or DEFAULT_TOKEN_VARIABLE
    if not _VARIABLE_NAME.match(variable) or variable.upper().startswith(_CI_OWN_PREFIXES):
        raise InputError(f"target {target.name}: id_token_variable {variable!r} must name the variable of an "
                         "`id_tokens:` entry (letters, digits and _), not one of the CI's own "
                         f"({', '.join(p + '*' for p in _CI_OWN_PREFIXES)}) — fix id_token_variable in the "
                         "auth table or ENVSYNC_ID_TOKEN_VARIABLE")
    return variable


def given_token(target: Target) -> str | None:
    """The ID token in the variable, if any — refused unless it is shaped like a JWT, so a
    config naming some other variable (an API key, a password) cannot send its value."""
    variable = token_variable(target)
    given = os.environ.get(variable, "").strip()
    if given and not looks_like_jwt(given):
        raise InputError(f"target {target.name}: ${variable} does not hold a JWT (three base64url parts, a JSON "
                         "header with `alg`) and only an OIDC ID token is ever sent — point id_token_variable "
                         "(or ENVSYNC_ID_TOKEN_VARIABLE) at the job's `id_tokens:` variable")
    return given or None


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts whose header and claims decode to JSON objects, the header with `alg`."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_BASE64URL.match(part) for part in parts):
        return False
    if len(parts[0]) > _MAX_HEADER or len(parts[1]) > _MAX_CLAIMS or len(parts[2]) > _MAX_SIGNATURE:
        return False
    try:
        header, claims = (nesting.json_loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in parts[:2])
    except ValueError:  # bad padding, not UTF-8, not JSON, nested too deep
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str) and isinstance(claims, dict)


def _github_token(audience: str) -> str:
    with _cache_lock:
        cached = _cache.get(audience)
        if cached and cached[1] > time.time() + 60:
            return cached[0]
    url = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
    bearer = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not bearer:
        raise StoreError("GitHub Actions gave this job no OIDC token — add `permissions: id-token: write` to "
                         "the workflow or job (and `contents: read`)")
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    request = urllib.request.Request(url + separator + urllib.parse.urlencode({"audience": audience}), headers={
        "Authorization": f"Bearer {bearer}", "Accept": "application/json", "User-Agent": "envsync"})
    token = _fetch_value(request)
    with _cache_lock:
        _cache[audience] = (token, _expiry(token))
    return token


def _fetch_value(request: urllib.request.Request) -> str:
    for attempt in range(_ATTEMPTS):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                payload = nesting.json_loads(response.read())
            token = payload.get("value") if isinstance(payload, dict) else None
            if not isinstance(token, str) or not looks_like_jwt(token):
                raise StoreError("GitHub's OIDC token endpoint answered without a token — run the job again")
            return token
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == _ATTEMPTS - 1:
                raise StoreError(f"GitHub's OIDC token endpoint refused the request (HTTP {exc.code}) — check "
                                 "`permissions: id-token: write`; a pull request from a fork gets no token") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt == _ATTEMPTS - 1:
                reason = getattr(exc, "reason", None) or exc.__class__.__name__
                raise StoreError(f"cannot reach GitHub's OIDC token endpoint ({reason}) — run the job again") from None
        time.sleep(0.5 * 2 ** attempt)
    raise AssertionError("unreachable")


def claims(token: str) -> dict[str, Any]:
    """A token's claims, read without verifying (only to say who it names or when it expires)."""
    try:
        part = token.split(".")[1]
        found = nesting.json_loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _expiry(token: str) -> float:
    """When to ask again: the token's `exp` claim."""
    try:
        return float(claims(token)["exp"])
    except (ValueError, KeyError, TypeError):
        return time.time() + 120


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def has_id_token(target: Target) -> bool:
    """Whether this run offers an ID token (GitHub and GitLab jobs always count: if the
    token is missing there, the error should say how to get it)."""
    return bool(given_token(target)) or provider() in (GITHUB, GITLAB)
