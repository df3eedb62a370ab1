"""WebSocketEndpoint (framework/endpoints.py): encodings, events, registration."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from framework import (
    App,
    Router,
    WebSocket,
    WebSocketDisconnect,
    WebSocketEndpoint,
    WebSocketRoute,
)
from framework.testclient import TestClient, WebSocketDenialResponse
from framework.types import Message


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder(WebSocketEndpoint):
    """Echoes what it decodes and records every event in ``self.scope["state"]["events"]``."""

    def record(self, *event: Any) -> None:
        self.scope["state"]["events"].append(event)

    async def on_connect(self, websocket: WebSocket) -> None:
        self.record("connect")
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        self.record("receive", data)
        if self.encoding == "json":
            await websocket.send_json({"echo": data})
        elif isinstance(data, bytes):
            await websocket.send_bytes(data)
        elif isinstance(data, str):
            await websocket.send_text(data)
        else:
            await websocket.send_json({"type": data["type"], "text": data.get("text")})

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        self.record("disconnect", close_code)


class TextEndpoint(Recorder):
    encoding = "text"


class BytesEndpoint(Recorder):
    encoding = "bytes"


class JSONEndpoint(Recorder):
    encoding = "json"


class RawEndpoint(Recorder):
    encoding = None


def make_client(*routes: tuple[str, type[WebSocketEndpoint]]) -> tuple[TestClient, list[Any]]:
    """A client for an app with ``routes``, and the list the endpoints record their events in
    (reached through the state every connection's scope starts from)."""
    app = App()
    for path, endpoint in routes:
        app.add_websocket_route(path, endpoint)
    client = TestClient(app)
    events: list[Any] = []
    client.app_state["events"] = events
    return client, events


# -- encodings ----------------------------------------------------------------------------------


def test_text_encoding() -> None:
    client, events = make_client(("/ws", TextEndpoint))
    with client.websocket_connect("/ws") as ws:
        ws.send_text("one")
        assert ws.receive_text() == "one"
        ws.send_text("two")
        assert ws.receive_text() == "two"
    assert events == [
        ("connect",),
        ("receive", "one"),
        ("receive", "two"),
        ("disconnect", 1000),
    ]


def test_bytes_encoding() -> None:
    client, events = make_client(("/ws", BytesEndpoint))
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"\x00\xff")
        assert ws.receive_bytes() == b"\x00\xff"
    assert events == [("connect",), ("receive", b"\x00\xff"), ("disconnect", 1000)]


def test_json_encoding_reads_text_and_binary_frames() -> None:
    client, events = make_client(("/ws", JSONEndpoint))
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"a": 1})
        assert ws.receive_json() == {"echo": {"a": 1}}
        ws.send_json([1, "two"], mode="binary")
        assert ws.receive_json() == {"echo": [1, "two"]}
    assert events == [
        ("connect",),
        ("receive", {"a": 1}),
        ("receive", [1, "two"]),
        ("disconnect", 1000),
    ]


def test_no_encoding_passes_the_raw_message() -> None:
    client, events = make_client(("/ws", RawEndpoint))
    with client.websocket_connect("/ws") as ws:
        ws.send_text("plain")
        assert ws.receive_json() == {"type": "websocket.receive", "text": "plain"}
        ws.send_bytes(b"blob")
        assert ws.receive_json() == {"type": "websocket.receive", "text": None}
    assert events[1] == ("receive", {"type": "websocket.receive", "text": "plain"})
    assert events[2] == ("receive", {"type": "websocket.receive", "bytes": b"blob"})


@pytest.mark.parametrize(
    ("endpoint", "send", "reason"),
    [
        (TextEndpoint, ("send_bytes", b"bytes"), "Expected text messages, got bytes"),
        (BytesEndpoint, ("send_text", "text"), "Expected bytes messages, got text"),
        (JSONEndpoint, ("send_text", "{not json"), "Invalid JSON message"),
        (JSONEndpoint, ("send_bytes", b"\xff\xfe"), "Invalid JSON message"),
    ],
)
def test_data_that_does_not_fit_the_encoding_closes_1003(
    endpoint: type[WebSocketEndpoint], send: tuple[str, Any], reason: str
) -> None:
    client, events = make_client(("/ws", endpoint))
    with client.websocket_connect("/ws") as ws:
        getattr(ws, send[0])(send[1])
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert (closed.value.code, closed.value.reason) == (1003, reason)
    assert events == [("connect",), ("disconnect", 1003)]
    # The server keeps serving: a message that fits works on a new connection.
    good = {TextEndpoint: "ok", BytesEndpoint: b"ok", JSONEndpoint: '"ok"'}[endpoint]
    with client.websocket_connect("/ws") as ws:
        if isinstance(good, bytes):
            ws.send_bytes(good)
            assert ws.receive_bytes() == good
        else:
            ws.send_text(good)
            assert ws.receive() == {
                "type": "websocket.send",
                "text": '{"echo":"ok"}' if endpoint is JSONEndpoint else "ok",
            }


# -- events -------------------------------------------------------------------------------------


