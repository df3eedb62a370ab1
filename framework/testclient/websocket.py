"""WebSockets in the test client: :class:`WebSocketTestSession`, one connection between the test
and the app, and :class:`WebSocketDenialResponse`, the app refusing the handshake over HTTP."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.abc
import anyio.lowlevel
import httpx
from anyio.from_thread import BlockingPortal
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from framework.http.websockets import WebSocketDisconnect
from framework.types import Message

if TYPE_CHECKING:
    from framework.testclient.client import TestClient


class WebSocketDenialResponse(WebSocketDisconnect):
    """Raised on entering :meth:`TestClient.websocket_connect` when the app refused the handshake
    with an HTTP response: ``status_code``, ``headers``, ``content``, ``text``, ``json()``, and
    ``response`` (the ``httpx.Response``)."""

    def __init__(
        self, status_code: int, headers: Sequence[tuple[bytes, bytes]], content: bytes
    ) -> None:
        # The handshake ended without a connection (1006, as a browser reports it).
        super().__init__(1006, f"Denied with HTTP {status_code}")
        # A stream rather than content=, which would add a content-length the app did not send.
        self.response = httpx.Response(
            status_code, headers=list(headers), stream=httpx.ByteStream(content)
        )
        self.response.read()
        self.status_code, self.headers, self.content = status_code, self.response.headers, content

    @property
    def text(self) -> str:
        """The body decoded with the charset of its content type (UTF-8 by default)."""
        return self.response.text

    def json(self) -> Any:
        """The body parsed as JSON."""
        return self.response.json()

    def __str__(self) -> str:
        return f"WebSocket handshake refused with HTTP {self.status_code}: {self.text[:200]!r}"


def _close_info(message: Message) -> tuple[int, str]:
    return message.get("code", 1000), message.get("reason") or ""


class _ClientDisconnected(OSError):
    """The app's ``send`` after the client's disconnect (ASGI 2.4: an ``OSError`` subclass)."""


# What the app may send in each phase of the connection, and the phase that follows.
_APP_TRANSITIONS: dict[str, dict[str, str]] = {
    "connecting": {
        "websocket.accept": "open",
        "websocket.close": "closed",
        "websocket.http.response.start": "responding",
    },
    "open": {"websocket.send": "open", "websocket.close": "closed"},
    "responding": {"websocket.http.response.body": "responding"},
    "closed": {},
}


class WebSocketTestSession:
    """One WebSocket connection between the test and the app, used in a ``with`` block.

    - Entering performs the handshake (``accepted_subprotocol``, ``extra_headers``); a close
      raises ``WebSocketDisconnect``, an HTTP answer :class:`WebSocketDenialResponse`.
    - ``receive_*`` return the app's messages in order, then raise ``WebSocketDisconnect`` (1006
      if the app ended without closing); after ``close()`` ``send_*`` raise ``RuntimeError``.
    - Leaving disconnects (1000), waits :attr:`close_timeout` seconds for the app, cancels it.
    - An app's exception is raised at the next ``receive_*`` or on leaving (unless the client has
      ``raise_server_exceptions=False``).
    """

    close_timeout: float = 5.0
    """Seconds the app gets to return after the disconnect before it is cancelled."""

    def __init__(self, client: TestClient, scope: dict[str, Any]) -> None:
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._client = client
        self._entered = False
        self._stack: contextlib.ExitStack | None = None
        self._portal: BlockingPortal  # set on entering
        self._accepted = False
        self._client_closed = False  # the test sent websocket.disconnect
        self._closed: tuple[int, str] | None = None  # how the test saw the connection end
        self._app_error: Exception | None = None
        self._reported = False  # the app error was raised in the test
        # Owned by the event loop thread (set up in _run_app):
        self._app_phase = "connecting"
        self._app_disconnect: Message | None = None  # the disconnect the app has received
        self._to_app: MemoryObjectSendStream[Message]
        self._from_app: MemoryObjectReceiveStream[Message]
        self._app_inbox: MemoryObjectReceiveStream[Message]
        self._app_outbox: MemoryObjectSendStream[Message]
        self._app_done: anyio.Event
        self._app_scope: anyio.CancelScope

    def __enter__(self) -> WebSocketTestSession:
        if self._entered:
            raise RuntimeError("A WebSocket session can only be entered once")
        self._entered = True
        with contextlib.ExitStack() as stack:
            self._portal = portal = stack.enter_context(self._client._portal())
            future, self._app_scope = portal.start_task(self._run_app)
            stack.callback(self._shut_down, future)
            self._handshake()
            self._stack = stack.pop_all()
        return self

    def __exit__(self, exc_type: Any = None, exc_value: Any = None, traceback: Any = None) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    def _handshake(self) -> None:
        self._send_to_app({"type": "websocket.connect"})
        message = self._next_message()
        if message is None:  # the app returned without answering
            self._closed = (1006, "")
            self._raise_app_error()
            if self._client.raise_server_exceptions:
                raise RuntimeError("The application returned without answering the handshake")
            raise WebSocketDenialResponse(500, [], b"")  # what servers answer then
        if message["type"] == "websocket.accept":
            self._accepted = True
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            return
        if message["type"] == "websocket.close":
            self._closed = _close_info(message)
            raise WebSocketDisconnect(*self._closed)
        # websocket.http.response.start (_app_send lets nothing else through), then the body
        self._closed = (1006, "")
        body: list[bytes] = []
        while (part := self._next_message()) is not None:
            body.append(part.get("body", b""))
            if not part.get("more_body", False):
                break
        else:
            self._raise_app_error()
        raise WebSocketDenialResponse(message["status"], message.get("headers", []), b"".join(body))

    def _shut_down(self, future: Future[None]) -> None:
        if not self._client_closed:
            self._client_closed = True
            code = 1000 if self._accepted else 1006
            self._send_to_app({"type": "websocket.disconnect", "code": code, "reason": ""})
        if self._closed is None:
            self._closed = (1000, "")
        self._portal.call(self._wait_for_app)
        future.result()
        for stream in (self._to_app, self._from_app):
            self._portal.call(stream.close)
        self._raise_app_error()

    def _raise_app_error(self) -> None:
        error = self._app_error
        if error is not None and self._client.raise_server_exceptions and not self._reported:
            self._reported = True
            raise error

    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app (``websocket.receive`` or ``websocket.disconnect``)."""
        self._require_open()
        if self._closed is not None:
            raise RuntimeError(
                f"Cannot send: the WebSocket is closed (code {self._closed[0]})"
                + (f": {self._closed[1]}" if self._closed[1] else "")
            )
        if message["type"] == "websocket.disconnect":
            self._client_closed = True
            self._closed = _close_info(message)
        self._send_to_app(message)

    def send_text(self, data: str) -> None:
        """Send a text message."""
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as JSON, in a text message or (``mode="binary"``) a binary one."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "text":
            self.send_text(text)
        else:
            self.send_bytes(text.encode("utf-8"))

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection from the client's side (``websocket.disconnect`` to the app)."""
        if self._client_closed:
            return
        self._require_open()
        self._client_closed = True
        if self._closed is None:
            self._closed = (code, reason or "")
        self._send_to_app({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The app's next raw ASGI message (``websocket.send`` or ``websocket.close``)."""
        if self._closed is not None:
            raise WebSocketDisconnect(*self._closed)
        self._require_open()
        message = self._next_message()
        if message is None:
            self._closed = (1006, "The application ended without closing the WebSocket")
            self._raise_app_error()
            raise WebSocketDisconnect(*self._closed)
        if message["type"] == "websocket.close":
            self._closed = _close_info(message)
        return message

    def _receive_data(self, key: Literal["text", "bytes"]) -> Any:
        message = self.receive()
        if self._closed is not None:  # that was the app's websocket.close
            raise WebSocketDisconnect(*self._closed)
        if message.get(key) is None:
            wanted, got = ("text", "binary") if key == "text" else ("binary", "text")
            raise TypeError(f"Expected a {wanted} WebSocket message, got a {got} one")
        return message[key]

    def receive_text(self) -> str:
        """The next text message; a binary one raises ``TypeError``."""
        return str(self._receive_data("text"))

    def receive_bytes(self) -> bytes:
        """The next binary message; a text one raises ``TypeError``."""
        return bytes(self._receive_data("bytes"))

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message parsed as JSON: a text one, or a binary one with ``mode="binary"``."""
        return json.loads(self.receive_text() if mode == "text" else self.receive_bytes())

    def _require_open(self) -> None:
        if self._stack is None:
            raise RuntimeError("The WebSocket session is not open: use it in a 'with' block")

    def _send_to_app(self, message: Message) -> None:
        # Once the app has returned its inbox is closed: the message has nobody to go to.
        with contextlib.suppress(anyio.BrokenResourceError):
            self._portal.call(self._to_app.send, message)

    def _next_message(self) -> Message | None:
        """The app's next message, or None once the app has returned and all were read."""
        try:
            return self._portal.call(self._from_app.receive)
        except anyio.EndOfStream:
            return None

    async def _run_app(self, *, task_status: anyio.abc.TaskStatus[anyio.CancelScope]) -> None:
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._app_outbox, self._from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._app_done = anyio.Event()
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            try:
                await self._client.app(self.scope, self._app_receive, self._app_send)
            except _ClientDisconnected:
                pass  # our own "the client left" error: servers do not report it either
            except Exception as exc:
                self._app_error = exc
            finally:
                self._app_inbox.close()
                self._app_outbox.close()
                self._app_done.set()

    async def _wait_for_app(self) -> None:
        with anyio.move_on_after(self.close_timeout):
            await self._app_done.wait()
        if not self._app_done.is_set():
            self._app_scope.cancel()
            await self._app_done.wait()

    async def _app_receive(self) -> Message:
        if self._app_disconnect is not None:
            # As servers do, keep answering a closed connection with its disconnect message.
            await anyio.lowlevel.checkpoint()
            return dict(self._app_disconnect)
        message = await self._app_inbox.receive()
        if message["type"] == "websocket.disconnect":
            self._app_disconnect = message
        return message

    async def _app_send(self, message: Message) -> None:
        kind, phase = message["type"], self._app_phase
        if self._app_disconnect is not None and phase != "closed":
            if kind == "websocket.close":
                self._app_phase = "closed"  # closing what the client closed already is fine
                return
            raise _ClientDisconnected(f"Cannot send {kind!r}: the client has disconnected")
        allowed = _APP_TRANSITIONS[phase]
        if kind not in allowed:
            expected = " or ".join(repr(k) for k in allowed) or "nothing more"
            raise RuntimeError(
                f"Unexpected ASGI message {kind!r} on a WebSocket in state {phase!r}: "
                f"expected {expected}"
            )
        no_data = message.get("text") is None and message.get("bytes") is None
        if kind == "websocket.send" and no_data:
            raise RuntimeError("A 'websocket.send' message needs 'text' or 'bytes'")
        self._app_phase = allowed[kind]
        if kind == "websocket.http.response.body" and not message.get("more_body", False):
            self._app_phase = "closed"
        await self._app_outbox.send(message)
