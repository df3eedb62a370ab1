"""Routes: a compiled path template plus a compiled plan for the endpoint behind it.

:class:`Route.handle` is where a request meets its handler: run the plan (read and validate the
parameters, resolve dependencies), call the endpoint, answer its exceptions with the registered
handlers, and send the result (serialised through the route's response model).
"""

from __future__ import annotations

import contextlib
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic_core import from_json
from typing_extensions import TypedDict, Unpack

from framework.background import BackgroundTasks
from framework.concurrency import run_in_threadpool
from framework.endpoints import WebSocketEndpoint
from framework.exception_handlers import answer_websocket_error, answer_with_handler
from framework.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketRequestValidationError,
)
from framework.handlers.annotations import is_class, signature_hints
from framework.handlers.compile import Dependant, compile_dependant, embed_shared_body
from framework.handlers.run import Plan, Solver, run_plain, solve_flat
from framework.handlers.serialize import ResponseSerializer
from framework.http.datastructures import URLPath
from framework.http.forms import FormLimits
from framework.http.requests import Request
from framework.http.responses import JSONResponse, Response
from framework.http.websockets import WebSocket
from framework.routing.paths import PathTemplate
from framework.types import Message, Receive, Scope, Send


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an option left to the enclosing router or app (``None`` means "no limit" for sizes)."""

_JSON_TYPE = (b"content-type", b"application/json")


class NoMatchFound(Exception):
    """``url_path_for`` found no route with that name and those parameters."""

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        keys = ", ".join(params)
        super().__init__(f'No route exists for name "{name}" and params "{keys}".')


class RouteOptions(TypedDict, total=False):
    """Options every HTTP route accepts, on the app, on a Router, and on ``Route``."""

    status_code: int | None
    response_class: type[Response]
    response_model: Any
    response_model_include: Any
    response_model_exclude: Any
    response_model_by_alias: bool
    response_model_exclude_unset: bool
    response_model_exclude_defaults: bool
    response_model_exclude_none: bool
    tags: list[str] | None
    name: str | None
    summary: str | None
    description: str | None
    response_description: str
    deprecated: bool | None
    include_in_schema: bool
    responses: dict[int | str, dict[str, Any]] | None
    dependencies: Sequence[Any] | None
    operation_id: str | None
    openapi_extra: dict[str, Any] | None
    callbacks: list[BaseRoute] | None
    generate_unique_id_function: Callable[[Route], str] | None
    max_body_size: int | None
    form_limits: FormLimits | None


class BaseRoute:
    """What the router needs from any route: a compiled path and a name."""

    path: str
    name: str
    template: PathTemplate

    def url_path_for(self, name: str, /, **params: Any) -> URLPath:
        """This route's path filled with ``params``, if ``name`` is this route's name."""
        if name != self.name or set(params) != set(self.template.param_names):
            raise NoMatchFound(name, params)
        try:
            return URLPath(self.template.format(params))
        except ValueError:
            raise NoMatchFound(name, params) from None


def _without_responses(annotation: Any) -> Any:
    """``Item | RedirectResponse`` -> ``Item``: a returned Response is sent as it is, anything
    else is still checked and filtered by the rest of the annotation."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    args = typing.get_args(annotation)
    kept = tuple(arg for arg in args if not (is_class(arg) and issubclass(arg, Response)))
    if len(kept) == len(args):
        return annotation
    return typing.cast(Any, typing.Union)[kept] if kept else None


def _convertor_names(template: PathTemplate) -> dict[str, str]:
    return {name: convertor.name for name, convertor in template.convertors.items()}


