"""Request and HTTPConnection (framework/http/requests.py): scope attributes, body, stream, json,
form, disconnects, body size limits, and the coordination between a streaming response and a
handler still reading its request body."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from framework import (
    App,
    HTTPException,
    JSONResponse,
    PlainTextResponse,
    Request,
    Route,
    Router,
    StreamingResponse,
)
from framework.datastructures import URL, Address, Headers, QueryParams, State, UploadFile
from framework.exceptions import ClientDisconnect, InvalidJSONBody
from framework.http.requests import HTTPConnection, parse_cookies
from framework.testclient import TestClient
from framework.types import Message

MIB = 1024 * 1024


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The hand-driven ASGI tests of this module run on both anyio backends."""
    return str(request.param)


# -- a hand-driven ASGI connection ------------------------------------------------------------


def http_scope(
    method: str = "POST",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


def body_messages(*chunks: bytes) -> list[Message]:
    """``http.request`` messages carrying ``chunks``, ``more_body`` on all but the last."""
    if not chunks:
        chunks = (b"",)
    last = len(chunks) - 1
    return [
        {"type": "http.request", "body": chunk, "more_body": index < last}
        for index, chunk in enumerate(chunks)
    ]


class Connection:
    """The server side of one HTTP connection, driven by hand.

    ``receive`` hands out ``messages`` in order (yielding to the loop ``pauses`` times before
    each one when asked) and, once they are gone, waits until the response is complete and then
    reports ``http.disconnect``, as a server does. ``send`` records every message.
    """

    def __init__(self, messages: list[Message], pauses: int = 0) -> None:
        self.pending = list(messages)
        self.pauses = pauses
        self.handed_out = 0
        self.sent: list[Message] = []
        self.response_complete = anyio.Event()

    async def receive(self) -> Message:
        for _ in range(self.pauses):
            await anyio.sleep(0)
        if self.pending:
            self.handed_out += 1
            return self.pending.pop(0)
        await self.response_complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.response_complete.set()

    @property
    def status(self) -> int:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent
        return int(starts[0]["status"])

    @property
    def headers(self) -> Headers:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return Headers(raw=list(start["headers"]))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


async def run(app: Any, scope: dict[str, Any], connection: Connection) -> None:
    with anyio.fail_after(10):  # a hang is a failure, not a stuck test run
        await app(scope, connection.receive, connection.send)


# -- scope attributes -------------------------------------------------------------------------


def test_request_attributes_through_an_app() -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(request: Request, item_id: int) -> dict[str, Any]:
        return {
            "method": request.method,
            "url": str(request.url),
            "base_url": str(request.base_url),
            "path": request.url.path,
            "query": request.query_params.multi_items(),
            "path_params": request.path_params,
            "item_id": item_id,
            "agent": request.headers["user-agent"],
            "custom": request.headers.getlist("x-custom"),
            "client": list(request.client) if request.client else None,
            "app_is_app": request.app is app,
            "scope_path": request["path"],
        }

    client = TestClient(app, client=("10.1.2.3", 5555))
    response = client.get(
        "/items/7?tag=a&tag=b&q=x y",
        headers=[("X-Custom", "one"), ("x-custom", "two")],
    )
    assert response.status_code == 200
    assert response.json() == {
        "method": "GET",
        "url": "http://testserver/items/7?tag=a&tag=b&q=x%20y",
        "base_url": "http://testserver/",
        "path": "/items/7",
        "query": [["tag", "a"], ["tag", "b"], ["q", "x y"]],
        "path_params": {"item_id": 7},
        "item_id": 7,
        "agent": "testclient",
        "custom": ["one", "two"],
        "client": ["10.1.2.3", 5555],
        "app_is_app": True,
        "scope_path": "/items/7",
    }


def test_request_url_with_root_path_and_url_for() -> None:
    app = App()

    @app.get("/items/{item_id}", name="item")
    async def item(request: Request, item_id: str) -> dict[str, str]:
        return {
            "url": str(request.url),
            "base_url": str(request.base_url),
            "link": str(request.url_for("item", item_id="other")),
        }

    client = TestClient(app, root_path="/api")
    assert client.get("/items/1?x=1").json() == {
        "url": "http://testserver/api/items/1?x=1",
        "base_url": "http://testserver/api/",
        "link": "http://testserver/api/items/other",
    }


def test_request_url_uses_host_header_and_port() -> None:
    app = App()

    @app.get("/")
    async def home(request: Request) -> dict[str, Any]:
        return {"url": str(request.url), "port": request.url.port, "secure": request.url.is_secure}

    client = TestClient(app, base_url="https://example.org:8443")
    assert client.get("/").json() == {
        "url": "https://example.org:8443/",
        "port": 8443,
        "secure": True,
    }


def test_request_without_client_and_without_router() -> None:
    scope = http_scope(method="GET")
    del scope["client"]
    request = Request(scope)
    assert request.client is None
    assert request.app is None
    assert request.path_params == {}
    with pytest.raises(RuntimeError, match="url_for"):
        request.url_for("anything")


def test_http_connection_is_a_mapping_over_the_scope() -> None:
    scope = http_scope(method="GET", path="/p", query_string=b"a=1&a=2")
    connection = HTTPConnection(scope)
    assert connection["path"] == "/p"
    assert set(connection) == set(scope)
    assert len(connection) == len(scope)
    assert connection.query_params == QueryParams("a=1&a=2")
    assert connection.url == URL("http://testserver/p?a=1&a=2")
    assert connection.client == Address("127.0.0.1", 40000)
    # Two connections over the same scope are still two objects.
    assert connection != HTTPConnection(scope)
    assert connection == connection


def test_request_properties_are_cached() -> None:
    request = Request(http_scope(method="GET", headers=[(b"cookie", b"a=1")]))
    assert request.url is request.url
    assert request.headers is request.headers
    assert request.query_params is request.query_params
    assert request.cookies is request.cookies
    assert request.state is request.state


# -- cookies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1", {"a": "1"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2;  c = 3 ", {"a": "1", "b": "2", "c": "3"}),
        ('quoted="hello world"', {"quoted": "hello world"}),
        ('escaped="a\\054b"', {"escaped": "a,b"}),
        ("empty=", {"empty": ""}),
        ("flag; a=1", {"a": "1"}),
        ("=novalue; a=1", {"a": "1"}),
        ("a=1; ; ;b=2", {"a": "1", "b": "2"}),
        ("a=first; a=second", {"a": "first"}),
        ("token=abc=def==", {"token": "abc=def=="}),
        ("weird{name}=x; ok=1", {"weird{name}": "x", "ok": "1"}),
        ("", {}),
    ],
)
def test_parse_cookies_is_lenient(header: str, expected: dict[str, str]) -> None:
    assert parse_cookies(header) == expected


