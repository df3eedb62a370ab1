"""Routes and the router: from a request path to the handler that answers it.

Adding a route compiles its path template (:mod:`framework.paths`) and its endpoint's plan
(:mod:`framework.dependencies`). A request does one index lookup and runs the plan.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import PydanticSchemaGenerationError, PydanticUserError, TypeAdapter
from pydantic_core import to_json
from typing_extensions import TypedDict, Unpack

from framework.concurrency import run_in_threadpool
from framework.datastructures import URL, URLPath
from framework.dependencies import compile_endpoint
from framework.endpoints import WebSocketEndpoint
from framework.exception_handlers import answer_websocket_error, answer_with_handler
from framework.exceptions import HTTPException
from framework.paths import PathIndex, PathTemplate
from framework.requests import Request
from framework.responses import JSONResponse, RedirectResponse, Response
from framework.types import Receive, Scope, Send
from framework.websockets import WebSocket

_F = TypeVar("_F", bound=Callable[..., Any])


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
    """Options every HTTP route accepts, on the app, on a :class:`Router`, and on ``Route``."""

    status_code: int | None
    response_class: type[Response]
    response_model: Any
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
    max_body_size: int | None


def _serializer(annotation: Any) -> Callable[[Any], bytes]:
    """A JSON serialiser for values of ``annotation`` (pydantic-core, built once per route)."""
    if annotation in (inspect.Signature.empty, Any, None) or (
        inspect.isclass(annotation) and issubclass(annotation, Response)
    ):
        return to_json
    if isinstance(annotation, str):
        return to_json  # a hint that could not be resolved: serialise by value
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError, NameError):
        return to_json

    def dump(value: Any) -> bytes:
        return adapter.dump_json(value, warnings=False)

    # pydantic >= 2.10 defers building a type whose references are not defined yet (a model
    # declared further down the module); older versions raised above.
    rebuild = getattr(adapter, "rebuild", None)
    if rebuild is None or rebuild(raise_errors=False) is not False:
        return dump

    def dump_when_defined(value: Any) -> bytes:
        # Typed as declared once the references resolve; by value until then, never a 500.
        try:
            return dump(value)
        except PydanticUserError:
            return to_json(value)

    return dump_when_defined


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


class Route(BaseRoute):
    """An HTTP route: ``Route("/items/{item_id:int}", read_item, methods=["GET"])``.

    A ``GET`` route answers ``HEAD`` too (same headers, no body). The endpoint's parameters are
    filled from the path by name; a parameter annotated :class:`Request` receives the request.
    Whatever the endpoint returns that is not a :class:`Response` is serialised to JSON by
    pydantic-core, typed by the ``response_model`` or the return annotation when there is one.
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
        if self.dependencies:
            raise NotImplementedError("Route dependencies arrive with Depends support")
        self.include_in_schema = options.get("include_in_schema", True)
        self.max_body_size: int | None = options.get("max_body_size", UNSET)
        self.plan = compile_endpoint(endpoint, path, self.template.param_names, Request)
        model = options.get("response_model", UNSET)
        self.response_model = self.plan.return_annotation if model is UNSET else model
        self._serialize = _serializer(self.response_model)
        self._fast_json = self.response_class is JSONResponse
        status = self.status_code
        self._empty_body = status < 200 or status in (204, 304)

    def with_options(self, *, prefix: str = "", **overrides: Any) -> Route:
        """A copy of this route under ``prefix`` with some options replaced."""
        options: dict[str, Any] = {**self.options, **overrides}
        methods = sorted(self.methods - {"HEAD"} if self.implicit_head else self.methods)
        return Route(prefix + self.path, self.endpoint, methods=methods, **options)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request that matched this route (path parameters are in the scope).

        An exception from the endpoint is answered here by its registered handler (nothing has
        been sent yet); one without a handler goes on up to the error boundary.
        """
        plan = self.plan
        request = None
        try:
            if plan.needs_request:
                request = Request(scope, receive, send, max_body_size=self.max_body_size)
            if not plan.takes_arguments:
                result = (
                    await plan.endpoint()
                    if plan.is_async
                    else await run_in_threadpool(plan.endpoint)
                )
            elif plan.is_async:
                result = await plan.endpoint(**plan.arguments(scope["path_params"], request))
            else:
                kwargs = plan.arguments(scope["path_params"], request)
                result = await run_in_threadpool(plan.endpoint, **kwargs)
        except Exception as exc:
            if not await answer_with_handler(exc, scope, receive, send, request):
                raise
            if request is not None:
                await request.close()
            return

        if isinstance(result, Response):
            response = result
        elif self._fast_json:
            # The common case, without a Response object: status, two headers, body.
            if self._empty_body:
                await send(
                    {"type": "http.response.start", "status": self.status_code, "headers": []}
                )
                await send({"type": "http.response.body", "body": b""})
            else:
                body = self._serialize(result)
                headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]
                await send(
                    {"type": "http.response.start", "status": self.status_code, "headers": headers}
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b"" if scope["method"] == "HEAD" else body,
                    }
                )
            if request is not None and request._form is not None:
                await request.close()
            return
        else:
            response = self.response_class(result, status_code=self.status_code)

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
        if request is not None and request._form is not None:
            await request.close()

    def __repr__(self) -> str:
        return f"Route(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route: ``WebSocketRoute("/ws/{room}", chat)``.

    The endpoint is an ``async def`` taking a parameter annotated :class:`WebSocket` (and path
    parameters by name), or a :class:`~framework.endpoints.WebSocketEndpoint` subclass. An
    exception it raises ends the conversation as
    :func:`~framework.exception_handlers.answer_websocket_error` describes.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], *, name: str | None = None) -> None:
        self.path = path
        self.endpoint = endpoint
        self.template = PathTemplate.compile(path)
        self.name = str(name or getattr(endpoint, "__name__", type(endpoint).__name__))
        self.endpoint_class = (
            endpoint
            if inspect.isclass(endpoint) and issubclass(endpoint, WebSocketEndpoint)
            else None
        )
        if self.endpoint_class is None:
            self.plan = compile_endpoint(endpoint, path, self.template.param_names, WebSocket)
            if not self.plan.is_async:
                raise TypeError(f"WebSocket endpoint {self.name!r} must be an async function")

    def with_prefix(self, prefix: str) -> WebSocketRoute:
        """A copy of this route under ``prefix``."""
        return WebSocketRoute(prefix + self.path, self.endpoint, name=self.name)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the endpoint for one connection that matched this route."""
        websocket = WebSocket(scope, receive, send)
        try:
            if self.endpoint_class is not None:
                await self.endpoint_class(scope, receive, send).dispatch(websocket)
            else:
                plan = self.plan
                await plan.endpoint(**plan.arguments(scope["path_params"], websocket))
        except Exception as exc:
            await answer_websocket_error(exc, websocket)

    def __repr__(self) -> str:
        return f"WebSocketRoute(path={self.path!r}, name={self.name!r})"


