"""A small HTTP reverse proxy on 127.0.0.1 that counts requests and can inject faults.

    with LoopbackProxy("http://127.0.0.1:5232/") as proxy:
        proxy.url            # point a client here instead
        proxy.requests       # [(method, path), ...] seen so far
        proxy.fault = lambda method, path: Fault(status=503, retry_after=2)   # or None: pass
        proxy.times          # time.monotonic() of each request, in the same order

`LoopbackProxy(upstream, port=P)` listens on a given port: close one and open another on the
same port to refuse connections for a while and then accept them again.

A real server cannot be made to fail on demand; this is the loopback stand-in the standards ask
for, used by the fault tests and the benchmarks.
"""

from __future__ import annotations

import http.client
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Fault:
    status: int | None = None  # answer this instead of forwarding
    retry_after: float | None = None
    body: bytes = b""
    content_type: str = "text/plain"
    delay: float = 0.0  # stall this long first
    reset: bool = False  # drop the connection without an answer (after reading the request)
    forward: bool = False  # with reset: pass the request upstream first, then drop the answer
    only_if_body: bytes | None = None  # applies only to requests whose body holds this


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (killed, timed out, reset) is part of the tests: no noise."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LoopbackProxy:
    def __init__(self, upstream: str, port: int = 0):
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[tuple[str, str]] = []
        self.times: list[float] = []
        self.fault: Callable[[str, str], Fault | None] | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._connections.discard(self.connection)
                super().finish()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                    proxy.times.append(time.monotonic())
                fault = proxy.fault(self.command, self.path) if proxy.fault else None
                if fault and fault.only_if_body is not None and fault.only_if_body not in body:
                    fault = None
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.reset and fault.forward:
                    self._forward(body)  # the server acts on it; the client never learns
                if fault and fault.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault and fault.status:
                    self.send_response(fault.status)
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", str(int(fault.retry_after)))
                    self.send_header("Content-Type", fault.content_type)
                    self.send_header("Content-Length", str(len(fault.body)))
                    self.end_headers()
                    self.wfile.write(fault.body)
                    return
                answer, data = self._forward(body)
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes) -> tuple[http.client.HTTPResponse, bytes]:
                upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port,
                                                      timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "proxy-connection")}
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    return answer, answer.read()
                finally:
                    upstream.close()

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_MKCOL = _handle
            do_MKCALENDAR = do_PROPPATCH = do_OPTIONS = do_HEAD = do_POST = do_MOVE = _handle

        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for m, _ in self.requests if method is None or m == method)

    def __enter__(self) -> LoopbackProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:  # kept-alive connections too: a closed proxy answers nothing more
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
