"""Routing (``from framework.routing import APIRouter``): ``paths`` (templates and their index),
``route`` (HTTP and WebSocket routes), ``mount`` (an ASGI app under a prefix), ``router``.
"""

from framework.routing.mount import Mount
from framework.routing.route import BaseRoute, NoMatchFound, Route, RouteOptions, WebSocketRoute
from framework.routing.router import RouteDecorators, Router, route_path
from framework.types import UNSET

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