def test_default_on_connect_accepts() -> None:
    received: list[str] = []

    class Minimal(WebSocketEndpoint):
        encoding = "text"

        async def on_receive(self, websocket: WebSocket, data: str) -> None:
            received.append(data)
            await websocket.send_text(f"got {data}")

    app = App()
    app.add_websocket_route("/ws", Minimal)
    with TestClient(app).websocket_connect("/ws", subprotocols=["x"]) as ws:
        assert ws.accepted_subprotocol is None
        ws.send_text("hello")
        assert ws.receive_text() == "got hello"
    assert received == ["hello"]


def test_on_connect_that_closes_refuses_and_skips_on_disconnect() -> None:
    class Refusing(Recorder):
        async def on_connect(self, websocket: WebSocket) -> None:
            self.record("connect")
            if websocket.query_params.get("token") != "secret":
                await websocket.close(4401, "bad token")
                return
            await websocket.accept()

    client, events = make_client(("/ws", Refusing))
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws?token=no"):
        pass
    assert (refused.value.code, refused.value.reason) == (4401, "bad token")
    assert events == [("connect",)]
    with client.websocket_connect("/ws?token=secret") as ws:
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"type": "websocket.receive", "text": '{"n":1}'}
    assert events[1:] == [
        ("connect",),
        ("receive", {"type": "websocket.receive", "text": '{"n":1}'}),
        ("disconnect", 1000),
    ]


def test_on_disconnect_gets_the_clients_close_code() -> None:
    client, events = make_client(("/ws", TextEndpoint))
    with client.websocket_connect("/ws") as ws:
        ws.send_text("bye")
        assert ws.receive_text() == "bye"
        ws.close(4002, "done here")
    assert events[-1] == ("disconnect", 4002)


def test_exception_in_on_receive_closes_1011(caplog: pytest.LogCaptureFixture) -> None:
    class Crashing(Recorder):
        encoding = "text"

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            self.record("receive", data)
            if data == "crash":
                raise ValueError("crashed in on_receive")
            await websocket.send_text(data)

    client, events = make_client(("/ws", Crashing))
    with (
        caplog.at_level(logging.ERROR, logger="framework.error"),
        client.websocket_connect("/ws") as ws,
    ):
        ws.send_text("fine")
        assert ws.receive_text() == "fine"
        ws.send_text("crash")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1011
    assert events == [
        ("connect",),
        ("receive", "fine"),
        ("receive", "crash"),
        ("disconnect", 1011),
    ]
    assert [str(r.exc_info[1]) for r in caplog.records if r.exc_info] == ["crashed in on_receive"]


def test_exception_in_on_connect_is_a_500_denial() -> None:
    class Broken(Recorder):
        async def on_connect(self, websocket: WebSocket) -> None:
            self.record("connect")
            raise RuntimeError("no connect")

    client, events = make_client(("/ws", Broken))
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 500
    assert events == [("connect",)]


# -- registration -------------------------------------------------------------------------------


def test_registration_forms() -> None:
    app = App()
    app.add_websocket_route("/added/{room}", TextEndpoint)

    @app.websocket_route("/decorated/{room}")
    class Decorated(Recorder):
        encoding = "text"

        async def on_receive(self, websocket: WebSocket, data: Any) -> None:
            await websocket.send_text(f"{websocket.path_params['room']}: {data}")

    router = Router(prefix="/chat")
    router.add_websocket_route("/{room}", Decorated)

    @router.websocket_route("/rooms/{room}/json")
    class RoomJSON(JSONEndpoint):
        pass

    app.include_router(router, prefix="/v1")
    app.router.add_route(WebSocketRoute("/route-object", BytesEndpoint))

    assert Decorated.__name__ == "Decorated"  # the decorator returns the class unchanged
    client = TestClient(app)
    client.app_state["events"] = []
    with client.websocket_connect("/added/r1") as ws:
        ws.send_text("a")
        assert ws.receive_text() == "a"
    with client.websocket_connect("/decorated/r2") as ws:
        ws.send_text("b")
        assert ws.receive_text() == "r2: b"
    with client.websocket_connect("/v1/chat/r3") as ws:
        ws.send_text("c")
        assert ws.receive_text() == "r3: c"
    with client.websocket_connect("/v1/chat/rooms/r4/json") as ws:
        ws.send_json({"d": 4})
        assert ws.receive_json() == {"echo": {"d": 4}}
    with client.websocket_connect("/route-object") as ws:
        ws.send_bytes(b"e")
        assert ws.receive_bytes() == b"e"
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/chat/r3"):
        pass  # only under the include prefix
    assert app.url_path_for("Decorated", room="x") == "/decorated/x"


@pytest.mark.anyio
async def test_client_gone_while_sending_reports_its_code_to_on_disconnect() -> None:
    # A server raises OSError for a send once the client has gone (ASGI 2.4); the WebSocket
    # turns it into WebSocketDisconnect(1006), and on_disconnect hears 1006, not 1011.
    events: list[Any] = []
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": "hello"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        if message["type"] == "websocket.send":
            raise ConnectionResetError("client gone")
        sent.append(message)

    app = App()
    app.add_websocket_route("/ws", TextEndpoint)
    scope = {
        "type": "websocket",
        "path": "/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "state": {"events": events},
    }
    await app(scope, receive, send)
    assert [m["type"] for m in sent] == ["websocket.accept"]
    assert events == [("connect",), ("receive", "hello"), ("disconnect", 1006)]
