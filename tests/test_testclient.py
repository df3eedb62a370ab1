"""The test client (framework/testclient/), and driving an App through httpx's ASGITransport."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from framework import (
    App,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
    WebSocket,
    WebSocketDisconnect,
)
from framework.testclient import TestClient, WebSocketDenialResponse


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_app() -> App:
    app = App()

    @app.get("/info")
    async def info(request: Request) -> dict[str, Any]:
        client = request.client
        return {
            "url": str(request.url),
            "scheme": request.url.scheme,
            "host": request.headers.get("host"),
            "server": list(request.scope["server"]),
            "client": [client.host, client.port] if client else None,
            "root_path": request.scope["root_path"],
            "path": request.scope["path"],
            "raw_path": request.scope["raw_path"].decode(),
            "query_string": request.scope["query_string"].decode(),
            "query": request.query_params.multi_items(),
            "cookies": request.cookies,
            "user_agent": request.headers.get("user-agent"),
            "x_custom": request.headers.getlist("x-custom"),
            "base_url": str(request.base_url),
            "http_version": request.scope["http_version"],
        }

    @app.get("/set-cookie")
    async def set_cookie() -> Response:
        response = PlainTextResponse("set")
        response.set_cookie("session", "abc123")
        return response

    @app.get("/delete-cookie")
    async def delete_cookie() -> Response:
        response = PlainTextResponse("deleted")
        response.delete_cookie("session")
        return response

    @app.get("/redirect")
    async def redirect() -> Response:
        return RedirectResponse("/info?from=redirect")

    @app.get("/redirect-chain")
    async def redirect_chain() -> Response:
        return RedirectResponse("/redirect", status_code=302)

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        body = await request.body()
        return Response(body, media_type=request.headers.get("content-type", "text/plain"))

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("crashed in app")

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app())


def test_requests_work_without_with(client: TestClient) -> None:
    response = client.get("/info")
    assert response.status_code == 200
    assert response.json()["url"] == "http://testserver/info"
    assert client.get("/info").status_code == 200  # a fresh event loop per request is fine


def test_default_scope_values(client: TestClient) -> None:
    data = client.get("/info").json()
    assert data["scheme"] == "http"
    assert data["host"] == "testserver"
    assert data["server"] == ["testserver", 80]
    assert data["client"] == ["testclient", 50000]
    assert data["user_agent"] == "testclient"
    assert data["root_path"] == ""
    assert data["base_url"] == "http://testserver/"
    assert data["http_version"] == "1.1"


def test_custom_client_address() -> None:
    client = TestClient(make_app(), client=("10.1.2.3", 4567))
    assert client.get("/info").json()["client"] == ["10.1.2.3", 4567]


@pytest.mark.parametrize(
    ("base_url", "url", "scheme", "host", "server"),
    [
        ("https://example.org", "https://example.org/info", "https", "example.org", 443),
        (
            "https://example.org:8443",
            "https://example.org:8443/info",
            "https",
            "example.org:8443",
            8443,
        ),
        ("http://api.local:8000", "http://api.local:8000/info", "http", "api.local:8000", 8000),
    ],
)
def test_base_url_reaches_the_app(
    base_url: str, url: str, scheme: str, host: str, server: int
) -> None:
    data = TestClient(make_app(), base_url=base_url).get("/info").json()
    assert data["url"] == url
    assert data["scheme"] == scheme
    assert data["host"] == host
    assert data["server"][1] == server


def test_explicit_host_header_wins(client: TestClient) -> None:
    data = client.get("/info", headers={"host": "other.example:81"}).json()
    assert data["host"] == "other.example:81"
    assert data["url"] == "http://other.example:81/info"


def test_absolute_url_in_request_overrides_base_url(client: TestClient) -> None:
    data = client.get("https://elsewhere.test/info").json()
    assert data["url"] == "https://elsewhere.test/info"


def test_query_params(client: TestClient) -> None:
    data = client.get("/info", params={"a": "1", "many": ["x", "y"], "text": "é &="}).json()
    assert data["query"] == [["a", "1"], ["many", "x"], ["many", "y"], ["text", "é &="]]
    assert data["query_string"] == "a=1&many=x&many=y&text=%C3%A9+%26%3D"
    data = client.get("/info?q=1&q=2&empty=").json()
    assert data["query"] == [["q", "1"], ["q", "2"], ["empty", ""]]
    assert data["url"] == "http://testserver/info?q=1&q=2&empty="


def test_percent_encoded_path_is_decoded_in_scope() -> None:
    app = App()

    @app.get("/files/{name}")
    async def files(name: str, request: Request) -> dict[str, str]:
        return {"name": name, "raw_path": request.scope["raw_path"].decode()}

    client = TestClient(app)
    assert client.get("/files/a%20b%C3%A9").json() == {
        "name": "a bé",
        "raw_path": "/files/a%20b%C3%A9",
    }


def test_headers_default_and_per_request() -> None:
    client = TestClient(make_app(), headers={"x-custom": "default", "user-agent": "mine"})
    data = client.get("/info").json()
    assert data["x_custom"] == ["default"]
    assert data["user_agent"] == "mine"
    data = client.get("/info", headers={"x-custom": "override"}).json()
    assert data["x_custom"] == ["override"]


def test_cookies_given_to_the_client(client: TestClient) -> None:
    with_cookies = TestClient(make_app(), cookies={"theme": "dark", "lang": "en"})
    assert with_cookies.get("/info").json()["cookies"] == {"theme": "dark", "lang": "en"}
    assert client.get("/info", headers={"cookie": "a=1; b=2"}).json()["cookies"] == {
        "a": "1",
        "b": "2",
    }


def test_cookies_set_by_the_app_are_kept_and_sent_back(client: TestClient) -> None:
    response = client.get("/set-cookie")
    assert "session=abc123" in response.headers["set-cookie"]
    assert client.cookies.get("session") == "abc123"
    assert client.get("/info").json()["cookies"] == {"session": "abc123"}
    client.get("/delete-cookie")
    assert client.get("/info").json()["cookies"] == {}


def test_follow_redirects_by_default(client: TestClient) -> None:
    response = client.get("/redirect-chain")
    assert response.status_code == 200
    assert response.json()["url"] == "http://testserver/info?from=redirect"
    assert [r.status_code for r in response.history] == [302, 307]


def test_follow_redirects_off() -> None:
    client = TestClient(make_app(), follow_redirects=False)
    response = client.get("/redirect")
    assert response.status_code == 307
    assert response.headers["location"] == "/info?from=redirect"
    assert response.is_redirect
    # Per request it can still be switched on.
    assert client.get("/redirect", follow_redirects=True).status_code == 200


def test_raise_server_exceptions_true_by_default(client: TestClient) -> None:
    with pytest.raises(RuntimeError, match="crashed in app"):
        client.get("/crash")
    # The client still works after an exception.
    assert client.get("/info").status_code == 200


def test_raise_server_exceptions_false_gives_the_500() -> None:
    client = TestClient(make_app(), raise_server_exceptions=False)
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_app_that_sends_nothing() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    with pytest.raises(RuntimeError, match="without sending a response"):
        TestClient(silent).get("/")
    response = TestClient(silent, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.content == b""


def test_app_that_sends_body_before_start_is_reported() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.body", "body": b"oops"})

    with pytest.raises(RuntimeError, match=r"before http\.response\.start"):
        TestClient(broken).get("/")


def test_raw_asgi_app_with_chunked_body() -> None:
    async def raw(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-n", b"1")]})
        await send({"type": "http.response.body", "body": b"got:", "more_body": True})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    def generate() -> Any:
        yield b"ab"
        yield b"cd"

    response = TestClient(raw).post("/", content=generate())
    assert response.status_code == 201
    assert response.headers["x-n"] == "1"
    assert response.content == b"got:abcd"


def test_root_path() -> None:
    client = TestClient(make_app(), root_path="/api")
    data = client.get("/info").json()
    assert data["root_path"] == "/api"
    assert data["path"] == "/api/info"
    assert data["raw_path"] == "/api/info"
    assert data["url"] == "http://testserver/api/info"
    assert data["base_url"] == "http://testserver/api/"


def test_request_bodies(client: TestClient) -> None:
    response = client.post("/echo", json={"a": [1, 2]})
    assert response.json() == {"a": [1, 2]}
    assert response.headers["content-type"] == "application/json"
    response = client.post("/echo", content=b"\x00\x01binary", headers={"content-type": "x/y"})
    assert response.content == b"\x00\x01binary"
    response = client.post("/echo", data={"k": "v w"})
    assert response.content == b"k=v+w"
    assert response.headers["content-type"] == "application/x-www-form-urlencoded"


def test_streaming_response_is_collected(client: TestClient) -> None:
    response = client.get("/stream")
    assert response.text == "chunk0;chunk1;chunk2;"
    assert "content-length" not in response.headers


def test_head_request(client: TestClient) -> None:
    response = client.head("/info")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_with_block_runs_lifespan_and_shares_state() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"token": "t0k3n"}
        events.append("shutdown")

    app = App(lifespan=lifespan)

    @app.get("/token")
    async def token(request: Request) -> str:
        return str(request.state.token)

    client = TestClient(app)
    with client as entered:
        assert entered is client
        assert events == ["startup"]
        assert client.get("/token").json() == "t0k3n"
        assert client.get("/token").json() == "t0k3n"
    assert events == ["startup", "shutdown"]


def test_trio_backend() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    trio_app = App(lifespan=lifespan, routes=make_app().routes)
    with TestClient(trio_app, backend="trio") as client:
        assert client.get("/info").json()["url"] == "http://testserver/info"
        assert client.get("/stream").text == "chunk0;chunk1;chunk2;"
        assert client.post("/echo", content=b"trio").content == b"trio"
    assert events == ["startup", "shutdown"]


# -- httpx.AsyncClient with ASGITransport -------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_with_asgi_transport() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://asgi.test") as client:
        response = await client.get("/info", params={"x": "1"})
        assert response.status_code == 200
        data = response.json()
        assert data["url"] == "http://asgi.test/info?x=1"
        assert data["query"] == [["x", "1"]]
        response = await client.post("/echo", json={"async": True})
        assert response.json() == {"async": True}
        response = await client.get("/stream")
        assert response.text == "chunk0;chunk1;chunk2;"
        response = await client.get("/missing")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}


@pytest.mark.anyio
async def test_async_client_exceptions() -> None:
    app = make_app()
    raising = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=raising, base_url="http://asgi.test") as client:
        with pytest.raises(RuntimeError, match="crashed in app"):
            await client.get("/crash")
    quiet = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=quiet, base_url="http://asgi.test") as client:
        response = await client.get("/crash")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"


@pytest.mark.anyio
async def test_async_client_sync_handler_and_root_path() -> None:
    app = App()

    @app.get("/sync")
    def sync_handler(request: Request) -> dict[str, str]:
        return {"url": str(request.url), "root_path": request.scope["root_path"]}

    transport = httpx.ASGITransport(app=app, root_path="/mounted")
    async with httpx.AsyncClient(transport=transport, base_url="http://asgi.test") as client:
        data = (await client.get("/sync")).json()
    assert data == {"url": "http://asgi.test/mounted/sync", "root_path": "/mounted"}


# -- WebSockets -----------------------------------------------------------------------------------


def make_raw_websocket_app(script: Any) -> Any:
    """A raw ASGI app that records its scope and runs ``script(receive, send)``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            app.scopes.append(scope)  # type: ignore[attr-defined]
            await script(receive, send)

    app.scopes = []  # type: ignore[attr-defined]
    return app


