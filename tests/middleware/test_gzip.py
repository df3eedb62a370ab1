"""GZipMiddleware (framework/middleware/gzip.py): what is compressed, the headers, streaming."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from integration.servers import ServerProcess

from framework import App, FileResponse, PlainTextResponse, Response, StreamingResponse
from framework.middleware.gzip import GZipMiddleware, accepts_gzip
from framework.testclient import TestClient

Message = dict[str, Any]
TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(100))
GZIP = {"accept-encoding": "gzip"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/text")
    async def text(size: int = len(TEXT)) -> Response:
        return PlainTextResponse(TEXT[:size])

    @app.get("/json")
    async def json_list() -> list[dict[str, int]]:
        return [{"number": i} for i in range(200)]

    @app.get("/encoded")
    async def encoded() -> Response:
        return Response(TEXT.encode(), headers={"content-encoding": "br"}, media_type="text/plain")

    @app.get("/png")
    async def png() -> Response:
        return Response(TEXT.encode(), media_type="image/png")

    @app.get("/events")
    async def events() -> Response:
        async def stream() -> AsyncIterator[str]:
            yield "data: one\n\n"
            yield "data: " + "x" * 1000 + "\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/varied")
    async def varied() -> Response:
        return PlainTextResponse(TEXT, headers={"vary": "Origin"})

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[str]:
            for start in range(0, len(TEXT), 1000):
                yield TEXT[start : start + 1000]

        return StreamingResponse(chunks(), media_type="text/plain", headers={"x-kind": "stream"})

    app.add_middleware(GZipMiddleware, **options)
    return app


def fetch(client: TestClient, path: str, headers: dict[str, str] | None = None) -> Any:
    """The response and its body exactly as sent (httpx would decompress ``.content``)."""
    with client.stream("GET", path, headers=headers) as response:
        raw = b"".join(response.iter_raw())
    return response, raw


def test_large_body_is_compressed_for_a_client_accepting_gzip() -> None:
    response, raw = fetch(TestClient(make_app()), "/text", GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == str(len(raw))
    assert len(raw) < len(TEXT) // 5
    assert raw[:2] == b"\x1f\x8b"  # a gzip member, not a bare zlib stream
    assert gzip.decompress(raw) == TEXT.encode()


def test_json_answers_are_compressed_and_httpx_reads_them() -> None:
    client = TestClient(make_app())
    response = client.get("/json", headers=GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == [{"number": i} for i in range(200)]


def test_minimum_size_is_the_smallest_compressed_body() -> None:
    client = TestClient(make_app(minimum_size=100))
    response, raw = fetch(client, "/text?size=99", GZIP)
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert response.headers["content-length"] == "99"
    assert raw == TEXT[:99].encode()
    response, raw = fetch(client, "/text?size=100", GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT[:100].encode()


def test_default_minimum_size_is_500() -> None:
    client = TestClient(make_app())
    assert "content-encoding" not in fetch(client, "/text?size=499", GZIP)[0].headers
    assert fetch(client, "/text?size=500", GZIP)[0].headers["content-encoding"] == "gzip"


def test_client_not_accepting_gzip_gets_identity_with_vary() -> None:
    client = TestClient(make_app())
    for headers in [{"accept-encoding": "identity"}, {"accept-encoding": "br, deflate"}]:
        response, raw = fetch(client, "/text", headers)
        assert raw == TEXT.encode()
        assert "content-encoding" not in response.headers
        assert response.headers["content-length"] == str(len(TEXT))
        # Caches must still know that another client could get a gzip answer.
        assert response.headers["vary"] == "Accept-Encoding"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (b"gzip", True),
        (b"GZIP", True),
        (b"gzip, deflate, br", True),
        (b"br;q=1.0, gzip;q=0.5", True),
        (b"x-gzip", True),
        (b"*", True),
        (b"br, *;q=0.1", True),
        (b"gzip;q=0", False),
        (b"gzip; q=0.000", False),
        (b"gzip;q=0, *", False),  # gzip named explicitly: its own weight counts
        (b"*;q=0", False),
        (b"identity", False),
        (b"br, deflate", False),
        (b"gzipped", False),
        (b"", False),
        (b"gzip;q=oops", True),  # an unreadable weight is ignored
    ],
)
def test_accept_encoding_parsing(accept: bytes, expected: bool) -> None:
    assert accepts_gzip(accept) is expected
    assert accepts_gzip(accept) is expected  # the cached answer too


def test_q_zero_refuses_gzip_through_the_app() -> None:
    client = TestClient(make_app())
    response, raw = fetch(client, "/text", {"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()
    response, raw = fetch(client, "/text", {"accept-encoding": "*"})
    assert gzip.decompress(raw) == TEXT.encode()


def test_already_encoded_and_excluded_types_are_left_alone() -> None:
    client = TestClient(make_app())
    response, raw = fetch(client, "/encoded", GZIP)
    assert response.headers["content-encoding"] == "br"
    assert "vary" not in response.headers
    assert raw == TEXT.encode()
    response, raw = fetch(client, "/png", GZIP)
    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()


def test_event_streams_are_never_compressed() -> None:
    response, raw = fetch(TestClient(make_app()), "/events", GZIP)
    assert "content-encoding" not in response.headers
    assert raw == b"data: one\n\ndata: " + b"x" * 1000 + b"\n\n"


def test_exclude_content_types_option() -> None:
    client = TestClient(make_app(exclude_content_types=["text/*"]))
    response, raw = fetch(client, "/text", GZIP)
    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()
    response, raw = fetch(client, "/png", GZIP)  # no longer excluded
    assert gzip.decompress(raw) == TEXT.encode()


def test_vary_is_appended_to_the_existing_one() -> None:
    response, raw = fetch(TestClient(make_app()), "/varied", GZIP)
    assert response.headers.get_list("vary") == ["Origin, Accept-Encoding"]
    assert gzip.decompress(raw) == TEXT.encode()


def test_head_keeps_the_uncompressed_headers() -> None:
    client = TestClient(make_app())
    response = client.head("/text", headers=GZIP)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(TEXT))
    assert response.content == b""


def test_streaming_response_is_compressed_chunk_by_chunk() -> None:
    response, raw = fetch(TestClient(make_app()), "/stream", GZIP)
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["x-kind"] == "stream"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw) == TEXT.encode()


def test_compression_level_and_worker_thread_give_the_same_text() -> None:
    compressed = []
    for options in [{"compresslevel": 1}, {"compresslevel": 9}, {"thread_minimum_size": 1}]:
        client = TestClient(make_app(**options))
        for path in ["/text", "/stream"]:
            _, raw = fetch(client, path, GZIP)
            assert gzip.decompress(raw) == TEXT.encode(), (options, path)
            if path == "/text":
                compressed.append(raw)
    # The gzip header's XFL byte names the level: 4 for the fastest, 2 for the best.
    assert [raw[8] for raw in compressed] == [4, 2, 2]
    assert compressed[1] == compressed[2]  # compressing in a worker thread changes nothing
    with pytest.raises(ValueError, match="compresslevel"):
        GZipMiddleware(make_app(), compresslevel=10)


class Recorder:
    """A server's side of one request: the sent messages, and an event per body chunk."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.chunk_arrived = anyio.Event()
        self.done = anyio.Event()

    async def receive(self) -> Message:
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body":
            if message.get("body"):
                self.chunk_arrived.set()
            if not message.get("more_body", False):
                self.done.set()


