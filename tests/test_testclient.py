"""The test client (framework/testclient.py), and driving an App through httpx's ASGITransport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from framework import (
    App,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    StreamingResponse,
)
from framework.testclient import TestClient


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
