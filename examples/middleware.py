"""Middleware two ways: a plain ASGI class and a dispatch function.

- ``ProcessTimeMiddleware`` has the seed article's shape: built as ``cls(app)``, called as
  ``await mw(scope, receive, send)``. It wraps ``send`` to add an ``x-process-time`` header (the
  seconds the app took) to the ``http.response.start`` message, and passes every other scope
  (``websocket``, ...) through untouched.
- ``add_request_id`` is dispatch style (``@app.middleware("http")``): it takes the client's
  ``x-request-id`` or makes one, puts it in ``request.state`` for the handlers and sends it back.

Run it::

    uvicorn examples.middleware:app
    curl -i http://127.0.0.1:8000/
    curl -i -H 'x-request-id: abc123' http://127.0.0.1:8000/
"""

import time
import uuid

from framework import App, Request, Response
from framework.middleware.base import CallNext
from framework.types import ASGIApp, Message, Receive, Scope, Send


class ProcessTimeMiddleware:
    """Add the time the app took, in seconds, as a response header."""

    def __init__(self, app: ASGIApp, header: str = "x-process-time") -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_with_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = f"{time.perf_counter() - start:.6f}".encode("latin-1")
                headers = [*message.get("headers", []), (self.header, elapsed)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_time)


app = App(title="Middleware")


@app.middleware("http")
async def add_request_id(request: Request, call_next: CallNext) -> Response:
    incoming = request.headers.get("x-request-id", "")
    # Trust a client's id only if it is short; otherwise make our own.
    request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
    request.state.request_id = request_id  # handlers of this request read it
    response = await call_next(request)
    response.headers["x-request-id"] = request_id
    return response


# The middleware added last is the outermost. A request goes
#     ProcessTimeMiddleware -> add_request_id -> route
# and the response comes back the other way, so the time includes add_request_id and
# x-process-time comes after x-request-id in the response headers.
app.add_middleware(ProcessTimeMiddleware)


@app.get("/")
async def index(request: Request) -> dict[str, str]:
    return {"request_id": request.state.request_id}
