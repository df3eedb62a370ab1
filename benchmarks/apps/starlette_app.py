"""The benchmark app written with Starlette: ``Route`` objects and ``request`` accessors."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from benchmarks.endpoints import ROUTE_COUNT, Item

NOT_FOUND = b"Not Found"


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json_message(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def read_item(request: Request) -> JSONResponse:
    return JSONResponse(
        {"item_id": request.path_params["item_id"], "q": request.query_params.get("q")}
    )


async def create_item(request: Request) -> JSONResponse:
    item = Item.model_validate(await request.json())
    return JSONResponse(item.model_dump(mode="json"))


def _numbered_route(number: int) -> Any:
    async def numbered(request: Request) -> JSONResponse:
        return JSONResponse({"route": number, "x": request.path_params["x"]})

    return numbered


def build(route_count: int = ROUTE_COUNT) -> Starlette:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    routes = [
        Route("/plaintext", plaintext),
        Route("/json", json_message),
        Route("/items/{item_id:int}", read_item),
        Route("/items", create_item, methods=["POST"]),
    ]
    routes += [Route(f"/r{n}/{{x}}", _numbered_route(n)) for n in range(route_count)]
    return Starlette(routes=routes)


app = build()
