"""Class-based WebSocket endpoints: subclass :class:`WebSocketEndpoint`, override the events you
care about, and register the class with ``@app.websocket_route(path)``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic_core import from_json

from framework import status
from framework.http.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from framework.types import Message, Receive, Scope, Send

__all__ = ["WebSocketEndpoint"]


class _UnsupportedData(Exception):
    """A message that does not fit the endpoint's declared encoding."""


# A call rather than an inline test: mypy would keep the state narrowed to CONNECTED there.
def _closed_by_app(websocket: WebSocket) -> bool:
    return websocket.application_state is WebSocketState.DISCONNECTED


class WebSocketEndpoint:
    """One object per connection: ``on_connect``, ``on_receive`` per message, ``on_disconnect``.
    ``encoding`` decodes each message for ``on_receive``: ``"text"``, ``"bytes"``, ``"json"`` (a
    text or binary frame) or ``None`` (the raw ASGI message); one that does not fit closes the
    connection with 1003. Messages arriving after the app closed the connection are dropped."""

    encoding: Literal["text", "bytes", "json"] | None = None

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send

    async def on_connect(self, websocket: WebSocket) -> None:
        """Called first; the default accepts. Close instead to refuse the connection."""
        await websocket.accept()

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        """Called for every message, decoded according to ``encoding``."""

    async def on_disconnect(self, websocket: WebSocket, close_code: int) -> None:
        """Called once the conversation is over, with the close code."""

    async def dispatch(self, websocket: WebSocket) -> None:
        """Run the conversation (the route calls this)."""
        await self.on_connect(websocket)
        if websocket.application_state is not WebSocketState.CONNECTED:
            return  # refused in on_connect
        close_code = status.WS_1000_NORMAL_CLOSURE
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    close_code = message.get("code", status.WS_1000_NORMAL_CLOSURE)
                    break
                if _closed_by_app(websocket):
                    continue  # data the client sent before it saw the close is dropped
                try:
                    data = self.decode(message)
                except _UnsupportedData as exc:
                    close_code = status.WS_1003_UNSUPPORTED_DATA
                    await websocket.close(close_code, str(exc))
                    break
                await self.on_receive(websocket, data)
        except WebSocketDisconnect as exc:  # the client left while on_receive was sending
            close_code = exc.code
            raise
        except Exception:
            close_code = status.WS_1011_INTERNAL_ERROR
            raise
        finally:
            await self.on_disconnect(websocket, close_code)

    def decode(self, message: Message) -> Any:
        """The data of a ``websocket.receive`` message, per ``encoding``."""
        text, data = message.get("text"), message.get("bytes")
        if self.encoding == "text":
            if text is None:
                raise _UnsupportedData("Expected text messages, got bytes")
            return text
        if self.encoding == "bytes":
            if data is None:
                raise _UnsupportedData("Expected bytes messages, got text")
            return data
        if self.encoding == "json":
            try:
                return from_json(text if text is not None else data or b"")
            except ValueError:
                raise _UnsupportedData("Invalid JSON message") from None
        return message