class _MethodTable(dict[str, Route]):
    """The routes of one path template, by method. The first route declared for a method wins
    (as in FastAPI), except that an explicit HEAD route replaces the one a GET route implies."""

    def add(self, route: Route) -> None:
        for method in route.methods:
            if method == "HEAD" and route.implicit_head:
                self.setdefault("HEAD", route)
            elif method == "HEAD" and self.get("HEAD", route).implicit_head:
                self["HEAD"] = route
            else:
                self.setdefault(method, route)


class RouteDecorators:
    """The decorators shared by :class:`Router` and :class:`~framework.App`.

    ``@app.get("/items/{item_id}")`` registers the function below it and returns it unchanged.
    """

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Register ``endpoint`` for ``path`` and ``methods`` (GET by default)."""
        raise NotImplementedError

    def api_route(
        self, path: str, *, methods: Sequence[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_api_route`."""

        def decorator(func: _F) -> _F:
            self.add_api_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``GET`` (and ``HEAD``) handler."""
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``POST`` handler."""
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``PUT`` handler."""
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``PATCH`` handler."""
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``DELETE`` handler."""
        return self.api_route(path, methods=["DELETE"], **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register an explicit ``HEAD`` handler (GET routes already answer HEAD)."""
        return self.api_route(path, methods=["HEAD"], **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register an ``OPTIONS`` handler."""
        return self.api_route(path, methods=["OPTIONS"], **options)

    def trace(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[_F], _F]:
        """Register a ``TRACE`` handler."""
        return self.api_route(path, methods=["TRACE"], **options)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None
    ) -> None:
        """Register a WebSocket endpoint for ``path``."""
        raise NotImplementedError

    def websocket(self, path: str, name: str | None = None) -> Callable[[_F], _F]:
        """Register the decorated ``async def handler(websocket: WebSocket, ...)``."""

        def decorator(func: _F) -> _F:
            self.add_websocket_route(path, func, name=name)
            return func

        return decorator

    websocket_route = websocket


def route_path(scope: Scope) -> str:
    """The path to route on: ``scope["path"]`` without the ``root_path`` the app is mounted at."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        rest = path[len(root_path) :]
        if not rest:
            return "/"
        if rest[0] == "/":
            return rest
    return path


class Router(RouteDecorators):
    """A group of routes with shared options: ``Router(prefix="/users", tags=["users"])``.

    Add routes with the decorators, then ``app.include_router(router)``. A Router is also an ASGI
    app of its own. Route options given here (``tags``, ``dependencies``, ``max_body_size``, ...)
    apply to every route added to it.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        tags: list[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        routes: Sequence[BaseRoute] | None = None,
        max_body_size: int | None = UNSET,
        default_response_class: type[Response] = JSONResponse,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        redirect_slashes: bool = True,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("A router prefix must start with '/' and not end with '/'")
        self.prefix = prefix
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        self.max_body_size = max_body_size
        self.default_response_class = default_response_class
        self.responses = dict(responses or {})
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.redirect_slashes = redirect_slashes
        self.routes: list[BaseRoute] = []
        self._http: PathIndex[_MethodTable] = PathIndex()
        self._websockets: PathIndex[WebSocketRoute] = PathIndex()
        # Whether any HTTP template can match a path ending in "/" (other than "/" itself):
        # when none can, a 404 needs no search for a trailing-slash redirect target.
        self._slash_targets = False
        for route in routes or []:
            self.add_route(route)

    # -- building -------------------------------------------------------------------------------

    def add_route(self, route: BaseRoute) -> None:
        """Add a route object as it is (no prefix or options applied).

        A route without a body size limit of its own takes this router's (none if unset).
        """
        if isinstance(route, Route):
            if route.max_body_size is UNSET:
                route.max_body_size = None if self.max_body_size is UNSET else self.max_body_size
            self._http.setdefault(route.template, _MethodTable).add(route)
            if (route.path.endswith("/") and route.path != "/") or "path" in {
                c.name for c in route.template.convertors.values()
            }:
                self._slash_targets = True
        elif (
            isinstance(route, WebSocketRoute)
            and self._websockets.setdefault(route.template, lambda: route) is not route
        ):
            raise ValueError(f"A WebSocket route for {route.path!r} already exists")
        self.routes.append(route)

    def _route_options(self, options: RouteOptions) -> RouteOptions:
        """``options`` merged with this router's: its tags and dependencies first."""
        merged: RouteOptions = {**options}
        merged["tags"] = [*self.tags, *(options.get("tags") or [])]
        merged["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        merged["responses"] = {**self.responses, **(options.get("responses") or {})}
        if options.get("max_body_size", UNSET) is UNSET:
            merged["max_body_size"] = self.max_body_size
        if "response_class" not in options:
            merged["response_class"] = self.default_response_class
        if options.get("deprecated") is None and self.deprecated is not None:
            merged["deprecated"] = self.deprecated
        if not self.include_in_schema:
            merged["include_in_schema"] = False
        return merged

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        """Register ``endpoint`` for ``self.prefix + path`` and ``methods`` (GET by default)."""
        self.add_route(
            Route(self.prefix + path, endpoint, methods=methods, **self._route_options(options))
        )

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: list[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
    ) -> None:
        """Copy every route of ``router`` into this one, under ``prefix``.

        Tags, dependencies and responses given here come before the route's own; the body size
        limit of the route, else of ``router``, else of this router applies.
        """
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("An include prefix must start with '/' and not end with '/'")
        outer = Router(
            prefix=self.prefix + prefix,
            tags=[*self.tags, *(tags or [])],
            dependencies=[*self.dependencies, *(dependencies or [])],
            responses={**self.responses, **(responses or {})},
            max_body_size=self.max_body_size,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
        )
        for route in router.routes:
            if isinstance(route, Route):
                options = outer._route_options(route.options)
                options["response_class"] = route.response_class
                self.add_route(route.with_options(prefix=outer.prefix, **options))
            elif isinstance(route, WebSocketRoute):
                self.add_route(route.with_prefix(outer.prefix))
            else:
                self.add_route(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None
    ) -> None:
        """Register a WebSocket endpoint for ``self.prefix + path``."""
        self.add_route(WebSocketRoute(self.prefix + path, endpoint, name=name))

    # -- lookups --------------------------------------------------------------------------------

    def url_path_for(self, name: str, /, **params: Any) -> URLPath:
        """The path of the route called ``name`` with ``params`` filled in."""
        for route in self.routes:
            try:
                return route.url_path_for(name, **params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, params)

    # -- ASGI -----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "router" not in scope:
            scope["router"] = self
        kind = scope["type"]
        if kind == "http":
            path = route_path(scope)
            found = self._http.find(path)
            if found is not None:
                route = found[0].get(scope["method"])
                if route is not None:
                    scope["path_params"] = found[1]
                    scope["route"] = route
                    await route.handle(scope, receive, send)
                    return
            await self._http_fallback(scope, receive, send, path, found is not None)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            raise RuntimeError(f"Router cannot handle ASGI scope type {kind!r}")

    async def _http_fallback(
        self, scope: Scope, receive: Receive, send: Send, path: str, path_matched: bool
    ) -> None:
        """No best match for path and method: try the other matches, then 405, 307 or 404."""
        if path_matched:
            method = scope["method"]
            allowed: set[str] = set()
            for table, params in self._http.find_all(path):
                route = table.get(method)
                if route is not None:
                    scope["path_params"] = params
                    scope["route"] = route
                    await route.handle(scope, receive, send)
                    return
                allowed.update(table)
            exc = HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
            if not await answer_with_handler(exc, scope, receive, send):
                raise exc
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            slash_possible = self._slash_targets or other[-1] != "/"
            if slash_possible and self._http.find(other) is not None:
                url = URL(scope=scope)
                target = url.replace(path=url.path[: len(url.path) - len(path)] + other)
                await RedirectResponse(target, status_code=307)(scope, receive, send)
                return
        exc = HTTPException(404)
        if not await answer_with_handler(exc, scope, receive, send):
            raise exc

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._websockets.find(route_path(scope))
        if found is None:
            # Refuse the handshake (servers answer 403), as Starlette does.
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        route, params = found
        scope["path_params"] = params
        scope["route"] = route
        await route.handle(scope, receive, send)
