"""A synchronous test client: :class:`TestClient` is an ``httpx.Client`` that calls the ASGI app in
the test's process (``with TestClient(app)`` also runs its lifespan), and
``client.websocket_connect(url)`` opens a :class:`WebSocketTestSession`. See docs/testing.md."""

from framework.testclient.client import TestClient
from framework.testclient.websocket import WebSocketDenialResponse, WebSocketTestSession

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]
