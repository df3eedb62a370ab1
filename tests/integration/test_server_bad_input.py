"""Bad input through a real server: what the client gets back, and that the server keeps serving.

Each test ends with :func:`assert_still_serving`, a normal request on a fresh connection. Input the
server itself refuses before the app sees it (a request line that is not valid HTTP) is answered
by the server; the tests pin what the client sees there too, and that it is never a 500.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from .servers import HOST, ServerProcess, raw_request, split_response

POLL_DEADLINE = 10.0
BOUNDARY = "integration-boundary"


def assert_still_serving(server: ServerProcess) -> None:
    """A normal request on a new connection gets a normal answer."""
    response = httpx.get(f"{server.url}/health", timeout=5.0)
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def raw_get(server: ServerProcess, target: bytes, *headers: bytes) -> tuple[int, bytes]:
    """GET ``target`` (bytes exactly as they go on the wire); the status and the body."""
    request = b"GET " + target + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
    for header in headers:
        request += header + b"\r\n"
    request += b"Connection: close\r\n\r\n"
    status, _, body = split_response(raw_request(server.port, request))
    return status, body


def multipart(*parts: tuple[str, str]) -> bytes:
    """A multipart/form-data body with text fields ``(name, value)``."""
    body = b""
    for name, value in parts:
        body += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    return body + f"--{BOUNDARY}--\r\n".encode()


MULTIPART_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def wait_until_handlers_finished(server: ServerProcess) -> dict[str, int]:
    """Poll /counters until every /upload handler that started has ended; the counters."""
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        counters: dict[str, int] = httpx.get(f"{server.url}/counters", timeout=5.0).json()
        if counters["upload_started"] == counters["upload_finished"]:
            return counters
        assert time.monotonic() < deadline, f"an /upload handler never ended: {counters}"
        time.sleep(0.02)


# -- request target -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "item_id"),
    [("/items/%zz", "%zz"), ("/items/%", "%"), ("/items/%4", "%4"), ("/items/100%", "100%")],
)
def test_malformed_percent_escape_in_path(
    server: ServerProcess, client: httpx.Client, path: str, item_id: str
) -> None:
    # The servers decode the path with urllib's unquote, which keeps what is not an escape.
    response = client.get(path)
    assert response.request.url.raw_path == path.encode()  # sent as written
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"item_id": item_id}
    assert_still_serving(server)


def test_percent_encoded_invalid_utf8_in_path(server: ServerProcess, client: httpx.Client) -> None:
    response = client.get("/path/caf%e9")
    assert response.status_code == 200
    assert response.json() == {"rest": "caf\ufffd"}
    assert_still_serving(server)


def test_percent_encoded_utf8_in_path(client: httpx.Client) -> None:
    response = client.get("/path/caf%C3%A9")
    assert response.status_code == 200
    assert response.json() == {"rest": "caf\u00e9"}


@pytest.mark.parametrize("target", [b"/caf\xe9", b"/path/caf\xe9", b"/query?q=\xff"])
def test_raw_non_ascii_bytes_in_request_target(server: ServerProcess, target: bytes) -> None:
    # Not valid HTTP (a request target is ASCII): each server refuses it itself with a 400.
    status, _ = raw_get(server, target)
    assert status == 400
    assert_still_serving(server)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        # The headers are fine, so the app starts reading; the first chunk size is not hex.
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"NOT AN HTTP REQUEST\r\n\r\n",
    ],
    ids=["length-not-a-number", "negative-length", "two-lengths", "bad-chunk-size", "garbage"],
)
def test_malformed_message_framing(server: ServerProcess, request_bytes: bytes) -> None:
    before = wait_until_handlers_finished(server)
    log_start = server.output_size()
    status, _, _ = split_response(raw_request(server.port, request_bytes))
    assert status == 400  # answered by the server itself
    after = wait_until_handlers_finished(server)
    if b"chunked" in request_bytes:  # the app was called and saw the body break off
        assert after["upload_started"] == before["upload_started"] + 1
    assert_still_serving(server)
    assert "Traceback" not in server.output_since(log_start)


# -- query string and headers -------------------------------------------------------------------


def test_percent_encoded_invalid_utf8_in_query(server: ServerProcess, client: httpx.Client) -> None:
    response = client.get("/query?q=%ff")
    assert response.status_code == 200
    assert response.json() == {"q": "\ufffd", "raw": "q=%ff"}
    assert_still_serving(server)


def test_mixed_valid_and_invalid_escapes_in_query(client: httpx.Client) -> None:
    response = client.get("/query?q=caf%C3%A9%ff%zz")
    assert response.status_code == 200
    assert response.json() == {"q": "caf\u00e9\ufffd%zz", "raw": "q=caf%C3%A9%ff%zz"}


def test_non_utf8_header_value_reads_as_latin1(server: ServerProcess, client: httpx.Client) -> None:
    response = client.get("/header", headers={"X-Name": b"\xff\xfe"})
    assert response.status_code == 200
    assert response.json() == {"x_name": "\u00ff\u00fe"}
    assert_still_serving(server)


def test_non_utf8_header_value_on_a_raw_request(server: ServerProcess) -> None:
    status, body = raw_get(server, b"/header", b"X-Name: caf\xe9")
    assert status == 200
    assert json.loads(body) == {"x_name": "caf\u00e9"}


# -- JSON bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"", b'{"a": 1', b"\xff\xfe"])
def test_invalid_json_body_is_400(server: ServerProcess, client: httpx.Client, body: bytes) -> None:
    response = client.post("/json", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"].startswith("Invalid JSON body: ")
    assert_still_serving(server)


def test_valid_json_body(client: httpx.Client) -> None:
    response = client.post("/json", json={"name": "caf\u00e9", "tags": [1, 2]})
    assert response.status_code == 200
    assert response.json() == {
        "received": {"name": "caf\u00e9", "tags": [1, 2]},
        "content_type": "application/json",
    }


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_json_body_with_wrong_or_missing_content_type_is_parsed(
    client: httpx.Client, content_type: str | None
) -> None:
    # request.json() reads the body whatever the Content-Type says (as Starlette does): a route
    # that wants to insist on application/json has to check the header itself.
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/json", content=b'{"a": 1}', headers=headers)
    assert response.status_code == 200
    assert response.json() == {"received": {"a": 1}, "content_type": content_type}


# -- form bodies --------------------------------------------------------------------------------


def test_multipart_form(client: httpx.Client) -> None:
    response = client.post(
        "/form",
        content=multipart(("name", "caf\u00e9"), ("count", "3")),
        headers={"content-type": MULTIPART_TYPE},
    )
    assert response.status_code == 200
    assert response.json() == {"name": "caf\u00e9", "count": "3"}


def test_multipart_upload_with_httpx_files(client: httpx.Client) -> None:
    response = client.post(
        "/form", data={"title": "report"}, files={"doc": ("notes.txt", b"line 1\nline 2\n")}
    )
    assert response.status_code == 200
    assert response.json() == {
        "title": "report",
        "doc": {"filename": "notes.txt", "content": "line 1\nline 2\n"},
    }


def test_urlencoded_form(client: httpx.Client) -> None:
    response = client.post("/form", data={"a": "1", "b": "caf\u00e9"})
    assert response.status_code == 200
    assert response.json() == {"a": "1", "b": "caf\u00e9"}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_form_with_wrong_content_type_is_415(
    server: ServerProcess, client: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/form", content=b'{"a": 1}', headers=headers)
    assert response.status_code == 415
    assert "Content-Type multipart/form-data" in response.json()["detail"]
    assert_still_serving(server)


def test_truncated_multipart_body_is_400(server: ServerProcess, client: httpx.Client) -> None:
    body = multipart(("name", "value"), ("other", "x" * 200))
    truncated = body[: len(body) // 2]
    response = client.post("/form", content=truncated, headers={"content-type": MULTIPART_TYPE})
    assert response.status_code == 400
    assert response.json() == {"detail": "Multipart body ended before its closing boundary"}
    assert_still_serving(server)


def test_multipart_without_boundary_is_400(server: ServerProcess, client: httpx.Client) -> None:
    response = client.post(
        "/form", content=multipart(("a", "b")), headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "Multipart body without a boundary in Content-Type"}
    assert_still_serving(server)


def test_garbage_multipart_body_is_400(server: ServerProcess, client: httpx.Client) -> None:
    response = client.post(
        "/form", content=b"this is not multipart at all", headers={"content-type": MULTIPART_TYPE}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed multipart body")
    assert_still_serving(server)


# -- the client leaves mid-body -----------------------------------------------------------------


def wait_for_counter(server: ServerProcess, name: str, at_least: int) -> int:
    """Poll /counters until ``name`` reaches ``at_least``; its last value."""
    deadline = time.monotonic() + POLL_DEADLINE
    while True:
        value: int = httpx.get(f"{server.url}/counters", timeout=5.0).json()[name]
        if value >= at_least or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def test_client_disconnect_mid_body(server: ServerProcess) -> None:
    before = httpx.get(f"{server.url}/counters", timeout=5.0).json()
    log_start = server.output_size()
    with socket.create_connection((HOST, server.port), timeout=5.0) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream"
            b"\r\nContent-Length: 1000\r\n\r\n0123456789"
        )
        # Close only once the handler is reading the body, so the disconnect happens mid-body.
        started = wait_for_counter(server, "upload_started", before["upload_started"] + 1)
        assert started == before["upload_started"] + 1
    finished = wait_for_counter(server, "upload_finished", before["upload_finished"] + 1)
    assert finished == before["upload_finished"] + 1, "the handler never ended"

    assert_still_serving(server)
    output = server.output_since(log_start)
    assert "Traceback" not in output
    assert "ERROR" not in output


# -- body size limit ----------------------------------------------------------------------------


def test_body_under_the_limit(client: httpx.Client) -> None:
    response = client.post("/small", content=b"x" * 1024)
    assert response.status_code == 200
    assert response.json() == {"size": 1024}


def test_declared_content_length_over_the_limit_is_413(
    server: ServerProcess, client: httpx.Client
) -> None:
    response = client.post("/small", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert_still_serving(server)


def test_chunked_body_growing_past_the_limit_is_413(
    server: ServerProcess, client: httpx.Client
) -> None:
    # 2,500 bytes in 500-byte chunks: the app answers 413 after the third. Few chunks are left
    # unread on purpose: hypercorn 0.18 blocks a connection for good once more than its app queue
    # size (10) of body messages wait for an app that has already answered.
    def body() -> Iterator[bytes]:
        for index in range(5):
            yield bytes([65 + index]) * 500

    response = client.post("/small", content=body())
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert_still_serving(server)


def test_chunked_body_under_the_limit(client: httpx.Client) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(10):
            yield b"z" * 100

    response = client.post("/small", content=body())
    assert response.status_code == 200
    assert response.json() == {"size": 1000}
