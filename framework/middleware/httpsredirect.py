"""Redirect ``http``/``ws`` to ``https``/``wss``:
``app.add_middleware(HTTPSRedirectMiddleware)``."""

from __future__ import annotations

from framework.http.datastructures import URL
from framework.http.responses import PlainTextResponse, RedirectResponse, Response
from framework.middleware.trustedhost import refuse
from framework.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_PLAIN = {"http": "http", "websocket": "ws"}
_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Redirect ``http`` to ``https`` and ``ws`` to ``wss`` with ``308`` (which keeps the method
    and body), dropping the ports ``:80`` and ``:443``; a request without a host gets ``400
    Invalid host header``. Behind a proxy that terminates TLS, run the server with
    ``--proxy-headers`` so that it reports the client's scheme.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = _PLAIN.get(scope["type"])  # the scheme when the scope has none
        secure = _SECURE.get(scope.get("scheme", plain)) if plain else None
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
