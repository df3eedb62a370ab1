"""Dispatch-style middleware, ``async def dispatch(request, call_next) -> Response`` (registered
with ``@app.middleware("http")``; see ``docs/middleware.md``). ``call_next(request)`` returns as
soon as the response *starts*, its body streams through; a body ``dispatch`` read is handed on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from framework.http.requests import Request
from framework.http.responses import Response
from framework.types import ASGIApp, Message, Receive, Scope, Send

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]


class _PassedOnResponse(Response):
    """The app's response: status and headers editable, body messages passed on as they come."""

    def __init__(
        self,
        start: Message,
        incoming: MemoryObjectReceiveStream[Message],
        failure: list[BaseException],
    ) -> None:
        self.status_code = start["status"]
        self.raw_headers = list(start.get("headers", []))
        self.background = None
        self.body = b""
        self._incoming = incoming
        self._failure = failure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for message in self._incoming:
            await send(message)
            if message["type"] != "http.response.body" or not message.get("more_body", False):
                break
        if self._failure:
            raise self._failure[0]


class BaseHTTPMiddleware:
    """Subclass and implement :meth:`dispatch`, or pass ``dispatch=`` a function."""

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = dispatch if dispatch is not None else self.dispatch

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        """Override: inspect ``request``, ``await call_next(request)``, adjust and return it."""
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        downstream_receive = request.downstream_receive()

        async with anyio.create_task_group() as group:
            outgoing, incoming = anyio.create_memory_object_stream[Message]()
            failure: list[BaseException] = []

            async def run_app() -> None:
                async with outgoing:
                    try:
                        await self.app(scope, downstream_receive, outgoing.send)
                    except Exception as exc:
                        failure.append(exc)

            async def call_next(_: Request) -> Response:
                group.start_soon(run_app)
                try:
                    start = await incoming.receive()
                except anyio.EndOfStream:
                    if failure:
                        raise failure[0] from None
                    raise RuntimeError("The application returned without a response") from None
                return _PassedOnResponse(start, incoming, failure)

            # An error of dispatch (or call_next) is raised as it is after the group, not in an
            # ExceptionGroup: the error boundary and `except` clauses see the original.
            error: Exception | None = None
            try:
                response = await self.dispatch_func(request, call_next)
                await response(scope, receive, send)
            except Exception as exc:
                error = exc
                group.cancel_scope.cancel()
            incoming.close()  # a downstream still sending (client gone) stops instead of blocking
        if error is not None:
            raise error
