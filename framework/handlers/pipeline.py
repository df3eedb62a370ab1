"""A route's prepared request function: run the endpoint, then answer, in one place.

:func:`prepare_http` decides once per route what a request does: :func:`_direct` or
:func:`_planned`, then the answer (JSON sent without a Response object where it can). An
exception before anything is sent goes to the app's exception handlers, else on up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic_core import from_json

from framework.background import BackgroundTasks
from framework.concurrency import run_in_threadpool
from framework.exception_handlers import answer_websocket_error, answer_with_handler
from framework.exceptions import RequestValidationError, WebSocketRequestValidationError
from framework.handlers.plan import Plan
from framework.handlers.read import Context, Limits
from framework.handlers.run import Program, run
from framework.handlers.serialize import ResponseSerializer
from framework.http.forms import FormLimits
from framework.http.requests import Request
from framework.http.responses import JSONResponse, Response
from framework.http.websockets import WebSocket
from framework.types import Receive, Scope, Send

__all__ = ["Answering", "RequestFunction", "prepare_http", "prepare_websocket", "send_json"]

RequestFunction = Callable[[Scope, Receive, Send], Awaitable[None]]
"""What a route runs per request: an ASGI call."""
Answer = Callable[[Any, Scope, Receive, Send, "Context | None"], Awaitable[None]]
"""What the endpoint returned -> the sending of the answer; raises if it does not fit the model."""

_JSON_TYPE = (b"content-type", b"application/json")


@dataclasses.dataclass(frozen=True)
class Answering:
    """How a route answers (status, response class, serializer) and the limits of its Request."""

    status_code: int
    response_class: type[Response]
    serializer: ResponseSerializer
    max_body_size: int | None = None
    form_limits: FormLimits | None = None


def prepare_http(plan: Plan, answering: Answering, path_names: tuple[str, ...]) -> RequestFunction:
    """The request function of an HTTP route whose endpoint's plan is ``plan``."""
    root = plan.root
    endpoint = root.call if root.is_async else functools.partial(run_in_threadpool, root.call)
    steps = [step.dependant for step in plan.steps]
    # A Request is made for a callable that asks for one, and to parse a form.
    makes_request = plan.connects or any(body.form for body in plan.bodies)
    merges = any(d.response_param is not None or d.background_param is not None for d in steps)
    answer = _answer(answering, merged=bool(makes_request or merges))
    only_path = len(root.trusted_path) == len(path_names) and all(
        name == alias for name, alias in root.trusted_path
    )
    injects = (root.connection_param, root.response_param, root.background_param, root.scopes_param)
    if len(steps) == 1 and only_path and not root.groups and root.body is None and not any(injects):
        return _direct(endpoint, answer)
    limits = (answering.max_body_size, answering.form_limits)
    return _planned(Program(plan), endpoint, answer, limits)


def _direct(endpoint: Callable[..., Awaitable[Any]], answer: Answer) -> RequestFunction:
    """An endpoint whose parameters are the route's converted path parameters, or none."""

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            result = await endpoint(**scope["path_params"])
            reply = answer(result, scope, receive, send, None)
        except Exception as exc:  # nothing has been sent yet
            if not await answer_with_handler(exc, scope, receive, send):
                raise
            return
        await reply

    return handle


def _planned(
    program: Program,
    endpoint: Callable[..., Awaitable[Any]],
    answer: Answer,
    limits: Limits,
) -> RequestFunction:
    """An endpoint with values to read, dependencies to run, or both."""
    steps, arguments = program.steps, program.arguments

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        ctx = Context(scope, receive, send, limits)
        try:
            try:
                values = await run(program, ctx) if steps else arguments(ctx, [])
                result = await endpoint(**values)
                reply = answer(result, scope, receive, send, ctx)
            except Exception as exc:  # nothing has been sent yet
                if not await answer_with_handler(exc, scope, receive, send, ctx.connection):
                    raise
                return
            await reply
        finally:
            if ctx.connection is not None:  # the Request a step made
                await ctx.connection.close()

    async def handle_with_exits(scope: Scope, receive: Receive, send: Send) -> None:
        # The code after a dependency's ``yield`` runs once the answer is sent, and sees the
        # endpoint's exception first if it raised.
        ctx = Context(scope, receive, send, limits)
        replied = False
        try:
            async with contextlib.AsyncExitStack() as ctx.stack:
                values = await run(program, ctx)
                result = await endpoint(**values)
                reply = answer(result, scope, receive, send, ctx)
                replied = True
                await reply
        except Exception as exc:
            if replied or not await answer_with_handler(exc, scope, receive, send, ctx.connection):
                raise
            return
        finally:
            if ctx.connection is not None:
                await ctx.connection.close()
        if not replied:
            raise RuntimeError(
                "No response to send: the endpoint raised an exception that a yield dependency "
                "caught without raising it again (re-raise it, or raise another one, in the "
                "dependency's except block)"
            )

    return handle_with_exits if program.plan.exits else handle


