"""Server-sent events (framework/sse.py): the wire format of ServerSentEvent, EventSourceResponse
through the TestClient and at the ASGI level, and a real uvicorn stream the client abandons.

The module also holds ``server_app``, which the uvicorn test serves (``test_sse:server_app``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pydantic
import pytest

from framework import App, Request
from framework.sse import DEFAULT_PING_INTERVAL, EventSourceResponse, ServerSentEvent
from framework.testclient import TestClient
from framework.types import Message

HERE = Path(__file__).resolve().parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def parse_stream(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Events and comments of an event stream, read as the HTML standard tells browsers to.

    Each event is a dict of the fields it set (``data`` joined with newlines); ``id`` is the
    last event id in effect when it was dispatched.
    """
    events: list[dict[str, str]] = []
    comments: list[str] = []
    fields: dict[str, str] = {}
    data: list[str] = []
    last_id: str | None = None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data or fields:
                event = dict(fields)
                if data:
                    event["data"] = "\n".join(data)
                if last_id is not None:
                    event["id"] = last_id
                events.append(event)
            fields, data = {}, []
            continue
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
            fields["id"] = value
        elif name in ("event", "retry"):
            fields[name] = value
    return events, comments


# -- the wire format ------------------------------------------------------------------------------


def test_event_with_data_only() -> None:
    assert ServerSentEvent("hello").encode() == b"data: hello\r\n\r\n"


def test_event_with_every_field_in_order() -> None:
    event = ServerSentEvent("payload", event="update", id="7", retry=2500, comment="note")
    assert event.encode() == (
        b": note\r\nid: 7\r\nevent: update\r\ndata: payload\r\nretry: 2500\r\n\r\n"
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_multiline_data_becomes_one_data_line_per_line(newline: str) -> None:
    event = ServerSentEvent(f"one{newline}two{newline}{newline}four{newline}")
    encoded = event.encode()
    assert encoded == b"data: one\r\ndata: two\r\ndata: \r\ndata: four\r\ndata: \r\n\r\n"
    events, _ = parse_stream(encoded.decode())
    assert events == [{"data": "one\ntwo\n\nfour\n"}]


def test_data_cannot_start_a_new_event_or_field() -> None:
    hostile = "x\n\nevent: admin\ndata: injected\nid: 666"
    events, _ = parse_stream(ServerSentEvent(hostile, event="chat").encode().decode())
    assert events == [{"event": "chat", "data": hostile}]


def test_multiline_comment_stays_comment() -> None:
    encoded = ServerSentEvent(comment="first\ndata: not data\r\nthird").encode()
    assert encoded == b": first\r\n: data: not data\r\n: third\r\n\r\n"
    events, comments = parse_stream(encoded.decode())
    assert events == []
    assert comments == ["first", "data: not data", "third"]


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "end\n"])
def test_line_breaks_in_event_or_id_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent("x", event=bad)
    with pytest.raises(ValueError, match="single line"):
        ServerSentEvent("x", id=bad)


def test_nul_in_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="NUL"):
        ServerSentEvent("x", id="a\0b")


def test_integer_id_and_empty_id() -> None:
    assert ServerSentEvent("x", id=42).encode() == b"id: 42\r\ndata: x\r\n\r\n"
    # An empty id resets the browser's last event id; it is sent, not dropped.
    assert ServerSentEvent("x", id="").encode() == b"id: \r\ndata: x\r\n\r\n"


@pytest.mark.parametrize("retry", ["100", 1.5, True])
def test_retry_must_be_an_int(retry: Any) -> None:
    with pytest.raises(TypeError, match="retry"):
        ServerSentEvent("x", retry=retry)


def test_retry_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="retry"):
        ServerSentEvent("x", retry=-1)


def test_separators() -> None:
    assert (
        ServerSentEvent("a\nb", event="e", sep="\n").encode() == b"event: e\ndata: a\ndata: b\n\n"
    )
    assert ServerSentEvent("a", sep="\r").encode() == b"data: a\r\r"
    with pytest.raises(ValueError, match="sep"):
        ServerSentEvent("a", sep="\n\n")
    with pytest.raises(ValueError, match="sep"):
        EventSourceResponse(iter([]), sep=";")


