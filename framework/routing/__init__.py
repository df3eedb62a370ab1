"""Routing: path templates, routes and the router (``from framework.routing import APIRouter``).

``paths`` compiles templates and indexes them; ``route`` holds the HTTP and WebSocket routes;
``mount`` serves another ASGI app under a prefix; ``router`` finds the route for a request.
"""

from framework.routing.mount import Mount
from framework.routing.route import (
    UNSET,
    BaseRoute,
    NoMatchFound,
    Route,
    RouteOptions,
    WebSocketRoute,
)
from framework.routing.router import RouteDecorators, Router, route_path

APIRouter = Router
"""FastAPI's name for a :class:`Router`."""

__all__ = [
    "UNSET",
    "APIRouter",
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