async def accept_and_echo_once(receive: Any, send: Any) -> None:
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    message = await receive()
    await send({"type": "websocket.send", "text": message.get("text")})
    await send({"type": "websocket.close", "code": 1000})


def test_websocket_scope() -> None:
    app = make_raw_websocket_app(accept_and_echo_once)
    client = TestClient(app, cookies={"c": "1"}, headers={"x-default": "d"})
    with client.websocket_connect(
        "/ws/a%20b?q=1", subprotocols=["chat", "superchat"], headers={"x-user": "ada"}
    ) as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    scope = app.scopes[0]
    headers = dict(scope["headers"])
    assert scope["type"] == "websocket"
    assert scope["asgi"]["spec_version"] == "2.4"
    assert scope["scheme"] == "ws"
    assert scope["path"] == "/ws/a b"
    assert scope["raw_path"] == b"/ws/a%20b"
    assert scope["query_string"] == b"q=1"
    assert scope["root_path"] == ""
    assert scope["subprotocols"] == ["chat", "superchat"]
    assert scope["client"] == ("testclient", 50000)
    assert scope["server"] == ("testserver", 80)
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["state"] == {}
    assert headers[b"host"] == b"testserver"
    assert headers[b"sec-websocket-protocol"] == b"chat, superchat"
    assert headers[b"upgrade"] == b"websocket"
    assert headers[b"connection"] == b"upgrade"
    assert headers[b"x-user"] == b"ada"
    assert headers[b"x-default"] == b"d"
    assert headers[b"cookie"] == b"c=1"
    assert all(name == name.lower() for name, _ in scope["headers"])


