"""The WebSocket connection: the ASGI WebSocket messages behind a small API.

| ASGI message (direction)        | API                                                      |
|---------------------------------|----------------------------------------------------------|
| ``websocket.connect`` (in)      | read by :meth:`WebSocket.accept`                         |
| ``websocket.accept`` (out)      | :meth:`WebSocket.accept`                                 |
| ``websocket.receive`` (in)      | ``receive_text/bytes/json``, ``iter_text/bytes/json``    |
| ``websocket.send`` (out)        | ``send_text/bytes/json``                                 |
| ``websocket.disconnect`` (in)   | raises :class:`WebSocketDisconnect` from ``receive_*``   |
| ``websocket.close`` (out)       | :meth:`WebSocket.close` (before accept: refuse, 403)      |
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Literal, TypeVar

from pydantic_core import from_json, to_json

from framework.http.requests import HTTPConnection
from framework.http.responses import Response
from framework.types import Message, Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]

_T = TypeVar("_T")


class WebSocketState(enum.Enum):
    """Where one side of the connection is: before, during, or after the conversation."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3  # the handshake was answered with an HTTP response instead


class WebSocketDisconnect(Exception):
    """The client closed the connection (``code`` and ``reason`` as it sent them)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"WebSocket disconnected with code {self.code}" + (
            f": {self.reason}" if self.reason else ""
        )


class WebSocket(HTTPConnection):
    """One WebSocket connection, as a handler sees it (see ``docs/websockets.md``). Using it out
    of order (sending before ``accept``, receiving after ``close``) raises ``RuntimeError``."""

    __slots__ = ("_close_code", "_close_reason", "_send", "application_state", "client_state")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError("WebSocket needs a 'websocket' scope")
        super().__init__(scope, receive)
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING
        self._close_code = 1000
        self._close_reason: str | None = None

    async def receive(self) -> Message:
        """The next ASGI message from the client, with the connection state kept up to date."""
        state = self.client_state
        if state is WebSocketState.DISCONNECTED:
            raise RuntimeError("Cannot receive: the client has already disconnected")
        message = await self._receive()
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f"Expected 'websocket.connect' first, got {kind!r}")
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            self._close_code = message.get("code", 1000)
            self._close_reason = message.get("reason")
        elif kind != "websocket.receive":
            raise RuntimeError(f"Unexpected ASGI message {kind!r} from the client")
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message, checking it fits the application's state."""
        state = self.application_state
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind == "websocket.accept":
                self.application_state = WebSocketState.CONNECTED
            elif kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind == "websocket.http.response.start":
                self.application_state = WebSocketState.RESPONSE
            else:
                raise RuntimeError(
                    f"Cannot send {kind!r} before the connection is accepted "
                    f"(application state: {state.name}); call accept() first"
                )
        elif state is WebSocketState.CONNECTED:
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif kind != "websocket.send":
                raise RuntimeError(f"Cannot send {kind!r} on an accepted connection")
        elif state is WebSocketState.RESPONSE:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"Cannot send {kind!r} while sending a denial response")
            if not message.get("more_body", False):
                self.application_state = WebSocketState.DISCONNECTED
        else:
            raise RuntimeError(
                f"Cannot send {kind!r}: the connection is closed (application state: {state.name})"
            )
        try:
            await self._send(message)
        except OSError:
            # ASGI 2.4 servers raise OSError once the client is gone.
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006) from None

    async def accept(
        self, subprotocol: str | None = None, headers: Iterable[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Accept the handshake, optionally choosing one of the client's ``subprotocols``."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # websocket.connect
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers is not None:
            message["headers"] = [(bytes(k).lower(), bytes(v)) for k, v in headers]
        await self.send(message)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection; before ``accept`` this refuses the handshake (403)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})

    async def send_denial_response(self, response: Response) -> None:
        """Refuse the handshake with an HTTP response, where the server supports it (the ASGI
        ``websocket.http.response`` extension); otherwise this raises ``RuntimeError``."""
        if "websocket.http.response" not in self.scope.get("extensions", {}):
            raise RuntimeError(
                "The server does not support the WebSocket denial response extension"
            )
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError(
                "A denial response can only be sent before the connection is accepted"
            )
        status, raw = response.status_code, response.raw_headers
        await self.send({"type": "websocket.http.response.start", "status": status, "headers": raw})
        await self.send({"type": "websocket.http.response.body", "body": response.body})

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        offered: list[str] = self.scope.get("subprotocols", [])
        return offered

    async def _receive_payload(self, binary: bool) -> Any:
        """The ``bytes`` or ``text`` of the next data message; ``TypeError`` if it is the other."""
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError(
                "Cannot receive before the connection is accepted or after it is closed "
                f"(application state: {self.application_state.name})"
            )
        if self.client_state is WebSocketState.DISCONNECTED:
            raise WebSocketDisconnect(self._close_code, self._close_reason)
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        data = message.get("bytes" if binary else "text")
        if data is None:
            wanted, got = ("binary", "text") if binary else ("text", "bytes")
            raise TypeError(f"Expected a {wanted} WebSocket message, got {got}")
        return data

    async def receive_text(self) -> str:
        """The next text message. A binary message raises ``TypeError``."""
        return str(await self._receive_payload(binary=False))

    async def receive_bytes(self) -> bytes:
        """The next binary message. A text message raises ``TypeError``."""
        return bytes(await self._receive_payload(binary=True))

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The next message parsed as JSON (from a text frame, or a binary one with ``mode``);
        invalid JSON raises ``ValueError``."""
        return from_json(await self._receive_payload(binary=mode != "text"))

    def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        return _until_disconnect(self.receive_text)

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        return _until_disconnect(self.receive_bytes)

    def iter_json(self) -> AsyncIterator[Any]:
        """JSON messages until the client disconnects."""
        return _until_disconnect(self.receive_json)

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as JSON (pydantic-core serialises models, datetimes, ...)."""
        encoded = to_json(data)
        key, payload = ("text", encoded.decode("utf-8")) if mode == "text" else ("bytes", encoded)
        await self.send({"type": "websocket.send", key: payload})


async def _until_disconnect(receive: Callable[[], Awaitable[_T]]) -> AsyncIterator[_T]:
    try:
        while True:
            yield await receive()
    except WebSocketDisconnect:
        pass
