"""The router: from a request path to the route that answers it.

Adding a route indexes its compiled path template (:mod:`framework.routing.paths`); a request does
one index lookup and gets the matched route's request function (:meth:`Router.dispatch`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from typing_extensions import Unpack

from framework.exception_handlers import answer_with_handler
from framework.exceptions import HTTPException
from framework.http.datastructures import URL, URLPath
from framework.http.forms import FormLimits
from framework.http.responses import JSONResponse, RedirectResponse, Response
from framework.routing.mount import Mount
from framework.routing.paths import PathIndex
from framework.routing.route import BaseRoute, NoMatchFound, Route, RouteOptions, WebSocketRoute
from framework.types import UNSET, Receive, Scope, Send

__all__ = [
    "UNSET",
    "BaseRoute",
    "Mount",
    "NoMatchFound",
    "Route",
    "RouteDecorators",
    "RouteOptions",
    "Router",
    "WebSocketRoute",
    "route_path",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class _MethodTable(dict[str, Route]):
    """One template's routes by method: the first wins, but an explicit HEAD beats a GET's."""

    def add(self, route: Route) -> None:
        for method in route.methods:
            if method == "HEAD" and route.implicit_head:
                self.setdefault("HEAD", route)
            elif method == "HEAD" and self.get("HEAD", route).implicit_head:
                self["HEAD"] = route
            else:
                self.setdefault(method, route)


class RouteDecorators:
    """The decorators shared by :class:`Router` and :class:`~framework.App`: ``@app.get(path)``
    registers the function below it and returns it unchanged."""

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
        rest = path[len(root_path) :] or "/"
        if rest[0] == "/":
            return rest
    return path


class Router(RouteDecorators):
    """A group of routes with shared options (``tags``, ``dependencies``, ``max_body_size``, ...):
    ``Router(prefix="/users", tags=["users"])``, then ``app.include_router(router)``. A Router is
    also an ASGI app of its own."""

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
        form_limits: FormLimits | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("A router prefix must start with '/' and not end with '/'")
        self.prefix, self.tags = prefix, list(tags or [])
        self.dependencies = list(dependencies or [])
        self.max_body_size, self.form_limits = max_body_size, form_limits
        self.default_response_class, self.responses = default_response_class, dict(responses or {})
        self.deprecated, self.include_in_schema = deprecated, include_in_schema
        self.redirect_slashes = redirect_slashes
        self.routes: list[BaseRoute] = []
        #: Replaced dependency -> replacement, for every route added here (the App's overrides).
        self.dependency_overrides: Mapping[Any, Any] = {}
        self._http: PathIndex[_MethodTable] = PathIndex()
        self._websockets: PathIndex[WebSocketRoute] = PathIndex()
        self._mounts: list[Mount] = []
        # Whether any HTTP template can match a path ending in "/" (other than "/" itself):
        # when none can, a 404 needs no search for a trailing-slash redirect target.
        self._slash_targets = False
        for route in routes or []:
            self.add_route(route)

    def add_route(self, route: BaseRoute) -> None:
        """Add a route object as it is (no prefix or options applied); a route without a body
        size limit of its own takes this router's (none if unset)."""
        if isinstance(route, Route) and route.max_body_size is UNSET:
            route.max_body_size = None if self.max_body_size is UNSET else self.max_body_size
            route.prepare(self.dependency_overrides)
        elif isinstance(route, (Route, WebSocketRoute)) and self.dependency_overrides:
            route.prepare(self.dependency_overrides)
        if isinstance(route, Route):
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
        elif isinstance(route, Mount):
            self._mounts.append(route)
        self.routes.append(route)

    def apply_overrides(self, changed: Iterable[Any] | None = None) -> None:
        """Prepare again the routes whose plans use a dependency in ``changed`` (all of them
        when None), now that ``dependency_overrides`` replace it or no longer do."""
        changed = None if changed is None else set(changed)
        for route in self.routes:
            if not isinstance(route, (Route, WebSocketRoute)) or not hasattr(route, "plan"):
                continue
            if changed is None or not changed.isdisjoint(route.plan.calls):
                route.prepare(self.dependency_overrides)

    def route_options(self, options: RouteOptions) -> RouteOptions:
        """``options`` merged with this router's: its tags and dependencies first."""
        merged: RouteOptions = {**options}
        merged["tags"] = [*self.tags, *(options.get("tags") or [])]
        merged["dependencies"] = [*self.dependencies, *(options.get("dependencies") or [])]
        merged["responses"] = {**self.responses, **(options.get("responses") or {})}
        if options.get("max_body_size", UNSET) is UNSET:
            merged["max_body_size"] = self.max_body_size
        if options.get("form_limits") is None and self.form_limits is not None:
            merged["form_limits"] = self.form_limits
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
            Route(self.prefix + path, endpoint, methods=methods, **self.route_options(options))
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
        """Copy every route of ``router`` into this one, under ``prefix``: tags, dependencies and
        responses given here come first; the route's own body size limit, else ``router``'s, else
        this router's applies."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError("An include prefix must start with '/' and not end with '/'")
        outer = Router(
            prefix=self.prefix + prefix,
            tags=[*self.tags, *(tags or [])],
            dependencies=[*self.dependencies, *(dependencies or [])],
            responses={**self.responses, **(responses or {})},
            max_body_size=self.max_body_size,
            form_limits=self.form_limits,
            deprecated=deprecated,
            include_in_schema=include_in_schema,
        )
        for route in router.routes:
            if isinstance(route, Route):
                options = outer.route_options(route.options)
                options["response_class"] = route.response_class
                route = route.with_options(prefix=outer.prefix, **options)
            elif isinstance(route, WebSocketRoute):
                route = route.with_prefix(outer.prefix, outer.dependencies)
            elif isinstance(route, Mount):
                route = route.with_prefix(outer.prefix)
            self.add_route(route)

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], name: str | None = None
    ) -> None:
        """Register a WebSocket endpoint for ``self.prefix + path``."""
        self.add_route(
            WebSocketRoute(self.prefix + path, endpoint, name=name, dependencies=self.dependencies)
        )

    def mount(self, path: str, app: Any, name: str | None = None) -> None:
        """Serve the ASGI ``app`` at ``self.prefix + path`` and below (see :class:`Mount`)."""
        self.add_route(Mount(self.prefix + path, app, name=name))

    def url_path_for(self, name: str, /, **params: Any) -> URLPath:
        """The path of the route called ``name`` with ``params`` filled in."""
        for route in self.routes:
            try:
                return route.url_path_for(name, **params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.dispatch(scope, receive, send)

    def dispatch(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """What answers this connection, ready to be awaited: the matched route's request
        function, or the answer for no match. Not a coroutine of its own, so an app that calls
        it (the App does) saves one per request."""
        if "router" not in scope:
            scope["router"] = self
        if scope["type"] == "http":
            path = route_path(scope) if scope.get("root_path") else scope["path"]
            found = self._http.find(path)
            if found is not None:
                route = found[0].get(scope["method"])
                if route is not None:
                    scope["path_params"] = found[1]
                    scope["route"] = route
                    return route.handle(scope, receive, send)
            return self._unmatched(scope, receive, send, path, found is not None)
        if scope["type"] == "websocket":
            return self._websocket(scope, receive, send)
        raise RuntimeError(f"Router cannot handle ASGI scope type {scope['type']!r}")

    async def _unmatched(
        self, scope: Scope, receive: Receive, send: Send, path: str, path_matched: bool
    ) -> None:
        """No best match: another template's route, a mount, 405, a slash redirect, or 404."""
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
        for mount in self._mounts:
            if mount.matches(path):
                await mount.handle(scope, receive, send, path)
                return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if (self._slash_targets or other[-1] != "/") and self._http.find(other) is not None:
                url = URL(scope=scope)
                target = url.replace(path=url.path[: len(url.path) - len(path)] + other)
                await RedirectResponse(target, status_code=307)(scope, receive, send)
                return
        exc = HTTPException(404)
        if not await answer_with_handler(exc, scope, receive, send):
            raise exc

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope)
        found = self._websockets.find(path)
        if found is None:
            for mount in self._mounts:
                if mount.matches(path):
                    await mount.handle(scope, receive, send, path)
                    return
            # Refuse the handshake (servers answer 403), as Starlette does.
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        scope["route"], scope["path_params"] = found
        await found[0].handle(scope, receive, send)
