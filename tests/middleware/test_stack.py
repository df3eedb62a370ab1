"""Middleware: plain ASGI classes, ordering, dispatch style, BaseHTTPMiddleware
(framework/middleware/*.py and App.add_middleware)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from framework import (
    App,
    HTTPException,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
    WebSocket,
)
from framework.middleware import Middleware
from framework.middleware.base import BaseHTTPMiddleware, CallNext
from framework.testclient import TestClient

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def http_scope(path: str, method: str = "GET") -> dict[str, Any]:
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
        "headers": [(b"host", b"example.org")],
        "client": ("127.0.0.1", 1234),
        "server": ("example.org", 80),
        "state": {},
    }


class SendRecorder:
    """A raw ASGI ``send`` that keeps every message, and a ``receive`` that gives an empty body
    and then waits for the response to end before reporting a disconnect, as a server does."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.done = anyio.Event()
        self.first_chunk = anyio.Event()
        self._body_sent = False

    async def receive(self) -> Message:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body":
            if message.get("body"):
                self.first_chunk.set()
            if not message.get("more_body", False):
                self.done.set()

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]


# -- plain ASGI middleware ------------------------------------------------------------------------


class HeaderMiddleware:
    """The seed article's shape: ``cls(app, **options)``, an async ``__call__``."""

    def __init__(self, app: Any, header: str = "x-header", value: str = "1") -> None:
        self.app = app
        self.header = header.encode()
        self.value = value.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (self.header, self.value)]
            await send(message)

        await self.app(scope, receive, send_with_header)


class Recorder:
    """Appends ``"<name> in"``/``"<name> out"`` to a shared log around the inner app."""

    def __init__(self, app: Any, name: str, log: list[str]) -> None:
        self.app = app
        self.name = name
        self.log = log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.log.append(f"{self.name} in {scope['type']}")
        await self.app(scope, receive, send)
        self.log.append(f"{self.name} out {scope['type']}")


def ordered_app(log: list[str]) -> App:
    app = App()

    @app.get("/")
    async def index() -> str:
        log.append("handler")
        return "ok"

    return app


def test_add_middleware_with_options() -> None:
    app = App()

    @app.get("/")
    async def index() -> str:
        return "ok"

    app.add_middleware(HeaderMiddleware, header="x-time", value="0.5")
    response = TestClient(app).get("/")
    assert response.json() == "ok"
    assert response.headers["x-time"] == "0.5"


def test_add_middleware_with_positional_arguments() -> None:
    log: list[str] = []
    app = ordered_app(log)
    app.add_middleware(Recorder, "positional", log)
    TestClient(app).get("/")
    assert log == ["positional in http", "handler", "positional out http"]


def test_last_added_middleware_is_outermost() -> None:
    log: list[str] = []
    app = ordered_app(log)
    app.add_middleware(Recorder, name="first", log=log)
    app.add_middleware(Recorder, name="second", log=log)
    app.add_middleware(Recorder, name="third", log=log)
    assert TestClient(app).get("/").json() == "ok"
    assert log == [
        "third in http",
        "second in http",
        "first in http",
        "handler",
        "first out http",
        "second out http",
        "third out http",
    ]


def test_middleware_argument_first_in_list_is_outermost() -> None:
    log: list[str] = []
    app = App(
        middleware=[
            Middleware(Recorder, name="outer", log=log),
            Middleware(Recorder, name="inner", log=log),
            Middleware(HeaderMiddleware, header="x-opt", value="1"),
        ]
    )

    @app.get("/")
    async def index() -> str:
        log.append("handler")
        return "ok"

    app.add_middleware(Recorder, name="added", log=log)  # outside the constructor's list
    response = TestClient(app).get("/")
    assert response.headers["x-opt"] == "1"
    assert log == [
        "added in http",
        "outer in http",
        "inner in http",
        "handler",
        "inner out http",
        "outer out http",
        "added out http",
    ]


def test_middleware_object() -> None:
    middleware = Middleware(HeaderMiddleware, "pos", value="2")
    cls, args, kwargs = middleware
    assert cls is HeaderMiddleware
    assert args == ("pos",)
    assert kwargs == {"value": "2"}
    assert repr(middleware) == "Middleware(HeaderMiddleware, 'pos', value='2')"

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    built = middleware.build(inner)
    assert isinstance(built, HeaderMiddleware)
    assert built.app is inner
    assert built.header == b"pos"