class Route(BaseRoute):
    """An HTTP route: ``Route("/items/{item_id:int}", read_item, methods=["GET"])``.

    A ``GET`` route answers ``HEAD`` too (same headers, no body). The endpoint's parameters are
    read from the request as its signature declares (see :mod:`framework.handlers.compile`).
    Whatever it returns that is not a :class:`Response` is validated against the
    ``response_model`` (default: the return annotation) and serialised to JSON.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.template = PathTemplate.compile(path)
        self.options = options
        self.name = str(
            options.get("name") or getattr(endpoint, "__name__", type(endpoint).__name__)
        )
        declared = {m.upper() for m in (methods or ["GET"])}
        self.methods = declared | {"HEAD"} if "GET" in declared else declared
        self.implicit_head = "GET" in declared and "HEAD" not in declared
        self.status_code = options.get("status_code") or 200
        self.response_class = options.get("response_class", JSONResponse)
        self.tags = list(options.get("tags") or [])
        self.dependencies = list(options.get("dependencies") or [])
        self.include_in_schema = options.get("include_in_schema", True)
        self.responses = dict(options.get("responses") or {})
        self.summary = options.get("summary")
        self.description = options.get("description")
        self.deprecated = options.get("deprecated")
        self.max_body_size: int | None = options.get("max_body_size", UNSET)
        self.form_limits: FormLimits | None = options.get("form_limits")
        self.dependant = compile_dependant(
            endpoint,
            path=path,
            path_names=self.template.param_names,
            connection=Request,
            dependencies=self.dependencies,
            path_convertors=_convertor_names(self.template),
        )
        embed_shared_body(self.dependant)
        model = options.get("response_model", UNSET)
        if model is UNSET:
            model = _without_responses(signature_hints(endpoint)[1].get("return"))
        self.response_model = model
        self.serializer = ResponseSerializer(
            model,
            namespace=getattr(inspect.unwrap(endpoint), "__globals__", None),
            include=options.get("response_model_include"),
            exclude=options.get("response_model_exclude"),
            by_alias=options.get("response_model_by_alias", True),
            exclude_unset=options.get("response_model_exclude_unset", False),
            exclude_defaults=options.get("response_model_exclude_defaults", False),
            exclude_none=options.get("response_model_exclude_none", False),
        )
        self._fast_json = self.response_class is JSONResponse
        status = self.status_code
        self._empty_body = status < 200 or status in (204, 304)
        dependant = self.dependant
        self._flat = dependant.flat
        self._no_arguments = self._flat and not (
            dependant.trusted_path or dependant.connection_param or dependant.groups
        )
        self.plan = Plan(dependant)
        # Dependencies that read only path, query, header and cookie values: run_plain.
        self._plain = None if self._flat else self.plan.plain

    def with_options(self, *, prefix: str = "", **overrides: Any) -> Route:
        """A copy of this route under ``prefix`` with some options replaced."""
        options: dict[str, Any] = {**self.options, **overrides}
        methods = sorted(self.methods - {"HEAD"} if self.implicit_head else self.methods)
        return Route(prefix + self.path, self.endpoint, methods=methods, **options)

    # -- one request ----------------------------------------------------------------------------

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request that matched this route (path parameters are in the scope).

        An exception from the plan or the endpoint is answered here by its registered handler
        (nothing has been sent yet); one without a handler goes on up to the error boundary.
        """
        plain = self._plain
        if not self._flat and (
            plain is None or getattr(scope.get("app"), "dependency_overrides", None)
        ):
            await self._handle_with_plan(scope, receive, send)
            return
        # Only path, query, header and cookie values (and, for a plain plan, dependencies that
        # read nothing else): validated without a Solver.
        dependant = self.dependant
        request = None
        try:
            if self._no_arguments:
                call = dependant.call
                result = await call() if dependant.is_async else await run_in_threadpool(call)
            elif plain is not None:
                result = await run_plain(plain, scope)
            else:
                if dependant.groups:
                    kwargs = solve_flat(dependant, scope)
                else:
                    path_params = scope["path_params"]
                    kwargs = {name: path_params[alias] for name, alias in dependant.trusted_path}
                if dependant.connection_param is not None:
                    request = Request(scope, receive, send, max_body_size=self.max_body_size)
                    kwargs[dependant.connection_param] = request
                if dependant.is_async:
                    result = await dependant.call(**kwargs)
                else:
                    result = await run_in_threadpool(dependant.call, **kwargs)
        except Exception as exc:
            if not await answer_with_handler(exc, scope, receive, send, request):
                raise
            return
        try:
            # _respond's common cases, without its call: a Response and no Request to watch, or
            # a value for the JSON serialiser.
            if isinstance(result, Response):
                if request is None:
                    await result(scope, receive, send)
                else:
                    await self._respond(result, scope, receive, send, request, None, None)
            elif self._fast_json:
                start, body = self._json_messages(result, scope)
                await send(start)
                await send(body)
            else:
                await self._respond(result, scope, receive, send, request, None, None)
        except ResponseValidationError as exc:  # raised before anything is sent
            if not await answer_with_handler(exc, scope, receive, send, request):
                raise
        if request is not None and request._form is not None:
            await request.close()

    async def _handle_with_plan(self, scope: Scope, receive: Receive, send: Send) -> None:
        solver = Solver(scope, receive, send, max_body_size=self.max_body_size)
        overrides = getattr(scope.get("app"), "dependency_overrides", None)
        plan = self.plan.for_overrides(overrides) if overrides else self.plan
        try:
            if plan.has_generators:
                # yield dependencies: their code after yield runs once the response is sent,
                # and sees the endpoint's exception first if it raised.
                async with contextlib.AsyncExitStack() as stack:
                    solver.stack = stack
                    await self._run(solver, scope, receive, send)
                if not solver.responding:
                    raise RuntimeError(
                        "No response to send: the endpoint raised an exception that a yield "
                        "dependency caught without raising it again (re-raise it, or raise "
                        "another one, in the dependency's except block)"
                    )
            else:
                await self._run(solver, scope, receive, send)
        except Exception as exc:
            # A response model mismatch is found before anything is sent: still answerable.
            if solver.responding and not isinstance(exc, ResponseValidationError):
                raise
            request = solver.request
            if not await answer_with_handler(exc, scope, receive, send, request):
                raise
        finally:
            request = solver.request
            if request is not None and request._form is not None:
                await request.close()

    async def _run(self, solver: Solver, scope: Scope, receive: Receive, send: Send) -> None:
        dependant = self.dependant
        values = await solver.run(self.plan)
        if dependant.is_async:
            result = await dependant.call(**values)
        else:
            result = await run_in_threadpool(dependant.call, **values)
        solver.responding = True
        sub_response, background = solver.sub_response, solver.background
        if (
            self._fast_json
            and sub_response is None
            and background is None
            and not isinstance(result, Response)
        ):
            # _respond's common case, without its call
            start, body = self._json_messages(result, scope)
            await send(start)
            await send(body)
            return
        await self._respond(result, scope, receive, send, solver.request, sub_response, background)

    async def _respond(
        self,
        result: Any,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request | None,
        sub_response: Response | None,
        background: BackgroundTasks | None,
    ) -> None:
        """Send what the endpoint returned."""
        if isinstance(result, Response):
            response = result
            if background is not None and response.background is not background:
                if response.background is not None:
                    # Both run: the tasks added while handling, then the response's own.
                    background.tasks.append(response.background)
                response.background = background
        elif self._fast_json and sub_response is None and background is None:
            # The common case, without a Response object: status, two headers, body.
            start, body = self._json_messages(result, scope)
            await send(start)
            await send(body)
            return
        else:
            response = self._build_response(result, sub_response, background)
        if request is not None and response.watches_disconnect:
            if not request._stream_started:
                # The body may be read while streaming, when a 413 could no longer be sent:
                # refuse a declared oversize body now.
                try:
                    request._check_declared_length()
                except HTTPException as exc:
                    await answer_with_handler(exc, scope, receive, send, request)
                    return
            await response(scope, request._receive_while_streaming(), send)
        else:
            await response(scope, receive, send)

    def _json_messages(self, result: Any, scope: Scope) -> tuple[Message, Message]:
        """The start and body messages of a JSON answer: status, two headers, body (a plain
        function, so that sending costs no coroutine of its own)."""
        status = self.status_code
        if self._empty_body:
            return (
                {"type": "http.response.start", "status": status, "headers": []},
                {"type": "http.response.body", "body": b""},
            )
        body = self.serializer.serialize(result)
        headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]
        head = scope["method"] == "HEAD"
        return (
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": b"" if head else body},
        )

    def _build_response(
        self, result: Any, sub_response: Response | None, background: BackgroundTasks | None
    ) -> Response:
        status = self.status_code
        if sub_response is not None and sub_response.status_code:
            status = sub_response.status_code
        empty = status < 200 or status in (204, 304)
        if empty:
            response = Response(status_code=status)
        elif self._fast_json:
            body = self.serializer.serialize(result)
            response = Response(body, status_code=status, media_type="application/json")
        elif self.serializer.model is not None and issubclass(self.response_class, JSONResponse):
            # Another JSON class (its own encoder): give it the filtered, validated content.
            content = from_json(self.serializer.serialize(result))
            response = self.response_class(content, status_code=status)
        else:
            response = self.response_class(result, status_code=status)
        if sub_response is not None:
            response.raw_headers.extend(sub_response.raw_headers)
        response.background = background
        return response

    def __repr__(self) -> str:
        return f"Route(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route: ``WebSocketRoute("/ws/{room}", chat)``.

    The endpoint is an ``async def`` taking a parameter annotated :class:`WebSocket` (and
    parameters and dependencies as for HTTP, from the path, query, headers and cookies), or a
    :class:`~framework.endpoints.WebSocketEndpoint` subclass. Parameters that do not validate
    close the socket with 1008; an exception ends the conversation as
    :func:`~framework.exception_handlers.answer_websocket_error` describes.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        self.path = path
        self.endpoint = endpoint
        self.template = PathTemplate.compile(path)
        self.name = str(name or getattr(endpoint, "__name__", type(endpoint).__name__))
        self.dependencies = list(dependencies or [])
        self.endpoint_class = (
            endpoint if is_class(endpoint) and issubclass(endpoint, WebSocketEndpoint) else None
        )
        self.dependant: Dependant | None = None
        if self.endpoint_class is None:
            self.dependant = compile_dependant(
                endpoint,
                path=path,
                path_names=self.template.param_names,
                connection=WebSocket,
                dependencies=self.dependencies,
                path_convertors=_convertor_names(self.template),
            )
            if not self.dependant.is_async:
                raise TypeError(f"WebSocket endpoint {self.name!r} must be an async function")
            if self.dependant.needs_body:
                raise TypeError(f"WebSocket endpoint {self.name!r} cannot take body parameters")
            self.plan = Plan(self.dependant)

    def with_prefix(self, prefix: str, dependencies: Sequence[Any] = ()) -> WebSocketRoute:
        """A copy of this route under ``prefix``, with ``dependencies`` run first."""
        return WebSocketRoute(
            prefix + self.path,
            self.endpoint,
            name=self.name,
            dependencies=[*dependencies, *self.dependencies],
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the endpoint for one connection that matched this route."""
        websocket = WebSocket(scope, receive, send)
        try:
            if self.endpoint_class is not None:
                await self.endpoint_class(scope, receive, send).dispatch(websocket)
            else:
                await self._run(websocket)
        except RequestValidationError as exc:
            error = WebSocketRequestValidationError(exc.errors())
            await answer_websocket_error(error, websocket)
        except Exception as exc:
            await answer_websocket_error(exc, websocket)

    async def _run(self, websocket: WebSocket) -> None:
        dependant = self.dependant
        assert dependant is not None
        solver = Solver(websocket.scope, websocket._receive, websocket._send, connection=websocket)
        async with contextlib.AsyncExitStack() as stack:
            solver.stack = stack
            values = await solver.run(self.plan)
            await dependant.call(**values)

    def __repr__(self) -> str:
        return f"WebSocketRoute(path={self.path!r}, name={self.name!r})"
