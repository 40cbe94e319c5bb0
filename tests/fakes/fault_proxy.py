"""Fault injection for the reliability tests (issue 7, part 2): one fault schedule, three
ways to put it between the real `envsync` executable and a store.

- `Faults`: a thread-safe schedule — a share of calls per fault kind, optionally only for
  the calls a predicate picks (`only=`) — and the tallies: calls seen, faults injected by
  kind, and, where the client says so, attempts per logical call.
- `AwsFaultProxy`: an HTTP proxy in front of moto's server (its forwarding is
  tests/fakes/http_proxy.py's, shared with aws_server.py's `AwsErrorProxy`). Kinds: `throttle` (HTTP 400
  `{"__type":"ThrottlingException"}`, Secrets Manager's wire format), `500`, `503`,
  `reset` (the request is not forwarded; the socket is closed with a TCP RST, no answer),
  `drop` (the request IS forwarded and applied by moto, then the answer is lost: a RST
  instead — a timeout after the server acted), `slow` (forwarded after `slow_seconds`).
  botocore sends `amz-sdk-invocation-id` and `amz-sdk-request: attempt=N; max=M` on every
  attempt, so the proxy counts the attempts of each logical call and their times.
- `FlakyGcp`: the gRPC fake of tests/fakes/gcp_fake.py with a random fault before each handler:
  `unavailable` (UNAVAILABLE, GCP's 503), `exhausted` (RESOURCE_EXHAUSTED, GCP's 429),
  `reset` (UNAVAILABLE "Connection reset by peer", what gRPC reports for a dropped
  connection), `slow`. The fake's own `fail()`/`delay()` hooks still work.
- `FlakyAzure`: the HTTPS fake of tests/fakes/azure_fake.py with a random fault before each
  authorised data-plane request: `429` (with `Retry-After`), `503`, `reset` (the
  connection is closed without an answer, with a TCP RST), `slow`. The request times are
  logged per (method, path) so a test can see the client wait out Retry-After.

`TALLY` collects figures across the test modules; `write_tally()` saves it as JSON to
`$ENVSYNC_RELIABILITY_REPORT_FAULTS` when that is set (one file per pytest-xdist worker:
campaign.report_path).
"""
from __future__ import annotations

import collections
import json
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import grpc

from tests.fakes.azure_fake import FakeAzure, _operation
from tests.fakes.gcp_fake import FakeSecretManager
from tests.fakes.http_proxy import ForwardingHandler, ProxyServer
from tests.reliability.campaign import report_path

# -- the tally written at the end -------------------------------------------------------

TALLY: dict[str, Any] = {
    "faults_injected": collections.Counter(),  # "store:kind" -> n
    "calls_seen": collections.Counter(),  # store -> requests that reached the proxy / fake
    "retries_observed": collections.Counter(),  # store -> attempts beyond the first (where countable)
    "max_attempts_per_call": {},  # store -> largest attempt count of one logical call
    "runs": collections.Counter(),  # "store/layout:command" -> envsync runs under faults
    "races": {"rounds": 0, "conflicts": 0, "both_applied": 0, "lost_updates": 0,
              "loser_partly_applied": 0, "by_store": {}},
    "notes": [],
}
_TALLY_LOCK = threading.Lock()


def note(text: str) -> None:
    with _TALLY_LOCK:
        if text not in TALLY["notes"]:
            TALLY["notes"].append(text)


def write_tally(extra: dict[str, Any] | None = None) -> None:
    path = report_path("ENVSYNC_RELIABILITY_REPORT_FAULTS")
    if path is None:
        return
    with _TALLY_LOCK:
        data = json.loads(json.dumps(TALLY, default=dict))
    if extra:
        data.update(extra)
    by_kind: collections.Counter[str] = collections.Counter()
    for key, n in TALLY["faults_injected"].items():
        by_kind[key.split(":", 1)[1]] += n
    data["faults_by_kind"] = dict(by_kind)
    data["faults_total"] = sum(by_kind.values())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


# -- the schedule ------------------------------------------------------------------------