def test_request_cookies_through_an_app() -> None:
    app = App()

    @app.get("/")
    async def home(request: Request) -> dict[str, str]:
        return request.cookies

    client = TestClient(app)
    response = client.get("/", headers={"cookie": 'session=abc; broken; theme="dark mode"'})
    assert response.json() == {"session": "abc", "theme": "dark mode"}
    assert client.get("/").json() == {}


# -- state ------------------------------------------------------------------------------------


def test_request_state_starts_from_scope_state() -> None:
    scope = http_scope(method="GET", state={"db": "connection"})
    request = Request(scope)
    assert isinstance(request.state, State)
    assert request.state.db == "connection"
    request.state.user = "ada"
    assert scope["state"] == {"db": "connection", "user": "ada"}


def test_request_state_without_scope_state_creates_one() -> None:
    scope = http_scope(method="GET")
    request = Request(scope)
    request.state.x = 1
    assert scope["state"] == {"x": 1}
    # Another Request over the same scope (as middleware makes) sees the same state.
    assert Request(scope).state.x == 1


def test_request_state_is_shared_with_middleware() -> None:
    app = App()
    seen_after: list[Any] = []

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Any:
        request.state.user = "ada"
        response = await call_next(request)
        seen_after.append(request.state.handled_by)
        return response

    @app.get("/")
    async def home(request: Request) -> dict[str, str]:
        request.state.handled_by = "home"
        return {"user": request.state.user}

    assert TestClient(app).get("/").json() == {"user": "ada"}
    assert seen_after == ["home"]