class Point(pydantic.BaseModel):
    x: int
    y: int


@dataclasses.dataclass
class Reading:
    sensor: str
    at: dt.datetime


def test_non_string_data_is_sent_as_json() -> None:
    assert ServerSentEvent({"a": [1, None, True]}).encode() == b'data: {"a":[1,null,true]}\r\n\r\n'
    assert ServerSentEvent(Point(x=1, y=2)).encode() == b'data: {"x":1,"y":2}\r\n\r\n'
    reading = Reading("t1", dt.datetime(2030, 1, 2, 3, 4, 5))
    assert ServerSentEvent(reading).encode() == (
        b'data: {"sensor":"t1","at":"2030-01-02T03:04:05"}\r\n\r\n'
    )
    assert ServerSentEvent(0).encode() == b"data: 0\r\n\r\n"
    # A JSON string holding a newline stays on one line (the newline is escaped).
    assert ServerSentEvent(["a\nb"]).encode() == b'data: ["a\\nb"]\r\n\r\n'


def test_bytes_data_is_decoded_and_none_sends_no_data() -> None:
    assert ServerSentEvent(b"caf\xc3\xa9").encode() == "data: café\r\n\r\n".encode()
    assert ServerSentEvent(event="ping").encode() == b"event: ping\r\n\r\n"
    assert ServerSentEvent("").encode() == b"data: \r\n\r\n"


def test_repr_names_the_fields_set() -> None:
    assert repr(ServerSentEvent("x", event="e")) == "ServerSentEvent(data='x', event='e')"


# -- EventSourceResponse through the TestClient -------------------------------------------------


def sse_client(build: Any, **client_options: Any) -> TestClient:
    app = App()
    app.add_api_route("/events", build, methods=["GET", "POST"])
    return TestClient(app, **client_options)


def test_items_of_every_kind_become_events() -> None:
    async def generate() -> AsyncIterator[Any]:
        yield "plain text"
        yield ServerSentEvent("typed", event="update", id="1")
        yield {"data": "from a dict", "event": "dict", "retry": 3000}
        yield Point(x=3, y=4)
        yield b": raw bytes are sent as they are\r\n\r\n"
        yield "two\nlines"

    def endpoint() -> EventSourceResponse:
        return EventSourceResponse(generate())

    response = sse_client(endpoint).get("/events")
    assert response.status_code == 200
    events, comments = parse_stream(response.text)
    assert events == [
        {"data": "plain text"},
        {"event": "update", "id": "1", "data": "typed"},
        {"event": "dict", "retry": "3000", "data": "from a dict", "id": "1"},
        {"data": '{"x":3,"y":4}', "id": "1"},
        {"data": "two\nlines", "id": "1"},
    ]
    assert comments == ["raw bytes are sent as they are"]
    assert response.text.startswith("data: plain text\r\n\r\nid: 1\r\nevent: update\r\n")


def test_headers_of_an_event_stream() -> None:
    async def generate() -> AsyncIterator[str]:
        yield "x"

    response = sse_client(lambda: EventSourceResponse(generate())).get("/events")
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["connection"] == "keep-alive"
    assert "content-length" not in response.headers


def test_given_headers_win_over_the_defaults() -> None:
    async def generate() -> AsyncIterator[str]:
        yield "x"

    def endpoint() -> EventSourceResponse:
        return EventSourceResponse(
            generate(),
            status_code=201,
            headers={"cache-control": "no-cache", "X-Extra": "1"},
        )

    response = sse_client(endpoint).get("/events")
    assert response.status_code == 201
    assert response.headers.get_list("cache-control") == ["no-cache"]
    assert response.headers["x-extra"] == "1"
    assert response.headers["x-accel-buffering"] == "no"