@dataclass
class Faults:
    """Which share of calls gets which fault, and what happened. `rates` maps a kind to a
    probability; the kinds' shares add up (0.15 in total means ~15% of calls fault)."""

    store: str
    seed: int = 7
    rates: dict[str, float] = field(default_factory=dict)
    only: Callable[[str, str], bool] | None = None  # (operation, detail) -> eligible
    budget: int | None = None  # inject at most this many faults, then pass everything
    slow_seconds: float = 0.3
    injected: collections.Counter = field(default_factory=collections.Counter)
    calls: collections.Counter = field(default_factory=collections.Counter)  # operation -> n
    attempts: dict[str, list[tuple[str, int, float]]] = field(default_factory=dict)  # invocation -> (op, n, t)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def set(self, only: Callable[[str, str], bool] | None = None, budget: int | None = None,
            **rates: float) -> None:
        with self._lock:
            self.rates = {k: v for k, v in rates.items() if v}
            self.only = only
            self.budget = budget

    def stop(self) -> None:
        self.set()

    def choose(self, operation: str, detail: str = "") -> str | None:
        with self._lock:
            self.calls[operation] += 1
            TALLY["calls_seen"][self.store] += 1
            if not self.rates or (self.only is not None and not self.only(operation, detail)):
                return None
            if self.budget is not None and self.total_injected() >= self.budget:
                return None
            roll, edge = self._rng.random(), 0.0
            for kind, rate in self.rates.items():
                edge += rate
                if roll < edge:
                    self.injected[kind] += 1
                    TALLY["faults_injected"][f"{self.store}:{kind}"] += 1
                    return kind
            return None

    def attempt(self, invocation: str, operation: str, number: int) -> None:
        with self._lock:
            self.attempts.setdefault(invocation, []).append((operation, number, time.monotonic()))

    def clear(self) -> None:
        """Forget what happened and restart the dice: each test draws the same faults whichever
        tests ran on this worker before it."""
        with self._lock:
            self._rng = random.Random(self.seed)
            self.injected.clear()
            self.calls.clear()
            self.attempts.clear()

    def total_injected(self) -> int:
        return sum(self.injected.values())

    def attempt_summary(self) -> tuple[int, int, float]:
        """(retries beyond the first attempt, most attempts of one call, longest span of one call)."""
        with self._lock:
            runs = list(self.attempts.values())
        retries = sum(len(r) - 1 for r in runs)
        most = max((max(n for _, n, _ in r) for r in runs), default=0)
        span = max((r[-1][2] - r[0][2] for r in runs), default=0.0)
        return retries, most, span

    def record_attempts(self) -> tuple[int, int, float]:
        retries, most, span = self.attempt_summary()
        with _TALLY_LOCK:
            TALLY["retries_observed"][self.store] += retries
            TALLY["max_attempts_per_call"][self.store] = max(TALLY["max_attempts_per_call"].get(self.store, 0), most)
        return retries, most, span


def _reset_socket(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, as when a load balancer drops it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


# -- AWS: an HTTP proxy in front of moto ------------------------------------------------------


AWS_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "500": (500, "InternalServiceError", "An internal error occurred (injected)."),
    "503": (503, "ServiceUnavailableException", "Service is unavailable (injected)."),
}
AWS_WRITES = {"CreateSecret", "PutSecretValue", "UpdateSecretVersionStage", "DeleteSecret", "RestoreSecret",
              "TagResource", "UntagResource"}


class AwsFaultProxy:
    """Forwards Secrets Manager requests to moto unchanged (SigV4 intact) unless the
    schedule picks a fault. The operation is the `X-Amz-Target` header; `detail` given to
    `only=` is the request body (JSON with SecretId/Name), so a test can fault the writes
    of chosen keys."""

    def __init__(self, upstream: str, faults: Faults) -> None:
        self.faults = faults
        proxy = self

        class Handler(ForwardingHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "?.?").split(".")[-1]
                invocation = self.headers.get("amz-sdk-invocation-id")
                attempt = _attempt_number(self.headers.get("amz-sdk-request", ""))
                if invocation:
                    proxy.faults.attempt(invocation, operation, attempt)
                kind = proxy.faults.choose(operation, body.decode("utf-8", "replace"))
                if kind == "reset":
                    self.close_connection = True
                    _reset_socket(self.connection)
                    return
                if kind in AWS_ERRORS:
                    status, code, message = AWS_ERRORS[kind]
                    self.answer(status, [("Content-Type", "application/x-amz-json-1.1"),
                                         ("x-amzn-ErrorType", f"{code}:"),
                                         ("x-amzn-RequestId", "injected-fault")],
                                json.dumps({"__type": code, "message": message}).encode())
                    return
                if kind == "slow":
                    time.sleep(proxy.faults.slow_seconds)
                status, headers, payload = self.forward(body)
                if kind == "drop":  # moto applied it; the client never hears back
                    self.close_connection = True
                    _reset_socket(self.connection)
                    return
                self.answer(status, headers, payload)

        self._server = ProxyServer(upstream, Handler, upstream_timeout=30, quiet_errors=True,
                                   request_queue_size=128)
        self.endpoint = self._server.endpoint

    def stop(self) -> None:
        self._server.stop()


