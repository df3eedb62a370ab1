"""Exception handlers: the defaults (public, for a custom handler to fall back on), the lookup,
and :func:`answer_with_handler`, which routes and the router call where the exception happens,
before anything is sent. ``Exception`` and ``500`` handlers belong to the error boundary.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import to_json

from framework.concurrency import is_async_callable, run_in_threadpool
from framework.exceptions import (
    HTTPException,
    RequestValidationError,
    WebSocketException,
    WebSocketRequestValidationError,
)
from framework.http.requests import HTTPConnection, Request
from framework.http.responses import JSONResponse, PlainTextResponse, Response
from framework.http.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from framework.types import Message, Receive, Scope, Send

logger = logging.getLogger("framework.error")

# handler(request_or_websocket, exc) -> Response (or None for WebSockets), sync or async
ExceptionHandler = Callable[[Any, Any], Any]


def http_exception_response(exc: HTTPException) -> Response:
    """The default answer to ``exc``: ``{"detail": exc.detail}`` with its status and headers."""
    if exc.status_code < 200 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    """``{"detail": exc.detail}`` with the exception's status and headers (no body for 204/304)."""
    return http_exception_response(exc)


async def request_validation_exception_handler(
    request: Request, exc: RequestValidationError
) -> Response:
    """422 ``{"detail": [...errors...]}``, FastAPI's shape."""
    # An infinite or NaN input (1e400 in a JSON body) is written as a string: valid JSON.
    body = to_json({"detail": exc.errors()}, serialize_unknown=True, inf_nan_mode="strings")
    return Response(body, status_code=422, media_type="application/json")


async def websocket_request_validation_exception_handler(
    websocket: WebSocket, exc: WebSocketRequestValidationError
) -> None:
    """Close the socket with 1008 (policy violation); the reason names the first problem."""
    first = exc.errors()[0] if exc.errors() else {"loc": [], "msg": "Invalid request"}
    reason = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    await websocket.close(1008, reason.encode()[:123].decode("utf-8", "ignore"))


DEFAULT_HANDLERS: dict[Any, ExceptionHandler] = {
    HTTPException: http_exception_handler,
    RequestValidationError: request_validation_exception_handler,
    WebSocketRequestValidationError: websocket_request_validation_exception_handler,
}


def lookup_handler(
    handlers: Mapping[Any, ExceptionHandler], exc: BaseException
) -> ExceptionHandler | None:
    """The handler for ``exc``: by status code for an ``HTTPException``, then by class (MRO),
    leaving out ``Exception`` and ``BaseException`` (the error boundary's)."""
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception or cls is BaseException:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


async def call_handler(handler: ExceptionHandler, connection: HTTPConnection, exc: Any) -> Any:
    """Call a sync or async exception handler and return what it returns."""
    if is_async_callable(handler):
        return await handler(connection, exc)
    return await run_in_threadpool(handler, connection, exc)


async def answer_with_handler(
    exc: Exception, scope: Scope, receive: Receive, send: Send, request: Request | None = None
) -> bool:
    """Send the response of the handler registered for ``exc`` in the app of ``scope["app"]``
    (the defaults without one); False if there is none."""
    handlers = getattr(scope.get("app"), "exception_handlers", DEFAULT_HANDLERS)
    handler = lookup_handler(handlers, exc)
    if handler is None:
        return False
    if handler is http_exception_handler:  # the default: no request needed
        assert isinstance(exc, HTTPException)
        await _send_http_exception(exc, scope, send)
        return True
    if request is None:
        request = Request(scope, receive, send)
    response = await call_handler(handler, request, exc)
    if response is not None:
        await response(scope, receive, send)
    return True


async def _send_http_exception(exc: HTTPException, scope: Scope, send: Send) -> None:
    """The default answer, sent without a Response object: 404s (scanners) are common."""
    status, headers = exc.status_code, exc.headers
    if headers is not None or type(exc.detail) is not str or status < 200 or status in (204, 304):
        await http_exception_response(exc)(scope, _no_receive, send)
        return
    body = _detail_body(exc.detail)
    length = str(len(body)).encode("latin-1")
    raw = [(b"content-length", length), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


@functools.lru_cache(maxsize=64)
def _detail_body(detail: str) -> bytes:
    return to_json({"detail": detail})


async def _no_receive() -> Message:
    raise RuntimeError("An error response reads nothing from the client")


async def answer_websocket_error(exc: Exception, websocket: WebSocket) -> None:
    """End a WebSocket conversation that raised ``exc``: a :class:`WebSocketException` closes
    with its code and reason; a registered handler is called with the websocket (a Response it
    returns refuses the handshake, where servers support it); anything else is logged and refuses
    the handshake (500, or 403) or, after ``accept``, closes the socket with 1011."""
    if isinstance(exc, WebSocketDisconnect):  # the client left
        return
    if websocket.application_state is WebSocketState.DISCONNECTED:
        if not isinstance(exc, WebSocketException):
            logger.error("Exception after the WebSocket closed", exc_info=exc)
        return
    if isinstance(exc, WebSocketException):
        await _close(websocket, exc.code, exc.reason)
        return
    handlers = getattr(websocket.scope.get("app"), "exception_handlers", DEFAULT_HANDLERS)
    handler = lookup_handler(handlers, exc)
    if handler is None:
        logger.error(
            "Unhandled exception in WebSocket %s", websocket.scope.get("path"), exc_info=exc
        )
        response: Any = PlainTextResponse("Internal Server Error", status_code=500)
    else:
        response = await call_handler(handler, websocket, exc)
    if websocket.application_state is WebSocketState.CONNECTING:
        denial = "websocket.http.response" in websocket.scope.get("extensions", {})
        # A denial response needs its body up front: a streaming one cannot be used here.
        if denial and isinstance(response, Response) and not response.watches_disconnect:
            await websocket.send_denial_response(response)
        else:
            await _close(websocket, 1011 if handler is None else 1008, "")
    elif websocket.application_state is WebSocketState.CONNECTED:
        await _close(websocket, 1011, "")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # The client may be gone already; servers then refuse the close (uvicorn: RuntimeError).
    with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
        await websocket.close(code, reason)