def test_sync_generator_and_response_separator() -> None:
    def generate() -> Iterator[Any]:
        yield "a"
        yield ServerSentEvent("b", sep="\r\n")  # an event's own separator wins
        yield {"event": "c", "data": "c"}

    response = sse_client(lambda: EventSourceResponse(generate(), sep="\n")).get("/events")
    assert response.content == b"data: a\n\ndata: b\r\n\r\nevent: c\ndata: c\n\n"


def test_post_request_with_a_body_streams_events() -> None:
    async def endpoint(request: Request) -> EventSourceResponse:
        words = (await request.body()).decode().split()

        async def generate() -> AsyncIterator[ServerSentEvent]:
            for index, word in enumerate(words):
                yield ServerSentEvent(word, id=str(index))

        return EventSourceResponse(generate())

    response = sse_client(endpoint).post("/events", content=b"alpha beta gamma")
    events, _ = parse_stream(response.text)
    assert [event["data"] for event in events] == ["alpha", "beta", "gamma"]
    assert [event["id"] for event in events] == ["0", "1", "2"]


def test_last_event_id_lets_a_client_resume() -> None:
    async def endpoint(request: Request) -> EventSourceResponse:
        start = int(request.headers.get("last-event-id", "-1")) + 1

        async def generate() -> AsyncIterator[ServerSentEvent]:
            for number in range(start, 5):
                yield ServerSentEvent(str(number), id=str(number))

        return EventSourceResponse(generate())

    client = sse_client(endpoint)
    events, _ = parse_stream(client.get("/events", headers={"Last-Event-ID": "2"}).text)
    assert [event["data"] for event in events] == ["3", "4"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ping_is_sent_while_the_generator_waits(backend: str) -> None:
    pinged = 0

    def ping_message() -> ServerSentEvent:
        nonlocal pinged
        pinged += 1
        return ServerSentEvent(comment=f"keep-alive {pinged}", event="ping")

    async def generate() -> AsyncIterator[str]:
        yield "before"
        with anyio.fail_after(5):  # the ping task runs on its own; wait until it did
            while pinged < 2:
                await anyio.sleep(0.005)
        yield "after"

    def endpoint() -> EventSourceResponse:
        return EventSourceResponse(generate(), ping=0.01, ping_message_factory=ping_message)

    response = sse_client(endpoint, backend=backend).get("/events")
    events, comments = parse_stream(response.text)
    assert events[0] == {"data": "before"}
    assert events[-1] == {"data": "after"}
    # The pings came between the two events; a ping sent while "after" was on its way may
    # follow it, but no ping is sent after the stream's last message.
    assert len(comments) >= 2
    assert comments == [f"keep-alive {n}" for n in range(1, len(comments) + 1)]
    assert response.text.index("keep-alive 2") < response.text.index("data: after")


def test_ping_zero_sends_no_pings() -> None:
    async def generate() -> AsyncIterator[str]:
        yield "a"
        await anyio.sleep(0.05)
        yield "b"

    response = sse_client(lambda: EventSourceResponse(generate(), ping=0)).get("/events")
    assert response.content == b"data: a\r\n\r\ndata: b\r\n\r\n"


def test_default_ping_interval() -> None:
    response = EventSourceResponse(iter(["x"]))
    assert response.ping_interval == DEFAULT_PING_INTERVAL == 15


def test_generator_error_is_raised_as_it_is() -> None:
    async def generate() -> AsyncIterator[str]:
        yield "first"
        raise LookupError("no more")

    client = sse_client(lambda: EventSourceResponse(generate(), ping=0.001))
    with pytest.raises(LookupError, match="no more"):
        client.get("/events")


def test_dict_with_an_unknown_field_is_an_error() -> None:
    async def generate() -> AsyncIterator[dict[str, str]]:
        yield {"data": "x", "colour": "red"}

    client = sse_client(lambda: EventSourceResponse(generate()))
    with pytest.raises(TypeError, match="colour"):
        client.get("/events")


def test_event_with_injected_line_break_fails_before_it_is_sent() -> None:
    async def generate() -> AsyncIterator[dict[str, str]]:
        yield {"data": "ok"}
        yield {"data": "x", "event": "chat\ndata: injected"}

    client = sse_client(lambda: EventSourceResponse(generate()), raise_server_exceptions=False)
    response = client.get("/events")
    # The stream had started: the client gets what was sent before the error, nothing else.
    assert response.status_code == 200
    assert b"injected" not in response.content
    assert response.content == b"data: ok\r\n\r\n"


def test_head_sends_headers_and_closes_the_generator() -> None:
    state = {"started": False, "closed": False}

    async def generate() -> AsyncIterator[str]:
        state["started"] = True
        try:
            yield "x"
        finally:
            state["closed"] = True

    response = sse_client(lambda: EventSourceResponse(generate())).head("/events")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    # A HEAD answer has no body: the generator is closed before it ever ran.
    assert state == {"started": False, "closed": False}


# -- at the ASGI level: disconnects and stalled clients -------------------------------------------


def http_scope(method: str = "GET") -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/events",
        "raw_path": b"/events",
        "query_string": b"",
        "headers": [],
        "root_path": "",
    }


