"""Streamed request and response bodies through a real server, and streams the client abandons."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx

from .serverapp import stream_lines
from .servers import ServerProcess

POLL_DEADLINE = 10.0


def upload_chunks() -> list[bytes]:
    """64 chunks that differ from each other, so a lost, repeated or reordered chunk shows."""
    return [
        f"<chunk {index:02d}>".encode() + bytes([index]) * (1000 + index) for index in range(64)
    ]


def test_streamed_upload_is_echoed_in_order(client: httpx.Client) -> None:
    chunks = upload_chunks()

    def body() -> Iterator[bytes]:
        yield from chunks

    response = client.post("/echo", content=body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    # httpx sent the generator with chunked transfer encoding; the handler saw that.
    assert response.headers["x-request-transfer-encoding"] == "chunked"
    assert response.content == b"".join(chunks)


def test_echo_of_a_body_with_content_length(client: httpx.Client) -> None:
    payload = bytes(range(256)) * 300
    response = client.post("/echo", content=payload)
    assert response.status_code == 200
    assert response.headers["x-request-transfer-encoding"] == ""
    assert response.content == payload


def test_echo_of_an_empty_body(client: httpx.Client) -> None:
    response = client.post("/echo", content=b"")
    assert response.status_code == 200
    assert response.content == b""


def test_streaming_response_from_async_generator(client: httpx.Client) -> None:
    response = client.get("/stream/async")
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b"".join(stream_lines(50))


def test_streaming_response_from_sync_generator(client: httpx.Client) -> None:
    response = client.get("/stream/sync")
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.content == b"".join(stream_lines(50))


def test_head_on_streaming_route_sends_no_body(client: httpx.Client) -> None:
    response = client.head("/stream/async")
    assert response.status_code == 200
    assert response.content == b""
    assert "content-length" not in response.headers
    assert client.get("/health").json() == {"ok": True}


def test_stream_stops_when_client_disconnects(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    log_start = server.output_size()
    with (
        httpx.Client(base_url=server.url, timeout=10.0) as client,
        client.stream("GET", f"/stream/forever/{token}") as response,
    ):
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        received = b""
        for chunk in response.iter_raw():
            received += chunk
            if received.count(b"\n") >= 3:
                break
    assert received.startswith(b"tick 0\ntick 1\ntick 2\n")

    # Closing the response mid-body closed the connection; the generator's finally must run.
    deadline = time.monotonic() + POLL_DEADLINE
    closed = False
    while not closed and time.monotonic() < deadline:
        answer = httpx.get(f"{server.url}/stream/closed/{token}", timeout=5.0)
        assert answer.status_code == 200
        closed = answer.json()["closed"]
        if not closed:
            time.sleep(0.05)
    assert closed, f"the stream's generator was not closed within {POLL_DEADLINE}s"
    assert "Traceback" not in server.output_since(log_start)