def scope_for(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 1234),
        "server": ("example.org", 80),
        "state": {},
        **extra,
    }


@pytest.mark.anyio
async def test_each_streamed_chunk_reaches_the_client_decompressible() -> None:
    recorder = Recorder()
    pieces = ["first piece " * 10, "second piece " * 10, "third"]

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"9999")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece.encode(), "more_body": True})
            # The next piece is only produced once the client has the previous one: a
            # middleware holding chunks back would stop the stream here (and time out).
            await recorder.chunk_arrived.wait()
            recorder.chunk_arrived = anyio.Event()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    with anyio.fail_after(5):
        await GZipMiddleware(inner)(scope_for("/"), recorder.receive, recorder.send)
    start, *bodies = recorder.messages
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert b"content-length" not in headers  # the length of the compressed stream is unknown
    assert [m.get("more_body", False) for m in bodies] == [True, True, True, False]
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for piece, message in zip(pieces, bodies, strict=False):
        # Every chunk decompresses on its own to exactly its piece: it was flushed.
        assert decompressor.decompress(message["body"]) == piece.encode()
    assert decompressor.decompress(bodies[-1]["body"]) == b""
    assert decompressor.eof


@pytest.mark.anyio
async def test_small_first_chunk_of_a_stream_is_still_compressed() -> None:
    recorder = Recorder()

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    await GZipMiddleware(inner)(scope_for("/"), recorder.receive, recorder.send)
    assert (b"content-encoding", b"gzip") in recorder.messages[0]["headers"]
    bodies = [m["body"] for m in recorder.messages[1:]]
    assert bodies[1] == b""  # an empty chunk is passed on, not flushed
    assert gzip.decompress(b"".join(bodies)) == b"ab"