def test_websocket_scheme_port_and_root_path() -> None:
    app = make_raw_websocket_app(accept_and_echo_once)
    for client, url in [
        (TestClient(app, base_url="https://secure.test"), "/ws"),
        (TestClient(app, base_url="https://secure.test"), "wss://secure.test/ws"),
        (TestClient(app, root_path="/api"), "ws://testserver:8080/ws"),
    ]:
        with client.websocket_connect(url) as ws:
            ws.send_text("x")
            ws.receive_text()
    first, second, third = app.scopes
    assert (first["scheme"], first["server"]) == ("wss", ("secure.test", 443))
    assert (second["scheme"], second["server"]) == ("wss", ("secure.test", 443))
    assert (third["scheme"], third["server"]) == ("ws", ("testserver", 8080))
    assert (third["path"], third["raw_path"], third["root_path"]) == ("/api/ws", b"/api/ws", "/api")
    assert dict(third["headers"])[b"host"] == b"testserver:8080"


def test_websocket_accept_details_and_raw_messages() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]})
        await send({"type": "websocket.send", "bytes": b"\x01"})
        await send({"type": "websocket.send", "text": "t"})
        await send({"type": "websocket.close", "code": 4000, "reason": "bye"})

    with TestClient(make_raw_websocket_app(script)).websocket_connect("/") as ws:
        assert ws.accepted_subprotocol == "chat"
        assert ws.extra_headers == [(b"x-a", b"1")]
        with pytest.raises(TypeError, match="Expected a text WebSocket message, got a binary"):
            ws.receive_text()
        with pytest.raises(TypeError, match="Expected a binary WebSocket message, got a text"):
            ws.receive_bytes()
        assert ws.receive() == {"type": "websocket.close", "code": 4000, "reason": "bye"}
        for _ in range(2):  # a closed connection keeps saying so
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert (closed.value.code, closed.value.reason) == (4000, "bye")
        with pytest.raises(RuntimeError, match=r"Cannot send: the WebSocket is closed \(code 4000"):
            ws.send_text("late")