@pytest.mark.anyio
async def test_disconnect_closes_an_endless_generator() -> None:
    sent: list[Message] = []
    disconnected = anyio.Event()
    closed = anyio.Event()

    async def generate() -> AsyncIterator[ServerSentEvent]:
        number = 0
        try:
            while True:
                yield ServerSentEvent(str(number), id=str(number))
                number += 1
                await anyio.sleep(0.001)
        finally:
            closed.set()

    async def receive() -> Message:
        await disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) == 6:
            disconnected.set()

    response = EventSourceResponse(generate(), ping=0.001)
    with anyio.fail_after(5):
        await response(http_scope(), receive, send)
    assert closed.is_set()
    assert sent[0]["type"] == "http.response.start"
    bodies = [message["body"] for message in sent[1:]]
    events, _ = parse_stream(b"".join(bodies).decode())
    numbers = [event["data"] for event in events]
    assert len(numbers) >= 3
    assert numbers == [str(n) for n in range(len(numbers))]
    # The stream was cut, not finished: no final message (more_body false) was sent.
    assert all(message["more_body"] for message in sent[1:])


@pytest.mark.anyio
async def test_generator_asking_is_disconnected_stops_itself() -> None:
    # The pattern from sse-starlette's docs: the generator polls the request. The response's
    # own disconnect watcher is given a channel that never reports one, so the generator alone
    # notices here.
    sent: list[Message] = []
    messages: list[Message] = [{"type": "http.request", "body": b"", "more_body": False}]
    left = False

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if left:
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def never() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    request = Request(http_scope(), receive)

    async def generate() -> AsyncIterator[str]:
        nonlocal left
        for number in range(1000):
            if await request.is_disconnected():
                yield "bye"
                return
            yield str(number)
            left = number == 2

    async def send(message: Message) -> None:
        sent.append(message)

    with anyio.fail_after(5):
        await EventSourceResponse(generate(), ping=0)(http_scope(), never, send)
    events, _ = parse_stream(b"".join(m["body"] for m in sent[1:]).decode())
    assert [event["data"] for event in events] == ["0", "1", "2", "bye"]
    assert sent[-1]["more_body"] is False


@pytest.mark.anyio
async def test_send_timeout_ends_a_stalled_stream() -> None:
    sent: list[Message] = []
    closed = anyio.Event()

    async def generate() -> AsyncIterator[str]:
        try:
            for number in range(100):
                yield str(number)
        finally:
            closed.set()

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if len(sent) == 3:
            await anyio.sleep_forever()  # the client stopped reading
        sent.append(message)

    response = EventSourceResponse(generate(), ping=0, send_timeout=0.05)
    with anyio.fail_after(5):
        await response(http_scope(), receive, send)
    assert closed.is_set()
    assert [m["body"] for m in sent[1:]] == [b"data: 0\r\n\r\n", b"data: 1\r\n\r\n"]


