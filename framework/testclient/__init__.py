"""A synchronous test client: httpx on the outside, the ASGI app called in-process inside.

```python
from framework.testclient import TestClient

client = TestClient(app)
assert client.get("/").json() == {"hello": "world"}

with TestClient(app) as client:   # runs lifespan startup and shutdown
    ...
```

Each request builds an ASGI scope and calls the app on an anyio blocking portal (an event loop in
a helper thread). ``raise_server_exceptions=True`` re-raises an exception from the app in the
test; with ``False`` the client sees the 500 answer a real client would.

WebSockets: ``client.websocket_connect(url)`` returns a :class:`WebSocketTestSession`:

```python
with client.websocket_connect("/ws/room1", subprotocols=["chat"]) as ws:
    ws.send_text("hi")
    assert ws.receive_text() == "room1: hi"
```

Modules: ``client`` (:class:`TestClient`, its HTTP transport, the lifespan) and ``websocket``.
"""

from framework.testclient.client import TestClient
from framework.testclient.websocket import WebSocketDenialResponse, WebSocketTestSession

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]