def _attempt_number(header: str) -> int:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "attempt" and value.isdigit():
            return int(value)
    return 1


# -- GCP: the gRPC fake with random faults ----------------------------------------------------


GCP_CODES = {
    "unavailable": (grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable."),
    "exhausted": (grpc.StatusCode.RESOURCE_EXHAUSTED,
                  "Quota exceeded for quota metric 'Access requests' (injected)."),
    "reset": (grpc.StatusCode.UNAVAILABLE, "recvmsg:Connection reset by peer"),
}
GCP_WRITES = {"CreateSecret", "UpdateSecret", "DeleteSecret", "AddSecretVersion", "EnableSecretVersion",
              "DisableSecretVersion", "DestroySecretVersion"}


class FlakyGcp(FakeSecretManager):
    """tests/fakes/gcp_fake.py's fake with `faults` consulted before every call. The GCP client
    sends no attempt counter, so attempts are counted per (method, resource, request bytes):
    a retry resends the same request."""

    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def _wrap(self, method: str, handler: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        inner = super()._wrap(method, handler)

        def call(request: Any, context: grpc.ServicerContext) -> Any:
            resource = getattr(request, "name", "") or getattr(request, "parent", "")
            secret = getattr(request, "secret", None)
            if not resource and secret is not None:
                resource = getattr(secret, "name", "")
            try:
                identity = type(request).serialize(request)
            except Exception:  # noqa: BLE001 - counting is best effort
                identity = b""
            self.faults.attempt(f"{method} {resource} {hash(identity)}", method, 0)
            kind = self.faults.choose(method, resource)
            if kind == "slow":
                time.sleep(self.faults.slow_seconds)
            elif kind is not None:
                code, message = GCP_CODES[kind]
                context.abort(code, message)
            return inner(request, context)

        return call


# -- Azure: the HTTPS fake with random faults -------------------------------------------------


class _Reset(Exception):
    """Raised inside the fake's request handler: the connection is dropped without an answer."""


class FlakyAzure(FakeAzure):
    """tests/fakes/azure_fake.py's fake with `faults` consulted before every authorised data-plane
    request (the challenge and the token endpoint are left alone). `retry_after` is what a
    429 carries."""

    def __init__(self, folder: Path, faults: Faults, retry_after: str = "0.2") -> None:
        self.faults = faults
        self.retry_after = retry_after
        self.request_log: list[tuple[str, str, float, str | None]] = []  # (method, path, time, fault)
        super().__init__(folder)
        # close a reset connection with a RST: patch the server's request shutdown
        server = self._server
        original = server.shutdown_request

        def shutdown_request(request: Any) -> None:
            if getattr(threading.current_thread(), "envsync_reset", False):
                threading.current_thread().envsync_reset = False  # type: ignore[attr-defined]
                _reset_socket(request)
                return
            original(request)

        server.shutdown_request = shutdown_request  # type: ignore[method-assign]

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        segments = path.split("/")[1:]
        operation = _operation(method, segments)
        token = headers.get("Authorization", "")
        authorised = token.startswith("Bearer ") and token[7:] in self.tokens
        kind = None
        if operation is not None and authorised:
            kind = self.faults.choose(operation.split(" ")[0], f"{method} {path}")
            with self._lock:
                self.request_log.append((method, path.lower(), time.monotonic(), kind))
        if kind == "429":
            return 429, {"Retry-After": self.retry_after, "Content-Type": "application/json; charset=utf-8"}, \
                json.dumps({"error": {"code": "Throttled", "message": "Too many requests (injected)."}}).encode()
        if kind == "503":
            return 503, {"Content-Type": "application/json; charset=utf-8"}, \
                json.dumps({"error": {"code": "ServiceUnavailable", "message": "injected"}}).encode()
        if kind == "reset":
            threading.current_thread().envsync_reset = True  # type: ignore[attr-defined]
            raise _Reset()
        if kind == "slow":
            time.sleep(self.faults.slow_seconds)
        return super().handle(method, target, headers, body)

    def reset(self) -> None:
        super().reset()
        if hasattr(self, "request_log"):
            self.request_log.clear()

    def retry_gaps_after(self, kind: str) -> list[float]:
        """For each request answered with `kind`, the wait until the same (method, path) came again."""
        with self._lock:
            log = list(self.request_log)
        gaps = []
        for i, (method, path, t, fault) in enumerate(log):
            if fault != kind:
                continue
            later = next((t2 for m2, p2, t2, _ in log[i + 1:] if (m2, p2) == (method, path)), None)
            if later is not None:
                gaps.append(later - t)
        return gaps


# -- the stores under test, as the `envsync` runs see them ------------------------------------


KEY_WIDTH = 3


def key(i: int) -> str:
    return f"K{i:0{KEY_WIDTH}d}"


class Backend:
    """One store kind for a test module: how to name a store, the environment of each
    `envsync` run, the fault schedule (None for `file`), and what a write looks like on the
    wire (`write_ops`), for faults aimed at the writes of chosen keys."""

    def __init__(self, name: str, faults: Faults | None, env: dict[str, str],
                 make_uri: Callable[..., str], write_ops: set[str], flaky: dict[str, float],
                 outage: dict[str, float], server: Any = None) -> None:
        self.name = name
        self.faults = faults
        self.env = env
        self._make_uri = make_uri
        self.write_ops = write_ops
        self.flaky = flaky  # ~15% of calls
        self.outage = outage  # 100% of the calls it is aimed at
        self.server = server

    def uri(self, prefix: str, layout: str, **options: str) -> str:
        return self._make_uri(prefix, layout, **options)

    def writes_of(self, keys: list[str] | None) -> Callable[[str, str], bool]:
        """`only=` predicate: the write calls (of `keys` only, when given)."""
        ops = self.write_ops

        def pick(operation: str, detail: str) -> bool:
            if operation not in ops:
                return False
            return keys is None or any(_names_key(detail, k) for k in keys)

        return pick


def _names_key(detail: str, k: str) -> bool:
    """Does a request (its body, resource name or path) name the secret of key `k`?
    Per-key secret names end in the key (`/K002`, `_K002`, `-K002`)."""
    import re

    return re.search(rf"[/_-]{re.escape(k)}(?![0-9A-Za-z])", detail) is not None


# -- fixtures (import them into a test module) -----------------------------------------------

import pytest  # noqa: E402 - fixtures below only

AWS_FLAKY = {"throttle": 0.02, "500": 0.04, "503": 0.04, "reset": 0.04, "slow": 0.01}
GCP_FLAKY = {"unavailable": 0.05, "exhausted": 0.05, "reset": 0.03, "slow": 0.02}
AZURE_FLAKY = {"429": 0.05, "503": 0.04, "reset": 0.03, "slow": 0.02}


@pytest.fixture(scope="module")
def faulty_aws_backend(moto_server, tmp_path_factory):
    from tests.fakes.aws_server import store_uri, subprocess_env

    folder = tmp_path_factory.mktemp("aws-config")
    empty = folder / "empty"
    empty.write_text("")
    env = {k: v for k, v in subprocess_env(empty).items() if k.startswith("AWS_")}
    faults = Faults("aws", seed=11)
    proxy = AwsFaultProxy(moto_server.endpoint, faults)

    def make_uri(prefix: str, layout: str, direct: bool = False, **options: str) -> str:
        return store_uri(moto_server.endpoint if direct else proxy.endpoint, f"rel/{prefix}", layout, **options)

    yield Backend("aws-sm", faults, env, make_uri, AWS_WRITES, AWS_FLAKY, {"503": 1.0}, server=proxy)
    proxy.stop()


@pytest.fixture(scope="module")
def faulty_gcp_backend():
    from tests.fakes.gcp_fake import PROJECT

    faults = Faults("gcp", seed=13)
    fake = FlakyGcp(faults).start()

    def make_uri(prefix: str, layout: str, **options: str) -> str:
        return fake.uri(prefix, layout, **options)

    yield Backend("gcp-sm", faults, {"GOOGLE_CLOUD_PROJECT": PROJECT}, make_uri, GCP_WRITES - {"UpdateSecret"},
                  GCP_FLAKY, {"unavailable": 1.0}, server=fake)
    fake.stop()


@pytest.fixture(scope="module")
def faulty_azure_backend(tmp_path_factory):
    faults = Faults("azure", seed=17)
    fake = FlakyAzure(tmp_path_factory.mktemp("flaky-azure"), faults)

    def make_uri(prefix: str, layout: str, **options: str) -> str:
        return fake.uri(prefix, layout, **options)

    yield Backend("azure-kv", faults, fake.env(), make_uri, {"set", "delete", "recover", "purge"},
                  AZURE_FLAKY, {"503": 1.0}, server=fake)
    fake.stop()


@pytest.fixture(scope="module")
def faulty_file_backend():
    def make_uri(prefix: str, layout: str, **options: str) -> str:
        return f"file://../shared-store-{prefix}?layout={layout}"

    return Backend("file", None, {}, make_uri, set(), {}, {})
