"""Redirect plain ``http``/``ws`` requests to ``https``/``wss``.

```python
from framework.middleware.httpsredirect import HTTPSRedirectMiddleware

app.add_middleware(HTTPSRedirectMiddleware)
```

Every ``http`` request gets a ``308 Permanent Redirect`` to the same URL with ``https`` (308
keeps the method and body, so a ``POST`` stays a ``POST``). The default ports ``:80`` and
``:443`` are dropped from the new URL, as uvicorn does; another port is kept. A ``ws`` handshake
is refused with the same redirect to ``wss`` where the server supports WebSocket denial
responses, else closed (code 1008). A request without a host gets ``400 Invalid host header``.
Behind a proxy that terminates TLS, run the server with ``--proxy-headers`` so that the scheme it
reports is the client's.
"""

from __future__ import annotations

from framework.http.datastructures import URL
from framework.http.responses import PlainTextResponse, RedirectResponse, Response
from framework.middleware.trustedhost import refuse
from framework.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Redirect ``http`` to ``https`` and ``ws`` to ``wss`` with a 308 (see the module text)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            secure = _SECURE.get(scope.get("scheme", "http"))  # ASGI: "http" when absent
        elif kind == "websocket":
            secure = _SECURE.get(scope.get("scheme", "ws"))
        else:
            secure = None
        if secure is None:
            await self.app(scope, receive, send)
            return
        url = URL(scope=scope)
        response: Response
        if not url.netloc:
            response = PlainTextResponse("Invalid host header", status_code=400)
        elif url.port in (80, 443):
            response = RedirectResponse(url.replace(scheme=secure, port=None), status_code=308)
        else:
            response = RedirectResponse(url.replace(scheme=secure), status_code=308)
        await refuse(response, scope, receive, send)
