"""The four apps the benchmarks compare, each written the way its own documentation would.

Every module has ``build(route_count)`` returning a fresh ASGI app with the routes of
:mod:`benchmarks.endpoints` (plus ``route_count`` parametrised routes), ``app = build()`` for
servers, and ``NOT_FOUND``: the body it answers an unknown path with.

The ``batteries_*`` modules are the apps of the batteries table (middleware, static files,
uploads; see :mod:`benchmarks.batteries`), loaded with :func:`load_batteries`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from benchmarks.endpoints import ROUTE_COUNT

APP_NAMES = ("ours", "starlette", "fastapi", "raw")
"""The apps in the order the tables show them."""

_MODULES = {
    "ours": "benchmarks.apps.ours",
    "starlette": "benchmarks.apps.starlette_app",
    "fastapi": "benchmarks.apps.fastapi_app",
    "raw": "benchmarks.apps.raw",
}


@dataclass(frozen=True)
class BenchApp:
    """An ASGI app under test, with the 404 body it is expected to send."""

    name: str
    app: Any
    not_found: bytes


def load(name: str, route_count: int = ROUTE_COUNT) -> BenchApp:
    """Build app ``name`` (one of :data:`APP_NAMES`) with ``route_count`` parametrised routes."""
    module = importlib.import_module(_MODULES[name])
    return BenchApp(name=name, app=module.build(route_count), not_found=module.NOT_FOUND)


BATTERIES_APP_NAMES = ("ours", "starlette", "fastapi")
"""The apps of the batteries table, in its order."""


def load_batteries(name: str, middleware: bool = True) -> BenchApp:
    """Build batteries app ``name`` (one of :data:`BATTERIES_APP_NAMES`), with GZip and CORS
    unless ``middleware`` is false."""
    module = importlib.import_module(f"benchmarks.apps.batteries_{name}")
    return BenchApp(name=name, app=module.build(middleware), not_found=b"")
