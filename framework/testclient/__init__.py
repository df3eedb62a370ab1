"""The test client (``from framework.testclient import TestClient``); the code is in ``client``."""

from framework.testclient.client import TestClient, WebSocketDenialResponse, WebSocketTestSession

__all__ = ["TestClient", "WebSocketDenialResponse", "WebSocketTestSession"]
