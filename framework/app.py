"""The ASGI application: ``App`` owns the router, the middleware list and the lifespan. A request
goes ``App.__call__`` -> error boundary -> user middleware (last added outermost) ->
:meth:`Router.dispatch <framework.routing.Router.dispatch>` -> route.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import traceback
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from framework.concurrency import is_async_callable, run_in_threadpool
from framework.exception_handlers import DEFAULT_HANDLERS, ExceptionHandler
from framework.handlers.plan import DependencyOverrides
from framework.http.datastructures import State
from framework.http.forms import FormLimits
from framework.http.responses import JSONResponse, Response
from framework.middleware import Middleware
from framework.middleware.errors import ServerErrorMiddleware
from framework.routing import BaseRoute, RouteDecorators, Router
from framework.types import ASGIApp, Receive, Scope, Send

_F = TypeVar("_F", bound=Callable[..., Any])
_P = ParamSpec("_P")
_R = TypeVar("_R")
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None]]
Hooks = Sequence[Callable[[], Any]]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024


def _to_router(method: Callable[Concatenate[Router, _P], _R]) -> Callable[Concatenate[App, _P], _R]:
    """``method`` of the app's router, as a method of the app (same signature and docstring)."""

    @functools.wraps(method)
    def forward(app: App, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        bound: Callable[_P, _R] = getattr(app.router, method.__name__)
        return bound(*args, **kwargs)

    return forward


class App(RouteDecorators):
    """An ASGI 3 application with FastAPI's way of declaring routes (``@app.get(path)``); serve it
    with ``uvicorn module:app``. Options:

    - ``debug``: tracebacks in 500 answers (never in production).
    - ``routes``, ``middleware``, ``exception_handlers``: as the methods below would add them.
    - ``lifespan``: ``fn(app)`` returning an async context manager; what it yields (a mapping)
      becomes the state every request's ``request.state`` starts from. ``on_startup`` and
      ``on_shutdown`` (lists of callables) run before entering and after leaving it.
    - ``max_body_size``: request body limit in bytes (16 MiB; ``None`` lifts it). Routers and
      routes can set their own; the most specific wins. Past it the answer is 413.
    - ``form_limits``: a :class:`~framework.http.forms.FormLimits` for form bodies (parts,
      fields, field and file sizes; 413 past them). Routers and routes can set their own.
    - ``root_path``: the path prefix the app is served under behind a proxy.
    - ``title``, ``version``, ``summary``, ``description``, ``terms_of_service``, ``contact``,
      ``license_info``, ``openapi_tags``, ``servers``: the OpenAPI document's ``info``, ``tags``
      and ``servers``. The document (``app.openapi()``) is built on first use and served at
      ``openapi_url`` (``/openapi.json``; ``None`` turns it and the documentation pages off),
      with Swagger UI at ``docs_url`` (``/docs``) and ReDoc at ``redoc_url`` (``/redoc``).
      ``separate_input_output_schemas=False`` shows one schema per model instead of
      ``Model-Input`` and ``Model-Output``. ``app.webhooks`` describes the requests the API sends
      (``@app.webhooks.post("new-subscription")``).
    """

    openapi_version = "3.1.0"
    #: The document ``openapi()`` builds on its first call and returns: assign your own to serve it.
    openapi_schema: dict[str, Any] | None = None
    #: The middleware around the router, built on the first call.
    middleware_stack: ASGIApp | None = None
    _documentation_routes: Sequence[BaseRoute] = ()
    _webhooks: Router | None = None

    def __init__(
        self,
        *,
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: Mapping[Any, ExceptionHandler] | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Hooks | None = None,
        on_shutdown: Hooks | None = None,
        dependencies: Sequence[Any] | None = None,
        title: str = "API",
        version: str = "0.1.0",
        summary: str | None = None,
        description: str = "",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        root_path_in_servers: bool = True,
        separate_input_output_schemas: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        default_response_class: type[Response] = JSONResponse,
        root_path: str = "",
        redirect_slashes: bool = True,
        form_limits: FormLimits | None = None,
    ) -> None:
        self.debug, self.title, self.version, self.summary = debug, title, version, summary
        self.description, self.terms_of_service = description, terms_of_service
        self.contact, self.license_info, self.openapi_tags = contact, license_info, openapi_tags
        self.servers, self.root_path_in_servers = list(servers or []), root_path_in_servers
        self.separate_input_output_schemas = separate_input_output_schemas
        self.openapi_url, self.docs_url, self.redoc_url = openapi_url, docs_url, redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        self.root_path, self.state = root_path.rstrip("/"), State()
        self.router = Router(
            routes=routes,
            dependencies=dependencies,
            max_body_size=max_body_size,
            default_response_class=default_response_class,
            redirect_slashes=redirect_slashes,
            form_limits=form_limits,
        )
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.exception_handlers: dict[Any, ExceptionHandler] = dict(DEFAULT_HANDLERS)
        self.exception_handlers.update(exception_handlers or {})
        self.dependency_overrides = {}
        self.lifespan_context = _lifespan_with_hooks(lifespan, on_startup, on_shutdown)
        self.setup()

    @property
    def dependency_overrides(self) -> DependencyOverrides:
        """Dependencies replaced, for tests: ``app.dependency_overrides[get_db] = fake_db``. A
        change prepares again the routes that use the dependency: requests never look it up."""
        return self._overrides

    @dependency_overrides.setter
    def dependency_overrides(self, overrides: Mapping[Callable[..., Any], Any]) -> None:
        tracked = DependencyOverrides(overrides, self.router.apply_overrides)
        self._overrides = self.router.dependency_overrides = tracked
        self.router.apply_overrides()

    @property
    def webhooks(self) -> Router:
        """Webhooks: requests the API sends, described in the document (never served)."""
        if self._webhooks is None:
            from framework.openapi import DocumentationRouter

            self._webhooks = DocumentationRouter()
        return self._webhooks

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI document, built from its routes on the first call and kept in
        ``openapi_schema`` (routes added later are not in it unless it is reset to ``None``)."""
        if self.openapi_schema is None:
            from framework.openapi import get_openapi

            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                openapi_version=self.openapi_version,
                summary=self.summary,
                description=self.description,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                routes=self.routes,
                webhooks=self.webhooks.routes,
                tags=self.openapi_tags,
                servers=self.servers,
                separate_input_output_schemas=self.separate_input_output_schemas,
            )
        return self.openapi_schema

    def setup(self) -> None:
        """Add the routes serving the document and the documentation pages (each builds what it
        sends on its first request); override to serve your own. They are left out of
        ``app.routes``, which lists the routes you added; ``app.router.routes`` has them."""
        from framework.openapi import add_documentation_routes

        self._documentation_routes = add_documentation_routes(self)

    @property
    def routes(self) -> list[BaseRoute]:
        """Every route added to the app, in the order they were added (the routes of the
        OpenAPI document and its pages, which the app adds itself, are in ``router.routes``)."""
        added = self._documentation_routes
        if not added:
            return self.router.routes
        return [route for route in self.router.routes if not any(route is a for a in added)]

    add_api_route = _to_router(Router.add_api_route)
    add_websocket_route = _to_router(Router.add_websocket_route)
    include_router = _to_router(Router.include_router)
    url_path_for = _to_router(Router.url_path_for)
    mount = _to_router(Router.mount)

    def add_middleware(self, cls: Any, *args: Any, **options: Any) -> None:
        """Wrap the app in ``cls(app, **options)``; the middleware added last runs first."""
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after the application has started")
        self.user_middleware.insert(0, Middleware(cls, *args, **options))

    def middleware(self, middleware_type: str) -> Callable[[_F], _F]:
        """Register ``@app.middleware("http")`` functions of ``(request, call_next)`` that return
        a response."""
        if middleware_type != "http":
            raise ValueError('Only @app.middleware("http") is supported')
        from framework.middleware.base import BaseHTTPMiddleware

        def decorator(func: _F) -> _F:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(
        self, key: int | type[BaseException], handler: ExceptionHandler
    ) -> None:
        """Answer exceptions of class ``key`` (or ``HTTPException``s with status ``key``) with
        ``handler(request, exc)``. ``500`` or ``Exception`` replaces the plain 500 answer."""
        self.exception_handlers[key] = handler

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(func: _F) -> _F:
            self.add_exception_handler(key, func)
            return func

        return decorator

    def build_middleware_stack(self) -> ASGIApp:
        """Wrap the router in the user middleware and the error boundary (exception handlers
        answer where the exception happens: :mod:`framework.exception_handlers`)."""
        error_handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        app: ASGIApp = self.router.dispatch
        for middleware in reversed(self.user_middleware):
            app = middleware.build(app)
        return ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if self.root_path and not scope.get("root_path"):
            # Servers put root_path in every scope, "" when they were not told one (uvicorn).
            scope["root_path"] = self.root_path
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        await self.middleware_stack(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        await receive()  # lifespan.startup
        try:
            async with self.lifespan_context(self) as state:
                if state is not None:
                    if "state" not in scope:
                        raise RuntimeError("The ASGI server does not support lifespan state")
                    scope["state"].update(state)
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
        except BaseException:
            failed = "lifespan.shutdown.failed" if started else "lifespan.startup.failed"
            await send({"type": failed, "message": traceback.format_exc()})
            raise
        await send({"type": "lifespan.shutdown.complete"})


def _lifespan_with_hooks(
    lifespan: Lifespan | None, on_startup: Hooks | None, on_shutdown: Hooks | None
) -> Lifespan:
    """One lifespan: the startup hooks, the user's context manager, then the shutdown hooks."""
    if lifespan is not None and inspect.isasyncgenfunction(lifespan):
        lifespan = contextlib.asynccontextmanager(lifespan)
    startup, shutdown = list(on_startup or ()), list(on_shutdown or ())

    async def call(hook: Callable[[], Any]) -> None:
        await (hook() if is_async_callable(hook) else run_in_threadpool(hook))

    @contextlib.asynccontextmanager
    async def combined(app: Any) -> AsyncIterator[Mapping[str, Any] | None]:
        for hook in startup:
            await call(hook)
        started = False
        try:
            async with contextlib.nullcontext() if lifespan is None else lifespan(app) as state:
                started = True
                yield state
        finally:
            if started:  # shutdown hooks undo a startup that happened, not a failed one
                for hook in shutdown:
                    await call(hook)

    return combined