@pytest.mark.anyio
async def test_server_raising_oserror_on_send_ends_the_stream() -> None:
    sent: list[Message] = []
    closed = anyio.Event()

    async def generate() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick"
                await anyio.sleep(0)
        finally:
            closed.set()

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if len(sent) == 4:
            raise OSError("client gone")  # what ASGI 2.4 servers do
        sent.append(message)

    with anyio.fail_after(5):
        await EventSourceResponse(generate(), ping=0.001)(http_scope(), receive, send)
    assert closed.is_set()
    assert len(sent) == 4


@pytest.mark.anyio
async def test_default_ping_is_a_timestamped_comment() -> None:
    sent: list[Message] = []

    async def generate() -> AsyncIterator[str]:
        yield "first"
        with anyio.fail_after(5):
            while len(sent) < 3:
                await anyio.sleep(0.005)
        yield "last"

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    before = dt.datetime.now(dt.timezone.utc)
    await EventSourceResponse(generate(), ping=0.01)(http_scope(), receive, send)
    ping = sent[2]["body"].decode()
    match = re.fullmatch(r": ping - (.+)\r\n\r\n", ping)
    assert match, ping
    assert dt.datetime.fromisoformat(match.group(1)) >= before
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


# -- a real server --------------------------------------------------------------------------------

server_app = App()
closed_streams: set[str] = set()


@server_app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@server_app.get("/sse/idle/{token}")
async def idle_stream(token: str) -> EventSourceResponse:
    async def generate() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent("hello", event="greeting", id="0")
            await anyio.sleep(60)  # only pings from now on, until the client leaves
            yield ServerSentEvent("never sent")
        finally:
            closed_streams.add(token)

    return EventSourceResponse(generate(), ping=0.02)


@server_app.get("/sse/count/{count:int}")
async def counting_stream(count: int) -> EventSourceResponse:
    async def generate() -> AsyncIterator[dict[str, Any]]:
        for number in range(count):
            yield {"data": {"n": number}, "id": str(number), "event": "count"}

    return EventSourceResponse(generate())


@server_app.get("/sse/closed/{token}")
async def stream_closed(token: str) -> dict[str, bool]:
    return {"closed": token in closed_streams}


@pytest.fixture(scope="module")
def uvicorn_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from integration.servers import ServerProcess

    log_path = tmp_path_factory.mktemp("sse") / "server.log"
    with ServerProcess.start(
        "uvicorn", "test_sse:server_app", log_path=log_path, app_dir=HERE, ready_path="/health"
    ) as server:
        yield server.url
        assert "Traceback" not in server.output(), server.output()


def test_uvicorn_stream_pings_and_stops_when_the_client_leaves(uvicorn_url: str) -> None:
    token = uuid.uuid4().hex
    with (
        httpx.Client(base_url=uvicorn_url, timeout=10.0) as client,
        client.stream("GET", f"/sse/idle/{token}") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["transfer-encoding"] == "chunked"
        received = ""
        for chunk in response.iter_text():
            received += chunk
            if received.count(": ping - ") == 1:
                # Still streaming (leaving this loop closes the connection: httpx closes it
                # when its iterator is dropped), so the generator is still open.
                assert not httpx.get(f"{uvicorn_url}/sse/closed/{token}").json()["closed"]
            if received.count(": ping - ") >= 2:
                break
        events, comments = parse_stream(received)
        assert events == [{"id": "0", "event": "greeting", "data": "hello"}]
        assert len(comments) >= 2
        assert all(comment.startswith("ping - ") for comment in comments)

    # The client closed the connection mid-stream: the generator's finally must run.
    deadline = time.monotonic() + 10
    closed = False
    while not closed and time.monotonic() < deadline:
        closed = httpx.get(f"{uvicorn_url}/sse/closed/{token}", timeout=5.0).json()["closed"]
        if not closed:
            time.sleep(0.02)
    assert closed, "the generator was not closed after the client left"


def test_uvicorn_finite_stream_ends_the_response(uvicorn_url: str) -> None:
    response = httpx.get(f"{uvicorn_url}/sse/count/50", timeout=10.0)
    assert response.status_code == 200
    events, _ = parse_stream(response.text)
    assert events == [{"event": "count", "id": str(n), "data": f'{{"n":{n}}}'} for n in range(50)]