def test_request_state_starts_from_lifespan_state_per_request() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "pool"}

    app = App(lifespan=lifespan)

    @app.get("/")
    async def home(request: Request) -> dict[str, Any]:
        leaked = "mark" in request.state
        request.state.mark = True
        return {"db": request.state.db, "leaked": leaked}

    with TestClient(app) as client:
        assert client.get("/").json() == {"db": "pool", "leaked": False}
        # A value one request sets does not leak into the next.
        assert client.get("/").json() == {"db": "pool", "leaked": False}


# -- body and stream --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_body_single_message() -> None:
    connection = Connection(body_messages(b"hello"))
    request = Request(http_scope(), connection.receive)
    assert await request.body() == b"hello"
    assert connection.handed_out == 1


@pytest.mark.anyio
async def test_body_many_messages_and_cached() -> None:
    connection = Connection(body_messages(b"a", b"", b"bc", b"def"), pauses=1)
    request = Request(http_scope(), connection.receive)
    assert await request.body() == b"abcdef"
    assert connection.handed_out == 4
    assert await request.body() == b"abcdef"
    assert connection.handed_out == 4  # the second call reads nothing


@pytest.mark.anyio
async def test_body_message_without_body_key() -> None:
    connection = Connection([{"type": "http.request"}])
    request = Request(http_scope(), connection.receive)
    assert await request.body() == b""


@pytest.mark.anyio
async def test_stream_yields_chunks_in_order() -> None:
    parts = [b"one", b"", b"two", b"three", b""]
    connection = Connection(body_messages(*parts))
    request = Request(http_scope(), connection.receive)
    assert [chunk async for chunk in request.stream()] == [b"one", b"two", b"three"]


@pytest.mark.anyio
async def test_stream_after_body_yields_cached_body() -> None:
    connection = Connection(body_messages(b"ab", b"cd"))
    request = Request(http_scope(), connection.receive)
    assert await request.body() == b"abcd"
    assert [chunk async for chunk in request.stream()] == [b"abcd"]
    assert [chunk async for chunk in request.stream()] == [b"abcd"]


@pytest.mark.anyio
async def test_stream_after_empty_body_yields_nothing() -> None:
    request = Request(http_scope(), Connection(body_messages()).receive)
    assert await request.body() == b""
    assert [chunk async for chunk in request.stream()] == []


@pytest.mark.anyio
async def test_second_stream_raises() -> None:
    request = Request(http_scope(), Connection(body_messages(b"a", b"b")).receive)
    assert [chunk async for chunk in request.stream()] == [b"a", b"b"]
    with pytest.raises(RuntimeError, match="already been consumed"):
        async for _ in request.stream():
            pass
    with pytest.raises(RuntimeError, match="already been consumed"):
        await request.body()


@pytest.mark.anyio
async def test_request_without_receive_channel() -> None:
    request = Request(http_scope())
    with pytest.raises(RuntimeError, match="receive"):
        await request.body()


def test_body_through_an_app() -> None:
    app = App()

    @app.post("/echo")
    async def echo(request: Request) -> PlainTextResponse:
        body = await request.body()
        again = await request.body()
        assert again is body
        return PlainTextResponse(body)

    @app.post("/chunks")
    async def chunks(request: Request) -> list[str]:
        return [chunk.decode() async for chunk in request.stream()]

    client = TestClient(app)
    assert client.post("/echo", content=b"payload").content == b"payload"
    assert client.post("/echo").content == b""

    def generate() -> Iterator[bytes]:
        yield b"x"
        yield b"yy"
        yield b"zzz"

    assert client.post("/chunks", content=generate()).json() == ["x", "yy", "zzz"]


# -- json -------------------------------------------------------------------------------------


@pytest.fixture
def json_client() -> TestClient:
    app = App()

    @app.post("/json")
    async def parse(request: Request) -> Any:
        first = await request.json()
        assert await request.json() is first  # cached
        return {"got": first}

    @app.post("/fallback")
    async def fallback(request: Request) -> Any:
        try:
            return {"got": await request.json()}
        except ValueError as exc:
            return {"error": type(exc).__name__}

    return TestClient(app)


