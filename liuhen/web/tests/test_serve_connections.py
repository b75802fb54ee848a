"""`liuhen serve` closes each client connection after its response by default (issue 9 item 3).

A kept-alive connection stays on the web worker process that accepted it, and each process
runs Python on one core at a time: ten users of one office on kept-alive connections sat
unevenly on the two workers for a whole minute (bench/bench_pages_load.py). Closed after each
response, every request is accepted afresh by whichever worker takes it first.
LIUHEN_WEB_KEEPALIVE keeps connections open that many seconds (behind a load balancer).
"""

from __future__ import annotations

import http.client
import socket
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from liuhen.web.management.commands import serve


def _answering(server) -> None:
    deadline = time.time() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def _closed_after_response(port: int) -> tuple[bytes, bool]:
    """One HTTP/1.1 request (keep-alive by default); the response and whether the server
    closed the connection within a second of it."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\nok" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True
            data += chunk
        sock.settimeout(1.0)
        try:
            return data, sock.recv(65536) == b""
        except TimeoutError:
            return data, False


def test_each_response_closes_its_connection_by_default(server_process):
    server = server_process().start(workers=2)
    _answering(server)
    response, closed = _closed_after_response(server.port)
    assert response.startswith(b"HTTP/1.1 200")
    assert b"\r\nConnection: close\r\n" in response
    assert closed


def test_keep_alive_when_the_operator_asks_for_it(server_process):
    server = server_process({"LIUHEN_WEB_KEEPALIVE": "5"}).start(workers=2)
    _answering(server)
    response, closed = _closed_after_response(server.port)
    assert response.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" not in response
    assert not closed


def test_a_bad_keep_alive_stops_the_start_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("LIUHEN_WEB_KEEPALIVE", "两秒")
    with pytest.raises(ImproperlyConfigured, match="LIUHEN_WEB_KEEPALIVE"):
        serve.Command().create_parser("liuhen", "serve")
    monkeypatch.setenv("LIUHEN_WEB_KEEPALIVE", "-1")
    with pytest.raises(ImproperlyConfigured, match="LIUHEN_WEB_KEEPALIVE"):
        serve.Command().create_parser("liuhen", "serve")
