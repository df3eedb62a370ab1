"""BaseHTTPMiddleware (framework/middleware/base.py): request bodies a dispatch function touched
without ``body()`` reach the handler without hanging. The general dispatch behaviour is in
tests/test_middleware.py."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from framework import App, Request
from framework.middleware.base import CallNext
from framework.responses import Response

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Server:
    """A server's side of one request: the body as the given messages, then (once the
    response is complete) a disconnect. A receive() after the body waits, as a server's does."""

    def __init__(self, *chunks: bytes) -> None:
        self.pending = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
        self.sent: list[Message] = []
        self.done = anyio.Event()

    async def receive(self) -> Message:
        if self.pending:
            return self.pending.pop(0)
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.done.set()

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def scope(path: str, content_type: bytes = b"application/octet-stream") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org"), (b"content-type", content_type)],
        "client": ("127.0.0.1", 1234),
        "server": ("example.org", 80),
        "state": {},
    }


def echo_app(seen: list[Any]) -> App:
    app = App()

    @app.middleware("http")
    async def inspect(request: Request, call_next: CallNext) -> Response:
        if request.url.path == "/form":
            form = await request.form()
            seen.append(dict(form))
        elif request.url.path == "/stream":
            seen.append([chunk async for chunk in request.stream()])
        elif request.url.path == "/peek":
            seen.append(await request.is_disconnected())
        return await call_next(request)

    @app.post("/{name}")
    async def echo(request: Request) -> Response:
        return Response(b"handler got: " + await request.body())

    return app


@pytest.mark.anyio
async def test_body_streamed_in_dispatch_leaves_the_handler_an_empty_body() -> None:
    seen: list[Any] = []
    server = Server(b"one-", b"two")
    with anyio.fail_after(5):  # the handler used to wait for body messages that never came
        await echo_app(seen)(scope("/stream"), server.receive, server.send)
    assert seen == [[b"one-", b"two"]]
    assert server.sent[0]["status"] == 200
    assert server.body == b"handler got: "


@pytest.mark.anyio
async def test_form_parsed_in_dispatch_does_not_hang_the_handler() -> None:
    seen: list[Any] = []
    server = Server(b"a=1&b=2")
    with anyio.fail_after(5):
        await echo_app(seen)(
            scope("/form", b"application/x-www-form-urlencoded"), server.receive, server.send
        )
    assert seen == [{"a": "1", "b": "2"}]
    assert server.body == b"handler got: "


@pytest.mark.anyio
async def test_message_read_ahead_by_is_disconnected_reaches_the_handler() -> None:
    seen: list[Any] = []
    server = Server(b"first", b"-second")
    with anyio.fail_after(5):
        await echo_app(seen)(scope("/peek"), server.receive, server.send)
    assert seen == [False]
    assert server.body == b"handler got: first-second"
