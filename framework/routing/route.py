"""Routes: a path template and the prepared request function, ``route.handle``, of the endpoint
behind it; :meth:`Route.prepare` composes it again when ``app.dependency_overrides`` change.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from typing_extensions import TypedDict, Unpack

from framework.exception_handlers import answer_websocket_error
from framework.handlers.annotations import is_class, signature_hints
from framework.handlers.compile import Dependant, compile_dependant, embed_shared_body
from framework.handlers.pipeline import Answering, RequestFunction, prepare_http, prepare_websocket
from framework.handlers.plan import Plan
from framework.handlers.serialize import ResponseSerializer
from framework.http.datastructures import URLPath
from framework.http.forms import FormLimits
from framework.http.requests import HTTPConnection, Request
from framework.http.responses import JSONResponse, Response
from framework.http.websockets import WebSocket
from framework.routing.paths import PathTemplate
from framework.types import UNSET, Receive, Scope, Send

__all__ = ["UNSET", "BaseRoute", "NoMatchFound", "Route", "RouteOptions", "WebSocketRoute"]


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
    """``Item | RedirectResponse`` -> ``Item``: a returned Response is sent as it is."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation
    args = typing.get_args(annotation)
    kept = tuple(arg for arg in args if not (is_class(arg) and issubclass(arg, Response)))
    if len(kept) == len(args):
        return annotation
    return typing.cast(Any, typing.Union)[kept] if kept else None


def _compile(route: Route | WebSocketRoute, connection: type[HTTPConnection]) -> Dependant:
    convertors = {name: convertor.name for name, convertor in route.template.convertors.items()}
    return compile_dependant(
        route.endpoint,
        path=route.path,
        path_names=route.template.param_names,
        connection=connection,
        dependencies=route.dependencies,
        path_convertors=convertors,
    )


class Route(BaseRoute):
    """An HTTP route: ``Route("/items/{item_id:int}", read_item, methods=["GET"])``. A ``GET``
    route answers ``HEAD`` too. What the endpoint returns that is not a :class:`Response` is
    validated against the ``response_model`` (default: the return annotation) and sent as JSON.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        self.path, self.endpoint, self.options = path, endpoint, options
        self.template = PathTemplate.compile(path)
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
        self.summary, self.description = options.get("summary"), options.get("description")
        self.deprecated = options.get("deprecated")
        self.max_body_size: int | None = options.get("max_body_size", UNSET)
        self.form_limits: FormLimits | None = options.get("form_limits")
        self.dependant = _compile(self, Request)
        embed_shared_body(self.dependant)
        self.response_model = options.get("response_model", UNSET)
        if self.response_model is UNSET:
            self.response_model = _without_responses(signature_hints(endpoint)[1].get("return"))
        settings: dict[str, Any] = {  # response_model_include=... -> include=...
            key.removeprefix("response_model_"): value
            for key, value in options.items()
            if key.startswith("response_model_")
        }
        namespace = getattr(inspect.unwrap(endpoint), "__globals__", None)
        self.serializer = ResponseSerializer(self.response_model, namespace=namespace, **settings)
        self.prepare()

    def prepare(self, overrides: Mapping[Any, Any] | None = None) -> None:
        """Compose the request function (again), with ``overrides`` (replaced -> replacement)."""
        self.plan = Plan(self.dependant, overrides)
        max_body_size = None if self.max_body_size is UNSET else self.max_body_size
        answering = Answering(
            self.status_code, self.response_class, self.serializer, max_body_size, self.form_limits
        )
        self.handle: RequestFunction = prepare_http(self.plan, answering, self.template.param_names)

    def with_options(self, *, prefix: str = "", **overrides: Any) -> Route:
        """A copy of this route under ``prefix`` with some options replaced."""
        options: dict[str, Any] = {**self.options, **overrides}
        methods = sorted(self.methods - {"HEAD"} if self.implicit_head else self.methods)
        return Route(prefix + self.path, self.endpoint, methods=methods, **options)

    def __repr__(self) -> str:
        return f"Route(path={self.path!r}, name={self.name!r}, methods={sorted(self.methods)!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route: ``WebSocketRoute("/ws/{room}", chat)``.

    The endpoint is an ``async def`` taking a :class:`WebSocket` (and parameters and dependencies
    as for HTTP, but no body), or a class such as :class:`~framework.endpoints.WebSocketEndpoint`
    made per connection with ``(scope, receive, send)``, whose ``dispatch(websocket)`` runs it.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        self.path, self.endpoint, self.template = path, endpoint, PathTemplate.compile(path)
        self.name = str(name or getattr(endpoint, "__name__", type(endpoint).__name__))
        self.dependencies = list(dependencies or [])
        if is_class(endpoint):
            if not callable(getattr(endpoint, "dispatch", None)):
                raise TypeError(f"WebSocket endpoint class {self.name!r} needs a dispatch method")
            self.handle: RequestFunction = _class_endpoint(endpoint)
            return
        self.dependant = _compile(self, WebSocket)
        if not self.dependant.is_async:
            raise TypeError(f"WebSocket endpoint {self.name!r} must be an async function")
        if any(dependant.body is not None for dependant in self.dependant.walk()):
            raise TypeError(f"WebSocket endpoint {self.name!r} cannot take body parameters")
        self.prepare()

    def prepare(self, overrides: Mapping[Any, Any] | None = None) -> None:
        """Compose the connection function again, with ``overrides`` (see :meth:`Route.prepare`)."""
        if hasattr(self, "dependant"):
            self.plan = Plan(self.dependant, overrides)
            self.handle = prepare_websocket(self.plan)

    def with_prefix(self, prefix: str, dependencies: Sequence[Any] = ()) -> WebSocketRoute:
        """A copy of this route under ``prefix``, with ``dependencies`` run first."""
        dependencies = [*dependencies, *self.dependencies]
        return WebSocketRoute(
            prefix + self.path, self.endpoint, name=self.name, dependencies=dependencies
        )

    def __repr__(self) -> str:
        return f"WebSocketRoute(path={self.path!r}, name={self.name!r})"


def _class_endpoint(endpoint: Callable[..., Any]) -> RequestFunction:
    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        try:
            await endpoint(scope, receive, send).dispatch(websocket)
        except Exception as exc:
            await answer_websocket_error(exc, websocket)

    return handle