def test_websocket_refused_with_close() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4003, "reason": "no entry"})

    entered: list[bool] = []
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        TestClient(make_raw_websocket_app(script)).websocket_connect("/"),
    ):
        entered.append(True)
    assert (refused.value.code, refused.value.reason) == (4003, "no entry")
    assert entered == []


def test_websocket_denial_response() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"x-reason", b"token")],
            }
        )
        await send(
            {"type": "websocket.http.response.body", "body": b'{"detail":', "more_body": True}
        )
        await send({"type": "websocket.http.response.body", "body": b'"Forbidden"}'})

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(make_raw_websocket_app(script)).websocket_connect("/"),
    ):
        pass
    response = denied.value
    assert response.status_code == 403
    assert response.headers["x-reason"] == "token"
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"detail":"Forbidden"}'
    assert response.text == '{"detail":"Forbidden"}'
    assert response.json() == {"detail": "Forbidden"}
    assert "403" in str(response)


def test_websocket_app_returning_without_answering_the_handshake() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()

    app = make_raw_websocket_app(script)
    with (
        pytest.raises(RuntimeError, match="without answering the handshake"),
        TestClient(app).websocket_connect("/"),
    ):
        pass
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app, raise_server_exceptions=False).websocket_connect("/"),
    ):
        pass
    assert denied.value.status_code == 500


