"""The forwarding the HTTP proxies in front of moto share (tests/fakes/aws_server.py's
`AwsErrorProxy`, tests/fakes/fault_proxy.py's `AwsFaultProxy`): a handler that passes a
request on unchanged — the SigV4 signature, Host header included, reaches moto intact —
and answers in one response that closes the connection, and the threaded server it runs in.
"""
from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

# Headers of one hop: http.client and `answer` set their own.
HOP_BY_HOP = ("content-length", "connection", "transfer-encoding")


class ForwardingHandler(BaseHTTPRequestHandler):
    """Subclass it with a `do_POST` that decides what to do with each request."""

    protocol_version = "HTTP/1.1"
    server: ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """This request, with `body`, sent upstream; its answer as (status, headers, payload)."""
        upstream = self.server.upstream
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=self.server.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            status, payload = response.status, response.read()
            out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        finally:
            conn.close()
        return status, out, payload

    def answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True


class ProxyServer(ThreadingHTTPServer):
    """`handler` on 127.0.0.1 and a free port, in a daemon thread, forwarding to `upstream`
    (`http://HOST:PORT`). `quiet_errors` leaves out the traceback of a connection the handler
    reset itself or a client gave up on."""

    daemon_threads = True

    def __init__(self, upstream: str, handler: type[ForwardingHandler], *, upstream_timeout: float,
                 quiet_errors: bool = False, request_queue_size: int = 5) -> None:
        self.upstream = urlsplit(upstream)
        self.upstream_timeout = upstream_timeout
        self.quiet_errors = quiet_errors
        self.request_queue_size = request_queue_size  # read by the listen() in __init__
        super().__init__(("127.0.0.1", 0), handler)
        self.endpoint = "http://127.0.0.1:%d" % self.server_address[1]
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.quiet_errors:
            super().handle_error(request, client_address)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
