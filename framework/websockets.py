"""``framework.websockets``: the WebSocket connection (from :mod:`framework.http.websockets`)."""

from framework.http.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]
