"""The benchmark app written with ``framework``.

Kept in one module so that it follows the framework's API as it grows (typed query and body
parameters will replace the ``request`` reads below).
"""

from __future__ import annotations

from typing import Any

from benchmarks.endpoints import ROUTE_COUNT, Item
from framework import App, PlainTextResponse, Request

NOT_FOUND = b'{"detail":"Not Found"}'


def build(route_count: int = ROUTE_COUNT) -> App:
    """The app with the benchmark endpoints and ``route_count`` routes ``/r{n}/{x}``."""
    app = App()

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    @app.get("/json")
    async def json_message() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int, request: Request) -> dict[str, Any]:
        return {"item_id": item_id, "q": request.query_params.get("q")}

    @app.post("/items")
    async def create_item(request: Request) -> Item:
        return Item.model_validate_json(await request.body())

    for number in range(route_count):
        app.get(f"/r{number}/{{x}}")(_numbered_route(number))
    return app


def _numbered_route(number: int) -> Any:
    async def numbered(x: str) -> dict[str, Any]:
        return {"route": number, "x": x}

    numbered.__name__ = f"route_{number}"
    return numbered


app = build()
