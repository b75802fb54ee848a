"""The PATCH body read straight from gunicorn's socket (issue 9 item 1, tus/protocol.py
``_SocketBody``): exactly the body's bytes, whatever gunicorn held already, and nothing of a
kept-alive connection's next request."""

from __future__ import annotations

import socket

import pytest
from gunicorn.http.body import Body, ChunkedReader, LengthReader
from gunicorn.http.unreader import SocketUnreader

from liuhen.evidence.tus.protocol import _SocketBody
from liuhen.evidence.tus.receive import _fill

NEXT = b"HEAD /api/uploads/x HTTP/1.1\r\n\r\n"


@pytest.mark.parametrize(("in_body_buffer", "in_reader_buffer"), [
    (0, 0), (0, 700), (300, 700), (0, 5120), (0, 5120 + 20), (300, 4820 + 20),
])
def test_reads_the_body_exactly_and_leaves_the_next_request(in_body_buffer, in_reader_buffer):
    """``in_body_buffer`` bytes of the body sit in gunicorn's body buffer (counted off its
    reader's length), the next ``in_reader_buffer`` bytes of the wire in its socket reader's
    buffer (read with the headers; they may run past the body), the rest on the socket."""
    body = bytes(range(256)) * 20  # 5,120 bytes
    wire = body + NEXT
    server, client = socket.socketpair()
    server.settimeout(5)
    try:
        unreader = SocketUnreader(server)
        reader = LengthReader(unreader, len(body) - in_body_buffer)
        wsgi_input = Body(reader)
        wsgi_input.buf.write(wire[:in_body_buffer])
        held = in_body_buffer + in_reader_buffer
        unreader.buf.write(wire[in_body_buffer:held])
        client.sendall(wire[held:])
        stream = _SocketBody.of(wsgi_input)
        assert stream is not None
        ring = memoryview(bytearray(1000))  # smaller than the body: several fills
        got = b""
        while count := _fill(stream, ring):
            got += bytes(ring[:count])
        assert got == body
        assert reader.length == 0
        assert wsgi_input.read(1024) == b""  # gunicorn's drain finds the body consumed
        assert unreader.read(len(NEXT)) == NEXT  # the next request is intact
    finally:
        server.close()
        client.close()


def test_other_streams_are_read_as_before():
    server, client = socket.socketpair()
    try:
        assert _SocketBody.of(Body(ChunkedReader(None, SocketUnreader(server)))) is None
        assert _SocketBody.of(object()) is None
        assert _SocketBody.of(None) is None
    finally:
        server.close()
        client.close()