def test_adding_middleware_after_start_raises() -> None:
    log: list[str] = []
    app = ordered_app(log)
    client = TestClient(app)
    assert client.get("/").status_code == 200
    with pytest.raises(RuntimeError, match="after the application has started"):
        app.add_middleware(HeaderMiddleware)
    with pytest.raises(RuntimeError, match="after the application has started"):

        @app.middleware("http")
        async def late(request: Request, call_next: CallNext) -> Response:
            return await call_next(request)

    assert "x-header" not in client.get("/").headers


def test_lifespan_starts_the_app_so_middleware_cannot_be_added_later() -> None:
    app = App()
    with TestClient(app), pytest.raises(RuntimeError):
        app.add_middleware(HeaderMiddleware)


def test_middleware_decorator_only_takes_http() -> None:
    app = App()
    with pytest.raises(ValueError, match="http"):
        app.middleware("websocket")


def test_middleware_sees_404_and_http_exception_answers() -> None:
    app = App()

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.exception_handler(404)
    async def custom_404(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("custom missing", status_code=404)

    app.add_middleware(HeaderMiddleware, header="x-through", value="yes")
    client = TestClient(app)
    for path, status in [("/teapot", 418), ("/missing", 404)]:
        response = client.get(path)
        assert response.status_code == status
        assert response.headers["x-through"] == "yes"
    assert client.get("/missing").text == "custom missing"
    response = client.post("/teapot")
    assert response.status_code == 405
    assert response.headers["x-through"] == "yes"


def test_exception_in_middleware_becomes_500(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            raise RuntimeError("middleware broke")

    app = App()
    app.add_middleware(Broken)
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert any("middleware broke" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    with pytest.raises(RuntimeError, match="middleware broke"):
        TestClient(app).get("/")


@pytest.mark.anyio
async def test_plain_middleware_sees_websocket_scopes() -> None:
    log: list[str] = []
    app = App()
    app.add_middleware(Recorder, name="mw", log=log)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/no-such-socket",
        "raw_path": b"/no-such-socket",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org")],
        "subprotocols": [],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert log == ["mw in websocket", "mw out websocket"]
    # No WebSocket route for the path: the router refuses the handshake.
    assert sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]


@pytest.mark.anyio
async def test_dispatch_middleware_passes_websockets_through() -> None:
    app = App()
    dispatched: list[str] = []

    @app.middleware("http")
    async def only_http(request: Request, call_next: CallNext) -> Response:
        dispatched.append(request.url.path)
        return await call_next(request)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    incoming = [{"type": "websocket.connect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "subprotocols": [],
    }
    await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == "hello"
    assert dispatched == []


def test_middleware_does_not_see_lifespan() -> None:
    log: list[str] = []
    app = ordered_app(log)
    app.add_middleware(Recorder, name="mw", log=log)
    with TestClient(app) as client:
        client.get("/")
    assert log == ["mw in http", "handler", "mw out http"]


# -- dispatch style -------------------------------------------------------------------------------


def test_dispatch_reads_and_modifies_request_and_response_headers() -> None:
    app = App()

    @app.middleware("http")
    async def headers(request: Request, call_next: CallNext) -> Response:
        incoming = request.headers.get("x-in", "none")
        request.scope["headers"].append((b"x-added", b"by-middleware"))
        response = await call_next(request)
        response.headers["x-seen-in"] = incoming
        response.headers["x-handler"] = "replaced"
        del response.headers["x-remove"]
        return response

    @app.get("/")
    async def index(request: Request) -> Response:
        return PlainTextResponse(
            request.headers.get("x-added", "missing"),
            headers={"x-handler": "original", "x-remove": "1"},
        )

    response = TestClient(app).get("/", headers={"x-in": "hello"})
    assert response.text == "by-middleware"
    assert response.headers["x-seen-in"] == "hello"
    assert response.headers["x-handler"] == "replaced"
    assert "x-remove" not in response.headers
    assert response.headers["content-length"] == str(len("by-middleware"))


def test_dispatch_can_change_status_code() -> None:
    app = App()

    @app.middleware("http")
    async def accepted(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.status_code = 202
        return response

    @app.get("/")
    async def index() -> dict[str, bool]:
        return {"ok": True}

    response = TestClient(app).get("/")
    assert response.status_code == 202
    assert response.json() == {"ok": True}


def test_dispatch_short_circuits() -> None:
    app = App()
    handler_calls: list[str] = []

    @app.middleware("http")
    async def guard(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("authorization") != "secret":
            return PlainTextResponse("no entry", status_code=401)
        return await call_next(request)

    @app.get("/private")
    async def private() -> str:
        handler_calls.append("private")
        return "inside"

    client = TestClient(app)
    response = client.get("/private")
    assert (response.status_code, response.text) == (401, "no entry")
    assert handler_calls == []
    assert client.get("/private", headers={"authorization": "secret"}).json() == "inside"
    assert handler_calls == ["private"]


def test_dispatch_sees_404_and_http_exceptions() -> None:
    app = App()
    seen: list[tuple[str, int]] = []

    @app.middleware("http")
    async def observe(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        seen.append((request.url.path, response.status_code))
        response.headers["x-observed"] = "1"
        return response

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise HTTPException(403, detail="nope", headers={"x-reason": "policy"})

    client = TestClient(app)
    response = client.get("/missing")
    assert response.json() == {"detail": "Not Found"}
    assert response.headers["x-observed"] == "1"
    response = client.get("/forbidden")
    assert response.json() == {"detail": "nope"}
    assert response.headers["x-reason"] == "policy"
    assert response.headers["x-observed"] == "1"
    assert seen == [("/missing", 404), ("/forbidden", 403)]


def test_dispatch_sees_handler_exceptions_from_call_next() -> None:
    app = App()
    caught: list[str] = []

    @app.middleware("http")
    async def rescue(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except LookupError as exc:
            caught.append(repr(exc))
            return PlainTextResponse("rescued", status_code=503)

    @app.get("/lookup")
    async def lookup() -> None:
        raise KeyError("k")

    @app.get("/sync-lookup")
    def sync_lookup() -> None:
        raise IndexError("i")

    @app.get("/other")
    async def other() -> None:
        raise RuntimeError("not rescued")

    client = TestClient(app)
    response = client.get("/lookup")
    assert (response.status_code, response.text) == (503, "rescued")
    response = client.get("/sync-lookup")
    assert (response.status_code, response.text) == (503, "rescued")
    assert caught == ["KeyError('k')", "IndexError('i')"]
    with pytest.raises(RuntimeError, match="not rescued"):
        client.get("/other")
    response = TestClient(app, raise_server_exceptions=False).get("/other")
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_dispatch_request_body_is_still_available_to_handler() -> None:
    app = App()
    seen: list[bytes] = []

    @app.middleware("http")
    async def read_body(request: Request, call_next: CallNext) -> Response:
        seen.append(await request.body())
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/octet-stream")

    @app.post("/json")
    async def echo_json(request: Request) -> Any:
        return await request.json()

    client = TestClient(app)
    payload = b"x" * 100_000
    assert client.post("/echo", content=payload).content == payload
    assert client.post("/json", json={"a": [1, 2]}).json() == {"a": [1, 2]}
    assert seen[0] == payload
    assert seen[1] == b'{"a":[1,2]}'


def test_dispatch_without_reading_body_passes_stream_through() -> None:
    app = App()

    @app.middleware("http")
    async def untouched(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        chunks = [chunk async for chunk in request.stream()]
        return Response(b"".join(chunks))

    def generate() -> Any:
        yield b"one-"
        yield b"two-"
        yield b"three"

    assert TestClient(app).post("/echo", content=generate()).content == b"one-two-three"


def test_dispatch_state_is_shared_with_handler() -> None:
    app = App()

    @app.middleware("http")
    async def set_user(request: Request, call_next: CallNext) -> Response:
        request.state.user = request.headers.get("x-user", "anonymous")
        return await call_next(request)

    @app.get("/me")
    async def me(request: Request) -> str:
        return str(request.state.user)

    client = TestClient(app)
    assert client.get("/me", headers={"x-user": "ada"}).json() == "ada"
    assert client.get("/me").json() == "anonymous"


@pytest.mark.anyio
async def test_streaming_response_stays_streaming_through_dispatch() -> None:
    app = App()
    recorder = SendRecorder()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        response.headers["x-dispatched"] = "1"
        return response

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            # Only continues once the client has the first chunk: a middleware that buffered the
            # whole body would never deliver it, and the test would time out below.
            await recorder.first_chunk.wait()
            yield b"second"
            yield b"third"

        return StreamingResponse(chunks(), media_type="text/plain")

    with anyio.fail_after(5):
        await app(http_scope("/stream"), recorder.receive, recorder.send)
    start = recorder.messages[0]
    assert start["type"] == "http.response.start"
    assert (b"x-dispatched", b"1") in start["headers"]
    bodies = [m.get("body", b"") for m in recorder.body_messages]
    assert bodies[:3] == [b"first", b"second", b"third"]
    assert b"".join(bodies) == b"firstsecondthird"
    assert all(m.get("more_body") for m in recorder.body_messages[:3])
    assert not recorder.body_messages[-1].get("more_body", False)


@pytest.mark.anyio
async def test_plain_middleware_streaming_also_stays_streaming() -> None:
    app = App()
    recorder = SendRecorder()
    app.add_middleware(HeaderMiddleware)

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[str]:
            yield "a"
            await recorder.first_chunk.wait()
            yield "b"

        return StreamingResponse(chunks())

    with anyio.fail_after(5):
        await app(http_scope("/stream"), recorder.receive, recorder.send)
    assert [m.get("body", b"") for m in recorder.body_messages] == [b"a", b"b", b""]


@pytest.mark.anyio
async def test_dispatch_middleware_raw_messages_for_plain_response() -> None:
    app = App()
    recorder = SendRecorder()

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    @app.get("/")
    async def index() -> dict[str, int]:
        return {"n": 1}

    await app(http_scope("/"), recorder.receive, recorder.send)
    assert [m["type"] for m in recorder.messages] == ["http.response.start", "http.response.body"]
    assert recorder.messages[0]["status"] == 200
    assert recorder.messages[1]["body"] == b'{"n":1}'


def test_base_http_middleware_subclass() -> None:
    class Stamp(BaseHTTPMiddleware):
        def __init__(self, app: Any, stamp: str) -> None:
            super().__init__(app)
            self.stamp = stamp

        async def dispatch(self, request: Request, call_next: CallNext) -> Response:
            if request.url.path == "/blocked":
                return PlainTextResponse("blocked by subclass", status_code=403)
            response = await call_next(request)
            response.headers["x-stamp"] = self.stamp
            return response

    app = App(middleware=[Middleware(Stamp, stamp="v1")])

    @app.get("/")
    async def index() -> str:
        return "ok"

    client = TestClient(app)
    response = client.get("/")
    assert response.json() == "ok"
    assert response.headers["x-stamp"] == "v1"
    response = client.get("/blocked")
    assert (response.status_code, response.text) == (403, "blocked by subclass")
    assert "x-stamp" not in response.headers


def test_base_http_middleware_without_dispatch_raises() -> None:
    app = App()
    app.add_middleware(BaseHTTPMiddleware)

    @app.get("/")
    async def index() -> str:
        return "ok"

    with pytest.raises(NotImplementedError):
        TestClient(app).get("/")


def test_dispatch_functions_order_with_plain_middleware() -> None:
    log: list[str] = []
    app = ordered_app(log)

    @app.middleware("http")
    async def first(request: Request, call_next: CallNext) -> Response:
        log.append("first in")
        response = await call_next(request)
        log.append("first out")
        return response

    app.add_middleware(Recorder, name="plain", log=log)

    @app.middleware("http")
    async def last(request: Request, call_next: CallNext) -> Response:
        log.append("last in")
        response = await call_next(request)
        log.append("last out")
        return response

    TestClient(app).get("/")
    assert log[:4] == ["last in", "plain in http", "first in", "handler"]
    # A dispatch function resumes when the response starts, a plain middleware when the inner app
    # returns: each resumes after those inside it.
    assert log.index("first out") < log.index("last out")
    assert log.index("first out") < log.index("plain out http")
    assert sorted(log[4:]) == ["first out", "last out", "plain out http"]


@pytest.mark.parametrize("where", ["dispatch", "handler"])
def test_errors_through_dispatch_are_not_wrapped(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[BaseException] = []

    def make_app() -> App:
        app = App()

        @app.middleware("http")
        async def faulty(request: Request, call_next: CallNext) -> Response:
            if where == "dispatch":
                raise LookupError("from dispatch")
            return await call_next(request)

        @app.get("/")
        async def index() -> None:
            raise LookupError("from handler")

        return app

    with pytest.raises(LookupError, match=f"from {where}"):
        TestClient(make_app()).get("/")

    app = make_app()

    @app.exception_handler(500)
    async def server_error(request: Request, exc: Exception) -> Response:
        handled.append(exc)
        return PlainTextResponse(f"{type(exc).__name__}: {exc}", status_code=500)

    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.text == f"LookupError: from {where}"
    assert [type(exc) for exc in handled] == [LookupError]
    assert [type(r.exc_info[1]) for r in caplog.records if r.exc_info] == [LookupError]


def test_dispatch_returning_without_response_from_app() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None  # an inner app that never answers

    class Wrap:
        def __init__(self, app: Any) -> None:
            self.app = silent

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    app = App()
    app.add_middleware(Wrap)

    @app.middleware("http")
    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(RuntimeError, match="without a response"):
        TestClient(app).get("/")
