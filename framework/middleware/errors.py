"""The outermost layer: any exception nobody handled becomes a plain 500."""

from __future__ import annotations

import html
import logging
import traceback
from collections.abc import Awaitable

from framework.exception_handlers import ExceptionHandler, call_handler
from framework.exceptions import ClientDisconnect
from framework.http.requests import Request
from framework.http.responses import HTMLResponse, PlainTextResponse, Response
from framework.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("framework.error")


def debug_response(request: Request, exc: Exception) -> Response:
    """The traceback as HTML (for browsers) or plain text; only used with ``debug=True``."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if "text/html" in request.headers.get("accept", ""):
        title = html.escape(f"{type(exc).__name__}: {exc}")
        page = f"<!doctype html><title>500 {title}</title><h1>{title}</h1><pre>{html.escape(text)}</pre>"
        return HTMLResponse(page, status_code=500)
    return PlainTextResponse(text, status_code=500)


class ServerErrorMiddleware:
    """Answer 500 to an unhandled exception (if nothing was sent yet), log it, and re-raise it to
    the server, as ASGI servers expect.

    ``handler`` (registered as ``@app.exception_handler(500)`` or ``(Exception)``) may build the
    500 response instead of the plain one. Clients never see a traceback unless ``debug=True``.
    A client that disconnected while its body was being read ends the request quietly.
    """

    def __init__(
        self, app: ASGIApp, handler: ExceptionHandler | None = None, debug: bool = False
    ) -> None:
        self.app = app
        self.handler = handler
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        def tracked(message: Message) -> Awaitable[None]:
            # A plain call returning the server's awaitable: no extra coroutine per message.
            nonlocal started
            started = True
            return send(message)

        try:
            await self.app(scope, receive, tracked)
        except ClientDisconnect:
            return  # nobody is left to answer
        except Exception as exc:
            logger.exception("Unhandled exception in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                request = Request(scope, receive, send)
                if self.debug:
                    response = debug_response(request, exc)
                elif self.handler is not None:
                    response = await call_handler(self.handler, request, exc)
                else:
                    response = PlainTextResponse("Internal Server Error", status_code=500)
                await response(scope, receive, send)
            raise
