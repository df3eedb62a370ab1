"""The Response family (framework/http/responses.py), background tasks (framework/background.py) and
the thread-pool helpers they use (framework/concurrency.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
import pydantic
import pytest

from framework import (
    App,
    BackgroundTask,
    BackgroundTasks,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from framework.concurrency import is_async_callable, iterate_in_threadpool, run_in_threadpool
from framework.datastructures import URL, Headers
from framework.testclient import TestClient
from framework.types import Message


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The hand-driven ASGI tests of this module run on both anyio backends."""
    return str(request.param)


# -- helpers ----------------------------------------------------------------------------------


def http_scope(method: str = "GET", **extra: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
    }
    scope.update(extra)
    return scope


class Sent:
    """What an ASGI response sent, recorded by :func:`call`."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages

    @property
    def start(self) -> Message:
        assert self.messages[0]["type"] == "http.response.start", self.messages
        return self.messages[0]

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def headers(self) -> Headers:
        return Headers(raw=list(self.start["headers"]))

    @property
    def body_messages(self) -> list[Message]:
        return [m for m in self.messages if m["type"] == "http.response.body"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.body_messages)


async def call(
    response: Any, method: str = "GET", log: list[str] | None = None, **scope: Any
) -> Sent:
    """Run ``response`` as an ASGI app against a client that stays connected until the body is
    complete; ``log`` gets a ``"sent ..."`` entry per message."""
    messages: list[Message] = []
    complete = anyio.Event()

    async def receive() -> Message:
        await complete.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)
        if log is not None:
            log.append(f"sent {message['type']}")
        if message["type"] == "http.response.pathsend" or (
            message["type"] == "http.response.body" and not message.get("more_body", False)
        ):
            complete.set()

    with anyio.fail_after(10):
        await response(http_scope(method, **scope), receive, send)
    return Sent(messages)


def client_for(response_factory: Any, **client_options: Any) -> TestClient:
    """A TestClient for an app whose every GET/HEAD/POST on ``/`` answers ``response_factory()``."""
    app = App()

    @app.api_route("/", methods=["GET", "POST"])
    async def endpoint() -> Any:
        return response_factory()

    return TestClient(app, **client_options)


# -- Response basics --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "body"),
    [("text", b"text"), ("é ü", "é ü".encode()), (b"\x00\xff", b"\x00\xff"), (None, b"")],
)
def test_response_body_from_str_bytes_none(content: Any, body: bytes) -> None:
    response = Response(content)
    assert response.body == body
    headers = response.headers
    assert headers["content-length"] == str(len(body))
    assert "content-type" not in headers  # no media type, no guess


def test_response_bytes_like_content() -> None:
    assert Response(memoryview(b"view")).body == b"view"


def test_response_rejects_other_content() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        Response({"a": 1})
    with pytest.raises(TypeError, match="PlainTextResponse"):
        PlainTextResponse(42)


@pytest.mark.parametrize(
    ("cls", "content_type"),
    [
        (PlainTextResponse, "text/plain; charset=utf-8"),
        (HTMLResponse, "text/html; charset=utf-8"),
        (JSONResponse, "application/json"),
    ],
)
def test_response_classes_content_type(cls: type[Response], content_type: str) -> None:
    response = cls("é")
    assert response.headers["content-type"] == content_type
    assert response.headers["content-length"] == str(len(response.body))


def test_response_media_type_argument() -> None:
    assert Response("x", media_type="text/csv").headers["content-type"] == (
        "text/csv; charset=utf-8"
    )
    assert Response("x", media_type="image/svg+xml").headers["content-type"] == "image/svg+xml"
    given = Response("x", media_type="text/html; charset=latin-1")
    assert given.headers.getlist("content-type") == ["text/html; charset=latin-1"]


def test_response_custom_charset() -> None:
    class Latin1Text(PlainTextResponse):
        charset = "latin-1"

    response = Latin1Text("café")
    assert response.body == "café".encode("latin-1")
    assert response.headers["content-type"] == "text/plain; charset=latin-1"
    assert response.headers["content-length"] == "4"


def test_response_custom_headers_kept_and_not_duplicated() -> None:
    response = PlainTextResponse(
        "abc",
        status_code=201,
        headers={"X-Request-Id": "42", "Content-Type": "text/x-custom", "Content-Length": "3"},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "42"
    assert response.headers.getlist("content-type") == ["text/x-custom"]
    assert response.headers.getlist("content-length") == ["3"]


def test_response_headers_are_editable() -> None:
    response = PlainTextResponse("x")
    response.headers["x-extra"] = "1"
    response.headers.append("x-multi", "a")
    response.headers.append("x-multi", "b")
    client = client_for(lambda: response)
    got = client.get("/")
    assert got.headers["x-extra"] == "1"
    assert got.headers.get_list("x-multi") == ["a", "b"]


@pytest.mark.parametrize("status", [204, 304, 100, 101, 199])
def test_no_content_length_without_body(status: int) -> None:
    assert "content-length" not in Response(status_code=status).headers
    assert "content-length" not in Response(status_code=status, headers={"x": "1"}).headers
    assert "content-length" not in PlainTextResponse(status_code=status).headers


def test_empty_200_has_content_length_zero() -> None:
    assert Response().headers["content-length"] == "0"
    assert Response(status_code=404).headers["content-length"] == "0"


@pytest.mark.anyio
async def test_response_messages() -> None:
    sent = await call(PlainTextResponse("hello", status_code=202, headers={"x-a": "1"}))
    assert sent.messages == [
        {
            "type": "http.response.start",
            "status": 202,
            "headers": [
                (b"x-a", b"1"),
                (b"content-length", b"5"),
                (b"content-type", b"text/plain; charset=utf-8"),
            ],
        },
        {"type": "http.response.body", "body": b"hello"},
    ]


@pytest.mark.anyio
async def test_response_head_sends_headers_without_body() -> None:
    sent = await call(PlainTextResponse("hello"), method="HEAD")
    assert sent.status == 200
    assert sent.headers["content-length"] == "5"
    assert sent.body == b""


def test_response_through_test_client() -> None:
    client = client_for(lambda: HTMLResponse("<h1>ü</h1>", headers={"x-frame-options": "DENY"}))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-length"] == str(len("<h1>ü</h1>".encode()))
    assert response.headers["x-frame-options"] == "DENY"
    assert response.text == "<h1>ü</h1>"
    head = client.head("/")
    assert head.headers["content-length"] == response.headers["content-length"]
    assert head.content == b""


# -- JSON -------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


class User(pydantic.BaseModel):
    name: str
    tags: list[str] = []
    joined: dt.date | None = None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"a": 1, "b": [1, 2]}, b'{"a":1,"b":[1,2]}'),
        ([1, "two", None, True, 1.5], b'[1,"two",null,true,1.5]'),
        ("text", b'"text"'),
        (None, b"null"),
        ({"é": "ü 🎉"}, '{"é":"ü 🎉"}'.encode()),
        (User(name="ada", tags=["x"]), b'{"name":"ada","tags":["x"],"joined":null}'),
        (Point(1, 2), b'{"x":1,"y":2}'),
        (dt.datetime(2024, 5, 6, 7, 8, 9), b'"2024-05-06T07:08:09"'),
        (
            dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc),
            b'"2024-05-06T07:08:09Z"',
        ),
        (dt.date(2024, 1, 2), b'"2024-01-02"'),
        (uuid.UUID(int=1), b'"00000000-0000-0000-0000-000000000001"'),
        (decimal.Decimal("1.10"), b'"1.10"'),
        (Color.BLUE, b'"blue"'),
        (Level.LOW, b"1"),
        (
            {"users": [User(name="b", joined=dt.date(2020, 1, 1))], "at": Point(0, 0)},
            b'{"users":[{"name":"b","tags":[],"joined":"2020-01-01"}],"at":{"x":0,"y":0}}',
        ),
    ],
    ids=lambda value: type(value).__name__,
)
def test_json_response_renders(content: Any, expected: bytes) -> None:
    response = JSONResponse(content)
    assert response.body == expected
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(expected))


def test_json_response_unserialisable_raises() -> None:
    with pytest.raises(Exception, match="serialize"):
        JSONResponse({"x": object()})


def test_json_response_through_test_client() -> None:
    client = client_for(lambda: JSONResponse({"name": "Zoë", "n": [1]}, status_code=201))
    response = client.get("/")
    assert response.status_code == 201
    assert response.json() == {"name": "Zoë", "n": [1]}
    assert "Zoë".encode() in response.content  # raw UTF-8, not \u escapes


def test_handler_return_values_are_json() -> None:
    app = App()

    @app.get("/model")
    async def model() -> User:
        return User(name="ada")

    @app.get("/mixed")
    async def mixed() -> Any:
        return {
            "when": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
            "id": uuid.UUID(int=2),
            "price": decimal.Decimal("9.99"),
            "color": Color.RED,
            "point": Point(3, 4),
        }

    client = TestClient(app)
    assert client.get("/model").json() == {"name": "ada", "tags": [], "joined": None}
    assert client.get("/mixed").json() == {
        "when": "2024-01-01T00:00:00Z",
        "id": "00000000-0000-0000-0000-000000000002",
        "price": "9.99",
        "color": "red",
        "point": {"x": 3, "y": 4},
    }


# -- header injection -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\r", "\n", "\r\n", "\0"])
def test_header_injection_raises_at_construction(bad: str) -> None:
    injected = f"{bad}Set-Cookie: evil=1"
    with pytest.raises(ValueError):
        Response("x", headers={"x-a": f"ok{injected}"})
    with pytest.raises(ValueError):
        Response("x", headers={f"x-a{injected}": "ok"})
    with pytest.raises(ValueError):
        Response("x", media_type=f"text/plain{injected}")
    with pytest.raises(ValueError):
        JSONResponse({}, headers={"x": injected})
    with pytest.raises(ValueError):
        StreamingResponse(iter([b""]), headers={"x": injected})
    with pytest.raises(ValueError):
        StreamingResponse(iter([b""]), media_type=f"text/plain{injected}")
    with pytest.raises(ValueError):
        FileResponse(__file__, headers={"x": injected})
    with pytest.raises(ValueError):
        RedirectResponse("/", headers={"x": injected})
    response = Response("x")
    with pytest.raises(ValueError):
        response.headers["x"] = injected
    with pytest.raises(ValueError):
        response.set_cookie("a", "b", domain=f"example.com{injected}")
    assert response.headers.getlist("set-cookie") == []


@pytest.mark.anyio
async def test_file_response_media_type_injection_raises_before_sending(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"x")
    response = FileResponse(path, media_type="text/plain\r\nX-Evil: 1")
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    with pytest.raises(ValueError):
        await response(http_scope(), receive, send)
    assert messages == []


def test_header_injection_in_handler_is_a_plain_500() -> None:
    def build() -> Response:
        return PlainTextResponse("x", headers={"x-a": "1\r\nX-Evil: 1"})

    client = client_for(build, raise_server_exceptions=False)
    response = client.get("/")
    assert response.status_code == 500
    assert "x-evil" not in response.headers
    assert response.text == "Internal Server Error"


def test_redirect_location_with_crlf_is_quoted() -> None:
    response = RedirectResponse("/next\r\nSet-Cookie: evil=1")
    assert response.headers["location"] == "/next%0D%0ASet-Cookie:%20evil=1"
    assert "set-cookie" not in response.headers


# -- cookies ----------------------------------------------------------------------------------


def test_set_cookie_defaults() -> None:
    response = Response()
    response.set_cookie("session", "abc")
    assert response.headers.getlist("set-cookie") == ["session=abc; Path=/; SameSite=lax"]


def test_set_cookie_every_attribute() -> None:
    response = Response()
    response.set_cookie(
        "id",
        "v1",
        max_age=3600,
        expires=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="strict",
        partitioned=True,
    )
    (cookie,) = response.headers.getlist("set-cookie")
    parts = cookie.split("; ")
    assert parts[0] == "id=v1"
    assert set(parts[1:]) == {
        "Domain=example.com",
        "expires=Wed, 02 Jan 2030 03:04:05 GMT",
        "HttpOnly",
        "Max-Age=3600",
        "Path=/app",
        "SameSite=strict",
        "Secure",
        "Partitioned",
    }


def test_set_cookie_expires_datetime_in_other_zone_is_sent_in_gmt() -> None:
    response = Response()
    plus_two = dt.timezone(dt.timedelta(hours=2))
    response.set_cookie("a", "b", expires=dt.datetime(2030, 1, 1, 2, 0, tzinfo=plus_two))
    assert "expires=Tue, 01 Jan 2030 00:00:00 GMT" in response.headers["set-cookie"]


def test_set_cookie_expires_seconds_from_now() -> None:
    response = Response()
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    response.set_cookie("a", "b", expires=3600)
    after = dt.datetime.now(dt.timezone.utc)
    text = response.headers["set-cookie"]
    expires = next(p for p in text.split("; ") if p.startswith("expires="))[len("expires=") :]
    when = parsedate_to_datetime(expires)
    assert before + dt.timedelta(seconds=3600) <= when <= after + dt.timedelta(seconds=3600)


def test_set_cookie_expires_string_passes_through() -> None:
    response = Response()
    response.set_cookie("a", "b", expires="Thu, 01 Jan 2037 00:00:00 GMT")
    assert "expires=Thu, 01 Jan 2037 00:00:00 GMT" in response.headers["set-cookie"]


@pytest.mark.parametrize("samesite", ["lax", "strict", "none", "Lax", "STRICT"])
def test_set_cookie_samesite_values(samesite: Any) -> None:
    response = Response()
    response.set_cookie("a", "b", samesite=samesite)
    assert f"SameSite={samesite}" in response.headers["set-cookie"]


def test_set_cookie_without_samesite_or_path() -> None:
    response = Response()
    response.set_cookie("a", "b", samesite=None, path=None)
    assert response.headers["set-cookie"] == "a=b"


def test_set_cookie_invalid_samesite() -> None:
    response = Response()
    with pytest.raises(ValueError, match="samesite"):
        response.set_cookie("a", "b", samesite="sometimes")  # type: ignore[arg-type]
    assert "set-cookie" not in response.headers


def test_set_cookie_value_needing_quotes() -> None:
    response = Response()
    response.set_cookie("a", "x y;z")
    value = response.headers["set-cookie"].split("; ")[0]
    assert value == 'a="x y\\073z"'


def test_multiple_set_cookie_headers_reach_the_client() -> None:
    def build() -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("first", "1")
        response.set_cookie("second", "2", httponly=True)
        response.delete_cookie("old")
        return response

    client = client_for(build)
    response = client.get("/")
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 3
    assert cookies[0] == "first=1; Path=/; SameSite=lax"
    assert cookies[1] == "second=2; HttpOnly; Path=/; SameSite=lax"
    assert cookies[2].startswith('old=""; ')
    assert client.cookies.get("first") == "1"
    assert client.cookies.get("second") == "2"
    assert "old" not in client.cookies


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", domain="example.com", secure=True)
    text = response.headers["set-cookie"]
    parts = text.split("; ")
    assert parts[0] == 'session=""'
    assert "Max-Age=0" in parts
    assert "Path=/app" in parts
    assert "Domain=example.com" in parts
    assert "Secure" in parts
    expires = next(p for p in parts if p.startswith("expires="))[len("expires=") :]
    assert parsedate_to_datetime(expires) <= dt.datetime.now(dt.timezone.utc)


def test_delete_cookie_removes_it_from_the_client() -> None:
    app = App()

    @app.get("/login")
    async def login() -> Response:
        response = PlainTextResponse("in")
        response.set_cookie("session", "abc")
        return response

    @app.get("/logout")
    async def logout() -> Response:
        response = PlainTextResponse("out")
        response.delete_cookie("session")
        return response

    client = TestClient(app)
    client.get("/login")
    assert client.cookies.get("session") == "abc"
    client.get("/logout")
    assert client.cookies.get("session") is None


# -- redirects --------------------------------------------------------------------------------


def test_redirect_default_is_307() -> None:
    response = RedirectResponse("/target")
    assert response.status_code == 307
    assert response.headers["location"] == "/target"
    assert response.body == b""
    assert response.headers["content-length"] == "0"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_status_codes(status: int) -> None:
    app = App()

    @app.get("/old")
    async def old() -> RedirectResponse:
        return RedirectResponse("/new?x=1", status_code=status)

    @app.get("/new")
    async def new() -> dict[str, str]:
        return {"page": "new"}

    client = TestClient(app, follow_redirects=False)
    response = client.get("/old")
    assert response.status_code == status
    assert response.headers["location"] == "/new?x=1"
    assert TestClient(app).get("/old").json() == {"page": "new"}


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/a b/ü?q=x y#frag", "/a%20b/%C3%BC?q=x%20y#frag"),
        ("https://example.com/path?a=1&b=2", "https://example.com/path?a=1&b=2"),
        ("https://example.com/already%20quoted", "https://example.com/already%20quoted"),
        ("https://user@[::1]:8080/p;x=1!$'()*+,~", "https://user@[::1]:8080/p;x=1!$'()*+,~"),
        ("/<script>", "/%3Cscript%3E"),
    ],
)
def test_redirect_location_quoting(target: str, location: str) -> None:
    assert RedirectResponse(target).headers["location"] == location


def test_redirect_accepts_url_and_headers() -> None:
    response = RedirectResponse(URL("http://example.com/x"), headers={"x-a": "1"})
    assert response.headers["location"] == "http://example.com/x"
    assert response.headers["x-a"] == "1"


# -- StreamingResponse ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_streaming_async_iterator_of_str_and_bytes() -> None:
    async def generate() -> AsyncIterator[str | bytes]:
        yield "é"
        yield b"\x00bytes"
        yield ""
        yield "end"

    sent = await call(StreamingResponse(generate(), media_type="text/plain"))
    assert sent.status == 200
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in sent.headers
    assert [m["body"] for m in sent.body_messages] == ["é".encode(), b"\x00bytes", b"", b"end", b""]
    assert [m["more_body"] for m in sent.body_messages] == [True, True, True, True, False]


@pytest.mark.anyio
async def test_streaming_sync_iterator_runs_in_worker_thread() -> None:
    threads: list[int] = []

    def generate() -> Iterator[str]:
        for part in ("a", "b", "c"):
            threads.append(threading.get_ident())
            yield part

    sent = await call(StreamingResponse(generate()))
    assert sent.body == b"abc"
    assert threads
    assert threading.get_ident() not in threads


@pytest.mark.anyio
async def test_streaming_plain_list() -> None:
    sent = await call(StreamingResponse([b"1", "2", b"3"], status_code=206, headers={"x": "y"}))
    assert sent.status == 206
    assert sent.headers["x"] == "y"
    assert sent.body == b"123"


@pytest.mark.anyio
async def test_streaming_keeps_given_content_length() -> None:
    sent = await call(StreamingResponse([b"abc"], headers={"content-length": "3"}))
    assert sent.headers.getlist("content-length") == ["3"]


@pytest.mark.anyio
async def test_streaming_head_sends_no_body_and_does_not_iterate() -> None:
    started: list[bool] = []

    async def generate() -> AsyncIterator[bytes]:
        started.append(True)
        yield b"body"

    sent = await call(StreamingResponse(generate(), media_type="text/plain"), method="HEAD")
    assert sent.status == 200
    assert sent.headers["content-type"] == "text/plain; charset=utf-8"
    assert sent.body == b""
    assert started == []


@pytest.mark.anyio
async def test_streaming_background_runs_after_the_body() -> None:
    log: list[str] = []

    async def generate() -> AsyncIterator[bytes]:
        log.append("generate")
        yield b"x"

    async def task() -> None:
        log.append("task")

    await call(StreamingResponse(generate(), background=BackgroundTask(task)), log=log)
    assert log == [
        "sent http.response.start",
        "generate",
        "sent http.response.body",
        "sent http.response.body",
        "task",
    ]


@pytest.mark.anyio
async def test_streaming_stops_and_closes_iterator_on_disconnect() -> None:
    closed = anyio.Event()
    sent: list[Message] = []

    async def forever() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"."
                await anyio.sleep(0)
        finally:
            closed.set()

    async def receive() -> Message:
        while len(sent) < 4:
            await anyio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(10):
        await StreamingResponse(forever())(http_scope(), receive, send)
    assert closed.is_set()
    assert len(sent) >= 4
    assert all(m.get("more_body", True) for m in sent[1:])  # the body was never completed


@pytest.mark.anyio
async def test_streaming_ignores_request_messages_while_watching() -> None:
    queue = [
        {"type": "http.request", "body": b"ignored", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": False},
    ]
    done = anyio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("more_body") is False:
            done.set()

    async def generate() -> AsyncIterator[bytes]:
        for part in (b"a", b"b"):
            await anyio.sleep(0)
            yield part

    with anyio.fail_after(10):
        await StreamingResponse(generate())(http_scope("POST"), receive, send)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"ab"


@pytest.mark.anyio
async def test_streaming_stops_quietly_when_send_fails() -> None:
    closed: list[bool] = []

    async def generate() -> AsyncIterator[bytes]:
        try:
            for _ in range(100):
                yield b"x"
        finally:
            closed.append(True)

    sent: list[Message] = []

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and len(sent) >= 3:
            raise OSError("connection lost")
        sent.append(message)

    with anyio.fail_after(10):
        await StreamingResponse(generate())(http_scope(), receive, send)
    assert len(sent) == 3
    assert closed == [True]


@pytest.mark.anyio
async def test_streaming_iterator_error_propagates_unwrapped() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first"
        raise LookupError("iterator failed")

    with pytest.raises(LookupError, match="iterator failed"):
        await call(StreamingResponse(broken()))


def test_streaming_through_test_client() -> None:
    def build() -> StreamingResponse:
        async def numbers() -> AsyncIterator[str]:
            for index in range(5):
                yield f"{index}\n"

        return StreamingResponse(numbers(), media_type="text/plain")

    client = client_for(build)
    response = client.get("/")
    assert response.text == "0\n1\n2\n3\n4\n"
    assert "content-length" not in response.headers
    head = client.head("/")
    assert head.status_code == 200
    assert head.content == b""


# -- FileResponse -----------------------------------------------------------------------------


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello, file\n")
    return path


def expected_etag(path: Path) -> str:
    result = os.stat(path)
    digest = hashlib.md5(f"{result.st_mtime}-{result.st_size}".encode(), usedforsecurity=False)
    return f'"{digest.hexdigest()}"'


@pytest.mark.anyio
async def test_file_response_headers_and_body(text_file: Path) -> None:
    sent = await call(FileResponse(text_file))
    assert sent.status == 200
    headers = sent.headers
    assert headers["content-length"] == "12"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    modified = parsedate_to_datetime(headers["last-modified"])
    assert int(modified.timestamp()) == int(os.stat(text_file).st_mtime)
    assert headers["etag"] == expected_etag(text_file)
    assert "content-disposition" not in headers
    assert sent.body == b"hello, file\n"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("data.json", "application/json"),
        ("page.html", "text/html; charset=utf-8"),
        ("image.png", "image/png"),
        ("archive.unknownext", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_file_response_content_type_from_extension(
    tmp_path: Path, name: str, content_type: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"{}")
    response = client_for(lambda: FileResponse(path)).get("/")
    assert response.headers["content-type"] == content_type


def test_file_response_explicit_media_type(text_file: Path) -> None:
    response = client_for(lambda: FileResponse(text_file, media_type="application/x-custom")).get(
        "/"
    )
    assert response.headers["content-type"] == "application/x-custom"


def test_file_response_media_type_from_filename(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"%PDF")
    response = client_for(lambda: FileResponse(path, filename="report.pdf")).get("/")
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    assert response.content == b"%PDF"


@pytest.mark.parametrize(
    ("filename", "disposition"),
    [
        ("résumé.txt", "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"),
        ("my file.txt", "attachment; filename*=utf-8''my%20file.txt"),
        ('quote".txt', "attachment; filename*=utf-8''quote%22.txt"),
        ("evil\r\nx: y", "attachment; filename*=utf-8''evil%0D%0Ax%3A%20y"),
    ],
)
def test_file_response_filename_needing_quotes(
    text_file: Path, filename: str, disposition: str
) -> None:
    response = FileResponse(text_file, filename=filename)
    assert response.headers["content-disposition"] == disposition


def test_file_response_inline_disposition_and_own_header(text_file: Path) -> None:
    inline = FileResponse(text_file, filename="a.txt", content_disposition_type="inline")
    assert inline.headers["content-disposition"] == 'inline; filename="a.txt"'
    own = FileResponse(text_file, filename="a.txt", headers={"content-disposition": "inline"})
    assert own.headers.getlist("content-disposition") == ["inline"]


@pytest.mark.anyio
async def test_file_response_head_has_headers_no_body(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), method="HEAD")
    assert sent.headers["content-length"] == "12"
    assert sent.body == b""


@pytest.mark.anyio
@pytest.mark.parametrize("size", [64 * 1024, 200 * 1024 + 17, 0])
async def test_file_response_large_file_in_chunks(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sent = await call(FileResponse(path))
    assert sent.headers["content-length"] == str(size)
    assert sent.body == data
    chunks = sent.body_messages
    assert all(len(m["body"]) <= FileResponse.chunk_size for m in chunks)
    assert [m["more_body"] for m in chunks] == [True] * (len(chunks) - 1) + [False]
    if size > FileResponse.chunk_size:
        assert len(chunks) > 1


def test_file_response_large_file_through_test_client(tmp_path: Path) -> None:
    data = os.urandom(300 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    response = client_for(lambda: FileResponse(path)).get("/")
    assert response.content == data


@pytest.mark.anyio
async def test_file_response_uses_pathsend_when_offered(text_file: Path) -> None:
    sent = await call(FileResponse(text_file), extensions={"http.response.pathsend": {}})
    assert sent.headers["content-length"] == "12"
    assert sent.messages[1:] == [{"type": "http.response.pathsend", "path": str(text_file)}]


@pytest.mark.anyio
async def test_file_response_head_ignores_pathsend(text_file: Path) -> None:
    sent = await call(
        FileResponse(text_file), method="HEAD", extensions={"http.response.pathsend": {}}
    )
    assert sent.messages[1:] == [{"type": "http.response.body", "body": b""}]


@pytest.mark.anyio
async def test_file_response_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        await call(FileResponse(tmp_path / "missing.txt"))


@pytest.mark.anyio
async def test_file_response_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="is not a file"):
        await call(FileResponse(tmp_path))


def test_file_response_missing_file_is_500(tmp_path: Path) -> None:
    client = client_for(
        lambda: FileResponse(tmp_path / "missing.txt"), raise_server_exceptions=False
    )
    response = client.get("/")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_file_response_with_stat_result(text_file: Path) -> None:
    response = FileResponse(text_file, stat_result=os.stat(text_file))
    # Headers are known before the response is called.
    assert response.headers["content-length"] == "12"
    assert response.headers["etag"] == expected_etag(text_file)
    assert client_for(lambda: response).get("/").content == b"hello, file\n"


@pytest.mark.anyio
async def test_file_response_background_after_body(text_file: Path) -> None:
    log: list[str] = []
    await call(FileResponse(text_file, background=BackgroundTask(log.append, "task")), log=log)
    assert log == ["sent http.response.start", "sent http.response.body", "task"]


# -- background tasks -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_background_task_runs_after_the_body() -> None:
    log: list[str] = []

    async def task(name: str, *, suffix: str) -> None:
        log.append(f"{name}{suffix}")

    response = JSONResponse({"ok": True}, background=BackgroundTask(task, "task", suffix="!"))
    await call(response, log=log)
    assert log == ["sent http.response.start", "sent http.response.body", "task!"]


def test_background_task_through_an_app() -> None:
    app = App()
    done: list[str] = []

    @app.post("/signup")
    async def signup() -> JSONResponse:
        return JSONResponse(
            {"queued": True}, background=BackgroundTask(done.append, "welcome e-mail")
        )

    response = TestClient(app).post("/signup")
    assert response.json() == {"queued": True}
    assert done == ["welcome e-mail"]


@pytest.mark.anyio
async def test_sync_background_task_runs_in_worker_thread() -> None:
    threads: list[int] = []
    await BackgroundTask(lambda: threads.append(threading.get_ident()))()
    assert threads
    assert threads[0] != threading.get_ident()


@pytest.mark.anyio
async def test_background_tasks_run_in_order_and_survive_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []

    async def first() -> None:
        log.append("first")

    def failing() -> None:
        log.append("failing")
        raise RuntimeError("mail server down")

    async def failing_async() -> None:
        log.append("failing async")
        raise ValueError("also down")

    def last(value: str, *, extra: str) -> None:
        log.append(f"last {value} {extra}")

    tasks = BackgroundTasks([BackgroundTask(first)])
    tasks.add_task(failing)
    tasks.add_task(failing_async)
    tasks.add_task(last, "a", extra="b")
    with caplog.at_level(logging.ERROR, logger="framework.background"):
        await call(PlainTextResponse("ok", background=tasks), log=log)
    assert log == [
        "sent http.response.start",
        "sent http.response.body",
        "first",
        "failing",
        "failing async",
        "last a b",
    ]
    failures = [r for r in caplog.records if r.name == "framework.background"]
    assert len(failures) == 2
    assert "failing" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert isinstance(failures[0].exc_info[1], RuntimeError)
    assert isinstance(failures[1].exc_info[1], ValueError)  # type: ignore[index]


def test_background_tasks_empty_and_through_an_app() -> None:
    app = App()
    log: list[int] = []

    @app.get("/")
    async def endpoint() -> PlainTextResponse:
        tasks = BackgroundTasks()
        for index in range(3):
            tasks.add_task(log.append, index)
        return PlainTextResponse("ok", background=tasks)

    client = TestClient(app)
    assert client.get("/").text == "ok"
    assert log == [0, 1, 2]
    assert BackgroundTasks().tasks == []


# -- concurrency ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_run_in_threadpool_runs_in_another_thread() -> None:
    def work(a: int, b: int, *, scale: int = 1) -> tuple[int, int]:
        return (a + b) * scale, threading.get_ident()

    result, thread = await run_in_threadpool(work, 1, 2)
    assert result == 3
    assert thread != threading.get_ident()
    result, thread = await run_in_threadpool(work, 1, 2, scale=10)
    assert result == 30
    assert thread != threading.get_ident()


@pytest.mark.anyio
async def test_run_in_threadpool_propagates_exceptions() -> None:
    def fail() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        await run_in_threadpool(fail)


@pytest.mark.anyio
async def test_iterate_in_threadpool() -> None:
    threads: set[int] = set()

    def numbers() -> Iterator[int]:
        for index in range(5):
            threads.add(threading.get_ident())
            yield index

    assert [n async for n in iterate_in_threadpool(numbers())] == [0, 1, 2, 3, 4]
    assert threading.get_ident() not in threads
    assert [n async for n in iterate_in_threadpool([])] == []
    assert [c async for c in iterate_in_threadpool("ab")] == ["a", "b"]


@pytest.mark.anyio
async def test_iterate_in_threadpool_propagates_errors() -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise ValueError("broken iterator")

    received = []
    with pytest.raises(ValueError, match="broken iterator"):
        async for item in iterate_in_threadpool(broken()):
            received.append(item)
    assert received == [1]


async def _async_function(x: int) -> int:
    return x


def _sync_function(x: int) -> int:
    return x


class _AsyncCallable:
    async def __call__(self, x: int) -> int:
        return x


class _SyncCallable:
    def __call__(self, x: int) -> int:
        return x


class _WithMethods:
    async def async_method(self) -> None:
        pass

    def sync_method(self) -> None:
        pass


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_async_function, True),
        (_sync_function, False),
        (functools.partial(_async_function, 1), True),
        (functools.partial(functools.partial(_async_function), 1), True),
        (functools.partial(_sync_function, 1), False),
        (_AsyncCallable(), True),
        (_SyncCallable(), False),
        (functools.partial(_AsyncCallable(), 1), True),
        (_WithMethods().async_method, True),
        (_WithMethods().sync_method, False),
        (lambda: None, False),
        (print, False),
        (42, False),
        (None, False),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_is_async_callable(obj: Any, expected: bool) -> None:
    assert is_async_callable(obj) is expected
