"""WebSockets (framework/http/websockets.py) through the TestClient, and a few raw ASGI calls."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest

from framework import (
    App,
    Cookie,
    Depends,
    Header,
    HTTPException,
    JSONResponse,
    Query,
    Request,
    Response,
    Router,
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketState,
)
from framework.testclient import TestClient, WebSocketDenialResponse
from framework.types import ASGIApp, Message, Receive, Scope, Send


async def call_raw(
    app: ASGIApp, path: str, incoming: list[Message], extensions: dict[str, Any] | None = None
) -> list[Message]:
    """Drive ``app`` with one raw WebSocket connection; what the app sent."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
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
    queue = [{"type": "websocket.connect"}, *incoming]
    sent: list[Message] = []

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- messages -----------------------------------------------------------------------------------


def make_echo_app() -> App:
    app = App()

    @app.websocket("/text")
    async def echo_text(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text.upper())

    @app.websocket("/bytes")
    async def echo_bytes(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_bytes():
            await websocket.send_bytes(data[::-1])

    @app.websocket("/json")
    async def echo_json(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_json():
            await websocket.send_json({"got": data})

    @app.websocket("/json-binary")
    async def echo_json_binary(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            data = await websocket.receive_json(mode="binary")
            await websocket.send_json({"got": data}, mode="binary")

    return app


def test_echo_text() -> None:
    client = TestClient(make_echo_app())
    with client.websocket_connect("/text") as ws:
        ws.send_text("hello")
        assert ws.receive_text() == "HELLO"
        ws.send_text("")
        assert ws.receive_text() == ""
        ws.send_text("naïve ☃")
        assert ws.receive_text() == "NAÏVE ☃"


def test_echo_bytes() -> None:
    client = TestClient(make_echo_app())
    with client.websocket_connect("/bytes") as ws:
        ws.send_bytes(b"\x00\x01\xff")
        assert ws.receive_bytes() == b"\xff\x01\x00"


def test_echo_json_text_and_binary_modes() -> None:
    client = TestClient(make_echo_app())
    with client.websocket_connect("/json") as ws:
        ws.send_json({"a": [1, 2.5, None, "é"]})
        message = ws.receive()
        assert message["text"] == '{"got":{"a":[1,2.5,null,"é"]}}'
        ws.send_json([1, 2])
        assert ws.receive_json() == {"got": [1, 2]}
    with client.websocket_connect("/json-binary") as ws:
        ws.send_json({"b": True}, mode="binary")
        message = ws.receive()
        assert message.get("text") is None
        assert message["bytes"] == b'{"got":{"b":true}}'
        ws.send_json("x", mode="binary")
        assert ws.receive_json(mode="binary") == {"got": "x"}


def test_iterators_stop_when_the_client_disconnects() -> None:
    seen: list[Any] = []
    app = App()

    @app.websocket("/text")
    async def texts(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            seen.append(text)
        seen.append(("text done", websocket.client_state))

    @app.websocket("/bytes")
    async def blobs(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_bytes():
            seen.append(data)
        seen.append("bytes done")

    client = TestClient(app)
    with client.websocket_connect("/text") as ws:
        ws.send_text("a")
        ws.send_text("b")
        ws.close(4000)
    assert seen == ["a", "b", ("text done", WebSocketState.DISCONNECTED)]
    with client.websocket_connect("/bytes") as ws:
        ws.send_bytes(b"1")
        ws.send_bytes(b"")
    assert seen[3:] == [b"1", b"", "bytes done"]


def test_iter_json_stops_on_disconnect() -> None:
    seen: list[Any] = []
    app = App()

    @app.websocket("/json")
    async def documents(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_json():
            seen.append(data)
        seen.append("done")

    with TestClient(app).websocket_connect("/json") as ws:
        ws.send_json({"k": 1})
        ws.send_json([2, "x"])
    assert seen == [{"k": 1}, [2, "x"], "done"]


def test_wrong_kind_of_message_is_a_type_error_in_the_handler() -> None:
    errors: list[str] = []
    app = App()

    @app.websocket("/text")
    async def texts(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_text()
        except TypeError as exc:
            errors.append(str(exc))
        try:
            await websocket.receive_bytes()
        except TypeError as exc:
            errors.append(str(exc))
        await websocket.close()

    with TestClient(app).websocket_connect("/text") as ws:
        ws.send_bytes(b"raw")
        ws.send_text("text")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1000
    assert errors == [
        "Expected a text WebSocket message, got bytes",
        "Expected a binary WebSocket message, got text",
    ]


# -- connection details -------------------------------------------------------------------------


def test_path_query_headers_and_cookies() -> None:
    app = App()

    @app.websocket("/rooms/{room_id:int}/{name}")
    async def room(websocket: WebSocket, room_id: int, name: str) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "room_id": room_id,
                "name": name,
                "path_params": websocket.path_params,
                "query": websocket.query_params.multi_items(),
                "user": websocket.headers.get("x-user"),
                "cookies": websocket.cookies,
                "url": str(websocket.url),
                "client": list(websocket.client or ()),
            }
        )
        await websocket.close()

    client = TestClient(app, cookies={"session": "s1"})
    with client.websocket_connect("/rooms/7/ada?x=1&x=2", headers={"x-user": "ada"}) as ws:
        data = ws.receive_json()
    assert data == {
        "room_id": 7,
        "name": "ada",
        "path_params": {"room_id": 7, "name": "ada"},
        "query": [["x", "1"], ["x", "2"]],
        "user": "ada",
        "cookies": {"session": "s1"},
        "url": "ws://testserver/rooms/7/ada?x=1&x=2",
        "client": ["testclient", 50000],
    }


def test_declared_query_header_and_cookie_parameters() -> None:
    app = App()

    @app.websocket("/ws")
    async def params(
        websocket: WebSocket,
        limit: int,
        token: Annotated[str, Header()],
        theme: Annotated[str | None, Cookie()] = None,
        tags: Annotated[list[str] | None, Query()] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json({"limit": limit, "token": token, "theme": theme, "tags": tags})
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect(
        "/ws?limit=5&tags=a&tags=b", headers={"token": "t", "cookie": "theme=dark"}
    ) as ws:
        assert ws.receive_json() == {"limit": 5, "token": "t", "theme": "dark", "tags": ["a", "b"]}


def test_invalid_parameters_refuse_with_1008() -> None:
    app = App()

    @app.websocket("/ws")
    async def params(websocket: WebSocket, limit: int) -> None:
        await websocket.accept()

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws?limit=x"):
        pass
    assert refused.value.code == 1008
    assert "limit" in refused.value.reason
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws"):
        pass
    assert refused.value.code == 1008


async def current_user(websocket: WebSocket) -> str:
    websocket.state.calls.append("dependency")
    return websocket.headers.get("x-user", "anonymous")


def test_dependencies_run_for_websockets() -> None:
    calls: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"calls": calls}

    app = App(lifespan=lifespan)

    @app.websocket("/me")
    async def me(websocket: WebSocket, user: Annotated[str, Depends(current_user)]) -> None:
        await websocket.accept()
        await websocket.send_text(user)
        await websocket.close()

    with TestClient(app) as client:
        with client.websocket_connect("/me", headers={"x-user": "grace"}) as ws:
            assert ws.receive_text() == "grace"
        with client.websocket_connect("/me") as ws:
            assert ws.receive_text() == "anonymous"
    assert calls == ["dependency", "dependency"]


def test_url_scheme_follows_base_url_and_root_path() -> None:
    app = App()

    @app.websocket("/where")
    async def where(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json([str(websocket.url), websocket.scope["root_path"]])
        await websocket.close()

    with TestClient(app, base_url="https://secure.test").websocket_connect("/where") as ws:
        assert ws.receive_json() == ["wss://secure.test/where", ""]
    with TestClient(app, root_path="/api").websocket_connect("/where") as ws:
        assert ws.receive_json() == ["ws://testserver/api/where", "/api"]


def test_subprotocol_negotiation() -> None:
    app = App()

    @app.websocket("/ws")
    async def negotiate(websocket: WebSocket) -> None:
        supported = ["v2.chat", "v1.chat"]
        chosen = next((p for p in websocket.subprotocols if p in supported), None)
        await websocket.accept(subprotocol=chosen)
        await websocket.send_json(websocket.subprotocols)
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/ws", subprotocols=["v1.chat", "v2.chat"]) as ws:
        assert ws.accepted_subprotocol == "v1.chat"
        assert ws.receive_json() == ["v1.chat", "v2.chat"]
    with client.websocket_connect("/ws", subprotocols=["mqtt"]) as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_json() == ["mqtt"]
    with client.websocket_connect("/ws") as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_json() == []


def test_accept_with_extra_headers() -> None:
    app = App()

    @app.websocket("/ws")
    async def headers(websocket: WebSocket) -> None:
        await websocket.accept(headers=[(b"X-Server", b"framework"), (b"set-cookie", b"a=1")])
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as ws:
        assert ws.extra_headers == [(b"x-server", b"framework"), (b"set-cookie", b"a=1")]


def test_lifespan_state_reaches_websocket_state() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"greeting": "hello", "counter": [0]}

    app = App(lifespan=lifespan)

    @app.websocket("/ws")
    async def greet(websocket: WebSocket) -> None:
        await websocket.accept()
        websocket.state.counter[0] += 1
        websocket.state.local = "per connection"
        await websocket.send_text(f"{websocket.state.greeting} {websocket.state.counter[0]}")
        await websocket.close()

    @app.get("/local")
    async def local(request: Request) -> bool:
        return hasattr(request.state, "local")

    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "hello 1"
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "hello 2"
        # The state mapping is copied per connection; the objects in it are shared.
        assert client.get("/local").json() is False


def test_two_connections_talk_through_the_app() -> None:
    app = App()
    members: dict[str, WebSocket] = {}

    @app.websocket("/chat/{name}")
    async def chat(websocket: WebSocket, name: str) -> None:
        await websocket.accept()
        members[name] = websocket
        try:
            async for text in websocket.iter_text():
                for other, peer in list(members.items()):
                    if other != name:
                        await peer.send_text(f"{name}: {text}")
                await websocket.send_text("sent")
        finally:
            del members[name]

    with TestClient(app) as client, client.websocket_connect("/chat/ada") as ada:
        with client.websocket_connect("/chat/bob") as bob:
            ada.send_text("hi bob")
            assert ada.receive_text() == "sent"
            assert bob.receive_text() == "ada: hi bob"
            bob.send_text("hi ada")
            assert bob.receive_text() == "sent"
            assert ada.receive_text() == "bob: hi ada"
        ada.send_text("alone")
        assert ada.receive_text() == "sent"
    assert members == {}


# -- disconnects and misuse ---------------------------------------------------------------------


def test_handler_sees_the_close_code_and_reason_and_receive_raises_again() -> None:
    seen: list[Any] = []
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        for _ in range(2):
            try:
                await websocket.receive_text()
            except WebSocketDisconnect as exc:
                seen.append((exc.code, exc.reason))
        seen.append(websocket.client_state)

    with TestClient(app).websocket_connect("/ws") as ws:
        ws.close(4321, "going away")
    assert seen == [(4321, "going away"), (4321, "going away"), WebSocketState.DISCONNECTED]


def test_leaving_the_block_disconnects_with_1000() -> None:
    seen: list[Any] = []
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_bytes()
        except WebSocketDisconnect as exc:
            seen.append((exc.code, exc.reason, str(exc)))

    with TestClient(app).websocket_connect("/ws"):
        pass
    assert seen == [(1000, "", "WebSocket disconnected with code 1000")]


def test_misuse_raises_runtime_errors_naming_the_state() -> None:
    errors: dict[str, str] = {}
    app = App()

    async def attempt(name: str, action: Any) -> None:
        try:
            await action
        except RuntimeError as exc:
            errors[name] = str(exc)

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await attempt("send before accept", websocket.send_text("early"))
        await attempt("receive before accept", websocket.receive_text())
        await websocket.accept()
        await attempt("accept twice", websocket.accept())
        await websocket.send_text("accepted")
        await websocket.close(4000)
        await attempt("send after close", websocket.send_text("late"))
        await attempt("receive after close", websocket.receive_text())
        await attempt("close twice", websocket.close())

    with TestClient(app).websocket_connect("/ws") as ws:
        assert ws.receive_text() == "accepted"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4000
    assert set(errors) == {
        "send before accept",
        "receive before accept",
        "accept twice",
        "send after close",
        "receive after close",
        "close twice",
    }
    assert "before the connection is accepted" in errors["send before accept"]
    assert "CONNECTING" in errors["send before accept"]
    assert "CONNECTING" in errors["receive before accept"]
    assert "'websocket.accept' on an accepted connection" in errors["accept twice"]
    assert "closed" in errors["send after close"]
    assert "DISCONNECTED" in errors["send after close"]
    assert "DISCONNECTED" in errors["receive after close"]
    assert "DISCONNECTED" in errors["close twice"]


def test_raw_receive_after_the_client_disconnected_is_an_error() -> None:
    errors: list[str] = []
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        message = await websocket.receive()
        assert message["type"] == "websocket.disconnect"
        try:
            await websocket.receive()
        except RuntimeError as exc:
            errors.append(str(exc))

    with TestClient(app).websocket_connect("/ws"):
        pass
    assert errors == ["Cannot receive: the client has already disconnected"]


def test_sending_after_the_client_left_ends_the_handler_quietly() -> None:
    seen: list[Any] = []
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()
        try:
            await websocket.send_text("anyone?")
        except WebSocketDisconnect as exc:
            seen.append(exc.code)
            raise  # the route ends the conversation quietly

    with TestClient(app).websocket_connect("/ws") as ws:
        ws.close()
    assert seen == [1006]


# -- exceptions ---------------------------------------------------------------------------------


class AppError(Exception):
    pass


def make_error_app() -> App:
    app = App()

    @app.websocket("/refuse")
    async def refuse(websocket: WebSocket) -> None:
        raise WebSocketException(4001, "go away")

    @app.websocket("/policy-after-accept")
    async def policy(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        raise WebSocketException(1008, "not allowed")

    @app.websocket("/crash-before-accept")
    async def crash_before(websocket: WebSocket) -> None:
        raise RuntimeError("crash before accept")

    @app.websocket("/crash-after-accept")
    async def crash_after(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("ready")
        await websocket.receive_text()
        raise RuntimeError("crash after accept")

    @app.websocket("/http-exception")
    async def http_exception(websocket: WebSocket) -> None:
        raise HTTPException(401, "log in first", headers={"www-authenticate": "Bearer"})

    @app.websocket("/handled/{how}")
    async def handled(websocket: WebSocket, how: str) -> None:
        if how.endswith("after"):
            await websocket.accept()
        raise AppError(how)

    @app.exception_handler(AppError)
    async def app_error(websocket: WebSocket, exc: AppError) -> Response | None:
        how = str(exc)
        if how == "response":
            return JSONResponse(
                {"path": websocket.url.path, "kind": type(websocket).__name__}, status_code=403
            )
        if how == "close-after":
            await websocket.send_text(f"handler saw {websocket.path_params['how']}")
            await websocket.close(4403, "handled")
        return None

    return app


def test_websocket_exception_before_accept_refuses_with_its_code() -> None:
    client = TestClient(make_error_app())
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/refuse"):
        pass
    assert (refused.value.code, refused.value.reason) == (4001, "go away")


def test_websocket_exception_after_accept_closes_with_its_code() -> None:
    client = TestClient(make_error_app())
    with client.websocket_connect("/policy-after-accept") as ws:
        ws.send_text("something")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1008, "not allowed")


def test_unhandled_exception_before_accept_is_a_500_denial(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(make_error_app())  # raise_server_exceptions=True: the app swallows it
    with (
        caplog.at_level(logging.ERROR, logger="framework.error"),
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/crash-before-accept"),
    ):
        pass
    assert denied.value.status_code == 500
    assert denied.value.text == "Internal Server Error"
    assert denied.value.headers["content-type"].startswith("text/plain")
    errors = [r for r in caplog.records if r.name == "framework.error" and r.exc_info]
    assert [str(r.exc_info[1]) for r in errors if r.exc_info] == ["crash before accept"]


@pytest.mark.anyio
async def test_unhandled_exception_before_accept_without_the_denial_extension() -> None:
    sent = await call_raw(make_error_app(), "/crash-before-accept", [])
    assert sent == [{"type": "websocket.close", "code": 1011, "reason": ""}]


@pytest.mark.anyio
async def test_raw_call_denial_with_the_extension() -> None:
    sent = await call_raw(
        make_error_app(), "/crash-before-accept", [], extensions={"websocket.http.response": {}}
    )
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b"Internal Server Error"


def test_unhandled_exception_after_accept_closes_1011(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(make_error_app())
    with (
        caplog.at_level(logging.ERROR, logger="framework.error"),
        client.websocket_connect("/crash-after-accept") as ws,
    ):
        assert ws.receive_text() == "ready"
        ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    # Logged, closed with 1011, and not raised to the server (nor re-raised in the test).
    assert closed.value.code == 1011
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert messages == ["crash after accept"]
    assert "/crash-after-accept" in caplog.records[0].getMessage()


def test_http_exception_before_accept_is_a_denial_with_its_status() -> None:
    client = TestClient(make_error_app())
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/http-exception"),
    ):
        pass
    assert denied.value.status_code == 401
    assert denied.value.json() == {"detail": "log in first"}
    assert denied.value.headers["www-authenticate"] == "Bearer"


def test_registered_handler_sees_the_websocket() -> None:
    client = TestClient(make_error_app())
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/handled/response"),
    ):
        pass
    assert denied.value.status_code == 403
    assert denied.value.json() == {"path": "/handled/response", "kind": "WebSocket"}

    with client.websocket_connect("/handled/close-after") as ws:
        assert ws.receive_text() == "handler saw close-after"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert (closed.value.code, closed.value.reason) == (4403, "handled")

    # A handler that returns nothing: before accept the handshake is refused (1008) ...
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/handled/none"):
        pass
    assert refused.value.code == 1008
    # ... after accept the socket closes with 1011.
    with (
        client.websocket_connect("/handled/none-after") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == 1011


def test_no_route_refuses_the_handshake() -> None:
    app = App()

    @app.get("/ws")  # an HTTP route does not answer a WebSocket
    async def http_only() -> str:
        return "http"

    client = TestClient(app)
    for path in ("/missing", "/ws"):
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect(path):
            pass
        assert refused.value.code == 1000


# -- routing and middleware ---------------------------------------------------------------------


def test_router_prefix_and_include_router() -> None:
    router = Router(prefix="/v1")

    @router.websocket("/echo/{word}")
    async def echo(websocket: WebSocket, word: str) -> None:
        await websocket.accept()
        await websocket.send_text(word)
        await websocket.close()

    app = App()
    app.include_router(router, prefix="/api")
    client = TestClient(app)
    with client.websocket_connect("/api/v1/echo/hey") as ws:
        assert ws.receive_text() == "hey"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/v1/echo/hey"):
        pass
    assert app.url_path_for("echo", word="x") == "/api/v1/echo/x"


def test_plain_middleware_sees_websocket_scopes() -> None:
    seen: list[tuple[str, str]] = []

    class Recorder:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "lifespan":
                seen.append((scope["type"], scope["path"]))

            async def send_wrapper(message: Message) -> None:
                if message["type"] == "websocket.send":
                    message = {**message, "text": message["text"] + "!"}
                await send(message)

            await self.app(scope, receive, send_wrapper)

    app = App()
    app.add_middleware(Recorder)

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    @app.get("/http")
    async def http_route() -> str:
        return "ok"

    with TestClient(app) as client:
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "hi!"
        assert client.get("/http").json() == "ok"
    assert seen == [("websocket", "/ws"), ("http", "/http")]


def test_dispatch_middleware_lets_websockets_pass() -> None:
    dispatched: list[str] = []
    app = App()

    @app.middleware("http")
    async def tag(request: Request, call_next: Any) -> Response:
        dispatched.append(request.url.path)
        response: Response = await call_next(request)
        response.headers["x-tag"] = "1"
        return response

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    @app.get("/http")
    async def http_route() -> str:
        return "ok"

    client = TestClient(app)
    with client.websocket_connect("/ws") as ws:
        ws.send_text("through")
        assert ws.receive_text() == "through"
    assert client.get("/http").headers["x-tag"] == "1"
    assert dispatched == ["/http"]


# -- bad input ----------------------------------------------------------------------------------


def test_one_mebibyte_text_frame_round_trips() -> None:
    big = "".join(chr(0x61 + i % 26) for i in range(1024 * 1024 - 3)) + "€"
    big_bytes = bytes(range(256)) * 4096
    client = TestClient(make_echo_app())
    with client.websocket_connect("/text") as ws:
        ws.send_text(big)
        assert ws.receive_text() == big.upper()
    with client.websocket_connect("/bytes") as ws:
        ws.send_bytes(big_bytes)
        assert ws.receive_bytes() == big_bytes[::-1]


def test_a_burst_of_messages_comes_back_in_order() -> None:
    client = TestClient(make_echo_app())
    with client.websocket_connect("/json") as ws:
        for i in range(1000):
            ws.send_json({"i": i})
        received = [ws.receive_json() for _ in range(1000)]
    assert received == [{"got": {"i": i}} for i in range(1000)]


def test_server_keeps_serving_after_bad_messages() -> None:
    app = App()

    @app.websocket("/json")
    async def strict(websocket: WebSocket) -> None:
        await websocket.accept()
        async for data in websocket.iter_json():
            await websocket.send_json(data)

    client = TestClient(app)
    with client.websocket_connect("/json") as ws:
        ws.send_text("{not json")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1011  # the ValueError is an unhandled error
    with client.websocket_connect("/json") as ws:
        ws.send_json({"still": "serving"})
        assert ws.receive_json() == {"still": "serving"}