@pytest.mark.anyio
async def test_partial_content_and_unknown_messages_pass_through() -> None:
    recorder = Recorder()
    start = {"type": "http.response.start", "status": 206, "headers": []}
    body = {"type": "http.response.body", "body": b"z" * 1000}

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send(start)
        await send(body)

    await GZipMiddleware(inner)(scope_for("/"), recorder.receive, recorder.send)
    assert recorder.messages == [start, body]


@pytest.mark.anyio
async def test_file_sent_by_the_server_is_not_compressed(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(TEXT)
    app = App()

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(path)

    app.add_middleware(GZipMiddleware)
    recorder = Recorder()
    scope = scope_for("/file", extensions={"http.response.pathsend": {}})
    await app(scope, recorder.receive, recorder.send)
    start, pathsend = recorder.messages
    assert start["type"] == "http.response.start"
    assert dict(start["headers"])[b"content-length"] == str(len(TEXT)).encode()
    assert b"content-encoding" not in dict(start["headers"])
    assert pathsend == {"type": "http.response.pathsend", "path": str(path)}
    # Without the extension the file is streamed and compressed.
    _, raw = fetch(TestClient(app), "/file", GZIP)
    assert gzip.decompress(raw) == TEXT.encode()


@pytest.mark.anyio
async def test_error_before_the_body_gives_a_plain_500() -> None:
    app = App()

    @app.get("/broken")
    async def broken() -> Response:
        async def chunks() -> AsyncIterator[str]:
            raise RuntimeError("generator broke")
            yield ""  # pragma: no cover

        return StreamingResponse(chunks())

    app.add_middleware(GZipMiddleware)
    response = TestClient(app, raise_server_exceptions=False).get("/broken", headers=GZIP)
    # The start message was held back: the error boundary could still answer.
    assert (response.status_code, response.text) == (500, "Internal Server Error")


# -- a real server ------------------------------------------------------------------------------


def _server_app() -> App:
    app = App()

    @app.get("/health")
    async def health() -> str:
        return "ok"

    @app.get("/ticks")
    async def ticks() -> Response:
        async def stream() -> AsyncIterator[str]:
            for i in range(3):
                yield f"tick {i} " * 20
                await anyio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/plain")

    app.add_middleware(GZipMiddleware)
    return app


server_app = _server_app()


@pytest.fixture(scope="module")
def uvicorn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log_path = tmp_path_factory.mktemp("gzip") / "server.log"
    app = "test_gzip:server_app"
    with ServerProcess.start(
        "uvicorn", app, log_path=log_path, app_dir=Path(__file__).parent, ready_path="/health"
    ) as server:
        yield server


def test_streamed_chunks_arrive_compressed_through_uvicorn(uvicorn_server: ServerProcess) -> None:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    texts = []
    with (
        httpx.Client(base_url=uvicorn_server.url, timeout=10) as client,
        client.stream("GET", "/ticks", headers=GZIP) as response,
    ):
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["transfer-encoding"] == "chunked"
        for chunk in response.iter_raw():
            texts.append(decompressor.decompress(chunk).decode())
    assert decompressor.eof
    ticks = [f"tick {i} " * 20 for i in range(3)]
    assert "".join(texts) == "".join(ticks)
    # Every chunk decompressed to whole ticks: each one was flushed as it was produced (a
    # network read may still bring two at once).
    pieces = [t for t in texts if t]
    assert len(pieces) > 1
    for piece in pieces:
        assert piece.replace(ticks[0], "").replace(ticks[1], "").replace(ticks[2], "") == ""