def test_websocket_app_exception_before_the_handshake() -> None:
    async def script(receive: Any, send: Any) -> None:
        raise LookupError("broken before accept")

    app = make_raw_websocket_app(script)
    with (
        pytest.raises(LookupError, match="broken before accept"),
        TestClient(app).websocket_connect("/"),
    ):
        pass
    with (
        pytest.raises(WebSocketDenialResponse),
        TestClient(app, raise_server_exceptions=False).websocket_connect("/"),
    ):
        pass


def test_websocket_app_exception_comes_after_the_messages_sent_before_it() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "first"})
        raise ValueError("broken after accept")

    app = make_raw_websocket_app(script)
    with TestClient(app).websocket_connect("/") as ws:
        assert ws.receive_text() == "first"
        with pytest.raises(ValueError, match="broken after accept"):
            ws.receive_text()
        # Reported once: the next receive says the connection is gone, and leaving is quiet.
        with pytest.raises(WebSocketDisconnect) as gone:
            ws.receive_text()
        assert gone.value.code == 1006

    with TestClient(app, raise_server_exceptions=False).websocket_connect("/") as ws:
        assert ws.receive_text() == "first"
        with pytest.raises(WebSocketDisconnect) as gone:
            ws.receive_text()
        assert gone.value.code == 1006


def test_websocket_app_exception_is_raised_on_exit() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise ValueError("broken by a message")

    app = make_raw_websocket_app(script)
    with (
        pytest.raises(ValueError, match="broken by a message"),
        TestClient(app).websocket_connect("/") as ws,
    ):
        ws.send_text("boom")
    with TestClient(app, raise_server_exceptions=False).websocket_connect("/") as ws:
        ws.send_text("boom")


def test_websocket_error_in_the_test_is_not_hidden() -> None:
    seen: list[Any] = []

    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        # Sending to a client that left raises the server's OSError; the app may let it
        # escape, as a server does not report that as an application error.
        await send({"type": "websocket.send", "text": "after the disconnect"})

    app = make_raw_websocket_app(script)
    with pytest.raises(KeyError, match="from the test"), TestClient(app).websocket_connect("/"):
        raise KeyError("from the test")
    assert seen == [{"type": "websocket.disconnect", "code": 1000, "reason": ""}]


def test_websocket_app_returning_without_close_is_an_abnormal_closure() -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "only"})

    with TestClient(make_raw_websocket_app(script)).websocket_connect("/") as ws:
        ws.send_text("to nobody")  # whether or not the app has returned yet: no error
        assert ws.receive_text() == "only"
        with pytest.raises(WebSocketDisconnect) as gone:
            ws.receive_text()
        assert gone.value.code == 1006
        with pytest.raises(RuntimeError, match="closed"):
            ws.send_text("to nobody")


def test_websocket_client_close_reaches_the_app() -> None:
    seen: list[Any] = []

    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        seen.append(await receive())  # servers repeat the disconnect
        try:
            await send({"type": "websocket.send", "text": "too late"})
        except OSError as exc:
            seen.append(str(exc))
        await send({"type": "websocket.close", "code": 1000})  # allowed: nothing happens
        seen.append("done")

    with TestClient(make_raw_websocket_app(script)).websocket_connect("/") as ws:
        ws.close(4004, "leaving")
        ws.close(1000)  # closing twice does nothing
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert (closed.value.code, closed.value.reason) == (4004, "leaving")
        with pytest.raises(RuntimeError, match="Cannot send: the WebSocket is closed"):
            ws.send_bytes(b"x")
    disconnect = {"type": "websocket.disconnect", "code": 4004, "reason": "leaving"}
    assert seen == [
        disconnect,
        disconnect,
        "Cannot send 'websocket.send': the client has disconnected",
        "done",
    ]