@pytest.mark.parametrize(
    "value",
    [{"a": [1, 2.5, None, True]}, [1, "two"], "text", 3, None, {"nested": {"ü": "ö"}}],
)
def test_json_valid(json_client: TestClient, value: Any) -> None:
    response = json_client.post("/json", content=json.dumps(value).encode())
    assert response.status_code == 200
    assert response.json() == {"got": value}


def test_json_ignores_content_type(json_client: TestClient) -> None:
    response = json_client.post(
        "/json", content=b'{"a": 1}', headers={"content-type": "text/plain"}
    )
    assert response.json() == {"got": {"a": 1}}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"a": 1', b"", b"   ", b'"\xff\xfe"', b"\xff", b'{"a": 1} trailing'],
    ids=["garbage", "truncated", "empty", "blank", "invalid-utf8-string", "invalid-utf8", "extra"],
)
def test_json_invalid_is_400(json_client: TestClient, body: bytes) -> None:
    response = json_client.post("/json", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"].startswith("Invalid JSON body")


def test_invalid_json_can_be_caught_as_value_error(json_client: TestClient) -> None:
    response = json_client.post("/fallback", content=b"nope")
    assert response.json() == {"error": "InvalidJSONBody"}


def test_invalid_json_body_exception_types() -> None:
    exc = InvalidJSONBody("expected value at line 1")
    assert isinstance(exc, ValueError)
    assert isinstance(exc, HTTPException)
    assert exc.status_code == 400
    assert exc.detail == "Invalid JSON body: expected value at line 1"


# -- form -------------------------------------------------------------------------------------


def test_form_urlencoded_and_multipart_through_an_app() -> None:
    app = App()
    uploads: list[UploadFile] = []

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        assert await request.form() is data  # cached
        result: dict[str, Any] = {}
        for key, value in data.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(value)
                result.setdefault(key, []).append(
                    {"filename": value.filename, "content": (await value.read()).decode()}
                )
            else:
                result.setdefault(key, []).append(value)
        return result

    client = TestClient(app)
    response = client.post("/form", data={"a": ["1", "2"], "name": "Zoë"})
    assert response.json() == {"a": ["1", "2"], "name": ["Zoë"]}

    response = client.post(
        "/form",
        data={"field": "value"},
        files={"upload": ("notes.txt", b"file body", "text/plain")},
    )
    assert response.json() == {
        "field": ["value"],
        "upload": [{"filename": "notes.txt", "content": "file body"}],
    }
    # Uploaded files are closed once the response has been sent.
    assert uploads
    assert all(upload.file.closed for upload in uploads)


def test_form_other_content_type_is_415() -> None:
    app = App()

    @app.post("/form")
    async def form(request: Request) -> dict[str, str]:
        data = await request.form()
        return {k: str(v) for k, v in data.items()}

    client = TestClient(app)
    response = client.post("/form", json={"a": 1})
    assert response.status_code == 415
    assert "form" in response.json()["detail"]
    response = client.post("/form", content=b"a=1")  # no content type at all
    assert response.status_code == 415


def test_form_limits_through_request_form() -> None:
    app = App()

    @app.post("/one-file")
    async def one_file(request: Request) -> dict[str, int]:
        data = await request.form(max_files=1)
        return {"parts": len(data.multi_items())}

    @app.post("/two-fields")
    async def two_fields(request: Request) -> dict[str, int]:
        data = await request.form(max_fields=2)
        return {"parts": len(data.multi_items())}

    @app.post("/small-parts")
    async def small_parts(request: Request) -> dict[str, int]:
        data = await request.form(max_part_size=4)
        return {"parts": len(data.multi_items())}

    client = TestClient(app)
    one = {"f": ("a.txt", b"a")}
    two = [("f", ("a.txt", b"a")), ("f", ("b.txt", b"b"))]
    assert client.post("/one-file", files=one).json() == {"parts": 1}
    assert client.post("/one-file", files=two).status_code == 413
    assert client.post("/two-fields", data={"a": "1", "b": "2"}).json() == {"parts": 2}
    response = client.post("/two-fields", data={"a": "1", "b": "2", "c": "3"})
    assert response.status_code == 413
    assert response.json() == {"detail": "Form has too many fields"}
    multipart_fields = {"a": "1", "b": "2", "c": "3"}
    response = client.post("/two-fields", data=multipart_fields, files=one)
    assert response.status_code == 413
    assert client.post("/small-parts", data={"a": "1234"}, files=one).json() == {"parts": 2}
    response = client.post("/small-parts", data={"a": "12345"}, files=one)
    assert response.status_code == 413


# -- is_disconnected --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_is_disconnected_true_after_http_disconnect() -> None:
    connection = Connection([{"type": "http.disconnect"}])
    request = Request(http_scope(), connection.receive)
    assert await request.is_disconnected() is True
    assert await request.is_disconnected() is True
    assert connection.handed_out == 1  # the answer is remembered
    with pytest.raises(ClientDisconnect):
        await request.body()


@pytest.mark.anyio
async def test_is_disconnected_false_while_waiting_does_not_block() -> None:
    never = anyio.Event()

    async def receive() -> Message:
        await never.wait()
        raise AssertionError("unreachable")

    request = Request(http_scope(), receive)
    with anyio.fail_after(5):
        assert await request.is_disconnected() is False
        assert await request.is_disconnected() is False


@pytest.mark.anyio
async def test_is_disconnected_keeps_the_body_message() -> None:
    connection = Connection(body_messages(b"first ", b"second ", b"third"))
    request = Request(http_scope(), connection.receive)
    assert await request.is_disconnected() is False
    assert await request.is_disconnected() is False
    assert await request.body() == b"first second third"
    assert await request.is_disconnected() is False  # connected, nothing waiting


@pytest.mark.anyio
async def test_is_disconnected_between_stream_chunks() -> None:
    connection = Connection(body_messages(b"a", b"b", b"c", b"d"))
    request = Request(http_scope(), connection.receive)
    received = []
    async for chunk in request.stream():
        received.append(chunk)
        assert await request.is_disconnected() is False
    assert received == [b"a", b"b", b"c", b"d"]


@pytest.mark.anyio
async def test_is_disconnected_after_the_body_sees_the_disconnect() -> None:
    messages = [*body_messages(b"all"), {"type": "http.disconnect"}]
    connection = Connection(messages)
    request = Request(http_scope(), connection.receive)
    assert await request.body() == b"all"
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_is_disconnected_in_a_handler_keeps_body_complete() -> None:
    app = App()

    @app.post("/")
    async def handler(request: Request) -> dict[str, Any]:
        before = await request.is_disconnected()
        body = await request.body()
        return {"before": before, "size": len(body), "body": body.decode()}

    connection = Connection(body_messages(b"12", b"34", b"56"))
    await run(app, http_scope(), connection)
    assert connection.status == 200
    assert json.loads(connection.body) == {"before": False, "size": 6, "body": "123456"}


# -- client disconnects -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_client_disconnect_mid_body() -> None:
    messages = [*body_messages(b"a", b"b")[:1], {"type": "http.disconnect"}]
    request = Request(http_scope(), Connection(messages).receive)
    with pytest.raises(ClientDisconnect):
        await request.body()
    assert await request.is_disconnected() is True


@pytest.mark.anyio
async def test_client_disconnect_mid_stream() -> None:
    messages = [{"type": "http.request", "body": b"part", "more_body": True}]
    messages.append({"type": "http.disconnect"})
    request = Request(http_scope(), Connection(messages).receive)
    received = []
    with pytest.raises(ClientDisconnect):
        async for chunk in request.stream():
            received.append(chunk)
    assert received == [b"part"]


@pytest.mark.anyio
async def test_app_ends_quietly_when_client_leaves_mid_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    reached: list[bool] = []

    @app.post("/")
    async def handler(request: Request) -> dict[str, int]:
        body = await request.body()
        reached.append(True)
        return {"size": len(body)}

    messages = [{"type": "http.request", "body": b"x", "more_body": True}]
    messages.append({"type": "http.disconnect"})
    connection = Connection(messages)
    with caplog.at_level(logging.ERROR):
        await run(app, http_scope(), connection)
    assert connection.sent == []  # nobody left to answer
    assert reached == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# -- body size limits -------------------------------------------------------------------------


def size_app(**app_options: Any) -> App:
    app = App(**app_options)

    @app.post("/")
    async def read(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


def test_content_length_over_limit_is_413() -> None:
    client = TestClient(size_app(max_body_size=10))
    assert client.post("/", content=b"x" * 10).json() == {"size": 10}
    response = client.post("/", content=b"x" * 11)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    # The server keeps serving afterwards.
    assert client.post("/", content=b"ok").json() == {"size": 2}


def test_declared_oversize_body_is_413_before_a_streaming_echo_starts() -> None:
    # The echo would read the body only after its 200 had gone out: the declared length is
    # checked before the response starts instead.
    app = App(max_body_size=10)

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        return StreamingResponse(request.stream(), media_type="application/octet-stream")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/echo", content=b"x" * 11)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert client.post("/echo", content=b"x" * 10).content == b"x" * 10


def test_streamed_body_over_limit_is_413() -> None:
    client = TestClient(size_app(max_body_size=10))

    def chunks(count: int) -> Iterator[bytes]:
        for _ in range(count):
            yield b"abc"

    response = client.post("/", content=chunks(3))
    assert response.status_code == 200
    assert response.json() == {"size": 9}
    response = client.post("/", content=chunks(4))
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


@pytest.mark.anyio
async def test_streamed_body_over_limit_stops_reading() -> None:
    connection = Connection(body_messages(*[b"0123456789"] * 50))
    await run(size_app(max_body_size=25), http_scope(), connection)
    assert connection.status == 413
    assert connection.handed_out == 3  # it stopped at the first chunk past the limit


@pytest.mark.anyio
async def test_stream_over_limit_raises_413() -> None:
    connection = Connection(body_messages(b"12345", b"67890", b"x"))
    request = Request(http_scope(), connection.receive, max_body_size=10)
    received = []
    with pytest.raises(HTTPException) as info:
        async for chunk in request.stream():
            received.append(chunk)
    assert info.value.status_code == 413
    assert received == [b"12345", b"67890"]


@pytest.mark.anyio
@pytest.mark.parametrize("value", [b"abc", b"1.5", b"", b"0x10"])
async def test_invalid_content_length_is_400(value: bytes) -> None:
    connection = Connection(body_messages(b"body"))
    scope = http_scope(headers=[(b"content-length", value)])
    await run(size_app(max_body_size=100), scope, connection)
    assert connection.status == 400
    assert json.loads(connection.body) == {"detail": "Invalid Content-Length header"}


@pytest.mark.anyio
async def test_default_limit_is_16_mib_by_content_length() -> None:
    app = size_app()
    over = http_scope(headers=[(b"content-length", str(16 * MIB + 1).encode())])
    connection = Connection(body_messages(b"tiny"))
    await run(app, over, connection)
    assert connection.status == 413
    assert connection.handed_out == 0  # refused before reading anything


@pytest.mark.anyio
async def test_default_limit_is_16_mib_by_streamed_bytes() -> None:
    app = size_app()
    exactly = Connection(body_messages(b"x" * (8 * MIB), b"x" * (8 * MIB)))
    await run(app, http_scope(), exactly)
    assert exactly.status == 200
    assert json.loads(exactly.body) == {"size": 16 * MIB}
    over = Connection(body_messages(b"x" * (8 * MIB), b"x" * (8 * MIB), b"x"))
    await run(app, http_scope(), over)
    assert over.status == 413


def test_no_limit_without_reading_the_body() -> None:
    app = App(max_body_size=1)

    @app.post("/")
    async def ignore() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/request")
    async def ignore_request(request: Request) -> dict[str, bool]:
        return {"ok": True}

    client = TestClient(app)
    assert client.post("/", content=b"much more than one byte").json() == {"ok": True}
    assert client.post("/request", content=b"much more than one byte").json() == {"ok": True}


def test_app_limit_none_lifts_the_limit() -> None:
    client = TestClient(size_app(max_body_size=None))
    assert client.post("/", content=b"x" * (MIB + 1)).json() == {"size": MIB + 1}


def test_limits_most_specific_wins() -> None:
    app = App(max_body_size=10)
    router = Router(prefix="/router", max_body_size=20)
    plain_router = Router(prefix="/plain")

    async def read(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.add_api_route("/app", read, methods=["POST"])
    app.add_api_route("/app-route", read, methods=["POST"], max_body_size=5)
    app.add_api_route("/unlimited", read, methods=["POST"], max_body_size=None)
    router.add_api_route("/", read, methods=["POST"])
    router.add_api_route("/route", read, methods=["POST"], max_body_size=30)
    router.add_api_route("/unlimited", read, methods=["POST"], max_body_size=None)
    plain_router.add_api_route("/", read, methods=["POST"])
    app.include_router(router)
    app.include_router(plain_router)

    @app.post("/decorated", max_body_size=3)
    async def decorated(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    client = TestClient(app)

    def limit_of(path: str, probe: int) -> tuple[int, int]:
        """Status codes for a body of ``probe`` bytes and one of ``probe + 1``."""
        at = client.post(path, content=b"x" * probe).status_code
        over = client.post(path, content=b"x" * (probe + 1)).status_code
        return at, over

    assert limit_of("/app", 10) == (200, 413)
    assert limit_of("/app-route", 5) == (200, 413)
    assert limit_of("/decorated", 3) == (200, 413)
    assert limit_of("/router/", 20) == (200, 413)
    assert limit_of("/router/route", 30) == (200, 413)
    assert limit_of("/plain/", 10) == (200, 413)  # a router without a limit takes the app's
    assert client.post("/unlimited", content=b"x" * 1000).json() == {"size": 1000}
    assert client.post("/router/unlimited", content=b"x" * 1000).json() == {"size": 1000}


def test_route_object_takes_the_app_limit() -> None:
    async def read(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app = App(max_body_size=4, routes=[Route("/", read, methods=["POST"])])
    client = TestClient(app)
    assert client.post("/", content=b"1234").json() == {"size": 4}
    assert client.post("/", content=b"12345").status_code == 413


def test_router_as_its_own_app_applies_its_limit() -> None:
    router = Router(max_body_size=4)

    @router.post("/")
    async def read(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    client = TestClient(router)
    assert client.post("/", content=b"1234").json() == {"size": 4}
    assert client.post("/", content=b"12345").status_code == 413


def test_router_without_limit_as_its_own_app_has_none() -> None:
    router = Router()

    @router.post("/")
    async def read(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    assert TestClient(router).post("/", content=b"x" * 100).json() == {"size": 100}


def test_limit_applies_to_form_and_json() -> None:
    app = App(max_body_size=16)

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    @app.post("/json")
    async def parse(request: Request) -> Any:
        return await request.json()

    client = TestClient(app)
    assert client.post("/form", data={"a": "1"}).json() == {"fields": 1}
    assert client.post("/form", data={"a": "x" * 20}).status_code == 413
    assert client.post("/json", content=b"[1, 2]").json() == [1, 2]
    assert client.post("/json", content=b"[" + b"1, " * 10 + b"1]").status_code == 413


# -- a streaming response and the request body ------------------------------------------------


def echo_app() -> App:
    app = App()

    @app.post("/echo")
    async def echo(request: Request) -> StreamingResponse:
        return StreamingResponse(request.stream(), media_type="application/octet-stream")

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("pauses", [0, 1, 3])
async def test_streaming_echo_of_request_body_keeps_every_byte(pauses: int) -> None:
    chunks = [f"chunk-{index:03d};".encode() for index in range(200)]
    connection = Connection(body_messages(*chunks), pauses=pauses)
    await run(echo_app(), http_scope(path="/echo"), connection)
    assert connection.status == 200
    assert connection.body == b"".join(chunks)
    sent_chunks = [m["body"] for m in connection.sent if m["type"] == "http.response.body"]
    assert [c for c in sent_chunks if c] == chunks  # one response chunk per request chunk, in order
    assert connection.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.anyio
async def test_streaming_echo_ping_pong() -> None:
    """The client sends each chunk only after it received the echo of the previous one."""
    chunks = [f"<{index}>".encode() for index in range(50)]
    messages = body_messages(*chunks)
    echoed: list[bytes] = []
    sent_count = 0
    progress = anyio.Event()
    done = anyio.Event()

    async def receive() -> Message:
        nonlocal sent_count, progress
        if sent_count < len(messages):
            while len(echoed) < sent_count:  # wait for the echo of the previous chunk
                progress = anyio.Event()
                await progress.wait()
            message = messages[sent_count]
            sent_count += 1
            return message
        await done.wait()
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            if message.get("body"):
                echoed.append(message["body"])
                progress.set()
            if not message.get("more_body", False):
                done.set()

    with anyio.fail_after(10):
        await echo_app()(http_scope(path="/echo"), receive, send)
    assert echoed == chunks


def test_streaming_echo_through_test_client() -> None:
    def generate() -> Iterator[bytes]:
        for index in range(100):
            yield f"{index},".encode()

    response = TestClient(echo_app()).post("/echo", content=generate())
    assert response.status_code == 200
    assert response.content == b"".join(f"{index},".encode() for index in range(100))


@pytest.mark.anyio
async def test_streaming_echo_client_leaves_mid_body(caplog: pytest.LogCaptureFixture) -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.request", "body": b"b", "more_body": True},
        {"type": "http.disconnect"},
    ]
    connection = Connection(messages, pauses=1)
    with caplog.at_level(logging.ERROR):
        await run(echo_app(), http_scope(path="/echo"), connection)
    assert connection.status == 200
    assert connection.body == b"ab"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.anyio
async def test_streaming_response_stops_on_disconnect() -> None:
    app = App()
    produced = 0
    closed = anyio.Event()

    async def forever() -> AsyncIterator[bytes]:
        nonlocal produced
        try:
            while True:
                produced += 1
                yield b"tick"
                await anyio.sleep(0)
        finally:
            closed.set()

    @app.post("/ticks")
    async def ticks(request: Request) -> StreamingResponse:
        return StreamingResponse(forever())

    enough = anyio.Event()
    sent: list[Message] = []
    messages = body_messages(b"request body")

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await enough.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if sum(1 for m in sent if m.get("body")) >= 5:
            enough.set()

    with anyio.fail_after(10):
        await app(http_scope(path="/ticks"), receive, send)
    assert closed.is_set()  # the generator's finally ran
    assert sum(1 for m in sent if m.get("body")) >= 5
    assert not any(m.get("more_body") is False for m in sent)  # the body was never completed


@pytest.mark.anyio
@pytest.mark.parametrize("chunks", [[b"unread"], [b"un", b"read", b" body"]])
async def test_streaming_response_to_unread_body(chunks: list[bytes]) -> None:
    app = App()

    @app.post("/")
    async def handler(request: Request) -> StreamingResponse:
        async def numbers() -> AsyncIterator[str]:
            for index in range(3):
                await anyio.sleep(0)
                yield str(index)

        return StreamingResponse(numbers(), media_type="text/plain")

    connection = Connection(body_messages(*chunks), pauses=1)
    await run(app, http_scope(), connection)
    assert connection.status == 200
    assert connection.body == b"012"
    assert connection.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.anyio
async def test_streaming_response_reads_body_then_streams() -> None:
    app = App()

    @app.post("/")
    async def handler(request: Request) -> StreamingResponse:
        body = await request.body()

        async def upper() -> AsyncIterator[bytes]:
            for part in body.split(b" "):
                yield part.upper()

        return StreamingResponse(upper())

    connection = Connection(body_messages(b"a b", b" c"), pauses=1)
    await run(app, http_scope(), connection)
    assert connection.body == b"ABC"


@pytest.mark.anyio
async def test_is_disconnected_inside_a_streaming_echo() -> None:
    app = App()
    checks: list[bool] = []

    @app.post("/")
    async def handler(request: Request) -> StreamingResponse:
        async def echo() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                checks.append(await request.is_disconnected())
                yield chunk

        return StreamingResponse(echo())

    chunks = [bytes([65 + index]) for index in range(20)]
    connection = Connection(body_messages(*chunks), pauses=1)
    await run(app, http_scope(), connection)
    assert connection.body == b"".join(chunks)
    assert checks == [False] * 20


def test_json_response_ends_request_with_unread_body() -> None:
    # The handler answers without reading anything; the body is simply left.
    app = App()

    @app.post("/")
    async def handler(request: Request) -> JSONResponse:
        return JSONResponse({"method": request.method})

    assert TestClient(app).post("/", content=b"x" * 1000).json() == {"method": "POST"}
