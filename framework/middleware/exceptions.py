"""The exception-handler layer: turns exceptions raised by routes into responses.

It sits inside the user middleware, so a 404 or an ``HTTPException`` answer passes through every
middleware (CORS headers, timing, ...) like any other response.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from framework.concurrency import is_async_callable, run_in_threadpool
from framework.exceptions import HTTPException
from framework.requests import Request
from framework.responses import Response
from framework.types import ASGIApp, Message, Receive, Scope, Send

ExceptionHandler = Callable[[Any, Exception], "Response | Awaitable[Response] | None"]
HandlerKey = "int | type[BaseException]"


def lookup_handler(
    handlers: Mapping[Any, ExceptionHandler], exc: BaseException
) -> ExceptionHandler | None:
    """The handler for ``exc``: by status code for an ``HTTPException``, then by class (MRO)."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


async def call_handler(handler: ExceptionHandler, connection: Any, exc: Exception) -> Any:
    """Call a sync or async exception handler."""
    if is_async_callable(handler):
        return await handler(connection, exc)  # type: ignore[misc]
    return await run_in_threadpool(handler, connection, exc)


class ExceptionMiddleware:
    """Catches exceptions that have a registered handler and sends the handler's response.

    ``handlers`` maps status codes and exception classes to ``handler(request, exc)``; it is read
    at each exception, so handlers registered later still apply.
    """

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, ExceptionHandler]) -> None:
        self.app = app
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception as exc:
            handler = lookup_handler(self.handlers, exc)
            if handler is None:
                raise
            if started:
                raise RuntimeError(
                    "Caught a handled exception, but the response had started"
                ) from exc
            response = await call_handler(handler, Request(scope, receive, send), exc)
            if response is not None:
                await response(scope, receive, send)
