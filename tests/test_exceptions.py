"""HTTPException, exception handlers and the 500 error boundary (framework/exceptions.py,
framework/exception_handlers.py, framework/middleware/errors.py)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import pytest

from framework import (
    App,
    HTMLResponse,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    WebSocket,
    WebSocketException,
)
from framework.exception_handlers import http_exception_handler, lookup_handler
from framework.testclient import TestClient

Message = dict[str, Any]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def call_http(
    app: Any, path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[list[Message], BaseException | None]:
    """Drive ``app`` with one raw HTTP request; the messages it sent and what it raised."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org"), *(headers or [])],
        "client": ("127.0.0.1", 1234),
        "server": ("example.org", 80),
        "state": {},
    }
    sent: list[Message] = []
    request_read = False

    async def receive() -> Message:
        nonlocal request_read
        if not request_read:
            request_read = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


async def call_websocket(
    app: Any,
    path: str,
    extensions: dict[str, Any] | None = None,
    incoming: list[Message] | None = None,
) -> tuple[list[Message], BaseException | None]:
    """Drive ``app`` with one raw WebSocket connection."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.org")],
        "subprotocols": [],
        "extensions": extensions or {},
        "state": {},
    }
    queue = [{"type": "websocket.connect"}, *(incoming or [])]
    sent: list[Message] = []

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


def header_names(messages: list[Message]) -> list[bytes]:
    return [
        name for m in messages if m["type"] == "http.response.start" for name, _ in m["headers"]
    ]


def all_header_bytes(messages: list[Message]) -> bytes:
    return b"\n".join(
        name + b": " + value
        for m in messages
        if m["type"] == "http.response.start"
        for name, value in m["headers"]
    )


# -- HTTPException ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "detail",
    ["Item not found", {"code": "E42", "fields": ["a", "b"]}, ["first", {"second": 2}], 0, ""],
)
def test_http_exception_detail_shapes(detail: Any) -> None:
    app = App()

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(404, detail=detail)

    response = TestClient(app).get("/fail")
    assert response.status_code == 404
    assert response.json() == {"detail": detail}
    assert response.headers["content-type"] == "application/json"


def test_http_exception_headers_are_sent() -> None:
    app = App()

    @app.get("/auth")
    def auth() -> None:
        raise HTTPException(
            401, detail="Log in", headers={"WWW-Authenticate": "Bearer", "X-A": "b"}
        )

    response = TestClient(app).get("/auth")
    assert response.status_code == 401
    assert response.json() == {"detail": "Log in"}
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["x-a"] == "b"


@pytest.mark.parametrize(
    ("status_code", "phrase"),
    [
        (400, "Bad Request"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (409, "Conflict"),
        (503, "Service Unavailable"),
        # Phrases that differ between Python versions: whatever http.HTTPStatus says.
        (418, HTTPStatus(418).phrase),
        (422, HTTPStatus(422).phrase),
    ],
)
def test_http_exception_default_detail_is_the_reason_phrase(status_code: int, phrase: str) -> None:
    app = App()

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(status_code)

    response = TestClient(app).get("/fail")
    assert response.status_code == status_code
    assert response.json() == {"detail": phrase}
    assert HTTPException(status_code).detail == phrase


def test_http_exception_unknown_status_has_empty_default_detail() -> None:
    exc = HTTPException(599)
    assert exc.detail == ""
    assert str(exc) == "599: "
    assert repr(HTTPException(404, "gone")) == "HTTPException(status_code=404, detail='gone')"
    assert str(HTTPException(400)) == "400: Bad Request"
    assert exc.headers is None


@pytest.mark.parametrize("status_code", [204, 304])
def test_http_exception_without_body_statuses(status_code: int) -> None:
    app = App()

    @app.get("/empty")
    async def empty() -> None:
        raise HTTPException(status_code, headers={"etag": '"abc"'})

    response = TestClient(app).get("/empty")
    assert response.status_code == status_code
    assert response.content == b""
    assert "content-length" not in response.headers
    assert "content-type" not in response.headers
    assert response.headers["etag"] == '"abc"'


def test_http_exception_on_head_request_has_no_body() -> None:
    app = App()

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    response = TestClient(app).head("/teapot")
    assert response.status_code == 418
    assert response.content == b""


# -- registered handlers ----------------------------------------------------------------------


class AppError(Exception):
    pass


class PaymentError(AppError):
    pass


class CardDeclined(PaymentError):
    pass


def test_handler_by_exception_class_async_and_sync() -> None:
    app = App()

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        return JSONResponse({"error": str(exc), "path": request.url.path}, status_code=409)

    @app.exception_handler(KeyError)
    def key_error(request: Request, exc: KeyError) -> Response:
        return PlainTextResponse(f"missing {exc.args[0]}", status_code=400)

    @app.get("/app")
    async def raise_app() -> None:
        raise AppError("boom")

    @app.get("/key")
    def raise_key() -> None:
        raise KeyError("name")

    client = TestClient(app)
    response = client.get("/app")
    assert response.status_code == 409
    assert response.json() == {"error": "boom", "path": "/app"}
    response = client.get("/key")
    assert response.status_code == 400
    assert response.text == "missing name"


def test_handler_lookup_follows_the_mro() -> None:
    app = App()
    calls: list[str] = []

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: Exception) -> Response:
        calls.append("app")
        return PlainTextResponse(f"app:{type(exc).__name__}", status_code=400)

    @app.exception_handler(PaymentError)
    async def payment_error(request: Request, exc: Exception) -> Response:
        calls.append("payment")
        return PlainTextResponse(f"payment:{type(exc).__name__}", status_code=402)

    @app.get("/{kind}")
    async def fail(kind: str) -> None:
        raise {"app": AppError, "payment": PaymentError, "card": CardDeclined}[kind]()

    client = TestClient(app)
    assert client.get("/app").text == "app:AppError"
    assert client.get("/payment").text == "payment:PaymentError"
    response = client.get("/card")  # CardDeclined -> nearest registered base, PaymentError
    assert (response.status_code, response.text) == (402, "payment:CardDeclined")
    assert calls == ["app", "payment", "payment"]


def test_lookup_handler_directly() -> None:
    def a(request: Any, exc: Any) -> None:
        return None

    def b(request: Any, exc: Any) -> None:
        return None

    handlers: dict[Any, Any] = {AppError: a, 404: b, Exception: b}
    assert lookup_handler(handlers, CardDeclined()) is a
    assert lookup_handler(handlers, HTTPException(404)) is b
    assert lookup_handler(handlers, HTTPException(400)) is None
    # Exception handlers belong to the error boundary, not to the lookup.
    assert lookup_handler(handlers, ValueError()) is None


def test_handler_by_status_code_custom_404_page() -> None:
    app = App()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> Response:
        return HTMLResponse(
            f"<h1>Nothing at {request.url.path}</h1><p>{exc.detail}</p>", status_code=404
        )

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id > 10:
            raise HTTPException(404, detail="No such item")
        return {"item_id": item_id}

    client = TestClient(app)
    # The router's own 404 ...
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Nothing at /nowhere</h1><p>Not Found</p>"
    # ... and one raised by a handler.
    response = client.get("/items/11")
    assert response.text == "<h1>Nothing at /items/11</h1><p>No such item</p>"
    # Other statuses keep the default handler.
    assert client.get("/items/3").json() == {"item_id": 3}
    assert client.post("/items/3").json() == {"detail": "Method Not Allowed"}


def test_custom_405_handler_sees_allow_header() -> None:
    app = App()

    @app.exception_handler(405)
    def not_allowed(request: Request, exc: HTTPException) -> Response:
        assert exc.headers is not None
        return PlainTextResponse(
            f"use {exc.headers['Allow']}", status_code=405, headers=exc.headers
        )

    @app.post("/form")
    async def form() -> None:
        return None

    response = TestClient(app).get("/form")
    assert response.status_code == 405
    assert response.text == "use POST"
    assert response.headers["allow"] == "POST"


def test_status_code_handler_beats_class_handler() -> None:
    app = App()

    @app.exception_handler(HTTPException)
    async def any_http(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse(f"class {exc.status_code}", status_code=exc.status_code)

    @app.exception_handler(403)
    async def forbidden(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("status 403", status_code=403)

    @app.get("/{code:int}")
    async def fail(code: int) -> None:
        raise HTTPException(code)

    client = TestClient(app)
    assert client.get("/403").text == "status 403"
    assert client.get("/400").text == "class 400"
    assert client.get("/x").text == "class 404"  # the router's 404 too


def test_exception_handlers_argument_of_app() -> None:
    async def value_error(request: Request, exc: ValueError) -> Response:
        return JSONResponse({"invalid": str(exc)}, status_code=422)

    def gone(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("gone", status_code=410)

    app = App(exception_handlers={ValueError: value_error, 404: gone})

    @app.get("/v")
    async def v() -> None:
        raise ValueError("bad value")

    client = TestClient(app)
    response = client.get("/v")
    assert (response.status_code, response.json()) == (422, {"invalid": "bad value"})
    response = client.get("/missing")
    assert (response.status_code, response.text) == (410, "gone")


def test_http_exception_handler_callable_from_custom_handler() -> None:
    app = App()
    seen: list[tuple[int, str]] = []

    @app.exception_handler(HTTPException)
    async def logged(request: Request, exc: HTTPException) -> Response:
        seen.append((exc.status_code, request.url.path))
        response = await http_exception_handler(request, exc)
        response.headers["x-logged"] = "1"
        return response

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, detail="short and stout", headers={"x-pot": "1"})

    client = TestClient(app)
    response = client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"detail": "short and stout"}
    assert response.headers["x-logged"] == "1"
    assert response.headers["x-pot"] == "1"
    response = client.get("/none")
    assert response.json() == {"detail": "Not Found"}
    assert response.headers["x-logged"] == "1"
    assert seen == [(418, "/teapot"), (404, "/none")]


def test_handler_receives_request_with_body_already_read() -> None:
    app = App()

    @app.exception_handler(AppError)
    async def echo_body(request: Request, exc: AppError) -> Response:
        return PlainTextResponse(b"handler saw " + await request.body(), status_code=400)

    @app.post("/read")
    async def read(request: Request) -> None:
        await request.body()
        raise AppError

    response = TestClient(app).post("/read", content=b"payload")
    assert response.status_code == 400
    assert response.text == "handler saw payload"


def test_handler_that_raises_gives_a_500() -> None:
    app = App()

    @app.exception_handler(AppError)
    async def broken(request: Request, exc: AppError) -> Response:
        raise RuntimeError("handler broke")

    @app.get("/x")
    async def x() -> None:
        raise AppError

    with pytest.raises(RuntimeError, match="handler broke"):
        TestClient(app).get("/x")
    response = TestClient(app, raise_server_exceptions=False).get("/x")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


# -- the 500 boundary -------------------------------------------------------------------------


def make_crashing_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret <internal> detail")

    @app.get("/crash-sync")
    def crash_sync() -> None:
        raise ZeroDivisionError("sync secret")

    return app


@pytest.mark.parametrize("path", ["/crash", "/crash-sync"])
def test_unhandled_exception_gives_plain_500(path: str, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(make_crashing_app(), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = client.get(path, headers={"accept": "text/html"})
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    records = [r for r in caplog.records if r.name == "framework.error"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].exc_info is not None
    assert "secret" in str(records[0].exc_info[1])
    assert path in records[0].getMessage()


def test_unhandled_exception_is_reraised_by_default() -> None:
    client = TestClient(make_crashing_app())
    with pytest.raises(RuntimeError, match="secret <internal> detail"):
        client.get("/crash")
    with pytest.raises(ZeroDivisionError):
        client.get("/crash-sync")


@pytest.mark.anyio
async def test_unhandled_exception_raw_asgi_sends_500_then_reraises() -> None:
    sent, raised = await call_http(make_crashing_app(), "/crash")
    assert isinstance(raised, RuntimeError)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


def test_debug_traceback_html_for_browsers() -> None:
    client = TestClient(make_crashing_app(debug=True), raise_server_exceptions=False)
    response = client.get("/crash", headers={"accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Traceback" in response.text
    # The message is escaped, never injected as markup.
    assert "RuntimeError: secret &lt;internal&gt; detail" in response.text
    assert "<internal>" not in response.text
    assert "test_exceptions.py" in response.text


def test_debug_traceback_plain_otherwise() -> None:
    client = TestClient(make_crashing_app(debug=True), raise_server_exceptions=False)
    response = client.get("/crash-sync", headers={"accept": "application/json"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("Traceback (most recent call last):")
    assert response.text.rstrip().endswith("ZeroDivisionError: sync secret")


@pytest.mark.parametrize("key", [500, Exception])
@pytest.mark.parametrize("sync", [False, True])
def test_500_handler_builds_the_response(
    key: Any, sync: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_crashing_app()
    seen: list[str] = []

    def build(request: Request, exc: Exception) -> Response:
        seen.append(f"{type(exc).__name__} {request.url.path}")
        return JSONResponse({"error": "sorry"}, status_code=500, headers={"x-custom": "1"})

    if sync:
        app.add_exception_handler(key, build)
    else:

        async def async_build(request: Request, exc: Exception) -> Response:
            return build(request, exc)

        app.add_exception_handler(key, async_build)

    with caplog.at_level(logging.ERROR, logger="framework.error"):
        response = TestClient(app, raise_server_exceptions=False).get("/crash")
    assert response.status_code == 500
    assert response.json() == {"error": "sorry"}
    assert response.headers["x-custom"] == "1"
    assert seen == ["RuntimeError /crash"]
    assert any(r.name == "framework.error" for r in caplog.records)
    # Still raised to the server (and so to a default TestClient).
    with pytest.raises(RuntimeError):
        TestClient(app).get("/crash")


def test_exception_handler_does_not_catch_http_exceptions() -> None:
    app = App()

    @app.exception_handler(Exception)
    async def everything(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("caught", status_code=500)

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise HTTPException(403)

    client = TestClient(app)
    assert client.get("/forbidden").json() == {"detail": "Forbidden"}
    assert client.get("/missing").json() == {"detail": "Not Found"}


def test_exception_after_response_started_is_not_answered_twice() -> None:
    from framework import StreamingResponse

    app = App()

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> Any:
            yield b"first"
            raise RuntimeError("mid-stream")

        return StreamingResponse(chunks())

    with pytest.raises(RuntimeError, match="mid-stream"):
        TestClient(app).get("/stream")
    response = TestClient(app, raise_server_exceptions=False).get("/stream")
    assert response.status_code == 200
    assert response.content == b"first"


# -- response splitting -----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "how",
    ["constructor", "assignment", "append", "http_exception", "cookie", "header_name", "nul"],
)
async def test_header_with_cr_lf_gives_500_and_is_never_sent(how: str) -> None:
    app = App()
    evil = "ok\r\nSet-Cookie: evil=1"

    @app.get("/split")
    async def split() -> Response:
        if how == "constructor":
            return PlainTextResponse("x", headers={"x-bad": evil})
        if how == "http_exception":
            raise HTTPException(400, headers={"x-bad": evil})
        response = PlainTextResponse("x")
        if how == "assignment":
            response.headers["x-bad"] = evil
        elif how == "append":
            response.headers.append("x-bad", "ok\nInjected: 1")
        elif how == "cookie":
            response.set_cookie("session", "v", path="/\r\nInjected: 1")
        elif how == "header_name":
            response.headers["x-bad\r\nInjected"] = "1"
        elif how == "nul":
            response.headers["x-bad"] = "a\x00b"
        return response

    sent, raised = await call_http(app, "/split")
    assert isinstance(raised, ValueError)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1
    assert starts[0]["status"] == 500
    raw = all_header_bytes(sent)
    assert b"evil" not in raw
    assert b"injected" not in raw.lower()
    assert b"x-bad" not in raw
    for name, value in (h for m in starts for h in m["headers"]):
        assert b"\r" not in name + value and b"\n" not in name + value

    response = TestClient(app, raise_server_exceptions=False).get("/split")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "x-bad" not in response.headers
    assert "set-cookie" not in response.headers


# -- WebSocket errors ---------------------------------------------------------------------------


def make_websocket_app() -> App:
    app = App()

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket) -> None:
        raise WebSocketException(4001, "go away")

    @app.websocket("/crash-before-accept")
    async def crash_before(websocket: WebSocket) -> None:
        raise RuntimeError("before accept")

    @app.websocket("/crash-after-accept")
    async def crash_after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("after accept")

    @app.websocket("/handled")
    async def handled(websocket: WebSocket) -> None:
        raise AppError("denied")

    @app.exception_handler(AppError)
    async def app_error(connection: Any, exc: AppError) -> Response:
        return PlainTextResponse("denied by handler", status_code=403)

    return app


@pytest.mark.anyio
async def test_websocket_exception_closes_with_code_and_reason() -> None:
    sent, raised = await call_websocket(make_websocket_app(), "/refuse")
    assert raised is None
    assert sent == [{"type": "websocket.close", "code": 4001, "reason": "go away"}]


@pytest.mark.anyio
async def test_websocket_unhandled_error_before_accept(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="framework.error"):
        sent, raised = await call_websocket(make_websocket_app(), "/crash-before-accept")
    assert raised is None
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == 1011
    assert any("before accept" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


@pytest.mark.anyio
async def test_websocket_unhandled_error_before_accept_with_denial_extension() -> None:
    sent, raised = await call_websocket(
        make_websocket_app(), "/crash-before-accept", extensions={"websocket.http.response": {}}
    )
    assert raised is None
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 500
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert body == b"Internal Server Error"


@pytest.mark.anyio
async def test_websocket_unhandled_error_after_accept_closes_1011() -> None:
    sent, raised = await call_websocket(make_websocket_app(), "/crash-after-accept")
    assert raised is None
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.close"]
    assert sent[1]["code"] == 1011


@pytest.mark.anyio
async def test_websocket_error_with_registered_handler() -> None:
    app = make_websocket_app()
    sent, _ = await call_websocket(app, "/handled")
    assert [m["type"] for m in sent] == ["websocket.close"]
    assert sent[0]["code"] == 1008
    sent, _ = await call_websocket(app, "/handled", extensions={"websocket.http.response": {}})
    assert sent[0]["type"] == "websocket.http.response.start"
    assert sent[0]["status"] == 403
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"denied by handler"
