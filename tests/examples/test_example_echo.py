"""examples/echo.py: POST /echo streams the request body back as it arrives."""

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from example_server import UvicornServer

from examples.echo import app
from framework.http import responses
from framework.testclient import TestClient
from framework.types import Message


def numbered_chunks(count: int, size: int) -> list[bytes]:
    """``count`` chunks of ``size`` bytes, each different, so order and loss both show."""
    return [(f"{index:08d}".encode() * size)[:size] for index in range(count)]


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


def test_usage_page(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "POST a body to /echo" in response.text


def test_multi_chunk_body_comes_back_exactly(client: TestClient) -> None:
    chunks = numbered_chunks(16, 1000)
    response = client.post(
        "/echo", content=iter(chunks), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200
    assert response.content == b"".join(chunks)
    assert response.headers["content-type"] == "application/x-ndjson"
    assert "content-length" not in response.headers  # streamed, not buffered


@pytest.mark.parametrize("headers", [{}, {"content-type": ""}], ids=["missing", "empty"])
def test_binary_body_without_content_type(client: TestClient, headers: dict[str, str]) -> None:
    body = bytes(range(256)) * 4
    response = client.post("/echo", content=body, headers=headers)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "application/octet-stream"


def test_empty_body(client: TestClient) -> None:
    response = client.post("/echo")
    assert response.status_code == 200
    assert response.content == b""


def test_body_larger_than_the_default_limit_passes_through(client: TestClient) -> None:
    # The app limits bodies to 16 MiB; the echo route lifts that, since it never holds the body.
    chunks = numbered_chunks(17, 1024 * 1024)
    response = client.post("/echo", content=iter(chunks))
    assert response.status_code == 200
    assert len(response.content) == 17 * 1024 * 1024
    assert response.content == b"".join(chunks)


def test_many_client_content_types_do_not_grow_the_header_cache() -> None:
    # The echo hands the client's Content-Type to the response; the framework caches rendered
    # content types, and that cache must stay bounded whatever clients send.
    with TestClient(app) as client:
        for number in range(300):
            media_type = f"application/x-test-{number}"
            response = client.post("/echo", content=b"x", headers={"content-type": media_type})
            assert response.headers["content-type"] == media_type
    assert responses._content_type.cache_info().currsize <= 256


def test_wrong_method(client: TestClient) -> None:
    response = client.get("/echo")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_first_chunk_is_echoed_before_the_second_arrives() -> None:
    """The echo does not wait for the whole body: the client sends its second chunk only after
    the first came back. An app that buffered the body would never answer (the guard fails)."""
    sent: list[Message] = []

    async def exchange() -> None:
        first_echoed = anyio.Event()
        response_done = anyio.Event()
        incoming = [
            {"type": "http.request", "body": b"first,", "more_body": True},
            {"type": "http.request", "body": b"second", "more_body": False},
        ]

        async def receive() -> Message:
            if len(incoming) == 1:
                await first_echoed.wait()
            if incoming:
                return incoming.pop(0)
            await response_done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if message.get("body") == b"first,":
                first_echoed.set()
            if message["type"] == "http.response.body" and not message.get("more_body"):
                response_done.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/echo",
            "raw_path": b"/echo",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"test"), (b"content-type", b"text/csv")],
        }
        with anyio.fail_after(10):
            await app(scope, receive, send)

    anyio.run(exchange)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/csv; charset=utf-8") in sent[0]["headers"]
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"first,second"
    assert sent[-1]["more_body"] is False


def test_under_uvicorn_a_64_chunk_upload_comes_back_intact(tmp_path: Path) -> None:
    # httpx reads the answer only after sending the whole body, so the echo waits in socket
    # buffers meanwhile: 64 KiB fits them comfortably.
    chunks = numbered_chunks(64, 1024)

    def upload() -> Iterator[bytes]:
        yield from chunks  # a generator: httpx sends it with chunked transfer encoding

    with UvicornServer.run("examples.echo:app", tmp_path / "uvicorn.log") as server:
        with httpx.Client(base_url=server.url, timeout=10.0) as http:
            assert "POST a body to /echo" in http.get("/").text
            headers = {"content-type": "application/x-chunks"}
            with http.stream("POST", "/echo", content=upload(), headers=headers) as response:
                assert response.status_code == 200
                assert response.headers["content-type"] == "application/x-chunks"
                assert response.headers["transfer-encoding"] == "chunked"
                received = b"".join(response.iter_bytes())
        assert received == b"".join(chunks), server.output()
    assert server.stopped_gracefully(), server.output()