def test_websocket_exit_sends_1000_and_waits_for_the_app() -> None:
    seen: list[Any] = []

    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(await receive())
        await anyio.sleep(0.01)  # some cleanup that takes a moment
        seen.append("cleaned up")

    with TestClient(make_raw_websocket_app(script)).websocket_connect("/"):
        pass
    assert seen == [{"type": "websocket.disconnect", "code": 1000, "reason": ""}, "cleaned up"]


def test_websocket_app_ignoring_the_disconnect_is_cancelled() -> None:
    seen: list[str] = []

    async def script(receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            seen.append("cancelled")
            raise

    with TestClient(make_raw_websocket_app(script)).websocket_connect("/") as ws:
        ws.close_timeout = 0.05
    assert seen == ["cancelled"]


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (
            [{"type": "websocket.send", "text": "early"}],
            "Unexpected ASGI message 'websocket.send' on a WebSocket in state 'connecting': "
            "expected 'websocket.accept' or 'websocket.close' or 'websocket.http.response.start'",
        ),
        (
            [{"type": "websocket.accept"}, {"type": "websocket.accept"}],
            "Unexpected ASGI message 'websocket.accept' on a WebSocket in state 'open'",
        ),
        (
            [
                {"type": "websocket.accept"},
                {"type": "websocket.close"},
                {"type": "websocket.close"},
            ],
            "in state 'closed': expected nothing more",
        ),
        (
            [{"type": "websocket.accept"}, {"type": "websocket.send"}],
            "A 'websocket.send' message needs 'text' or 'bytes'",
        ),
    ],
)
def test_websocket_protocol_errors_are_raised_in_the_app(
    messages: list[dict[str, Any]], error: str
) -> None:
    async def script(receive: Any, send: Any) -> None:
        await receive()
        for message in messages:
            await send(message)

    with (
        pytest.raises(RuntimeError, match=re.escape(error)),
        TestClient(make_raw_websocket_app(script)).websocket_connect("/") as ws,
    ):
        ws.receive()
        ws.receive()


def test_websocket_session_outside_a_with_block() -> None:
    session = TestClient(make_raw_websocket_app(accept_and_echo_once)).websocket_connect("/")
    with pytest.raises(RuntimeError, match="not open"):
        session.send_text("x")
    with pytest.raises(RuntimeError, match="not open"):
        session.receive()
    with session:
        session.send_text("x")
        assert session.receive_text() == "x"
    with pytest.raises(RuntimeError, match="only be entered once"), session:
        pass


def test_websocket_with_lifespan_portal_and_trio() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        yield {"token": "t0k3n"}

    app = App(lifespan=lifespan)

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(f"{websocket.state.token}:{text}")

    for backend in ("asyncio", "trio"):
        with (
            TestClient(app, backend=backend) as client,
            client.websocket_connect("/ws") as ws1,
            client.websocket_connect("/ws") as ws2,
        ):
            ws1.send_text("one")
            ws2.send_text("two")
            assert ws2.receive_text() == "t0k3n:two"
            assert ws1.receive_text() == "t0k3n:one"


def test_websocket_and_http_share_the_event_loop_inside_with() -> None:
    app = App()
    listeners: list[WebSocket] = []

    @app.websocket("/events")
    async def events(websocket: WebSocket) -> None:
        await websocket.accept()
        listeners.append(websocket)
        await websocket.send_text("listening")
        async for _ in websocket.iter_text():
            pass
        listeners.remove(websocket)

    @app.post("/notify")
    async def notify(request: Request) -> int:
        text = (await request.body()).decode()
        for websocket in listeners:
            await websocket.send_text(text)
        return len(listeners)

    with TestClient(app) as client, client.websocket_connect("/events") as ws:
        assert ws.receive_text() == "listening"
        assert client.post("/notify", content=b"news").json() == 1
        assert ws.receive_text() == "news"
    assert listeners == []