def _answer(answering: Answering, merged: bool) -> Answer:
    """The route's answer to what its endpoint returned (``merged``: see :func:`_merged_answer`)."""
    status = answering.status_code
    if answering.response_class is JSONResponse and status >= 200 and status not in (204, 304):
        plain = _json_answer(answering.serializer, status)
    else:
        plain = _class_answer(answering)
    return _merged_answer(answering, plain) if merged else plain


def _json_answer(serializer: ResponseSerializer, status: int) -> Answer:
    def answer(
        result: Any, scope: Scope, receive: Receive, send: Send, ctx: Context | None
    ) -> Awaitable[None]:
        if isinstance(result, Response):
            return result(scope, receive, send)
        return send_json(send, status, serializer.serialize(result), scope["method"] == "HEAD")

    return answer


async def send_json(send: Send, status: int, body: bytes, head: bool = False) -> None:
    """The JSON answer: a start with its two headers, and the body (none for ``HEAD``)."""
    headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _class_answer(answering: Answering) -> Answer:
    def answer(
        result: Any, scope: Scope, receive: Receive, send: Send, ctx: Context | None
    ) -> Awaitable[None]:
        if isinstance(result, Response):
            return result(scope, receive, send)
        return _response(answering, result, None, None)(scope, receive, send)

    return answer


def _merged_answer(answering: Answering, plain: Answer) -> Answer:
    def answer(
        result: Any, scope: Scope, receive: Receive, send: Send, ctx: Context | None
    ) -> Awaitable[None]:
        assert ctx is not None
        sub_response, background = ctx.sub_response, ctx.background
        if isinstance(result, Response):
            if background is not None and result.background is not background:
                if result.background is not None:
                    # Both run: the tasks added while handling, then the response's own.
                    background.tasks.append(result.background)
                result.background = background
            response = result
        elif sub_response is None and background is None:
            return plain(result, scope, receive, send, ctx)
        else:
            response = _response(answering, result, sub_response, background)
        request: Request | None = ctx.connection
        if request is not None and response.watches_disconnect:
            # The body may be read while streaming, when a 413 could no longer be sent.
            receive = request.streaming_receive()
        return response(scope, receive, send)

    return answer


def _response(
    answering: Answering,
    result: Any,
    sub_response: Response | None,
    background: BackgroundTasks | None,
) -> Response:
    """A Response for ``result`` (no body for 1xx, 204 and 304), with what callables set."""
    status = answering.status_code
    if sub_response is not None and sub_response.status_code:
        status = sub_response.status_code
    serializer, response_class = answering.serializer, answering.response_class
    if status < 200 or status in (204, 304):
        response = Response(status_code=status)
    elif response_class is JSONResponse:
        body = serializer.serialize(result)
        response = Response(body, status_code=status, media_type="application/json")
    elif serializer.model is not None and issubclass(response_class, JSONResponse):
        # Another JSON class (its own encoder): give it the filtered, validated content.
        response = response_class(from_json(serializer.serialize(result)), status_code=status)
    else:
        response = response_class(result, status_code=status)
    if sub_response is not None:
        response.raw_headers.extend(sub_response.raw_headers)
    response.background = background
    return response


def prepare_websocket(plan: Plan) -> RequestFunction:
    """The connection function of a WebSocket route whose endpoint's plan is ``plan``; errors
    end the conversation (:func:`~framework.exception_handlers.answer_websocket_error`)."""
    program = Program(plan)
    endpoint = plan.root.call

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        ctx = Context(scope, receive, send, (None, None))
        websocket = ctx.connection = WebSocket(scope, receive, send)
        try:
            async with contextlib.AsyncExitStack() as ctx.stack:
                await endpoint(**await run(program, ctx))
        except RequestValidationError as exc:
            await answer_websocket_error(WebSocketRequestValidationError(exc.errors()), websocket)
        except Exception as exc:
            await answer_websocket_error(exc, websocket)

    return handle
