"""The WebSocket app the integration tests serve: ``examples.chat:app`` plus a plain echo.

The servers import it as ``wsapp:app``. The chat is the example as shipped (rooms, notices,
``/stats``); ``/echo`` sends every text or binary frame back as it came, for frames the chat
refuses by design (1 MiB of text).
"""

from __future__ import annotations

from examples.chat import app
from framework import WebSocket, WebSocketDisconnect

__all__ = ["app"]


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        return
